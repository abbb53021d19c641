"""How far parameters are from the optimum, measured from the objective itself.

:func:`optimality_residual` is the norm of the smallest subgradient; the
solvers that land on the optimum report it, and
:class:`skgd.training.stopping.OptimalityStopping` stops on it.
"""

import math

import numpy as np

from .penalties import squared_norm


def optimality_residual(theta, grad, l1):
    """``dist(0, ∂F(θ))``: the norm of the objective's smallest subgradient.

    ``grad`` is the gradient of the smooth part (the mean loss and the L2
    term) at ``theta``; ``l1`` the weight of the L1 part, whose subgradient
    at a zero coefficient is any value in ``[-l1, l1]``. Without an L1 part
    this is the norm of the gradient. It is zero exactly at the minimiser,
    and for an objective ``F`` that is ``mu``-strongly convex,
    ``F(θ) - F* <= residual**2 / (2 mu)`` (from
    ``F* >= F(θ) + v·(θ* - θ) + mu/2 ||θ* - θ||²`` for the subgradient ``v``).
    """
    if l1 == 0.0:
        return math.sqrt(squared_norm(grad))
    coef, g = theta[:, :-1], grad[:, :-1]
    shrunk = np.sign(g) * np.maximum(np.abs(g) - l1, 0.0)
    v = np.where(coef != 0, g + l1 * np.sign(coef), shrunk)
    return float(np.sqrt(np.vdot(v, v) + np.vdot(grad[:, -1], grad[:, -1])))
