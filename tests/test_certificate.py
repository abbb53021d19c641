"""Every loss lands, with a certificate: the default fit's ``dual_gap_`` is a
true upper bound on its distance from the optimum, and is within 1e-6.

Judged as a user would: the default estimator, only ``loss``, ``penalty`` and
``alpha=1e-3`` given, ConvergenceWarning as an error, on standardised
breast_cancer and diabetes, 4000 x 40 synthetic sets and a sparse
4000 x 2000 one. The optimum is computed here, independently of skgd: the
objective is written from its definition and minimised by scipy's L-BFGS-B
for the smooth losses (the L1 part split as ``w = u - v``, ``u, v >= 0``),
and solved as a quadratic (or linear) program by Clarabel's interior point
method for the hinge and the epsilon-insensitive losses.
"""

import functools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor

clarabel = pytest.importorskip("clarabel")

ALPHA = 1e-3
L1_RATIO = 0.15  # the estimators' default
EPSILON = 0.1  # the estimators' default
PENALTIES = ["l2", "l1", "elasticnet"]
CLASSIFICATION_LOSSES = ["log_loss", "hinge", "squared_hinge", "modified_huber"]
REGRESSION_LOSSES = [
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
]
NON_SMOOTH = ("hinge", "epsilon_insensitive")


# --- the data ------------------------------------------------------------------------


def _sparse_rows(seed, n=4000, d=2000, per_row=20):
    rng = np.random.RandomState(seed)
    X = sp.random(
        n, d, density=per_row / d, format="csr", random_state=rng,
        data_rvs=lambda k: rng.exponential(1.0, k),
    )  # fmt: skip
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    X = sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ X)
    return X, X @ (3.0 * rng.standard_normal(d)) + 0.3 * rng.standard_normal(n)


@functools.cache
def dataset(name):
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    if name == "4k x 40":
        return make_classification(4000, 40, n_informative=10, random_state=0)
    if name == "4k x 40, 3 classes":
        return make_classification(
            4000, 40, n_informative=10, n_classes=3, random_state=0
        )
    if name == "4k x 40 regression":
        X, y = make_regression(4000, 40, n_informative=20, noise=10.0, random_state=0)
        return X, y / 100.0
    if name == "sparse 4k x 2k":
        X, scores = _sparse_rows(0)
        return X, (scores > np.median(scores)).astype(int)
    if name == "sparse 4k x 2k regression":
        return _sparse_rows(1)
    raise KeyError(name)


CLASSIFICATION_DATA = ["breast_cancer", "4k x 40", "4k x 40, 3 classes", "sparse 4k x 2k"]
REGRESSION_DATA = ["diabetes", "4k x 40 regression", "sparse 4k x 2k regression"]


# --- the objective, from its definition ---------------------------------------------------


def strengths(penalty):
    l1 = {"l2": 0.0, "l1": ALPHA, "elasticnet": ALPHA * L1_RATIO}[penalty]
    return l1, ALPHA - l1


def loss_and_slope(loss, p, y):
    """Each sample's loss and its derivative in the prediction ``p``."""
    if loss == "squared_error":
        return 0.5 * (p - y) ** 2, p - y
    if loss == "huber":
        r = p - y
        inside = np.abs(r) <= EPSILON
        value = np.where(inside, 0.5 * r**2, EPSILON * np.abs(r) - 0.5 * EPSILON**2)
        return value, np.where(inside, r, EPSILON * np.sign(r))
    if loss == "squared_epsilon_insensitive":
        r = p - y
        z = np.maximum(np.abs(r) - EPSILON, 0.0)
        return z**2, 2.0 * z * np.sign(r)
    z = y * p  # the margin losses, y in {-1, +1}
    if loss == "log_loss":
        return np.logaddexp(0.0, -z), -y * np.exp(-np.logaddexp(0.0, z))
    if loss == "squared_hinge":
        h = np.maximum(1.0 - z, 0.0)
        return h**2, -2.0 * y * h
    if loss == "modified_huber":
        h = np.maximum(1.0 - z, 0.0)
        value = np.where(z >= -1.0, h**2, -4.0 * z)
        return value, np.where(z >= -1.0, -2.0 * y * h, -4.0 * y)
    if loss == "hinge":
        return np.maximum(1.0 - z, 0.0), None
    if loss == "epsilon_insensitive":
        return np.maximum(np.abs(p - y) - EPSILON, 0.0), None
    raise KeyError(loss)


def targets(estimator, y):
    """``(problems, multinomial)``: the +-1 (or real) target of every output."""
    if isinstance(estimator, GDRegressor):
        return [np.asarray(y, dtype=float)], False
    classes = np.unique(y)
    if len(classes) == 2:
        return [np.where(y == classes[1], 1.0, -1.0)], False
    if estimator.loss == "log_loss":
        return [(y == c).astype(float) for c in classes], True
    return [np.where(y == c, 1.0, -1.0) for c in classes], False


def objective(loss, penalty, X, ys, multinomial, coefs, intercepts):
    """The training objective of parameters (one row per output)."""
    l1, l2 = strengths(penalty)
    P = np.column_stack([X @ w + b for w, b in zip(coefs, intercepts, strict=True)])
    if multinomial:
        Y = np.column_stack(ys)
        value = np.mean(logsumexp(P, axis=1) - (Y * P).sum(axis=1))
    else:
        value = sum(
            loss_and_slope(loss, P[:, k], y)[0].mean() for k, y in enumerate(ys)
        )
    coef = np.asarray(coefs)
    return value + l1 * np.abs(coef).sum() + 0.5 * l2 * (coef**2).sum()


# --- the independent optimum ---------------------------------------------------------


def smooth_optimum(loss, penalty, X, ys, multinomial):
    """L-BFGS-B on ``x = [u (k x d), v (k x d), b (k)]``, ``w = u - v``."""
    l1, l2 = strengths(penalty)
    n, d = X.shape
    k = len(ys)
    Y = np.column_stack(ys)

    def unpack(x):
        u, v = x[: k * d].reshape(k, d), x[k * d : 2 * k * d].reshape(k, d)
        return u, v, x[2 * k * d :]

    def fun(x):
        u, v, b = unpack(x)
        W = u - v
        P = np.asarray(X @ W.T) + b
        if multinomial:
            value = np.mean(logsumexp(P, axis=1) - (Y * P).sum(axis=1))
            G = (np.exp(log_softmax(P, axis=1)) - Y) / n
        else:
            parts = [loss_and_slope(loss, P[:, j], Y[:, j]) for j in range(k)]
            value = sum(part[0].mean() for part in parts)
            G = np.column_stack([part[1] for part in parts]) / n
        gw = np.asarray(X.T @ G).T + l2 * W
        value += l1 * (u + v).sum() + 0.5 * l2 * (W**2).sum()
        grad = np.concatenate([(gw + l1).ravel(), (-gw + l1).ravel(), G.sum(axis=0)])
        return value, grad

    x0 = np.zeros(2 * k * d + k)
    bounds = [(0, None)] * (2 * k * d) + [(None, None)] * k
    result = minimize(
        fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
        options=dict(maxiter=50_000, maxfun=100_000, ftol=0.0, gtol=1e-12, maxcor=30),
    )  # fmt: skip
    return result.fun


def piecewise_linear_optimum(loss, penalty, X, y, fit_intercept=True):
    """The hinge or epsilon-insensitive objective of one output as a QP
    (an LP without L2) over ``x = [w (d), b, xi (n), t (d)]``: minimise
    ``(l2/2)|w|^2 + l1 sum t + mean xi`` with ``xi`` above the loss's
    pieces and ``t >= |w|`` (and ``b = 0`` without an intercept), by
    Clarabel's interior point method."""
    l1, l2 = strengths(penalty)
    n, d = X.shape
    X = sp.csr_matrix(X)
    size = 2 * d + 1 + n
    w, b, xi, t = slice(0, d), d, slice(d + 1, d + 1 + n), slice(d + 1 + n, size)
    P = sp.lil_matrix((size, size))
    P.setdiag(np.r_[np.full(d, l2), np.zeros(size - d)])
    q = np.zeros(size)
    q[xi], q[t] = 1.0 / n, l1
    eye_n, eye_d = sp.identity(n), sp.identity(d)
    zeros = functools.partial(sp.csr_matrix)
    # Rows A x + s = h, s >= 0, i.e. A x <= h.
    blocks, h = [], []
    if loss == "hinge":  # 1 - y (x.w + b) <= xi
        Xy = sp.diags(y) @ X
        blocks.append(sp.hstack([-Xy, -y[:, None], -eye_n, zeros((n, d))]))
        h.append(-np.ones(n))
    else:  # |x.w + b - y| - eps <= xi
        blocks.append(sp.hstack([X, np.ones((n, 1)), -eye_n, zeros((n, d))]))
        blocks.append(sp.hstack([-X, -np.ones((n, 1)), -eye_n, zeros((n, d))]))
        h += [y + EPSILON, -y + EPSILON]
    blocks.append(sp.hstack([zeros((n, d + 1)), -eye_n, zeros((n, d))]))  # xi >= 0
    h.append(np.zeros(n))
    blocks.append(sp.hstack([eye_d, zeros((d, n + 1)), -eye_d]))  # w <= t
    blocks.append(sp.hstack([-eye_d, zeros((d, n + 1)), -eye_d]))  # -w <= t
    h += [np.zeros(d), np.zeros(d)]
    if not fit_intercept:  # b <= 0 and -b <= 0
        pin = sp.csr_matrix(([1.0, -1.0], ([0, 1], [b, b])), shape=(2, size))
        blocks.append(pin)
        h.append(np.zeros(2))
    A = sp.vstack(blocks).tocsc()
    h = np.concatenate(h)
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = 1e-10
    solver = clarabel.DefaultSolver(
        sp.triu(P).tocsc(), q, A, h, [clarabel.NonnegativeConeT(A.shape[0])], settings
    )
    x = np.asarray(solver.solve().x)
    return x[w], x[b]


def reference_optimum(estimator, X, y):
    ys, multinomial = targets(estimator, y)
    loss, penalty = estimator.loss, estimator.penalty
    if loss in NON_SMOOTH:
        solutions = [piecewise_linear_optimum(loss, penalty, X, t) for t in ys]
        coefs, intercepts = zip(*solutions, strict=True)
        return objective(loss, penalty, X, ys, multinomial, coefs, intercepts)
    return smooth_optimum(loss, penalty, X, ys, multinomial)


# --- the test -------------------------------------------------------------------------


def cases():
    for data in CLASSIFICATION_DATA:
        for loss in CLASSIFICATION_LOSSES:
            for penalty in PENALTIES:
                yield GDClassifier, loss, penalty, data
    for data in REGRESSION_DATA:
        for loss in REGRESSION_LOSSES:
            for penalty in PENALTIES:
                yield GDRegressor, loss, penalty, data


# Where the default fit does not land yet, measured, and why. Each is a strict
# xfail: the day it lands, the test says so.
PURE_L1_CERTIFICATE = (
    "pure L1: the dual point is scaled into the L1 ball, so the certificate "
    "shrinks like the distance, not its square; the accelerated solver needs "
    "~1200 iterations to certify 1e-6 (1000 is the default max_iter)"
)
SHORTFALLS = {
    ("squared_hinge", "l1", "breast_cancer"): PURE_L1_CERTIFICATE,
    ("modified_huber", "l1", "breast_cancer"): PURE_L1_CERTIFICATE,
    ("squared_hinge", "l1", "4k x 40, 3 classes"): PURE_L1_CERTIFICATE,
    ("modified_huber", "l1", "4k x 40, 3 classes"): PURE_L1_CERTIFICATE,
    ("squared_hinge", "l1", "sparse 4k x 2k"): PURE_L1_CERTIFICATE,
    ("modified_huber", "l1", "sparse 4k x 2k"): PURE_L1_CERTIFICATE,
    ("squared_error", "l1", "sparse 4k x 2k regression"): PURE_L1_CERTIFICATE,
    ("squared_epsilon_insensitive", "l1", "sparse 4k x 2k regression"): (
        PURE_L1_CERTIFICATE
    ),
}


def marks(loss, penalty, data):
    if loss in NON_SMOOTH and penalty == "l1":
        reason = (
            "pure L1 leaves a non-smooth loss no L2 part for sdca, and the "
            "accelerated solver stalls on it (the continuation route is not built)"
        )
    else:
        reason = SHORTFALLS.get((loss, penalty, data))
    if reason is None:
        return []
    return [pytest.mark.xfail(strict=True, raises=ConvergenceWarning, reason=reason)]


@pytest.mark.parametrize(
    "Estimator, loss, penalty, data",
    [pytest.param(*case, marks=marks(*case[1:])) for case in cases()],
    ids=[f"{case[1]}-{case[2]}-{case[3]}" for case in cases()],
)
def test_the_default_fit_lands_with_a_true_certificate(Estimator, loss, penalty, data):
    X, y = dataset(data)
    estimator = Estimator(loss=loss, penalty=penalty, alpha=ALPHA, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator.fit(X, y)
    ys, multinomial = targets(estimator, y)
    coefs = np.atleast_2d(estimator.coef_)
    value = objective(
        loss, penalty, X, ys, multinomial, coefs, np.atleast_1d(estimator.intercept_)
    )
    best = reference_optimum(estimator, X, y)
    slack = 1e-9 * best  # the reference's own accuracy
    assert estimator.dual_gap_ <= 1e-6 * value  # what the fit claims
    assert value - best <= estimator.dual_gap_ + slack  # and the claim is true
    assert value - best <= 1e-6 * best + slack


def test_the_gallery_separating_hyperplane_lands():
    # scikit-learn's plot_sgd_separating_hyperplane, with the class renamed.
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=50, centers=2, random_state=0, cluster_std=0.60)
    clf = GDClassifier(loss="hinge", alpha=0.01, max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.solver_ == "sdca"
    ys, _ = targets(clf, y)
    w, b = piecewise_linear_optimum("hinge", "l2", X, ys[0])
    np.testing.assert_allclose(clf.coef_[0], w, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(clf.intercept_[0], b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("intercept_scaling", [0.01, 0.1, 1.0, 10.0])
def test_sdca_lands_whatever_the_intercept_scaling(intercept_scaling):
    # The intercept's proximal weight follows intercept_scaling, and shrunk
    # rows come back every epoch: at 0.1 the intercept once drifted away.
    X, labels = make_classification(60, 6, n_informative=4, n_classes=3, random_state=0)
    y = (labels == 1).astype(int)
    clf = GDClassifier(
        loss="hinge", alpha=ALPHA, intercept_scaling=intercept_scaling, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.solver_ == "sdca"
    ys = [np.where(y == 1, 1.0, -1.0)]
    w, b = piecewise_linear_optimum("hinge", "l2", X, ys[0])
    best = objective("hinge", "l2", X, ys, False, [w], [b])
    value = objective("hinge", "l2", X, ys, False, clf.coef_, clf.intercept_)
    assert value - best <= clf.dual_gap_ + 1e-9 * best
    assert clf.dual_gap_ <= 1e-6 * value


@pytest.mark.parametrize(
    "loss, data",
    [("hinge", "breast_cancer"), ("hinge", "4k x 40"), ("hinge", "4k x 40, 3 classes"),
     ("hinge", "sparse 4k x 2k"), ("epsilon_insensitive", "diabetes"),
     ("epsilon_insensitive", "sparse 4k x 2k regression")],
)  # fmt: skip
def test_sdca_without_an_intercept_lands(loss, data):
    # Without an intercept the kernel's convergence test is aimed at the
    # target, and a call that runs out of budget keeps its rows shrunk for
    # the next epoch: the certificate must still be true (an interior-point
    # QP with b = 0 as the reference).
    X, y = dataset(data)
    Estimator = GDClassifier if loss == "hinge" else GDRegressor
    estimator = Estimator(loss=loss, alpha=ALPHA, fit_intercept=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator.fit(X, y)
    assert estimator.solver_ == "sdca"
    ys, _ = targets(estimator, y)
    solutions = [piecewise_linear_optimum(loss, "l2", X, t, False) for t in ys]
    best = objective(loss, "l2", X, ys, False, *zip(*solutions, strict=True))
    coefs = np.atleast_2d(estimator.coef_)
    value = objective(loss, "l2", X, ys, False, coefs, np.zeros(len(coefs)))
    assert estimator.dual_gap_ <= 1e-6 * value
    assert value - best <= estimator.dual_gap_ + 1e-9 * best
    assert np.all(estimator.intercept_ == 0.0)


def test_the_advice_for_a_kinked_loss_is_one_that_works():
    X, y = dataset("breast_cancer")
    with pytest.warns(ConvergenceWarning, match="solver='sdca' lands on it.$"):
        GDClassifier(loss="hinge", solver="accelerated", max_iter=3).fit(X, y)
    with warnings.catch_warnings():  # and following it lands
        warnings.simplefilter("error", ConvergenceWarning)
        GDClassifier(loss="hinge", solver="sdca").fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"needs an L2 part \(alpha > 0"):
        GDClassifier(loss="hinge", alpha=0.0, max_iter=3).fit(X, y)
    # SGD's own solver stops on progress: no advice to switch.
    with pytest.warns(ConvergenceWarning, match="Consider increasing max_iter"):
        GDClassifier(loss="hinge", learning_rate="optimal", max_iter=1).fit(X, y)
