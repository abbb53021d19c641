"""Learning-rate schedules: how far each update goes.

A schedule is a pure function of the update count. ``rates(t, epoch, eta0)``
returns the learning rate of the updates numbered ``t`` (0 for the first
update of a fit, counting across epochs, as scikit-learn's SGD counts),
which happen during epoch ``epoch`` (0-based); ``eta0`` is the estimator's
resolved initial rate, used when the schedule does not set its own.

Pass a schedule object, or any callable ``f(t) -> eta``, as an estimator's
``learning_rate``; the strings ``"constant"``, ``"invscaling"``, ``"optimal"``,
``"adaptive"``, ``"exponential"``, ``"step"`` and ``"cosine"`` build the
matching object from the estimator's parameters (``"pa1"`` and ``"pa2"``, the
passive-aggressive rules, are a constant ``eta0`` that the online kernels
turn into per-sample steps).
"""

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Schedule",
    "Constant",
    "InvScaling",
    "Optimal",
    "Exponential",
    "StepDecay",
    "Cosine",
    "Warmup",
]


class Schedule:
    """Base class: subclasses implement :meth:`rates`."""

    def rates(self, t, epoch, eta0):
        """Learning rates for update counts ``t`` (array) during ``epoch``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement rates(t, epoch, eta0), returning "
            "one learning rate per update count in t."
        )

    def _eta0(self, eta0):
        own = getattr(self, "eta0", None)
        return eta0 if own is None else own


@dataclass(frozen=True)
class Constant(Schedule):
    """``eta = eta0`` for every update.

    Parameters
    ----------
    eta0 : float, default=None
        The rate; None takes the estimator's ``eta0``.
    """

    eta0: float | None = None

    def rates(self, t, epoch, eta0):
        return np.full(len(t), self._eta0(eta0), dtype=np.float64)


@dataclass(frozen=True)
class InvScaling(Schedule):
    r"""Inverse scaling, as scikit-learn's SGD: :math:`\eta_t = \eta_0 / (t+1)^{p}`.

    Parameters
    ----------
    power_t : float, default=0.25
        The exponent :math:`p`.
    eta0 : float, default=None
        The initial rate; None takes the estimator's ``eta0``.
    """

    power_t: float = 0.25
    eta0: float | None = None

    def rates(self, t, epoch, eta0):
        return self._eta0(eta0) / np.power(
            np.asarray(t, np.float64) + 1.0, self.power_t
        )


@dataclass(frozen=True)
class Optimal(Schedule):
    r"""Bottou's rate for L2-regularised SGD, as scikit-learn's SGD defines it.

    :math:`\eta_t = 1 / (\alpha (t_0 + t))`, with :math:`t_0` chosen so the
    first rate is :math:`\alpha^{-1/4}` (the typical weight size of Bottou's
    heuristic; scikit-learn also divides by ``max(1, dloss)``, which is 1 for
    every convex loss at that point).

    Parameters
    ----------
    alpha : float
        The L2 regularisation strength (must be positive).
    """

    alpha: float = 1e-4

    def rates(self, t, epoch, eta0):
        typical_weight = math.sqrt(1.0 / math.sqrt(self.alpha))
        t0 = 1.0 / (typical_weight * self.alpha)
        return 1.0 / (self.alpha * (t0 + np.asarray(t, np.float64)))


@dataclass(frozen=True)
class Exponential(Schedule):
    r"""Exponential decay per epoch: :math:`\eta = \eta_0 \gamma^{epoch}`.

    Parameters
    ----------
    gamma : float, default=0.9
        The factor applied after each epoch.
    eta0 : float, default=None
        The initial rate; None takes the estimator's ``eta0``.
    """

    gamma: float = 0.9
    eta0: float | None = None

    def rates(self, t, epoch, eta0):
        return np.full(len(t), self._eta0(eta0) * self.gamma**epoch)


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Step decay: the rate is multiplied by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    gamma : float, default=0.1
        The factor applied at each step.
    step_size : int, default=10
        Epochs between two steps.
    eta0 : float, default=None
        The initial rate; None takes the estimator's ``eta0``.
    """

    gamma: float = 0.1
    step_size: int = 10
    eta0: float | None = None

    def rates(self, t, epoch, eta0):
        return np.full(
            len(t), self._eta0(eta0) * self.gamma ** (epoch // self.step_size)
        )


@dataclass(frozen=True)
class Cosine(Schedule):
    r"""Cosine annealing to 0 over ``n_epochs`` (Loshchilov & Hutter 2017).

    :math:`\eta = \eta_0 (1 + \cos(\pi \, epoch / n\_epochs)) / 2`, then 0.

    Parameters
    ----------
    n_epochs : int, default=100
        The length of the annealing (the estimator's ``max_iter`` when built
        from the string ``"cosine"``).
    eta0 : float, default=None
        The initial rate; None takes the estimator's ``eta0``.
    """

    n_epochs: int = 100
    eta0: float | None = None

    def rates(self, t, epoch, eta0):
        progress = min(epoch / self.n_epochs, 1.0)
        return np.full(
            len(t), self._eta0(eta0) * 0.5 * (1.0 + math.cos(math.pi * progress))
        )


@dataclass(frozen=True)
class Warmup(Schedule):
    """Linear warm-up over the first ``warmup`` epochs, then ``schedule``.

    During epoch ``e < warmup`` the rate is ``schedule``'s times ``(e + 1) / warmup``,
    which tames the first large steps of momentum and adaptive optimizers.

    Parameters
    ----------
    schedule : Schedule
        The schedule to warm up.
    warmup : int, default=5
        The number of warm-up epochs.
    """

    schedule: Schedule = Constant()
    warmup: int = 5

    def rates(self, t, epoch, eta0):
        factor = min(1.0, (epoch + 1) / self.warmup) if self.warmup > 0 else 1.0
        return factor * self.schedule.rates(t, epoch, eta0)


@dataclass(frozen=True)
class _Callable(Schedule):
    # Wraps a user's ``f(t) -> eta``.
    func: object

    def rates(self, t, epoch, eta0):
        return np.array([float(self.func(int(ti))) for ti in t], dtype=np.float64)


def make_schedule(learning_rate, *, alpha, power_t, gamma, step_size, max_iter, warmup):
    """The schedule object for an estimator's ``learning_rate`` parameter."""
    if isinstance(learning_rate, Schedule):
        schedule = learning_rate
    elif callable(learning_rate):
        schedule = _Callable(learning_rate)
    else:
        schedule = {
            "constant": lambda: Constant(),
            "adaptive": lambda: Constant(),  # the training loop divides it on plateaus
            # passive-aggressive: eta0 is the aggressiveness C; the online
            # kernels derive each step from the sample's loss (see _kernels)
            "pa1": lambda: Constant(),
            "pa2": lambda: Constant(),
            "invscaling": lambda: InvScaling(power_t),
            "optimal": lambda: Optimal(alpha),
            "exponential": lambda: Exponential(gamma),
            "step": lambda: StepDecay(gamma, step_size),
            "cosine": lambda: Cosine(max_iter),
        }[learning_rate]()
    if warmup:
        schedule = Warmup(schedule, warmup)
    return schedule
