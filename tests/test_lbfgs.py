"""The quasi-Newton solver's pieces, each against an independent computation:
the line search against its conditions, the two-loop kernel against the
textbook recursion, the metric against the explicit curvature bound, the
predictions-only objective against the full pass, and whole fits against
closed forms and scikit-learn."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor, closed_form_solution, training_objective
from skgd._kernels.quasi_newton import two_loop
from skgd.objective import Objective
from skgd.objective.losses import classification_loss, regression_loss
from skgd.objective.penalties import Penalty
from skgd.objective.preconditioning import (
    GRAM_MAX_FEATURES,
    curvature_preconditioner,
    local_preconditioner,
)
from skgd.steps.line_search import CURVATURE, SUFFICIENT_DECREASE, wolfe_step

# --- the line search ----------------------------------------------------------------


def quadratic(center, curvature=2.0):
    """phi(t) = curvature/2 (t - center)^2, as (value, slope)."""
    return lambda t: (0.5 * curvature * (t - center) ** 2, curvature * (t - center))


@pytest.mark.parametrize("center", [1e-3, 0.3, 1.0, 7.0, 1e4])
def test_the_step_meets_the_strong_wolfe_conditions(center):
    phi = quadratic(center)
    value0, slope0 = phi(0.0)
    step, value, wolfe = wolfe_step(phi, value0, slope0)
    assert wolfe
    assert value <= value0 + SUFFICIENT_DECREASE * step * slope0
    assert abs(phi(step)[1]) <= CURVATURE * abs(slope0)


def test_a_non_finite_trial_is_bracketed_not_taken():
    def phi(t):  # a log-barrier-like wall at t = 0.5
        if t >= 0.5:
            return math.inf, math.nan
        return -math.log(0.5 - t) - 4.0 * t, 1.0 / (0.5 - t) - 4.0

    step, value, wolfe = wolfe_step(phi, *phi(0.0))
    assert wolfe and 0 < step < 0.5 and math.isfinite(value)


def test_no_descent_in_floating_point_returns_no_step():
    # A "descent" slope with a value that never decreases: step 0, not a
    # step that raises the objective.
    step, value, wolfe = wolfe_step(lambda t: (1.0 + t, -1e-30), 1.0, -1e-30)
    assert step == 0.0 and value == 1.0 and not wolfe


def test_the_python_search_and_the_compiled_bracket_take_the_same_trials():
    # wolfe_step walks the compiled bracket (the one lbfgs_iteration walks):
    # from a far minimum the trials grow fourfold until the slope has
    # fallen to CURVATURE of its start.
    trials = []
    phi = quadratic(1000.0)

    def recorded(t):
        trials.append(t)
        return phi(t)

    step, _, wolfe = wolfe_step(recorded, *phi(0.0))
    assert wolfe and trials == [1.0, 4.0, 16.0, 64.0, 256.0] and step == 256.0



# --- the two-loop recursion ---------------------------------------------------------


def textbook_two_loop(pairs, g, metric):
    """Nocedal & Wright's Algorithm 7.4 in plain numpy."""
    q = g.copy()
    alphas = []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        q -= a * y
        alphas.append(a)
    s, y = pairs[-1]
    r = metric @ q * ((s @ y) / (y @ metric @ y))
    for (s, y), a in zip(pairs, reversed(alphas), strict=True):
        r += s * (a - (y @ r) / (s @ y))
    return r


@pytest.mark.parametrize("n_pairs", [1, 3, 7])
@pytest.mark.parametrize("whole", [True, False])
def test_the_two_loop_kernel_is_the_textbook_recursion(n_pairs, whole):
    rng = np.random.RandomState(n_pairs)
    k, p, memory = 2, 4, 5  # more pairs than memory: the ring buffer wraps
    size = k * p
    A = rng.standard_normal((size, size))
    hessian = A @ A.T + size * np.eye(size)
    pairs = []
    S, Y, rho = np.zeros((memory, size)), np.zeros((memory, size)), np.zeros(memory)
    for i in range(n_pairs):
        s = rng.standard_normal(size)
        y = hessian @ s
        pairs.append((s, y))
        S[i % memory], Y[i % memory], rho[i % memory] = s, y, 1.0 / (s @ y)
    blocks = [rng.standard_normal((p, p)) for _ in range(k)]
    blocks = [B @ B.T + p * np.eye(p) for B in blocks]
    if whole:
        inverse, diagonal = np.array(blocks), np.zeros((0, 0))
        metric = np.zeros((size, size))
        for b, B in enumerate(blocks):
            metric[b * p : (b + 1) * p, b * p : (b + 1) * p] = B
    else:
        diagonal = rng.uniform(0.5, 2.0, (1, p))  # one diagonal for every output
        inverse, metric = np.zeros((0, 0, 0)), np.diag(np.tile(diagonal[0], k))
    g = rng.standard_normal(size)
    out = np.empty(size)
    count = min(n_pairs, memory)
    two_loop(
        S, Y, rho, (n_pairs - 1) % memory, count, g, inverse, diagonal,
        np.zeros(memory), out,
    )  # fmt: skip
    expected = textbook_two_loop(pairs[-count:], g, metric)
    np.testing.assert_allclose(out, expected, rtol=1e-10)


# --- the metric ---------------------------------------------------------------------


def objective_of(X, y, loss, alpha, intercept=1.0, weights=None):
    n = X.shape[0]
    W = np.ones((n, 1)) if weights is None else weights.reshape(-1, 1)
    Y = np.where(y > 0, 1.0, -1.0).reshape(-1, 1) if loss.name == "log_loss" else y
    return Objective(X, np.ascontiguousarray(Y, dtype=float), W, n, loss,
                     Penalty(l2=alpha), intercept)  # fmt: skip


def explicit_bound(X, c, w, alpha, intercept):
    A = np.column_stack([X, np.full(X.shape[0], intercept)])
    B = c * (A.T * w) @ A / X.shape[0]
    B[np.diag_indices_from(B)] += np.append(np.full(X.shape[1], alpha), 0.0)
    return B


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_the_metric_inverts_the_curvature_bound(layout):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((200, 6)) * [1, 10, 100, 1e-2, 1, 3]
    y = rng.randint(2, size=200)
    w = rng.uniform(0.5, 2.0, 200)
    data = sp.csr_matrix(X) if layout == "csr" else X
    objective = objective_of(data, y, classification_loss("log_loss", 1), 1e-3, 2.0, w)
    metric = curvature_preconditioner(objective)
    B = explicit_bound(X, 0.25, w, 1e-3, 2.0)
    np.testing.assert_allclose(metric.inverse[0] @ B, np.eye(7), atol=1e-8)


def test_wide_data_get_the_bounds_diagonal():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((20, GRAM_MAX_FEATURES // 2)) * 5.0  # more columns than rows
    objective = objective_of(X, X[:, 0], regression_loss("squared_error"), 0.1)
    metric = curvature_preconditioner(objective)
    B = explicit_bound(X, 1.0, np.ones(20), 0.1, 1.0)
    assert metric.inverse.size == 0
    np.testing.assert_allclose(metric.inverse_diagonal[0], 1.0 / np.diag(B))


def test_the_local_metric_weights_rows_by_their_curvature():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((100, 4))
    objective = objective_of(X, rng.randint(2, size=100), classification_loss("log_loss", 1), 1e-2)
    P = rng.standard_normal((100, 1)) * 3
    p = 1.0 / (1.0 + np.exp(-P[:, 0]))
    B = explicit_bound(X, 1.0, p * (1 - p), 1e-2, 1.0)
    np.testing.assert_allclose(
        local_preconditioner(objective, P).inverse[0] @ B, np.eye(5), atol=1e-8
    )


# --- the objective from predictions ------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("loss", ["log_loss", "multinomial", "huber"])
def test_the_objective_from_predictions_is_the_full_pass(loss, layout, dtype):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 5)).astype(dtype)
    k = 3 if loss == "multinomial" else 1
    labels = rng.randint(k if k > 1 else 2, size=300)
    if loss == "multinomial":
        the_loss, Y = classification_loss("log_loss", 3), np.eye(3)[labels]
    elif loss == "log_loss":
        the_loss, Y = classification_loss("log_loss", 1), np.where(labels, 1.0, -1.0)[:, None]
    else:
        the_loss, Y = regression_loss("huber"), rng.standard_normal((300, 1))
    data = sp.csr_matrix(X) if layout == "csr" else X
    W = rng.uniform(0.5, 2.0, (300, 1)).astype(dtype)
    objective = Objective(data, Y.astype(dtype), W, 300, the_loss, Penalty(), 1.0)
    theta = rng.standard_normal((k, 6)).astype(dtype)
    value, grad = objective.evaluate(theta)
    G = np.empty_like(objective.Y)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(
        objective.mean_loss(objective.predict(theta), G), value, rtol=rtol
    )
    np.testing.assert_allclose(
        objective.gradient_from(G, theta), grad, rtol=rtol, atol=rtol
    )


# --- whole fits ---------------------------------------------------------------------


def test_squared_error_lands_in_one_step():
    # The curvature bound is the Hessian itself: the first step is Newton's.
    X, y = load_diabetes(return_X_y=True)
    reg = GDRegressor(solver="lbfgs", alpha=1e-2).fit(X, y)
    coef, intercept = closed_form_solution(reg, X, y)
    assert reg.n_iter_ == 1
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-8)
    np.testing.assert_allclose(reg.intercept_, intercept, rtol=1e-8)


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("raw", [False, True])
def test_the_default_lands_on_logistic_regression(raw):
    X, y = load_breast_cancer(return_X_y=True)
    if not raw:
        X = StandardScaler().fit_transform(X)
    alpha = 1e-3
    clf = GDClassifier(alpha=alpha).fit(X, y)
    reference = LogisticRegression(
        C=1.0 / (alpha * len(y)), solver="newton-cholesky", tol=1e-12, max_iter=1000
    ).fit(X, y)
    best = training_objective(clf, X, y, coef=reference.coef_, intercept=reference.intercept_)
    objective = training_objective(clf, X, y)
    assert clf.solver_ == "lbfgs"
    assert -1e-12 * best <= objective - best <= clf.dual_gap_ <= 1e-6 * objective


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_multinomial_on_raw_digits_lands_without_a_warning():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    clf = GDClassifier(alpha=1e-3).fit(X, y)
    assert clf.dual_gap_ <= 1e-6 * training_objective(clf, X, y)


def test_float32_stays_float32_and_lands():
    X, y = make_classification(2000, 20, random_state=0)
    clf = GDClassifier(alpha=1e-3).fit(X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32
    reference = GDClassifier(alpha=1e-3).fit(X, y)
    np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=1e-3, atol=1e-4)


def test_epochs_past_the_minimum_stay_there():
    # tol=None runs every epoch: once no trial can measure a decrease, the
    # line search takes no step (and tries none), and the objective never rises.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = GDClassifier(alpha=1e-4, tol=None, max_iter=300).fit(X, y)
    loss = clf.history_["loss"]
    assert clf.n_iter_ == 300 and np.all(np.isfinite(loss))
    assert np.all(np.diff(loss) <= 1e-15 * loss[0])
    certified = GDClassifier(alpha=1e-4).fit(X, y)
    assert loss[-1] <= certified.history_["loss"][-1]
    assert np.sum(clf.history_["learning_rate"][50:] == 0) > 200


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_a_fit_that_can_no_longer_descend_checks_its_certificate():
    # Raw breast_cancer, modified_huber: from ~136 iterations on, no step
    # decreases the objective in floating point. The gap (1.9e-7 there) must
    # be checked then, not after 1000 epochs of no progress.
    X, y = load_breast_cancer(return_X_y=True)
    clf = GDClassifier(loss="modified_huber", alpha=1e-4).fit(X, y)
    assert clf.n_iter_ < 300
    assert clf.dual_gap_ <= 1e-6 * training_objective(clf, X, y)


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_float32_with_mixed_scales_lands():
    # The kept predictions are float64: in float32, the line search's values
    # were rounded to 1e-7 of |X theta| (~2500 here) and the fit stalled at
    # a gap of 6e-5.
    rng = np.random.RandomState(0)
    X = rng.randn(400, 20) * rng.choice([1e-3, 1, 1e3], (400, 20))
    X *= rng.rand(400, 20) < 0.05
    y = (X @ rng.randn(20) + 0.1 * rng.randn(400) > 0).astype(int)
    clf = GDClassifier(alpha=1e-3).fit(X.astype(np.float32), y)
    assert clf.coef_.dtype == np.float32
    assert clf.dual_gap_ <= 1e-6 * training_objective(clf, X, y)


def test_a_singular_curvature_bound_still_gives_a_metric():
    # No L2 part, no intercept, rank-deficient weighted rows (found by
    # hypothesis): the bound's Cholesky test passed by rounding, and its
    # inverse then raised "Singular matrix"; a jitter makes it definite.
    X = np.full((5, 5), 1.5)
    X[0, 1] = X[1, 2] = X[4, 3] = 0.0
    y = np.array([1.76405235, 0.40015721, 0.97873798, 2.2408932, 1.86755799])
    weights = np.array([1.69155916, 2.17404916, 1.84801379, 1.68016123, 1.32859892])
    reg = GDRegressor(
        solver="lbfgs", loss="huber", alpha=0.0, fit_intercept=False, max_iter=50
    ).fit(X, y, sample_weight=weights)
    assert np.all(np.isfinite(reg.coef_))



# --- the compiled iteration on small data ---------------------------------------


def _fit_both_ways(monkeypatch, estimator, X, y, **fit_params):
    """The fit with every iteration in numpy and with every iteration
    compiled (lbfgs_iteration), and how many compiled calls the second made;
    neither settles the intercept."""
    import skgd.solvers.lbfgs as lbfgs_module

    calls = []
    compiled = lbfgs_module.lbfgs_iteration

    def counted(*args):
        calls.append(1)
        return compiled(*args)

    monkeypatch.setattr(lbfgs_module, "lbfgs_iteration", counted)
    # The compiled path alone settles the intercept before its gaps, which
    # changes where it stops: the same steps are compared without it.
    monkeypatch.setattr(lbfgs_module, "SETTLE_STEPS", 0)
    monkeypatch.setattr(lbfgs_module, "COMPILED_MAX_ENTRIES", 0)
    in_numpy = clone(estimator).fit(X, y, **fit_params)
    assert not calls
    monkeypatch.setattr(lbfgs_module, "COMPILED_MAX_ENTRIES", 10**12)
    in_kernel = clone(estimator).fit(X, y, **fit_params)
    return in_numpy, in_kernel, len(calls)


@pytest.mark.parametrize(
    "estimator, data",
    [
        (GDClassifier(), "binary"),  # the log-loss, inlined
        (GDClassifier(fit_intercept=False, alpha=1e-3), "binary"),
        (GDClassifier(loss="modified_huber"), "binary"),  # called through its function
        (GDClassifier(), "three classes"),  # the softmax: coupled outputs, called
        (GDClassifier(loss="squared_hinge", class_weight="balanced"), "three classes"),
        (GDRegressor(), "regression"),  # squared error, inlined
        (GDRegressor(loss="huber", alpha=1e-3), "regression"),
    ],
    ids=repr,
)
def test_the_compiled_iteration_is_the_numpy_iteration(monkeypatch, estimator, data):
    # Both ways take the same steps: the same epochs, the same coefficients
    # to rounding, each certified.
    if data == "regression":
        X, y = load_diabetes(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    else:
        X, y = make_classification(
            300, 8, n_informative=4, n_classes=2 if data == "binary" else 3,
            random_state=0,
        )  # fmt: skip
    weights = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    weights[::7] = 0.0  # rows that weigh nothing (no division by their weight)
    in_numpy, in_kernel, calls = _fit_both_ways(
        monkeypatch, estimator, X, y, sample_weight=weights
    )
    assert calls == in_kernel.n_iter_ > 1 or (calls, in_kernel.n_iter_) == (1, 1)
    assert in_kernel.n_iter_ == in_numpy.n_iter_
    # Every epoch's objective to rounding; the coefficients to rounding as
    # amplified along the flattest directions near the end (the three-class
    # softmax: 4e-13 after one epoch, 1e-6 of 0.77 after fifteen, each
    # epoch's objective equal to 2e-15).
    np.testing.assert_allclose(
        in_kernel.history_["loss"], in_numpy.history_["loss"], rtol=1e-12
    )
    scale = np.abs(in_numpy.coef_).max()
    np.testing.assert_allclose(in_kernel.coef_, in_numpy.coef_, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(in_kernel.intercept_, in_numpy.intercept_, atol=1e-5 * scale)
    assert in_kernel.dual_gap_ <= 1e-6 * in_kernel.history_["loss"][-1]  # tol="auto"


@pytest.mark.parametrize(
    "make_X",
    [lambda X: X.astype(np.float32), sp.csr_matrix, np.asfortranarray],
    ids=["float32", "csr", "fortran"],
)
def test_the_compiled_iteration_takes_dense_float64_rows_only(monkeypatch, make_X):
    X, y = make_classification(200, 5, random_state=0)
    _, fitted, calls = _fit_both_ways(monkeypatch, GDClassifier(), make_X(X), y)
    assert calls == 0 and fitted.dual_gap_ <= 1e-6 * fitted.history_["loss"][-1]


# --- the compiled certificate and the intercept's settling ------------------------


def _points_along_a_fit(X, y, estimator, epochs=(1, 2, 4, 8, 30)):
    """``theta`` after a few epochs of ``estimator`` (no stopping rule)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    points = []
    for n_epochs in epochs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = clone(estimator).set_params(max_iter=n_epochs, tol=None).fit(X, y)
        coef = np.atleast_2d(fitted.coef_)
        points.append(np.hstack([coef, np.reshape(fitted.intercept_, (-1, 1))]))
    return points


@pytest.mark.parametrize("intercept", [1.0, 0.0, 3.0])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
def test_the_compiled_gap_is_the_numpy_certificate(loss, intercept):
    from skgd._kernels.inlined_losses import LOGISTIC, SQUARED
    from skgd._kernels.smooth_gap import smooth_gap

    rng = np.random.RandomState(0)
    if loss == "log_loss":
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        Y = np.where(y == 1, 1.0, -1.0)[:, np.newaxis]
        estimator, code = GDClassifier(alpha=1e-3), LOGISTIC
        objective_loss = classification_loss("log_loss", 1)
    else:
        X, y = load_diabetes(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        Y = y[:, np.newaxis].astype(np.float64)
        estimator, code = GDRegressor(alpha=1e-3), SQUARED
        objective_loss = regression_loss("squared_error")
    W = rng.uniform(0.5, 2.0, (len(y), 1))
    W /= W.mean()
    objective = Objective(X, Y, W, len(y), objective_loss, Penalty(l2=1e-3), intercept)
    points = _points_along_a_fit(X, y, estimator)
    points += [rng.normal(scale=0.3, size=points[0].shape) for _ in range(3)]
    compared = 0
    for theta in points:
        if intercept == 0.0:
            theta = theta.copy()
            theta[:, -1] = 0.0
        P = objective.predictions64(theta)
        gap, primal = smooth_gap(X, Y, W, P, theta, code, float(len(y)), 1e-3, intercept)
        expected_gap, expected_primal = objective.duality_gap(theta, P=P)
        if math.isnan(gap):  # its shift left the first guess's piece: numpy's turn
            assert loss == "log_loss" and intercept != 0.0
            continue
        compared += 1
        assert primal == pytest.approx(expected_primal, rel=1e-12)
        assert max(gap, 0.0) == pytest.approx(expected_gap, rel=1e-9, abs=1e-13)
    assert compared >= 2


def test_settling_the_intercept_zeroes_its_slope_and_lowers_the_objective():
    # On the compiled path the intercept is minimised alone before a gap:
    # the objective's slope in it vanishes (to rounding), the objective is
    # lower, and the kept value and gradient are the objective's there.
    import skgd.solvers.lbfgs as lbfgs_module
    from skgd.training.state import TrainingState

    X, y = make_classification(400, 6, random_state=0)
    theta = _points_along_a_fit(X, y, GDClassifier(alpha=1e-3), epochs=(3,))[0]
    theta[:, -1] += 0.5  # off its minimum
    Y = np.where(y == 1, 1.0, -1.0)[:, np.newaxis]
    W = np.ones((len(y), 1))
    objective = Objective(
        X, Y, W, len(y), classification_loss("log_loss", 1), Penalty(l2=1e-3), 1.0
    )
    solver = lbfgs_module.LbfgsSolver(objective, settings=None)
    state = TrainingState(theta.copy(), np.zeros((0, *theta.shape)))
    solver.start(state)
    before, slope_before = solver._cached[1], solver._grad[0, -1]
    assert solver._settle_intercept(state, target=1e-12)
    value, grad = solver._cached[1], solver._grad
    expected_value, expected_grad = objective.evaluate(state.theta)
    assert value < before
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-12)
    np.testing.assert_allclose(state.theta[:, :-1], theta[:, :-1])  # the intercept alone
    # (settled: Newton's next decrease would be rounding)
    assert abs(grad[0, -1]) < 1e-6 * abs(slope_before)


def test_the_compiled_iteration_reads_nothing_of_its_work_space():
    # Its work space is np.empty: whatever it holds (here NaN) must not
    # reach the result (a gradient once began as NaN * 0).
    import skgd.solvers.lbfgs as lbfgs_module
    from skgd.training.state import TrainingState

    X, y = make_classification(200, 5, random_state=0)
    Y = np.where(y == 1, 1.0, -1.0)[:, np.newaxis]
    objective = Objective(
        X, Y, np.ones((len(y), 1)), len(y), classification_loss("log_loss", 1),
        Penalty(l2=1e-3), 1.0,
    )  # fmt: skip
    results = []
    for fill in (0.0, np.nan):
        solver = lbfgs_module.LbfgsSolver(objective, settings=None)
        state = TrainingState(np.zeros((1, 6)), np.zeros((0, 1, 6)))
        solver.start(state)
        for _ in range(3):
            solver._compiled[2][...] = fill
            solver._compiled[3][...] = fill
            solver.run_epoch(state)
        results.append(state.theta.copy())
    assert np.all(np.isfinite(results[1]))
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("seed", range(6))
def test_a_fit_stopped_early_certifies_the_parameters_it_returns(seed, layout):
    # A fit stopped at max_iter is certified after training; the intercept
    # may be settled then: dual_gap_ must bound the returned coef_ and
    # intercept_, not a settled point they miss (found in review: 1.3e-5
    # reported where the returned parameters were 2.9e-5 from the minimum).
    X, y = make_classification(
        200, 4, n_informative=2, n_redundant=0, weights=[0.9], random_state=seed
    )
    X[:, 0] += 10
    data = sp.csr_matrix(X) if layout == "csr" else X
    params = dict(alpha=0.1, intercept_scaling=10.0)
    best = training_objective(GDClassifier(tol=1e-15, max_iter=3000, **params).fit(X, y), X, y)
    for max_iter in range(2, 7):
        clf = GDClassifier(max_iter=max_iter, **params).fit(data, y)
        excess = training_objective(clf, X, y) - best
        assert excess <= clf.dual_gap_ * (1 + 1e-9) + 1e-15
        kept = clf._training_state.theta[0, -1] * params["intercept_scaling"]
        assert clf.intercept_[0] == pytest.approx(kept, rel=1e-12)


@pytest.mark.parametrize("size", [1, 2, 7, 32, 64])
def test_the_compiled_inverse_of_a_small_metric_is_lapacks(size):
    from skgd._kernels.quasi_newton import spd_inverse

    rng = np.random.RandomState(size)
    A = rng.normal(size=(3 * size, size))
    B = A.T @ A / size + 1e-3 * np.eye(size)
    inverse = np.empty_like(B)
    assert spd_inverse(B, inverse)
    np.testing.assert_array_equal(inverse, inverse.T)
    expected = np.linalg.inv(B)
    np.testing.assert_allclose(inverse, expected, rtol=0, atol=1e-10 * np.abs(expected).max())
    # Singular beyond rounding, or indefinite: refused (the LAPACK route
    # with a jitter decides), never a huge inverse.
    if size > 1:
        singular = B.copy()
        singular[-1], singular[:, -1] = singular[0], singular[:, 0]
        assert not spd_inverse(singular, inverse)
    assert not spd_inverse(-B, inverse)
