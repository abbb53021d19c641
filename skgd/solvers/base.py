"""What every solver shares: the objective, its settings, and a cached evaluation.

A solver subclasses :class:`Solver` and overrides :meth:`Solver.run_epoch`;
the class attributes tell the estimator and the training loop what it is
(see the contract in :mod:`skgd.solvers`).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..objective.optimality import optimality_residual
from ..objective.penalties import squared_norm
from .settings import SolverSettings


@dataclass
class Solver:
    """One way of walking the data: an epoch at a time, from a
    :class:`~skgd.training.state.TrainingState`.

    Parameters
    ----------
    objective : Objective
        What is minimised (:class:`skgd.objective.Objective`, or the dask
        one).
    settings : SolverSettings
        The steps, the order of the rows, the random stream.
    """

    objective: object
    settings: SolverSettings
    _cached: tuple = field(default=None, repr=False)
    _zero_value: float = field(default=None, repr=False)

    #: Whether the solver converges to the exact optimum by itself, so that
    #: it stops on a measure of optimality (``OptimalityStopping``) rather
    #: than on SGD's rule of no progress.
    exact = False
    #: What the solver sets itself that the update-rule and schedule
    #: parameters would otherwise set (None: it takes them).
    own_rule = None
    #: Whether its epochs walk rows (C-ordered or CSR ``X`` wanted).
    walks_rows = False
    #: Whether a CSR row must name each feature once (duplicates summed).
    canonical_rows = False
    #: Whether it forms the objective's full gradient after each epoch (the
    #: stochastic ones need only the value, half a pass on sparse data).
    uses_full_gradient = True
    #: Whether ``partial_fit`` and ``warm_start='resume'`` resume its step
    #: (``eta0_`` and the state's ``lr_factor``) rather than start afresh.
    resumes_step = False
    #: Whether its steps do not depend on the features' scales (its metric
    #: undoes them), so that badly scaled data are no reason to warn.
    scale_free = False
    #: The name it is registered under (the estimator's ``solver``).
    name = None

    @classmethod
    def patience(cls, n_iter_no_change, n_parameters):
        """Epochs without progress before SGD's rule stops it."""
        return n_iter_no_change

    @classmethod
    def first_step(cls, objective, settings, theta):
        """The automatic ``eta0``: ``1 / L`` for the curvature ``L`` that
        bounds what one of its updates descends."""
        lipschitz = objective.loss.curvature * objective.curvature()
        lipschitz += objective.penalty.l2
        return 1.0 / lipschitz if lipschitz > 0 else 1.0  # all-zero data: any

    @classmethod
    def refuse_rule(cls, name, value, neutral):
        """Why ``name=value`` (an update-rule or schedule parameter away from
        its ``neutral`` value) does not apply to this solver, or None."""
        if cls.own_rule is None:
            return None
        return rule_refusal(cls.name, cls.own_rule, name, value, neutral)

    @property
    def eta0(self):
        return self.settings.eta0

    @property
    def rng(self):
        return self.settings.rng

    @property
    def automatic_eta0(self):
        return self.settings.automatic_eta0

    def epoch_order(self, batch_size=1):
        """The training rows in the order this epoch visits them."""
        settings = self.settings
        if not settings.shuffle:
            return settings.train_rows
        if settings.shuffle == "blocks" and batch_size > 1:
            return shuffled_blocks(settings.train_rows, batch_size, settings.rng)
        return settings.rng.permutation(settings.train_rows)

    def rates(self, state, n_updates):
        """The learning rates of the next ``n_updates`` updates."""
        t = state.t + np.arange(n_updates)
        rates = self.settings.schedule.rates(t, state.epoch, self.eta0)
        rates = rates * state.lr_factor
        if not np.all(np.isfinite(rates) & (rates >= 0)):
            index = np.flatnonzero(~(np.isfinite(rates) & (rates >= 0)))[0]
            raise ValueError(
                f"The learning rate schedule returned {float(rates[index])!r} at "
                f"update {state.t + index}; "
                "learning rates must be finite and non-negative."
            )
        return rates

    def average(self, state):
        """Fold the current iterate into the running average, once started."""
        start = self.settings.average_start
        if 0 < start <= state.t:
            state.averaged += (state.theta - state.averaged) / (state.t - start + 1)

    # --- the epoch ------------------------------------------------------------

    def start(self, state):
        """Before the first epoch: the first step's gradient, where one is needed."""
        if self.uses_full_gradient:
            self.evaluate(state)

    def run_epoch(self, state):
        """One epoch from ``state`` (updated in place); returns the learning
        rate (or step) of its last update."""
        raise NotImplementedError

    def epoch_value(self, state, more):
        """The objective after an epoch; ``more`` says whether another may follow."""
        return self.evaluate(state)

    def drop_lookahead(self):
        """Forget work begun for an epoch that will not run (none here)."""

    # --- the objective at the current parameters, cached --------------------------

    def evaluate(self, state, **options):
        """The objective at the current parameters (cached for the next step)."""
        if self._cached is not None and self._cached[0] == state.t:
            return self._cached[1]
        value, grad = self.objective.evaluate(
            state.theta, gradient=self.uses_full_gradient, **options
        )
        self._cached = (state.t, value, grad)
        return value

    def forget(self):
        """Drop the cached evaluation (the parameters were rolled back)."""
        self._cached = None
        self.drop_lookahead()

    def value_at_zero(self, state):
        """The objective at all-zero parameters: the cached evaluation when
        training starts there (the full-batch solvers' first gradient pass),
        else the objective's own, which needs no pass over ``X``."""
        cached = self._cached
        if cached is not None and cached[0] == state.t and not np.any(state.theta):
            return cached[1]
        if self._zero_value is None:  # asked by the loop and the stopping rule
            self._zero_value = self.objective.value_at_zero()
        return self._zero_value

    def gradient_at(self, state):
        """The exact gradient of the smooth part at the current parameters
        (cached: a pass over the data only if the last evaluation lacked it)."""
        cached = self._cached
        if cached is None or cached[0] != state.t or cached[2] is None:
            value, grad = self.objective.evaluate(state.theta)
            self._cached = cached = (state.t, value, grad)
        return cached[2]

    def gradient_norm(self, state):
        """Norm of the objective's gradient at the current parameters; NaN for
        the solvers that never form it."""
        if not self.uses_full_gradient:
            return math.nan
        return math.sqrt(squared_norm(self.gradient_at(state)))

    def gradient_norm_at_zero(self, state):
        """Norm of the smooth part's gradient at all-zero parameters: the
        optimality residual's scale (free when training starts from zero)."""
        if not np.any(state.theta):
            return float(np.linalg.norm(self.gradient_at(state)))
        _, grad = self.objective.evaluate(np.zeros_like(state.theta))
        return float(np.linalg.norm(grad))

    def residual_estimate(self, state):
        """A free estimate of the optimality residual, which decides when a
        duality gap is worth computing (the exact residual here, from the
        gradient the last evaluation formed; inf where there is none: check
        every time)."""
        cached = self._cached
        if cached is None or cached[0] != state.t or cached[2] is None:
            return math.inf
        grad = cached[2]
        return optimality_residual(state.theta, grad, self.objective.penalty.l1)

    def aim(self, target):
        """Told before the first epoch about the gap the stopping rule will
        wait for (from the objective at zero, which bounds the minimum from
        above); a solver may plan its work by it. Nothing here."""

    def duality_gap(self, state, target=None):
        """``(gap, P(theta))`` at the current parameters; ``(inf, nan)``
        where the objective cannot certify (no penalty, the perceptron, data
        on a cluster). ``target`` is the gap the stopping rule waits for (a
        solver may plan its next epoch by it)."""
        objective = self.objective
        if not objective.certifiable:
            return math.inf, math.nan
        return objective.duality_gap(state.theta)

    def optimality(self, state, threshold):
        """:func:`~skgd.objective.optimality.optimality_residual` at the
        current parameters.

        ``threshold`` is the value the stopping rule compares it with: a
        solver whose exact residual costs a pass may return a cheaper
        estimate while that estimate is clearly above it.
        """
        grad = self.gradient_at(state)
        return optimality_residual(state.theta, grad, self.objective.penalty.l1)


def rule_refusal(solver, own_rule, name, value, neutral):
    """The message refusing ``name=value`` for a solver that ``own_rule``."""
    return (
        f"solver={solver!r} {own_rule}, so {name}={value!r} does not apply; "
        f"use solver='batch' (or 'online', 'minibatch') for descent with "
        f"{name}={value!r}, or leave it at {neutral!r}."
    )


def shuffled_blocks(rows, size, rng):
    """``rows`` cut into blocks of ``size`` consecutive rows, the blocks in
    random order (``shuffle="blocks"``).

    A mini-batch then reads contiguous memory instead of ``size`` scattered
    rows (a 200k x 100 epoch of 256-row batches: 33 against 52 ms). The cuts
    move by a random offset each epoch (the rows are rotated first), so a
    batch is not the same set of rows every epoch; a last, partial block
    stays last, where the kernels scale its step down.
    """
    rotated = np.roll(rows, -rng.randint(size))
    n_full = len(rows) // size
    blocks = rotated[: n_full * size].reshape(n_full, size)
    return np.concatenate(
        [blocks[rng.permutation(n_full)].ravel(), rotated[n_full * size :]]
    )


def distance_step(objective, theta):
    """A first step no longer than the distance to the minimiser can be:
    ``sqrt(2 f0 / L)`` per coordinate.

    ``sqrt(2 (f0 - f*) / L)`` bounds how far the minimiser can be from a
    start whose objective is ``f0`` for a loss of curvature ``L``; spread
    over the parameters, it is the scale of a useful first trial (the
    perturbation solver's), and a cap on the fixed rate of the rules that
    normalise the gradient per parameter.
    """
    lipschitz = objective.loss.curvature * objective.curvature()
    lipschitz += objective.penalty.l2
    start_value = objective.evaluate(theta, gradient=False)[0]
    if lipschitz <= 0 or not start_value > 0:
        return 1.0
    return float(np.sqrt(2.0 * start_value / lipschitz / theta.size))
