"""What every compiled kernel shares: compile options, row prefetch, sparse row helpers.

The kernels (``stochastic``, ``passes``, ``saga``) import these small inlined
functions so that each hot loop reads the same way; numba inlines them, so
sharing them costs nothing at run time.
"""

import numba as nb
import numpy as np
from numba import types

from .prefetch import prefetch_row, prefetch_span

# Let LLVM reassociate sums and fuse multiply-adds, so the per-row dot
# products vectorise (measured: the full-batch pass 20 -> 10 ms, an online
# epoch 45 -> 31 ms at n=200k, d=100). No "nnan"/"ninf": a diverging run
# must still produce the inf/NaN the training loop detects. Results change
# by rounding only, and stay deterministic.
FASTMATH = {"reassoc", "contract"}

# But not for sparse rows: reassociation vectorises their dot products into
# gather instructions, which measured 2x slower than the scalar loop on the
# ~50 scattered non-zeros of a text row (a CSR pass 27 -> 14 ms at
# n=200k, d=50k); fusing multiply-adds alone costs nothing.
SPARSE_FASTMATH = {"contract"}

# Rows requested this many samples ahead of use (see ``prefetch``): enough
# to cover a memory access, few enough to stay in L1.
PREFETCH_DISTANCE = 4

# The online steps clip each derivative of the loss to this size, as
# scikit-learn's SGD does (its MAX_DLOSS): a huge feature value then grows
# the coefficients fast but finitely, instead of overflowing in one step.
MAX_DLOSS = 1e12


@nb.njit(inline="always")
def _clip(g):
    for j in range(g.shape[0]):
        if g[j] > MAX_DLOSS:
            g[j] = MAX_DLOSS
        elif g[j] < -MAX_DLOSS:
            g[j] = -MAX_DLOSS


@nb.njit(inline="always")
def _l2_shrink(eta, l2):
    # The weight decay factor of one online step: never negative, so a rate
    # or alpha too large sets the coefficients to zero instead of flipping
    # and growing them (scikit-learn's SGD scales by the same max(0, .)).
    return max(0.0, 1.0 - eta * l2)


@nb.njit(inline="always")
def _prefetch_dense(X, Y, W, order, position):
    ahead = position + PREFETCH_DISTANCE
    if ahead < order.shape[0]:
        row = order[ahead]
        prefetch_row(X, row)
        prefetch_row(Y, row)
        prefetch_row(W, row)


@nb.njit(inline="always")
def _prefetch_csr(data, indices, indptr, Y, W, order, position):
    # Two stages: where a row starts is itself a random read, so its
    # ``indptr`` entries are requested twice as far ahead as its non-zeros
    # (measured: a shuffled text epoch 46 -> 42 ms).
    n = order.shape[0]
    further = position + 2 * PREFETCH_DISTANCE
    if further < n:
        prefetch_span(indptr, order[further], order[further] + 2)
    ahead = position + PREFETCH_DISTANCE
    if ahead < n:
        row = order[ahead]
        lo, hi = indptr[row], indptr[row + 1]
        prefetch_span(data, lo, hi)
        prefetch_span(indices, lo, hi)
        prefetch_row(Y, row)
        prefetch_row(W, row)


@nb.njit(inline="always")
def _sparse_dot(row, data, indices, lo, hi):
    # sum(row[indices[k]] * data[k] for k in lo:hi). Unsigned positions: numba
    # then drops the negative-index wraparound of every access (measured: a
    # CSR product pass 16.7 -> 12.4 ms on 200k x 50k, scipy's X @ w 12.1).
    s = 0.0
    k, stop = np.uintp(lo), np.uintp(hi)
    while k < stop:
        s += row[np.uintp(indices[k])] * data[k]
        k += np.uintp(1)
    return s


@nb.njit(inline="always")
def _sparse_add(row, scale, data, indices, lo, hi):
    # row[indices[k]] += scale * data[k] for k in lo:hi (as _sparse_dot).
    k, stop = np.uintp(lo), np.uintp(hi)
    while k < stop:
        f = np.uintp(indices[k])
        row[f] += scale * data[k]
        k += np.uintp(1)


def dense_matrix_types(ft):
    """The C-ordered matrices of float type ``ft`` a dense kernel takes:
    writeable, and read-only (memory-mapped data), which numba types apart."""
    return (ft[:, ::1], types.Array(ft, 2, "C", readonly=True))


@nb.njit(inline="always")
def _soft_threshold(w, threshold):
    # The proximal step of threshold * |w|: the L1 part's, in every kernel.
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return 0.0
