"""The compiled losses and the training objective, against NumPy and finite differences.

Every loss the estimators can build is called exactly as the solvers call it
(``loss(p, y, w, g, params) -> value`` on one sample's C-contiguous rows) and
compared with the pure-NumPy oracle in ``reference.py``; its derivative is
also checked against central finite differences of its own value. The same
is done for the full objective (:class:`skgd.objective.Objective`), penalties
included.
"""

import numba
import numpy as np
import pytest
import reference
import scipy.sparse as sp

from skgd.objective import Objective
from skgd.objective import losses as _losses
from skgd.objective.losses import (
    CLASSIFICATION_LOSSES,
    REGRESSION_LOSSES,
    classification_loss,
    regression_loss,
)
from skgd.objective.penalties import make_penalty

# Huber / epsilon-insensitive width: not a default, so a kernel that ignored
# ``params`` would be caught.
EPSILON = 0.3

# Every loss object the estimators can build, with the kind of targets it
# sees: real values, -1/+1 per output (one-vs-rest), or one-hot (softmax).
LOSS_CASES = [
    *[(f"reg-{n}", regression_loss(n, EPSILON), "real") for n in REGRESSION_LOSSES],
    *[(f"clf-{n}", classification_loss(n, 1), "sign") for n in CLASSIFICATION_LOSSES],
    ("clf-multinomial", classification_loss("log_loss", 3), "onehot"),
]

# Losses with a kink in their first derivative: no curvature bound exists.
NONSMOOTH = {"epsilon_insensitive", "hinge"}

# The kinks of the losses: in the residual r = p - y at 0 and +-epsilon for
# regression, in the margin z = y p at -1, 0 and 1 for -1/+1 targets; the
# softmax loss has none. Finite differences are only valid at points farther
# than KINK_GAP from all of them (the step is 1e-6).
KINK_GAP = 1e-3
STEP = 1e-6


def kernel_name(loss):
    return loss.kernel.py_func.__name__


def reference_of(loss):
    return reference.LOSSES[kernel_name(loss)]


def distance_to_kinks(P, Y, kind):
    """Per row, the distance of the residuals or margins to the nearest kink."""
    if kind == "real":
        R = np.abs(P - Y)
        gaps = [R, np.abs(R - EPSILON)]
    elif kind == "sign":
        gaps = [np.abs(Y * P - c) for c in (-1.0, 0.0, 1.0)]
    else:
        return np.full(len(P), np.inf)
    return np.min([gap.min(axis=1) for gap in gaps], axis=0)


def make_targets(kind, n_samples, n_outputs, rng):
    if kind == "real":
        return rng.normal(0.0, 2.0, (n_samples, n_outputs))
    if kind == "sign":
        return rng.choice([-1.0, 1.0], (n_samples, n_outputs))
    return np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]


def n_outputs_of(loss, kind):
    return (3,) if loss.coupled else (1, 3)


def sample_points(kind, n_outputs, per_output_weight, rng, n_samples=60):
    """Predictions, targets and weights, the rows near a kink dropped.

    Predictions spread over [-3, 3] around the targets so that every piece of
    every loss (inside and outside epsilon, each side of the margins) is hit.
    """
    Y = make_targets(kind, n_samples, n_outputs, rng)
    P = (
        Y + rng.uniform(-3.0, 3.0, Y.shape)
        if kind == "real"
        else rng.uniform(-3, 3, Y.shape)
    )
    W = rng.uniform(0.5, 2.0, (n_samples, n_outputs if per_output_weight else 1))
    keep = distance_to_kinks(P, Y, kind) > KINK_GAP
    return P[keep], Y[keep], W[keep]


def call_kernel(loss, p, y, w, dtype=np.float64):
    """One call as the solvers make it: C-contiguous rows, float64 params."""
    p, y, w = (np.ascontiguousarray(a, dtype=dtype) for a in (p, y, w))
    g = np.empty_like(p)
    value = loss.kernel(p, y, w, g, loss.params_array)
    return value, g


def loss_parametrization():
    for case_id, loss, kind in LOSS_CASES:
        for n_outputs in n_outputs_of(loss, kind):
            weightings = (False,) if loss.coupled or n_outputs == 1 else (False, True)
            for per_output in weightings:
                label = f"{case_id}-k{n_outputs}" + ("-wk" if per_output else "")
                yield pytest.param(loss, kind, n_outputs, per_output, id=label)


def test_every_compiled_loss_has_a_reference_and_a_case():
    compiled = {
        name
        for name, obj in vars(_losses).items()
        if isinstance(obj, numba.core.dispatcher.Dispatcher)
        and not name.startswith("_")
    }
    reached = {kernel_name(loss) for _, loss, _ in LOSS_CASES}
    assert compiled == reached == set(reference.LOSSES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("loss", "kind", "n_outputs", "per_output"), list(loss_parametrization())
)
def test_loss_kernel_matches_reference(loss, kind, n_outputs, per_output, dtype):
    rng = np.random.RandomState(0)
    P, Y, W = sample_points(kind, n_outputs, per_output, rng)
    # The oracle sees the inputs the kernel sees (rounded to dtype).
    P, Y, W = (a.astype(dtype).astype(np.float64) for a in (P, Y, W))
    expected_values, expected_G = reference_of(loss)(P, Y, W, loss.params)
    # float64: agreement to rounding. float32: the kernel computes in float32
    # (relative error ~ a few ulps of 1.2e-7) and returns the value in float64.
    rtol, atol = (1e-12, 1e-12) if dtype == np.float64 else (1e-5, 1e-5)
    for i in range(len(P)):
        value, g = call_kernel(loss, P[i], Y[i], W[i], dtype)
        assert g.dtype == dtype
        np.testing.assert_allclose(value, expected_values[i], rtol=rtol, atol=atol)
        np.testing.assert_allclose(g, expected_G[i], rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("loss", "kind", "n_outputs", "per_output"),
    [case for case in loss_parametrization() if case.values[0].rows is not None],
)
def test_loss_rows_match_reference(loss, kind, n_outputs, per_output, dtype):
    # The numpy form of a loss over a block of rows (Loss.rows), including
    # predictions far out where a careless exp overflows.
    rng = np.random.RandomState(0)
    P, Y, W = sample_points(kind, n_outputs, per_output, rng)
    P[:3] *= 300.0
    P, Y, W = (np.ascontiguousarray(a, dtype=dtype) for a in (P, Y, W))
    expected_values, expected_G = reference_of(loss)(
        *(a.astype(np.float64) for a in (P, Y, W)), loss.params
    )
    G = np.empty_like(P)
    total = loss.rows(P, Y, W, G)
    assert G.dtype == dtype and isinstance(total, float)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(total, expected_values.sum(), rtol=rtol)
    np.testing.assert_allclose(G, expected_G, rtol=rtol, atol=rtol)


@pytest.mark.parametrize(
    ("loss", "kind", "n_outputs", "per_output"), list(loss_parametrization())
)
def test_loss_derivative_matches_finite_differences(loss, kind, n_outputs, per_output):
    rng = np.random.RandomState(1)
    P, Y, W = sample_points(kind, n_outputs, per_output, rng)
    for i in range(len(P)):
        _, g = call_kernel(loss, P[i], Y[i], W[i])
        numeric = np.empty(n_outputs)
        for j in range(n_outputs):
            step = np.zeros(n_outputs)
            step[j] = STEP
            up, _ = call_kernel(loss, P[i] + step, Y[i], W[i])
            down, _ = call_kernel(loss, P[i] - step, Y[i], W[i])
            numeric[j] = (up - down) / (2 * STEP)
        # Central differences: truncation O(STEP**2 * f''') plus rounding
        # O(1e-16 * |f| / STEP) ~ 1e-10 for these values of order 10.
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("loss", "kind"),
    [
        pytest.param(*c[1:], id=c[0])
        for c in LOSS_CASES
        if kernel_name(c[1]) not in NONSMOOTH
    ],
)
def test_loss_curvature_bounds_the_derivative(loss, kind):
    # ``curvature`` sets eta0='auto'; it must bound the Lipschitz constant of
    # the unit-weight derivative, across pieces too (large steps straddle them).
    rng = np.random.RandomState(2)
    n_outputs = 3 if loss.coupled else 1
    ratios = []
    for scale in (1e-3, 0.1, 1.0, 5.0):
        Y = make_targets(kind, 200, n_outputs, rng)
        P = rng.uniform(-4, 4, Y.shape)
        D = rng.normal(0.0, scale, Y.shape)
        for i in range(len(P)):
            _, g0 = call_kernel(loss, P[i], Y[i], np.ones(1))
            _, g1 = call_kernel(loss, P[i] + D[i], Y[i], np.ones(1))
            ratios.append(np.linalg.norm(g1 - g0) / np.linalg.norm(D[i]))
    assert max(ratios) <= loss.curvature * (1 + 1e-9)
    # ...and not by a wide margin, or the automatic step is needlessly small.
    assert max(ratios) >= 0.5 * loss.curvature


# --- the full objective ----------------------------------------------------------

PENALTIES = [None, "l2", "l1", "elasticnet"]


def make_objective(loss, kind, penalty, fit_intercept, X_format, rng):
    """An Objective built as BaseGD._fit builds it, and its oracle.

    A quarter of the rows are held out (weight 0, as for early stopping);
    the others have sample weights s_i, normalised by their mean, and for
    one-vs-rest losses an extra factor per output (class weights). Rows whose
    predictions at ``theta`` lie near a kink of the loss are dropped, so
    finite differences are valid.
    """
    n_samples, n_features = 60, 4
    n_outputs = 3 if (loss.coupled or kind == "real") else 2
    X = rng.standard_normal((n_samples, n_features))
    Y = make_targets(kind, n_samples, n_outputs, rng)
    theta = rng.normal(0.0, 0.7, (n_outputs, n_features + 1))
    if not fit_intercept:
        theta[:, -1] = 0.0
    smooth = distance_to_kinks(X @ theta[:, :-1].T + theta[:, -1], Y, kind) > KINK_GAP
    X, Y = X[smooth], Y[smooth]
    n_samples = len(X)

    sample_weight = rng.uniform(0.5, 2.0, n_samples)
    train = rng.uniform(size=n_samples) < 0.75
    per_output = np.ones(1) if loss.coupled else rng.uniform(0.5, 2.0, n_outputs)
    raw = np.where(train[:, None], sample_weight[:, None] * per_output, 0.0)
    W = np.ascontiguousarray(raw / sample_weight[train].mean())
    penalty_obj = make_penalty(penalty, 0.05, 0.3)
    X_obj = {"C": X, "F": np.asfortranarray(X), "csr": sp.csr_matrix(X)}[X_format]
    objective = Objective(
        X_obj, Y, W, int(train.sum()), loss, penalty_obj, fit_intercept
    )

    def oracle(theta):
        return reference.objective(
            theta, X, Y, raw, sample_weight[train].sum(), reference_of(loss),
            loss.params, penalty_obj.l1, penalty_obj.l2, fit_intercept,
        )  # fmt: skip

    return objective, oracle, theta, penalty_obj


def full_gradient(objective, penalty, theta):
    """Objective.evaluate's gradient plus the L1 derivative, which the solvers
    apply as a proximal step instead (exact away from zero coefficients)."""
    _, gradient = objective.evaluate(theta)
    gradient = gradient.copy()
    gradient[:, :-1] += penalty.l1 * np.sign(theta[:, :-1])
    return gradient


@pytest.mark.parametrize("X_format", ["C", "F", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize(
    ("loss", "kind"), [pytest.param(*c[1:], id=c[0]) for c in LOSS_CASES]
)
def test_objective_matches_reference(loss, kind, penalty, fit_intercept, X_format):
    rng = np.random.RandomState(3)
    objective, oracle, theta, penalty_obj = make_objective(
        loss, kind, penalty, fit_intercept, X_format, rng
    )
    value, _ = objective.evaluate(theta)
    expected_value, expected_gradient = oracle(theta)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(
        full_gradient(objective, penalty_obj, theta),
        expected_gradient,
        rtol=1e-10,
        atol=1e-13,
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize(
    ("loss", "kind"), [pytest.param(*c[1:], id=c[0]) for c in LOSS_CASES]
)
def test_objective_gradient_matches_finite_differences(
    loss, kind, penalty, fit_intercept
):
    rng = np.random.RandomState(4)
    objective, _, theta, penalty_obj = make_objective(
        loss, kind, penalty, fit_intercept, "C", rng
    )
    # The rows near a loss kink are gone; |w| has its kink at 0.
    assert np.abs(theta[:, :-1]).min() > 100 * STEP

    gradient = full_gradient(objective, penalty_obj, theta)
    numeric = np.zeros_like(theta)
    n_columns = theta.shape[1] if fit_intercept else theta.shape[1] - 1
    for j in range(theta.shape[0]):
        for f in range(n_columns):
            step = np.zeros_like(theta)
            step[j, f] = STEP
            numeric[j, f] = (
                objective.evaluate(theta + step)[0]
                - objective.evaluate(theta - step)[0]
            ) / (2 * STEP)
    # Without intercept its column is not a parameter: the gradient must be 0.
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)
