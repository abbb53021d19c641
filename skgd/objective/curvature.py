"""How curved the objective can be: the bounds that set a safe step.

The full gradient's Lipschitz constant (the top eigenvalue of the weighted
Gram matrix, exact or by Lanczos), one sample's (the largest row norm), and
the trace, a one-pass bound. The solvers' first steps are their inverses
(:mod:`skgd.solvers`); :class:`skgd.objective.Objective` exposes them.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

from .._kernels.passes import csr_squared_row_norms
from .._kernels.threads import map_blocks, row_blocks

# Up to this many columns of [X, 1], the automatic step computes the
# curvature exactly from the (d+1) x (d+1) Gram matrix; beyond, by Lanczos.
# The Gram matrix is one product, whose n d^2 flops measured cheaper than
# Lanczos's ~8 products with X and X^T up to d ~ 500 (dense, n=200k: 47
# against 210 ms at d=100, 271 against 563 ms at d=300; n=50k, d=1000: 805
# against 511 ms).
EXACT_CURVATURE_MAX_FEATURES = 512


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
        elif in_place and X.dtype == np.float64 and X.shape[0] <= chunk and w.min() >= 0:
            # The loop below in one step, as A^T A with A = diag(sqrt(w)) X:
            # numpy sends that to BLAS's symmetric product (1000 x 50: 94
            # against 198 us for X^T (w X)).
            root = np.sqrt(w)[:, np.newaxis] * X
            core = root.T @ root
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
            raise too_large_to_square(np.sqrt(np.nanmax(np.abs(gram))))
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
        raise too_large_to_square(np.sqrt(largest))
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


def too_large_to_square(magnitude):
    return ValueError(
        "The features are too large to square in floating point (largest "
        f"|x| ~ {magnitude:.3g} or more, the intercept counting as "
        "intercept_scaling): scale the data, for example with "
        "sklearn.preprocessing.StandardScaler."
    )
