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

import numpy as np

from .._kernels.line_search import (  # noqa: F401  (the constants are documented here)
    BEST,
    BEST_VALUE,
    BRACKET_SIZE,
    CURVATURE,
    EXPANSION,
    MAX_TRIALS,
    SAFEGUARD,
    SUFFICIENT_DECREASE,
    advance_bracket,
    start_bracket,
)


def wolfe_step(phi, value0, slope0, step=1.0, max_trials=MAX_TRIALS):
    """The step ``t > 0`` along a descent direction that meets the strong
    Wolfe conditions, or the best decrease found within ``max_trials``.

    The bracket's rules are compiled
    (:func:`skgd._kernels.line_search.advance_bracket`), shared with the
    whole-iteration kernel of small data.

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
    bracket = np.empty(BRACKET_SIZE)
    if not start_bracket(bracket, float(value0), float(slope0), float(step)):
        return 0.0, value0, False
    t = float(step)
    for _ in range(max_trials):
        value, slope = phi(t)
        accepted, t_next = advance_bracket(bracket, t, float(value), float(slope))
        if accepted:
            return t, value, True
        t = t_next
    return float(bracket[BEST]), float(bracket[BEST_VALUE]), False
