"""The ``python -m skgd`` demonstration: every solver on scikit-learn's own data.

Each task is a small data set shipped with scikit-learn, split into training
and test sets and standardised with the training statistics. Every
configuration is fitted on the same training set and compared with the exact
minimiser of the same objective: the ridge normal equations for regression,
:class:`~sklearn.linear_model.LogisticRegression` for classification.
Nothing is downloaded.

Two kinds of configuration are shown. The *defaults* (the estimator as it
comes, ``solver="accelerated"``, and ``solver="saga"`` when this skgd has
it) keep their own ``tol`` and ``max_iter`` and must land on the answer. The
*lecture's* methods (plain full-batch descent, momentum, the adaptive rules,
SGD and mini-batches) run with the demo's ``--tol`` and ``--max-iter``, and
are there for contrast: most stop far from the answer.
"""

import argparse
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ._estimators.classifier import GDClassifier
from ._estimators.regressor import GDRegressor

TASKS = {
    "diabetes": (load_diabetes, "regression"),
    "breast_cancer": (load_breast_cancer, "classification"),
    "iris": (load_iris, "classification"),
}

SOLVERS = ("batch", "online", "minibatch")
# The solver whose default settings must land on the answer.
DEFAULT_SOLVERS = ("accelerated",)
# Shown at their defaults too, for the data they are made for: SAGA
# converges linearly when the samples outnumber the condition number, which
# these small, lightly regularised sets do not (diabetes aside).
LARGE_DATA_SOLVERS = ("saga",)
MOMENTUM = 0.9
# Momentum makes the objective rise for a few epochs after an overshoot, so a
# patience of SGD's 5 epochs can stop a run that is still converging.
N_ITER_NO_CHANGE = 10


@dataclass(frozen=True)
class Configuration:
    """One way of training: how often the parameters move, and the update rule."""

    solver: str
    optimizer: str = "sgd"
    momentum: float = 0.0
    nesterov: bool = False
    default: bool = False

    @property
    def rule(self):
        """A short name of the update rule, for the table."""
        if self.default:
            return "default"
        if self.optimizer != "sgd":
            return self.optimizer
        if self.momentum == 0:
            return "plain"
        return f"{'nesterov' if self.nesterov else 'momentum'} {self.momentum:g}"

    @property
    def role(self):
        """``'default'`` (must land on the answer), ``'large n'`` (the solver
        for many samples, at its defaults) or ``'lecture'`` (contrast)."""
        if not self.default:
            return "lecture"
        return "large n" if self.solver in LARGE_DATA_SOLVERS else "default"

    def params(self):
        if self.default:
            return {"solver": self.solver}
        return {
            "solver": self.solver,
            "optimizer": self.optimizer,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }


# The update rules: (optimizer, momentum, nesterov).
RULES = (
    ("sgd", 0.0, False),
    ("sgd", MOMENTUM, False),
    ("sgd", MOMENTUM, True),
    ("adagrad", 0.0, False),
    ("rmsprop", 0.0, False),
    ("adam", 0.0, False),
)


def configurations():
    """The default solvers at their defaults, then every lecture solver with
    every update rule, and Rprop (full batch only)."""
    configs = [
        Configuration(solver, default=True)
        for solver in DEFAULT_SOLVERS + LARGE_DATA_SOLVERS
    ]
    for solver in SOLVERS:
        configs += [Configuration(solver, *rule) for rule in RULES]
        if solver == "batch":
            configs.append(Configuration("batch", "rprop"))
    return configs


@dataclass
class Task:
    """A standardised train/test split and the exact solution on its training set."""

    name: str
    kind: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    alpha: float
    coef: np.ndarray = field(init=False)
    best_objective: float = field(init=False)

    def __post_init__(self):
        n = len(self.y_train)
        if self.kind == "regression":
            # The estimator minimises mean(0.5 * r**2) + alpha/2 ||w||^2; times 2n
            # that is ridge regression with strength n * alpha.
            exact = Ridge(alpha=n * self.alpha, solver="cholesky")
        else:
            # LogisticRegression minimises C * sum(log-loss) + ||W||^2 / 2, which is
            # n * C times mean(log-loss) + alpha/2 ||W||^2 for C = 1 / (n alpha)
            # (multinomial for more than two classes, as the estimator).
            exact = LogisticRegression(
                C=1.0 / (n * self.alpha), solver="newton-cholesky", tol=1e-12
            )
        exact.fit(self.X_train, self.y_train)
        self.coef = np.atleast_2d(exact.coef_)
        self.best_objective = self.objective(self.coef, np.atleast_1d(exact.intercept_))

    def objective(self, coef, intercept):
        """The training objective of the estimators, computed with NumPy."""
        coef = np.atleast_2d(coef)
        decision = self.X_train @ coef.T + intercept
        y = self.y_train
        if self.kind == "regression":
            loss = 0.5 * np.mean((y - decision[:, 0]) ** 2)
        elif decision.shape[1] == 1:
            sign = np.where(y == y.max(), 1.0, -1.0)
            loss = np.mean(np.logaddexp(0.0, -sign * decision[:, 0]))
        else:
            chosen = decision[np.arange(len(y)), np.searchsorted(np.unique(y), y)]
            loss = np.mean(logsumexp(decision, axis=1) - chosen)
        return float(loss + 0.5 * self.alpha * np.sum(coef**2))

    def distance(self, coef):
        """``||coef - coef*|| / ||coef*||`` from the exact solution."""
        coef = np.atleast_2d(coef)
        return float(np.linalg.norm(coef - self.coef) / np.linalg.norm(self.coef))

    def estimator(self, config, *, max_iter, tol, seed):
        cls = GDRegressor if self.kind == "regression" else GDClassifier
        if config.default:  # the estimator as it comes: its own tol and max_iter
            return cls(alpha=self.alpha, random_state=seed, **config.params())
        return cls(
            alpha=self.alpha,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=N_ITER_NO_CHANGE,
            random_state=seed,
            **config.params(),
        )


def load_task(name, *, alpha=1e-4, seed=0):
    """Split ``name`` 75/25 with ``seed`` and standardise it (targets too, for
    regression, so that one ``tol`` means the same on every task)."""
    loader, kind = TASKS[name]
    X, y = loader(return_X_y=True)
    stratify = y if kind == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=stratify
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if kind == "regression":
        mean, scale = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / scale, (y_test - mean) / scale
    return Task(name, kind, X_train, X_test, y_train, y_test, alpha)


@dataclass
class Result:
    """One row of the table."""

    task: str
    config: Configuration
    epochs: int = 0
    converged: bool = False
    fit_time: float = math.nan
    objective: float = math.nan
    gap: float = math.nan
    test_score: float = math.nan
    distance: float = math.nan
    history: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    error: str = ""


def fit_one(task, config, *, max_iter, tol, seed):
    """Fit one configuration on one task and measure it."""
    result = Result(task.name, config)
    estimator = task.estimator(config, max_iter=max_iter, tol=tol, seed=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        # A warm-up fit first: the timed one then runs compiled code, not
        # numba's compilation of it (which made "diabetes default" 630 ms).
        try:
            clone(estimator).fit(task.X_train, task.y_train)
        except ValueError:
            pass  # the timed fit below reports it
        caught.clear()
        start = time.perf_counter()
        try:
            estimator.fit(task.X_train, task.y_train)
        except ValueError as error:  # the divergence check
            result.error = str(error).split(".")[0]
            return result
        result.fit_time = time.perf_counter() - start
    result.converged = not any(
        issubclass(w.category, ConvergenceWarning) for w in caught
    )
    result.epochs = estimator.n_iter_
    result.history = np.asarray(estimator.history_["loss"])
    result.objective = float(result.history[-1])
    result.gap = (result.objective - task.best_objective) / abs(task.best_objective)
    result.test_score = estimator.score(task.X_test, task.y_test)
    result.distance = task.distance(estimator.coef_)
    return result


def run(task_names=tuple(TASKS), *, alpha=1e-4, max_iter=300, tol=1e-8, seed=0):
    """Fit every configuration on every task; returns the tasks and the results."""
    tasks = [load_task(name, alpha=alpha, seed=seed) for name in task_names]
    results = [
        fit_one(task, config, max_iter=max_iter, tol=tol, seed=seed)
        for task in tasks
        for config in configurations()
    ]
    return tasks, results


COLUMNS = (
    ("task", "<13"),
    ("role", "<8"),
    ("solver", "<11"),
    ("update rule", "<12"),
    ("epochs", ">7"),
    ("fit time", ">9"),
    ("objective", ">11"),
    ("rel. gap", ">8"),
    ("test score", ">10"),
    ("distance", ">9"),
)


def format_table(results):
    """The results as a fixed-width text table, one row per fit."""

    def line(cells):
        return "  ".join(
            f"{cell:{spec}}" for cell, (_, spec) in zip(cells, COLUMNS, strict=True)
        )

    header = line([name for name, _ in COLUMNS])
    rows = [header, "-" * len(header)]
    for r in results:
        if r.error:
            rows.append(
                line(
                    [r.task, r.config.role, r.config.solver, r.config.rule]
                    + ["-"] * (len(COLUMNS) - 4)
                )
                + f"  {r.error}"
            )
            continue
        epochs = f"{r.epochs}{'' if r.converged else '*'}"
        rows.append(
            line(
                [
                    r.task,
                    r.config.role,
                    r.config.solver,
                    r.config.rule,
                    epochs,
                    f"{1e3 * r.fit_time:.1f} ms",
                    f"{r.objective:.6f}",
                    f"{r.gap:.0e}",
                    f"{r.test_score:.3f}",
                    f"{r.distance:.1e}",
                ]
            )  # fmt: skip
        )
    return "\n".join(rows)


def _figure_class():
    # matplotlib is optional: imported only for --plot, without pyplot's global
    # state or a GUI backend.
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise SystemExit(
            "--plot needs matplotlib, which is not installed: pip install matplotlib"
        ) from None
    return Figure


def plot(tasks, results, path):
    """Save the objective gap of every fit, epoch by epoch, to ``path``.

    One row of panels per task; one column for the defaults (a line per
    solver), then one per lecture solver (a line per update rule); the gap to
    the exact minimum is on a log scale.
    """
    Figure = _figure_class()
    labels = list(dict.fromkeys(_plot_label(c) for c in configurations()))
    colors = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    styles = {label: "--" if i >= 10 else "-" for i, label in enumerate(labels)}
    panels = ("defaults", *SOLVERS)
    figure = Figure(figsize=(15.0, 3.0 * len(tasks) + 0.6), layout="constrained")
    axes = figure.subplots(len(tasks), len(panels), sharex=True, squeeze=False)
    for row, task in zip(axes, tasks, strict=True):
        # A fit that lands on the minimum would leave log(0): floor the gap.
        floor = 1e-12 * max(1.0, abs(task.best_objective))
        for ax, panel in zip(row, panels, strict=True):
            for r in results:
                if r.task != task.name or _panel(r.config) != panel or r.error:
                    continue
                gap = np.maximum(r.history - task.best_objective, floor)
                epochs = np.arange(1, len(gap) + 1)
                label = _plot_label(r.config)
                ax.plot(
                    epochs, gap, color=colors[label], ls=styles[label], lw=1.2,
                    label=label,
                )  # fmt: skip
            ax.set(xscale="log", yscale="log", title=f"{task.name}, {panel}")
            ax.grid(True, alpha=0.3)
        row[0].set_ylabel("objective - exact minimum")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    handles = [
        axes[0, 0].plot([], [], color=colors[label], ls=styles[label], label=label)[0]
        for label in labels
    ]
    figure.legend(handles=handles, loc="outside lower center", ncol=len(labels))
    figure.savefig(path, dpi=90)


def _panel(config):
    return "defaults" if config.default else config.solver


def _plot_label(config):
    return config.solver if config.default else config.rule


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skgd",
        description=(
            "Fit GDRegressor and GDClassifier as they come (the default "
            "solver='accelerated', and solver='saga' for large data), and, for "
            "contrast, the lecture's methods: every solver (batch, online, "
            "minibatch) and update rule (plain, momentum, Nesterov, AdaGrad, RMSProp, "
            "Adam; Rprop with the batch solver) on data shipped with scikit-learn "
            "(diabetes for regression; breast_cancer and iris for classification), "
            "and compare each fit with the exact minimiser of the same objective."
        ),
        epilog=(
            "Columns: role ('default': the estimator's defaults, its own tol and "
            "max_iter, which must land on the answer; 'lecture': the textbook "
            "methods with --tol and --max-iter, shown for contrast); "
            "epochs run (* = stopped by max_iter, not by tol); fit time (after a "
            "warm-up fit, so without compilation); "
            "training objective after the last epoch (history_['loss'][-1]) and its "
            "relative gap (f - f*) / f* to the exact minimum f*; test "
            "score (R^2 or accuracy); distance ||coef - coef*|| / ||coef*|| from the "
            "exact solution: Ridge(alpha=n_train * alpha) for regression, "
            "LogisticRegression(C=1 / (n_train * alpha)) for classification. The data "
            "is split 75/25 and standardised with the training statistics "
            "(regression targets too); stopping uses "
            f"n_iter_no_change={N_ITER_NO_CHANGE}."
        ),
    )
    parser.add_argument(
        "--tasks", nargs="+", choices=tuple(TASKS), default=list(TASKS), metavar="TASK",
        help=f"data sets to run, among {', '.join(TASKS)} (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--max-iter", type=int, default=300,
        help="most epochs per fit of the lecture's methods (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--tol", type=float, default=1e-8,
        help="tol of the lecture's methods: batch stops at this optimality residual "
        "relative to its value at zero, online and minibatch when the objective "
        "stops improving by it (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--alpha", type=float, default=1e-4,
        help="L2 regularisation strength (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0,
        help="seed of the train/test split and of the shuffling (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--plot", metavar="FILE.png",
        help="also save the objective gap per epoch of every fit (needs matplotlib)",
    )  # fmt: skip
    return parser


def main(argv=None):
    """Run the demonstration with command-line arguments ``argv``; returns 0."""
    args = build_parser().parse_args(argv)
    if args.max_iter < 1 or args.alpha <= 0 or args.tol < 0:
        raise SystemExit("--max-iter must be >= 1, --alpha > 0 and --tol >= 0.")
    if args.plot:
        _figure_class()  # fail before the fits, not after
    start = time.perf_counter()
    tasks, results = run(
        args.tasks,
        alpha=args.alpha,
        max_iter=args.max_iter,
        tol=args.tol,
        seed=args.seed,
    )
    for task in tasks:
        n, d = task.X_train.shape
        print(
            f"{task.name}: {task.kind}, {n} training / {len(task.y_test)} test "
            f"samples, {d} features, exact objective {task.best_objective:.6f}"
        )
    print()
    print(format_table(results))
    print(
        f"\n* stopped by max_iter (--max-iter={args.max_iter} for the lecture's "
        "methods). 'default' rows: the estimator as it comes (tol='auto'), which "
        "lands on the answer; 'large n' rows: solver='saga' at its defaults, made "
        "for many more samples than these sets have; 'lecture' rows: the textbook "
        "methods, "
        f"with --tol={args.tol:g}, for contrast. "
        f"{len(results)} fits in {time.perf_counter() - start:.1f} s."
    )
    if args.plot:
        plot(tasks, results, args.plot)
        print(f"Loss curves written to {args.plot}.")
    return 0
