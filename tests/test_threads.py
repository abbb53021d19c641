"""Threads: the compiled kernels release the GIL, and sharing a process is safe.

A kernel compiled with ``nogil=True`` runs without the GIL, so threads (a
threaded joblib backend, a threaded dask worker, a web server) fit and
predict in parallel. That is only useful if it is also safe: no state may be
shared between fits but the read-only data, so a fit must give the same bits
whether it runs alone or next to others.
"""

import importlib
import pkgutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from combinations import one_vs_rest
from numba.core.registry import CPUDispatcher
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputRegressor

import skgd
from skgd import GDClassifier, GDRegressor
from skgd._kernels.lazy import LazyDispatcher
from skgd._kernels.stochastic import dense_epoch, dense_online_epoch
from skgd._kernels.threads import in_background
from skgd.objective.losses import regression_loss
from skgd.steps.optimizers import make_optimizer

# Short fits: max_iter is the point, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SOLVERS = sorted(GDRegressor._parameter_constraints["solver"][0].options)
N_THREADS = 4


def compiled_entry_points():
    """The compile options of every numba dispatcher skgd defines (the lazily
    compiled kernels' too), but those inlined into their callers."""
    found = []
    for module_info in pkgutil.walk_packages(skgd.__path__, "skgd."):
        module = importlib.import_module(module_info.name)
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if isinstance(obj, LazyDispatcher):
                options = obj.options
            elif isinstance(obj, CPUDispatcher):
                options = obj.targetoptions
            else:
                continue
            if options.get("inline", "never") == "never":
                found.append(pytest.param(options, id=f"{module_info.name}.{name}"))
    return found


def problem(kind, seed, sparse=False):
    """Small seeded data, different for every seed."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((150, 6))
    if sparse:
        X[np.abs(X) < 0.7] = 0.0
    if kind == "regression":
        y = X @ rng.uniform(-2.0, 2.0, 6) + 1.0 + 0.1 * rng.standard_normal(150)
    else:
        y = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((150, 3)), axis=1)
    return (sp.csr_matrix(X) if sparse else X), y


def fitted_state(estimator):
    return {
        "coef_": estimator.coef_,
        "intercept_": estimator.intercept_,
        "n_iter_": estimator.n_iter_,
        "eta0_": estimator.eta0_,
        "loss": estimator.history_["loss"],
    }


def run_together(funcs):
    """Call the functions at once from their own threads (a barrier lines them up)."""
    barrier = threading.Barrier(len(funcs))

    def call(func):
        barrier.wait()
        return func()

    with ThreadPoolExecutor(len(funcs)) as pool:
        return list(pool.map(call, funcs))


# --- the GIL --------------------------------------------------------------------------


@pytest.mark.parametrize("options", compiled_entry_points())
def test_every_compiled_entry_point_releases_the_gil(options):
    assert options.get("nogil") is True


def test_python_runs_while_a_kernel_runs():
    # Had the kernel the GIL, this thread could not run a bytecode between the
    # call's start and end (checked by hand against an njit without nogil,
    # which scores no tick). One call, so no gap between calls can count: a
    # mini-batch epoch over a small X in a long repeated order (3M rows).
    rng = np.random.RandomState(0)
    X = rng.standard_normal((1000, 50))
    Y, W = rng.standard_normal((1000, 1)), np.ones((1000, 1))
    order = np.tile(np.arange(1000), 3000)
    loss = regression_loss("squared_error", 0.1)
    sgd = make_optimizer("sgd", momentum=0.0, nesterov=False, beta_1=0, beta_2=0, rho=0)

    def epoch(rows):
        theta = np.zeros((1, 51))
        batch_size = 100
        etas = np.full(-(-len(rows) // batch_size), 1e-3)
        dense_epoch(
            X, Y, W, rows, batch_size, theta, sgd.init_state(theta.shape, X.dtype),
            np.zeros_like(theta), 0, etas, 0, loss.kernel, loss.params_array,
            sgd.kernel, sgd.hyper_array, 0.0, 0.0, 1.0, True,
            np.zeros((0, 0)), np.zeros(1), 0, np.zeros(1, dtype=np.uint8),
        )  # fmt: skip

    epoch(order[:10])
    span = {}

    def kernel():
        span["start"] = time.perf_counter()
        epoch(order)
        span["end"] = time.perf_counter()

    thread = threading.Thread(target=kernel)
    ticks = []
    thread.start()
    while thread.is_alive():
        ticks.append(time.perf_counter())
    thread.join()
    start, end = span["start"], span["end"]
    quarter = (end - start) / 4
    inside = [t for t in ticks if start + quarter < t < end - quarter]
    assert inside, f"no Python ran in the middle half of a {end - start:.2f} s kernel"


# --- fitting from threads -------------------------------------------------------------


@pytest.mark.parametrize("estimator", [GDRegressor(), GDClassifier()], ids=type)
def test_grid_search_with_threads_scores_as_sequential(estimator):
    X, y = problem(
        "regression" if isinstance(estimator, GDRegressor) else "classification", 0
    )
    grid = {"alpha": [1e-4, 1e-2], "solver": ["batch", "minibatch"]}
    search = GridSearchCV(
        clone(estimator).set_params(random_state=0, max_iter=30), grid,
        cv=KFold(3, shuffle=True, random_state=0),
    )  # fmt: skip
    sequential = clone(search).set_params(n_jobs=1).fit(X, y).cv_results_
    with joblib.parallel_backend("threading"):
        threaded = clone(search).set_params(n_jobs=2).fit(X, y).cv_results_
    for key in sequential:
        if "test_score" in key:  # the scores (the timings differ, of course)
            assert_array_equal(threaded[key], sequential[key], err_msg=key)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "estimator", [GDRegressor, GDClassifier], ids=lambda c: c.__name__
)
def test_concurrent_fits_are_bit_identical_to_sequential(estimator, solver):
    kind = "regression" if estimator is GDRegressor else "classification"
    # Dense and sparse data, so both families of kernels run side by side.
    data = [problem(kind, seed, sparse=seed % 2 == 1) for seed in range(N_THREADS)]

    def fit(X, y):
        return fitted_state(
            estimator(
                solver=solver, max_iter=40, random_state=0,
                **one_vs_rest(solver, estimator),
            ).fit(X, y)  # fmt: skip
        )

    sequential = [fit(X, y) for X, y in data]
    concurrent = run_together([lambda X=X, y=y: fit(X, y) for X, y in data])
    for alone, together in zip(sequential, concurrent, strict=True):
        for name, value in alone.items():
            assert_array_equal(together[name], value, err_msg=name)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("solver", ["batch", "online", "minibatch"])
def test_outputs_spread_over_threads_equal_the_joint_fit(solver, sparse):
    # skgd trains every class (one-vs-rest) and every target in one pass, so
    # it has no n_jobs; scikit-learn's meta-estimators spread the outputs
    # over threads instead, and each output's fit is the same computation
    # (same steps, same shuffles), so the coefficients agree to rounding.
    # (Not the perturbation solver: its trials perturb all outputs at once.)
    params = dict(solver=solver, eta0=0.05, max_iter=15, tol=None, random_state=0)
    X, _ = problem("regression", 0)
    labels = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])  # three classes
    Y = np.column_stack([X[:, 0] + X[:, 1], X[:, 2] - 2.0 * X[:, 3]])
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) < 0.7, 0.0, X))
    joint = GDClassifier(loss="hinge", **params).fit(X, labels)
    regression = GDRegressor(**params).fit(X, Y)
    with joblib.parallel_backend("threading"):
        ovr = OneVsRestClassifier(GDClassifier(loss="hinge", **params), n_jobs=2)
        ovr.fit(X, labels)
        outputs = MultiOutputRegressor(GDRegressor(**params), n_jobs=2).fit(X, Y)
    assert_allclose(
        ovr.decision_function(X), joint.decision_function(X), rtol=1e-12, atol=1e-12
    )
    assert_allclose(outputs.predict(X), regression.predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("estimator", [GDRegressor(), GDClassifier()], ids=type)
def test_a_fitted_estimator_predicts_from_threads(estimator):
    kind = "regression" if isinstance(estimator, GDRegressor) else "classification"
    X, y = problem(kind, 0)
    estimator.set_params(solver="online", random_state=0).fit(X, y)
    methods = ["predict", "score"]
    if isinstance(estimator, GDClassifier):
        methods += ["decision_function", "predict_proba", "predict_log_proba"]

    def outputs():
        return [
            estimator.score(X, y) if m == "score" else getattr(estimator, m)(X)
            for m in methods
        ]

    expected = outputs()
    for got in run_together([outputs] * N_THREADS):
        for method, value, reference in zip(methods, got, expected, strict=True):
            assert_array_equal(value, reference, err_msg=method)


# --- the look-ahead epoch ---------------------------------------------------------


@pytest.mark.parametrize("kernel", [dense_online_epoch, dense_epoch])
def test_a_cancelled_epoch_ends_at_once(kernel):
    # A speculative epoch that training will not keep is cancelled through a
    # flag its kernel reads before each sample or block: set before the
    # call, the kernel takes no step.
    rng = np.random.RandomState(0)
    X, Y, W = (
        rng.standard_normal((50, 3)),
        rng.standard_normal((50, 1)),
        np.ones((50, 1)),
    )
    loss = regression_loss("squared_error", 0.1)
    sgd = make_optimizer("sgd", momentum=0.0, nesterov=False, beta_1=0, beta_2=0, rho=0)
    theta = np.zeros((1, 4))
    total = kernel(
        X, Y, W, np.arange(50), 1, theta, sgd.init_state(theta.shape, X.dtype),
        np.zeros_like(theta), 0, np.full(50, 0.1), 0, loss.kernel, loss.params_array,
        sgd.kernel, sgd.hyper_array, 0.0, 0.0, 1.0, True, np.zeros((0, 0)),
        np.zeros(1), 0, np.ones(1, dtype=np.uint8),
    )  # fmt: skip
    assert total == 0.0 and not np.any(theta)


LOOKAHEAD_CASES = {
    "online": {},
    "minibatch": dict(solver="minibatch", batch_size=16),
    "adaptive rate": dict(learning_rate="adaptive", eta0=0.05, n_iter_no_change=2),
    "early stopping": dict(early_stopping=True, n_iter_no_change=3),
    "cumulative l1": dict(penalty="l1", alpha=1e-3, l1_step="cumulative"),
    "averaged": dict(average=50, momentum=0.5),
    "divergence recovery": dict(
        eta0=3.0, learning_rate="constant", divergence_recovery=6
    ),
}


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("case", LOOKAHEAD_CASES)
def test_an_epoch_run_ahead_gives_the_same_fit(monkeypatch, case, sparse):
    # From LOOKAHEAD_MIN_ENTRIES on, the next stochastic epoch runs on a copy
    # of the state beside the pass that evaluates the last one, and is kept
    # only if training goes on from that state: the fit, its history and the
    # random stream that partial_fit continues must be those of epochs run
    # one after the other. The cases make the loop drop a speculative epoch
    # (a rate divided on a plateau, a retried divergent epoch, a stop).
    import skgd.solvers.stochastic as solver_module

    X, y = problem("regression", 1, sparse=sparse)
    params = dict(solver="online", max_iter=30, random_state=0)
    estimator = GDRegressor(**{**params, **LOOKAHEAD_CASES[case]})
    started = []

    def counted(func, *args):
        started.append(func)
        return in_background(func, *args)

    def fit_twice(min_entries):
        monkeypatch.setattr(solver_module, "LOOKAHEAD_MIN_ENTRIES", min_entries)
        fitted = clone(estimator).fit(X, y)
        first = fitted_state(fitted)
        if case == "divergence recovery":
            assert fitted.history_["lr_halvings"][-1] > 0, "nothing diverged"
        # partial_fit continues the fit's stream of shuffles
        fitted.set_params(early_stopping=False).partial_fit(X, y)
        return first, fitted_state(fitted)

    monkeypatch.setattr(solver_module, "in_background", counted)
    ahead = fit_twice(0)
    assert started, "no epoch ran ahead"
    started.clear()
    one_by_one = fit_twice(np.inf)
    assert not started
    for got, expected in zip(ahead, one_by_one, strict=True):
        for name, value in expected.items():
            assert_array_equal(got[name], value, err_msg=name)
