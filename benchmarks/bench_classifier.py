"""GDClassifier against the peers a user would otherwise pick, on one data set.

One run, one synthetic problem (dense, standardised Gaussian features, labels
drawn from a multinomial logistic model with a fixed seed, two and
``--classes`` classes), one table of ratios skgd / peer:

1. ``solver="online"``, constant rate, L2, ``loss="hinge"`` and
   ``"log_loss"``, two classes and several: against ``SGDClassifier`` with
   the same rate, penalty, shuffling and epochs; time, and the final training
   objective of both scored with one formula (one-vs-rest: the sum over the
   binary problems). With several classes GDClassifier's log-loss is the
   multinomial (softmax) loss, SGDClassifier's one binary log-loss per class:
   two different objectives, so that row compares times only.
2. ``solver="batch"``, multinomial log-loss: time to a 1e-6 relative gap of
   the exact minimum (found by ``LogisticRegression`` with ``tol=1e-10``),
   Nesterov momentum and plain gradient descent, both ``eta0="auto"``,
   against ``LogisticRegression`` (lbfgs) with the loosest ``tol`` that
   reaches the same gap.

Usage::

    python benchmarks/bench_classifier.py            # n=200_000, d=100
    python benchmarks/bench_classifier.py --n 20000  # quick
"""

import argparse
import time
from contextlib import nullcontext

import numpy as np
from _common import (
    Row,
    best_times,
    blas_pass_pair,
    classification_labels,
    fit_quietly,
    make_linear_data,
    multinomial_objective,
    ovr_objective,
    print_environment,
    print_report,
    profile_call,
    run_sections,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from threadpoolctl import threadpool_limits

from skgd import GDClassifier

# Warm-up fits run on this many rows: enough to touch every code path (and
# compile whatever numba compiles lazily), too few to cost time.
WARMUP_ROWS = 2000

# The relative objective gap the batch solver and lbfgs must both close.
GAP = 1e-6

# Largest acceptable ratios skgd / peer.
TARGETS = {
    "online_time": 0.8,  # against SGDClassifier, at equal loss...
    "online_loss": 0.01,  # ...within 1%
}

# LogisticRegression's tol, loosest first: the first that reaches GAP is timed.
LBFGS_TOLS = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="samples")
    parser.add_argument("--d", type=int, default=100, help="features")
    parser.add_argument("--classes", type=int, default=5, help="classes, multiclass")
    parser.add_argument(
        "--signal", type=float, default=3.0, help="std of the true logits"
    )
    parser.add_argument("--epochs", type=int, default=5, help="epochs, section 1")
    parser.add_argument("--eta0", type=float, default=1e-3, help="rate, section 1")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 strength")
    parser.add_argument(
        "--max-batch-iter", type=int, default=3200, help="cap, section 2"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument("--skip-online", action="store_true", help="no section 1")
    parser.add_argument("--skip-batch", action="store_true", help="no section 2")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS threads with threadpoolctl (default: as configured); 1 "
        "keeps BLAS calls from stalling while another process holds a core",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile skgd fits")
    return parser.parse_args()


class Bench:
    """The data (one X, labels for two and for several classes) and timed fits."""

    def __init__(self, args):
        self.args = args
        self.X, _, _ = make_linear_data(args.n, args.d, seed=args.seed)
        self.labels = {
            k: classification_labels(self.X, k, signal=args.signal, seed=args.seed)
            for k in (2, args.classes)
        }

    def fit(self, y, *make_estimators, extra=()):
        """Best times to fit each fresh ``make_estimator()`` on ``(X, y)``.

        Returns a ``(time, estimator)`` pair per maker, in the order given,
        then a ``(time, result)`` pair per function of ``extra`` (timed in
        the same rhythm). The calls alternate, so every one sees the same
        load. The warm-ups fit the same configurations on the first rows only.
        """
        X = self.X
        small = slice(0, min(len(y), WARMUP_ROWS))
        funcs = [lambda m=m: fit_quietly(m(), X, y) for m in make_estimators]
        warmups = [
            lambda m=m: fit_quietly(m(), X[small], y[small]) for m in make_estimators
        ]
        funcs += list(extra)
        warmups += list(extra)
        return best_times(funcs, repeats=self.args.repeats, warmups=warmups)

    def profile(self, label, make_estimator, y):
        if self.args.profile:
            print(f"\n-- cProfile: {label}")
            profile_call(lambda: fit_quietly(make_estimator(), self.X, y))


# --- 1. online against SGDClassifier -----------------------------------------


def online_vs_sgd(bench):
    a = bench.args
    rows, notes = [], []
    for n_classes in (2, a.classes):
        for loss in ("hinge", "log_loss"):
            r, n = online_case(bench, n_classes, loss)
            rows += r
            notes += n
    return rows, notes


def online_case(bench, n_classes, loss):
    a = bench.args
    y = bench.labels[n_classes]
    shared = dict(
        loss=loss,
        learning_rate="constant",
        eta0=a.eta0,
        tol=None,
        max_iter=a.epochs,
        penalty="l2",
        alpha=a.alpha,
        shuffle=True,
        random_state=0,
    )

    def ours():
        return GDClassifier(solver="online", **shared)

    (t_ours, fitted_ours), (t_sgd, fitted_sgd) = bench.fit(
        y, ours, lambda: SGDClassifier(**shared)
    )
    what = f"1. online {loss}, {n_classes} classes, {a.epochs} epochs"
    bench.profile(what, ours, y)
    X = bench.X

    if n_classes > 2 and loss == "log_loss":
        # Two objectives: GDClassifier's softmax, SGDClassifier's K binary ones.
        f_ours = multinomial_objective(
            X, y, fitted_ours.coef_, fitted_ours.intercept_, a.alpha
        )
        f_sgd = ovr_objective(
            X, y, fitted_sgd.coef_, fitted_sgd.intercept_, a.alpha, loss
        )
        rows = [
            Row(
                f"{what}: fit time",
                "SGDClassifier",
                t_ours,
                t_sgd,
                target=TARGETS["online_time"],
            ),
            Row(
                f"{what}: objective, each its own [*]",
                "SGDClassifier",
                f_ours,
                f_sgd,
                unit="",
                ratio=np.nan,
            ),
        ]
        note = (
            f"[*] {n_classes} classes, log_loss: skgd's number is the multinomial "
            "objective mean softmax cross-entropy + alpha/2 ||W||^2, SGDClassifier's "
            f"the sum of {n_classes} binary log-loss objectives (one-vs-rest): "
            "different problems, so times only. Training accuracy: skgd "
            f"{fitted_ours.score(X, y):.4f}, SGDClassifier {fitted_sgd.score(X, y):.4f}."
        )
        return rows, [note]

    f_ours = ovr_objective(
        X, y, fitted_ours.coef_, fitted_ours.intercept_, a.alpha, loss
    )
    f_sgd = ovr_objective(X, y, fitted_sgd.coef_, fitted_sgd.intercept_, a.alpha, loss)
    # How far apart two equally good runs land: the peer with another
    # shuffling seed. A loss difference of this size is noise, not a bug.
    reseeded = fit_quietly(SGDClassifier(**{**shared, "random_state": 1}), X, y)
    spread = (
        ovr_objective(X, y, reseeded.coef_, reseeded.intercept_, a.alpha, loss) / f_sgd
        - 1
    )
    objective_row = Row(
        f"{what}: final objective",
        "SGDClassifier",
        f_ours,
        f_sgd,
        unit="",
        ratio=f_ours / f_sgd - 1,
        target=TARGETS["online_loss"],
        relative_difference=True,
    )
    time_row = Row(
        f"{what}: fit time, at equal loss",
        "SGDClassifier",
        t_ours,
        t_sgd,
        target=TARGETS["online_time"],
        condition=objective_row.status == "PASS",
    )
    note = (
        f"[1] {loss}, {n_classes} classes: SGDClassifier with random_state=1 lands "
        f"{spread:+.2%} from its own objective (seed-to-seed noise)."
    )
    return [time_row, objective_row], [note]


# --- 2. multinomial batch against LogisticRegression(lbfgs) ------------------


def first_within_gap(losses, f_min):
    """1-based index of the first entry of ``losses`` within ``GAP`` of ``f_min``."""
    reached = np.flatnonzero((np.asarray(losses) - f_min) / f_min <= GAP)
    return int(reached[0]) + 1 if reached.size else None


def iterations_to_gap(bench, make_estimator, f_min, cap):
    """Fewest iterations within ``GAP`` of ``f_min`` (None if more than ``cap``),
    and the lowest objective any of the runs recorded."""
    y = bench.labels[bench.args.classes]
    max_iter, lowest = 50, np.inf
    while True:
        fitted = fit_quietly(make_estimator(max_iter), bench.X, y)
        lowest = min(lowest, float(np.min(fitted.history_["loss"])))
        k = first_within_gap(fitted.history_["loss"], f_min)
        if k is not None or max_iter >= cap:
            return k, lowest
        max_iter = min(4 * max_iter, cap)


def batch_vs_lbfgs(bench):
    a = bench.args
    X, y = bench.X, bench.labels[a.classes]
    C = 1.0 / (len(y) * a.alpha)

    def objective(fitted):
        return multinomial_objective(X, y, fitted.coef_, fitted.intercept_, a.alpha)

    start = time.perf_counter()
    exact = fit_quietly(LogisticRegression(C=C, tol=1e-10, max_iter=10_000), X, y)
    t_exact = time.perf_counter() - start
    f_min = objective(exact)
    notes = [
        f"[2] f* = {f_min:.12g}: LogisticRegression(C=1/(n alpha), tol=1e-10), "
        f"{int(exact.n_iter_[0])} iterations, {t_exact:.2f} s once. Gaps are "
        "relative, (f - f*) / f*, f by one formula (multinomial_objective)."
    ]

    # The loosest tol at which lbfgs reaches the gap.
    tol, lbfgs_gap = None, None
    for candidate in LBFGS_TOLS:
        fitted = fit_quietly(LogisticRegression(C=C, tol=candidate), X, y)
        lbfgs_gap = objective(fitted) / f_min - 1
        notes.append(
            f"[2] LogisticRegression(tol={candidate:g}): {int(fitted.n_iter_[0])} "
            f"iterations, gap {lbfgs_gap:.2e}."
        )
        if lbfgs_gap <= GAP:
            tol = candidate
            break
    if tol is None:
        tol = LBFGS_TOLS[-1]
        notes.append(f"[2] lbfgs did not reach {GAP:g}; timed at tol={tol:g}.")

    def ours(max_iter, **kw):
        return GDClassifier(
            solver="batch", eta0="auto", tol=None, max_iter=max_iter,
            penalty="l2", alpha=a.alpha, **kw,
        )  # fmt: skip

    variants = [
        ("Nesterov 0.9", dict(momentum=0.9, nesterov=True)),
        ("plain", {}),
    ]
    reached, lowest = [], np.inf
    for label, kw in variants:
        k, low = iterations_to_gap(
            bench, lambda m, kw=kw: ours(m, **kw), f_min, a.max_batch_iter
        )
        lowest = min(lowest, low)
        if k is None:
            notes.append(
                f"[2] batch {label}: not within {GAP:g} after {a.max_batch_iter} "
                "iterations (--max-batch-iter)."
            )
        else:
            reached.append((label, kw, k))
    notes.append(
        f"[2] lowest objective any batch run recorded: {lowest / f_min - 1:+.1e} "
        "relative to f* (negative: a run went below f*, which is then not the "
        "minimum)."
    )

    makers = [lambda kw=kw, k=k: ours(k, **kw) for _, kw, k in reached]
    makers.append(lambda: LogisticRegression(C=C, tol=tol))
    # The memory-traffic floor of one softmax gradient, in the same rhythm.
    floor = blas_pass_pair(X, n_outputs=a.classes)
    *timed, (t_floor, _) = bench.fit(y, *makers, extra=[floor])
    t_lbfgs, lbfgs = timed[-1]
    peer = f"LogisticRegression(tol={tol:g})"
    rows = []
    for (label, kw, k), (t_gd, fitted) in zip(reached, timed, strict=False):
        gap = objective(fitted) / f_min - 1
        what = f"2. batch softmax, {label}, eta0=auto: to {GAP:g} gap ({k} its)"
        rows.append(Row(what, peer, t_gd, t_lbfgs))
        notes.append(f"[2] batch {label}: eta0_ = {fitted.eta0_:.4g}, gap {gap:.2e}.")
        bench.profile(what, lambda kw=kw, k=k: ours(k, **kw), y)
    notes.append(f"[2] {peer}: gap {objective(lbfgs) / f_min - 1:.2e}.")
    for (label, _, k), (t_gd, fitted) in zip(reached, timed, strict=False):
        rows.append(
            Row(
                f"2. batch softmax, {label}: fit time / {k} iterations",
                f"X@W + X.T@G ({a.classes} cols)",
                t_gd / k,
                t_floor,
            )
        )
        # The fit's own clock: what an iteration costs once training runs, and
        # what came before (validation, eta0="auto"'s curvature, first objective).
        iteration = float(np.median(np.diff(fitted.history_["time"])))
        notes.append(
            f"[2] batch {label}, inside the last timed fit: median iteration "
            f"{iteration * 1e3:.1f} ms; everything else {t_gd - k * iteration:.2f} s "
            "of the best fit time (roughly)."
        )
    return rows, notes


def main():
    args = parse_args()
    print_environment(
        "skgd GDClassifier benchmark",
        {
            "n": args.n,
            "d": args.d,
            "classes": f"2 and {args.classes}",
            "signal": args.signal,
            "dtype": "float64",
            "epochs": args.epochs,
            "eta0": args.eta0,
            "alpha": args.alpha,
            "max_batch_iter": args.max_batch_iter,
            "repeats": args.repeats,
            "seed": args.seed,
            "blas_threads": args.blas_threads or "as configured",
        },
    )
    limits = (
        threadpool_limits(args.blas_threads, user_api="blas")
        if args.blas_threads
        else nullcontext()
    )
    with limits:
        run(args)


def run(args):
    bench = Bench(args)
    for k, y in bench.labels.items():
        print(f"{k} classes: counts {np.bincount(y).tolist()}")
    sections = []
    if not args.skip_online:
        sections.append(online_vs_sgd)
    if not args.skip_batch:
        sections.append(batch_vs_lbfgs)
    rows, notes = run_sections(
        (section.__name__, lambda section=section: section(bench))
        for section in sections
    )
    print_report(
        rows, notes, args.repeats, "after a warm-up, the compared fits alternating"
    )


if __name__ == "__main__":
    main()
