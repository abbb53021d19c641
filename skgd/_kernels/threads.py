"""Row-parallel passes: a full-data kernel run on blocks of rows, one per thread.

The objective and its gradient are sums over rows, and the compiled kernels
release the GIL (``nogil``), so each thread can run a kernel on its own
block of rows into its own partial sum. One pass over ``X`` is bound by
memory bandwidth, which one core does not saturate: on two cores a fused
loss-and-gradient pass over 200k x 100 float64 rows measured 19.5 ms on one
thread, against 9.4 ms for one two-thread BLAS ``gemv``.

The number of threads is scikit-learn's for its own OpenMP loops (its
``LogisticRegression`` losses among them): the usable cores, fewer under
``OMP_NUM_THREADS`` or ``threadpoolctl.threadpool_limits``. Block bounds
depend only on the data's size and that number, so a fit is deterministic
on a given machine; a different thread count changes the sums' rounding only.

One more thread runs work that overlaps a pass instead of splitting it: the
next stochastic epoch, started speculatively while the pass that evaluates
the last one runs (:func:`in_background`, ``StochasticSolver.epoch_value``).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

# The entries of X below which a block is not worth a thread: a thread's
# hand-off costs some 20-50 us, about what one core takes for 2**18 entries.
MIN_BLOCK_ENTRIES = 1 << 18

# Background threads: as many fits at once as this can start an epoch ahead
# for without one waiting for another's.
BACKGROUND_THREADS = 32

_pool = None
_background = None
_pool_lock = threading.Lock()


def row_blocks(n_rows, entries_per_row):
    """``(start, stop)`` bounds of the row blocks of one pass: one per thread,
    as many as ``MIN_BLOCK_ENTRIES`` allows, in row order."""
    worth = int(n_rows * max(entries_per_row, 1) // MIN_BLOCK_ENTRIES)
    if worth < 2:  # small data: no thread count to ask for
        return [(0, n_rows)]
    n_blocks = max(1, min(_openmp_effective_n_threads(), worth, n_rows))
    return [
        (k * n_rows // n_blocks, (k + 1) * n_rows // n_blocks) for k in range(n_blocks)
    ]


def map_blocks(func, blocks, serial=False):
    """``[func(k, start, stop) for k, (start, stop) in enumerate(blocks)]``,
    the blocks after the first in worker threads, the first in this one;
    with ``serial``, all in this one (the same blocks: the same sums, bit
    for bit, while another core is busy)."""
    if len(blocks) == 1 or serial:
        return [func(k, start, stop) for k, (start, stop) in enumerate(blocks)]
    pool = _executor(len(blocks) - 1)
    futures = [
        pool.submit(func, k, start, stop)
        for k, (start, stop) in enumerate(blocks[1:], start=1)
    ]
    first = func(0, *blocks[0])
    return [first, *(future.result() for future in futures)]


def all_finite(values):
    """Whether the sum of ``values`` (an array) is finite, summed over row
    blocks in threads: scikit-learn's quick test that every entry is
    finite, which its validation runs on one core (200k x 100 float64:
    6 against 12 ms). A sum that overflows answers False too."""
    if values.ndim == 1:  # (sparse data's stored values)
        values = values.reshape(-1, 1)
    n_rows = values.shape[0]
    if not (values.flags.c_contiguous and n_rows):
        return bool(np.isfinite(np.sum(values, dtype=np.float64)))
    with np.errstate(over="ignore", invalid="ignore"):
        sums = map_blocks(  # (float32 too summed in float64, as scikit-learn)
            lambda k, start, stop: np.sum(values[start:stop], dtype=np.float64),
            row_blocks(n_rows, values.shape[1]),
        )
        return bool(np.isfinite(np.sum(sums)))


def can_overlap():
    """Whether a second thread may run beside this one: scikit-learn's
    thread count (``OMP_NUM_THREADS``, ``threadpool_limits``) allows two."""
    return _openmp_effective_n_threads() >= 2


def in_background(func, *args):
    """Start ``func(*args)`` on a thread of its own and return its future.

    Not the pool of :func:`map_blocks`: work that waits in the background
    (a speculative epoch, ``StochasticSolver``) must never hold up a pass's
    blocks, nor wait behind them. The pool has a thread for each of several
    fits running at once (in a threaded grid search), each fit using one.
    """
    global _background
    with _pool_lock:
        if _background is None or _background[0] != os.getpid():
            _background = (os.getpid(), ThreadPoolExecutor(BACKGROUND_THREADS))
        return _background[1].submit(func, *args)


def _executor(n_workers):
    # One pool per process and size: a forked child (joblib, multiprocessing)
    # inherits the parent's pool object but none of its threads.
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < n_workers:
            if _pool is not None and _pool[0] == os.getpid():
                _pool[2].shutdown(wait=False)
            _pool = (os.getpid(), n_workers, ThreadPoolExecutor(n_workers))
        return _pool[2]
