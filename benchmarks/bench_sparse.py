"""skgd's online solver on sparse, text-like data against scikit-learn's SGD.

One run, one synthetic corpus (fixed seed), one table of ratios skgd / peer:

1. Text-like CSR data: ``n`` documents over a vocabulary of ``d`` words,
   about ``nnz`` words per document drawn from a Zipf law, tf-idf weighted,
   rows scaled to unit L2 norm (what ``TfidfVectorizer`` gives). In float64
   and float32, ``solver="online"`` with the same constant rate, L2 penalty,
   shuffling and epochs as ``SGDRegressor``, ``SGDClassifier(loss="hinge")``
   and ``SGDClassifier(loss="log_loss")``: fit time, and the final training
   objective of both, scored with one formula (:func:`skgd.training_objective`).
   SGD damps the intercept's steps on sparse data by 0.01; skgd does the same
   work with ``intercept_scaling=0.1`` (0.1**2 = 0.01). The objectives of
   skgd's default ``intercept_scaling=1`` and of fits without an intercept
   are reported too, and the time of ``epoch_loss="running"`` (SGD's own
   bookkeeping: no pass for the exact objective after each epoch).
2. Peak memory of ``GDRegressor.fit`` on a C-contiguous float32 dense array,
   traced with :mod:`tracemalloc` (numpy reports its allocations to it), above
   the array itself: per solver, and at half the rows, to show how it scales
   with ``n_samples + n_features``.

Usage::

    python benchmarks/bench_sparse.py                      # n=200_000, d=50_000
    python benchmarks/bench_sparse.py --n 20000 --d 5000   # quick
"""

import argparse
import tracemalloc
import warnings

import numpy as np
from _common import (
    Row,
    best_times,
    fit_quietly,
    make_text_like_data,
    print_environment,
    print_report,
    run_sections,
)
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier, SGDRegressor

from skgd import GDClassifier, GDRegressor, training_objective

# Warm-up fits run on this many rows (compilation and first touches untimed).
WARMUP_ROWS = 2000

TARGETS = {"time": 1.0, "objective": 0.01}

# SGD's SPARSE_INTERCEPT_DECAY = 0.01 is this intercept_scaling, squared.
SPARSE_INTERCEPT_SCALING = 0.1


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="documents (rows)")
    parser.add_argument("--d", type=int, default=50_000, help="vocabulary (columns)")
    parser.add_argument("--nnz", type=int, default=50, help="mean words per row")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of every fit")
    parser.add_argument("--eta0", type=float, default=0.1, help="constant rate")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 strength")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument(
        "--dtypes", default="float64,float32", help="comma-separated, section 1"
    )
    parser.add_argument("--memory-n", type=int, default=200_000, help="section 2 rows")
    parser.add_argument("--memory-d", type=int, default=100, help="section 2 columns")
    parser.add_argument("--skip-memory", action="store_true", help="no section 2")
    return parser.parse_args()


# --- 1. sparse, text-like data --------------------------------------------------------


def online_rows(X, y_reg, y_clf, args, dtype):
    """Fit time and final objective of each skgd online fit and its SGD peer."""
    X = X.astype(dtype)
    y_reg = y_reg.astype(dtype)
    shared = dict(
        learning_rate="constant", eta0=args.eta0, tol=None, max_iter=args.epochs,
        penalty="l2", alpha=args.alpha, shuffle=True, random_state=0,
    )  # fmt: skip
    online = dict(solver="online", intercept_scaling=SPARSE_INTERCEPT_SCALING, **shared)
    pairs = [
        ("regression", GDRegressor(**online), SGDRegressor(**shared), y_reg),
        ("hinge", GDClassifier(loss="hinge", **online),
         SGDClassifier(loss="hinge", **shared), y_clf),
        ("log_loss", GDClassifier(loss="log_loss", **online),
         SGDClassifier(loss="log_loss", **shared), y_clf),
    ]  # fmt: skip
    small = slice(0, WARMUP_ROWS)
    rows, notes = [], []
    for name, ours, peer, y in pairs:
        makers = [lambda e=e, y=y: fit_quietly(clone(e), X, y) for e in (ours, peer)]
        warmups = [
            lambda e=e, y=y: fit_quietly(clone(e), X[small], y[small])
            for e in (ours, peer)
        ]
        (t_ours, fitted_ours), (t_peer, fitted_peer) = best_times(
            makers, repeats=args.repeats, warmups=warmups
        )
        what = f"1. online {name}, {np.dtype(dtype).name}, {args.epochs} epochs"
        loss = objective_row(f"{what}: objective", fitted_ours, fitted_peer, X, y)
        speed = Row(
            f"{what}: fit time", type(peer).__name__, t_ours, t_peer,
            target=TARGETS["time"], condition=loss.status == "PASS",
        )  # fmt: skip
        # SGD's own bookkeeping: the running mean of the epoch's losses.
        running = clone(ours).set_params(epoch_loss="running")
        ((t_running, _),) = best_times(
            [lambda e=running, y=y: fit_quietly(clone(e), X, y)],
            repeats=args.repeats,
            warmups=[lambda e=running, y=y: fit_quietly(clone(e), X[small], y[small])],
        )  # fmt: skip
        speed_running = Row(
            f"{what}: fit time, epoch_loss='running'", type(peer).__name__,
            t_running, t_peer, target=TARGETS["time"],
        )  # fmt: skip
        # Untimed: skgd's default intercept steps (0.01 x SGD's damped ones
        # are noisier at a constant rate), and no intercept at all.
        default = fit_quietly(clone(ours).set_params(intercept_scaling=1.0), X, y)
        plain = [fit_quietly(clone(e).set_params(fit_intercept=False), X, y)
                 for e in (ours, peer)]  # fmt: skip
        rows += [
            speed,
            speed_running,
            loss,
            objective_row(
                f"{what}: objective, intercept_scaling=1 (information)",
                default,
                fitted_peer,
                X,
                y,
                target=None,
            ),  # fmt: skip
            objective_row(f"{what}: objective, no intercept", *plain, X, y),
        ]
        reseeded = fit_quietly(clone(peer).set_params(random_state=1), X, y)
        spread = objective_row(
            "", reseeded, fitted_peer, X, y, scorer=fitted_ours
        ).ratio
        epoch = np.diff(np.r_[0.0, fitted_ours.history_["time"]]).mean()
        notes.append(
            f"[1] {name} {np.dtype(dtype).name}: skgd {epoch * 1e3:.0f} ms per epoch "
            f"(its epoch plus the objective it records); {type(peer).__name__} with "
            f"random_state=1 lands {spread:+.2%} from its own objective; intercepts: "
            f"skgd {np.ravel(fitted_ours.intercept_)[0]:.3f}, peer "
            f"{np.ravel(fitted_peer.intercept_)[0]:.3f}."
        )
    return rows, notes


def objective_row(what, ours, peer, X, y, scorer=None, target=TARGETS["objective"]):
    """Both fits' training objectives, by one formula: skgd's (the same as SGD's)."""
    scorer = ours if scorer is None else scorer
    f_ours, f_peer = (
        training_objective(scorer, X, y, coef=e.coef_, intercept=e.intercept_)
        for e in (ours, peer)
    )
    return Row(
        what, type(peer).__name__, f_ours, f_peer, unit="", ratio=f_ours / f_peer - 1,
        target=target, relative_difference=True,
    )  # fmt: skip


# --- 2. peak memory of a dense float32 fit --------------------------------------------


def traced_peak(func, *args):
    """Peak bytes allocated (numpy's included) during ``func(*args)``, above the
    memory live before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        func(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def memory_rows(args):
    rng = np.random.default_rng(args.seed)
    configurations = [
        ("batch", dict(solver="batch")),
        ("batch, eta0 given", dict(solver="batch", eta0=0.01)),
        ("online", dict(solver="online")),
        ("minibatch 32", dict(solver="minibatch")),
    ]
    rows, notes = [], []
    d = args.memory_d
    for n in (args.memory_n, args.memory_n // 2):
        X = np.ascontiguousarray(rng.standard_normal((n, d), dtype=np.float32))
        y = (X[:, :5].sum(axis=1) + 1.0).astype(np.float32)
        for label, params in configurations:
            estimator = GDRegressor(max_iter=2, tol=None, random_state=0, **params)
            fit_quietly(GDRegressor(**estimator.get_params()), X[:100], y[:100])
            peak = traced_peak(fit_quietly, estimator, X, y)
            per_unit = peak / (n + d)
            if n == args.memory_n:
                rows.append(
                    Row(
                        f"2. GDRegressor({label}).fit peak above X, {n}x{d} f32 (MB)",
                        "X itself",
                        peak / 1e6,
                        X.nbytes / 1e6,
                        unit="",
                    )
                )
            notes.append(
                f"[2] {label}, n={n}: peak {peak / 1e6:.1f} MB = "
                f"{per_unit:.0f} bytes per (n_samples + n_features) = "
                f"{peak / X.nbytes:.2f} x X"
            )
    return rows, notes


def main():
    args = parse_args()
    # skgd's DataScaleWarning: tf-idf features (scale ~0.1) against the
    # intercept's 1 trip it, and it is the point of this data.
    warnings.filterwarnings("ignore", message="The features' scales span")
    dtypes = [np.dtype(name) for name in args.dtypes.split(",") if name]
    print_environment(
        "skgd sparse (text-like) online benchmark",
        {
            "n": args.n, "d": args.d, "nnz_per_row": args.nnz, "dtypes": args.dtypes,
            "epochs": args.epochs, "eta0": args.eta0, "alpha": args.alpha,
            "repeats": args.repeats, "seed": args.seed,
            "memory": "skipped" if args.skip_memory
            else f"{args.memory_n}x{args.memory_d} float32",
        },
    )  # fmt: skip
    X, y_reg, y_clf = make_text_like_data(args.n, args.d, args.nnz, args.seed)
    print(
        f"data: {X.nnz / X.shape[0]:.1f} non-zeros per row, "
        f"{(np.diff(X.indptr) == 0).sum()} empty rows, "
        f"positive class {y_clf.mean():.2f}",
        flush=True,
    )
    sections = [
        (f"online fits, {dtype.name}",
         lambda dtype=dtype: online_rows(X, y_reg, y_clf, args, dtype))
        for dtype in dtypes
    ]  # fmt: skip
    if not args.skip_memory:
        sections.append(("traced fits", lambda: memory_rows(args)))
    rows, notes = run_sections(sections)
    print_report(rows, notes, args.repeats)


if __name__ == "__main__":
    main()
