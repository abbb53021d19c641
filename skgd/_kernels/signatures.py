"""The signatures of the functions the kernels take as arguments.

A loss (:mod:`skgd.objective.losses`) and an update rule
(:mod:`skgd.steps.optimizers`) reach the compiled loops as first-class
functions of a fixed type, so that one kernel serves every loss and every
rule and keeps numba's on-disk cache. The kernels own that contract; the
losses and the rules implement it.
"""

from numba import types

# The float types every kernel is compiled for: the data's own (float32 is
# kept as float32).
FLOAT_TYPES = (types.float64, types.float32)


def loss_signature(ft):
    """``loss(p, y, w, g, params) -> value`` for float type ``ft``: predictions,
    targets, weights and the derivative written into ``g`` are rows of
    ``ft``; ``params`` the loss's constants."""
    row = ft[::1]
    return types.float64(row, row, row, row, types.float64[::1])


def update_signature(ft):
    """``update(theta, grad, state, lr, t, hyper)`` for float type ``ft``."""
    return types.void(
        ft[:, ::1], ft[:, ::1], ft[:, :, ::1], types.float64, types.int64,
        types.float64[::1],
    )  # fmt: skip
