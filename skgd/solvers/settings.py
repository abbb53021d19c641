"""The settings every solver takes: one object instead of a long argument list.

The estimator builds a :class:`SolverSettings` from its parameters in one
place (``BaseGD._solver_settings``); a solver reads the fields it needs and
ignores the rest.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class SolverSettings:
    """How a solver walks the data and steps.

    Attributes
    ----------
    solver : str
        The solver's name (``"batch"``, ``"online"``, ...).
    eta0 : float
        The resolved initial learning rate (or trial step, or first step).
    rng : numpy.random.RandomState
        The stream of shuffles and trials; ``partial_fit`` continues it.
    train_rows : ndarray of int or None
        The rows an epoch visits (early stopping holds out the others);
        None where the data lies on a cluster.
    batch_size : int
        Samples per mini-batch update.
    optimizer : Optimizer or None
        The update rule (:mod:`skgd.steps.optimizers`).
    schedule : Schedule or None
        The learning-rate schedule (:mod:`skgd.steps.schedules`).
    shuffle : bool or "blocks"
        Whether (and how) each epoch draws a new order of the rows.
    average_start : int
        The update from which the iterates are averaged (0: never).
    automatic_eta0 : bool
        Whether ``eta0`` was chosen automatically (the divergence advice
        depends on it).
    running_loss : bool
        Record the running mean of the losses met during an epoch instead of
        the exact objective (``epoch_loss="running"``, SGD's bookkeeping).
    cumulative_l1 : bool
        SGD's cumulative L1 penalty instead of the proximal step.
    passive_aggressive : int
        0, or 1 for PA-I and 2 for PA-II (``learning_rate='pa1'/'pa2'``).
    """

    solver: str
    eta0: float
    rng: np.random.RandomState
    train_rows: np.ndarray | None = None
    batch_size: int = 1
    optimizer: object = None
    schedule: object = None
    shuffle: bool | str = True
    average_start: int = 0
    automatic_eta0: bool = False
    running_loss: bool = False
    cumulative_l1: bool = False
    passive_aggressive: int = 0
