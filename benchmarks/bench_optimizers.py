"""Time to a target objective per update rule, on an ill-conditioned least squares.

One synthetic problem: standardised Gaussian features multiplied by scales
``logspace(0, log10(--max-scale), d)`` (so the Gram matrix's condition number
is about ``max_scale**2``), a linear target plus noise, ``GDRegressor`` with
the squared error and an L2 penalty, whose exact minimiser
:func:`skgd.closed_form_solution` gives. For every update rule (plain SGD,
heavy-ball and Nesterov momentum, AdaGrad, RMSProp, Adam, Rprop) and every
solver it applies to (full batch; mini-batches of ``--batch-size``), a
constant rate from a small grid around skgd's own ``eta0="auto"``:

- the fewest epochs whose training objective is within a relative gap of
  1e-3 and of 1e-6 of the exact minimum (``history_['loss']`` of one run,
  capped at ``--max-batch-epochs`` / ``--max-minibatch-epochs``), the best
  rate of the grid for each gap, and the best wall time of a fit of exactly
  that many epochs;
- for the perturbation solver (no gradient; one objective evaluation per
  epoch), the evaluations to 1e-3, here and, for reference, on the same
  problem with standardised features.

Every rate that makes training diverge is reported as such; a gap not
reached within the cap is reported as not reached.

Usage::

    python benchmarks/bench_optimizers.py             # n=50_000, d=50
    python benchmarks/bench_optimizers.py --n 10000   # quick
"""

import argparse
import os
import time
import warnings
from contextlib import nullcontext

import numpy as np
from _common import (
    best_time,
    best_times,
    fit_quietly,
    format_value,
    l2_objective,
    make_linear_data,
    print_columns,
    print_environment,
    profile_call,
)
from threadpoolctl import threadpool_limits

from skgd import GDRegressor, closed_form_solution, training_objective

# The relative objective gaps, (f - f*) / f*, each rule is timed to.
GAPS = (1e-3, 1e-6)

# Warm-up fits run on this many rows: enough to load every compiled kernel.
WARMUP_ROWS = 2000

# The update rules: a label and the estimator parameters that select it.
RULES = (
    ("sgd", dict(optimizer="sgd")),
    ("sgd, momentum 0.9", dict(optimizer="sgd", momentum=0.9)),
    ("sgd, Nesterov 0.9", dict(optimizer="sgd", momentum=0.9, nesterov=True)),
    ("adagrad", dict(optimizer="adagrad")),
    ("rmsprop", dict(optimizer="rmsprop")),
    ("adam", dict(optimizer="adam")),
    ("rprop", dict(optimizer="rprop")),
)

# Rules whose step is proportional to the gradient get eta0="auto" = 1/L
# (times 1 - momentum for stochastic solvers); the others normalise each
# coordinate's gradient, so their steps are about eta0 in parameter units
# whatever the curvature, and their grid spans more decades.
PROPORTIONAL = {"sgd"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="samples")
    parser.add_argument("--d", type=int, default=50, help="features")
    parser.add_argument(
        "--max-scale", type=float, default=100.0, help="largest feature scale"
    )
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 strength")
    parser.add_argument("--noise", type=float, default=1.0, help="target noise")
    parser.add_argument("--batch-size", type=int, default=64, help="minibatch size")
    parser.add_argument(
        "--sgd-factors",
        type=_floats,
        default=(0.5, 1.0, 2.0),
        help="eta0 grid of sgd (with or without momentum), times eta0='auto'",
    )
    parser.add_argument(
        "--normalised-factors",
        type=_floats,
        default=(0.1, 1.0, 10.0),
        help="eta0 grid of adagrad, rmsprop, adam, rprop, times eta0='auto'",
    )
    parser.add_argument("--max-batch-epochs", type=int, default=2000, help="cap")
    parser.add_argument("--max-minibatch-epochs", type=int, default=200, help="cap")
    parser.add_argument(
        "--max-evaluations", type=int, default=5000, help="cap, perturbation"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument(
        "--skip-perturbation", action="store_true", help="no perturbation rows"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS threads with threadpoolctl (default: as configured)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each timed fit"
    )
    return parser.parse_args()


def _floats(text):
    return tuple(float(v) for v in text.split(","))


class Problem:
    """The data, its exact minimum, and runs of GDRegressor on it."""

    def __init__(self, X, y, args):
        self.X, self.y, self.args = X, y, args
        reference = GDRegressor(penalty="l2", alpha=args.alpha, max_iter=1)
        reference = self.quiet_fit(reference, X[:WARMUP_ROWS], y[:WARMUP_ROWS])
        self.t_exact, (coef, intercept) = best_time(
            lambda: closed_form_solution(reference, X, y), repeats=args.repeats
        )
        self.f_min = training_objective(reference, X, y, coef=coef, intercept=intercept)
        # The same number by the benchmarks' own formula: a check of both.
        self.f_check = l2_objective(X, y, coef, intercept, args.alpha)

    def estimator(self, max_iter, **params):
        return GDRegressor(
            penalty="l2", alpha=self.args.alpha, tol=None, max_iter=max_iter,
            shuffle=True, random_state=0, **params,
        )  # fmt: skip

    @staticmethod
    def quiet_fit(estimator, X, y):
        with warnings.catch_warnings():
            # Badly scaled features are the point here.
            warnings.filterwarnings("ignore", message="The features' scales")
            return fit_quietly(estimator, X, y)

    def auto_eta0(self, **params):
        """What ``eta0="auto"`` resolves to for these parameters, on this data."""
        return self.quiet_fit(self.estimator(1, **params), self.X, self.y).eta0_

    def gaps(self, losses):
        return (np.asarray(losses) - self.f_min) / self.f_min

    def search(self, cap, gaps=GAPS, **params):
        """Epochs to each of ``gaps`` (None: not within ``cap``), lowest gap.

        Runs of 4x more epochs each, from ``cap / 64``, until every gap is
        reached or the cap is; a fit's first ``k`` epochs do not depend on
        ``max_iter``, so the last run's history holds the answer. Returns
        None if training diverged.
        """
        max_iter = max(1, cap // 64)
        while True:
            try:
                fitted = self.quiet_fit(
                    self.estimator(max_iter, **params), self.X, self.y
                )
            except ValueError as error:
                if "diverged" in str(error):
                    return None
                raise
            relative = self.gaps(fitted.history_["loss"])
            epochs = [_first(relative <= gap) for gap in gaps]
            if all(e is not None for e in epochs) or max_iter >= cap:
                return epochs, float(np.min(relative))
            max_iter = min(4 * max_iter, cap)

    def time_fits(self, configs):
        """Best wall times of fits of ``(max_iter, params)``, alternating; and
        the relative gap of each fit's result, by :func:`l2_objective`."""
        small = slice(0, WARMUP_ROWS)
        funcs = [
            lambda k=k, p=p: self.quiet_fit(self.estimator(k, **p), self.X, self.y)
            for k, p in configs
        ]
        warmups = [
            lambda k=k, p=p: self.quiet_fit(
                self.estimator(min(k, 2), **p), self.X[small], self.y[small]
            )
            for k, p in configs
        ]
        timed = best_times(funcs, repeats=self.args.repeats, warmups=warmups)
        if self.args.profile:
            for (k, p), func in zip(configs, funcs, strict=True):
                print(f"\n-- cProfile: {k} epochs of {p}")
                profile_call(func)
        out = []
        for t, fitted in timed:
            f = l2_objective(
                self.X, self.y, fitted.coef_, fitted.intercept_, self.args.alpha
            )
            out.append((t, f / self.f_min - 1))
        return out


def _first(mask):
    hits = np.flatnonzero(mask)
    return int(hits[0]) + 1 if hits.size else None


# --- one rule on one solver -----------------------------------------------------


def rule_row(problem, label, rule, solver, solver_params, cap):
    """One table line: the grid, the best rate and its epochs and time per gap."""
    args = problem.args
    auto = problem.auto_eta0(**rule, **solver_params)
    proportional = rule["optimizer"] in PROPORTIONAL
    factors = args.sgd_factors if proportional else args.normalised_factors
    results = {}
    for factor in factors:
        results[factor] = problem.search(
            cap, **rule, **solver_params, eta0=auto * factor
        )
    diverged = [f for f, r in results.items() if r is None]
    finished = {f: r for f, r in results.items() if r is not None}

    best, configs = [], []
    for g in range(len(GAPS)):
        reached = [(r[0][g], f) for f, r in finished.items() if r[0][g] is not None]
        if reached:
            epochs, factor = min(reached)
            best.append((factor, epochs))
            configs.append((epochs, {**rule, **solver_params, "eta0": auto * factor}))
        else:
            best.append(None)
    timed = iter(problem.time_fits(configs)) if configs else iter(())

    cells = [label, solver, f"{auto:.3g} x {{{', '.join(f'{f:g}' for f in factors)}}}"]
    checks = []
    for g, gap in enumerate(GAPS):
        if best[g] is None:
            cells += ["-", f"> {cap}", "not reached"]
            continue
        factor, epochs = best[g]
        t, achieved = next(timed)
        edge = "*" if factor in (min(factors), max(factors)) else ""
        cells += [f"x{factor:g}{edge}", str(epochs), format_value(t, "s")]
        if achieved > gap:
            checks.append(f"the timed fit to {gap:g} ended at {achieved:.2e}")
    lowest = min((r[1] for r in finished.values()), default=np.nan)
    cells.append(f"{lowest:.1e}" if finished else "diverged")
    cells.append(", ".join(f"x{f:g}" for f in diverged) or "-")
    notes = [f"[!] {label}, {solver}: {c}" for c in checks]
    return cells, notes


def perturbation_row(problem, label, cap):
    """Evaluations to the first gap by the (1+1) evolution strategy."""
    result = problem.search(cap, gaps=GAPS[:1], solver="perturbation")
    cells = [label, "perturbation", "auto (1/5 rule adapts)"]
    if result is None:
        return cells + ["-", "-", "diverged"] + ["", "", "", "-", "-"]
    [epochs], lowest = result
    if epochs is None:
        cells += ["auto", f"> {cap}", "not reached"]
    else:
        [(t, _)] = problem.time_fits([(epochs, {"solver": "perturbation"})])
        cells += ["auto", str(epochs), format_value(t, "s")]
    return cells + ["", "", "", f"{lowest:.1e}", "-"]


# --- the run ----------------------------------------------------------------------


def make_problem(args, standardised=False):
    X, y, _ = make_linear_data(args.n, args.d, noise=args.noise, seed=args.seed)
    if not standardised:
        # The target stays y: the scales move into the true coefficients.
        X *= np.logspace(0.0, np.log10(args.max_scale), args.d)
    return Problem(X, y, args)


def _elapsed(start):
    return f"{time.perf_counter() - start:.0f} s"


def run(args):
    start = time.perf_counter()
    problem = make_problem(args)
    # The objective's Hessian, (1/n) [X, 1]^T [X, 1] + alpha (coefficients only).
    A = np.hstack([problem.X, np.ones((args.n, 1))])
    lam = np.linalg.eigvalsh(
        A.T @ A / args.n + np.diag(np.r_[np.full(args.d, args.alpha), 0.0])
    )
    print(
        f"f* = {problem.f_min:.12g} (closed form, {problem.t_exact * 1e3:.1f} ms; "
        f"l2_objective agrees to {abs(problem.f_check / problem.f_min - 1):.1e}); "
        f"Hessian eigenvalues {lam[0]:.3g} .. {lam[-1]:.4g} "
        f"(condition number {lam[-1] / lam[0]:.3g})",
        flush=True,
    )
    solvers = (
        ("batch", {"solver": "batch"}, args.max_batch_epochs),
        (
            f"minibatch {args.batch_size}",
            {"solver": "minibatch", "batch_size": args.batch_size},
            args.max_minibatch_epochs,
        ),
    )
    lines, notes = [], []
    for label, rule in RULES:
        for solver, solver_params, cap in solvers:
            if rule["optimizer"] == "rprop" and solver_params["solver"] != "batch":
                lines.append(
                    [label, solver, "n/a: needs the exact gradient's sign"] + [""] * 8
                )
                continue
            print(f"running {label}, {solver} ... ({_elapsed(start)})", flush=True)
            cells, row_notes = rule_row(
                problem, label, rule, solver, solver_params, cap
            )
            lines.append(cells)
            notes += row_notes
    if not args.skip_perturbation:
        print(f"running perturbation ... ({_elapsed(start)})", flush=True)
        lines.append(perturbation_row(problem, "(1+1)-ES", args.max_evaluations))
        reference = make_problem(args, standardised=True)
        lines.append(
            perturbation_row(
                reference, "(1+1)-ES, standardised X", args.max_evaluations
            )
        )
    print(f"done ({_elapsed(start)}); load average at the end {os.getloadavg()}\n")
    g1, g2 = (f"{g:g}" for g in GAPS)
    header = (
        "update rule", "solver", "eta0 grid (auto x factors)",
        f"{g1}: eta0", "epochs", "time", f"{g2}: eta0", "epochs", "time",
        "lowest gap", "diverged",
    )  # fmt: skip
    print_columns(
        header,
        lines,
        [
            "",
            "Gaps are relative, (f - f*) / f*, f* the objective at the closed form. "
            "For each gap: the grid factor that reached it in the fewest epochs, "
            f"and the best of {args.repeats} wall times of a fresh fit of exactly "
            "that many epochs (after a warm-up, the two gaps' fits alternating). "
            "'lowest gap': the smallest gap of any rate of the grid within the cap "
            f"({args.max_batch_epochs} batch epochs, {args.max_minibatch_epochs} "
            f"minibatch epochs, {args.max_evaluations} perturbation evaluations). "
            "Constant learning rate throughout; an epoch also evaluates the full "
            "objective once (history_).",
            "* the best rate of the grid is at its edge: one beyond might be faster.",
            "Perturbation: one epoch is one trial, one objective evaluation; its "
            "initial trial step is eta0='auto' only (the 1/5 rule adapts it).",
            f"The closed form itself (skgd.closed_form_solution, normal equations): "
            f"{format_value(problem.t_exact, 's')}.",
            *notes,
        ],
        left=2,
    )


def main():
    args = parse_args()
    print_environment(
        "skgd optimizers: time to a target objective",
        {
            "n": args.n,
            "d": args.d,
            "feature scales": f"logspace(0, log10({args.max_scale:g}), d)",
            "alpha": args.alpha,
            "noise": args.noise,
            "batch_size": args.batch_size,
            "sgd_factors": args.sgd_factors,
            "normalised_factors": args.normalised_factors,
            "caps": f"{args.max_batch_epochs} batch / {args.max_minibatch_epochs} "
            f"minibatch epochs, {args.max_evaluations} evaluations",
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


if __name__ == "__main__":
    main()
