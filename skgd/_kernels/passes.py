"""Compiled passes over the whole data: the objective, its gradient, row norms.

One pass computes the weighted losses and, fused into the same sweep over
the rows, their gradient (half the memory traffic of ``X @ theta.T`` then
``X.T @ G``). :class:`skgd.objective.Objective` runs them over row blocks in
threads; the curvature estimates (:mod:`skgd.objective.curvature`) use the
row-norm pass.
"""

import numpy as np
from numba import types

from .common import (
    FASTMATH,
    SPARSE_FASTMATH,
    _sparse_add,
    _sparse_dot,
    dense_matrix_types,
)
from .lazy import lazy_njit
from .signatures import FLOAT_TYPES, loss_signature


@lazy_njit(
    [
        types.float64(
            ft[:, ::1],
            ft[:, ::1],
            ft[:, ::1],
            ft[:, ::1],
            types.FunctionType(loss_signature(ft)),
            types.float64[::1],
        )  # fmt: skip
        for ft in FLOAT_TYPES
    ],
    cache=True,
    nogil=True,
)
def loss_rows(P, Y, W, G, loss, loss_params):
    """Weighted loss of every row of predictions ``P``; derivatives into ``G``."""
    total = 0.0
    for i in range(P.shape[0]):
        total += loss(P[i], Y[i], W[i], G[i], loss_params)
    return total


def _objective_signature(ft, x_types):
    return types.float64(
        # Y, W, theta, and the gradient, accumulated in float64 whatever the data
        *x_types, ft[:, ::1], ft[:, ::1], ft[:, ::1], types.float64[:, ::1],
        types.FunctionType(loss_signature(ft)), types.float64[::1],
        types.float64, types.boolean,  # intercept, with_gradient
    )  # fmt: skip


@lazy_njit(
    [
        _objective_signature(ft, (x,))
        for ft in FLOAT_TYPES
        for x in dense_matrix_types(ft)
    ],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def dense_loss_and_gradient(
    X, Y, W, theta, grad, loss, loss_params, intercept, with_gradient
):
    """Sum of the weighted losses at ``theta``; the sum of their gradients into ``grad``.

    One sequential pass over ``X`` does what ``X @ theta.T`` then
    ``X.T @ G`` do in two, which halves the memory traffic that bounds a
    full-batch iteration. Without ``with_gradient``, only the losses (and
    ``grad`` is left alone).
    """
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=X.dtype)
    g = np.empty(n_outputs, dtype=X.dtype)
    if with_gradient:
        grad[:] = 0.0
    total = 0.0
    for i in range(X.shape[0]):
        x = X[i]
        for j in range(n_outputs):
            s = theta[j, d] * intercept
            for f in range(d):
                s += theta[j, f] * x[f]
            p[j] = s
        total += loss(p, Y[i], W[i], g, loss_params)
        if not with_gradient:
            continue
        for j in range(n_outputs):
            gj = g[j]
            if gj != 0.0:
                for f in range(d):
                    grad[j, f] += gj * x[f]
                grad[j, d] += gj * intercept
    return total


@lazy_njit(
    [
        _objective_signature(ft, (ft[::1], it[::1], it[::1]))
        for ft in FLOAT_TYPES
        for it in (types.int32, types.int64)
    ],
    cache=True,
    nogil=True,
    fastmath=SPARSE_FASTMATH,
)
def csr_loss_and_gradient(
    data, indices, indptr, Y, W, theta, grad, loss, loss_params, intercept,
    with_gradient,
):  # fmt: skip
    """:func:`dense_loss_and_gradient` for a CSR matrix given by its three arrays."""
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=data.dtype)
    g = np.empty(n_outputs, dtype=data.dtype)
    if with_gradient:
        grad[:] = 0.0
    total = 0.0
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        for j in range(n_outputs):
            s = theta[j, d] * intercept
            p[j] = s + _sparse_dot(theta[j], data, indices, lo, hi)
        total += loss(p, Y[i], W[i], g, loss_params)
        if not with_gradient:
            continue
        for j in range(n_outputs):
            gj = g[j]
            if gj != 0.0:
                _sparse_add(grad[j], gj, data, indices, lo, hi)
                grad[j, d] += gj * intercept
    return total


@lazy_njit(
    [
        types.void(data, it[::1], types.float64[::1])
        for ft in FLOAT_TYPES
        for data in (ft[::1], types.Array(ft, 1, "C", readonly=True))
        for it in (types.int32, types.int64)
    ],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def csr_squared_row_norms(data, indptr, out):
    """``out[i] = sum(data[indptr[i]:indptr[i + 1]] ** 2)`` in float64: the
    squared norms of CSR rows, without the copy of ``data`` that squaring it
    with numpy makes (200k x 50k tf-idf rows: 5 against 25 ms in threads)."""
    for i in range(indptr.shape[0] - 1):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            v = np.float64(data[k])
            s += v * v
        out[i] = s


@lazy_njit(
    [
        types.void(it[::1], it[::1], types.float32[::1], types.float64[:, ::1],
                   types.float64[:, ::1])  # fmt: skip
        for it in (types.int32, types.int64)
    ],
    cache=True,
    nogil=True,
)
def csr_transpose_product(indptr, indices, data, A, out):
    """``out += X^T A`` for a float32 CSR ``X``, summed in float64 without a
    float64 copy of ``X`` (the certificate's product: float32 sums moved the
    gap by 1e-9 to 1e-8 of the objective)."""
    k = A.shape[1]
    for i in range(A.shape[0]):
        for p in range(indptr[i], indptr[i + 1]):
            col = indices[p]
            x = np.float64(data[p])
            for j in range(k):
                out[col, j] += x * A[i, j]


@lazy_njit(
    [
        types.float64(array)
        for array in (types.float64[::1], types.Array(types.float64, 1, "C", readonly=True))
    ],
    cache=True,
    nogil=True,
)
def sum_of_squares(values):
    """``sum(values ** 2)``, overflowing to inf silently: what numpy's dot
    does in a microsecond, without the RuntimeWarning numpy raises for the
    overflow (divergence is judged on the result)."""
    s = 0.0
    for v in values:
        s += v * v
    return s
