"""Compiled SDCA passes, dense and CSR; called by :mod:`skgd.solvers.sdca`,
whose docstring gives the method.

One call runs passes over each output's active rows (shuffled in the kernel
by a small generator whose state the solver keeps) until a budget of
coordinate visits is spent: on small data, or once shrinking has left few
rows active, a call per pass would cost far more in Python than the pass
itself (breast_cancer's hinge ends with 19 of 569 rows active).
"""

import numba as nb
import numpy as np
from numba import types

from .common import (
    FASTMATH,
    SPARSE_FASTMATH,
    _prefetch_csr,
    _soft_threshold,
    _sparse_add,
    _sparse_dot,
    dense_matrix_types,
)
from .lazy import lazy_njit
from .signatures import FLOAT_TYPES

# Loss codes. An integer and an if-chain per coordinate step: the branch is
# the same at every step (perfectly predicted) and the closed forms inline
# into the kernel, at the price of one compiled kernel holding every loss.
# (The first-class-function variant the primal kernels use was not measured
# here; it would cost an indirect call per step, which matters on the
# breast_cancer-sized rows where a step is ~30 multiply-adds.)
SQUARED_ERROR = 0
HUBER = 1
EPSILON_INSENSITIVE = 2
SQUARED_EPSILON_INSENSITIVE = 3
HINGE = 4
SQUARED_HINGE = 5
MODIFIED_HUBER = 6
LOG_LOSS = 7

LOSS_CODES = {
    "squared_error": SQUARED_ERROR,
    "huber": HUBER,
    "epsilon_insensitive": EPSILON_INSENSITIVE,
    "squared_epsilon_insensitive": SQUARED_EPSILON_INSENSITIVE,
    "hinge": HINGE,
    "perceptron": HINGE,  # hinge with threshold 0
    "squared_hinge": SQUARED_HINGE,
    "modified_huber": MODIFIED_HUBER,
    "log_loss": LOG_LOSS,
}
CLASSIFICATION = (HINGE, SQUARED_HINGE, MODIFIED_HUBER, LOG_LOSS)

# The least work (multiply-adds) of a kernel call: see solvers.sdca.
MIN_CALL_WORK = 2e5

# A zero row without intercept has no curvature: its step is then the limit
# q -> 0+, which these closed forms reach through inf/clipping.
_TINY_CURVATURE = 1e-300


# --- one coordinate step ----------------------------------------------------


@nb.njit(inline="always")
def _clip(a, lo, hi):
    return lo if a < lo else (hi if a > hi else a)


@nb.njit(inline="always")
def _sigmoid(t):
    # 1 / (1 + exp(-t)) without overflow.
    if t >= 0.0:
        return 1.0 / (1.0 + np.exp(-t))
    e = np.exp(t)
    return e / (1.0 + e)


@nb.njit(inline="always")
def _log_loss_step(beta0, z, q):
    """The maximiser over ``beta`` in (0, 1) of
    ``H(beta) - (beta - beta0) z - (q/2)(beta - beta0)^2``,
    ``H`` the binary entropy (the logistic loss's negated conjugate).

    Solved in ``t = logit(beta)``, where stationarity reads
    ``g(t) = t + z + q (sigmoid(t) - beta0) = 0``: ``g`` increases
    (``g' = 1 + q s(1-s) >= 1``) and its root lies in
    ``[-z - q (1 - beta0), -z + q beta0]`` (``sigmoid`` is in (0, 1)).
    Newton's steps are kept inside that shrinking bracket (a bisection
    replaces any step that leaves it), so the solve cannot diverge, and
    ``beta = sigmoid(t)`` stays strictly inside the conjugate's open domain
    (but for underflow beyond |t| > 700, where the entropy is 0 anyway).
    A warm start (the previous ``beta``) needs one to three steps.
    """
    lo = -z - q * (1.0 - beta0)
    hi = -z + q * beta0
    if beta0 <= 0.0:
        t = lo
    elif beta0 >= 1.0:
        t = hi
    else:
        t = _clip(np.log(beta0) - np.log1p(-beta0), lo, hi)
    for _ in range(50):
        s = _sigmoid(t)
        g = t + z + q * (s - beta0)
        if g > 0.0:
            hi = t
        elif g < 0.0:
            lo = t
        else:
            break
        step = g / (1.0 + q * s * (1.0 - s))
        new = t - step
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - t) <= 1e-13 * (1.0 + abs(t)):
            t = new
            break
        t = new
    return _sigmoid(t)


@nb.njit(inline="always")
def _step(code, y, a0, p, q, params):
    """The new dual variable of one sample and output.

    Maximises ``-phi*(-a) - (a - a0) p - (q/2)(a - a0)^2`` over ``a``:
    ``p`` is the current prediction, ``q`` the step's curvature. For the
    margin losses the variable is ``beta = a y`` (``a = -phi'(p)``, so
    ``beta = -l'(z)``, ``z = y p``); for regression ``a`` itself, with the
    residual taken as ``y - p``.
    """
    if code == HINGE:
        # -l*(-beta) = t beta on [0, 1]: clip the Newton step. (t = 0, the
        # perceptron, has the same box.)
        z = y * p
        return y * _clip(a0 * y + (params[0] - z) / q, 0.0, 1.0)
    if code == SQUARED_HINGE:
        # -l*(-beta) = beta - beta^2/4 on [0, inf): exact quadratic step.
        z = y * p
        b0 = a0 * y
        return y * max(0.0, b0 + (1.0 - z - 0.5 * b0) / (q + 0.5))
    if code == MODIFIED_HUBER:
        # Same conjugate as the squared hinge, on the box [0, 4] (the
        # slope-4 linear tail below z = -1).
        z = y * p
        b0 = a0 * y
        return y * _clip(b0 + (1.0 - z - 0.5 * b0) / (q + 0.5), 0.0, 4.0)
    if code == LOG_LOSS:
        return y * _log_loss_step(a0 * y, y * p, q)
    if code == SQUARED_ERROR:
        # -phi*(-a) = a y - a^2/2.
        return a0 + (y - p - a0) / (1.0 + q)
    if code == HUBER:
        # As squared error, on the box [-eps, eps].
        eps = params[0]
        return _clip(a0 + (y - p - a0) / (1.0 + q), -eps, eps)
    if code == EPSILON_INSENSITIVE:
        # -phi*(-a) = a y - eps |a| on [-1, 1]: soft-threshold then clip.
        eps = params[0]
        up = a0 + (y - p - eps) / q
        if up > 0.0:
            return min(up, 1.0)
        down = a0 + (y - p + eps) / q
        if down < 0.0:
            return max(down, -1.0)
        return 0.0
    # SQUARED_EPSILON_INSENSITIVE: -phi*(-a) = a y - eps |a| - a^2/4.
    eps = params[0]
    r = y - p + q * a0
    if r > eps:
        return (r - eps) / (q + 0.5)
    if r < -eps:
        return (r + eps) / (q + 0.5)
    return 0.0


# --- the epoch kernels ------------------------------------------------------
#
# One call runs passes over each output's active rows until ``budget``
# coordinate visits are spent, or the output's active problem has converged
# in liblinear's sense. The caller computes the duality gap between calls,
# so a gap pass (one full pass over X) is paid for by at least a full
# pass's worth of steps even when shrinking has left few rows active: on
# standardised breast_cancer the hinge ends with 19 of 569 rows active, and
# a per-epoch gap (or a per-epoch Python call) then cost 50-100x the epochs
# themselves. The passes therefore shuffle in the kernel (xorshift, state
# owned by the caller) instead of taking a permutation per epoch.


@nb.njit(inline="always")
def _xorshift(state):
    # xorshift64*: a tiny deterministic generator whose state the caller
    # seeds and keeps (no global numba RNG state, reproducible per fit).
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(2685821657736338717)


@nb.njit(inline="always")
def _shuffle(index, j, m, state):
    # Fisher-Yates on index[j, :m] (modulo bias < m / 2**64: negligible).
    for a in range(m - 1, 0, -1):
        r = np.int64(_xorshift(state) % np.uint64(a + 1))
        t = index[j, a]
        index[j, a] = index[j, r]
        index[j, r] = t


@nb.njit(inline="always")
def _shrink_test(a, y, p, threshold, pg, j):
    """liblinear's shrinking test for the hinge (``solve_l2r_l1l2_svc``).

    ``G = y p - t`` is the dual gradient (in liblinear's minimisation sign)
    up to the positive factor ``W_i / n``. A variable at a bound whose
    gradient pushes it further out than the previous pass's largest
    violation (``pg[0, j]``, ``pg[1, j]``) is taken out of the active set:
    it would not move, and is unlikely to move before the active problem
    converges. Returns True to shrink; otherwise records the projected
    gradient's extremes in ``pg[2, j]``, ``pg[3, j]``.
    """
    G = y * p - threshold
    beta = a * y
    PG = G
    if beta <= 0.0:
        if G > pg[0, j]:
            return True
        PG = min(G, 0.0)
    elif beta >= 1.0:
        if G < pg[1, j]:
            return True
        PG = max(G, 0.0)
    pg[2, j] = max(pg[2, j], PG)
    pg[3, j] = min(pg[3, j], PG)
    return False


@nb.njit(inline="always")
def _shrink_test_insensitive(a, y, p, eps, pg, j):
    """liblinear's shrinking test for the epsilon-insensitive loss
    (``solve_l2r_l1l2_svr``), with ``r = p - y`` its dual gradient.

    ``a`` at 0 with the residual well inside the tube, or at a bound with the
    residual well outside it on that side, by more than the previous pass's
    largest violation (``pg[0, j]``), is taken out of the active set. The
    violation (the projected gradient's size) goes into ``pg[2, j]`` and its
    negative into ``pg[3, j]``, so that :func:`_end_of_pass` reads their
    spread as twice the largest violation.
    """
    r = p - y
    above, below = r + eps, r - eps  # liblinear's Gp and Gn
    threshold = pg[0, j]
    violation = 0.0
    if a == 0.0:
        if above < 0.0:
            violation = -above
        elif below > 0.0:
            violation = below
        elif above > threshold and below < -threshold:
            return True
    elif a >= 1.0:
        if above > 0.0:
            violation = above
        elif above < -threshold:
            return True
    elif a <= -1.0:
        if below < 0.0:
            violation = -below
        elif below > threshold:
            return True
    elif a > 0.0:
        violation = abs(above)
    else:
        violation = abs(below)
    pg[2, j] = max(pg[2, j], violation)
    pg[3, j] = min(pg[3, j], -violation)
    return False


@nb.njit(inline="always")
def _shrinks(code, a, y, p, threshold, pg, j):
    # The shrinking test of the loss (the solver shrinks these two only).
    if code == EPSILON_INSENSITIVE:
        return _shrink_test_insensitive(a, y, p, threshold, pg, j)
    return _shrink_test(a, y, p, threshold, pg, j)


@nb.njit(inline="always")
def _end_of_pass(pg, j, m, n_rows, pg_eps):
    """liblinear's bookkeeping after a pass; returns (new m, converged).

    The pass's extremes become the next pass's shrinking thresholds
    (infinite when of the wrong sign, as in liblinear, so that shrinking
    waits for a violation of that side). Converged: the projected gradients
    of the active rows span at most ``pg_eps``. The call then ends, and all
    rows come back for the next one; liblinear would first confirm on a
    full pass, but the caller's duality gap, a pass over all rows anyway,
    is the confirmation (sparse 2e4 x 5e3 hinge: 7.5 -> 6.8 ms).
    """
    pg[0, j] = pg[2, j] if pg[2, j] > 0.0 else np.inf
    pg[1, j] = pg[3, j] if pg[3, j] < 0.0 else -np.inf
    if pg[2, j] - pg[3, j] <= pg_eps:
        return n_rows, True
    return m, False


def _sdca_signature(ft, x_types):
    return types.int64(
        *x_types,
        ft[:, ::1], ft[:, ::1],  # Y, W
        types.int64[:, ::1], types.int64[::1], types.int64,  # index, m, n_rows
        types.float64[::1],  # squared row norms
        types.float64[:, ::1],  # alpha (n, k)
        types.float64[:, ::1], types.float64[:, ::1],  # v, w (k, d)
        types.float64[::1],  # b (k,): theta[:, -1]
        types.int64, types.float64[::1],  # loss code, its params
        types.float64, types.float64,  # l1 / l2, 1 / (l2 n)
        types.float64, types.float64,  # intercept c, 1 / (mu n)
        types.boolean, types.float64[:, ::1], types.float64,  # shrinking, pg, pg_eps
        types.int64, types.uint64[::1],  # budget, generator state
    )  # fmt: skip




@lazy_njit(
    [_sdca_signature(ft, (x,)) for ft in FLOAT_TYPES for x in dense_matrix_types(ft)],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def dense_sdca_passes(
    X, Y, W, index, m, n_rows, sqnorm, alpha, v, w, b, code, params, lam,
    inv_l2n, c, inv_mun, shrinking, pg, pg_eps, budget, state,
):  # fmt: skip
    """SDCA passes over the rows of a C-contiguous ``X``, each output in turn.

    Parameters
    ----------
    X : ndarray (n, d), float32 or float64
    Y, W : ndarray (n, k) and (n, k) or (n, 1), X's dtype
        Encoded targets (-1/+1 for classification) and normalised weights.
    index : ndarray (k, n_rows) int64
        Per output, its rows of positive weight; the first ``m[j]`` are
        active. Shuffled in place at every pass; shrinking swaps a shrunk
        row past the active end (liblinear's layout).
    m : ndarray (k,) int64
        Active sizes, updated in place.
    n_rows : int
        The rows each output has (``index``'s used width).
    sqnorm : ndarray (n,) float64
        ``||x_i||^2``.
    alpha : ndarray (n, k) float64
        Dual variables, updated in place.
    v, w : ndarray (k, d) float64
        The primal-dual map ``v = (1/(l2 n)) sum_i W_i alpha_i x_i`` and the
        coefficients ``w = soft(v, lam)``, updated in place. With
        ``lam == 0`` ``w`` is not touched (``v`` is the coefficients).
    b : ndarray (k,) float64
        Intercept weights; move by ``c W_i dalpha / (mu n)`` per step.
    code : int
        Loss code (``LOSS_CODES``); ``params`` its constants.
    lam : float
        ``l1 / l2``, the soft-threshold of the prox-SDCA map.
    inv_l2n, inv_mun : float
        ``1 / (l2 n_train)`` and ``1 / (mu n_train)`` (0 without intercept).
    c : float
        The intercept scaling (0: no intercept).
    shrinking : bool
        liblinear's shrinking (hinge only); ``pg`` (4, k) its thresholds
        and extremes, kept between calls, ``pg_eps`` its convergence test
        (see :func:`_end_of_pass`).
    budget : int
        Row visits per output after which the call returns (at the end of
        a pass).
    state : ndarray (1,) uint64
        The shuffle's generator state (nonzero), updated in place.

    Returns
    -------
    int
        The number of outputs whose active problem converged (shrinking
        only; else 0).
    """
    k, d = v.shape
    per_output_weight = W.shape[1] > 1
    coef = v if lam == 0.0 else w
    c2_inv_mun = c * c * inv_mun
    threshold = params[0]
    converged = 0
    for j in range(k):
        visits = 0
        while visits < budget:
            mj = m[j]
            _shuffle(index, j, mj, state)
            pg[2, j] = -np.inf
            pg[3, j] = np.inf
            pos = 0
            while pos < mj:
                i = index[j, pos]
                visits += 1
                wij = np.float64(W[i, j] if per_output_weight else W[i, 0])
                if wij == 0.0:  # held out for this output (per-output weights)
                    pos += 1
                    continue
                s = 0.0
                x = X[i]
                for f in range(d):
                    s += x[f] * coef[j, f]
                p = s + c * b[j]
                y = np.float64(Y[i, j])
                a0 = alpha[i, j]
                if shrinking and _shrinks(code, a0, y, p, threshold, pg, j):
                    mj -= 1
                    index[j, pos] = index[j, mj]
                    index[j, mj] = i
                    continue
                pos += 1
                q = wij * (sqnorm[i] * inv_l2n + c2_inv_mun)
                a = _step(code, y, a0, p, max(q, _TINY_CURVATURE), params)
                delta = a - a0
                if delta == 0.0:
                    continue
                alpha[i, j] = a
                scale = wij * delta * inv_l2n
                if lam == 0.0:
                    for f in range(d):
                        v[j, f] += scale * x[f]
                else:
                    for f in range(d):
                        vf = v[j, f] + scale * x[f]
                        v[j, f] = vf
                        w[j, f] = _soft_threshold(vf, lam)
                b[j] += c * wij * delta * inv_mun
            m[j] = mj
            if shrinking:
                m[j], done = _end_of_pass(pg, j, mj, n_rows, pg_eps)
                if done:
                    converged += 1
                    break
    return converged


def _csr_signature(ft, it):
    return _sdca_signature(ft, (ft[::1], it[::1], it[::1]))


@lazy_njit(
    [_csr_signature(ft, it) for ft in FLOAT_TYPES for it in (types.int32, types.int64)],
    cache=True,
    nogil=True,
    fastmath=SPARSE_FASTMATH,
)
def csr_sdca_passes(
    data, indices, indptr, Y, W, index, m, n_rows, sqnorm, alpha, v, w, b,
    code, params, lam, inv_l2n, c, inv_mun, shrinking, pg, pg_eps, budget,
    state,
):  # fmt: skip
    """:func:`dense_sdca_passes` on a CSR matrix, O(nnz of the row) per step.

    Unlike primal SGD on sparse rows there is nothing to catch up lazily: a
    dual step changes ``v`` (and ``w = soft(v)``) on the row's non-zeros
    only, and the L2 part never shrinks the other coefficients. (The
    project's CSR kernels prefetch rows ahead and use unsigned positions;
    both apply here unchanged.)
    """
    k, d = v.shape
    per_output_weight = W.shape[1] > 1
    coef = v if lam == 0.0 else w
    c2_inv_mun = c * c * inv_mun
    threshold = params[0]
    converged = 0
    for j in range(k):
        visits = 0
        while visits < budget:
            mj = m[j]
            _shuffle(index, j, mj, state)
            pg[2, j] = -np.inf
            pg[3, j] = np.inf
            pos = 0
            while pos < mj:
                i = index[j, pos]
                _prefetch_csr(data, indices, indptr, Y, W, index[j, :mj], pos)
                visits += 1
                wij = np.float64(W[i, j] if per_output_weight else W[i, 0])
                if wij == 0.0:  # held out for this output (per-output weights)
                    pos += 1
                    continue
                lo, hi = indptr[i], indptr[i + 1]
                s = _sparse_dot(coef[j], data, indices, lo, hi)
                p = s + c * b[j]
                y = np.float64(Y[i, j])
                a0 = alpha[i, j]
                if shrinking and _shrinks(code, a0, y, p, threshold, pg, j):
                    mj -= 1
                    index[j, pos] = index[j, mj]
                    index[j, mj] = i
                    continue
                pos += 1
                q = wij * (sqnorm[i] * inv_l2n + c2_inv_mun)
                a = _step(code, y, a0, p, max(q, _TINY_CURVATURE), params)
                delta = a - a0
                if delta == 0.0:
                    continue
                alpha[i, j] = a
                scale = wij * delta * inv_l2n
                if lam == 0.0:
                    _sparse_add(v[j], scale, data, indices, lo, hi)
                else:
                    for t in range(lo, hi):
                        f = indices[t]
                        vf = v[j, f] + scale * data[t]
                        v[j, f] = vf
                        w[j, f] = _soft_threshold(vf, lam)
                b[j] += c * wij * delta * inv_mun
            m[j] = mj
            if shrinking:
                m[j], done = _end_of_pass(pg, j, mj, n_rows, pg_eps)
                if done:
                    converged += 1
                    break
    return converged
