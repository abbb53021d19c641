r"""Accelerated proximal gradient descent with restart and backtracking: the default solver on dense data.

Each epoch is one iteration of FISTA (Beck & Teboulle 2009) on the exact
objective :math:`F = f + h` (``f`` the mean loss plus the L2 term, ``h`` the
L1 term):

.. math::

    y = x_k + \beta_k (x_k - x_{k-1}), \qquad
    x_{k+1} = \operatorname{prox}_{s h}\bigl(y - s \nabla f(y)\bigr),

with Nesterov's momentum :math:`\beta_k = (t_k - 1) / t_{k+1}`,
:math:`t_{k+1} = (1 + \sqrt{1 + 4 t_k^2}) / 2`. Two additions make it land
on ill-conditioned problems without tuning:

- **Backtracking** on the actual curvature (Beck & Teboulle): the step ``s``
  is accepted when the quadratic model with curvature ``1/s`` bounds ``f`` at
  the new point, halved otherwise. It then grows by ``STEP_GROWTH`` per
  iteration (doubling until the first rejection), so it follows the local
  curvature, which is often far below the worst-case ``L``.
- **Adaptive restart** (O'Donoghue & Candès 2015): the momentum is reset
  when it points uphill, ``(y - x_{k+1}) \cdot (x_{k+1} - x_k) > 0``, or
  when the objective rose. Restarted FISTA converges linearly on strongly
  convex problems at the accelerated rate, without knowing the convexity.

An iteration costs one gradient evaluation at ``y`` and one objective
evaluation per step tried, each one pass over the data, through the
objective's ``evaluate`` alone, so it runs unchanged on sparse, float32
and dask data.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..objective.optimality import optimality_residual
from .base import Solver

# The step grows by this factor after each iteration once a step has been
# rejected (before that, it doubles): about 10% per iteration follows a
# flattening curvature at the cost of a rejected step every ~7 iterations
# (measured on breast_cancer, digits, iris: 1.0 needs 2-10x the iterations,
# 1.25 rejects twice as often for no fewer).
STEP_GROWTH = 1.1

# A candidate whose objective exceeds the quadratic model by less than this
# many units of rounding of the objective is accepted: near the optimum the
# two differ by rounding alone, and halving the step would not help.
ROUNDING_SLACK = 16.0

# After this many halvings within one iteration the step is taken anyway:
# the objective is non-finite, and the training loop reports divergence.
MAX_HALVINGS = 60


@dataclass
class AcceleratedSolver(Solver):
    """:class:`~skgd.solvers.base.Solver` whose epoch is one restarted FISTA iteration.

    The step in effect is ``eta0 * state.lr_factor`` (``eta0`` the first
    one), so it carries over ``partial_fit`` calls; the momentum starts
    afresh at every call of ``fit`` or ``partial_fit`` (a new chunk's
    gradient has nothing to do with the last chunk's velocity).
    """

    _velocity: np.ndarray = field(default=None, repr=False)
    _momentum_t: float = field(default=1.0, repr=False)
    _expanding: bool = field(default=True, repr=False)
    _mapping_norm: float = field(default=math.inf, repr=False)
    # The gradient-mapping norm that triggers an exact optimality check; it
    # halves each time a check fails (see optimality).
    _trigger: float = field(default=1.0, repr=False)

    name = "accelerated"
    exact = True
    own_rule = (
        "sets its own momentum (Nesterov's, with restart) and step (backtracking)"
    )

    @classmethod
    def first_step(cls, objective, settings, theta):
        """Only a first step: backtracking finds the curvature. The trace
        bounds the full one (by at most ``n_features + 1`` times) and costs a
        pass without the Gram matrix or Lanczos."""
        lipschitz = objective.loss.curvature * objective.trace_curvature()
        lipschitz += objective.penalty.l2
        return 1.0 / lipschitz if lipschitz > 0 else 1.0

    def start(self, state):
        self._velocity = np.zeros_like(state.theta)
        self._momentum_t = 1.0
        self.evaluate(state)  # the first iteration's gradient, and F(x_0)

    def run_epoch(self, state):
        x = state.theta
        penalty = self.objective.penalty
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * self._momentum_t**2))
        beta = (self._momentum_t - 1.0) / t_next
        if beta > 0.0:
            y = x + beta * self._velocity
            f_y, g_y = self.objective.evaluate(y)
        else:  # no momentum: the gradient at x is the one already known
            y = x
            g_y = self.gradient_at(state)
            f_y = self._cached[1]
        f_y -= penalty.l1_value(y[:, :-1])
        f_x = self._cached[1] if self._cached[0] == state.t else math.inf
        step = self.eta0 * state.lr_factor
        candidate = np.empty_like(x)
        for _ in range(MAX_HALVINGS):
            np.subtract(y, step * g_y, out=candidate)
            penalty.prox(candidate[:, :-1], step)
            with np.errstate(over="ignore", invalid="ignore"):
                value, _ = self.objective.evaluate(candidate, gradient=False)
                d = candidate - y
                model = f_y + np.vdot(g_y, d) + np.vdot(d, d) / (2.0 * step)
            smooth = value - penalty.l1_value(candidate[:, :-1])
            slack = ROUNDING_SLACK * np.finfo(x.dtype).eps * abs(f_y)
            if smooth <= model + slack:
                break
            step *= 0.5
            self._expanding = False
        self._mapping_norm = float(np.linalg.norm(d)) / step
        restart = np.vdot(y - candidate, candidate - x) > 0 or value > f_x
        np.subtract(candidate, x, out=self._velocity)
        x[...] = candidate
        self._momentum_t = 1.0 if restart else t_next
        state.t += 1
        state.epoch += 1
        self._cached = (state.t, value, None)
        state.lr_factor = step * (2.0 if self._expanding else STEP_GROWTH) / self.eta0
        return step

    def gradient_norm(self, state):
        """Norm of the gradient mapping ``(y - x_{k+1}) / s`` of the last
        iteration: the gradient at the extrapolated point, for a smooth
        objective (computed on the way, unlike the gradient at ``x_{k+1}``)."""
        return self._mapping_norm

    def residual_estimate(self, state):
        """The gradient mapping's norm at the last iteration (free)."""
        return self._mapping_norm

    def optimality(self, state, threshold):
        # The gradient mapping at y bounds the residual at the new point
        # within a small factor, and costs nothing: only once it is below
        # the trigger is the exact residual (a gradient pass) computed.
        if self._mapping_norm > self._trigger * threshold:
            return self._mapping_norm
        residual = optimality_residual(
            state.theta, self.gradient_at(state), self.objective.penalty.l1
        )
        if residual > threshold:
            self._trigger *= 0.5
        return residual
