"""The duality gap of a binary log-loss or squared-error fit with an L2 penalty, in one compiled call.

The whole-iteration path of small data
(:func:`skgd._kernels.quasi_newton.lbfgs_iteration`) certifies its fits
here: the certificate of :mod:`skgd.objective.certificate` costs some
100 us of numpy calls on breast_cancer's 569 rows, this a few. It builds
the same dual point (``alpha = -loss'(p)``, shifted onto the intercept's
hyperplane ``sum_i w_i alpha_i = 0``) and the same bound; the numpy
certificate is its test oracle. Where the shift would leave the
conjugate's domain, the rows it pushes out are held at their bound and the
shift solved again with them held; should that still miss the hyperplane,
it returns NaN and the caller takes the numpy certificate, whose search
for the shift is exact.
"""

import math

import numpy as np
from numba import njit, types

from .common import FASTMATH, dense_matrix_types
from .inlined_losses import LOGISTIC, logistic, logistic_conjugate, squared
from .lazy import lazy_njit

_matrix = types.float64[:, ::1]

# The hyperplane's residual allowed, relative to sum_i |w_i alpha_i|: the
# numpy certificate's.
_ROUNDING = 1e-13


@lazy_njit(
    [
        types.UniTuple(types.float64, 2)(
            x, _matrix, _matrix, _matrix, _matrix, types.int64, types.float64,
            types.float64, types.float64,
        )  # fmt: skip
        for x in dense_matrix_types(types.float64)
    ],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def smooth_gap(X, Y, W, P, theta, loss_code, n_train, l2, intercept):
    """``(gap, primal)`` at ``theta`` (one output) with predictions ``P``,
    for the loss ``loss_code`` (:data:`~skgd._kernels.inlined_losses.LOGISTIC`
    or ``SQUARED``), every weight positive and ``l2 > 0``: the primal
    ``(1/n) sum_i w_i loss_i + (l2/2) ||coef||^2`` minus the dual
    ``max(D(alpha), 0)``, ``D = -(1/n) sum_i w_i h(alpha_i) - ||v||^2 /
    (2 l2)`` with ``v = X^T (w alpha) / n``. NaN (and NaN) where the
    shift onto the intercept's hyperplane is not found on the linear piece
    of its first guess."""
    n, d = X.shape
    alpha = np.empty(n)
    loss_sum, weight_sum, weighted_alpha = 0.0, 0.0, 0.0
    for i in range(n):
        w = W[i, 0]
        if loss_code == LOGISTIC:
            value, derivative = logistic(P[i, 0], Y[i, 0], w)
        else:
            value, derivative = squared(P[i, 0], Y[i, 0], w)
        loss_sum += value
        alpha[i] = -derivative / w
        weight_sum += w
        weighted_alpha += derivative
    shift = 0.0
    if intercept != 0.0:
        # The shift onto sum_i w_i clip(alpha_i - shift) = 0: first as if
        # nothing clipped; then solved again on that shift's linear piece,
        # the rows it pushes out of the domain held at their bound (on
        # near-separable data some rows' alpha is 1e-17 from it).
        shift = -weighted_alpha / weight_sum
        if loss_code == LOGISTIC:
            free_weight, free_sum = 0.0, 0.0
            for i in range(n):
                w, bound = W[i, 0], _bound(alpha[i] - shift, Y[i, 0])
                if math.isnan(bound):
                    free_weight += w
                    free_sum += w * alpha[i]
                else:
                    free_sum += w * bound  # held there
            shift = free_sum / free_weight
    conjugate_sum, residual, size = 0.0, 0.0, 0.0
    v = np.zeros(d)
    for i in range(n):
        w, a = W[i, 0], alpha[i] - shift
        if loss_code == LOGISTIC:
            bound = _bound(a, Y[i, 0])
            if not math.isnan(bound):
                a = bound
            conjugate_sum += w * logistic_conjugate(a * Y[i, 0])
        else:
            conjugate_sum += w * a * (0.5 * a - Y[i, 0])
        wa = w * a
        residual += wa
        size += abs(wa)
        x = X[i]
        for c in range(d):
            v[c] += wa * x[c]
    if intercept != 0.0 and abs(residual) > _ROUNDING * size:
        return math.nan, math.nan  # the rows held at a bound changed: clip in numpy
    penalty_conjugate, coef_sq = 0.0, 0.0
    for c in range(d):
        penalty_conjugate += v[c] * v[c]
        coef_sq += theta[0, c] * theta[0, c]
    penalty_conjugate /= 2.0 * l2 * n_train * n_train
    dual = -conjugate_sum / n_train - penalty_conjugate
    primal = loss_sum / n_train + 0.5 * l2 * coef_sq
    return primal - max(dual, 0.0), primal


@njit(inline="always")
def _bound(a, y):
    """The log-loss domain's bound that ``a`` (``a y`` in [0, 1]) passes, NaN inside."""
    u = a * y
    if u < 0.0:
        return 0.0
    if u > 1.0:
        return y  # u = 1
    return math.nan
