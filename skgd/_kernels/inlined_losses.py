"""The scalar math of the losses a kernel inlines rather than calls.

A loss reaches the kernels as a first-class function
(:mod:`skgd._kernels.signatures`), one indirect call per row: on the
569 rows of breast_cancer the log-loss so took 29 us where the same math
inlined took 7.6. The whole-iteration kernel of small data
(:func:`skgd._kernels.quasi_newton.lbfgs_iteration`) inlines the losses
of the default fits from here, by code; :mod:`skgd.objective.losses`
builds its functions of those losses from the same math, so each is
written once.
"""

import math

from numba import njit

# The losses the whole-iteration kernel inlines; any other is called
# through its function.
CALLED, LOGISTIC, SQUARED = 0, 1, 2


@njit(inline="always")
def logistic(p, y, w):
    """``(w log(1 + exp(-y p)), w d/dp)``: one exp serves the loss and its
    derivative ``-y sigmoid(-z)``, and ``exp(-|z|)`` never overflows:
    ``log(1 + exp(-z)) = max(-z, 0) + log1p(e)``."""
    z = p * y
    e = math.exp(-abs(z))
    if z > 0:
        return w * math.log1p(e), -w * y * e / (1.0 + e)
    return w * (math.log1p(e) - z), -w * y / (1.0 + e)


@njit(inline="always")
def squared(p, y, w):
    """``(w (p - y)^2 / 2, w (p - y))``."""
    r = p - y
    return 0.5 * w * r * r, w * r


@njit(inline="always")
def logistic_conjugate(a):
    """``a log a + (1 - a) log(1 - a)``: the log-loss's conjugate at the
    dual variable ``a = -y loss'`` in ``[0, 1]`` (0 log 0 = 0)."""
    return _xlogx(a) + _xlogx(1.0 - a)


@njit(inline="always")
def _xlogx(a):
    return a * math.log(max(a, 1e-300))
