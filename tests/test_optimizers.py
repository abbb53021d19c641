"""The optimizer family: update rules by hand, schedules, averaging, L1, trials."""

import math

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso

from skgd import GDClassifier, GDRegressor, closed_form_solution, objective_gap
from skgd import schedules as S
from skgd.steps.optimizers import (
    ADAPTIVE_EPS,
    OPTIMIZERS,
    adagrad_update,
    adam_update,
    make_optimizer,
    rmsprop_update,
    rprop_update,
    sgd_update,
)

# --- each update rule against its formulas, written out for three steps ------

GRADS = [
    np.array([[0.5, -1.0, 2.0]]),
    np.array([[0.25, 1.0, 2.0]]),
    np.array([[-0.5, -1.0, 1.0]]),
]
LR = 0.1


def run_rule(rule, hyper, n_slots):
    theta = np.array([[1.0, 2.0, -1.0]])
    state = np.zeros((n_slots, 1, 3))
    path = []
    for t, grad in enumerate(GRADS, start=1):
        rule(theta, grad.copy(), state, LR, t, np.asarray(hyper, dtype=np.float64))
        path.append(theta.copy())
    return path


def test_plain_step():
    path = run_rule(sgd_update, (0.0, 0.0), 1)
    expected = np.array([[1.0, 2.0, -1.0]]) - LR * np.cumsum(GRADS, axis=0)[-1]
    np.testing.assert_allclose(path[-1], expected, rtol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_steps(nesterov):
    mu = 0.9
    theta, v = np.array([[1.0, 2.0, -1.0]]), np.zeros((1, 3))
    for g in GRADS:
        v = mu * v - LR * g
        theta = theta + (mu * v - LR * g if nesterov else v)
    path = run_rule(sgd_update, (mu, float(nesterov)), 1)
    np.testing.assert_allclose(path[-1], theta, rtol=1e-15)


def test_adagrad_steps():
    theta, acc = np.array([[1.0, 2.0, -1.0]]), np.zeros((1, 3))
    for g in GRADS:
        acc = acc + g**2
        theta = theta - LR * g / (np.sqrt(acc) + ADAPTIVE_EPS)
    np.testing.assert_allclose(run_rule(adagrad_update, (), 1)[-1], theta, rtol=1e-15)


def test_rmsprop_steps():
    rho = 0.9
    theta, avg = np.array([[1.0, 2.0, -1.0]]), np.zeros((1, 3))
    for g in GRADS:
        avg = rho * avg + (1 - rho) * g**2
        theta = theta - LR * g / (np.sqrt(avg) + ADAPTIVE_EPS)
    np.testing.assert_allclose(
        run_rule(rmsprop_update, (rho,), 1)[-1], theta, rtol=1e-15
    )


def test_adam_steps():
    b1, b2 = 0.9, 0.999
    theta, m, v = np.array([[1.0, 2.0, -1.0]]), np.zeros((1, 3)), np.zeros((1, 3))
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - LR * (m / (1 - b1**t)) / (
            np.sqrt(v / (1 - b2**t)) + ADAPTIVE_EPS
        )
    np.testing.assert_allclose(
        run_rule(adam_update, (b1, b2), 2)[-1], theta, rtol=1e-14
    )
    # Adam's first step moves every parameter by lr, whatever the gradient's size.
    first = run_rule(adam_update, (b1, b2), 2)[0]
    np.testing.assert_allclose(np.abs(first - [[1.0, 2.0, -1.0]]), LR, rtol=1e-6)


def test_rprop_steps():
    # iRprop-: sign agreement grows the step by 1.2, a flip shrinks it by 0.5
    # and skips that parameter's move.
    path = run_rule(rprop_update, (1.2, 0.5, 1e-6, 50.0), 2)
    start = np.array([1.0, 2.0, -1.0])
    step1 = start - LR * np.sign(GRADS[0][0])  # first steps are lr
    np.testing.assert_allclose(path[0][0], step1)
    # Step 2: parameter 0 keeps its sign (+), 1 flips (-, +), 2 keeps it (+).
    step2 = step1 - np.array([1.2 * LR, 0.0, 1.2 * LR])
    np.testing.assert_allclose(path[1][0], step2)
    # Step 3: parameter 0 flips (skip), 1 follows a skipped step (its stored
    # gradient is 0, so it moves with the shrunk step), 2 agrees again.
    step3 = step2 - np.array([0.0, -0.5 * LR, 1.2 * 1.2 * LR])
    np.testing.assert_allclose(path[2][0], step3)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_reaches_the_closed_form_with_batch(name):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((100, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 1.0 + 0.1 * rng.standard_normal(100)
    est = GDRegressor(
        solver="batch", optimizer=name, alpha=1e-3, tol=None, max_iter=3000
    )
    if name != "sgd":
        # Normalised steps move ~eta per coordinate: start at the data's scale
        # and let a decaying rate remove the final oscillation.
        est.set_params(eta0=0.1, learning_rate="invscaling", power_t=0.5)
    if name in ("rprop", "adagrad"):
        # Rprop learns its own steps; AdaGrad already decays as 1/sqrt(t).
        est.set_params(learning_rate="constant", eta0=0.5 if name == "adagrad" else 0.1)
    est.fit(X, y)
    coef, intercept = closed_form_solution(est, X, y)
    # Plain GD converges linearly (1e-6 is far above its final error); Rprop
    # too, down to its smallest step 1e-6; the adaptive rules hover within
    # ~eta_t of the minimiser, eta_t = 0.1 / sqrt(3000) ~ 2e-3.
    tolerance = {"sgd": 1e-6, "rprop": 1e-5}.get(name, 5e-3)
    np.testing.assert_allclose(est.coef_, coef, atol=tolerance)
    np.testing.assert_allclose(est.intercept_, intercept, atol=tolerance)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_state_survives_partial_fit(name):
    rng = np.random.RandomState(1)
    X = rng.standard_normal((60, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    solver = "batch" if name == "rprop" else "minibatch"
    once = GDRegressor(
        optimizer=name, solver=solver, max_iter=4, tol=None, random_state=0
    )
    once.fit(X, y)
    stream = GDRegressor(optimizer=name, solver=solver, random_state=0)
    for _ in range(4):
        stream.partial_fit(X, y)
    np.testing.assert_array_equal(stream.coef_, once.coef_)
    np.testing.assert_array_equal(
        stream._training_state.optimizer_state, once._training_state.optimizer_state
    )


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="Unknown optimizer"):
        make_optimizer("lbfgs", momentum=0, nesterov=False, beta_1=0, beta_2=0, rho=0)


# --- schedules -------------------------------------------------------------------


T = np.arange(6)


@pytest.mark.parametrize(
    ("schedule", "epoch", "expected"),
    [
        (S.Constant(), 3, np.full(6, 0.5)),
        (S.InvScaling(0.5), 0, 0.5 / np.sqrt(T + 1)),
        (S.Exponential(0.5), 3, np.full(6, 0.5 * 0.125)),
        (S.StepDecay(0.1, 2), 3, np.full(6, 0.5 * 0.1)),
        (S.Cosine(4), 2, np.full(6, 0.25)),
        (S.Cosine(4), 9, np.zeros(6)),
        (S.Warmup(S.Constant(), 4), 1, np.full(6, 0.25)),
        (S.Warmup(S.Constant(), 4), 7, np.full(6, 0.5)),
        (S.Constant(eta0=2.0), 0, np.full(6, 2.0)),
    ],
)
def test_schedule_rates(schedule, epoch, expected):
    np.testing.assert_allclose(schedule.rates(T, epoch, 0.5), expected, rtol=1e-14)


def test_optimal_schedule_is_sgds():
    alpha = 1e-3
    rates = S.Optimal(alpha).rates(T, 0, None)
    typical = math.sqrt(1.0 / math.sqrt(alpha))
    np.testing.assert_allclose(rates[0], typical)  # the first rate is alpha^(-1/4)
    np.testing.assert_allclose(1.0 / rates, alpha * (1.0 / (typical * alpha) + T))


@pytest.mark.parametrize(
    "learning_rate",
    ["constant", "invscaling", "adaptive", "exponential", "step", "cosine",
     S.Warmup(S.InvScaling(), 3), lambda t: 0.05 / (1 + t) ** 0.5],
)  # fmt: skip
def test_every_schedule_trains(learning_rate):
    rng = np.random.RandomState(2)
    X = rng.standard_normal((200, 3))
    y = X @ np.array([1.0, 2.0, 3.0]) + 0.1 * rng.standard_normal(200)
    est = GDRegressor(
        solver="online", learning_rate=learning_rate, eta0=0.05, max_iter=30, tol=None,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert est.score(X, y) > 0.99
    rates = est.history_["learning_rate"]
    assert np.all(rates > 0) or learning_rate == "cosine"


def test_a_bad_schedule_is_named():
    X = np.ones((5, 1))
    with pytest.raises(ValueError, match="learning rate schedule returned"):
        GDRegressor(solver="batch", learning_rate=lambda t: -1.0).fit(X, np.ones(5))


# --- averaging ---------------------------------------------------------------------


def averaged_sgd_reference(X, y, eta, alpha, average, epochs, seed):
    """Averaged online SGD in plain Python, as scikit-learn defines ``average``."""
    rng = np.random.RandomState(seed)
    w, b = np.zeros(X.shape[1]), 0.0
    w_avg, b_avg = np.zeros(X.shape[1]), 0.0
    t = 0
    for _ in range(epochs):
        for i in rng.permutation(len(y)):
            g = (X[i] @ w + b) - y[i]
            w = w - eta * (g * X[i] + alpha * w)
            b = b - eta * g
            t += 1
            if t >= average:
                mix = 1.0 / (t - average + 1)
                w_avg = w_avg + (w - w_avg) * mix
                b_avg = b_avg + (b - b_avg) * mix
    if t >= average:
        return w_avg, b_avg
    return w, b


@pytest.mark.parametrize("average", [True, 1, 50, 10_000])
def test_averaging_matches_the_reference(average):
    rng = np.random.RandomState(3)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -1.0, 2.0]) + rng.standard_normal(40)
    est = GDRegressor(
        solver="online", eta0=0.05, alpha=1e-3, average=average, max_iter=5, tol=None,
        random_state=7,
    ).fit(X, y)  # fmt: skip
    w, b = averaged_sgd_reference(X, y, 0.05, 1e-3, int(average), 5, 7)
    np.testing.assert_allclose(est.coef_, w, rtol=1e-12)
    np.testing.assert_allclose(est.intercept_, [b], rtol=1e-12)


def test_averaging_reduces_the_noise_of_a_constant_rate():
    rng = np.random.RandomState(4)
    X = rng.standard_normal((500, 3))
    y = X @ np.array([1.0, -1.0, 2.0]) + rng.standard_normal(500)
    kwargs = dict(solver="online", eta0=0.05, max_iter=20, tol=None, random_state=0)
    plain = GDRegressor(**kwargs).fit(X, y)
    averaged = GDRegressor(average=500, **kwargs).fit(X, y)
    coef, _ = closed_form_solution(plain, X, y)
    assert (
        np.linalg.norm(averaged.coef_ - coef) < np.linalg.norm(plain.coef_ - coef) / 3
    )


# --- L1 and elastic net --------------------------------------------------------------


@pytest.mark.parametrize(
    ("penalty", "l1_ratio", "reference"),
    [("l1", 1.0, lambda a, r: Lasso(alpha=a, tol=1e-14, max_iter=100_000)),
     ("elasticnet", 0.5, lambda a, r: ElasticNet(alpha=a, l1_ratio=r, tol=1e-14, max_iter=100_000))],
)  # fmt: skip
def test_proximal_batch_matches_lasso_and_elastic_net(penalty, l1_ratio, reference):
    # The objectives are identical: (1/2n)||y - Xw - b||^2 + alpha * (l1_ratio
    # ||w||_1 + (1 - l1_ratio)/2 ||w||^2). Proximal gradient (ISTA) converges
    # linearly here (n > d, full column rank) and lands on exact zeros.
    rng = np.random.RandomState(5)
    X = rng.standard_normal((200, 8))
    y = X @ np.array(
        [3.0, -2.0, 0.0, 0.0, 1.5, 0.0, 0.05, 0.0]
    ) + 0.5 * rng.standard_normal(200)
    alpha = 0.1
    est = GDRegressor(
        penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=None, max_iter=3000
    )
    est.fit(X, y)
    ref = reference(alpha, l1_ratio).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(est.intercept_, [ref.intercept_], rtol=1e-5)
    np.testing.assert_array_equal(est.coef_ == 0, ref.coef_ == 0)
    assert (ref.coef_ == 0).sum() >= 3  # the test is about sparsity


@pytest.mark.parametrize("solver", ["online", "minibatch"])
def test_stochastic_l1_gives_exact_zeros(solver):
    rng = np.random.RandomState(6)
    X = rng.standard_normal((300, 6))
    y = X @ np.array([2.0, 0.0, 0.0, -1.0, 0.0, 0.0]) + 0.1 * rng.standard_normal(300)
    est = GDRegressor(
        solver=solver, penalty="l1", alpha=0.05, learning_rate="invscaling",
        max_iter=30, tol=None, random_state=0,
    ).fit(X, y)  # fmt: skip
    # Each update's noise can kick a zero coefficient out by ~eta * gradient
    # before the next soft-threshold pulls it back, so not every irrelevant
    # coefficient sits at exactly 0 at the end, but most do, and the rest
    # are tiny.
    irrelevant = est.coef_[[1, 2, 4, 5]]
    assert (irrelevant == 0.0).sum() >= 2
    assert np.all(np.abs(irrelevant) < 5e-3)
    assert np.all(np.abs(est.coef_[[0, 3]]) > 0.5)


# --- learning by trials ----------------------------------------------------------------


def test_trials_need_many_more_evaluations_than_gradients():
    rng = np.random.RandomState(8)
    X = rng.standard_normal((200, 5))
    y = X @ np.arange(1.0, 6.0) + 0.3 * rng.standard_normal(200)

    def evaluations_to(gap, est):
        curve = objective_gap(est.fit(X, y), X, y)
        reached = np.flatnonzero(curve < gap)
        return reached[0] + 1 if reached.size else np.inf

    gradient = evaluations_to(1e-6, GDRegressor(tol=None, max_iter=200))
    trials = evaluations_to(
        1e-6,
        GDRegressor(solver="perturbation", tol=None, max_iter=5000, random_state=0),
    )
    # One trial and one batch iteration both cost one pass over the data.
    assert gradient < 30
    assert trials > 20 * gradient


def test_trials_still_descend_every_objective():
    rng = np.random.RandomState(9)
    X = rng.standard_normal((100, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    est = GDClassifier(solver="perturbation", max_iter=600, random_state=0).fit(X, y)
    assert np.all(np.diff(est.history_["loss"]) <= 0)  # only improvements are kept
    assert est.score(X, y) > 0.9


def test_trials_refuse_gradient_parameters():
    with pytest.raises(ValueError, match="uses no gradient"):
        GDRegressor(solver="perturbation", momentum=0.9).fit(
            np.ones((3, 1)), np.ones(3)
        )
