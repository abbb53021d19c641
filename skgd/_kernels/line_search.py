"""The strong-Wolfe line search's bracket, compiled: one definition for Python and the kernels.

:func:`skgd.steps.line_search.wolfe_step` (a Python loop over any
``phi``) and :func:`skgd._kernels.quasi_newton.lbfgs_iteration` (a whole
L-BFGS iteration in one call) both walk the same bracket: each trial's
value and slope go to :func:`advance_bracket`, which says whether the
trial meets the conditions and which step to try next. The search's
constants and rules live here only; :mod:`skgd.steps.line_search`
documents them.

The bracket is a float64 array of :data:`BRACKET_SIZE` entries, indexed by
the constants below, so that a kernel keeps it in one small allocation.
"""

import math

import numpy as np
from numba import njit

# Sufficient decrease and curvature constants: Nocedal & Wright's for
# quasi-Newton directions. A tighter c2 buys a more exact step for more
# trials; with trials this cheap it still measured no fewer iterations.
SUFFICIENT_DECREASE = 1e-4
CURVATURE = 0.9

# A trial whose value exceeds the sufficient-decrease line by less than this
# many units of rounding of the value passes it: near the optimum the two
# differ by rounding alone.
ROUNDING_SLACK = 16.0

# The secant step is kept this fraction of the bracket away from its ends,
# so that the bracket shrinks by at least as much per trial.
SAFEGUARD = 0.1

# Growth of the step while the slope is still negative.
EXPANSION = 4.0

# The most trials of one search.
MAX_TRIALS = 30

# The bracket's entries: its ends and their slopes, the best decrease so
# far, phi(0) and phi'(0), and the rounding slack of the value.
LO, LO_SLOPE, HI, HI_SLOPE, BEST, BEST_VALUE, VALUE0, SLOPE0, SLACK = range(9)
BRACKET_SIZE = 9

_EPS = np.finfo(np.float64).eps


@njit(cache=True, nogil=True)
def start_bracket(bracket, value0, slope0, step):
    """Open the bracket ``[0, inf)`` for a search from ``phi(0) = value0``
    with slope ``slope0 < 0``; False when the decrease the slope promises
    at ``step`` is below the value's rounding, so that no trial could
    measure one (the iterate is at the minimum already)."""
    slack = ROUNDING_SLACK * _EPS * abs(value0)
    if -slope0 * step <= slack:
        return False
    bracket[LO], bracket[LO_SLOPE] = 0.0, slope0
    bracket[HI], bracket[HI_SLOPE] = math.inf, math.nan
    bracket[BEST], bracket[BEST_VALUE] = 0.0, value0
    bracket[VALUE0], bracket[SLOPE0], bracket[SLACK] = value0, slope0, slack
    return True


@njit(cache=True, nogil=True)
def advance_bracket(bracket, t, value, slope):
    """Judge the trial ``t`` with ``phi(t) = value`` and ``phi'(t) = slope``:
    ``(True, t)`` if it meets both conditions, else ``(False, next trial)``
    with the bracket narrowed. A non-finite trial closes the bracket."""
    value0, slope0 = bracket[VALUE0], bracket[SLOPE0]
    if not (math.isfinite(value) and math.isfinite(slope)):
        bracket[HI], bracket[HI_SLOPE] = t, math.nan
    else:
        decreased = value <= value0 + SUFFICIENT_DECREASE * t * slope0 + bracket[SLACK]
        if decreased and abs(slope) <= CURVATURE * abs(slope0):
            return True, t
        if decreased and value < bracket[BEST_VALUE]:
            bracket[BEST], bracket[BEST_VALUE] = t, value
        if not decreased or slope > 0:
            bracket[HI], bracket[HI_SLOPE] = t, slope
        else:
            bracket[LO], bracket[LO_SLOPE] = t, slope
    return False, _next_trial(bracket)


@njit(inline="always")
def _next_trial(bracket):
    lo, lo_slope, hi, hi_slope = bracket[LO], bracket[LO_SLOPE], bracket[HI], bracket[HI_SLOPE]
    if math.isinf(hi):
        return EXPANSION * lo
    width = hi - lo
    if math.isfinite(hi_slope) and hi_slope > lo_slope:
        # The root of the slope's secant through the bracket's ends.
        t = lo - lo_slope * width / (hi_slope - lo_slope)
        return min(max(t, lo + SAFEGUARD * width), hi - SAFEGUARD * width)
    return lo + 0.5 * width
