"""Where training is: the parameters and everything else that moves.

:class:`TrainingState` is built by the estimator (:mod:`skgd._estimators.starting`),
moved by a solver's epochs, and kept on the fitted estimator so that
``partial_fit`` and ``warm_start='resume'`` go on exactly where they stopped.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class TrainingState:
    """Everything that moves during training; kept on the fitted estimator.

    Attributes
    ----------
    theta : ndarray of shape (n_outputs, n_features + 1)
        Coefficients, and in the last column the intercept divided by
        ``intercept``.
    optimizer_state : ndarray of shape (n_slots, n_outputs, n_features + 1)
        Velocities, moments or step sizes of the update rule.
    t : int
        Updates made so far (the schedules' clock).
    epoch : int
        Epochs run so far.
    lr_factor : float
        What the adaptive schedule's plateau divisions left of the rate (for
        the perturbation solver: its current step size).
    averaged : ndarray of shape (n_outputs, n_features + 1)
        The running mean of the iterates, for averaged SGD.
    optimizer_key : tuple
        Which update rule ``optimizer_state`` belongs to.
    reference : float
        The objective scale divergence is judged against.
    intercept : float
        The value of the intercept's constant feature (``intercept_scaling``,
        0 without an intercept) that ``theta``'s last column weighs.
    """

    theta: np.ndarray
    optimizer_state: np.ndarray
    t: int = 0
    epoch: int = 0
    lr_factor: float = 1.0
    averaged: np.ndarray = None
    optimizer_key: tuple = ()
    reference: float = 0.0
    intercept: float = 1.0

    def __post_init__(self):
        if self.averaged is None:
            self.averaged = np.zeros_like(self.theta)

    def copy(self):
        return TrainingState(
            self.theta.copy(), self.optimizer_state.copy(), self.t, self.epoch,
            self.lr_factor, self.averaged.copy(), self.optimizer_key, self.reference,
            self.intercept,
        )  # fmt: skip

    @property
    def size(self):
        """The numbers it holds: what a copy of it moves."""
        return self.theta.size + self.optimizer_state.size + self.averaged.size

    def same_as(self, other):
        """Whether training would go on from ``other`` exactly as from here."""
        return (
            (self.t, self.epoch, self.lr_factor)
            == (other.t, other.epoch, other.lr_factor)
            and np.array_equal(self.theta, other.theta)
            and np.array_equal(self.optimizer_state, other.optimizer_state)
            and np.array_equal(self.averaged, other.averaged)
        )

    def restore(self, other):
        self.theta[...] = other.theta
        self.optimizer_state[...] = other.optimizer_state
        self.averaged[...] = other.averaged
        self.t, self.epoch, self.lr_factor = other.t, other.epoch, other.lr_factor

    def average_coefficients(self, average_start):
        """The parameters to report: the average once it has started."""
        if 0 < average_start <= self.t:
            return self.averaged
        return self.theta
