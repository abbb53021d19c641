"""Solvers: how the data is walked to descend the objective.

The contract
------------
A solver is one module with one class, a subclass of
:class:`~skgd.solvers.base.Solver`, registered in :data:`SOLVERS` under the
name users pass as ``solver=``. Adding a solver is that module and one line
here; the estimators never change.

- It is built as ``SolverClass(objective, settings)``: the
  :class:`~skgd.objective.Objective` to minimise and one
  :class:`~skgd.solvers.settings.SolverSettings`.
- The training loop (:func:`skgd.training.loop.train`) calls ``start(state)``
  once, then ``run_epoch(state)`` and ``epoch_value(state, more)`` per
  epoch, moving a :class:`~skgd.training.state.TrainingState` in place; the
  stopping rules call ``optimality(state, threshold)``.
- State that must survive between ``fit``/``partial_fit`` calls lives on the
  ``TrainingState``; state of one call (a momentum, a table of gradients)
  lives on the solver. A solver that keeps one value per sample (SAGA's
  table, a dual method's variables) keeps it on the solver, created in
  ``start`` from ``objective.Y``'s shape.
- Class attributes say what it is: ``exact`` (it lands on the optimum and
  stops on optimality), ``own_rule`` (the update-rule parameters it
  refuses), ``walks_rows`` (it wants C-ordered or CSR rows),
  ``uses_full_gradient``; the class method ``first_step`` gives its
  automatic ``eta0``.

``solver="auto"`` is :func:`choose_solver`.
"""

import numpy as np
import scipy.sparse as sp

from ..objective.curvature import largest_row_curvature
from .accelerated import AcceleratedSolver
from .base import Solver
from .batch import BatchSolver
from .lbfgs import LbfgsSolver
from .perturbation import PerturbationSolver
from .saga import SagaSolver
from .sdca import SdcaSolver
from .settings import SolverSettings
from .stochastic import StochasticSolver

SOLVERS = {
    "accelerated": AcceleratedSolver,
    "lbfgs": LbfgsSolver,
    "batch": BatchSolver,
    "saga": SagaSolver,
    "sdca": SdcaSolver,
    "online": StochasticSolver,
    "minibatch": StochasticSolver,
    "perturbation": PerturbationSolver,
}

# solver='auto' takes SAGA for sparse data with at least this many samples
# per unit of its condition number L_max / alpha: there SAGA converges in a
# few epochs (measured: 13 epochs, 2.2 s, where the accelerated solver needed
# 50 s on 1e5 x 2e4 tf-idf-like rows), while on dense rows an epoch of
# per-sample steps costs about two accelerated iterations and wins nothing
# (1e6 x 50: 7.8 s against 7.0 s).
AUTO_SAGA_SAMPLES_PER_CONDITION = 1.0

# The losses whose slope jumps: first-order primal methods have no linear
# rate on them (the accelerated solver stalled at relative gaps of 6e-4 to
# 9e-2 after 1000 iterations), SDCA's exact coordinate steps converge.
NON_SMOOTH_LOSSES = ("hinge", "epsilon_insensitive")

# The losses without a derivative somewhere: the quasi-Newton solver's line
# search and curvature pairs need one everywhere.
KINKED_LOSSES = (*NON_SMOOTH_LOSSES, "perceptron")


def choose_solver(X, loss, penalty, intercept, incremental):
    """What ``solver='auto'`` means for ``X`` (None: data on a dask cluster)
    and the objective's ``loss`` and ``penalty``.

    - the perceptron: ``'online'`` (its objective's minimum is zero
      coefficients; it is SGD's algorithm that makes it a classifier);
    - a non-smooth loss (hinge, epsilon-insensitive) with an L2 part, in
      memory: ``'sdca'``, which converges on it;
    - a differentiable loss without an L1 part, in memory: ``'lbfgs'``
      (measured against saga and sdca on sparse 1e5 x 2e4 log-loss:
      0.36 s against 0.52 and 0.34 s at alpha=1e-4, 0.29 against 0.45 and
      0.34 s at 1e-3; 2e4 x 5e3: 0.056 against 0.096 and 0.071 s; against
      the accelerated solver on dense data: 3 to 30 times fewer passes);
    - with an L1 part, sparse data whose samples outnumber SAGA's condition
      number (the largest row's curvature over the L2 strength): ``'saga'``;
    - otherwise, and for ``partial_fit`` and dask: ``'accelerated'``.
    """
    if loss.name == "perceptron":
        return "online"
    if incremental or X is None:
        return "accelerated"
    if loss.name in NON_SMOOTH_LOSSES:
        return "sdca" if penalty.l2 > 0 else "accelerated"
    if penalty.l1 <= 0:
        return "lbfgs"
    if not sp.issparse(X) or penalty.l2 <= 0:
        return "accelerated"
    unit = np.ones((X.shape[0], 1))
    rows = largest_row_curvature(X, unit, intercept)
    condition = loss.curvature * rows / penalty.l2
    enough = X.shape[0] >= AUTO_SAGA_SAMPLES_PER_CONDITION * condition
    return "saga" if enough else "accelerated"


__all__ = ["SOLVERS", "Solver", "SolverSettings", "choose_solver"]
