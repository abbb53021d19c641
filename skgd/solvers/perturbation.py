"""Training without a gradient: random trials, kept when they improve.

Each epoch is one *trial*: perturb the parameters at random, keep the change
if the objective improved (a (1+1) evolution strategy whose step adapts by
Rechenberg's 1/5 success rule). One trial costs one evaluation of the
objective, about one batch iteration, so the solvers compare fairly per
epoch. It is the lecture's baseline: what descent without a gradient costs.
"""

import math
from dataclasses import dataclass

import numpy as np

from .base import Solver, distance_step


@dataclass
class PerturbationSolver(Solver):
    """A (1+1) evolution strategy; ``eta0`` is the first trial step."""

    name = "perturbation"

    @classmethod
    def refuse_rule(cls, name, value, neutral):
        if name == "average":  # averaging the accepted trials is allowed
            return None
        return (
            f"solver='perturbation' uses no gradient, so {name}={value!r} does not "
            f"apply; leave it at {neutral!r} (eta0 sets the initial trial step, "
            "which then adapts by the 1/5 rule)."
        )

    resumes_step = True  # the trial step keeps adapting from where it was

    @classmethod
    def first_step(cls, objective, settings, theta):
        return distance_step(objective, theta)

    @classmethod
    def patience(cls, n_iter_no_change, n_parameters):
        # One random trial improves one direction in expectation: give
        # every parameter its n_iter_no_change chances.
        return n_iter_no_change * n_parameters

    def run_epoch(self, state):
        # Rechenberg's 1/5 rule: a success multiplies the step by e^(1/3), a
        # failure by e^(-1/12), so the step is stable at a 1/5 success rate.
        current = self.evaluate(state)
        step = self.eta0 * state.lr_factor
        candidate = state.theta.copy()
        noise = self.rng.standard_normal(candidate.shape).astype(candidate.dtype)
        if not self.objective.fit_intercept:
            noise[:, -1] = 0.0
        with np.errstate(over="ignore", invalid="ignore"):  # a huge step: rejected
            candidate += step * noise
        value, grad = self.objective.evaluate(candidate)
        state.t += 1
        if value < current:
            state.theta[...] = candidate
            state.lr_factor *= math.exp(1.0 / 3.0)
            self._cached = (state.t, value, grad)
        else:
            state.lr_factor *= math.exp(-1.0 / 12.0)
            self._cached = (state.t, current, self._cached[2])
        self.average(state)
        state.epoch += 1
        return step
