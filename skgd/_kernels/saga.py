"""Compiled SAGA epochs, dense and CSR; called by :mod:`skgd.solvers.saga`,
whose docstring gives the method.

On sparse data a step touches the row's non-zero features only: the other
coefficients move by the same ``-s (mean_j + l2 x_j)`` at every step until
their feature next appears (the mean changes only where a row is non-zero),
a linear recurrence applied in closed form when the feature is next read
("just in time", as scikit-learn's SAG does); with an L1 part the missed
proximal steps are replayed, stopping early once the coefficient sits at
zero for good.
"""

import numba as nb
import numpy as np
from numba import types

from .common import FASTMATH, _prefetch_csr, _soft_threshold, dense_matrix_types
from .lazy import lazy_njit
from .signatures import FLOAT_TYPES, loss_signature


@nb.njit(inline="always")
def _renew(table, i, g, delta):
    # Sample i's new derivatives replace its stored ones; delta is the change.
    for j in range(g.shape[0]):
        delta[j] = g[j] - table[i, j]
        table[i, j] = g[j]


def _saga_signature(ft, x_types):
    return types.void(
        *x_types,
        ft[:, ::1], ft[:, ::1], types.int64[::1],  # Y, W, order
        ft[:, ::1], ft[:, ::1], types.float64[:, ::1],  # theta, table, mean
        types.float64, types.float64,  # step, 1 / n_train
        types.FunctionType(loss_signature(ft)), types.float64[::1],
        types.float64, types.float64, types.float64,  # l2, l1, intercept
    )  # fmt: skip


@lazy_njit(
    [_saga_signature(ft, (x,)) for ft in FLOAT_TYPES for x in dense_matrix_types(ft)],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def dense_saga_epoch(
    X, Y, W, order, theta, table, mean, step, inv_n, loss, loss_params, l2, l1,
    intercept,
):  # fmt: skip
    """One SAGA pass over ``X[order]``; ``table`` and ``mean`` updated in place.

    ``table[i]`` is sample ``i``'s weighted loss derivative when last seen,
    ``mean`` the mean of ``table[i] * [x_i, intercept]`` over the training
    rows (float64: it is a running sum of small corrections).
    """
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=X.dtype)
    g = np.empty(n_outputs, dtype=X.dtype)
    delta = np.empty(n_outputs)
    threshold = step * l1
    for position in range(order.shape[0]):
        i = order[position]
        x = X[i]
        for j in range(n_outputs):
            s = theta[j, d] * intercept
            for f in range(d):
                s += theta[j, f] * x[f]
            p[j] = s
        loss(p, Y[i], W[i], g, loss_params)
        _renew(table, i, g, delta)
        for j in range(n_outputs):
            dj = delta[j]
            for f in range(d):
                w = theta[j, f] - step * (dj * x[f] + mean[j, f] + l2 * theta[j, f])
                theta[j, f] = _soft_threshold(w, threshold) if l1 > 0.0 else w
                mean[j, f] += dj * x[f] * inv_n
            if intercept != 0.0:
                theta[j, d] -= step * (dj * intercept + mean[j, d])
                mean[j, d] += dj * intercept * inv_n


@nb.njit(inline="always")
def _replay_prox_steps(theta, j, f, mean, missed, step, l2, l1):
    # ``missed`` steps of x <- soft(x - step * (mean + l2 x), step * l1) with
    # the same mean, one by one (the L1 path; without L1 the scaled kernel
    # catches up in closed form).
    a = 1.0 - step * l2
    b = step * mean[j, f]
    threshold = step * l1
    w = theta[j, f]
    for _ in range(missed):
        w = _soft_threshold(a * w - b, threshold)
        if w == 0.0 and abs(b) <= threshold:
            break  # zero is a fixed point of the step: it stays there
    theta[j, f] = w


@nb.njit(inline="always")
def _csr_saga_scaled(
    data, indices, indptr, Y, W, order, theta, table, mean, last, step, inv_n,
    loss, loss_params, l2, intercept,
):  # fmt: skip
    # Without L1, the coefficients are ``scale * v`` (``v`` stored in theta):
    # the L2 shrink (1 - step * l2) of every coefficient is one product of
    # ``scale``, and the mean-gradient part of every step adds
    # ``-mean[f] * step / scale`` to ``v[f]``, whose running sum ``sums``
    # catches a feature up in one subtraction (no power, no replay).
    n_outputs, width = theta.shape
    d = width - 1
    n = order.shape[0]
    p = np.empty(n_outputs, dtype=data.dtype)
    g = np.empty(n_outputs, dtype=data.dtype)
    delta = np.empty(n_outputs)
    sums = np.zeros(n + 1)
    shrink = 1.0 - step * l2
    scale = 1.0
    last[:] = 0
    for k in range(n):
        _prefetch_csr(data, indices, indptr, Y, W, order, k)
        i = order[k]
        lo, hi = indptr[i], indptr[i + 1]
        for j in range(n_outputs):
            s = 0.0
            for q in range(lo, hi):
                f = indices[q]
                theta[j, f] -= mean[j, f] * (sums[k] - sums[last[f]])
                s += theta[j, f] * data[q]
            p[j] = scale * s + theta[j, d] * intercept
        loss(p, Y[i], W[i], g, loss_params)
        _renew(table, i, g, delta)
        scale *= shrink
        rate = step / scale
        sums[k + 1] = sums[k] + rate
        for j in range(n_outputs):
            dj = delta[j]
            for q in range(lo, hi):
                f = indices[q]
                theta[j, f] -= rate * (dj * data[q] + mean[j, f])
                mean[j, f] += dj * data[q] * inv_n
            if intercept != 0.0:
                theta[j, d] -= step * (dj * intercept + mean[j, d])
                mean[j, d] += dj * intercept * inv_n
        for q in range(lo, hi):
            last[indices[q]] = k + 1
        if scale < 1e-9 or k == n - 1:  # fold scale into the coefficients
            for f in range(d):
                for j in range(n_outputs):
                    theta[j, f] -= mean[j, f] * (sums[k + 1] - sums[last[f]])
                    theta[j, f] *= scale
                last[f] = k + 1
            scale = 1.0


def _csr_saga_signature(ft, it):
    return types.void(
        ft[::1], it[::1], it[::1],
        ft[:, ::1], ft[:, ::1], types.int64[::1],  # Y, W, order
        ft[:, ::1], ft[:, ::1], types.float64[:, ::1],  # theta, table, mean
        types.int64[::1],  # the step each feature was last brought up to
        types.float64, types.float64,  # step, 1 / n_train
        types.FunctionType(loss_signature(ft)), types.float64[::1],
        types.float64, types.float64, types.float64,  # l2, l1, intercept
    )  # fmt: skip


@lazy_njit(
    [
        _csr_saga_signature(ft, it)
        for ft in FLOAT_TYPES
        for it in (types.int32, types.int64)
    ],
    cache=True,
    nogil=True,
)
def csr_saga_epoch(
    data, indices, indptr, Y, W, order, theta, table, mean, last, step, inv_n,
    loss, loss_params, l2, l1, intercept,
):  # fmt: skip
    """:func:`dense_saga_epoch` on a CSR matrix in O(nnz) per step.

    Coefficient ``f`` has taken every step before ``last[f]``; the rest are
    applied when its feature is next read, and all of them at the end, so
    ``theta`` is exact when the epoch returns.
    """
    if l1 == 0.0:
        _csr_saga_scaled(
            data, indices, indptr, Y, W, order, theta, table, mean, last, step,
            inv_n, loss, loss_params, l2, intercept,
        )  # fmt: skip
        return
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=data.dtype)
    g = np.empty(n_outputs, dtype=data.dtype)
    delta = np.empty(n_outputs)
    threshold = step * l1
    last[:] = 0
    for k in range(order.shape[0]):
        i = order[k]
        lo, hi = indptr[i], indptr[i + 1]
        for j in range(n_outputs):
            s = theta[j, d] * intercept
            for q in range(lo, hi):
                f = indices[q]
                _replay_prox_steps(theta, j, f, mean, k - last[f], step, l2, l1)
                s += theta[j, f] * data[q]
            p[j] = s
        for q in range(lo, hi):
            last[indices[q]] = k + 1  # this step is taken below
        loss(p, Y[i], W[i], g, loss_params)
        _renew(table, i, g, delta)
        for j in range(n_outputs):
            dj = delta[j]
            for q in range(lo, hi):
                f = indices[q]
                w = theta[j, f] - step * (dj * data[q] + mean[j, f] + l2 * theta[j, f])
                theta[j, f] = _soft_threshold(w, threshold) if l1 > 0.0 else w
            for q in range(lo, hi):
                mean[j, indices[q]] += dj * data[q] * inv_n
            if intercept != 0.0:
                theta[j, d] -= step * (dj * intercept + mean[j, d])
                mean[j, d] += dj * intercept * inv_n
    n = order.shape[0]
    for f in range(d):
        for j in range(n_outputs):
            _replay_prox_steps(theta, j, f, mean, n - last[f], step, l2, l1)
