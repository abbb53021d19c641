"""GDRegressor against the peers a user would otherwise pick, on one data set.

One run, one synthetic problem (dense, standardised Gaussian features, a
linear target plus noise, fixed seed), one table of ratios skgd / peer:

1. ``solver="online"``, constant rate, L2: against ``SGDRegressor`` with the
   same rate, penalty, shuffling and epochs; time, and the final training
   objective of both (scored with the same formula).
2. ``solver="minibatch"`` (32, Nesterov momentum 0.9): against
   ``MLPRegressor(hidden_layer_sizes=())``, scikit-learn's only linear model
   with mini-batches and momentum, with its L2 strength matched.
3. ``solver="minibatch"`` (256): time per epoch against one pass pair
   ``X @ w``, ``X.T @ r``, the memory-bandwidth floor of an epoch.
4. ``solver="batch"``: time per iteration against the same pass pair, and
   time to a 1e-6 relative objective gap against ``Ridge``'s closed form.
5. A fresh Python process: import and first fit, numba cache warm and cold.

Usage::

    python benchmarks/bench_regressor.py            # n=200_000, d=100
    python benchmarks/bench_regressor.py --n 20000  # quick
"""

import argparse
import shutil
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from _common import (
    Row,
    best_times,
    blas_pass_pair,
    fit_quietly,
    l2_objective,
    make_linear_data,
    print_environment,
    print_report,
    profile_call,
    run_in_fresh_process,
    run_sections,
)
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from skgd import GDRegressor

# Warm-up fits run on this many rows: enough to touch every code path (and
# compile whatever numba compiles lazily), too few to cost time.
WARMUP_ROWS = 2000

# The relative objective gap the batch solver must close in measurement 4.
GAP = 1e-6

# Largest acceptable ratios skgd / peer.
TARGETS = {
    "online_time": 0.8,  # against SGDRegressor, at equal loss...
    "online_loss": 0.01,  # ...within 1%
    "mlp_time": 0.2,
    "minibatch_epoch": 2.0,  # against the BLAS pass pair
    "batch_iteration": 1.3,  # against the BLAS pass pair
}

PASS_PAIR = "X@w + X.T@r"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="samples")
    parser.add_argument("--d", type=int, default=100, help="features")
    parser.add_argument("--epochs", type=int, default=5, help="epochs, rows 1-3")
    parser.add_argument("--eta0", type=float, default=1e-3, help="rate, rows 1-3")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 strength")
    parser.add_argument("--batch-iters", type=int, default=20, help="row 4 iterations")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument("--skip-fresh-process", action="store_true", help="no row 5")
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
    """The data, the settings, and timed fits on them."""

    def __init__(self, args):
        self.args = args
        self.X, self.y, _ = make_linear_data(args.n, args.d, seed=args.seed)
        self.pass_pair = blas_pass_pair(self.X)
        self.floor = np.inf  # best pass pair time seen so far
        self.time_floor()

    def time_floor(self, calls=5):
        """Time the BLAS pass pair a few times; ``floor`` keeps the best ever."""
        for _ in range(calls):
            start = time.perf_counter()
            self.pass_pair()
            self.floor = min(self.floor, time.perf_counter() - start)

    def fit(self, *make_estimators, floor=False):
        """Best times to fit each fresh ``make_estimator()``, and the estimators.

        Returns a ``(time, estimator)`` pair per maker (a single pair for one
        maker). The warm-ups fit the same configurations on the first rows
        only. With ``floor=True`` the BLAS pass pair is also timed in the
        same rhythm, so that it sees the same load as the fits.
        """
        X, y = self.X, self.y
        small = slice(0, min(len(y), WARMUP_ROWS))
        funcs = [lambda m=m: fit_quietly(m(), X, y) for m in make_estimators]
        warmups = [
            lambda m=m: fit_quietly(m(), X[small], y[small]) for m in make_estimators
        ]
        if floor:
            funcs.append(self.time_floor)
            warmups.append(self.time_floor)
        timed = best_times(funcs, repeats=self.args.repeats, warmups=warmups)
        timed = timed[: len(make_estimators)]
        return timed if len(timed) > 1 else timed[0]

    def objective(self, estimator):
        """The L2 training objective of a fitted regressor (or linear MLP)."""
        if hasattr(estimator, "coefs_"):
            coef, intercept = estimator.coefs_[0], estimator.intercepts_[0]
        else:
            coef, intercept = estimator.coef_, estimator.intercept_
        return l2_objective(self.X, self.y, coef, intercept, self.args.alpha)

    def profile(self, label, make_estimator):
        if self.args.profile:
            print(f"\n-- cProfile: {label}")
            profile_call(lambda: fit_quietly(make_estimator(), self.X, self.y))


# --- 1. online against SGDRegressor ------------------------------------------


def online_vs_sgd(bench):
    a = bench.args
    shared = dict(
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
        return GDRegressor(solver="online", **shared)

    (t_ours, fitted_ours), (t_sgd, fitted_sgd) = bench.fit(
        ours, lambda: SGDRegressor(**shared)
    )
    f_ours, f_sgd = bench.objective(fitted_ours), bench.objective(fitted_sgd)
    # How far apart two equally good runs land: the peer with another
    # shuffling seed. A loss difference of this size is noise, not a bug.
    reseeded = SGDRegressor(**{**shared, "random_state": 1})
    spread = bench.objective(fit_quietly(reseeded, bench.X, bench.y)) / f_sgd - 1
    bench.profile("online", ours)

    what = f"online, {a.epochs} epochs"
    loss = Row(
        f"1. {what}: final objective",
        "SGDRegressor",
        f_ours,
        f_sgd,
        unit="",
        ratio=f_ours / f_sgd - 1,
        target=TARGETS["online_loss"],
        relative_difference=True,
    )
    speed = Row(
        f"1. {what}: fit time, at equal loss",
        "SGDRegressor",
        t_ours,
        t_sgd,
        target=TARGETS["online_time"],
        condition=loss.status == "PASS",
    )
    note = (
        f"[1] SGDRegressor with random_state=1 instead of 0 lands {spread:+.2%} "
        "from its own objective: the seed-to-seed noise of constant-rate SGD."
    )
    return [speed, loss], [note]


# --- 2. minibatch with Nesterov momentum against MLPRegressor ------------------


def minibatch_vs_mlp(bench):
    a = bench.args
    batch_size = 32

    def ours():
        return GDRegressor(
            solver="minibatch",
            batch_size=batch_size,
            momentum=0.9,
            nesterov=True,
            learning_rate="constant",
            eta0=a.eta0,
            tol=None,
            max_iter=a.epochs,
            penalty="l2",
            alpha=a.alpha,
            shuffle=True,
            random_state=0,
        )

    def mlp():
        # MLP's batch gradient is (X_B^T delta + alpha_mlp W) / |B|
        # (sklearn/neural_network/_multilayer_perceptron.py, _compute_loss_grad),
        # an L2 of alpha_mlp / |B| per update: alpha_mlp = alpha |B| takes
        # skgd's steps (exactly when |B| divides n).
        return MLPRegressor(
            hidden_layer_sizes=(),
            solver="sgd",
            batch_size=batch_size,
            learning_rate="constant",
            learning_rate_init=a.eta0,
            momentum=0.9,
            nesterovs_momentum=True,
            alpha=a.alpha * batch_size,
            max_iter=a.epochs,
            tol=0.0,
            n_iter_no_change=10**9,
            early_stopping=False,
            shuffle=True,
            random_state=0,
        )

    (t_ours, fitted_ours), (t_mlp, fitted_mlp) = bench.fit(ours, mlp)
    f_ours, f_mlp = bench.objective(fitted_ours), bench.objective(fitted_mlp)
    bench.profile("minibatch 32, Nesterov", ours)
    what = f"minibatch 32, Nesterov, {a.epochs} epochs"
    rows = [
        Row(
            f"2. {what}: fit time",
            "MLPRegressor",
            t_ours,
            t_mlp,
            target=TARGETS["mlp_time"],
        ),
        Row(
            f"2. {what}: final objective",
            "MLPRegressor",
            f_ours,
            f_mlp,
            unit="",
            ratio=f_ours / f_mlp - 1,
            relative_difference=True,
        ),
    ]
    note = (
        "[2] MLPRegressor starts from random (Glorot) weights, skgd from zeros; "
        f"MLP alpha = {a.alpha:g} * {batch_size}, the same L2 per update."
    )
    return rows, [note]


# --- 3. a minibatch epoch against the BLAS floor -------------------------------


def minibatch_vs_blas(bench):
    a = bench.args

    def ours():
        return GDRegressor(
            solver="minibatch",
            batch_size=256,
            learning_rate="constant",
            eta0=a.eta0,
            tol=None,
            max_iter=a.epochs,
            penalty="l2",
            alpha=a.alpha,
            shuffle=True,
            random_state=0,
        )

    t_fit, _ = bench.fit(ours, floor=True)
    bench.profile("minibatch 256", ours)
    row = Row(
        f"3. minibatch 256: fit time / {a.epochs} epochs",
        PASS_PAIR,
        t_fit / a.epochs,
        bench.floor,
        target=TARGETS["minibatch_epoch"],
    )
    return [row], []


# --- 4. batch: iterations against the BLAS floor, convergence against Ridge ----


def curvature_step(X):
    """``1 / L``, L the largest eigenvalue of ``[X, 1]^T [X, 1] / n`` (by LAPACK).

    Given to the solver so that the iteration timing does not include skgd's
    own estimate of it, which ``eta0="auto"`` times separately.
    """
    Xc = np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
    return 1.0 / float(np.linalg.eigvalsh(Xc.T @ Xc / X.shape[0])[-1])


def iterations_to_gap(bench, make_estimator, f_min, cap=1000):
    """Fewest iterations within ``GAP`` of ``f_min`` (None if more than ``cap``)."""
    max_iter = 50
    while True:
        fitted = fit_quietly(make_estimator(max_iter), bench.X, bench.y)
        gaps = (np.asarray(fitted.history_["loss"]) - f_min) / f_min
        reached = np.flatnonzero(gaps <= GAP)
        if reached.size:
            return int(reached[0]) + 1
        if max_iter >= cap:
            return None
        max_iter *= 4


def batch_vs_blas_and_ridge(bench):
    a = bench.args
    step = curvature_step(bench.X)

    def ours(max_iter, eta0=step):
        return GDRegressor(
            solver="batch",
            learning_rate="constant",
            eta0=eta0,
            tol=None,
            max_iter=max_iter,
            penalty="l2",
            alpha=a.alpha,
        )

    k = a.batch_iters
    t_iters, _ = bench.fit(lambda: ours(k), floor=True)
    bench.profile(f"batch, {k} iterations", lambda: ours(k))
    rows = [
        Row(
            f"4. batch, eta0=1/L: fit time / {k} iterations",
            PASS_PAIR,
            t_iters / k,
            bench.floor,
            target=TARGETS["batch_iteration"],
        )
    ]

    t_ridge, ridge = bench.fit(lambda: Ridge(alpha=a.alpha * len(bench.y)))
    f_min = bench.objective(ridge)
    notes = [f"[4] Ridge(alpha=n*alpha) objective {f_min:.10g}; 1/L = {step:.4g}."]
    for label, eta0 in (("eta0=1/L", step), ('eta0="auto"', "auto")):
        k = iterations_to_gap(bench, lambda m, eta0=eta0: ours(m, eta0), f_min)
        if k is None:
            rows.append(
                Row(f"4. batch, {label}: to {GAP:g} gap", "Ridge", np.nan, t_ridge)
            )
            continue
        t_gap, fitted = bench.fit(lambda k=k, eta0=eta0: ours(k, eta0))
        gap = bench.objective(fitted) / f_min - 1
        what = f"4. batch, {label}: time to {GAP:g} gap ({k} its)"
        rows.append(Row(what, "Ridge", t_gap, t_ridge))
        notes.append(f"[4] {label}: {k} iterations reach a relative gap of {gap:.2e}.")
    return rows, notes


# --- 5. a fresh process: import and first fit ----------------------------------

SKGD_CHILD = """
import json, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import numpy as np, scipy.sparse, sklearn.linear_model, numba
t1 = time.perf_counter()
import skgd
from skgd import GDRegressor
t2 = time.perf_counter()
rng = np.random.RandomState(0)
X = rng.standard_normal((200, 5)); y = X @ np.arange(5.0) + 1.0
GDRegressor().fit(X, y)
t3 = time.perf_counter()
GDRegressor(solver="minibatch", random_state=0).fit(X, y)
t4 = time.perf_counter()
import skgd._kernels.passes, skgd._kernels.stochastic, skgd.objective.losses
import skgd.steps.optimizers
from numba.core.dispatcher import Dispatcher
from skgd._kernels.lazy import LazyDispatcher
hits = misses = 0
for module in (skgd._kernels.passes, skgd._kernels.stochastic, skgd.objective.losses,
               skgd.steps.optimizers):
    for obj in vars(module).values():
        if isinstance(obj, (Dispatcher, LazyDispatcher)):
            hits += sum(obj.stats.cache_hits.values())
            misses += sum(obj.stats.cache_misses.values())
print(json.dumps(dict(
    deps=t1 - t0, skgd=t2 - t1, fit_batch=t3 - t2, fit_minibatch=t4 - t3,
    hits=hits, misses=misses, cache_path=skgd._kernels.stochastic.dense_epoch.stats.cache_path,
)))
"""

SKLEARN_CHILD = """
import json, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import numpy as np, sklearn.linear_model
t1 = time.perf_counter()
rng = np.random.RandomState(0)
X = rng.standard_normal((200, 5)); y = X @ np.arange(5.0) + 1.0
sklearn.linear_model.SGDRegressor(random_state=0).fit(X, y)
t2 = time.perf_counter()
print(json.dumps(dict(imports=t1 - t0, fit=t2 - t1)))
"""


def best_child(code, repeats, env=None):
    """Run ``code`` in ``repeats`` fresh processes: the best of each time."""
    runs = [run_in_fresh_process(code, env=env) for _ in range(repeats)]
    return {
        key: min(run[key] for run in runs) if isinstance(value, float) else value
        for key, value in runs[-1].items()
    }


def fresh_process(bench):
    peer = best_child(SKLEARN_CHILD, bench.args.repeats)
    cache_dir = tempfile.mkdtemp(prefix="skgd-numba-cache-")
    try:
        env = {"NUMBA_CACHE_DIR": cache_dir}
        cold = run_in_fresh_process(SKGD_CHILD, env=env)  # compiles, fills cache_dir
        n_indexes = len(list(Path(cache_dir).rglob("*.nbi")))
        warm = best_child(SKGD_CHILD, bench.args.repeats, env=env)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    rows = []
    for label, run in (("warm", warm), ("cold", cold)):
        what = f"5. new process, {label} cache"
        rows += [
            Row(
                f"{what}: import skgd",
                "import sklearn.linear_model",
                run["deps"] + run["skgd"],
                peer["imports"],
            ),
            Row(
                f"{what}: 1st fit, batch, 200x5",
                "SGDRegressor",
                run["fit_batch"],
                peer["fit"],
            ),
            Row(
                f"{what}: then 1st minibatch fit",
                "SGDRegressor",
                run["fit_minibatch"],
                peer["fit"],
            ),
        ]
    honoured = warm["cache_path"].startswith(cache_dir) and warm["misses"] == 0
    notes = [
        f"[5] import, warm: numpy+scipy+sklearn+numba {warm['deps']:.2f} s, skgd "
        f"itself {warm['skgd']:.2f} s; cold: skgd itself {cold['skgd']:.2f} s.",
        f"[5] NUMBA_CACHE_DIR honoured: {'yes' if honoured else 'NO'}. Cold: "
        f"{cold['misses']} signatures compiled, {n_indexes} cache index files "
        f"written to the fresh directory; warm: {warm['hits']} loaded, "
        f"{warm['misses']} compiled, from {warm['cache_path']}.",
    ]
    return rows, notes


def main():
    args = parse_args()
    print_environment(
        "skgd GDRegressor benchmark",
        {
            "n": args.n,
            "d": args.d,
            "dtype": "float64",
            "epochs": args.epochs,
            "eta0": args.eta0,
            "alpha": args.alpha,
            "batch_iters": args.batch_iters,
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
    print(f"BLAS pass pair {PASS_PAIR}: {bench.floor * 1e3:.1f} ms", flush=True)
    sections = [online_vs_sgd, minibatch_vs_mlp, minibatch_vs_blas]
    sections.append(batch_vs_blas_and_ridge)
    if not args.skip_fresh_process:
        sections.append(fresh_process)
    rows, notes = run_sections(
        (section.__name__, lambda section=section: section(bench))
        for section in sections
    )
    print_report(rows, notes, args.repeats)


if __name__ == "__main__":
    main()
