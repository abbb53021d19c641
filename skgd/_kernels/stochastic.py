"""Compiled epochs of the stochastic solvers: online and mini-batch steps.

One call walks a whole epoch. The loss and the update rule arrive as
first-class functions with fixed signatures (``signatures``), so one kernel
serves every combination and stays in numba's on-disk cache; each signature
compiles at its first use (``lazy``). Parameters are one array ``theta`` of
shape ``(n_outputs, n_features + 1)``: the last column is the weight of a
constant feature ``intercept`` (``intercept_scaling``, or 0 without an
intercept), which the penalties never touch. Called by
:mod:`skgd.solvers.stochastic`.
"""

import numba as nb
import numpy as np
from numba import types

from .common import (
    FASTMATH,
    SPARSE_FASTMATH,
    _clip,
    _l2_shrink,
    _prefetch_csr,
    _prefetch_dense,
    _sparse_add,
    _sparse_dot,
    dense_matrix_types,
)
from .lazy import lazy_njit
from .signatures import FLOAT_TYPES, loss_signature, update_signature


def _stochastic_signature(ft, x_types):
    return types.float64(
        *x_types,
        ft[:, ::1], ft[:, ::1], types.int64[::1], types.int64,  # Y, W, order, batch size
        ft[:, ::1], ft[:, :, ::1], ft[:, ::1], types.int64,  # theta, state, averaged, start
        types.float64[::1], types.int64,  # etas, t0
        types.FunctionType(loss_signature(ft)), types.float64[::1],
        types.FunctionType(update_signature(ft)), types.float64[::1],
        types.float64, types.float64, types.float64,  # l2, l1, intercept
        types.boolean,  # plain: the update rule is sgd without momentum
        ft[:, ::1], types.float64[::1],  # cumulative L1: q, u (empty: proximal)
        types.int64,  # passive-aggressive: 0 (no), 1 (PA-I) or 2 (PA-II)
        types.uint8[::1],  # cancel: set to 1 to end the epoch early
    )  # fmt: skip


@nb.njit(inline="always")
def _online_steps(p, y, w, g, value, loss, loss_params, eta, squared_norm, pa, steps):
    # Each output's step along its gradient ``g`` by the passive-aggressive
    # rules (Crammer et al. 2006, as scikit-learn's learning_rate='pa1'/'pa2',
    # for losses whose slope is 1 where positive): ``tau * g``, with ``tau`` from the output's unweighted loss and
    # ``eta`` as the aggressiveness C.
    n_outputs = p.shape[0]
    for j in range(n_outputs):
        wj = w[j] if w.shape[0] > 1 else w[0]
        vj = value
        if n_outputs > 1:  # this output's loss alone
            vj = loss(p[j : j + 1], y[j : j + 1], w[j : j + 1] if w.shape[0] > 1 else w,
                      g[j : j + 1], loss_params)  # fmt: skip
        unweighted = vj / wj if wj > 0.0 else 0.0
        if pa == 1:
            tau = min(eta, unweighted / squared_norm) if squared_norm > 0.0 else 0.0
        else:
            tau = unweighted / (squared_norm + 0.5 / eta)
        steps[j] = tau * g[j]


@nb.njit(inline="always")
def _average_step(theta, averaged, average_start, t, scale):
    # The running mean of the iterates from update ``average_start`` on
    # (averaged SGD, Polyak & Juditsky 1992, as scikit-learn's ``average``);
    # the coefficients are ``scale`` times ``theta``'s.
    if 0 < average_start <= t:
        n_outputs, width = theta.shape
        d = width - 1
        mix = 1.0 / (t - average_start + 1)
        for j in range(n_outputs):
            for f in range(d):
                averaged[j, f] += (scale * theta[j, f] - averaged[j, f]) * mix
            averaged[j, d] += (theta[j, d] - averaged[j, d]) * mix


@nb.njit(inline="always")
def _cumulative_l1(theta, j, f, q, u, scale):
    # Tsuruoka, Tsujii & Ananiadou (2009), as scikit-learn's SGD applies L1:
    # every coefficient may have lost at most ``u`` (the L1 steps so far) to
    # the penalty; ``q`` holds what it did lose. Clipped at zero, so
    # coefficients the penalty would flip stay exactly 0. The coefficient is
    # ``scale * theta[j, f]``.
    z = theta[j, f]
    if scale * z > 0.0:
        theta[j, f] = max(0.0, z - (u + q[j, f]) / scale)
    elif scale * z < 0.0:
        theta[j, f] = min(0.0, z + (u - q[j, f]) / scale)
    q[j, f] += scale * (theta[j, f] - z)


@nb.njit(inline="always")
def _prox_and_average(theta, averaged, average_start, eta, t, l1, scale):
    # The L1 proximal step (soft-thresholding gives exact zeros), then the
    # running mean of the iterates from update ``average_start`` on (averaged
    # SGD, Polyak & Juditsky 1992, as scikit-learn's ``average``). The
    # coefficients are ``scale`` times ``theta``'s.
    n_outputs, width = theta.shape
    d = width - 1
    if l1 > 0.0:
        threshold = eta * l1 / scale
        for j in range(n_outputs):
            for f in range(d):
                w = theta[j, f]
                if w > threshold:
                    theta[j, f] = w - threshold
                elif w < -threshold:
                    theta[j, f] = w + threshold
                else:
                    theta[j, f] = 0.0
    _average_step(theta, averaged, average_start, t, scale)


@nb.njit(inline="always")
def _finish_block(
    theta, G, state, averaged, average_start, m, eta, t, update, hyper, l2, l1,
    intercept,
):  # fmt: skip
    # Mean gradient of the block plus the smooth penalty, then the update rule.
    n_outputs, width = G.shape
    d = width - 1
    inv_m = 1.0 / m
    for j in range(n_outputs):
        for f in range(d):
            G[j, f] = G[j, f] * inv_m + l2 * theta[j, f]
        # A product with intercept = 0 would turn an infinite gradient into NaN.
        G[j, d] = G[j, d] * (inv_m * intercept) if intercept != 0.0 else 0.0
    update(theta, G, state, eta, t, hyper)
    _prox_and_average(theta, averaged, average_start, eta, t, l1, 1.0)


@lazy_njit(
    [
        _stochastic_signature(ft, (x,))
        for ft in FLOAT_TYPES
        for x in dense_matrix_types(ft)
    ],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def dense_online_epoch(
    X, Y, W, order, batch_size, theta, state, averaged, average_start, etas, t0,
    loss, loss_params, update, hyper, l2, l1, intercept, plain, q, u, pa, cancel,
):  # fmt: skip
    """:func:`dense_epoch` for online plain SGD (``batch_size`` 1, ``plain``;
    ``state``, ``update`` and ``hyper`` unused), with the step applied in the
    pass that forms the gradient: the same steps (up to rounding), in at most
    two passes over the row instead of five, and nothing per sample but the
    sample's own work.

    A kernel of its own, so that an online fit compiles only this (measured
    on a fresh install: 3.3 s, against 5-7 s for both paths in one kernel).
    A non-empty ``q`` applies L1 as SGD's cumulative penalty, ``u[0]`` its
    running total, instead of the proximal step; ``pa`` takes the
    passive-aggressive steps of ``_online_steps``.
    """
    # theta[:, :-1] = scale * v, as in csr_online_epoch: the L2 shrink is one
    # multiplication of ``scale``, and a sample whose loss has no slope (a
    # hinge margin met, mostly) costs its prediction alone, not a second
    # pass over theta (measured: a hinge epoch over 200k x 100, 89% of the
    # margins met, 39.7 -> 32.9 ms).
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=X.dtype)
    g = np.empty(n_outputs, dtype=X.dtype)
    steps = np.empty(n_outputs, dtype=np.float64)
    cumulative = q.shape[0] > 0
    scale = 1.0
    total = 0.0
    for position in range(order.shape[0]):
        if cancel[0]:
            break
        _prefetch_dense(X, Y, W, order, position)
        i = order[position]
        x = X[i]
        for j in range(n_outputs):
            s = 0.0
            for f in range(d):
                s += theta[j, f] * x[f]
            p[j] = scale * s + theta[j, d] * intercept
        value = loss(p, Y[i], W[i], g, loss_params)
        total += value
        _clip(g)
        eta = etas[position]
        squared_norm = 0.0
        if pa:
            for f in range(d):
                squared_norm += x[f] * x[f]
            if pa == 1 and squared_norm == 0.0:
                continue  # PA-I skips an all-zero row, as SGD does
        if pa:
            _online_steps(
                p, Y[i], W[i], g, value, loss, loss_params, eta, squared_norm, pa,
                steps,
            )  # fmt: skip
        else:  # (measured: 40 ns a sample less than through _online_steps)
            for j in range(n_outputs):
                steps[j] = eta * g[j]
        shrink = _l2_shrink(eta, l2)
        if shrink <= 0.0 or scale * shrink < 1e-9:
            for j in range(n_outputs):
                for f in range(d):
                    theta[j, f] *= scale * shrink
            scale = 1.0
        else:
            scale *= shrink
        for j in range(n_outputs):
            step = steps[j]
            if step != 0.0:
                scaled = step / scale
                for f in range(d):
                    theta[j, f] -= scaled * x[f]
                if intercept != 0.0:
                    theta[j, d] -= step * intercept
        t = t0 + position + 1
        if cumulative:
            _average_step(theta, averaged, average_start, t, scale)
            u[0] += eta * l1
            for j in range(n_outputs):
                for f in range(d):
                    _cumulative_l1(theta, j, f, q, u[0], scale)
        else:
            _prox_and_average(theta, averaged, average_start, eta, t, l1, scale)
    for j in range(n_outputs):
        for f in range(d):
            theta[j, f] *= scale
    return total


@lazy_njit(
    [
        _stochastic_signature(ft, (x,))
        for ft in FLOAT_TYPES
        for x in dense_matrix_types(ft)
    ],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def dense_epoch(
    X, Y, W, order, batch_size, theta, state, averaged, average_start, etas, t0,
    loss, loss_params, update, hyper, l2, l1, intercept, plain, q, u, pa, cancel,
):  # fmt: skip
    """One pass over ``X[order]`` in blocks of ``batch_size`` (1: online).

    Every sample of a block is predicted with the same ``theta``; the block's
    mean gradient makes one update numbered ``t0 + block + 1`` with rate
    ``etas[block]``, scaled by ``m / batch_size`` for a last block of only
    ``m`` samples: otherwise each of its samples would move the parameters
    ``batch_size / m`` times as far as the others, which biases the fixed
    point without shuffling and breaks the exact once-per-epoch sample
    weights that make random reshuffling converge fast. Returns the sum of
    the weighted losses seen on the way. A ``cancel[0]`` set (from another
    thread) ends the epoch at the next block, its work to be discarded.

    Online plain SGD (``plain``: sgd without momentum, one sample per
    update) has a faster kernel of its own, :func:`dense_online_epoch`, which
    alone takes ``plain``, ``q``, ``u`` and ``pa`` into account (``solvers.stochastic``
    picks it; :func:`stochastic_kernel`).
    """
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=X.dtype)
    g = np.empty(n_outputs, dtype=X.dtype)
    G = np.zeros((n_outputs, width), dtype=X.dtype)
    total = 0.0
    n = order.shape[0]
    n_blocks = (n + batch_size - 1) // batch_size
    for block in range(n_blocks):
        if cancel[0]:
            break
        start = block * batch_size
        stop = min(start + batch_size, n)
        G[:] = 0.0
        for position in range(start, stop):
            _prefetch_dense(X, Y, W, order, position)
            i = order[position]
            x = X[i]
            for j in range(n_outputs):
                s = theta[j, d] * intercept
                for f in range(d):
                    s += theta[j, f] * x[f]
                p[j] = s
            total += loss(p, Y[i], W[i], g, loss_params)
            for j in range(n_outputs):
                gj = g[j]
                if gj != 0.0:
                    for f in range(d):
                        G[j, f] += gj * x[f]
                    G[j, d] += gj
        _finish_block(
            theta, G, state, averaged, average_start, stop - start,
            etas[block] * (stop - start) / min(batch_size, n),
            t0 + block + 1, update, hyper, l2, l1, intercept,
        )  # fmt: skip
    return total


@lazy_njit(
    [
        _stochastic_signature(ft, (ft[::1], it[::1], it[::1]))
        for ft in FLOAT_TYPES
        for it in (types.int32, types.int64)
    ],
    cache=True,
    nogil=True,
    fastmath=SPARSE_FASTMATH,
)
def csr_online_epoch(
    data, indices, indptr, Y, W, order, batch_size, theta, state, averaged,
    average_start, etas, t0, loss, loss_params, update, hyper, l2, l1, intercept,
    plain, q, u, pa, cancel,
):  # fmt: skip
    """:func:`csr_epoch` for online plain SGD without L1 or with SGD's
    cumulative L1 (non-empty ``q``): O(nnz) per sample until averaging
    starts (``state``, ``update`` and ``hyper`` unused)."""
    # Online plain SGD in O(nnz) per sample: theta[:, :-1] = scale * v, so the
    # L2 shrink (1 - eta * l2) of every coefficient is one multiplication of
    # ``scale`` (Bottou's trick, as scikit-learn's SGD) and only the row's
    # non-zero features are touched. ``v`` is ``theta`` itself, rescaled in
    # place whenever ``scale`` gets small and at the end of the epoch. Once
    # averaging has started, the running mean costs O(d) per sample; before,
    # the steps are the same arithmetic as without averaging. L1 is SGD's
    # cumulative penalty on the row's non-zero features (``q``, ``u``).
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=data.dtype)
    g = np.empty(n_outputs, dtype=data.dtype)
    steps = np.empty(n_outputs, dtype=np.float64)
    scale = 1.0
    total = 0.0
    for position in range(order.shape[0]):
        if cancel[0]:
            break
        _prefetch_csr(data, indices, indptr, Y, W, order, position)
        i = order[position]
        lo, hi = indptr[i], indptr[i + 1]
        for j in range(n_outputs):
            s = _sparse_dot(theta[j], data, indices, lo, hi)
            p[j] = scale * s + theta[j, d] * intercept
        value = loss(p, Y[i], W[i], g, loss_params)
        total += value
        _clip(g)
        eta = etas[position]
        squared_norm = 0.0
        if pa:
            for k in range(lo, hi):
                squared_norm += data[k] * data[k]
            if pa == 1 and squared_norm == 0.0:
                continue  # PA-I skips an empty row altogether, as SGD does
        if pa:
            _online_steps(
                p, Y[i], W[i], g, value, loss, loss_params, eta, squared_norm, pa,
                steps,
            )  # fmt: skip
        else:  # (as in dense_online_epoch: these lines are its twin on
            # purpose; as shared inline helpers both kernels measured 25%
            # slower, 365 against 289 ms for five hinge epochs on 200k x 100)
            for j in range(n_outputs):
                steps[j] = eta * g[j]
        shrink = _l2_shrink(eta, l2)
        if shrink <= 0.0 or scale * shrink < 1e-9:
            for j in range(n_outputs):
                for f in range(d):
                    theta[j, f] *= scale * shrink
            scale = 1.0
        else:
            scale *= shrink
        for j in range(n_outputs):
            step = steps[j]
            if step != 0.0:
                scaled = step / scale  # one division per row, not per non-zero
                _sparse_add(theta[j], -scaled, data, indices, lo, hi)
                if intercept != 0.0:
                    theta[j, d] -= step * intercept
        _average_step(theta, averaged, average_start, t0 + position + 1, scale)
        if l1 > 0.0:
            u[0] += eta * l1
            for j in range(n_outputs):
                for k in range(lo, hi):
                    _cumulative_l1(theta, j, indices[k], q, u[0], scale)
    for j in range(n_outputs):
        for f in range(d):
            theta[j, f] *= scale
    return total


@lazy_njit(
    [
        _stochastic_signature(ft, (ft[::1], types.int32[::1], types.int32[::1]))
        for ft in FLOAT_TYPES
    ]
    + [
        _stochastic_signature(ft, (ft[::1], types.int64[::1], types.int64[::1]))
        for ft in FLOAT_TYPES
    ],
    cache=True,
    nogil=True,
    fastmath=SPARSE_FASTMATH,
)
def csr_epoch(
    data, indices, indptr, Y, W, order, batch_size, theta, state, averaged,
    average_start, etas, t0, loss, loss_params, update, hyper, l2, l1, intercept,
    plain, q, u, pa, cancel,
):  # fmt: skip
    """:func:`dense_epoch` for a CSR matrix given by its three arrays.

    Online plain SGD without L1, or with SGD's cumulative L1 (non-empty
    ``q``), has a kernel of its own that costs O(nnz) per sample until
    averaging starts, :func:`csr_online_epoch`; every other combination
    predicts and accumulates in O(nnz) here, but lets the update rule touch
    every parameter.
    """
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=data.dtype)
    g = np.empty(n_outputs, dtype=data.dtype)
    G = np.zeros((n_outputs, width), dtype=data.dtype)
    total = 0.0
    n = order.shape[0]
    n_blocks = (n + batch_size - 1) // batch_size
    for block in range(n_blocks):
        if cancel[0]:
            break
        start = block * batch_size
        stop = min(start + batch_size, n)
        G[:] = 0.0
        for position in range(start, stop):
            _prefetch_csr(data, indices, indptr, Y, W, order, position)
            i = order[position]
            lo, hi = indptr[i], indptr[i + 1]
            for j in range(n_outputs):
                s = theta[j, d] * intercept
                p[j] = s + _sparse_dot(theta[j], data, indices, lo, hi)
            total += loss(p, Y[i], W[i], g, loss_params)
            for j in range(n_outputs):
                gj = g[j]
                if gj != 0.0:
                    _sparse_add(G[j], gj, data, indices, lo, hi)
                    G[j, d] += gj
        _finish_block(
            theta, G, state, averaged, average_start, stop - start,
            etas[block] * (stop - start) / min(batch_size, n),
            t0 + block + 1, update, hyper, l2, l1, intercept,
        )  # fmt: skip
    return total


def stochastic_kernel(sparse, plain, batch_size, l1, cumulative_l1):
    """The epoch kernel for the data's kind and the update: the online
    kernels for plain SGD one sample at a time (on sparse data without L1,
    or with the cumulative L1), else the block kernels."""
    online = plain and batch_size == 1
    if sparse:
        return csr_online_epoch if online and (l1 == 0 or cumulative_l1) else csr_epoch
    return dense_online_epoch if online else dense_epoch
