"""Time to the answer: skgd's deterministic solvers against scikit-learn's, to a
1e-6 relative objective gap, as the number of samples grows.

One run, one table of ratios skgd / peer. Every time is a *time to a relative
objective gap* ``(F - F*) / F* <= 1e-6``, with ``F`` scored by one formula
(:func:`skgd.training_objective`, the same objective for both: with
``C = 1 / (n alpha)``, LogisticRegression's is ``C n`` times skgd's) and
``F*`` the objective of a tightly converged reference:
``LogisticRegression(tol=1e-12)`` (newton-cholesky on dense data, lbfgs on
sparse) or the ridge normal equations (:func:`skgd.closed_form_solution`).

1. The default ``GDClassifier()`` (``solver="lbfgs"`` here) against every
   scikit-learn solver of ``LogisticRegression`` (lbfgs, newton-cholesky,
   newton-cg, saga), and oneDAL's and snapml's when installed (the
   ``bench`` extra; see ``_peers.py``), at ``--alpha``: on breast_cancer
   (standardised), raw digits (10 classes, multinomial), and for each ``n``
   from ``--min-n`` to ``--max-n`` (powers of ten) standardised
   ``make_classification`` data with ``--d`` features, plus at n = 1e5
   ``--wide-d`` features and ``--classes`` classes (multinomial). The row's
   ratio is against the fastest scikit-learn solver that reached the gap
   (issue 22). The default ``GDRegressor()`` against ``Ridge`` (its
   ``solver="auto"``, a Cholesky factorisation here) and the closed form.
2. Sparse, tf-idf-like data (``scipy.sparse.random`` rows, normalised, labels
   from a planted logistic model): the same race as 1 (no newton-cholesky:
   its Hessian has ``d^2`` entries), and ``GDClassifier(solver="saga")``
   against ``LogisticRegression(solver="saga")``; ``SGDClassifier`` with
   its defaults, which never reaches 1e-6, is noted with its gap and time.

Fair to the peers: lbfgs's and saga's ``tol`` only decides *when* they stop
on a path that does not depend on it, so each peer is scanned from a loose
``tol`` (1e-4) down, and the first (loosest, hence fastest) that reaches the
gap is timed. skgd is timed at its default ``tol="auto"``; if that misses the
gap, the same scan continues with tighter ``tol`` and a note says so. Times
are the median of ``--repeats`` alternating fits (3 when one fit takes more
than ``--cheap`` seconds), with the fastest and slowest in the notes; the
scan's fits are the warm-up.

3. Non-smooth losses (issue 21): the default ``GDClassifier(loss="hinge")``
   (``solver="sdca"``) against liblinear's dual coordinate descent,
   ``LinearSVC(dual=True)``, on dense and sparse data, and the default
   ``GDRegressor(loss="epsilon_insensitive")`` against ``LinearSVR``; both
   without intercept (liblinear penalises its intercept, so only then are the
   objectives the same), ``F*`` from an interior-point QP (Clarabel).

Targets: the default at most the fastest scikit-learn solver's time to
1e-6 on every row (issue 22); saga at most sklearn's saga time on sparse
data (issue 12); hinge at most liblinear's time to 1e-6, dense and sparse
(issue 21).

Usage::

    python benchmarks/bench_convergence.py                 # n = 1e3 ... 1e6
    python benchmarks/bench_convergence.py --max-n 100000  # quick
    python benchmarks/bench_convergence.py --max-n 10000 --sparse-n 20000
    pip install -e ".[bench]"   # adds the oneDAL and snapml rows
"""

import argparse
import functools
import os
import time
import warnings

import numpy as np
import scipy.sparse as sp
from _common import (
    Row,
    fit_quietly,
    make_linear_data,
    median_times,
    print_environment,
    print_table,
    run_sections,
)
from _peers import SAGA_TOLS, optional_peers, sklearn_peers
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.preprocessing import StandardScaler, normalize
from sklearn.svm import LinearSVC, LinearSVR

from skgd import GDClassifier, GDRegressor, closed_form_solution, training_objective

# The relative objective gap every timed fit must close.
GAP = 1e-6

# Largest acceptable ratios skgd / peer: the default at most the fastest
# scikit-learn solver's time (issue 22), skgd's saga at most scikit-learn's
# (issue 12).
TARGETS = {"default": 1.0, "saga": 1.0}

# The rows at which section 1 also races wide (--wide-d) and multinomial data.
WIDE_N = 100_000

# tol values, loosest first: the first whose fit reaches GAP is timed
# (the peers' are in _peers).
SKGD_TOLS = ("auto", 1e-7, 1e-8, 1e-9, 1e-10)
def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-n", type=int, default=1_000, help="smallest n")
    parser.add_argument("--max-n", type=int, default=1_000_000, help="largest n")
    parser.add_argument("--d", type=int, default=50, help="features, section 1")
    parser.add_argument("--informative", type=int, default=10, help="of the --d")
    parser.add_argument("--classes", type=int, default=5, help="multinomial classes")
    parser.add_argument(
        "--wide-d", type=int, default=500, help=f"features of the wide n={WIDE_N} row"
    )
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 strength")
    parser.add_argument("--sparse-n", type=int, default=100_000, help="section 2 rows")
    parser.add_argument("--sparse-d", type=int, default=20_000, help="section 2 cols")
    parser.add_argument("--nnz", type=int, default=50, help="non-zeros per row")
    parser.add_argument(
        "--saga-max-iter", type=int, default=1000, help="epochs cap of the saga fits"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats")
    parser.add_argument(
        "--cheap", type=float, default=2.0, help="seconds per fit above which 3 repeats"
    )
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument(
        "--budget", type=float, default=30.0,
        help="seconds of one fit beyond which a peer's tol scan stops",
    )  # fmt: skip
    parser.add_argument("--skip-dense", action="store_true", help="no section 1")
    parser.add_argument("--skip-sparse", action="store_true", help="no section 2")
    parser.add_argument(
        "--skip-nonsmooth", action="store_true", help="no section 3 (hinge, eps-ins.)"
    )
    parser.add_argument("--hinge-n", type=int, default=20_000, help="section 3 rows")
    parser.add_argument(
        "--hinge-sparse-d", type=int, default=5_000, help="section 3 sparse cols"
    )
    parser.add_argument("--hinge-alpha", type=float, default=1e-3, help="section 3")
    return parser.parse_args()


# --- measuring -----------------------------------------------------------------------


class Problem:
    """Data, the objective's minimum, and the relative gap of any fitted model.

    ``scorer`` is a fitted skgd estimator of the objective (one epoch is
    enough: only its loss, penalty and ``alpha`` matter), which also compiles
    what the timed fits will use.
    """

    def __init__(self, X, y, scorer, reference):
        self.X, self.y, self.scorer = X, y, scorer
        self.best = self.objective(*reference)

    def objective(self, coef, intercept):
        return training_objective(
            self.scorer, self.X, self.y, coef=coef, intercept=intercept
        )

    def gap(self, fitted):
        value = self.objective(fitted.coef_, fitted.intercept_)
        return (value - self.best) / abs(self.best)


def iterations(fitted):
    n_iter = getattr(fitted, "n_iter_", None)
    return int(np.max(n_iter)) if n_iter is not None else 0


def scan(problem, make, tols, budget):
    """Fit ``make(tol)`` for each ``tol``, loosest first, until one reaches GAP
    (or one fit took more than ``budget`` seconds: tighter ones take longer).

    Returns ``(tol, reached, log, elapsed, fitted)``: the tol to time (the
    last tried if none reached), a line per fit for the notes, and the last
    fit's time and estimator.
    """
    log = []
    for tol in tols:
        start = time.perf_counter()
        fitted = fit_quietly(make(tol), problem.X, problem.y)
        elapsed = time.perf_counter() - start
        gap = problem.gap(fitted)
        log.append(f"tol={tol}: {iterations(fitted)} its, gap {gap:.1e}")
        if gap <= GAP:
            return tol, True, log, elapsed, fitted
        if elapsed > budget:
            log.append(f"scan stopped: {elapsed:.0f} s > --budget {budget:g} s")
            break
    return tol, False, log, elapsed, fitted


def race(problem, entries, args):
    """Time each ``(name, make, tols)`` at its loosest tol that reaches GAP.

    Returns a dict ``name -> Result``; the fits alternate, so each sees the
    same load.
    """
    chosen = {}
    for name, make, tols in entries:
        chosen[name] = (make, *scan(problem, make, tols, args.budget))
    # A peer that missed the gap within the budget is not timed again: its
    # note reports the scan.
    timing = {
        name: entry for name, entry in chosen.items()
        if entry[2] or entry[4] <= args.budget
    }  # fmt: skip
    slowest = max(entry[4] for entry in timing.values())
    repeats = args.repeats if slowest < args.cheap else min(args.repeats, 3)
    funcs = [
        lambda make=make, tol=tol: fit_quietly(make(tol), problem.X, problem.y)
        for make, tol, *_ in timing.values()
    ]
    timed = dict(zip(timing, median_times(funcs, repeats=repeats), strict=True))
    results = {}
    for name, (_, tol, reached, log, elapsed, fitted) in chosen.items():
        runs = 1
        median = low = high = elapsed
        if name in timed:
            median, low, high, fitted = timed[name]
            runs = repeats
        results[name] = Result(
            name, tol, reached, median, low, high, problem.gap(fitted),
            iterations(fitted), log, runs, getattr(fitted, "max_iter", None),
        )  # fmt: skip
    return results


class Result:
    """One racer's measurements."""

    def __init__(
        self, name, tol, reached, median, low, high, gap, n_iter, log, runs, max_iter
    ):
        self.name, self.tol, self.reached = name, tol, reached
        self.median, self.low, self.high = median, low, high
        self.gap, self.n_iter, self.log, self.runs = gap, n_iter, log, runs
        # A fit that ran out of iterations did not stop by its tol (its
        # ConvergenceWarning is silenced): say so.
        self.capped = max_iter is not None and self.n_iter >= max_iter

    def note(self, tag):
        scanned = "" if len(self.log) == 1 else f" (scan: {'; '.join(self.log)})"
        missed = "" if self.reached else f" DID NOT REACH {GAP:g}"
        capped = " (= max_iter: NOT stopped by tol)" if self.capped else ""
        return (
            f"[{tag}] {self.name}: tol={self.tol}, {self.n_iter} its{capped}, gap "
            f"{self.gap:.1e}{missed}; median {fmt_time(self.median)} of {self.runs} "
            f"({fmt_time(self.low)} - {fmt_time(self.high)}){scanned}"
        )


def fmt_time(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def skgd_note(tag, result):
    """Say so when the default tol missed the gap and a tighter one was timed."""
    if result.tol == "auto":
        return []
    return [
        f"[{tag}] {result.name}: tol='auto' missed {GAP:g}; timed at the first "
        f"tighter tol that reached it ({result.tol})."
    ]


def race_row(tag, what, ours, peer, target=None):
    return Row(
        f"{tag}: {what}", peer.name, ours.median, peer.median, target=target,
        condition=ours.reached,
    )  # fmt: skip


# --- 1. dense, growing n -----------------------------------------------------------


def logistic_problem(X, y, alpha):
    """The race's :class:`Problem` for skgd's log-loss objective on ``X, y``:
    ``F*`` from scikit-learn's most exact solver at ``tol=1e-12``."""
    scorer = fit_quietly(GDClassifier(alpha=alpha, max_iter=1, tol=None), X, y)
    solver = "lbfgs" if sp.issparse(X) else "newton-cholesky"
    reference = fit_quietly(
        LogisticRegression(
            C=1.0 / (X.shape[0] * alpha), solver=solver, tol=1e-12, max_iter=100_000
        ),
        X, y,
    )  # fmt: skip
    return Problem(X, y, scorer, (reference.coef_, reference.intercept_))


def peer_rows(tag, X, y, alpha, args):
    """The default ``GDClassifier`` against every scikit-learn solver (and
    oneDAL and snapml, where installed), each at its loosest sufficient tol;
    the row's target is the fastest scikit-learn solver's time (issue 22)."""
    problem = logistic_problem(X, y, alpha)
    ours = ("GDClassifier()", lambda tol: GDClassifier(alpha=alpha, tol=tol), SKGD_TOLS)
    extra, notes = optional_peers(X, alpha)
    entries = [ours, *sklearn_peers(X, alpha, args.saga_max_iter), *extra]
    results = race(problem, entries, args)
    default = results.pop("GDClassifier()")
    sklearn = [r for name, r in results.items() if name.startswith("LogisticRegression")]
    reached = [r for r in sklearn if r.reached and not r.capped]
    rows = []
    if reached:
        best = min(reached, key=lambda r: r.median)
        rows.append(
            race_row(tag, f"default vs sklearn's best, to {GAP:g}", default, best,
                     TARGETS["default"])
        )  # fmt: skip
    for result in results.values():
        if not result.name.startswith("LogisticRegression") and result.reached:
            rows.append(race_row(tag, f"default, time to {GAP:g}", default, result))
    notes = [f"[{tag}] {note}" for note in notes]
    notes += [default.note(tag), *skgd_note(tag, default)]
    notes += [result.note(tag) for result in results.values()]
    return rows, notes


def classification_rows(n, n_classes, args):
    X, y = make_classification(
        n_samples=n, n_features=args.d, n_informative=args.informative,
        n_classes=n_classes, random_state=args.seed,
    )  # fmt: skip
    X = StandardScaler().fit_transform(X)
    kind = "binary" if n_classes == 2 else f"multinomial {n_classes}"
    return peer_rows(f"n={n:.0e} d={args.d} {kind}", X, y, args.alpha, args)


def dataset_rows(name, args):
    """scikit-learn's bundled data: breast_cancer standardised, digits raw."""
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        return peer_rows("breast_cancer, standardised", X, y, args.alpha, args)
    X, y = load_digits(return_X_y=True)
    return peer_rows("digits, raw, multinomial 10", X, y, args.alpha, args)


def regression_rows(n, args):
    X, y, _ = make_linear_data(n, args.d, seed=args.seed)
    scorer = fit_quietly(GDRegressor(alpha=args.alpha, max_iter=1, tol=None), X, y)
    problem = Problem(X, y, scorer, closed_form_solution(scorer, X, y))
    ridge = Ridge(alpha=n * args.alpha)  # skgd's objective times 2n
    entries = [
        ("GDRegressor()", lambda tol: GDRegressor(alpha=args.alpha, tol=tol),
         SKGD_TOLS),
        ("Ridge(auto)", lambda tol: ridge, ("exact",)),
    ]  # fmt: skip
    results = race(problem, entries, args)
    ours, peer = results.values()
    closed = median_times(
        [lambda: closed_form_solution(scorer, X, y)], repeats=ours.runs
    )[0]
    tag = f"n={n:.0e} ridge"
    rows = [
        race_row(tag, f"default, time to {GAP:g}", ours, peer),
        Row(f"{tag}: default, time to {GAP:g}", "closed_form_solution",
            ours.median, closed[0], condition=ours.reached),
    ]  # fmt: skip
    notes = [
        ours.note(tag),
        peer.note(tag),
        f"[{tag}] closed_form_solution: median {fmt_time(closed[0])} "
        f"({fmt_time(closed[1])} - {fmt_time(closed[2])})",
        *skgd_note(tag, ours),
    ]
    return rows, notes


def dense_sections(args):
    sizes = [10**k for k in range(3, 8) if args.min_n <= 10**k <= args.max_n]
    sections = [
        (name, lambda name=name: dataset_rows(name, args))
        for name in ("breast_cancer", "digits")
    ]
    for n in sizes:
        sections.append(
            (f"n={n:.0e}, binary", lambda n=n: classification_rows(n, 2, args))
        )
        if n == WIDE_N:
            sections.append(
                (f"n={n:.0e}, d={args.wide_d}",
                 lambda n=n: classification_rows(n, 2, wide(args)))
            )  # fmt: skip
            sections.append(
                (f"n={n:.0e}, {args.classes} classes",
                 lambda n=n: classification_rows(n, args.classes, args))
            )  # fmt: skip
        sections.append((f"n={n:.0e}, ridge", lambda n=n: regression_rows(n, args)))
    return sections


def wide(args):
    """``args`` with ``--wide-d`` features instead of ``--d``."""
    return argparse.Namespace(**{**vars(args), "d": args.wide_d})


# --- 2. sparse, tf-idf-like ---------------------------------------------------------


def make_sparse_logistic(n, d, nnz, seed):
    """Rows of ``nnz`` non-negative entries on average, at random columns,
    scaled to unit norm (as tf-idf rows are), and labels drawn from a logistic
    model with a planted Gaussian ``w`` (logits of standard deviation 3)."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n, d, density=nnz / d, format="csr", random_state=rng,
        data_rvs=lambda k: rng.exponential(size=k),
    )  # fmt: skip
    X = normalize(X)
    w = rng.standard_normal(d)
    logits = X @ w
    logits = 3.0 * (logits - logits.mean()) / logits.std() - 0.5
    y = (rng.random(n) < expit(logits)).astype(np.int64)
    return X, y


def sparse_rows(args):
    n = args.sparse_n
    X, y = make_sparse_logistic(n, args.sparse_d, args.nnz, args.seed)
    print(
        f"sparse data: {n} x {args.sparse_d}, {X.nnz / n:.1f} non-zeros per row, "
        f"positive class {y.mean():.2f}",
        flush=True,
    )
    tag = "sparse"
    rows, notes = peer_rows(tag, X, y, args.alpha, args)
    # skgd's SAGA against scikit-learn's (issue 12), and SGD's defaults.
    problem = logistic_problem(X, y, args.alpha)
    C = 1.0 / (n * args.alpha)
    entries = [
        ("GDClassifier(saga)",
         lambda tol: GDClassifier(alpha=args.alpha, solver="saga", tol=tol,
                                  max_iter=args.saga_max_iter), SKGD_TOLS),
        ("LogisticRegression(saga)",
         lambda tol: LogisticRegression(C=C, solver="saga", tol=tol,
                                        max_iter=args.saga_max_iter), SAGA_TOLS),
    ]  # fmt: skip
    ours, sk_saga = race(problem, entries, args).values()
    rows.append(
        race_row(tag, f"saga, time to {GAP:g}", ours, sk_saga, TARGETS["saga"])
    )
    notes += [ours.note(tag), sk_saga.note(tag)]
    sgd = SGDClassifier(loss="log_loss", alpha=args.alpha, random_state=0)
    median, low, high, fitted = median_times(
        [lambda: fit_quietly(sgd, X, y)], repeats=ours.runs
    )[0]
    notes.append(
        f"[{tag}] SGDClassifier(log_loss) defaults: {iterations(fitted)} epochs, "
        f"gap {problem.gap(fitted):.1e} (never {GAP:g}), median {fmt_time(median)} "
        f"({fmt_time(low)} - {fmt_time(high)})."
    )
    return rows, notes


# --- 3. non-smooth losses against liblinear's dual coordinate descent -------------

LIBLINEAR_TOLS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8, 1e-10)


def piecewise_linear_optimum(loss, X, y, alpha):
    """``(coef, 0)`` minimising the hinge (``y`` in -1/+1) or
    epsilon-insensitive objective without intercept: a QP solved by
    Clarabel's interior point method, independent of both racers (None when
    Clarabel is not installed)."""
    try:
        import clarabel
    except ImportError:
        return None
    n, d = X.shape
    X = sp.csr_matrix(X)
    size = d + n  # [w, xi]
    P = sp.diags(np.r_[np.full(d, alpha), np.zeros(n)]).tocsc()
    q = np.r_[np.zeros(d), np.full(n, 1.0 / n)]
    eye = sp.identity(n)
    if loss == "hinge":  # 1 - y x.w <= xi
        A = sp.vstack([sp.hstack([-sp.diags(y) @ X, -eye]), sp.hstack([X * 0, -eye])])
        h = np.r_[-np.ones(n), np.zeros(n)]
    else:  # |x.w - y| - 0.1 <= xi
        A = sp.vstack([sp.hstack([X, -eye]), sp.hstack([-X, -eye]),
                       sp.hstack([X * 0, -eye])])  # fmt: skip
        h = np.r_[y + 0.1, -y + 0.1, np.zeros(n)]
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = 1e-11
    solution = clarabel.DefaultSolver(
        sp.triu(P).tocsc(), q, A.tocsc(), h, [clarabel.NonnegativeConeT(A.shape[0])],
        settings,
    ).solve()  # fmt: skip
    assert size == len(solution.x)
    return np.asarray(solution.x[:d]).reshape(1, -1), np.zeros(1)


def nonsmooth_problems(args):
    n = args.hinge_n
    X, y = make_classification(
        n_samples=n, n_features=100, n_informative=20, random_state=args.seed
    )
    X = StandardScaler().fit_transform(X)
    Xs, ys = make_sparse_logistic(n, args.hinge_sparse_d, args.nnz, args.seed)
    Xr, yr, _ = make_linear_data(n, 100, noise=0.3, intercept=0.0, seed=args.seed)
    return [
        ("hinge, dense", "hinge", X, y),
        ("hinge, sparse", "hinge", Xs, ys),
        ("eps-insensitive, dense", "epsilon_insensitive", Xr, yr),
    ]


def nonsmooth_rows(args):
    alpha = args.hinge_alpha
    rows, notes = [], []
    for tag, loss, X, y in nonsmooth_problems(args):
        n = X.shape[0]
        C = 1.0 / (n * alpha)
        classify = loss == "hinge"
        Ours = GDClassifier if classify else GDRegressor
        scorer = fit_quietly(
            Ours(loss=loss, alpha=alpha, fit_intercept=False, max_iter=1, tol=None),
            X, y,
        )  # fmt: skip
        signs = np.where(y == np.unique(y)[-1], 1.0, -1.0) if classify else y
        reference = piecewise_linear_optimum(loss, X, signs, alpha)
        if reference is None:
            notes.append(f"[{tag}] skipped: the QP reference needs clarabel.")
            continue
        problem = Problem(X, y, scorer, reference)
        if classify:
            Peer = functools.partial(LinearSVC, loss="hinge")
            peer_name = "LinearSVC(dual)"
        else:
            Peer = functools.partial(LinearSVR, loss="epsilon_insensitive", epsilon=0.1)
            peer_name = "LinearSVR(dual)"
        entries = [
            (f"{Ours.__name__}({loss})",
             lambda tol, Ours=Ours, loss=loss: Ours(
                 loss=loss, alpha=alpha, fit_intercept=False, tol=tol, random_state=0),
             SKGD_TOLS),
            (peer_name,
             lambda tol, Peer=Peer, C=C: Peer(C=C, dual=True, fit_intercept=False, tol=tol,
                                         max_iter=1_000_000, random_state=0),
             LIBLINEAR_TOLS),
        ]  # fmt: skip
        results = race(problem, entries, args)
        ours, peer = (results[name] for name, *_ in entries)
        target = 1.0 if classify else None
        rows.append(race_row(tag, f"time to {GAP:g}", ours, peer, target))
        notes += [result.note(tag) for result in results.values()]
        notes += skgd_note(tag, ours)
        notes.append(
            f"[{tag}] F* from an interior-point QP (Clarabel); skgd's certificate "
            f"at its timed fit: dual_gap_ / objective = "
            f"{ours_certificate(Ours, loss, alpha, X, y):.1e}."
        )
    return rows, notes


def ours_certificate(Ours, loss, alpha, X, y):
    fitted = fit_quietly(Ours(loss=loss, alpha=alpha, fit_intercept=False), X, y)
    return fitted.dual_gap_ / fitted.loss_curve_[-1]


def main():
    args = parse_args()
    # Standardised and tf-idf features span scales the intercept does not.
    warnings.filterwarnings("ignore", message="The features' scales span")
    print_environment(
        "skgd time-to-answer benchmark",
        {
            "n": f"{args.min_n} .. {args.max_n}", "d": args.d,
            "informative": args.informative, "classes": f"2 and {args.classes}",
            "alpha": args.alpha, "gap": GAP,
            "sparse": f"{args.sparse_n} x {args.sparse_d}, {args.nnz} nnz/row",
            "repeats": args.repeats, "seed": args.seed,
        },
    )  # fmt: skip
    sections = [] if args.skip_dense else dense_sections(args)
    if not args.skip_sparse:
        sections.append(("sparse", lambda: sparse_rows(args)))
    if not args.skip_nonsmooth:
        sections.append(("non-smooth losses", lambda: nonsmooth_rows(args)))
    rows, notes = run_sections(sections)
    print(f"load average at the end {os.getloadavg()}\n")
    print_table(
        rows,
        [
            f"\nTimes are the median of {args.repeats} alternating fits (3 if a "
            f"fit takes over {args.cheap:g} s); ratio = skgd / competitor. "
            f"'time to {GAP:g}': the loosest tol reaching a relative gap of "
            f"{GAP:g} (see the notes for each fit's tol, iterations and gap).",
            *notes,
        ],
    )


if __name__ == "__main__":
    main()
