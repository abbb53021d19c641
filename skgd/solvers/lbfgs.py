r"""Limited-memory quasi-Newton descent (L-BFGS) in a preconditioned metric: the default for smooth losses.

Each epoch is one iteration of L-BFGS (Nocedal 1980; Nocedal & Wright 2006,
7.2): a gradient step whose direction is shaped by the last ``m`` pairs of
steps :math:`s` and gradient changes :math:`y` (the two-loop recursion),
and whose length is found by a line search. It uses the gradient, products
with ``X`` and ``X^T``, and Gram matrices of the data (weighted by the
loss's curvature bound, or by its curvature at an iterate), never a Hessian
solve per iteration. Four things make it fast here:

- **The metric starts from the data's curvature bound**
  :math:`B` (:mod:`skgd.objective.preconditioning`): the recursion's initial
  matrix is :math:`\gamma B^{-1}` rather than :math:`\gamma I`, so the
  features' scales and correlations are undone before the first step (raw
  and standardised data take as many iterations; squared error lands in
  one), and the memory learns only what :math:`B` misses: how the loss's
  actual curvature differs from its bound.
- **The predictions are kept.** With :math:`P = X\theta` and
  :math:`D = X d` known, the objective on the line,
  :math:`F(\theta + t d)`, and its slope cost a sweep over ``n`` values,
  not a pass over ``X``; the line search (:mod:`skgd.steps.line_search`)
  tries as many steps as it likes. An iteration reads ``X`` twice: for
  ``X d`` and for the new gradient ``X^T G``, both BLAS products on dense
  data (every core).
- **The metric follows the curvature when the bound proves loose.** On
  near-separable data most rows' loss has flattened, and the bound
  overstates the curvature along the directions they span; when the
  gradient has not fallen a hundredfold within a window of iterations (at
  least 4, and as many as the refresh costs passes), the metric is rebuilt
  with each row weighted by its loss's second derivative at the current
  predictions (the log-losses; :func:`~skgd.objective.preconditioning.local_preconditioner`),
  from the kept predictions: one weighted Gram matrix per output. It is
  not Newton's method: the metric is refreshed at most every 4
  iterations, and L-BFGS's pairs correct it in between.
- **The certificate stops it** (:class:`~skgd.training.stopping.CertifiedStopping`),
  from the kept predictions, when the duality gap is within ``tol`` of
  the objective: no pass beyond the gap's own product.

It takes the differentiable losses and an L2 penalty (or none); the L1
part's kink is the accelerated proximal solver's.
"""

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .._kernels.inlined_losses import CALLED, LOGISTIC, SQUARED
from .._kernels.quasi_newton import lbfgs_iteration, settle_intercept, two_loop
from .._kernels.smooth_gap import smooth_gap
from ..objective.preconditioning import curvature_preconditioner, local_preconditioner
from ..steps.line_search import wolfe_step
from .base import Solver

# Vectors up to this long are dotted by BLAS (see _dot).
SHORT_DOT = 4096

# Pairs (s, y) remembered: scipy's default. With the metric refreshed from
# the curvature, 5 to 40 pairs take about as many iterations to a certified
# 1e-6 (breast_cancer 18-20, raw 16-18, raw digits 132-141; before the
# refresh, 20 pairs took 43 where 10 took 55).
MEMORY = 10


# The metric is refreshed from the curvature at the current predictions
# (local_preconditioner) when, over a window of iterations since the last
# metric, the gradient's norm fell less than REFRESH_PROGRESS times. The
# window is at least REFRESH_AFTER iterations, and as many as a refresh
# costs passes over X (one Gram matrix per output, ~d/30 passes each).
# Measured (iterations to a certified 1e-6 at alpha=1e-4, without -> with):
# breast_cancer 43 -> 19 (raw 79 -> 18), raw digits (10 classes) over 1000
# -> 138, standardised digits 121 -> 67; 1e4 x 50 (6) and 1e5 x 50 x 5
# classes (17) converge too fast to trigger it. On small data a refresh
# costs about two compiled iterations (breast_cancer: 100 against 41 us), so
# the window is at least 6 (4 before): breast_cancer 2.6 -> 2.4 ms (18
# iterations and 3 refreshes -> 17 and 2), raw 2.55 -> 2.4 ms; nine other
# small problems (wine and raw wine, standardised digits, breast_cancer at
# alpha 1e-3 and 1e-5, four 569 x 30 draws) 4% faster on the whole, the
# worst 2% slower. (A window of 7 took breast_cancer 23 iterations.)
REFRESH_AFTER = 6

# Newton's steps on the intercept before a gap is taken (_settle_intercept):
# near the optimum, where the gaps are taken, two reach rounding.
SETTLE_STEPS = 4
# The intercept is settled when its shift's cost to the gap could be more
# than this fraction of the gap the stopping rule waits for.
SETTLE_WORTH = 0.1
REFRESH_PROGRESS = 100.0
GRAM_PASSES_PER_FEATURE = 1 / 30


def _dot(a, b):
    """``a . b`` over all entries, in float64. Long vectors by numpy's own
    loop: a BLAS dot splits them over threads, whose hand-offs measured 4 to
    8 ms a call on 2e4 and 1e5 entries (sparse 1e5 x 2e4: a fifth of the
    fit) where the loop takes 20 us. Short float64 ones by BLAS, which keeps
    them on one thread and costs a fifth of the loop's 5 us set-up."""
    a, b = a.ravel(), b.ravel()
    if a.size <= SHORT_DOT and a.dtype == b.dtype == np.float64:
        return float(np.dot(a, b))
    return float(np.einsum("i,i->", a, b, dtype=np.float64))


@dataclass
class LbfgsSolver(Solver):
    """:class:`~skgd.solvers.base.Solver` whose epoch is one L-BFGS
    iteration; its memory, metric and kept predictions last one call of
    ``fit`` or ``partial_fit``."""

    _metric: object = field(default=None, repr=False)
    _P: np.ndarray = field(default=None, repr=False)
    _G: np.ndarray = field(default=None, repr=False)
    _grad: np.ndarray = field(default=None, repr=False)
    _since_metric: int = field(default=0, repr=False)
    _norm_at_metric: float = field(default=math.inf, repr=False)
    _memory: tuple = field(default=None, repr=False)
    _ring: np.ndarray = field(default=None, repr=False)
    _compiled: "CompiledIteration" = field(default=None, repr=False)
    _stalled: bool = field(default=False, repr=False)

    name = "lbfgs"
    exact = True
    scale_free = True
    own_rule = "sets its own direction (quasi-Newton) and step (line search)"

    @classmethod
    def first_step(cls, objective, settings, theta):
        """The unit step: the metric's first step, ``B^{-1} grad``, is one
        that the curvature bound ``B`` proves does not overshoot."""
        return 1.0

    def start(self, state):
        objective = self.objective
        if self._metric is None:
            self._metric = curvature_preconditioner(objective)
        theta = state.theta
        # The kept predictions are float64 whatever the data: in float32 the
        # line search's P + t D and its slope are rounded to 1e-7 of |P|,
        # and fits of float32 data stalled at gaps of 6e-5.
        if np.any(theta[:, :-1]):
            P = objective.predictions64(theta)
        else:  # the intercept alone: no pass over X
            bias = theta[:, -1].astype(np.float64) * objective.intercept
            P = np.repeat(bias[np.newaxis], len(objective.Y), axis=0)
        G = np.empty_like(P)
        value = objective.mean_loss(P, G) + objective.penalty.value(theta[:, :-1])
        self._keep(state, P, G, value)
        size = theta.size
        self._memory = (
            np.zeros((MEMORY, size)), np.zeros((MEMORY, size)), np.zeros(MEMORY),
            np.zeros(MEMORY),
        )  # fmt: skip
        # The newest pair's row and the pairs' count (int64, as the kernel's
        # signature says; numpy's default int is 32 bits on Windows).
        self._ring = np.array([-1, 0], dtype=np.int64)
        self._since_metric = 0
        self._compiled = _compiled_iteration(objective, theta, P)

    def run_epoch(self, state):
        if self._P is None:  # after a stall or a divergence's rollback: afresh
            self.start(state)
        objective, l2 = self.objective, self.objective.penalty.l2
        theta, grad, value = state.theta, self._grad, self._cached[1]
        self._maybe_refresh(grad)
        if self._compiled is not None:
            return self._compiled_epoch(state)
        direction = -self._two_loop(grad)
        slope0 = _dot(grad, direction)
        if not slope0 < 0:  # rounding broke the recursion: a plain metric step
            self._ring[1] = 0
            direction = -self._metric.solve(grad)
            slope0 = _dot(grad, direction)
        D = objective.predictions64(direction)
        coef, dcoef = theta[:, :-1].astype(np.float64), direction[:, :-1]
        coef_dot, dcoef_sq = _dot(coef, dcoef), _dot(dcoef, dcoef)
        base_penalty = objective.penalty.value(coef)
        trial, G = np.empty_like(self._P), np.empty_like(self._P)
        evaluated = [None]

        def phi(t):
            # F(theta + t d) and its slope, from P + t D: no pass over X.
            np.multiply(D, t, out=trial)
            np.add(trial, self._P, out=trial)
            evaluated[0] = t
            loss = objective.mean_loss(trial, G)
            penalty = base_penalty + l2 * (t * coef_dot + 0.5 * t * t * dcoef_sq)
            slope = _dot(G, D) / objective.n_train
            return loss + penalty, slope + l2 * (coef_dot + t * dcoef_sq)

        step, value, _ = wolfe_step(phi, value, slope0)
        if self._stalled_at(state, step):
            return step
        if evaluated[0] != step:  # the accepted trial's derivatives into G
            phi(step)
        theta += (step * direction).astype(theta.dtype)
        state.t += 1
        self._keep(state, trial, G, value)
        self._remember(step * direction, self._grad - grad)
        return step

    def _compiled_epoch(self, state):
        # run_epoch's steps in one call (lbfgs_iteration), on small data.
        objective, compiled = self.objective, self._compiled
        S, Y, rho, alphas = self._memory
        metric = self._metric
        step, value = lbfgs_iteration(
            objective.X, objective.Y, objective.W, self._P, self._G, state.theta,
            self._grad, S, Y, rho, alphas, self._ring, metric.inverse,
            metric.inverse_diagonal, compiled.code, compiled.function,
            objective.loss.params_array, float(objective.intercept),
            float(objective.n_train), float(objective.penalty.l2), self._cached[1],
            compiled.lines, compiled.vectors,
        )  # fmt: skip
        if self._stalled_at(state, step):
            return step
        state.t += 1
        self._cached = (state.t, value, self._grad)
        return step

    def _stalled_at(self, state, step):
        """End the epoch; True if it made no step."""
        state.epoch += 1
        self._stalled = step == 0
        if self._stalled:
            # No decrease in floating point. The next epoch starts afresh
            # (start): no memory, and predictions recomputed from theta (the
            # kept ones drift from X theta by theta's rounding). And say the
            # residual is 0, so that the stopping rule checks the gap now
            # rather than wait for a fall that will not come.
            self._P = None
        return self._stalled

    def residual_estimate(self, state):
        if self._stalled:
            return 0.0
        return super().residual_estimate(state)

    def forget(self):
        super().forget()
        self._P = None

    def duality_gap(self, state, target=None):
        objective = self.objective
        if not objective.certifiable:
            return math.inf, math.nan
        theta, P = state.theta, self._P
        if P is None or theta.dtype != np.float64:
            # Fresh predictions: the kept ones follow the unrounded steps,
            # and theta was rounded to float32 after each.
            P = objective.predictions64(theta)
        elif self._settle_intercept(state, target):
            P = self._P
        if self._inlined_certificate():
            gap, value = smooth_gap(
                objective.X, objective.Y, objective.W, P, theta, self._compiled.code,
                float(objective.n_train), float(objective.penalty.l2),
                float(objective.intercept),
            )  # fmt: skip
            if not math.isnan(gap):
                return max(gap, 0.0), value
        return objective.duality_gap(theta, P=P)

    def _inlined_certificate(self):
        """Whether the compiled certificate (smooth_gap) applies: the
        compiled iteration with an inlined loss, one output, an L2 part and
        every row weighted (no rows held out)."""
        compiled, objective = self._compiled, self.objective
        return (
            compiled is not None and compiled.code != CALLED
            and objective.Y.shape[1] == 1 and objective.penalty.l2 > 0
            and compiled.all_weighted
        )  # fmt: skip

    # --- the pieces ----------------------------------------------------------------

    def _settle_intercept(self, state, target):
        """Minimise the objective over the intercept alone before the gap is
        taken: Newton's steps on the kept predictions, each kept only if it
        lowers the objective; True if theta moved. One output, the binary
        log-loss or squared error (:func:`settle_intercept`, compiled, on
        any layout of the data: it reads the predictions only).

        The certificate's dual point must sum to zero with the weights (the
        intercept is not penalised), and the shift that makes it so costs the
        dual about ``b * dF/db``: a gap linear in the intercept's slope,
        where the rest is quadratic in the gradient. On breast_cancer the
        gap at iteration 18 fell from 9.6e-8 to 1.9e-8 (the target 4.3e-8),
        and the fit ends three iterations sooner. The softmax's intercepts
        are coupled, and settling them in numpy cost more than it saved
        (1e5 x 50 x 5 classes: 309 -> 561 ms, as many iterations): not
        settled.
        """
        objective = self.objective
        code = _loss_code(objective.loss)
        if not objective.fit_intercept or code == CALLED or objective.Y.shape[1] != 1:
            return False
        # What the shift costs the certificate, about |b dF/db|: settle only
        # where it could decide the check (on large data the fits converge
        # before it matters, and the steps would cost passes for nothing).
        if target is None or (
            abs(state.theta[0, -1] * self._grad[0, -1]) <= SETTLE_WORTH * target
        ):
            return False
        theta, float64 = state.theta, np.float64
        value, shift = settle_intercept(
            np.ascontiguousarray(objective.Y, dtype=float64),
            np.ascontiguousarray(objective.W, dtype=float64), self._P, self._G, code,
            float(objective.intercept), float(objective.n_train),
            objective.penalty.value(theta[:, :-1]), self._cached[1], SETTLE_STEPS,
        )  # fmt: skip
        if shift == 0.0:
            return False
        theta[:, -1] += shift
        self._keep(state, self._P, self._G, value)
        return True

    def _keep(self, state, P, G, value):
        """Keep the predictions ``P`` at ``state.theta``; cache the objective
        ``value`` there and its gradient, from the loss's derivatives ``G``
        (one product with ``X^T``)."""
        theta = state.theta
        self._P, self._G = P, G
        self._grad = self.objective.gradient_from(G, theta)
        self._cached = (state.t, value, self._grad.astype(theta.dtype, copy=False))

    def _maybe_refresh(self, grad):
        norm = math.sqrt(_dot(grad, grad))
        if self._since_metric == 0:
            self._norm_at_metric = norm
        self._since_metric += 1
        objective = self.objective
        window = self._refresh_window()
        if (
            self._since_metric > window
            and norm * REFRESH_PROGRESS > self._norm_at_metric
            and objective.loss.second_derivative is not None
            and objective.penalty.l2 > 0
        ):
            # The pairs stay: they are secants of the objective, whatever
            # the metric they are applied on.
            self._metric = local_preconditioner(objective, self._P)
            self._since_metric = 0
        elif self._since_metric > window:
            self._since_metric = 0

    def _refresh_window(self):
        theta = self._grad
        if self._metric.inverse.size:
            passes = theta.shape[0] * theta.shape[1] * GRAM_PASSES_PER_FEATURE
        else:
            passes = theta.shape[0]
        return max(REFRESH_AFTER, math.ceil(passes))

    def _remember(self, s, y):
        S, Y, rho, _ = self._memory
        curvature = _dot(s, y)
        if not curvature > np.finfo(np.float64).eps * _dot(y, y):
            return  # no curvature seen along s (rounding): keep the old pairs
        ring = self._ring
        ring[0] = newest = (ring[0] + 1) % MEMORY
        S[newest], Y[newest], rho[newest] = s.ravel(), y.ravel(), 1.0 / curvature
        ring[1] = min(ring[1] + 1, MEMORY)

    def _two_loop(self, grad):
        """``H grad`` for the L-BFGS inverse-Hessian estimate ``H`` from the
        remembered pairs, on the initial metric ``gamma B^{-1}``."""
        S, Y, rho, alphas = self._memory
        out = np.empty(grad.size)
        metric = self._metric
        two_loop(
            S, Y, rho, self._ring[0], self._ring[1], np.ascontiguousarray(grad).ravel(),
            metric.inverse, metric.inverse_diagonal, alphas, out,
        )  # fmt: skip
        return out.reshape(grad.shape)


# The whole iteration runs compiled (lbfgs_iteration) on dense float64 data
# up to this many entries of X times outputs: there an iteration's numpy
# calls cost more than its arithmetic (breast_cancer, 569 x 30: 41 against
# 85 us an epoch; the fit 4.6 -> 3.8 ms); beyond, numpy's BLAS threads and
# vectorised losses win (fits of 1000 x 50: 2.29 against 2.41 ms; 3000 x 50:
# 3.32 against 3.18).
COMPILED_MAX_ENTRIES = 100_000


def _loss_code(loss):
    """The code of ``loss`` among the losses the kernels inline."""
    if loss.name == "log_loss" and not loss.coupled:
        return LOGISTIC
    if loss.name == "squared_error":
        return SQUARED
    return CALLED


class CompiledIteration(NamedTuple):
    """What :func:`lbfgs_iteration` takes besides the solver's state."""

    code: int  # the loss's among the inlined ones (_loss_code)
    function: object  # the loss, called where it is not inlined
    lines: np.ndarray  # work space: predictions along the line (3, n, k)
    vectors: np.ndarray  # work space: parameter-shaped (2, k, d + 1)
    all_weighted: bool  # no row held out (smooth_gap needs every row)


def _compiled_iteration(objective, theta, P):
    """The :class:`CompiledIteration` for ``objective`` when its data are
    small, dense and float64; else None."""
    X, loss = objective.X, objective.loss
    if not (
        isinstance(X, np.ndarray) and X.dtype == np.float64 and X.flags.c_contiguous
        and theta.dtype == np.float64
        and X.size * theta.shape[0] <= COMPILED_MAX_ENTRIES
    ):  # fmt: skip
        return None
    return CompiledIteration(
        _loss_code(loss), loss.function(np.float64), np.empty((3, *P.shape)),
        np.empty((2, *theta.shape)), bool(np.all(objective.W > 0)),
    )  # fmt: skip
