"""The one training loop: walks the data and calls loss, penalty, optimizer and schedule.

How often the parameters move is the *solver*:

- ``"batch"``: one update per epoch with the exact gradient of the training
  objective, computed with two BLAS passes (``X @ W.T`` then ``X.T @ G``);
- ``"online"``: one update per sample, in a fresh random order each epoch;
- ``"minibatch"``: one update per block of ``batch_size`` samples of that
  order, with the block's mean gradient;
- ``"perturbation"``: no gradient at all. Each epoch is one *trial*: perturb
  the parameters at random, keep the change if the objective improved (a
  (1+1) evolution strategy whose step adapts by Rechenberg's 1/5 success
  rule). One trial costs one evaluation of the objective, about one batch
  iteration, so the solvers compare fairly per epoch.

``online`` is ``minibatch`` with ``batch_size=1`` (the same steps; plain
SGD has faster kernels of its own, equal up to rounding), and ``minibatch``
with ``batch_size >= n_samples`` takes the same steps as ``batch``.

The two solvers that land on the exact optimum by themselves have trainers
of their own, subclasses of :class:`Trainer` chosen in ``_trainers``:
``"accelerated"`` (the default: restarted FISTA with backtracking,
``_accelerated``) and ``"saga"`` (variance-reduced stochastic steps,
``_saga``). When training stops is ``_stopping``'s question.
"""

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

from ._kernels import (
    csr_loss_and_gradient,
    csr_squared_row_norms,
    dense_loss_and_gradient,
    loss_rows,
    stochastic_kernel,
)
from ._losses import regression_loss
from ._penalties import Penalty, squared_norm
from ._stopping import optimality_residual
from ._threads import (
    MIN_BLOCK_ENTRIES,
    can_overlap,
    in_background,
    map_blocks,
    row_blocks,
)

# An epoch whose objective exceeds this multiple of the objective at the
# start of training (or at zero coefficients, whichever is larger) has
# diverged: descent methods with a sane step never get there, while a step
# that is too large grows the objective geometrically and passes it within a
# few epochs.
DIVERGENCE_FACTOR = 1e6

# Up to this many columns of [X, 1], the automatic step computes the
# curvature exactly from the (d+1) x (d+1) Gram matrix; beyond, by Lanczos.
# The Gram matrix is one product, whose n d^2 flops measured cheaper than
# Lanczos's ~8 products with X and X^T up to d ~ 500 (dense, n=200k: 47
# against 210 ms at d=100, 271 against 563 ms at d=300; n=50k, d=1000: 805
# against 511 ms).
EXACT_CURVATURE_MAX_FEATURES = 512

# The solvers that step on the gradient of a sample or a mini-batch.
STOCHASTIC_SOLVERS = ("online", "minibatch")

# From this many entries of X on, a stochastic epoch runs beside the pass
# that evaluates the objective of the epoch before it (Trainer.epoch_value):
# the epoch's kernel is one core's work and the pass would leave the other
# idle. Below, a thread's hand-off costs about what the overlap saves.
LOOKAHEAD_MIN_ENTRIES = MIN_BLOCK_ENTRIES
# A look-ahead copies the state twice and compares it once: it is taken
# where X holds at least this many times the state's entries.
STATE_COPIES_PER_EPOCH = 8

# The solvers that can measure their own distance from the optimum, and so
# stop on it (``_stopping.OptimalityStopping``).
DETERMINISTIC_SOLVERS = ("accelerated", "batch", "saga")


class DivergenceError(ValueError):
    """Training diverged: the objective became non-finite or exploded."""


@dataclass
class Objective:
    """The training objective ``(1/n) sum_i w_i loss(y_i, theta x_i) + penalty(W)``.

    ``W`` holds each sample's weight divided by the mean weight of the
    training rows (zero for rows held out for validation), so the objective is
    the weighted mean loss ``(1/S) sum_i s_i loss_i`` of the documentation.
    ``theta``'s last column weighs a constant feature of value ``intercept``
    (the estimator's ``intercept_scaling``; 0 without an intercept), so the
    intercept is ``intercept * theta[:, -1]``.
    """

    X: object
    Y: np.ndarray
    W: np.ndarray
    n_train: int
    loss: object
    penalty: object
    intercept: float

    @property
    def fit_intercept(self):
        return self.intercept != 0.0

    def predict(self, theta):
        P = self.X @ theta[:, :-1].T
        P += theta[:, -1] * self.intercept
        return np.ascontiguousarray(P, dtype=self.Y.dtype)

    def curvature(self):
        """:func:`largest_curvature` of the training rows."""
        return largest_curvature(self.X, self.W, self.n_train, self.intercept)

    def row_curvature(self):
        """:func:`largest_row_curvature` of the training rows."""
        return largest_row_curvature(self.X, self.W, self.intercept)

    def trace_curvature(self):
        """The trace of the weighted Gram matrix of ``[X, c]`` over ``n_train``,
        ``sum_i w_i (||x_i||^2 + c^2) / n_train``: a bound on the full
        curvature (:meth:`curvature`) that costs one pass, and that a repeated
        row and a weight of 2 give alike."""
        return (
            float(row_curvatures(self.X, self.W, self.intercept).sum()) / self.n_train
        )

    def value_at_zero(self):
        """The objective of all-zero parameters (no pass over ``X`` needed)."""
        P = np.zeros(self.Y.shape, dtype=self.Y.dtype)
        loss = self.loss
        total = loss_rows(
            P, self.Y, self.W, np.empty_like(P), loss.function(P.dtype),
            loss.params_array,
        )  # fmt: skip
        return total / self.n_train

    def evaluate(self, theta, gradient=True, serial=False):
        """The objective at ``theta`` and its gradient (same shape as ``theta``;
        None without ``gradient``, which saves a scatter pass on sparse ``X``).
        ``serial`` runs the row blocks one after the other in this thread,
        to the same bits."""
        X = self.X
        if sp.issparse(X) and X.format == "csr" and X.data.flags.writeable:
            entries_per_row = X.nnz / max(X.shape[0], 1)
        elif not sp.issparse(X) and X.flags.c_contiguous:
            entries_per_row = X.shape[1]
        else:  # other layouts: two BLAS passes rather than a copy of X
            return self._finish(theta, *self._blas_pass(theta, gradient), gradient)
        blocks = row_blocks(X.shape[0], entries_per_row * theta.shape[0])
        shape = theta.shape if gradient else (0, 0)
        grads = [np.empty(shape, dtype=np.float64) for _ in blocks]
        with np.errstate(over="ignore", invalid="ignore"):
            totals = map_blocks(
                lambda k, start, stop: self._block_pass(
                    theta, grads[k], start, stop, gradient
                ),
                blocks,
                serial,
            )
        return self._finish(theta, sum(totals), sum(grads[1:], grads[0]), gradient)

    @property
    def size(self):
        """The entries of ``X`` a pass reads (stored ones, for sparse data)."""
        X = self.X
        return X.nnz if sp.issparse(X) else X.shape[0] * X.shape[1]

    def _block_pass(self, theta, grad, start, stop, gradient):
        # One compiled pass over rows start:stop, their gradient into ``grad``.
        X, loss, rows = self.X, self.loss, slice(start, stop)
        function = loss.function(theta.dtype)
        if sp.issparse(X):
            return csr_loss_and_gradient(
                X.data, X.indices, X.indptr[start : stop + 1], self.Y[rows],
                self.W[rows], theta, grad, function, loss.params_array,
                self.intercept, gradient,
            )  # fmt: skip
        return dense_loss_and_gradient(
            X[rows], self.Y[rows], self.W[rows], theta, grad, function,
            loss.params_array, self.intercept, gradient,
        )  # fmt: skip

    def _blas_pass(self, theta, gradient):
        loss = self.loss
        grad = np.empty(theta.shape if gradient else (0, 0), dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            P = self.predict(theta)
            G = np.empty_like(P)
            total = loss_rows(
                P, self.Y, self.W, G, loss.function(P.dtype), loss.params_array
            )
            if gradient:
                grad[:, :-1] = (self.X.T @ G).T
                grad[:, -1] = G.sum(axis=0) * self.intercept
        return total, grad

    def _finish(self, theta, total, grad, gradient):
        # The mean loss plus the penalty; the gradient likewise.
        coef = theta[:, :-1]
        value = total / self.n_train + self.penalty.value(coef)
        if not gradient:
            return value, None
        grad /= self.n_train
        if not self.fit_intercept:
            grad[:, -1] = 0.0
        self.penalty.add_gradient(coef, grad[:, :-1])
        return value, grad.astype(theta.dtype, copy=False)


def largest_curvature(X, W, n_train, intercept):
    """Largest eigenvalue of ``[X, c]^T diag(W) [X, c] / n_train``.

    Times the loss's curvature bound, plus the L2 strength, it is the
    Lipschitz constant of the full gradient, whose inverse is the classic
    safe step of full-batch gradient descent. ``c`` is ``intercept``, the
    value of the intercept's constant feature (0 without one). See
    :func:`top_eigenvalue` for how it is computed.
    """
    # Per-output weights (one-vs-rest): the largest bounds every output's curvature.
    w = W.max(axis=1)
    size = X.shape[1] + 1
    if size <= EXACT_CURVATURE_MAX_FEATURES:
        return top_eigenvalue(size, gram=weighted_gram(X, w, intercept) / n_train)
    return top_eigenvalue(
        size, matvec=lambda v: weighted_gram_matvec(X, w, intercept, v) / n_train
    )


def weighted_gram(X, w, intercept, chunk=65536, in_place=True):
    """``[X, c]^T diag(w) [X, c]`` in float64, without forming ``[X, c]``.

    ``X^T diag(w) X`` is one product: BLAS on dense data when the weights are
    all equal and ``in_place`` (no copy of ``X``), a sparse product on
    sparse data; otherwise a sum over copies of ``chunk`` rows at a time,
    scaled by their weights. The intercept's row and column are ``c X^T w``
    and ``c^2 sum(w)``. BLAS's rounding may depend on where ``X`` lies in
    memory (its alignment): a block sent to a dask worker lies elsewhere at
    every fit, so that only its copies give the same bits every time.
    """
    w = np.asarray(w, dtype=np.float64)
    d = X.shape[1]
    core = None
    with np.errstate(over="ignore", invalid="ignore"):
        if sp.issparse(X):
            weighted = X.multiply(w[:, np.newaxis]).tocsr()
            core = np.asarray((X.T @ weighted).toarray(), dtype=np.float64)
        elif in_place and w.size and w.min() == w.max():
            core = w[0] * (X.T @ X).astype(np.float64)
        if core is not None and np.all(np.isfinite(core)):
            # w in X's dtype: a float64 w would make numpy copy a float32 X.
            column = np.asarray(X.T @ w.astype(X.dtype), dtype=np.float64).ravel()
        else:  # (float32 products may overflow where float64 ones do not)
            core, column = np.zeros((d, d)), np.zeros(d)
            for start in range(0, X.shape[0], chunk):
                rows = slice(start, start + chunk)
                block = X[rows]
                block = (
                    block.toarray() if sp.issparse(block) else np.array(block)
                ).astype(np.float64, copy=False)
                core += block.T @ (block * w[rows, np.newaxis])
                column += block.T @ w[rows]
        gram = np.empty((d + 1, d + 1))
        gram[:d, :d] = core
        gram[:d, d] = gram[d, :d] = intercept * column
        gram[d, d] = intercept**2 * w.sum()
    return gram


def weighted_gram_matvec(X, w, intercept, v):
    """``[X, c]^T diag(w) [X, c] v``, in float64.

    It is the gradient at ``v`` of ``(1/2) sum_i w_i ([x_i, c] . v)^2``, a
    squared error against zero targets: one fused pass of the objective's
    kernels over ``X``, in threads, instead of the two products ``X v`` and
    ``X^T u`` (measured on 200k x 100 float64: 13 against 28 ms).
    """
    dtype = X.dtype
    gram_form = Objective(
        X, np.zeros((X.shape[0], 1), dtype),
        np.ascontiguousarray(np.reshape(w, (-1, 1)), dtype=dtype), 1,
        regression_loss("squared_error"), Penalty(), float(intercept),
    )  # fmt: skip
    _, grad = gram_form.evaluate(np.reshape(v, (1, -1)).astype(dtype))
    return grad.ravel().astype(np.float64)


def top_eigenvalue(size, gram=None, matvec=None):
    """The largest eigenvalue of a ``size x size`` positive semi-definite matrix.

    Given the matrix (``gram``), computed exactly. Given only products with
    it (``matvec``), estimated by a few Lanczos iterations (ARPACK), which
    approach the eigenvalue from below, so the estimate is raised by 2% to
    keep a step of its inverse safe. The start vector is fixed, not drawn
    from the estimator's random state, so the step depends on the data alone.
    """
    if gram is not None:
        if not np.all(np.isfinite(gram)):
            raise _too_large_to_square(np.sqrt(np.nanmax(np.abs(gram))))
        return float(np.linalg.eigvalsh(gram)[-1])
    start_vector = np.random.RandomState(0).standard_normal(size)
    if not np.any(matvec(start_vector)):  # all-zero data: ARPACK cannot start
        return 0.0
    operator = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
    (eigenvalue,) = eigsh(
        operator, k=1, which="LA", tol=1e-2, ncv=min(8, size), v0=start_vector,
        return_eigenvectors=False,
    )  # fmt: skip
    return 1.02 * max(float(eigenvalue), 0.0)


def row_curvatures(X, W, intercept):
    """``w_i (||x_i||^2 + c^2)`` of every row: the curvature of each sample's
    term (times the loss's curvature bound), in float64."""
    with np.errstate(over="ignore"):
        squared_norms = squared_row_norms(X)
        curvatures = W.max(axis=1) * (squared_norms + np.float64(intercept) ** 2)
    largest = float(np.max(curvatures, initial=0))
    if not np.isfinite(largest):
        raise _too_large_to_square(np.sqrt(largest))
    return curvatures


def squared_row_norms(X):
    """``||x_i||^2`` of every row of a dense or sparse ``X``, in row blocks
    in threads (200k x 100 dense: 8.6 against 14 ms on one core; CSR rows
    are summed from their stored values, without squaring a copy of them:
    200k x 50k tf-idf rows 5 against 25 ms)."""
    if sp.issparse(X):
        X = X.tocsr()
        if not X.has_canonical_format:  # duplicates must add up before squaring
            X = X.copy()
            X.sum_duplicates()
        norms = np.empty(X.shape[0])

        def block(k, start, stop):
            csr_squared_row_norms(X.data, X.indptr[start : stop + 1], norms[start:stop])

        entries_per_row = X.nnz / max(X.shape[0], 1)
    else:
        norms = np.empty(X.shape[0], dtype=X.dtype)

        def block(k, start, stop):  # numpy's loops release the GIL: in threads
            rows = X[start:stop]
            np.einsum("ij,ij->i", rows, rows, out=norms[start:stop])

        entries_per_row = X.shape[1]
    map_blocks(block, row_blocks(X.shape[0], entries_per_row))
    return norms


def largest_row_curvature(X, W, intercept):
    """``max_i w_i (||x_i||^2 + c^2)``: the largest curvature of one sample's term.

    Its inverse is the safe step of the online and mini-batch solvers, the
    way scikit-learn's SAG solver picks its automatic step.
    """
    return float(np.max(row_curvatures(X, W, intercept), initial=0))


def _too_large_to_square(magnitude):
    return ValueError(
        "The features are too large to square in floating point (largest "
        f"|x| ~ {magnitude:.3g} or more, the intercept counting as "
        "intercept_scaling): scale the data, for example with "
        "sklearn.preprocessing.StandardScaler."
    )


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
class Trainer:
    """One way of walking the data: the solver and the pieces it calls."""

    objective: Objective
    solver: str
    batch_size: int
    optimizer: object
    schedule: object
    eta0: float
    shuffle: bool | str  # True, False or "blocks"
    rng: np.random.RandomState
    train_rows: np.ndarray
    average_start: int = 0
    automatic_eta0: bool = False
    running_loss: bool = False
    cumulative_l1: bool = False
    passive_aggressive: int = 0  # 1: PA-I, 2: PA-II (learning_rate='pa1'/'pa2')
    epoch_total: float = field(default=0.0, repr=False)  # the last epoch's losses
    _cached: tuple = field(default=None, repr=False)
    _l1_state: tuple = field(default=None, repr=False)
    _ahead: Lookahead = field(default=None, repr=False)

    def l1_state(self, theta):
        """``(q, u)`` of SGD's cumulative L1 penalty: what each coefficient
        lost to it, and the most it may have lost, over this trainer's
        epochs (one ``fit`` or ``partial_fit`` call, as in SGD). Empty ``q``
        for the proximal step, or without L1."""
        if self._l1_state is None:
            cumulative = self.cumulative_l1 and self.objective.penalty.l1 > 0
            shape = (theta.shape[0], theta.shape[1] - 1) if cumulative else (0, 0)
            self._l1_state = (np.zeros(shape, dtype=theta.dtype), np.zeros(1))
        return self._l1_state

    def rates(self, state, n_updates):
        t = state.t + np.arange(n_updates)
        rates = self.schedule.rates(t, state.epoch, self.eta0) * state.lr_factor
        if not np.all(np.isfinite(rates) & (rates >= 0)):
            index = np.flatnonzero(~(np.isfinite(rates) & (rates >= 0)))[0]
            raise ValueError(
                f"The learning rate schedule returned {float(rates[index])!r} at "
                f"update {state.t + index}; "
                "learning rates must be finite and non-negative."
            )
        return rates

    def epoch_order(self, batch_size):
        """The training rows in the order this epoch visits them."""
        if not self.shuffle:
            return self.train_rows
        if self.shuffle == "blocks" and batch_size > 1:
            return shuffled_blocks(self.train_rows, batch_size, self.rng)
        return self.rng.permutation(self.train_rows)

    @property
    def uses_full_gradient(self):
        """Whether the solver forms the objective's full gradient. The
        stochastic ones need only its value after an epoch, which on sparse
        data costs half the pass (no scatter into the gradient)."""
        return self.solver not in STOCHASTIC_SOLVERS

    def evaluate(self, state):
        """The objective at the current parameters (cached for the next step)."""
        if self._cached is not None and self._cached[0] == state.t:
            return self._cached[1]
        # While an epoch runs ahead on the other core, one thread evaluates
        # (only in-memory objectives look ahead: see looks_ahead).
        options = {"serial": True} if self._ahead is not None else {}
        value, grad = self.objective.evaluate(
            state.theta, gradient=self.uses_full_gradient, **options
        )
        self._cached = (state.t, value, grad)
        return value

    def forget(self):
        """Drop the cached evaluation (the parameters were rolled back)."""
        self._cached = None
        self.drop_lookahead()

    @property
    def looks_ahead(self):
        """Whether the next epoch may run beside the objective's pass: for
        the stochastic solvers, whose epochs need the objective's value only,
        on data in memory large enough to gain from it, where two threads
        are allowed."""
        return (
            self.solver in STOCHASTIC_SOLVERS
            and not self.running_loss
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

    def gradient_norm(self, state):
        """Norm of the objective's gradient at the current parameters; NaN for
        the stochastic solvers, which never form it."""
        if not self.uses_full_gradient:
            return math.nan
        self.evaluate(state)
        return float(np.linalg.norm(self._cached[2]))

    def start(self, state):
        """Before the first epoch: the first step's gradient, where one is needed."""
        if self.uses_full_gradient:
            self.evaluate(state)

    def value_at_zero(self, state):
        """The objective at all-zero parameters: the cached evaluation when
        training starts there (the full-batch solvers' first gradient pass),
        else the objective's own, which needs no pass over ``X``."""
        cached = self._cached
        if cached is not None and cached[0] == state.t and not np.any(state.theta):
            return cached[1]
        return self.objective.value_at_zero()

    def gradient_at(self, state):
        """The exact gradient of the smooth part at the current parameters
        (cached: a pass over the data only if the last evaluation lacked it)."""
        cached = self._cached
        if cached is None or cached[0] != state.t or cached[2] is None:
            value, grad = self.objective.evaluate(state.theta)
            self._cached = cached = (state.t, value, grad)
        return cached[2]

    def gradient_norm_at_zero(self, state):
        """Norm of the smooth part's gradient at all-zero parameters: the
        optimality residual's scale (free when training starts from zero)."""
        if not np.any(state.theta):
            return float(np.linalg.norm(self.gradient_at(state)))
        _, grad = self.objective.evaluate(np.zeros_like(state.theta))
        return float(np.linalg.norm(grad))

    def optimality(self, state, threshold):
        """:func:`~skgd._stopping.optimality_residual` at the current parameters.

        ``threshold`` is the value the stopping rule compares it with: a
        trainer whose exact residual costs a pass may return a cheaper
        estimate while that estimate is clearly above it.
        """
        grad = self.gradient_at(state)
        return optimality_residual(state.theta, grad, self.objective.penalty.l1)

    def run_epoch(self, state):
        """One epoch; returns the learning rate (or trial step) of its last update."""
        if self.solver == "batch":
            rate = self._batch_epoch(state)
        elif self.solver == "perturbation":
            rate = self._perturbation_epoch(state)
        else:
            rate = self._take_lookahead(state)
            if rate is None:
                rate, self.epoch_total = self._stochastic_epoch(
                    state, self.l1_state(state.theta)
                )
            if self.running_loss:
                self.record_running_loss(state, self.epoch_total)
        state.epoch += 1
        return rate

    def _average(self, state):
        start = self.average_start
        if 0 < start <= state.t:
            state.averaged += (state.theta - state.averaged) / (state.t - start + 1)

    def _perturbation_epoch(self, state):
        # Rechenberg's 1/5 rule: a success multiplies the step by e^(1/3), a
        # failure by e^(-1/12), so the step is stable at a 1/5 success rate.
        current = self.evaluate(state)
        step = self.eta0 * state.lr_factor
        candidate = state.theta.copy()
        noise = self.rng.standard_normal(candidate.shape).astype(candidate.dtype)
        if not self.objective.fit_intercept:
            noise[:, -1] = 0.0
        with np.errstate(over="ignore", invalid="ignore"):  # a huge step: rejected
            candidate += step * noise
        value, grad = self.objective.evaluate(candidate)
        state.t += 1
        if value < current:
            state.theta[...] = candidate
            state.lr_factor *= math.exp(1.0 / 3.0)
            self._cached = (state.t, value, grad)
        else:
            state.lr_factor *= math.exp(-1.0 / 12.0)
            self._cached = (state.t, current, self._cached[2])
        self._average(state)
        return step

    def _batch_epoch(self, state):
        if self._cached is None or self._cached[0] != state.t:
            self.evaluate(state)
        grad = self._cached[2]
        rate = float(self.rates(state, 1)[0])
        opt = self.optimizer
        opt.kernel(
            state.theta, grad, state.optimizer_state, rate, state.t + 1, opt.hyper_array
        )
        self.objective.penalty.prox(state.theta[:, :-1], rate)
        state.t += 1
        self._average(state)
        return rate

    def _stochastic_epoch(self, state, l1_state, cancel=None):
        """One online or mini-batch epoch from ``state`` (updated in place),
        the cumulative L1 totals ``l1_state`` likewise: its last rate and the
        sum of the losses it met. Setting ``cancel[0]`` from another thread
        ends it early, to be discarded."""
        cancel = np.zeros(1, dtype=np.uint8) if cancel is None else cancel
        batch_size = 1 if self.solver == "online" else self.batch_size
        order = self.epoch_order(batch_size)
        n_updates = -(-len(order) // batch_size)
        rates = self.rates(state, n_updates)
        obj, opt = self.objective, self.optimizer
        X = obj.X
        plain = opt.name == "sgd" and opt.hyper[0] == 0.0
        q, u = l1_state
        kernel = stochastic_kernel(
            sp.issparse(X), plain, batch_size, obj.penalty.l1, q.shape[0] > 0
        )
        data = (X.data, X.indices, X.indptr) if sp.issparse(X) else (X,)
        total = kernel(
            *data, obj.Y, obj.W, order, batch_size, state.theta,
            state.optimizer_state, state.averaged, self.average_start, rates,
            state.t, obj.loss.function(state.theta.dtype), obj.loss.params_array,
            opt.function(state.theta.dtype), opt.hyper_array, obj.penalty.l2,
            obj.penalty.l1, float(obj.intercept), plain, q, u, self.passive_aggressive,
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


class History:
    """Per-epoch records of a fit, exposed as the estimator's ``history_``."""

    def __init__(self, with_validation=False, with_theta=False):
        self.start = time.perf_counter()
        keys = [
            "loss",
            "learning_rate",
            "grad_norm",
            "coef_norm",
            "lr_halvings",
            "time",
        ]
        if with_validation:
            keys.append("val_score")
        if with_theta:
            keys.append("theta")
        self.records = {key: [] for key in keys}

    def record(self, **values):
        values["time"] = time.perf_counter() - self.start
        for key, value in values.items():
            if key in self.records:
                self.records[key].append(value)


class Records(Mapping):
    """``history_``: every record of the epochs since the last ``fit``, each
    a read-only array with one entry per epoch (a mapping, not a dict:
    ``dict(history_)`` makes one).

    ``partial_fit`` appends its epochs to the lists its previous records
    hold (:meth:`extended`), so a stream of calls costs each call its own
    epochs only; rebuilding the arrays at every call made a long stream
    quadratic (20 000 calls of 100 rows: 1.3 -> 2.7 ms a call). The arrays
    are built when first read.

    Records share lists with the records they extend, up to their own
    ``size``: a holder that finds the lists longer than that (an estimator
    rolled back after a failed call, or a shallow copy extended by another)
    copies its part before appending.
    """

    def __init__(self, lists, size):
        self._lists = lists
        self._size = size
        self._arrays = {}

    @classmethod
    def of(cls, history):
        """The records of one run (a :class:`History`)."""
        return cls(dict(history.records), len(history.records["loss"]))

    def extended(self, history):
        """These records followed by those of ``history`` (a later run). A
        record only one of them has is NaN-filled for the other's epochs, or
        dropped if it is a path of arrays (``coef``, ``intercept``)."""
        size, new = self._size, history.records
        if all(len(values) == size for values in self._lists.values()):
            lists = dict(self._lists)  # the lists themselves grow in place
        else:
            lists = {key: values[:size] for key, values in self._lists.items()}
        n_new = len(new["loss"])
        merged = {}
        for key in dict.fromkeys([*lists, *new]):
            old, added = lists.get(key), new.get(key)
            if old is None or added is None:
                known = old or added
                if known and np.ndim(known[0]) > 0:
                    continue
                old = [math.nan] * size if old is None else old
                added = [math.nan] * n_new if added is None else added
            old.extend(added)
            merged[key] = old
        return Records(merged, size + n_new)

    def as_list(self, key):
        """Record ``key`` as a list of floats: the list itself, which later
        ``partial_fit`` calls extend in place (``loss_curve_``, as
        MLPRegressor's)."""
        values = self._lists[key]
        return values if len(values) == self._size else values[: self._size]

    def __getitem__(self, key):
        array = self._arrays.get(key)
        if array is None:
            values = self._lists[key][: self._size]
            array = self._arrays[key] = np.asarray(values, dtype=np.float64)
            array.flags.writeable = False  # shared by every reader
        return array

    def __iter__(self):
        return iter(self._lists)

    def __len__(self):
        return len(self._lists)

    def __repr__(self):
        return repr(dict(self))

    def __getstate__(self):  # its own epochs; the arrays are rebuilt on reading
        size = self._size
        lists = {k: v if len(v) == size else v[:size] for k, v in self._lists.items()}
        return {"_lists": lists, "_size": size, "_arrays": {}}


AUTO_ADVICE = "eta0='auto', "


def _divergence_message(epoch, value, reference, rate, automatic=False):
    what = "became non-finite" if not np.isfinite(value) else (
        f"grew to {value:.3g}, over {DIVERGENCE_FACTOR:.0e} times its starting "
        f"value {reference:.3g}"
    )  # fmt: skip
    return (
        f"Training diverged at epoch {epoch}: the training objective {what}. "
        f"The learning rate (last {rate:.3g}) is too large for this data. Try "
        f"{'' if automatic else AUTO_ADVICE}a smaller eta0, or scaling the "
        "features (for example with "
        "sklearn.preprocessing.StandardScaler); divergence_recovery=N retries with "
        "the rate halved up to N times."
    )


def _overflow_message(epoch):
    # scikit-learn SGD's words, for the one divergence it detects.
    return (
        f"Floating-point under-/overflow occurred at epoch #{epoch}. Scaling input "
        "data with StandardScaler or MinMaxScaler might help."
    )


def train(
    trainer, state, *, n_epochs, stopping=None, validation=None, verbose=0,
    callbacks=None, max_halvings=0, record_theta=False, restore_best=True,
    check_growth=True,
):  # fmt: skip
    """Run up to ``n_epochs`` epochs from ``state`` (updated in place).

    Parameters
    ----------
    trainer : Trainer
        The data and the pieces.
    state : TrainingState
        Where training starts; holds where it ended on return. On divergence
        it is rolled back to the last epoch with a finite objective before
        :class:`DivergenceError` is raised.
    n_epochs : int
        The most epochs to run.
    stopping : Stopping, OptimalityStopping or None
        The stopping rule (see ``_stopping``); None runs every epoch.
    validation : callable or None
        ``validation(theta) -> score`` (higher is better). Given one, the
        stopping rule watches the score.
    verbose : int
        Print one line per epoch if positive.
    callbacks : EpochCallbacks or None
        scikit-learn callbacks, called around every epoch; one may stop
        training.
    max_halvings : int
        How many diverging epochs may be undone and retried with the
        learning rate halved before :class:`DivergenceError` is raised.
    record_theta : bool
        Also record the parameters after every epoch.
    restore_best : bool
        With ``validation``, end at the parameters of the best epoch, as
        MLPRegressor's early stopping does.
    check_growth : bool
        Treat an objective that is non-finite or grew ``DIVERGENCE_FACTOR``
        times as divergence. Without, as scikit-learn's SGD, only non-finite
        parameters are.

    Returns
    -------
    n_run : int
        Epochs run (retried epochs not counted).
    converged : bool
        True if the stopping rule ended training.
    history : History
        What happened at each epoch.
    best : tuple or None
        ``(score, theta)`` of the best validation epoch, with ``validation``.
    """
    history = History(with_validation=validation is not None, with_theta=record_theta)
    trainer.start(state)
    zero_value = trainer.value_at_zero(state)
    if stopping is not None:
        stopping.start(trainer, state)
    # The scale divergence is judged against: kept across partial_fit calls
    # and warm starts, so a loss that grows a little per call is still caught.
    if state.reference > 0:
        reference = max(zero_value, state.reference)
    elif np.any(state.theta):  # a user's start: its objective sets the scale
        reference = max(trainer.evaluate(state), zero_value)
    else:  # all-zero parameters: no pass over the data needed
        reference = zero_value
    best = None
    converged, n_run, halvings = False, 0, 0
    try:
        while n_run < n_epochs:
            saved = state.copy()
            if callbacks is not None:
                callbacks.begin_epoch(state)
            rate = trainer.run_epoch(state)
            value = trainer.epoch_value(state, more=n_run + 1 < n_epochs)
            grew = not np.isfinite(value) or (
                reference > 0 and value > DIVERGENCE_FACTOR * reference
            )
            if not np.all(np.isfinite(state.theta)) or (check_growth and grew):
                state.restore(saved)
                trainer.forget()
                message = (
                    _divergence_message(
                        state.epoch + 1, value, reference, rate, trainer.automatic_eta0
                    )
                    if check_growth
                    else _overflow_message(state.epoch + 1)
                )
                if halvings >= max_halvings:
                    if max_halvings:
                        message += f" (Halving the learning rate {halvings} times did not help.)"
                    raise DivergenceError(message)
                # Recovery: undo the epoch, halve the rate, try again.
                halvings += 1
                state.lr_factor /= 2.0
                if verbose:
                    print(
                        f"-- {message.split(':')[0]}; retrying with the learning rate halved"
                    )
                if callbacks is not None:
                    callbacks.end_epoch(state)
                continue
            n_run += 1
            if reference == 0:
                # A loss that is 0 at the start (the perceptron's at zero
                # coefficients) has no scale yet: the first positive epoch sets it.
                # (at least 1: the weights average 1, so a margin loss costs ~1 at
                # zero; rounding noise must not become the scale)
                reference = max(value, 1.0)
            coef_norm = math.sqrt(squared_norm(state.theta[:, :-1]))
            monitored, score = value, None
            if validation is not None:
                score = validation(state.theta)
                monitored = -score
                if best is None or score > best[0]:
                    best = (score, state.theta.copy())
            history.record(
                loss=value, learning_rate=rate, grad_norm=trainer.gradient_norm(state),
                coef_norm=coef_norm, val_score=score, lr_halvings=halvings,
                theta=state.theta.copy() if record_theta else None,
            )  # fmt: skip
            if verbose:
                extra = "" if score is None else f", validation score {score:.6g}"
                print(
                    f"-- Epoch {state.epoch}: objective {value:.6g}{extra}, "
                    f"norm {coef_norm:.4g}, learning rate {rate:.4g}, "
                    f"{history.records['time'][-1]:.3f} s"
                )
            stop_requested = callbacks is not None and callbacks.end_epoch(state)
            if stopping is not None and stopping.should_stop(monitored, state, trainer):
                converged = True
                break
            if stop_requested:
                break
    finally:
        trainer.drop_lookahead()  # one begun for an epoch that will not run
    state.reference = reference
    if best is not None and restore_best:
        state.theta[...] = best[1]
    return n_run, converged, history, best
