"""The training objective: its value and gradient in one pass over the data.

:class:`Objective` is what every solver descends; it runs the compiled
passes of :mod:`skgd._kernels.passes` over row blocks in threads. The
estimators build it (:mod:`skgd._estimators.base`); the solvers and the
training loop only call :meth:`Objective.evaluate` and its curvature bounds.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._kernels.passes import csr_loss_and_gradient, dense_loss_and_gradient, loss_rows
from .._kernels.threads import map_blocks, row_blocks
from .certificate import duality_gap
from .curvature import (
    EXACT_CURVATURE_MAX_FEATURES,
    largest_row_curvature,
    row_curvatures,
    top_eigenvalue,
    weighted_gram,
)
from .losses import regression_loss
from .penalties import Penalty
from .products import matmul, rmatmul

# What a row's loss costs in entries of X read, to size the row blocks of
# :meth:`Objective.mean_loss` (an exp and a log are some 30 reads' time).
LOSS_ROW_COST = 32

# Dense float64 data up to this many entries get a kept copy with the
# intercept's column (Objective.stacked_rows).
STACKED_MAX_ENTRIES = 200_000


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

    def predictions64(self, theta):
        """``[X, c] theta^T`` in float64 whatever ``X``'s type, without a
        float64 copy of a dense float32 ``X``
        (:func:`~skgd.objective.products.matmul`): the predictions a solver
        keeps and moves along a line, where float32 rounding would hide the
        last decades of the objective."""
        P = matmul(self.X, np.asarray(theta[:, :-1].T, dtype=np.float64))
        P += np.asarray(theta[:, -1], dtype=np.float64) * self.intercept
        return np.ascontiguousarray(P)

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

    @property
    def certifiable(self):
        """Whether :meth:`duality_gap` can prove more than ``P* >= 0``: a
        penalty is needed (without one the dual is trivial), and the
        perceptron's objective has its minimum 0 at zero whatever the data."""
        penalised = self.penalty.l1 > 0 or self.penalty.l2 > 0
        return penalised and self.loss.name != "perceptron"

    def duality_gap(self, theta, P=None):
        """``(gap, P(theta))``: the duality gap at ``theta``, an upper bound on
        ``P(theta) - P*`` (:func:`skgd.objective.certificate.duality_gap`);
        ``P``, the predictions at ``theta`` if known, saves their pass."""
        loss = self.loss
        name = "multinomial" if loss.coupled else loss.name
        if P is None:
            P = self.predict(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            primal, _, gap = duality_gap(
                self.X, self.Y, self.W, self.n_train, theta, name, loss.params,
                self.penalty.l1, self.penalty.l2, self.intercept, P=P,
            )  # fmt: skip
        return max(float(gap), 0.0), float(primal)

    def value_at_zero(self):
        """The objective of all-zero parameters (no pass over ``X`` needed)."""
        P = np.zeros(self.Y.shape, dtype=self.Y.dtype)
        loss = self.loss
        total = loss_rows(
            P, self.Y, self.W, np.empty_like(P), loss.function(P.dtype),
            loss.params_array,
        )  # fmt: skip
        return total / self.n_train

    def mean_loss(self, P, G):
        """The mean weighted loss of the predictions ``P`` (the objective
        without its penalty), each row's weighted derivative written into
        ``G``: a sweep over ``P`` in row blocks in threads, no pass over
        ``X``, so a solver that keeps ``X theta`` evaluates a step along a
        line from it (``X (theta + t d) = X theta + t X d``). The loss's
        numpy form where it has one (:attr:`Loss.rows`), else its kernel."""
        loss, Y, W = self.loss, self.Y, self.W
        if P.dtype != Y.dtype:  # float64 predictions of float32 data
            Y, W = self._float64_targets()
        if loss.rows is not None:
            block = loss.rows
        else:
            function, params = loss.function(P.dtype), loss.params_array

            def block(P, Y, W, G):
                return loss_rows(P, Y, W, G, function, params)

        blocks = row_blocks(P.shape[0], LOSS_ROW_COST * P.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):
            totals = map_blocks(
                lambda k, a, b: block(P[a:b], Y[a:b], W[a:b], G[a:b]), blocks
            )
        return sum(totals) / self.n_train

    def stacked_rows(self):
        """``[X, c]`` (float64, the intercept's column appended), kept for
        small dense float64 data (up to :data:`STACKED_MAX_ENTRIES`), whose
        weighted Gram matrices the quasi-Newton metric forms several times
        a fit: one symmetric product each instead of four numpy calls
        (breast_cancer: the curvature metric 169 -> 130 us); None for other data."""
        cached = getattr(self, "_stacked", False)
        if cached is False:
            X = self.X
            cached = None
            if (
                isinstance(X, np.ndarray) and X.dtype == np.float64
                and X.shape[0] * (X.shape[1] + 1) <= STACKED_MAX_ENTRIES
            ):  # fmt: skip
                cached = np.empty((X.shape[0], X.shape[1] + 1))
                cached[:, :-1] = X
                cached[:, -1] = self.intercept
            self._stacked = cached
        return cached

    def _float64_targets(self):
        cached = getattr(self, "_targets64", None)
        if cached is None:
            cached = self._targets64 = (
                self.Y.astype(np.float64), self.W.astype(np.float64)
            )
        return cached

    def gradient_from(self, G, theta):
        """The objective's gradient at ``theta`` (as :meth:`evaluate`'s, in
        float64) from the rows' weighted loss derivatives ``G`` there
        (:meth:`mean_loss`): ``G^T [X, c] / n_train`` plus the penalty's,
        from one product with ``X^T`` (BLAS threads on dense data)."""
        grad = np.empty((G.shape[1], self.X.shape[1] + 1))
        grad[:, :-1] = rmatmul(self.X, G).T
        grad[:, -1] = G.sum(axis=0, dtype=np.float64) * self.intercept
        grad /= self.n_train
        if not self.fit_intercept:
            grad[:, -1] = 0.0
        self.penalty.add_gradient(theta[:, :-1], grad[:, :-1])
        return grad

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
