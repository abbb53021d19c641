"""The L-BFGS iteration, compiled: the two-loop recursion, and on small data the whole iteration.

:mod:`skgd.solvers.lbfgs` keeps its last pairs ``(s, y)`` in a ring buffer
and asks for ``H g``; in numpy the recursion's ~4 m small vector operations
cost some 60 us an iteration on small data (breast_cancer: a third of an
iteration), here a few (:func:`two_loop`).

On small dense data an iteration's arithmetic is a few tens of
microseconds and its numpy calls (some forty: the products, the line
search's trials, the pair's bookkeeping) cost three times as much:
:func:`lbfgs_iteration` runs the whole iteration in one call, with the
loss of the default fits inlined (:mod:`skgd._kernels.inlined_losses`).
The solver does the same steps in numpy on larger data, where BLAS's
threads and numpy's vectorised losses win.
"""

import math

import numpy as np
from numba import njit, types

from .common import FASTMATH, dense_matrix_types
from .inlined_losses import CALLED, LOGISTIC, logistic, squared
from .lazy import lazy_njit
from .line_search import (
    BEST,
    BEST_VALUE,
    BRACKET_SIZE,
    MAX_TRIALS,
    advance_bracket,
    start_bracket,
)
from .signatures import loss_signature

_vector = types.float64[::1]
_matrix = types.float64[:, ::1]
_blocks = types.float64[:, :, ::1]


@lazy_njit(
    [types.void(_matrix, _matrix, _vector, types.int64, types.int64, _vector,
                _blocks, _matrix, _vector, _vector)],  # fmt: skip
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def two_loop(S, Y, rho, newest, count, g, inverse, inverse_diagonal, alphas, out):
    """``out = H g`` for the L-BFGS estimate ``H`` of the inverse Hessian
    from the ``count`` pairs ending at row ``newest`` of the ring buffers
    ``S`` and ``Y`` (``rho = 1 / s.y``), on the initial metric ``gamma M``.
    A vector is one block of ``p`` entries per output; ``M`` applies to
    block ``b`` the matrix ``inverse[b % len(inverse)]`` (of shape p x p),
    or, when ``inverse`` is empty, the diagonal
    ``inverse_diagonal[b % len(inverse_diagonal)]``; ``gamma = s.y /
    (y . M y)`` of the newest pair (1 without pairs)."""
    _two_loop(S, Y, rho, newest, count, g, inverse, inverse_diagonal, alphas, out)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _two_loop(S, Y, rho, newest, count, g, inverse, inverse_diagonal, alphas, out):
    # two_loop's recursion (see there), also called by lbfgs_iteration.
    # Loops, not array expressions: numba compiled those five times slower.
    memory = S.shape[0]
    for c in range(g.shape[0]):
        out[c] = g[c]
    for k in range(count):
        i = (newest - k) % memory
        a = rho[i] * _dot(S[i], out)
        alphas[i] = a
        _axpy(-a, Y[i], out)
    q = np.empty_like(out)
    for c in range(q.shape[0]):
        q[c] = out[c]
    _apply_metric(inverse, inverse_diagonal, q, out)
    if count > 0:
        y = Y[newest]
        my = np.empty_like(y)
        _apply_metric(inverse, inverse_diagonal, y, my)
        _scale(1.0 / (rho[newest] * _dot(y, my)), out)
    for k in range(count - 1, -1, -1):
        i = (newest - k) % memory
        b = rho[i] * _dot(Y[i], out)
        _axpy(alphas[i] - b, S[i], out)


@njit(inline="always")
def _axpy(a, x, out):
    for c in range(out.shape[0]):
        out[c] += a * x[c]


@njit(inline="always")
def _copy(x, out):
    for c in range(out.shape[0]):
        out[c] = x[c]


@njit(inline="always")
def _scale(a, out):
    for c in range(out.shape[0]):
        out[c] *= a


@njit(inline="always")
def _dot(a, b):
    # A loop, not np.dot: numba's np.dot calls a threaded BLAS, whose
    # hand-offs cost milliseconds on long vectors.
    total = 0.0
    for i in range(a.shape[0]):
        total += a[i] * b[i]
    return total


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _apply_metric(inverse, inverse_diagonal, v, out):
    if inverse.shape[0] == 0:
        size = inverse_diagonal.shape[1]
        for j in range(v.shape[0]):
            b = j // size
            out[j] = inverse_diagonal[b % inverse_diagonal.shape[0], j - b * size] * v[j]
        return
    size = inverse.shape[1]
    for b in range(v.shape[0] // size):
        M = inverse[b % inverse.shape[0]]
        start = b * size
        for r in range(size):
            total = 0.0
            for c in range(size):
                total += M[r, c] * v[start + c]
            out[start + r] = total


_EPS = np.finfo(np.float64).eps


@lazy_njit(
    [
        types.UniTuple(types.float64, 2)(
            x, _matrix, _matrix, _matrix, _matrix, _matrix, _matrix,  # X Y W P G theta grad
            _matrix, _matrix, _vector, _vector, types.int64[::1],  # the memory
            _blocks, _matrix,  # the metric
            types.int64, types.FunctionType(loss_signature(types.float64)), _vector,
            types.float64, types.float64, types.float64, types.float64,
            _blocks, _blocks,  # work space
        )
        for x in dense_matrix_types(types.float64)
    ],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def lbfgs_iteration(
    X, Y, W, P, G, theta, grad, S, Ys, rho, alphas, ring, inverse, inverse_diagonal,
    loss_code, loss, loss_params, intercept, n_train, l2, value, lines, vectors,
):  # fmt: skip
    """One L-BFGS iteration of :mod:`skgd.solvers.lbfgs` on dense float64
    data, in place; returns ``(step, value)`` after it (``step`` 0: no
    decrease was measurable, and nothing changed).

    The direction ``-H grad`` (:func:`two_loop`, or the metric's own step
    when rounding broke the recursion), ``D = [X, c] d``, the strong-Wolfe
    search on ``F(theta + t d)`` from the kept predictions ``P + t D``
    (:mod:`skgd._kernels.line_search`), then at the step: ``theta``, ``P``,
    the loss's derivatives ``G``, the gradient ``grad`` (one product with
    ``X^T``) and the memory's newest pair (``ring`` holds its row and the
    pairs' count). The loss is inlined when ``loss_code`` names one
    (:mod:`skgd._kernels.inlined_losses`), else ``loss`` is called.
    ``lines`` is work space of shape (3, n, k), ``vectors`` (2, k, d + 1).
    """
    k, width = theta.shape
    d = width - 1
    D, trial, trial_G = lines[0], lines[1], lines[2]
    direction, new_grad = vectors[0], vectors[1]
    g, flat = grad.reshape(-1), direction.reshape(-1)
    _two_loop(S, Ys, rho, ring[0], ring[1], g, inverse, inverse_diagonal, alphas, flat)
    _scale(-1.0, flat)
    slope0 = _dot(g, flat)
    if not slope0 < 0:  # rounding broke the recursion: a plain metric step
        ring[1] = 0
        _apply_metric(inverse, inverse_diagonal, g, flat)
        _scale(-1.0, flat)
        slope0 = _dot(g, flat)
    for i in range(X.shape[0]):
        x = X[i]
        for j in range(k):
            D[i, j] = _dot(x, direction[j, :d]) + intercept * direction[j, d]
    coef_dot, dcoef_sq, coef_sq = 0.0, 0.0, 0.0
    for j in range(k):
        coef_dot += _dot(theta[j, :d], direction[j, :d])
        dcoef_sq += _dot(direction[j, :d], direction[j, :d])
        coef_sq += _dot(theta[j, :d], theta[j, :d])
    penalty = np.array([0.5 * l2 * coef_sq, l2, coef_dot, dcoef_sq])

    bracket = np.empty(BRACKET_SIZE)
    if not start_bracket(bracket, value, slope0, 1.0):
        return 0.0, value
    t, evaluated, accepted = 1.0, -1.0, False
    for _ in range(MAX_TRIALS):
        trial_value, slope = _on_line(
            t, P, D, Y, W, trial, trial_G, loss_code, loss, loss_params, n_train, penalty
        )
        evaluated = t
        accepted, t_next = advance_bracket(bracket, t, trial_value, slope)
        if accepted:
            break
        t = t_next
    if not accepted:
        t, trial_value = bracket[BEST], bracket[BEST_VALUE]
        if t == 0.0:
            return 0.0, value
        if evaluated != t:  # the best trial's predictions and derivatives again
            _on_line(
                t, P, D, Y, W, trial, trial_G, loss_code, loss, loss_params, n_train,
                penalty,
            )  # fmt: skip

    # The step: theta, the predictions, the gradient, the memory's pair.
    _copy(trial.reshape(-1), P.reshape(-1))
    _copy(trial_G.reshape(-1), G.reshape(-1))
    _scale(t, flat)  # now the step s
    _axpy(1.0, flat, theta.reshape(-1))
    y = new_grad.reshape(-1)
    y[:] = 0.0  # (not a scaling by 0: the work space may hold NaN)
    for i in range(X.shape[0]):
        x = X[i]
        for j in range(k):
            gij, row = trial_G[i, j], new_grad[j]
            for c in range(d):  # (a loop: an array expression allocates)
                row[c] += gij * x[c]
            row[d] += gij
    for j in range(k):
        for c in range(d):
            new_grad[j, c] = new_grad[j, c] / n_train + l2 * theta[j, c]
        new_grad[j, d] *= intercept / n_train
    _axpy(-1.0, g, y)  # the gradient's change along s
    _axpy(1.0, y, g)  # the new gradient, in place
    curvature = _dot(flat, y)
    if curvature > _EPS * _dot(y, y):  # else rounding: keep the old pairs
        newest = (ring[0] + 1) % S.shape[0]
        _copy(flat, S[newest])
        _copy(y, Ys[newest])
        rho[newest] = 1.0 / curvature
        ring[0], ring[1] = newest, min(ring[1] + 1, S.shape[0])
    return t, trial_value


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _on_line(t, P, D, Y, W, trial, trial_G, loss_code, loss, loss_params, n_train, penalty):
    """``F(theta + t d)`` and its slope in ``t``, from ``P + t D`` (into
    ``trial``, the loss's derivatives into ``trial_G``): no pass over X.
    ``penalty`` holds the penalty at ``theta``, the L2 strength, ``coef . d``
    and ``||d||^2`` (the coefficients' parts)."""
    base, l2, coef_dot, dcoef_sq = penalty[0], penalty[1], penalty[2], penalty[3]
    total, slope = 0.0, 0.0
    k, shared = P.shape[1], W.shape[1] == 1
    for i in range(P.shape[0]):
        for j in range(k):
            trial[i, j] = P[i, j] + t * D[i, j]
        if loss_code == CALLED:
            total += loss(trial[i], Y[i], W[i], trial_G[i], loss_params)
        else:
            for j in range(k):
                w = W[i, 0] if shared else W[i, j]
                if loss_code == LOGISTIC:
                    value, derivative = logistic(trial[i, j], Y[i, j], w)
                else:  # SQUARED
                    value, derivative = squared(trial[i, j], Y[i, j], w)
                total += value
                trial_G[i, j] = derivative
        for j in range(k):
            slope += trial_G[i, j] * D[i, j]
    value = total / n_train + base + l2 * (t * coef_dot + 0.5 * t * t * dcoef_sq)
    return value, slope / n_train + l2 * (coef_dot + t * dcoef_sq)


@lazy_njit(
    [
        types.UniTuple(types.float64, 2)(
            _matrix, _matrix, _matrix, _matrix, types.int64, types.float64,
            types.float64, types.float64, types.float64, types.int64,
        )  # fmt: skip
    ],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def settle_intercept(Y, W, P, G, loss_code, intercept, n_train, penalty, value, max_steps):
    """The intercept minimised alone by Newton's steps on the predictions
    ``P`` (one output; ``G`` the loss's weighted derivatives there), the
    loss inlined (``loss_code`` LOGISTIC or SQUARED): see
    :meth:`skgd.solvers.lbfgs.LbfgsSolver._settle_intercept` for why. A
    step is kept only if it lowers the objective, ``value`` now
    (``penalty`` its coefficients' part, which the steps leave alone); ``P``
    and ``G`` follow in place. Returns ``(value, shift)``: the objective
    after, and the change of the intercept's parameter."""
    n = P.shape[0]
    c = intercept
    trial_G = np.empty(n)
    shift = 0.0
    for _ in range(max_steps):
        slope, curvature = 0.0, 0.0
        for i in range(n):
            slope += G[i, 0]
            if loss_code == LOGISTIC:
                # sigmoid(-z) = -g / (w y), from the kept derivative: no exp
                if W[i, 0] > 0.0:  # (held-out rows weigh nothing)
                    s = -G[i, 0] * Y[i, 0] / W[i, 0]
                    curvature += W[i, 0] * s * (1.0 - s)
            else:
                curvature += W[i, 0]
        slope *= c / n_train
        curvature *= c * c / n_train
        if not curvature > 0.0:
            break
        delta = -slope / curvature
        if slope * delta > -_ROUNDING * abs(value):
            break  # Newton's decrease would be rounding: settled
        total = 0.0
        for i in range(n):
            p = P[i, 0] + c * delta
            if loss_code == LOGISTIC:
                loss, trial_G[i] = logistic(p, Y[i, 0], W[i, 0])
            else:
                loss, trial_G[i] = squared(p, Y[i, 0], W[i, 0])
            total += loss
        trial_value = total / n_train + penalty
        if not trial_value < value:
            break
        for i in range(n):
            P[i, 0] += c * delta
            G[i, 0] = trial_G[i]
        value = trial_value
        shift += delta
    return value, shift


# A Newton step whose promised decrease is below this many units of the
# value's rounding is not taken.
_ROUNDING = 16 * _EPS


@lazy_njit(
    [types.boolean(_matrix, _matrix)], cache=True, nogil=True, fastmath=FASTMATH
)
def spd_inverse(B, out):
    """``out = B^{-1}`` for a small symmetric positive definite ``B``, from
    its Cholesky factor ``L`` (``B^{-1} = L^{-T} L^{-1}``), exactly
    symmetric; False (``out`` undefined) where a pivot is not above
    ``1e-13`` of its diagonal entry: ``B`` is not definite beyond rounding,
    and the caller's jittered LAPACK route decides. For the quasi-Newton
    metric, rebuilt a few times a fit: 32 x 32 in 14 us against 27 for
    LAPACK's factorisation and inverse through numpy."""
    n = B.shape[0]
    L = np.zeros((n, n))
    for j in range(n):
        pivot = B[j, j]
        for k in range(j):
            pivot -= L[j, k] * L[j, k]
        if not pivot > 1e-13 * B[j, j]:
            return False
        root = math.sqrt(pivot)
        L[j, j] = root
        for i in range(j + 1, n):
            total = B[i, j]
            for k in range(j):
                total -= L[i, k] * L[j, k]
            L[i, j] = total / root
    inverse_L = np.zeros((n, n))  # lower triangular
    for j in range(n):
        inverse_L[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, n):
            total = 0.0
            for k in range(j, i):
                total -= L[i, k] * inverse_L[k, j]
            inverse_L[i, j] = total / L[i, i]
    for r in range(n):
        for c in range(r, n):
            total = 0.0
            for k in range(c, n):
                total += inverse_L[k, r] * inverse_L[k, c]
            out[r, c] = total
            out[c, r] = total
    return True
