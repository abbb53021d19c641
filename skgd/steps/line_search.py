r"""How far along a direction: a line search on a convex function of one variable.

The quasi-Newton solver (:mod:`skgd.solvers.lbfgs`) picks a direction
:math:`d` and then the step :math:`t` along it. The objective on that line,
:math:`\varphi(t) = F(\theta + t d)`, is convex, and the solver evaluates it
and its slope :math:`\varphi'(t)` without a pass over the data (from the
kept predictions ``X theta`` and ``X d``), so a trial costs little and the
search can aim at the strong Wolfe conditions (Nocedal & Wright 2006, 3.1):

.. math::

    \varphi(t) \le \varphi(0) + c_1 t \varphi'(0), \qquad
    |\varphi'(t)| \le c_2 |\varphi'(0)|.

The first says the step descends enough, the second that it went far
enough along the line to learn its curvature (the pair the solver stores).
Convexity makes the slope increasing, so the search is a bracketing of the
slope's root: steps grow fourfold until the slope turns positive (or the
value rises), then the secant of the slope between the bracket's ends,
kept inside the bracket.
"""

import math

import numpy as np

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


def wolfe_step(phi, value0, slope0, step=1.0, max_trials=30):
    """The step ``t > 0`` along a descent direction that meets the strong
    Wolfe conditions, or the best decrease found within ``max_trials``.

    Parameters
    ----------
    phi : callable
        ``phi(t) -> (value, slope)`` of the convex function on the line.
    value0, slope0 : float
        ``phi(0)``; ``slope0 < 0`` (a descent direction).
    step : float
        The first trial.
    max_trials : int
        The most evaluations of ``phi``.

    Returns
    -------
    step : float
        The step taken (0 if no trial decreased ``phi``: the direction is
        not one of descent in floating point).
    value : float
        ``phi(step)``.
    wolfe : bool
        Whether both conditions hold at ``step``.
    """
    slack = ROUNDING_SLACK * np.finfo(np.float64).eps * abs(value0)
    if -slope0 * step <= slack:
        # The decrease the slope promises is below the value's rounding: no
        # trial could measure one (the iterate is at the minimum already).
        return 0.0, value0, False
    lo, lo_slope = 0.0, slope0
    hi, hi_slope = math.inf, math.nan
    best, best_value = 0.0, value0
    t = step
    for _ in range(max_trials):
        value, slope = phi(t)
        if not (math.isfinite(value) and math.isfinite(slope)):
            hi, hi_slope = t, math.nan
        else:
            decreased = value <= value0 + SUFFICIENT_DECREASE * t * slope0 + slack
            if decreased and abs(slope) <= CURVATURE * abs(slope0):
                return t, value, True
            if decreased and value < best_value:
                best, best_value = t, value
            if not decreased or slope > 0:
                hi, hi_slope = t, slope
            else:
                lo, lo_slope = t, slope
        t = _next_trial(lo, lo_slope, hi, hi_slope)
    return best, best_value, False


def _next_trial(lo, lo_slope, hi, hi_slope):
    if math.isinf(hi):
        return EXPANSION * lo
    width = hi - lo
    if math.isfinite(hi_slope) and hi_slope > lo_slope:
        # The root of the slope's secant through the bracket's ends.
        t = lo - lo_slope * width / (hi_slope - lo_slope)
        return min(max(t, lo + SAFEGUARD * width), hi - SAFEGUARD * width)
    return lo + 0.5 * width
