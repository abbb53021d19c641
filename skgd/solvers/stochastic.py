"""The online and mini-batch solvers: one update per sample, or per block of samples.

``"online"`` takes one update per sample, in a fresh random order each
epoch; ``"minibatch"`` one update per block of ``batch_size`` samples of that
order, with the block's mean gradient. ``online`` is ``minibatch`` with
``batch_size=1`` (the same steps; plain SGD has faster kernels of its own,
equal up to rounding), and ``minibatch`` with ``batch_size >= n_samples``
takes the same steps as ``"batch"``. An epoch is one call of a compiled
kernel (:mod:`skgd._kernels.stochastic`).

On large data the next epoch runs ahead on the other core while this one's
objective is evaluated (:meth:`StochasticSolver.epoch_value`).
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._kernels.stochastic import stochastic_kernel
from .._kernels.threads import MIN_BLOCK_ENTRIES, can_overlap, in_background
from ..objective.objective import Objective
from ..training.state import TrainingState
from .base import Solver

# From this many entries of X on, a stochastic epoch runs beside the pass
# that evaluates the objective of the epoch before it (StochasticSolver.epoch_value):
# the epoch's kernel is one core's work and the pass would leave the other
# idle. Below, a thread's hand-off costs about what the overlap saves.
LOOKAHEAD_MIN_ENTRIES = MIN_BLOCK_ENTRIES
# A look-ahead copies the state twice and compares it once: it is taken
# where X holds at least this many times the state's entries.
STATE_COPIES_PER_EPOCH = 8


@dataclass
class Lookahead:
    """An epoch run speculatively from ``start`` into ``state`` (and copies
    of the cumulative L1 totals), and the random state before it drew its
    order: kept if training goes on from ``start``, else dropped."""

    start: TrainingState
    state: TrainingState
    l1_state: tuple
    rng_state: tuple
    cancel: np.ndarray  # set to end the epoch early
    future: object  # of the epoch's (rate, loss total)


@dataclass
class StochasticSolver(Solver):
    """Online or mini-batch steps on one sample's (or block's) gradient.

    The steps' sizes come from the schedule (``settings.schedule``) and the
    update rule (``settings.optimizer``); the objective is evaluated after
    each epoch for the history and the stopping rule, never inside one.
    """

    epoch_total: float = field(default=0.0, repr=False)  # the last epoch's losses
    _l1_state: tuple = field(default=None, repr=False)
    _ahead: Lookahead = field(default=None, repr=False)

    walks_rows = True
    uses_full_gradient = False

    @classmethod
    def first_step(cls, objective, settings, theta):
        """``1 / L`` for the expected curvature of one update's gradient.

        One sample's for online (the largest weighted squared row norm, as
        scikit-learn's SAG solver); for mini-batches of ``b`` of ``n``
        samples drawn without replacement, the expected smoothness
        ``(n (b-1) L_full + (n-b) L_row) / (b (n-1))`` of Gower et al.
        (2019), which moves from the online step at ``b=1`` to the batch
        step at ``b=n``.
        """
        n = objective.n_train
        b = min(1 if settings.solver == "online" else settings.batch_size, n)
        if b == n:
            curvature = objective.curvature()
        elif b == 1:
            curvature = objective.row_curvature()
        else:
            full, row = objective.curvature(), objective.row_curvature()
            curvature = (n * (b - 1) * full + (n - b) * row) / (b * (n - 1))
        lipschitz = objective.loss.curvature * curvature + objective.penalty.l2
        if lipschitz <= 0:  # all-zero data: any step is safe
            return 1.0
        step = 1.0 / lipschitz
        optimizer = settings.optimizer
        if optimizer.name == "sgd":
            # Heavy-ball momentum multiplies the steady-state step, and with it
            # the gradient noise, by 1 / (1 - momentum): keep their product safe.
            step *= 1.0 - optimizer.hyper[0]
        return step

    def l1_state(self, theta):
        """``(q, u)`` of SGD's cumulative L1 penalty: what each coefficient
        lost to it, and the most it may have lost, over this trainer's
        epochs (one ``fit`` or ``partial_fit`` call, as in SGD). Empty ``q``
        for the proximal step, or without L1."""
        if self._l1_state is None:
            cumulative = self.settings.cumulative_l1 and self.objective.penalty.l1 > 0
            shape = (theta.shape[0], theta.shape[1] - 1) if cumulative else (0, 0)
            self._l1_state = (np.zeros(shape, dtype=theta.dtype), np.zeros(1))
        return self._l1_state

    def evaluate(self, state):
        # While an epoch runs ahead on the other core, one thread evaluates
        # (only in-memory objectives look ahead: see looks_ahead).
        options = {"serial": True} if self._ahead is not None else {}
        return super().evaluate(state, **options)

    def run_epoch(self, state):
        rate = self._take_lookahead(state)
        if rate is None:
            rate, self.epoch_total = self._stochastic_epoch(
                state, self.l1_state(state.theta)
            )
        if self.settings.running_loss:
            self.record_running_loss(state, self.epoch_total)
        state.epoch += 1
        return rate

    @property
    def looks_ahead(self):
        """Whether the next epoch may run beside the objective's pass: for
        the stochastic solvers, whose epochs need the objective's value only,
        on data in memory large enough to gain from it, where two threads
        are allowed."""
        return (
            not self.settings.running_loss
            and isinstance(self.objective, Objective)
            and self.objective.size >= LOOKAHEAD_MIN_ENTRIES
            and can_overlap()
        )

    def epoch_value(self, state, more):
        """The objective after an epoch (:meth:`evaluate`).

        With ``more`` epochs allowed and :attr:`looks_ahead`, the next
        epoch starts on a copy of ``state`` in another thread while this
        one evaluates, and :meth:`run_epoch` takes its result if training
        goes on from ``state`` unchanged. The epoch draws its order from the
        same random state as it would have later, so the fit is the same,
        bit for bit; a dropped epoch puts the random state back.
        """
        if more and self._ahead is None and self.looks_ahead:
            self._start_lookahead(state)
        return self.evaluate(state)

    def _start_lookahead(self, state):
        if state.size * STATE_COPIES_PER_EPOCH > self.objective.size:
            return  # (wide multi-class rows: copying the state costs more)
        l1_state = tuple(array.copy() for array in self.l1_state(state.theta))
        ahead, cancel = state.copy(), np.zeros(1, dtype=np.uint8)
        self._ahead = Lookahead(
            state.copy(), ahead, l1_state, self.rng.get_state(), cancel,
            in_background(self._stochastic_epoch, ahead, l1_state, cancel),
        )  # fmt: skip

    def drop_lookahead(self):
        """Forget a speculative epoch and its draws: the epoch ends at its
        next sample (or block), and the random state is put back."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.cancel[0] = 1
            ahead.future.exception()  # wait; an error of the dropped epoch is moot
            self.rng.set_state(ahead.rng_state)

    def _take_lookahead(self, state):
        """The speculative epoch's rate if it ran from ``state``, now adopted."""
        ahead = self._ahead
        if ahead is None or not ahead.start.same_as(state):
            self.drop_lookahead()
            return None
        self._ahead = None
        rate, self.epoch_total = ahead.future.result()
        state.restore(ahead.state)
        self._l1_state = ahead.l1_state
        return rate

    def _stochastic_epoch(self, state, l1_state, cancel=None):
        """One online or mini-batch epoch from ``state`` (updated in place),
        the cumulative L1 totals ``l1_state`` likewise: its last rate and the
        sum of the losses it met. Setting ``cancel[0]`` from another thread
        ends it early, to be discarded."""
        cancel = np.zeros(1, dtype=np.uint8) if cancel is None else cancel
        settings = self.settings
        batch_size = 1 if settings.solver == "online" else settings.batch_size
        order = self.epoch_order(batch_size)
        n_updates = -(-len(order) // batch_size)
        rates = self.rates(state, n_updates)
        obj, opt = self.objective, settings.optimizer
        X = obj.X
        plain = opt.name == "sgd" and opt.hyper[0] == 0.0
        q, u = l1_state
        kernel = stochastic_kernel(
            sp.issparse(X), plain, batch_size, obj.penalty.l1, q.shape[0] > 0
        )
        data = (X.data, X.indices, X.indptr) if sp.issparse(X) else (X,)
        total = kernel(
            *data, obj.Y, obj.W, order, batch_size, state.theta,
            state.optimizer_state, state.averaged, settings.average_start, rates,
            state.t, obj.loss.function(state.theta.dtype), obj.loss.params_array,
            opt.function(state.theta.dtype), opt.hyper_array, obj.penalty.l2,
            obj.penalty.l1, float(obj.intercept), plain, q, u, settings.passive_aggressive,
            cancel,
        )  # fmt: skip
        state.t += n_updates
        return float(rates[-1]), total

    def record_running_loss(self, state, total):
        """Take the mean of the weighted losses met during the epoch (their sum
        is ``total``), each before its update, plus the penalty at the end, as
        the epoch's objective (scikit-learn's SGD and MLP's bookkeeping): it
        cost nothing more to estimate."""
        obj = self.objective
        value = total / obj.n_train + obj.penalty.value(state.theta[:, :-1])
        self._cached = (state.t, value, None)
