"""Which trainer walks the data for each ``solver``.

The plain :class:`~skgd._solver.Trainer` runs the lecture's solvers (batch,
online, minibatch, perturbation); a descent method with a loop of its own
is a subclass in a module of its own, registered here.
"""

from ._accelerated import AcceleratedTrainer
from ._saga import SagaTrainer
from ._solver import Trainer

TRAINERS = {"accelerated": AcceleratedTrainer, "saga": SagaTrainer}


def trainer_class(solver):
    """The :class:`~skgd._solver.Trainer` class of ``solver``."""
    return TRAINERS.get(solver, Trainer)
