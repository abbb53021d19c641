"""Iterative parameter mixing: online and mini-batch epochs on a dask cluster.

Each block of rows runs one epoch of the in-memory solver
(:class:`~skgd.solvers.stochastic.StochasticSolver`) on its worker, from the
same state; the new state is their mean, weighted by the blocks' sizes
(McDonald et al. 2010). Used by :mod:`skgd._estimators.dask`.
"""

import dask
import numpy as np

from ..objective.objective import Objective
from .stochastic import StochasticSolver


class MixingSolver(StochasticSolver):
    """:class:`~skgd.solvers.stochastic.StochasticSolver` whose epoch is one local epoch per block, then their mean.

    Each block's epoch is the numpy solver's (the same kernels, schedule and
    update rule) on the block's rows, from the current state; the mixed state
    is the mean of the blocks' parameters, optimizer states and averages,
    weighted by the blocks' sizes.
    """

    def run_epoch(self, state):
        objective = self.objective
        seeds = self.rng.randint(np.iinfo(np.int32).max, size=len(objective.blocks))
        results = dask.compute(
            *[
                dask.delayed(_local_epoch)(
                    block, objective.spec, objective.n_outputs, self.eta0, state, seed
                )
                for block, seed in zip(objective.blocks, seeds, strict=True)
            ]
        )
        weights = objective.sizes / objective.sizes.sum()
        for name in ("theta", "optimizer_state", "averaged"):
            mixed = sum(
                w * getattr(local, name)
                for w, (local, _, _) in zip(weights, results, strict=True)
            )
            getattr(state, name)[...] = mixed
        largest = int(np.argmax(objective.sizes))
        state.t = results[largest][0].t
        state.epoch += 1
        if self.settings.running_loss:  # the losses every block met on its way
            self.record_running_loss(state, sum(total for _, _, total in results))
        return results[largest][1]


def _local_epoch(block, spec, n_outputs, eta0, state, seed):
    """One epoch of the numpy solver on one block's rows, from a copy of ``state``."""
    X, Y, W = block
    objective = Objective(
        X, Y, W, X.shape[0], spec._make_loss(n_outputs), spec._penalty(),
        spec._intercept_feature,
    )  # fmt: skip
    # The pieces are built where the block lies, from the estimator's
    # parameters (``spec``): compiled functions do not travel.
    settings = spec._solver_settings(
        spec._optimizer(), np.random.RandomState(seed), np.arange(X.shape[0])
    )
    settings.eta0 = eta0
    solver = StochasticSolver(objective, settings)
    state = state.copy()
    rate = solver.run_epoch(state)
    return state, rate, solver.epoch_total
