"""Full-batch gradient descent: one update per epoch, with the exact gradient.

The lecture's solver: the gradient of the whole training objective (one
fused pass over the data, :meth:`skgd.objective.Objective.evaluate`), then
one step of the update rule (plain, momentum, AdaGrad, RMSProp, Adam, Rprop)
at the schedule's rate, then the L1 part's proximal step.
"""

from dataclasses import dataclass

from .base import Solver


@dataclass
class BatchSolver(Solver):
    """One step of the update rule on the exact gradient per epoch."""

    exact = True

    def run_epoch(self, state):
        grad = self.gradient_at(state)
        rate = float(self.rates(state, 1)[0])
        opt = self.settings.optimizer
        opt.kernel(
            state.theta, grad, state.optimizer_state, rate, state.t + 1, opt.hyper_array
        )
        self.objective.penalty.prox(state.theta[:, :-1], rate)
        state.t += 1
        self.average(state)
        state.epoch += 1
        return rate
