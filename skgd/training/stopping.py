"""When training stops: by a certificate (exact solvers) or by progress (SGD's rule).

Two questions decide a stop, and the solvers answer them differently:

- The solvers that land on the optimum (``'accelerated'``, ``'batch'``,
  ``'saga'``, ``'sdca'``) can prove how far they are from it:
  :class:`CertifiedStopping` stops when the *duality gap*, an upper bound on
  ``P(theta) - P*``, is at most ``tol`` times the objective. Where no finite
  gap exists, :class:`OptimalityStopping` stops when the *optimality
  residual* (the smallest subgradient of the objective, see
  :func:`~skgd.objective.optimality.optimality_residual`) is small.
- The stochastic solvers (``'online'``, ``'minibatch'``) never form an exact
  gradient, and their objective never settles (it carries the updates'
  noise): :class:`Stopping` keeps scikit-learn SGD's rule, which stops when
  the objective stops improving.
"""

import math
from dataclasses import dataclass

import numpy as np

# The adaptive schedule divides the rate by this on every plateau and stops
# below MIN_ADAPTIVE_RATE, as scikit-learn's SGD does.
ADAPTIVE_DIVISOR = 5.0
MIN_ADAPTIVE_RATE = 1e-6


@dataclass
class OptimalityStopping:
    """Stop when the optimality residual falls to ``tol`` times its value at zero.

    The residual is :func:`~skgd.objective.optimality.optimality_residual` at the current parameters;
    its scale is the norm of the smooth part's gradient at all-zero
    parameters, so the rule does not depend on the units of ``y`` or on
    where a warm start began. A fit that stops this way has a residual
    ``r <= tol * r0``, so, for a ``mu``-strongly convex objective (an L2
    penalty ``alpha`` makes the loss's part in the coefficients so with
    ``mu >= alpha``), its objective is within ``r**2 / (2 mu)`` of the
    minimum and its parameters within ``r / mu`` of the minimiser.
    ``tol=None`` never stops early.
    """

    tol: float | None
    scale: float = math.nan
    residual: float = math.nan

    def start(self, trainer, state):
        """Measure the scale (one gradient at zero, free on a cold start)."""
        if self.tol is not None:
            self.scale = trainer.gradient_norm_at_zero(state)

    @property
    def threshold(self):
        return self.tol * self.scale

    def should_stop(self, value, state, trainer):
        if self.tol is None:
            return False
        self.residual = trainer.optimality(state, self.threshold)
        return self.residual <= self.threshold

    def shortfall(self):
        """What a fit that did not stop still lacks, for the warning."""
        if self.tol is None or not np.isfinite(self.residual):
            return ""
        ratio = self.residual / self.scale if self.scale > 0 else math.inf
        return (
            f" The optimality residual is still {ratio:.2g} times its value at "
            f"zero (tol={self.tol:g})."
        )


@dataclass
class CertifiedStopping:
    """Stop when the duality gap certifies the objective within ``tol`` of
    its minimum: ``gap <= tol * |P(theta)|``.

    The gap (:meth:`skgd.objective.Objective.duality_gap`, or the solver's
    own dual) bounds ``P(theta) - P*`` from above, so a fit that stops this
    way is certified within a relative ``tol`` of the optimum, whatever the
    conditioning. A gap costs about two passes, so it is computed only when
    the solver's free estimate of the optimality residual has fallen far
    enough: after a failed check at residual ``r`` with gap ``g``, the next
    waits until the residual is ``r * min(1/2, sqrt(target / g))`` (the gap
    shrinks like the residual's square on a strongly convex objective, and
    no slower than the residual itself otherwise, so the wait errs early).
    Where no finite gap exists (no penalty; the perceptron without an L2
    part), it falls back to :class:`OptimalityStopping`.
    """

    tol: float | None
    gap: float = math.inf
    value: float = math.nan
    checked_at: int = -1
    _next_check: float = math.inf
    _fallback: OptimalityStopping = None

    def start(self, trainer, state):
        if self.tol is not None:
            trainer.aim(self.tol * abs(trainer.value_at_zero(state)))

    def should_stop(self, value, state, trainer):
        if self.tol is None:
            return False
        if self._fallback is not None:
            return self._fallback.should_stop(value, state, trainer)
        estimate = trainer.residual_estimate(state)
        if estimate > self._next_check:
            return False
        self.check(state, trainer)
        if not math.isfinite(self.gap):
            self._fallback = OptimalityStopping(self.tol)
            self._fallback.start(trainer, state)
            return self._fallback.should_stop(value, state, trainer)
        target = self.target
        if self.gap <= target:
            return True
        if math.isfinite(estimate):
            self._next_check = estimate * min(0.5, math.sqrt(target / self.gap))
        return False

    @property
    def target(self):
        return self.tol * abs(self.value)

    @property
    def tol_target(self):
        # The last objective's target: the next is about the same.
        return self.tol * abs(self.value) if math.isfinite(self.value) else None

    #: The training loop records the gaps it computes (``history_['dual_gap']``).
    records_gap = True

    def gap_at(self, state):
        """The gap computed at ``state``'s update count, else NaN (and NaN
        where the objective has none)."""
        fresh = self.checked_at == state.t and math.isfinite(self.gap)
        return self.gap if fresh else math.nan

    @property
    def certifying(self):
        """Whether the rule stops on the gap (not on its fallback)."""
        return self.tol is not None and self._fallback is None

    def check(self, state, trainer):
        """Compute the gap at ``state`` (once per update count)."""
        if self.checked_at != state.t:
            self.gap, self.value = trainer.duality_gap(state, self.tol_target)
            self.checked_at = state.t
        return self.gap

    def shortfall(self):
        if self._fallback is not None:
            return self._fallback.shortfall()
        if self.tol is None or not math.isfinite(self.gap):
            return ""
        return (
            f" The certified duality gap is still {self.gap / abs(self.value):.2g} "
            f"of the objective (tol={self.tol:g})."
        )


@dataclass
class Stopping:
    """When to stop, with scikit-learn SGD's semantics.

    An epoch *does not improve* if its objective is above the best one minus
    ``tol`` (or, with a validation set, if its score is below the best one
    plus ``tol``). After ``n_iter_no_change`` such epochs in a row, training
    stops, or, for the adaptive schedule, the rate is divided by 5 until it
    falls below 1e-6. ``tol=None`` never stops early.
    """

    tol: float | None
    n_iter_no_change: int
    adaptive: bool
    best: float = math.inf
    no_improvement: int = 0

    def start(self, trainer, state):
        pass

    def should_stop(self, value, state, trainer):
        """Feed one epoch's objective (or minus its validation score)."""
        if self.tol is None:
            return False
        if value > self.best - self.tol:
            self.no_improvement += 1
        else:
            self.no_improvement = 0
        self.best = min(self.best, value)
        if self.no_improvement < self.n_iter_no_change:
            return False
        if self.adaptive and trainer.eta0 * state.lr_factor > MIN_ADAPTIVE_RATE:
            state.lr_factor /= ADAPTIVE_DIVISOR
            self.no_improvement = 0
            return False
        return True

    def shortfall(self):
        return ""


# tol='auto': the certified relative duality gap at which the solvers that
# land on the optimum stop (for the few objectives without a finite gap, the
# optimality residual relative to its value at zero), and SGD's rule's
# improvement of the objective per epoch (tighter than SGD's 1e-3).
AUTO_OPTIMALITY_TOL = 1e-6
AUTO_PROGRESS_TOL = 1e-4


def resolve_tol(tol, exact, progress):
    """The ``tol`` in effect: ``'auto'`` is a relative optimality residual of
    AUTO_OPTIMALITY_TOL for a solver that lands on the optimum (``exact``)
    and is not judged by ``progress`` (early stopping, the adaptive rate),
    else AUTO_PROGRESS_TOL of objective (or score) for SGD's rule."""
    if tol != "auto":
        return tol
    return AUTO_OPTIMALITY_TOL if exact and not progress else AUTO_PROGRESS_TOL


def stopping_rule(tol, exact, validating, adaptive, patience):
    """The rule that ends ``fit`` early: optimality for a solver that lands
    on the optimum (unless a validation score or the adaptive rate is
    watched), else SGD's rule of ``patience`` epochs without progress."""
    tol = resolve_tol(tol, exact, validating or adaptive)
    if exact and not (validating or adaptive):
        return CertifiedStopping(tol)
    return Stopping(tol, patience, adaptive)
