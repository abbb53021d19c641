"""What every skgd benchmark shares: the environment header, synthetic data,
timing, the training objective, fresh-process timings and the ratio table.

The benchmarks are scripts, not tests: each prints one table in which every
row is a time (or a loss) of skgd next to the peer a user would otherwise
pick, their ratio, the target ratio and PASS/MISS. Timings are the best of a
few repeats after a warm-up call on a small slice of the data, so numba's
compilation, lazy imports and first-touch page faults stay out of them; the
best (not the mean) is the least disturbed by other processes on the machine.
Where the spread matters as much as the level, a time is the median of a few
runs with their range instead (:class:`Spread`).
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


# --- environment ---------------------------------------------------------------


def print_environment(title, parameters):
    """Print what the numbers depend on: versions, BLAS threads, load, knobs.

    The OpenBLAS variables are printed, never changed: the machine's owner may
    have set them on purpose (core type detection, L2 size).
    """
    import numba
    import scipy
    import sklearn
    import threadpoolctl

    import skgd

    print(f"== {title} ==")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"numba {numba.__version__}, skgd {skgd.__version__} ({_git_revision()})"
    )
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()}")
    blas_env = {
        k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP"))
    }
    print(f"environment: {blas_env or 'no OPENBLAS_*/OMP_* variables set'}")
    print("threadpoolctl.threadpool_info():")
    for pool in threadpoolctl.threadpool_info():
        print("   ", {k: pool.get(k) for k in _POOL_KEYS if k in pool})
    print("parameters:", ", ".join(f"{k}={v}" for k, v in parameters.items()))
    print()


_POOL_KEYS = (
    "user_api",
    "internal_api",
    "prefix",
    "version",
    "num_threads",
    "threading_layer",
    "architecture",
)


def _git_revision():
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "no git"
    return out.stdout.strip()


# --- data ----------------------------------------------------------------------


def make_linear_data(
    n_samples, n_features, *, noise=1.0, intercept=1.0, seed=0, dtype=np.float64
):
    """Standardised Gaussian features and a linear target plus Gaussian noise.

    Returns ``X`` (C-contiguous, each column of mean 0 and variance 1),
    ``y = X @ coef + intercept + noise * e`` and ``coef``. Classification
    benchmarks threshold ``y``; sparse ones mask ``X``.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    coef = rng.standard_normal(n_features)
    y = X @ coef + intercept + noise * rng.standard_normal(n_samples)
    return np.ascontiguousarray(X, dtype=dtype), y.astype(dtype), coef


def make_text_like_data(n_samples, n_features, nnz_per_row, seed=0):
    """A tf-idf matrix of Zipf-distributed words, its regression and class targets.

    Row lengths are Poisson around ``nnz_per_row`` (at least one word); word
    ``j`` is drawn with probability proportional to ``1 / (j + 10)``, so a few
    words are in most documents and most words in few, as in real text.
    Repeated words add up to term counts, weighted by ``log(n / df) + 1`` and
    normalised per row. The targets are linear in the features plus noise
    (regression) and its sign (classification), with an intercept.
    """
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(seed)
    lengths = np.maximum(rng.poisson(nnz_per_row, n_samples), 1)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    frequency = 1.0 / (np.arange(n_features) + 10.0)
    words = rng.choice(n_features, size=indptr[-1], p=frequency / frequency.sum())
    X = sp.csr_matrix(
        (np.ones(indptr[-1]), words, indptr), shape=(n_samples, n_features)
    )
    X.sum_duplicates()  # term counts, sorted indices
    document_frequency = np.bincount(X.indices, minlength=n_features)
    X.data *= np.log(n_samples / np.maximum(document_frequency, 1))[X.indices] + 1.0
    X = normalize(X)
    coef = rng.standard_normal(n_features) * np.sqrt(n_features / nnz_per_row)
    signal = X @ coef
    signal = (signal - signal.mean()) / signal.std()
    y = signal + 0.5 + 0.3 * rng.standard_normal(n_samples)
    return X, y, (y > 0.5).astype(np.int64)


def l2_objective(X, y, coef, intercept, alpha):
    """``0.5 * mean((y - X w - b)**2) + alpha / 2 * ||w||**2``, in float64.

    The one formula every regressor's result is scored with, whatever the
    estimator reports about itself.
    """
    coef = np.asarray(coef, dtype=np.float64).ravel()
    residual = y - X @ coef - float(np.ravel(intercept)[0])
    return 0.5 * float(np.mean(residual**2)) + 0.5 * alpha * float(coef @ coef)


def classification_labels(X, n_classes, *, signal=3.0, seed=0):
    """Labels ``0 .. n_classes - 1`` drawn from a multinomial logistic model on ``X``.

    The logits are ``X @ B`` with ``B`` Gaussian of scale
    ``signal / sqrt(n_features)`` (so, on standardised features, logits of
    standard deviation ``signal``); adding Gumbel noise and taking the
    argmax draws each label from the softmax of its logits (the Gumbel-max
    trick). Two classes make a logistic model. ``signal`` sets how
    separable the classes are: 0 is pure noise, large is nearly separable.
    """
    rng = np.random.default_rng([seed, n_classes])
    scale = signal / np.sqrt(X.shape[1])
    coef = scale * rng.standard_normal((X.shape[1], n_classes))
    logits = X @ coef + rng.gumbel(size=(X.shape[0], n_classes))
    return np.argmax(logits, axis=1)


def ovr_objective(X, y, coef, intercept, alpha, loss):
    """One-vs-rest objective, SGDClassifier's: the sum over the binary problems.

    ``sum_k [mean_i loss(t_ik, x_i . w_k + b_k) + alpha / 2 ||w_k||**2]`` with
    ``t_ik = +1`` if ``y_i == k`` else ``-1``, for labels ``y`` in
    ``0 .. K-1`` and ``coef`` of shape ``(K, d)``; a single row (two classes)
    is the problem of class 1. ``loss`` is ``"hinge"`` (``max(0, 1 - t p)``)
    or ``"log_loss"`` (``log(1 + exp(-t p))``). In float64.
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    positive = np.array([1]) if coef.shape[0] == 1 else np.arange(coef.shape[0])
    signs = np.where(np.asarray(y)[:, np.newaxis] == positive, 1.0, -1.0)
    margins = signs * (X @ coef.T + np.ravel(intercept))
    if loss == "hinge":
        losses = np.maximum(0.0, 1.0 - margins)
    elif loss == "log_loss":
        losses = np.logaddexp(0.0, -margins)
    else:
        raise ValueError(f"no one-vs-rest formula for loss={loss!r}")
    return float(losses.mean(axis=0).sum()) + 0.5 * alpha * float(np.sum(coef**2))


def multinomial_objective(X, y, coef, intercept, alpha):
    """Softmax cross-entropy plus L2, LogisticRegression's objective divided by ``C n``.

    ``mean_i [logsumexp(p_i) - p_i[y_i]] + alpha / 2 ||W||**2`` with
    ``p_i = W x_i + b``, for labels ``y`` in ``0 .. K-1`` and ``coef`` ``W``
    of shape ``(K, d)``: with ``C = 1 / (n alpha)`` it is what
    ``LogisticRegression`` minimises, up to the factor ``C n``. In float64.
    """
    from scipy.special import logsumexp

    coef = np.asarray(coef, dtype=np.float64)
    logits = X @ coef.T + np.ravel(intercept)
    picked = logits[np.arange(len(y)), np.asarray(y)]
    mean_loss = float(np.mean(logsumexp(logits, axis=1) - picked))
    return mean_loss + 0.5 * alpha * float(np.sum(coef**2))


# --- timing --------------------------------------------------------------------


def best_times(funcs, *, repeats=3, warmups=None):
    """Best wall time of ``repeats`` calls of each ``func()``, and its last result.

    The calls alternate (a, b, a, b, ...) so that every function sees the
    same share of whatever else the machine is doing. Each ``warmups[k]``
    (default: ``funcs[k]`` itself) is called once first, untimed; a call on a
    small slice of the data keeps compilation out cheaply.
    """
    for func in warmups or funcs:
        func()
    best = [np.inf] * len(funcs)
    results = [None] * len(funcs)
    for _ in range(repeats):
        for k, func in enumerate(funcs):
            start = time.perf_counter()
            results[k] = func()
            best[k] = min(best[k], time.perf_counter() - start)
    return list(zip(best, results, strict=True))


# The pause before each timed call of alternating_runs, in seconds.
BLAS_SETTLE = 0.1


def alternating_runs(funcs, *, repeats=5):
    """Wall time and result of every one of ``repeats`` calls of each ``func()``.

    Returns, per func, its times and its results, one per call, in call
    order. The calls alternate as in :func:`best_times`, so the ``k``-th
    times of two funcs saw the same moment of the machine and their
    difference is a fair sample of a marginal cost. There is no warm-up.

    Every call starts ``BLAS_SETTLE`` seconds after the previous one ended:
    OpenBLAS's worker threads spin for tens of milliseconds after a call, on
    the cores a threaded pass that follows needs (measured: a 1-iteration
    batch fit on 200k x 100 took 69 ms right after a BLAS pass pair, 50 ms
    0.1 s later), so without the pause a call would pay for its predecessor.
    """
    times = [[] for _ in funcs]
    results = [[] for _ in funcs]
    for _ in range(repeats):
        for k, func in enumerate(funcs):
            time.sleep(BLAS_SETTLE)
            start = time.perf_counter()
            results[k].append(func())
            times[k].append(time.perf_counter() - start)
    return [(np.array(t), r) for t, r in zip(times, results, strict=True)]


def median_times(funcs, *, repeats=5):
    """Median, fastest and slowest wall time of ``repeats`` calls of each
    ``func()``, and its last result: ``(median, low, high, result)`` per func.

    For measurements whose spread matters as much as their level (a time to a
    given accuracy, where one disturbed run should not decide a ratio). The
    calls alternate as in :func:`best_times`; there is no warm-up, so call
    each function once first if it compiles anything.
    """
    return [
        (float(np.median(t)), float(t.min()), float(t.max()), results[-1])
        for t, results in alternating_runs(funcs, repeats=repeats)
    ]


@dataclass(frozen=True)
class Spread:
    """The median of a few measurements, and the smallest and largest of them."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, samples):
        samples = np.asarray(samples, dtype=np.float64)
        return cls(*(float(f(samples)) for f in (np.median, np.min, np.max)))


class KernelClock:
    """The wall time spent inside some module-level functions, while patched.

    ``with KernelClock([(module, "name"), ...]) as clock:`` replaces each
    ``module.name`` by a wrapper that adds up the durations of its calls
    (a microsecond each, far below a compiled epoch); ``clock.lap()``
    returns the time added up since the previous lap. Patch the module the
    caller looks the function up in at call time, not where it is defined.
    """

    def __init__(self, targets):
        self.targets = list(targets)
        self.elapsed = 0.0
        self._originals = []

    def _timed(self, func):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.elapsed += time.perf_counter() - start

        return timed

    def __enter__(self):
        for module, name in self.targets:
            original = getattr(module, name)  # fails loudly if renamed
            self._originals.append((module, name, original))
            setattr(module, name, self._timed(original))
        return self

    def __exit__(self, *exc_info):
        for module, name, original in reversed(self._originals):
            setattr(module, name, original)
        self._originals.clear()

    def lap(self):
        elapsed, self.elapsed = self.elapsed, 0.0
        return elapsed


def best_time(func, *, repeats=3, warmup=None):
    """:func:`best_times` of one function: ``(best time, last result)``."""
    return best_times([func], repeats=repeats, warmups=warmup and [warmup])[0]


def fit_quietly(estimator, X, y):
    """``estimator.fit(X, y)`` without ConvergenceWarnings (max_iter is the point)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def blas_pass_pair(X, seed=0, n_outputs=None):
    """``X @ w`` then ``X.T @ r``: one gradient's worth of memory traffic.

    Both are BLAS gemv calls that stream ``X`` once each, so their sum is the
    memory-bandwidth floor of anything that reads every sample and returns a
    gradient. With ``n_outputs``, ``w`` and ``r`` have that many columns
    (gemm calls: the floor of a multi-output gradient, softmax's say).
    """
    rng = np.random.default_rng(seed)
    columns = () if n_outputs is None else (n_outputs,)
    w = rng.standard_normal((X.shape[1], *columns)).astype(X.dtype)
    r = rng.standard_normal((X.shape[0], *columns)).astype(X.dtype)

    def run():
        X @ w
        return X.T @ r

    return run


def run_python(arguments, *, env=None, timeout=600):
    """Run ``python *arguments`` in a new interpreter, from the temporary
    directory, with ``env`` added to this environment; its standard output."""
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=tempfile.gettempdir(),
    )
    if out.returncode != 0:
        raise RuntimeError(f"fresh process failed:\n{out.stderr[-3000:]}")
    return out.stdout


def run_in_fresh_process(code, *, env=None, timeout=600):
    """Run ``code`` in a new interpreter; it must print one JSON object last."""
    out = run_python(["-c", code], env=env, timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


# --- the table -------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: a measurement of skgd next to the same of a peer.

    Parameters
    ----------
    measurement : str
        What is measured (short).
    peer : str
        Whom skgd is compared with.
    skgd, competitor : float
        The two values, in ``unit`` (``"s"`` for times, ``""`` for plain numbers).
    target : float or None
        The largest acceptable ratio; None reports the ratio only.
    ratio : float or None
        ``skgd / competitor`` unless given (a relative difference, say).
    relative_difference : bool
        The ratio is a signed relative difference, judged by its size.
    condition : bool
        A further requirement for PASS (another row's PASS, say).
    skgd_range, competitor_range : tuple or None
        ``(low, high)`` of the runs whose median the value is, shown after it.
    """

    measurement: str
    peer: str
    skgd: float
    competitor: float
    unit: str = "s"
    target: float | None = None
    ratio: float | None = None
    relative_difference: bool = False
    condition: bool = True
    skgd_range: tuple | None = None
    competitor_range: tuple | None = None

    @classmethod
    def of_runs(cls, measurement, peer, skgd, competitor, **kwargs):
        """A row of two sets of runs (or fixed numbers): medians and ranges."""
        values, ranges = [], []
        for runs in (skgd, competitor):
            if np.ndim(runs) == 0:
                values.append(float(runs))
                ranges.append(None)
            else:
                spread = Spread.of(runs)
                values.append(spread.median)
                ranges.append((spread.low, spread.high))
        return cls(
            measurement, peer, *values, skgd_range=ranges[0],
            competitor_range=ranges[1], **kwargs,
        )  # fmt: skip

    def __post_init__(self):
        if self.ratio is None:
            self.ratio = self.skgd / self.competitor if self.competitor else np.nan

    @property
    def status(self):
        if self.target is None:
            return "-"
        value = abs(self.ratio) if self.relative_difference else self.ratio
        return "PASS" if value <= self.target and self.condition else "MISS"

    def cells(self):
        if self.relative_difference:
            ratio = f"{self.ratio:+.2%}"
            target = "" if self.target is None else f"|r| <= {self.target:.0%}"
        else:
            ratio = format_value(self.ratio, "")
            target = "" if self.target is None else f"<= {self.target:g}"
        return (
            self.measurement,
            self.peer,
            format_value(self.skgd, self.unit, self.skgd_range),
            format_value(self.competitor, self.unit, self.competitor_range),
            ratio,
            target or "-",
            self.status,
        )


def format_value(value, unit, value_range=None):
    """A time in ms or s, or a number to 4 significant digits; with
    ``value_range``, ``"median (low-high)"`` in the median's unit."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "s":
        scale, digits = (1e3, ".1f") if value < 1 else (1.0, ".2f")
        suffix = " ms" if value < 1 else " s"
    else:
        scale, digits, suffix = 1.0, ".4g", ""
    text = f"{value * scale:{digits}}{suffix}"
    if value_range is None:
        return text
    low, high = (f"{bound * scale:{digits}}" for bound in value_range)
    return f"{text} ({low}-{high})"


def print_table(rows, notes=()):
    """The ratio table, then the notes, one per line."""
    header = ("measurement", "vs", "skgd", "competitor", "ratio", "target", "status")
    lines = [header] + [row.cells() for row in rows]
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]

    def fmt(cells):
        left = [c.ljust(w) for c, w in zip(cells[:2], widths[:2], strict=True)]
        right = [c.rjust(w) for c, w in zip(cells[2:], widths[2:], strict=True)]
        return " | ".join(left + right)

    print(fmt(header))
    print("-+-".join("-" * w for w in widths))
    for line in lines[1:]:
        print(fmt(line))
    for note in notes:
        print(note)


def run_sections(sections):
    """Run ``(name, section)`` pairs in order, each ``section()`` returning
    ``(rows, notes)``; all their rows and all their notes."""
    rows, notes = [], []
    for name, section in sections:
        print(f"running {name} ...", flush=True)
        section_rows, section_notes = section()
        rows += section_rows
        notes += section_notes
    return rows, notes


def print_report(rows, notes, repeats, timing="after a warm-up", statistic="the best"):
    """The load average, then :func:`print_table` with how times were taken."""
    print(f"load average at the end {os.getloadavg()}\n")
    print_table(
        rows,
        [
            f"\nTimes are {statistic} of {repeats} {timing}; ratio = skgd / "
            "competitor, or for objectives their relative difference.",
            *notes,
        ],
    )


def print_columns(header, lines, notes=(), left=1):
    """A table of strings: the first ``left`` columns left-aligned, the rest right.

    For results that are not one skgd value next to one peer's (a grid of
    configurations, say), which :func:`print_table` lays out.
    """
    lines = [tuple(header)] + [tuple(line) for line in lines]
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]

    def fmt(cells):
        return " | ".join(
            c.ljust(w) if k < left else c.rjust(w)
            for k, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(fmt(lines[0]))
    print("-+-".join("-" * w for w in widths))
    for line in lines[1:]:
        print(fmt(line))
    for note in notes:
        print(note)


def profile_call(func, top=10):
    """Run ``func()`` under cProfile and print the ``top`` functions by own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    func()
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)
