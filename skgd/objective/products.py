"""Products with ``X`` summed in float64, without copying a float32 ``X`` whole.

The certificate's two products (the predictions, and ``X^T (W alpha)``), and
the gradients of :mod:`skgd.solvers.lbfgs`: a float32 sum would move the gap
by 1e-9 to 1e-8 of the objective, and a gradient by as much.
"""

import numpy as np
import scipy.sparse as sp

from .._kernels.passes import csr_transpose_product

# Rows of a float32 X converted to float64 at a time: 2 MiB, which stays in
# the cache for the product that follows.
_BLOCK_ENTRIES = 1 << 18


def dot(a, b):
    """``a . b`` for long 1-d arrays, by numpy's own loop: BLAS's dot splits
    a long vector over threads, and a thread that waits for a busy core can
    make it 100 times slower than the loop."""
    return float(np.einsum("i,i->", a, b))


def matmul(X, B):
    """``X @ B`` in float64 for ``B`` of shape (d, k); X dense or CSR."""
    if sp.issparse(X):
        return np.asarray(X @ B, dtype=np.float64)
    if X.dtype == np.float64:
        return X @ B
    # float32 dense: convert row blocks so that the sums run in float64
    # without a full float64 copy of X.
    n, d = X.shape
    rows = max(1, _BLOCK_ENTRIES // max(d, 1))
    out = np.empty((n, B.shape[1]), dtype=np.float64)
    for start in range(0, n, rows):
        out[start : start + rows] = X[start : start + rows].astype(np.float64) @ B
    return out


def rmatmul(X, A):
    """``X.T @ A`` in float64 for ``A`` of shape (n, k); X dense or CSR.

    One column is passed as a vector (a matrix-vector product is faster than
    a one-column matrix product). A float32 X is never copied whole to
    float64 (its products would be summed in float32, which moved the gap by
    1e-9 to 1e-8 of the objective on 1e5 rows, and made it negative): dense,
    row blocks are converted in the cache; CSR, a compiled kernel reads the
    float32 values and sums in float64."""
    vector = A.shape[1] == 1
    B = A[:, 0] if vector else A
    if sp.issparse(X):
        if X.dtype == np.float32 and X.format == "csr":
            out = np.zeros((X.shape[1], A.shape[1]))
            csr_transpose_product(
                X.indptr, X.indices, X.data, np.ascontiguousarray(A, np.float64), out
            )
            return out
        out = np.asarray(X.T @ B, dtype=np.float64)
    elif X.dtype == np.float64:
        # (A^T X)^T: OpenBLAS streams X once for all k columns this way;
        # X^T A measured 1.6 times slower (1e5 x 50, k = 5: 6.1 against 3.7 ms).
        out = X.T @ B if vector else (B.T @ X).T
    else:
        n, d = X.shape
        rows = max(1, _BLOCK_ENTRIES // max(d, 1))
        out = np.zeros((d,) + B.shape[1:], dtype=np.float64)
        block = np.empty((min(rows, n), d), dtype=np.float64)
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            part = block[: stop - start]
            part[...] = X[start:stop]  # float32 -> float64 in the cache
            out += part.T @ B[start:stop]
    return out[:, None] if vector else out
