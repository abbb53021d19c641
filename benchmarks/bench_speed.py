"""Speed as users time it (issue 14): each row as a kernel and as a whole call.

A compiled inner loop can be fast while ``fit(X, y)`` is slow: validation,
copies, the step-size estimate, the objective passes and the Python around
the kernels are paid on every call. So every measurement is taken twice:
the *kernel* figure (the compiled loop itself, or the marginal cost of one
more iteration or epoch) and the *whole-call* figure (a complete ``fit`` as a
user times it), in adjacent rows. Every time is the median of ``--repeats``
runs with its range, skgd and its reference alternating in the same run,
after a warm-up fit on a small slice (numba's compilation stays out).

Dense data: ``n x d`` standardised Gaussian features, float64, a linear
target plus noise (``make_linear_data``, seed 0); classes are ``y > median``.
Sparse data: tf-idf-like CSR rows of about 48 words (``make_text_like_data``).
Ratio = skgd / reference; PASS when it is at most the target:

1. ``solver="batch"``: the marginal time per iteration (fits of 21 and 1
   iterations) against the BLAS pass pair ``X @ w``, ``X.T @ r``; the fixed
   cost of a fit (a 1-iteration fit minus one iteration) against one pass.
2. ``eta0="auto"``: what the step-size estimate adds to a 1-iteration fit,
   against one pass.
3. ``solver="minibatch"`` (256), rows in a fresh random order and in
   contiguous blocks visited in random order (``shuffle="blocks"``): the
   marginal epoch (fits of 3 and 1 epochs) against the pass pair; the whole
   1-epoch fit; the objectives the two orders reach.
4. ``GDClassifier(solver="online")`` against ``SGDClassifier``, hinge and
   log_loss, 5 epochs: the compiled epoch kernels against SGD's
   ``_plain_sgd``, then the whole fits; and both at their default ``tol``.
5. ``GDRegressor(solver="online")`` against ``SGDRegressor``, likewise.
6. Rows 4 and 5 on sparse data, 200k x 50k and 20k x 5k.
7. ``python -m skgd`` in a fresh process, with an empty numba cache and with
   the cache that run filled.

Usage::

    python benchmarks/bench_speed.py                      # n=200_000, d=100
    python benchmarks/bench_speed.py --quick --repeats 2 --skip-fresh-process
"""

import argparse
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import (
    KernelClock,
    Row,
    alternating_runs,
    blas_pass_pair,
    fit_quietly,
    make_linear_data,
    make_text_like_data,
    print_environment,
    print_report,
    run_python,
    run_sections,
)
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.linear_model import _stochastic_gradient as sgd_module

import skgd
from skgd import GDClassifier, GDRegressor
from skgd._kernels import stochastic as skgd_kernels

# Warm-up fits run on this many rows: every code path compiled, little time.
WARMUP_ROWS = 2000

# The largest acceptable ratio skgd / reference of each measurement.
TARGETS = {
    "batch_iteration": 1.0,  # against the pass pair
    "batch_fixed": 1.0,  # against one pass
    "auto_step": 2.0,  # against one pass
    "minibatch_epoch": 1.5,  # against the pass pair, shuffle="blocks"
    "online_classifier": 0.7,  # whole fit against SGDClassifier
    "online_regressor": 0.6,  # whole fit against SGDRegressor
    "online_sparse": 0.8,  # whole fit against SGD, at every size
    "cold_process": 1.0,  # against COLD_PROCESS_BUDGET
}
COLD_PROCESS_BUDGET = 3.0  # seconds

BATCH_ITERATIONS = 20  # the marginal iteration: fits of 1 + this and of 1
MINIBATCH_EPOCHS = 2  # likewise for the minibatch epoch
EPOCHS = 5  # of every online fit
ETA0 = 1e-3  # the given rate of the batch and minibatch rows
SPARSE_SIZES = ((200_000, 50_000), (20_000, 5_000))
QUICK_N = 20_000
NNZ_PER_ROW = 50  # Poisson mean; about 48 distinct words once repeats are summed

LABELS = {"squared_error": "regression", "hinge": "hinge", "log_loss": "log_loss"}
FRESH_COMMAND = ["-m", "skgd"]

PASS_PAIR = "pass pair X@w + X.T@r"
ONE_PASS = "one pass (pair / 2)"

# Where skgd and scikit-learn look their epoch kernels up when they call them.
KERNELS = [
    (skgd_kernels, "dense_online_epoch"),
    (skgd_kernels, "csr_online_epoch"),
    (skgd_kernels, "dense_epoch"),
    (skgd_kernels, "csr_epoch"),
    (sgd_module, "_plain_sgd64"),
    (sgd_module, "_plain_sgd32"),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=None, help="dense samples")
    parser.add_argument("--d", type=int, default=100, help="dense features")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (>= 5)")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"n={QUICK_N} and only the smallest sparse size: a fast check",
    )
    parser.add_argument("--skip-fresh-process", action="store_true", help="no row 7")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[section.__name__ for section in SECTIONS],
        help="run these sections only",
    )
    args = parser.parse_args()
    if args.n is None:
        args.n = QUICK_N if args.quick else 200_000
    args.sparse_sizes = SPARSE_SIZES[-1:] if args.quick else SPARSE_SIZES
    return args


# --- timing ----------------------------------------------------------------------


@dataclass
class Runs:
    """The timed runs of one fit: whole-call and kernel times, one per run."""

    whole: np.ndarray
    kernel: np.ndarray
    fitted: object  # the last run's estimator


class Bench:
    """The settings, the dense data, and alternating timed fits."""

    def __init__(self, args):
        self.args = args
        self.X, self.y, _ = make_linear_data(args.n, args.d, seed=args.seed)
        self.labels = (self.y > np.median(self.y)).astype(np.int64)
        self.clock = KernelClock(KERNELS)

    def fits(self, estimators, X, y, *, pass_pair=False):
        """Fit a fresh clone of each estimator to ``(X, y)``, alternating,
        ``repeats`` times after a warm-up on the first rows: a :class:`Runs`
        each, then with ``pass_pair`` the pass pair's times on ``X``."""
        small = slice(0, min(X.shape[0], WARMUP_ROWS))
        funcs = [lambda e=e: self._fit(e, X, y) for e in estimators]
        for estimator in estimators:
            self._fit(estimator, X[small], y[small])
        if pass_pair:
            funcs.append(blas_pass_pair(X, seed=self.args.seed))
            funcs[-1]()
        with self.clock:
            timed = alternating_runs(funcs, repeats=self.args.repeats)
        runs = [
            Runs(whole, np.array([r[1] for r in results]), results[-1][0])
            for whole, results in timed[: len(estimators)]
        ]
        return runs + [timed[-1][0]] if pass_pair else runs

    def _fit(self, estimator, X, y):
        """One fit and the time it spent in the epoch kernels (0 outside a clock)."""
        self.clock.lap()
        fitted = fit_quietly(clone(estimator), X, y)
        return fitted, self.clock.lap()


# --- 1, 2. batch -------------------------------------------------------------------


def batch(max_iter, eta0=ETA0):
    return GDRegressor(solver="batch", eta0=eta0, tol=None, max_iter=max_iter)


def batch_rows(bench):
    k = BATCH_ITERATIONS
    one, many, auto, pair = bench.fits(
        [batch(1), batch(1 + k), batch(1, eta0="auto")],
        bench.X,
        bench.y,
        pass_pair=True,
    )
    # The k-th runs of every fit saw the same moment: pairwise differences.
    iteration = (many.whole - one.whole) / k
    rows = [
        Row.of_runs(
            f"1. batch: per iteration, kernel (marginal, {1 + k} - 1 its)",
            PASS_PAIR, iteration, pair, target=TARGETS["batch_iteration"],
        ),
        Row.of_runs(
            "1. batch: fixed cost, whole call (1-it fit - 1 it)",
            ONE_PASS, one.whole - iteration, pair / 2, target=TARGETS["batch_fixed"],
        ),
        Row.of_runs(
            '2. batch eta0="auto": extra of a 1-it fit over eta0=1e-3',
            ONE_PASS, auto.whole - one.whole, pair / 2, target=TARGETS["auto_step"],
        ),
    ]  # fmt: skip
    notes = [
        f"[1] a whole 1-iteration batch fit takes {np.median(one.whole) * 1e3:.1f} "
        f"ms, {np.median(one.whole / pair):.2f} pass pairs; eta0='auto' chose "
        f"{auto.fitted.history_['learning_rate'][0]:.4g}."
    ]
    return rows, notes


# --- 3. minibatch ------------------------------------------------------------------


def minibatch(max_iter, shuffle=True):
    return GDRegressor(
        solver="minibatch", batch_size=256, eta0=ETA0, tol=None,
        max_iter=max_iter, shuffle=shuffle, random_state=0,
    )  # fmt: skip


def minibatch_rows(bench):
    k = MINIBATCH_EPOCHS
    rows, fitted = [], {}
    for shuffle in (True, "blocks"):
        one, many, pair = bench.fits(
            [minibatch(1, shuffle), minibatch(1 + k, shuffle)], bench.X, bench.y,
            pass_pair=True,
        )  # fmt: skip
        what = f"3. minibatch 256, shuffle={shuffle!r}"
        rows += [
            Row.of_runs(
                f"{what}: per epoch, kernel (marginal, {1 + k} - 1 epochs)",
                PASS_PAIR, (many.whole - one.whole) / k, pair,
                target=TARGETS["minibatch_epoch"] if shuffle == "blocks" else None,
            ),
            Row.of_runs(f"{what}: 1-epoch fit, whole call", PASS_PAIR, one.whole, pair),
        ]  # fmt: skip
        fitted[shuffle] = many.fitted.history_["loss"]
    # What reading contiguous blocks costs in progress: the objective after
    # each epoch, against a fresh random order of rows.
    gap = fitted["blocks"] / fitted[True] - 1.0
    notes = [
        "[3] shuffle='blocks' against shuffle=True, the training objective after "
        f"epochs 1..{1 + k}: relative differences "
        + ", ".join(f"{g:+.2e}" for g in gap)
        + "; the option's speed is for rows already in random order."
    ]
    return rows, notes


# --- 4, 5, 6. online against SGD ---------------------------------------------------


def online_pair(loss, **params):
    """skgd's online estimator for ``loss`` and the SGD estimator it replaces."""
    if loss == "squared_error":
        return GDRegressor(solver="online", **params), SGDRegressor(**params)
    return (
        GDClassifier(loss=loss, solver="online", **params),
        SGDClassifier(loss=loss, **params),
    )


def online_rows(bench, what, X, y, loss, target, **params):
    """The kernel row and the whole-call row of skgd online against SGD."""
    ours, peer = online_pair(loss, max_iter=EPOCHS, random_state=0, **params)
    ours, theirs = bench.fits([ours, peer], X, y)
    name = type(peer).__name__
    rows = [
        Row.of_runs(
            f"{what}: kernel ({EPOCHS} epoch calls)",
            f"{name} _plain_sgd", ours.kernel, theirs.kernel,
        ),
        Row.of_runs(
            f"{what}: fit, whole call", f"{name}.fit", ours.whole, theirs.whole,
            target=target,
        ),
    ]  # fmt: skip
    return rows, (ours, theirs)


def dense_online_rows(bench):
    cases = [  # row number, loss, targets, target ratio, also at the default tol
        (4, "hinge", bench.labels, TARGETS["online_classifier"], True),
        (4, "log_loss", bench.labels, TARGETS["online_classifier"], True),
        (5, "squared_error", bench.y, TARGETS["online_regressor"], False),
    ]
    rows, notes = [], []
    for number, loss, y, target, defaults_too in cases:
        what = f"{number}. online {LABELS[loss]}"
        timed, _ = online_rows(
            bench, f"{what}, {EPOCHS} epochs", bench.X, y, loss, target, tol=None
        )
        rows += timed
        if not defaults_too:
            continue
        timed, (ours, theirs) = online_rows(
            bench, f"{what}, default tol (info)", bench.X, y, loss, target=None
        )
        rows += timed
        notes.append(
            f"[{number}] {loss} at the default tol (skgd {ours.fitted.tol!r}, SGD "
            f"{theirs.fitted.tol!r}): skgd ran {ours.fitted.n_iter_} epochs, SGD "
            f"{theirs.fitted.n_iter_}, of max_iter={EPOCHS}."
        )
    return rows, notes


def sparse_online_rows(bench):
    rows, notes = [], []
    for n, d in bench.args.sparse_sizes:
        X, y, labels = make_text_like_data(n, d, NNZ_PER_ROW, seed=bench.args.seed)
        notes.append(
            f"[6] {n}x{d} CSR: {X.nnz / n:.1f} non-zeros per row, "
            f"positive class {labels.mean():.2f}."
        )
        for loss, targets in (
            ("squared_error", y),
            ("hinge", labels),
            ("log_loss", labels),
        ):
            what = f"6. sparse {n // 1000}k x {d // 1000}k, online {LABELS[loss]}"
            timed, _ = online_rows(
                bench, what, X, targets, loss, TARGETS["online_sparse"], tol=None
            )
            rows += timed
    return rows, notes


# --- 7. a fresh process ----------------------------------------------------------


def fresh_process_rows(bench):
    # The child imports the skgd this process benchmarks, wherever it is.
    path = [str(Path(skgd.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
    pythonpath = os.pathsep.join(p for p in path if p)
    cache_dirs = []

    def cold():
        cache_dirs.append(tempfile.mkdtemp(prefix="skgd-numba-cache-"))
        warm()

    def warm():  # into the cache the last cold run filled
        env = {"NUMBA_CACHE_DIR": cache_dirs[-1], "PYTHONPATH": pythonpath}
        run_python(FRESH_COMMAND, env=env)

    def import_only():  # the floor: interpreter, numpy, scipy, sklearn, numba
        run_python(["-c", "import skgd"], env={"PYTHONPATH": pythonpath})

    try:
        (t_cold, _), (t_warm, _), (t_import, _) = alternating_runs(
            [cold, warm, import_only], repeats=bench.args.repeats
        )
        n_indexes = len(list(Path(cache_dirs[-1]).rglob("*.nbi")))
    finally:
        for cache_dir in cache_dirs:
            shutil.rmtree(cache_dir, ignore_errors=True)
    budget = f"{COLD_PROCESS_BUDGET:g} s budget"
    rows = [
        Row.of_runs(
            "7. python -m skgd, empty numba cache", budget, t_cold,
            COLD_PROCESS_BUDGET, target=TARGETS["cold_process"],
        ),
        Row.of_runs(
            "7. python -m skgd, warm numba cache", "python -c 'import skgd'",
            t_warm, t_import,
        ),
    ]  # fmt: skip
    note = (
        "[7] a process that only imports skgd (and so numpy, scipy, scikit-learn, "
        f"numba) takes {np.median(t_import):.2f} s of the {COLD_PROCESS_BUDGET:g} s "
        "budget; each cold run compiles into a new empty NUMBA_CACHE_DIR (the last "
        f"wrote {n_indexes} cache index files), the warm run after it loads from it."
    )
    return rows, [note]


# --- the report --------------------------------------------------------------------

NOTES = [
    "A pass is one read of X, half the pass pair: X@w and X.T@r are one BLAS "
    "gemv each, timed in the same alternation as the fits they are compared with.",
    "Kernel rows: the marginal time of one more batch iteration or minibatch "
    "epoch (the difference of two fits' times, run by run), or for online fits "
    "the time spent inside the compiled epoch kernels during the whole fits "
    "(skgd._kernels.stochastic's dense_/csr_online_epoch and dense_/csr_epoch, one call per epoch; SGD's "
    "_plain_sgd64, one call for all epochs), wrapped with a timer.",
    "Whole-call rows: fit(X, y) as a user times it (validation, copies, the "
    "step estimate, the objective after each epoch, the Python around the "
    "kernels); a fixed cost is a 1-iteration fit less one marginal iteration.",
    "Online fits: only loss, max_iter, tol and random_state are set; the other "
    "parameters are each library's defaults (skgd: constant rate, eta0='auto').",
]


SECTIONS = (
    batch_rows, minibatch_rows, dense_online_rows, sparse_online_rows,
    fresh_process_rows,
)  # fmt: skip


def main():
    args = parse_args()
    # skgd's DataScaleWarning on tf-idf features against the intercept's 1.
    warnings.filterwarnings("ignore", message="The features' scales span")
    print_environment(
        "skgd speed as users time it: kernels and whole calls",
        {
            "n": args.n, "d": args.d, "dtype": "float64", "repeats": args.repeats,
            "seed": args.seed, "epochs": EPOCHS, "eta0": ETA0,
            "sparse": ", ".join(f"{n}x{d}" for n, d in args.sparse_sizes),
            "fresh process": "skipped" if args.skip_fresh_process else "yes",
        },
    )  # fmt: skip
    bench = Bench(args)
    sections = [
        section
        for section in SECTIONS
        if (args.only is None or section.__name__ in args.only)
        and not (section is fresh_process_rows and args.skip_fresh_process)
    ]
    rows, notes = run_sections(
        (section.__name__, lambda section=section: section(bench))
        for section in sections
    )
    print_report(
        rows, [*notes, *NOTES], args.repeats, timing="runs, alternating",
        statistic="the median (min-max)",
    )  # fmt: skip


if __name__ == "__main__":
    main()
