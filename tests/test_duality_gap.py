"""Tests of the duality-gap certificate against independently computed optima.

The reference optimum P* of each problem is found without the certificate:
L-BFGS-B on the primal (L1 through the split w = u - v, u, v >= 0) for the
smooth losses; for hinge and epsilon-insensitive, an exact LP (linprog /
HiGHS) without an L2 part, and otherwise L-BFGS-B on a Huber-smoothed loss
with the smoothing width driven to 1e-8 (error <= n_active * width / 2 / n),
evaluated with the exact loss. The primal value is also reimplemented here.
"""

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog, minimize
from scipy.special import expit, logsumexp
from sklearn.datasets import (
    load_breast_cancer,
    load_iris,
    make_classification,
    make_regression,
)

from skgd.objective.certificate import duality_gap

REGRESSION = ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
CLASSIFICATION = ["hinge", "perceptron", "squared_hinge", "modified_huber", "log_loss"]
NONSMOOTH = ["hinge", "epsilon_insensitive", "perceptron"]
PARAMS = {"huber": (0.5,), "epsilon_insensitive": (0.1,),
          "squared_epsilon_insensitive": (0.1,), "hinge": (1.0,), "perceptron": (0.0,)}  # fmt: skip
SMOOTHING = (1e-2, 1e-3)  # continuation of the Huber-smoothed kinks
PENALTIES = [(p, a) for p in ("l2", "l1", "elasticnet") for a in (1e-3, 1e-2)]


def split(penalty, alpha):
    return {"l2": (0.0, alpha), "l1": (alpha, 0.0),
            "elasticnet": (0.15 * alpha, 0.85 * alpha)}[penalty]  # fmt: skip


def standardise(X):
    X = (X - X.mean(0)) / X.std(0)
    X[np.abs(X) < 0.3] = 0.0  # some zeros, so that CSR is really sparse
    return X


def weights(n, k, seed):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0.5, 2.0, size=(n, k))
    W[rng.random(n) < 0.1] = 0.0  # held-out rows
    train = W[:, 0] > 0
    return W / W[train].mean(), int(train.sum())


@functools.cache
def dataset(kind):
    if kind == "multinomial":
        X, y = load_iris(return_X_y=True)
        Y = np.eye(3)[y]
        W, n = weights(len(y), 1, 0)
    elif kind == "classification":
        X, y = load_breast_cancer(return_X_y=True)
        idx = np.random.default_rng(0).choice(len(y), 300, replace=False)
        X, y = X[idx], y[idx]
        Y = np.where(y == 1, 1.0, -1.0)[:, None]
        W, n = weights(len(y), 1, 1)
    elif kind == "ovr":  # three one-vs-rest outputs with per-output weights
        X, y = make_classification(300, 10, n_informative=5, n_classes=3, random_state=0)
        Y = np.where(np.eye(3)[y] > 0, 1.0, -1.0)
        W, n = weights(len(y), 3, 2)
    else:
        X, y = make_regression(300, 10, noise=10.0, random_state=0)
        Y = ((y - y.mean()) / y.std())[:, None]
        W, n = weights(len(y), 1, 3)
    return standardise(np.asarray(X, dtype=np.float64)), Y, W, n


def kind_of(loss):
    return "multinomial" if loss == "multinomial" else (
        "regression" if loss in REGRESSION else "classification")  # fmt: skip


# --- an independent implementation of the primal --------------------------


def loss_and_grad(loss, P, Y, params, mu=0.0):
    """Elementwise loss and derivative in P; ``mu > 0`` smooths the kinks."""
    eps = params[0] if params else 0.0

    def plus(u):  # max(0, u), Huber-smoothed with width mu
        if mu == 0:
            return np.maximum(u, 0.0), (u > 0).astype(float)
        return (np.where(u <= 0, 0.0, np.where(u <= mu, u * u / (2 * mu), u - mu / 2)),
                np.clip(u / mu, 0.0, 1.0))  # fmt: skip

    if loss == "multinomial":
        lse = logsumexp(P, axis=1)
        value = lse - (Y * P).sum(1)
        return value[:, None], np.exp(P - lse[:, None]) - Y
    if loss in REGRESSION:
        r = P - Y
        if loss == "squared_error":
            return 0.5 * r * r, r
        if loss == "huber":
            return np.where(np.abs(r) <= eps, 0.5 * r * r, eps * np.abs(r) - eps**2 / 2), np.clip(r, -eps, eps)
        if loss == "epsilon_insensitive":
            v1, g1 = plus(r - eps)
            v2, g2 = plus(-r - eps)
            return v1 + v2, g1 - g2
        z = np.maximum(np.abs(r) - eps, 0.0)
        return z * z, 2 * z * np.sign(r)
    z = Y * P
    if loss in ("hinge", "perceptron"):
        v, g = plus(params[0] - z)
        return v, -g * Y
    if loss == "squared_hinge":
        m = np.maximum(1 - z, 0.0)
        return m * m, -2 * m * Y
    if loss == "modified_huber":
        v = np.where(z >= 1, 0.0, np.where(z >= -1, (1 - z) ** 2, -4 * z))
        g = np.where(z >= 1, 0.0, np.where(z >= -1, -2 * (1 - z), -4.0))
        return v, g * Y
    return np.logaddexp(0, -z), -expit(-z) * Y


def primal(X, Y, W, n, theta, loss, params, l1, l2, c, mu=0.0):
    P = X @ theta[:, :-1].T + c * theta[:, -1]
    v, _ = loss_and_grad(loss, P, Y, params, mu)
    coef = theta[:, :-1]
    return float((np.broadcast_to(W, v.shape) * v).sum()) / n + l1 * np.abs(coef).sum() + l2 / 2 * (coef**2).sum()


def lbfgs(X, Y, W, n, loss, params, l1, l2, c, k, mu=0.0, x0=None):
    """min over (u, v, b) with coef = u - v (u, v >= 0) when l1 > 0."""
    d = X.shape[1]
    nb = k if c else 0

    def unpack(z):
        if l1 > 0:
            coef = z[: k * d].reshape(k, d) - z[k * d : 2 * k * d].reshape(k, d)
        else:
            coef = z[: k * d].reshape(k, d)
        b = z[len(z) - nb :] if nb else np.zeros(k)
        return coef, b

    def f(z):
        coef, b = unpack(z)
        P = X @ coef.T + c * b
        v, g = loss_and_grad(loss, P, Y, params, mu)
        Wb = np.broadcast_to(W, v.shape)
        G = Wb * g / n
        value = float((Wb * v).sum()) / n + l2 / 2 * (coef**2).sum()
        gc = G.T @ X + l2 * coef
        parts = [gc.ravel()]
        if l1 > 0:
            value += l1 * z[: 2 * k * d].sum()
            parts = [gc.ravel() + l1, -gc.ravel() + l1]
        if nb:
            parts.append(c * G.sum(0))
        return value, np.concatenate(parts)

    size = (2 if l1 > 0 else 1) * k * d + nb
    bounds = [(0, None)] * (2 * k * d) + [(None, None)] * nb if l1 > 0 else None
    z = minimize(f, np.zeros(size) if x0 is None else x0, jac=True, method="L-BFGS-B", bounds=bounds,
                 options={"maxiter": 3000, "maxfun": 6000, "ftol": 0.0, "gtol": 1e-12, "maxcor": 30}).x  # fmt: skip
    coef, b = unpack(z)
    return np.column_stack([coef, b]), z


def lp_reference(X, Y, W, n, loss, params, l1, c):
    """Exact optimum of hinge / epsilon-insensitive with an L1 (or no) penalty."""
    d = X.shape[1]
    w = np.broadcast_to(W, Y.shape)[:, 0]
    rows = np.nonzero(w > 0)[0]
    m = len(rows)
    Xr, yr, wr = X[rows], Y[rows, 0], w[rows]
    # variables: u (d), v (d), b (1), xi (m) [and xi2 (m) for eps-insensitive]
    n_xi = m if loss == "hinge" else 2 * m
    cost = np.concatenate([np.full(2 * d, l1), [0.0], np.tile(wr / n, n_xi // m)])
    if loss == "hinge":  # xi >= t - y (x (u - v) + c b)
        A = np.hstack([-yr[:, None] * Xr, yr[:, None] * Xr, -c * yr[:, None], -np.eye(m)])
        ub = -np.full(m, params[0])
    else:  # xi1 >= (p - y) - eps, xi2 >= (y - p) - eps
        top = np.hstack([Xr, -Xr, c * np.ones((m, 1)), -np.eye(m), np.zeros((m, m))])
        bot = np.hstack([-Xr, Xr, -c * np.ones((m, 1)), np.zeros((m, m)), -np.eye(m)])
        A = np.vstack([top, bot])
        ub = np.concatenate([yr + params[0], -yr + params[0]])
    bounds = [(0, None)] * (2 * d) + [(None, None) if c else (0, 0)] + [(0, None)] * n_xi
    res = linprog(cost, A_ub=A, b_ub=ub, bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})  # fmt: skip
    assert res.status == 0
    z = res.x
    return np.concatenate([z[:d] - z[d : 2 * d], [z[2 * d]]])[None, :]


def smoothed(X, Y, W, n, loss, params, l1, l2, c, k):
    """Huber-smoothed continuation, then (hinge) an exact polish of each output."""
    z = None
    for mu in SMOOTHING:
        theta, z = lbfgs(X, Y, W, n, loss, params, l1, l2, c, k, mu, z)
    if loss != "hinge":
        return theta
    best = theta.copy()
    for j in range(k):
        cand = polish_hinge(X, Y[:, j], np.broadcast_to(W, Y.shape)[:, j], n, theta[j], params[0], l1, l2, c)
        if cand is None:
            continue
        trial = best.copy()
        trial[j] = cand
        if primal(X, Y, W, n, trial, loss, params, l1, l2, c) < primal(X, Y, W, n, best, loss, params, l1, l2, c):
            best = trial
    return best


def polish_hinge(X, y, w, n, theta, t, l1, l2, c):
    """Solve the KKT system on the active set of an approximate optimum:
    margin samples M (y p = t), support S; unknowns coef_S, b, a_M."""
    d = X.shape[1]
    coef, b = theta[:-1], theta[-1]
    z = y * (X @ coef + c * b)
    on = w > 0
    M = np.nonzero(on & (np.abs(z - t) < 5 * SMOOTHING[-1]))[0]
    S = np.nonzero(np.abs(coef) > 1e-8)[0]
    a = np.where(z < t, 1.0, 0.0) * on
    a[M] = 0.0
    m, s = len(M), len(S)
    nb = 1 if c else 0
    size = s + nb + m
    A = np.zeros((m + s + nb, size))
    r = np.zeros(m + s + nb)
    A[:m, :s] = y[M, None] * X[np.ix_(M, S)]
    if c:
        A[:m, s] = y[M] * c
    r[:m] = t
    # l2 coef_S - (1/n) X_S^T (w y a) = -l1 sign_S
    A[m : m + s, :s] = l2 * np.eye(s)
    A[m : m + s, s + nb :] = -(X[np.ix_(M, S)] * (w[M] * y[M])[:, None]).T / n
    r[m : m + s] = -l1 * np.sign(coef[S]) + X[:, S].T @ (w * y * a) / n
    if c:
        A[m + s, s + nb :] = w[M] * y[M]
        r[m + s] = -(w * y * a).sum()
    sol = np.linalg.lstsq(A, r, rcond=None)[0]
    out = np.zeros(d + 1)
    out[S] = sol[:s]
    out[-1] = sol[s] if c else 0.0
    return out


@functools.cache
def reference(loss, penalty, alpha, c):
    """(theta*, P*) computed without the certificate."""
    X, Y, W, n = dataset(kind_of(loss))
    params = PARAMS.get(loss, ())
    l1, l2 = split(penalty, alpha)
    k = Y.shape[1]
    if loss == "perceptron":  # P >= 0 and P(0) = 0
        theta = np.zeros((k, X.shape[1] + 1))
    elif loss in ("hinge", "epsilon_insensitive") and l2 == 0:
        theta = lp_reference(X, Y, W, n, loss, params, l1, c)
    elif loss in ("hinge", "epsilon_insensitive"):
        theta = smoothed(X, Y, W, n, loss, params, l1, l2, c, k)
    else:
        theta, _ = lbfgs(X, Y, W, n, loss, params, l1, l2, c, k)
    return theta, primal(X, Y, W, n, theta, loss, params, l1, l2, c)


def thetas(theta_star, seed):
    rng = np.random.default_rng(seed)
    out = [("optimum", theta_star), ("zero", np.zeros_like(theta_star))]
    for scale in (1e-4, 1e-2, 1.0):
        out.append((f"perturbed{scale}", theta_star + scale * rng.standard_normal(theta_star.shape)))
    out.append(("random", rng.standard_normal(theta_star.shape)))
    sparse_theta = theta_star.copy()
    sparse_theta[:, :-1][np.abs(sparse_theta[:, :-1]) < np.median(np.abs(sparse_theta[:, :-1]))] = 0.0
    out.append(("sparsified", sparse_theta))
    return out


ALL_LOSSES = REGRESSION + CLASSIFICATION + ["multinomial"]


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("c", [0.0, 1.0])
@pytest.mark.parametrize("penalty,alpha", PENALTIES)
@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_gap_bounds_suboptimality(loss, penalty, alpha, c, fmt):
    X, Y, W, n = dataset(kind_of(loss))
    params = PARAMS.get(loss, ())
    l1, l2 = split(penalty, alpha)
    theta_star, p_star = reference(loss, penalty, alpha, c)
    Xf = sp.csr_matrix(X) if fmt == "csr" else X
    for name, theta in thetas(theta_star, 0):
        if not c:
            theta = theta.copy()
            theta[:, -1] = 0.0
        pr, du, gap = duality_gap(Xf, Y, W, n, theta, loss, params, l1, l2, c)
        assert np.isclose(pr, primal(X, Y, W, n, theta, loss, params, l1, l2, c), rtol=1e-12, atol=0)
        # (2) the gap bounds the suboptimality; (3) the dual bounds P*.
        assert gap >= pr - p_star - 1e-9 * abs(p_star), (name, gap, pr - p_star)
        assert du <= p_star + 1e-9 * abs(p_star), (name, du, p_star)
        if name == "optimum":  # (1) tight at the optimum
            tol = 1e-3 if loss in ("hinge", "epsilon_insensitive") else 1e-5
            if loss == "perceptron":
                assert gap == pr == 0.0
            else:
                assert gap <= tol * abs(p_star) + 1e-12, (gap, p_star)


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_hinge", "modified_huber"])
@pytest.mark.parametrize("c", [0.0, 1.0])
def test_one_vs_rest_outputs(loss, c):
    """Three outputs with their own weights (W of shape (n, k))."""
    X, Y, W, n = dataset("ovr")
    params = PARAMS.get(loss, ())
    l1, l2 = 1e-3, 1e-2
    if loss == "hinge":
        theta = smoothed(X, Y, W, n, loss, params, l1, l2, c, 3)
    else:
        theta, _ = lbfgs(X, Y, W, n, loss, params, l1, l2, c, 3)
    p_star = primal(X, Y, W, n, theta, loss, params, l1, l2, c)
    for name, th in thetas(theta, 1):
        if not c:
            th = th.copy()
            th[:, -1] = 0.0
        pr, du, gap = duality_gap(X, Y, W, n, th, loss, params, l1, l2, c)
        assert gap >= pr - p_star - 1e-9 * p_star and du <= p_star * (1 + 1e-9)
        if name == "optimum":
            assert gap <= (1e-3 if loss == "hinge" else 1e-5) * p_star


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_error", "multinomial"])
@pytest.mark.parametrize("fmt", ["dense", "csr", "fortran"])
def test_float32_matches_float64(loss, fmt):
    X, Y, W, n = dataset(kind_of(loss))
    X32 = X.astype(np.float32)
    theta_star, _ = reference(loss, "elasticnet", 1e-2, 1.0)
    theta = theta_star + 1e-2 * np.random.default_rng(0).standard_normal(theta_star.shape)
    # the float32 problem is a (slightly) different problem: compare both
    # certificates on the float32 data, one given float64 copies.
    conv = {"dense": lambda A: A, "csr": sp.csr_matrix, "fortran": np.asfortranarray}[fmt]
    args = (Y, W, n, theta, loss, PARAMS.get(loss, ()), 1.5e-3, 8.5e-3, 1.0)
    r32 = duality_gap(conv(X32), *args)
    r64 = duality_gap(conv(X32.astype(np.float64)), *args)
    np.testing.assert_allclose(r32, r64, rtol=1e-5)
    r64_orig = duality_gap(conv(X), *args)
    np.testing.assert_allclose(r32[2], r64_orig[2], rtol=1e-3)


def test_predictions_given_and_no_penalty():
    X, Y, W, n = dataset("classification")
    theta = np.random.default_rng(0).standard_normal((1, X.shape[1] + 1)) * 0.1
    P = X @ theta[:, :-1].T + theta[:, -1]
    a = duality_gap(X, Y, W, n, theta, "log_loss", (), 1e-3, 1e-3, 1.0)
    b = duality_gap(X, Y, W, n, theta, "log_loss", (), 1e-3, 1e-3, 1.0, P=P)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    pr, du, gap = duality_gap(X, Y, W, n, theta, "log_loss", (), 0.0, 0.0, 1.0)
    assert du == 0.0 and gap == pr  # trivial bound without a penalty


def test_single_class_output_with_intercept():
    """All labels +1: the hinge boxes only sum to 0 at alpha = 0."""
    X, Y, W, n = dataset("classification")
    Y1 = np.ones_like(Y)
    theta = np.zeros((1, X.shape[1] + 1))
    pr, du, gap = duality_gap(X, Y1, W, n, theta, "hinge", (1.0,), 0.0, 1e-2, 1.0)
    assert du == 0.0 and np.isclose(gap, pr)  # P* = 0 there (intercept -> inf)


def test_shift_clip_exact():
    from skgd.objective.certificate.projection import _shift_clip

    rng = np.random.default_rng(0)
    for _ in range(50):
        m = rng.integers(1, 40)
        a = rng.standard_normal(m) * 3
        w = rng.uniform(0.1, 2, m)
        lo = np.where(rng.random(m) < 0.2, -np.inf, -rng.random(m))
        hi = np.where(rng.random(m) < 0.2, np.inf, rng.random(m))
        total = rng.standard_normal() * 0.3
        s = w if rng.random() < 0.5 else None
        out = _shift_clip(a, w, lo, hi, total, scale=s)
        lo_sum, hi_sum = (w * lo).sum(), (w * hi).sum()
        if lo_sum > total or hi_sum < total:
            assert out is None
            continue
        assert out is not None and np.all(out >= lo) and np.all(out <= hi)
        assert abs(w @ out - total) <= 1e-10 * (1 + np.abs(w * a).sum())


@pytest.mark.parametrize("seed", range(4))
def test_shift_clip_matches_sorting(seed):
    """The root finding agrees with sorting every breakpoint, on long
    vectors, scalar and array (and infinite) bounds, ties, warm starts."""
    from skgd.objective.certificate.projection import _shift_clip, _shift_clip_sorted

    rng = np.random.default_rng(seed)
    for trial in range(60):
        m = int(rng.choice([1, 2, 7, 500, 5000]))
        y = np.where(rng.random(m) < 0.5, 1.0, -1.0)
        kind = trial % 5
        if kind == 0:  # hinge: alpha in {0, y}, many equal breakpoints
            top = 1.0
            a = (rng.random(m) < 0.5) * y
        elif kind == 1:  # squared hinge: unbounded on one side
            top = np.inf
            a = np.abs(rng.standard_normal(m)) * y * (rng.random(m) < 0.7)
        elif kind == 2:  # log-loss like, a small residual
            top = 1.0
            a = y * rng.uniform(0.2, 0.8, m)
        if kind <= 2:
            lo, hi = np.minimum(top * y, 0.0), np.maximum(top * y, 0.0)
        elif kind == 3:
            a, lo, hi = rng.standard_normal(m), -0.5, 0.5
        else:
            a, lo, hi = rng.standard_normal(m) * 3, -np.inf, np.inf
        w = rng.uniform(0.1, 2.0, m) if rng.random() < 0.7 else np.ones(m)
        total = float(rng.standard_normal() * 0.3 * np.sqrt(m))
        scale = w if rng.random() < 0.5 else None
        tau = float(rng.standard_normal()) if rng.random() < 0.3 else 0.0
        out = _shift_clip(a, w, lo, hi, total, scale=scale, tau=tau)
        ref = _shift_clip_sorted(a, w, lo, hi, total, scale)
        assert (out is None) == (ref is None), trial
        if out is None:
            continue
        assert np.all(out >= lo) and np.all(out <= hi)
        assert abs(w @ out - total) <= 1e-12 * (1 + np.abs(w * a).sum())
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-9 * (1 + np.abs(ref).max()))


def test_multinomial_intercept_refit_converges(monkeypatch):
    """Far from the optimal intercept on many rows: Newton's steps end on the
    residual (not on the objective, whose decrease is below its rounding:
    that once took 100 steps of 30 halvings each)."""
    from skgd.objective.certificate import multinomial as certificate

    rng = np.random.default_rng(0)
    n, k = 50_000, 10
    P = rng.standard_normal((k, n)) + rng.standard_normal((k, 1))
    Y = np.eye(k)[rng.integers(0, k, n)].T.copy()
    w = rng.uniform(0.5, 2.0, n)
    calls = []
    softmax = certificate._softmax

    def counting(S):
        calls.append(1)
        return softmax(S)

    monkeypatch.setattr(certificate, "_softmax", counting)
    Q, _ = certificate._multinomial_feasible(P, Y, w)
    assert len(calls) <= 15
    np.testing.assert_allclose(Q.sum(axis=0), 1.0, rtol=1e-12)
    assert np.abs(Q @ w - Y @ w).max() <= 1e-11 * w.sum()


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_float32_csr_sums_in_float64(index):
    """The compiled float32 CSR product matches the float64 one."""
    X, Y, W, n = dataset("classification")
    X32 = sp.csr_matrix(X.astype(np.float32))
    X32.indices = X32.indices.astype(index)
    X32.indptr = X32.indptr.astype(index)
    theta = reference("log_loss", "elasticnet", 1e-2, 1.0)[0] + 1e-2
    args = (Y, W, n, theta, "log_loss", (), 1.5e-3, 8.5e-3, 1.0)
    r32 = duality_gap(X32, *args)
    r64 = duality_gap(sp.csr_matrix(X32.astype(np.float64)), *args)
    np.testing.assert_allclose(r32, r64, rtol=1e-12)


@pytest.mark.parametrize("loss", ["log_loss", "squared_hinge", "modified_huber", "hinge"])
@pytest.mark.parametrize("scale", [1e-3, 1.0])
def test_single_class_output_smooth_losses(loss, scale):
    """All labels -1: P* = 0 (the intercept goes to -inf), so the dual must be
    0; the hyperplane's only point in the boxes is alpha = 0 (a flat end of
    the shift's function, once solved to a point off the hyperplane)."""
    X, Y, W, n = dataset("classification")
    Y1 = -np.ones_like(Y)
    theta = np.random.default_rng(0).standard_normal((1, X.shape[1] + 1)) * scale
    pr, du, gap = duality_gap(X, Y1, W, n, theta, loss, PARAMS.get(loss, ()), 1e-3, 1e-2, 1.0)
    assert du <= 1e-12 * pr and gap >= pr * (1 - 1e-12)
