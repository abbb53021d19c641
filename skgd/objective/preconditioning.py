r"""A fixed metric from the data: a bound on the objective's curvature, computed once.

The loss's second derivative in the prediction is at most ``c`` (1/4 for
the log-loss, 1/2 for the softmax, 1 for squared error: ``Loss.curvature``),
so the objective's Hessian is bounded by (Böhning & Lindsay 1988)

.. math::

    B = \frac{c}{n} [X, 1]^\top W [X, 1] + \lambda_2 \operatorname{diag}(1, \dots, 1, 0).

A gradient step in the metric :math:`B` (``theta - B^{-1} grad``) never
overshoots, and it is invariant to how the features are scaled or mixed:
raw and standardised data take the same steps. For squared error :math:`B`
is the Hessian itself, and the step lands on the optimum. The quasi-Newton
solver (:mod:`skgd.solvers.lbfgs`) starts its metric from :math:`B`.

Data with few columns (dense or sparse) get :math:`B` whole, inverted once
(by Cholesky); wider data get its diagonal (the columns' weighted scales),
which still undoes the features' units.

:func:`local_preconditioner` is the same construction with each row
weighted by its loss's second derivative at given predictions instead of
the bound ``c``: the curvature where the iterate is, which the solver
switches to when the bound proves loose.
"""

import numpy as np
import scipy.sparse as sp

from .._kernels.quasi_newton import spd_inverse
from .curvature import too_large_to_square, weighted_gram

# Up to this many columns, and no more than there are rows, B is formed and
# inverted; beyond, its diagonal. Forming it costs n d^2 flops against a
# pass's n d reads, about d / 30 passes here (n=1e5: d=50 10 ms, a pass
# 4 ms; d=500 640 ms). With more columns than rows, B is singular but for
# the L2 part, and its inverse amplified rounding: fits of weighted rows and
# of the same rows repeated parted after 7 iterations (scikit-learn's
# sample-weight check), where on the diagonal they agree to 1e-12.
GRAM_MAX_FEATURES = 128

# Up to this size the metric is inverted by a compiled Cholesky
# (spd_inverse): 32 x 32 in 14 against 27 us, 52 x 52 in 52 against 66 us,
# through numpy's LAPACK (whose calls cost more than the flops here).
COMPILED_INVERSE_SIZE = 64


class Preconditioner:
    """``B^{-1}`` for the parameters' rows, each of length ``d + 1``, in
    float64: one ``(d + 1) x (d + 1)`` inverse per output, or one shared by
    all (``inverse`` of shape (1 or k, d + 1, d + 1)), or only the
    diagonal's inverse (``inverse_diagonal`` of shape (1 or k, d + 1);
    ``inverse`` is then empty)."""

    def __init__(self, inverse=None, inverse_diagonal=None):
        self.inverse = np.zeros((0, 0, 0)) if inverse is None else inverse
        self.inverse_diagonal = (
            np.zeros((0, 0)) if inverse_diagonal is None else inverse_diagonal
        )

    def solve(self, V):
        """``V B^{-1}`` for ``V`` of shape (k, d + 1)."""
        inverse = self.inverse
        if not inverse.size:
            return V * self.inverse_diagonal
        if len(inverse) == 1:
            return V @ inverse[0]
        return np.einsum("kj,kji->ki", V, inverse)


def curvature_preconditioner(objective):
    """The :class:`Preconditioner` of ``objective``'s curvature bound ``B``
    (module docstring), one for every output."""
    w = objective.W.max(axis=1).astype(np.float64)  # the largest bounds every output's
    return _preconditioner(objective, [w * objective.loss.curvature])


def local_preconditioner(objective, P):
    """The :class:`Preconditioner` of the curvature at the predictions ``P``:
    ``B`` with each row weighted by its loss's second derivative there
    (:attr:`Loss.second_derivative`) instead of its bound, one per output
    (for the softmax, the Hessian's diagonal blocks). Near the minimiser it
    is the Hessian itself (its diagonal blocks), where the bound may be far
    above it: on near-separable data most rows' curvature has vanished."""
    D = objective.loss.second_derivative(P, objective.Y, objective.W)
    return _preconditioner(objective, list(D.T.astype(np.float64)))


def _preconditioner(objective, weights):
    """``c/n [X, c]^T diag(w) [X, c] + L2`` inverted, for each ``w`` of ``weights``."""
    X, intercept = objective.X, objective.intercept
    whole = X.shape[1] <= min(GRAM_MAX_FEATURES, X.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.isfinite(np.float64(intercept) ** 2):
            raise too_large_to_square(abs(intercept))
        stacked = objective.stacked_rows() if whole else None
        if stacked is not None:
            blocks = np.array([_scaled_gram(stacked, w) for w in weights])
        else:
            form = weighted_gram if whole else _weighted_column_squares
            blocks = np.array([form(X, w, intercept) for w in weights])
    if not np.all(np.isfinite(blocks)):
        raise too_large_to_square(np.sqrt(np.nanmax(np.abs(blocks))))
    blocks /= objective.n_train
    ridge = np.full(X.shape[1] + 1, objective.penalty.l2)
    ridge[-1] = 0.0  # the intercept is not penalised
    if whole:
        for B in blocks:
            B[np.diag_indices_from(B)] += ridge
        return Preconditioner(inverse=np.array([_inverse(B) for B in blocks]))
    return Preconditioner(
        inverse_diagonal=np.array([1.0 / _positive(B + ridge) for B in blocks])
    )


def _scaled_gram(stacked, w):
    # [X, c]^T diag(w) [X, c] as R^T R, R = diag(sqrt(w)) [X, c]: one
    # symmetric BLAS product (the weights are never negative). Equal
    # weights (the curvature bound of unweighted rows) need no scaled copy:
    # 130 -> 103 us on 1000 x 51.
    if w.size and w.min() == w.max():
        return (stacked.T @ stacked) * w[0]
    R = np.sqrt(w)[:, np.newaxis] * stacked
    return R.T @ R


def _weighted_column_squares(X, w, intercept):
    # The diagonal of [X, c]^T W [X, c].
    if sp.issparse(X):
        squares = np.asarray(X.multiply(X).T @ w, dtype=np.float64).ravel()
    else:
        squares = np.einsum("ij,ij,i->j", X, X, w.astype(X.dtype), dtype=np.float64)
    return np.append(squares, np.float64(intercept) ** 2 * w.sum())


def _positive(diagonal):
    """``diagonal`` with its non-positive entries (a column of zeros, no
    intercept, no L2 part) raised to the mean positive entry: the gradient
    is zero along such a coordinate, or the loss is flat there."""
    positive = diagonal[diagonal > 0]
    floor = positive.mean() if positive.size else 1.0
    return np.where(diagonal > 0, diagonal, floor)


def _inverse(B):
    """``B^{-1}`` by its Cholesky factor (with a jitter if rounding made
    ``B`` indefinite), symmetrised."""
    diagonal = np.diag(B)
    if not diagonal.min() > 0:
        B[np.diag_indices_from(B)] = _positive(diagonal.copy())
    if len(B) <= COMPILED_INVERSE_SIZE:
        inverse = np.empty_like(B)
        if spd_inverse(B, inverse) and np.all(np.isfinite(inverse)):
            return inverse
    for jitter in (0.0, 1e-12, 1e-8, 1e-4):
        shifted = B + jitter * np.mean(np.diag(B)) * np.eye(len(B)) if jitter else B
        try:
            np.linalg.cholesky(shifted)  # definite: its inverse is safe...
            # (numpy's LAPACK, not scipy's: the two libraries' BLAS threads,
            # both awake, measured 7 ms for a 51 x 51 solve instead of 70 us)
            inverse = np.linalg.inv(shifted)
        except np.linalg.LinAlgError:  # ...unless it is so only by rounding
            continue
        if np.all(np.isfinite(inverse)):
            inverse += inverse.T
            inverse *= 0.5
            return inverse
    # Finite, symmetric, with a positive diagonal: a jitter of 1e-4 of that
    # diagonal always makes it definite; only NaN data could get here.
    raise too_large_to_square(np.sqrt(np.abs(B).max()))
