"""Determinism: the same random_state gives the same bits, everywhere it should.

- Two fits in a row, and two fresh processes, give bit-identical coefficients
  (the ``random_state`` documentation promises "a bit-identical fit").
- ``fit(max_iter=k, tol=None)`` and ``k`` calls of ``partial_fit`` with the
  same ``random_state`` take the same steps (state is explicit and resumes
  exactly: same shuffles, same update count, same optimizer state).
- The kernels release the GIL, so four threads fitting at once on different
  data must give each the result of its sequential fit, and a fitted model
  must predict the same from many threads at once.
"""

import hashlib
import json
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from combinations import accepts, one_vs_rest

from skgd import GDClassifier, GDRegressor

SOLVERS = tuple(sorted(GDRegressor._parameter_constraints["solver"][0].options))
OPTIMIZERS = tuple(sorted(GDRegressor._parameter_constraints["optimizer"][0].options))
COMBINATIONS = [
    (solver, optimizer)
    for solver in SOLVERS
    for optimizer in OPTIMIZERS
    if accepts(solver, optimizer)
]
ESTIMATORS = (GDRegressor, GDClassifier)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(Estimator, seed=0, n_samples=50, layout="C"):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, 4))
    if Estimator is GDRegressor:
        y = X @ [1.0, -2.0, 0.5, 0.0] + 0.3 + 0.1 * rng.standard_normal(n_samples)
    else:
        y = np.digitize(X[:, 0] + 0.5 * rng.standard_normal(n_samples), [-0.5, 0.5])
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    return X, y


def fitted_bytes(est):
    return np.asarray(est.coef_).tobytes() + np.asarray(est.intercept_).tobytes()


def configured(Estimator, solver, optimizer, **params):
    params = {"batch_size": 7, "max_iter": 6, "tol": None, "random_state": 0, **params}
    params.update(one_vs_rest(solver, Estimator))
    return Estimator(solver=solver, optimizer=optimizer, **params)


# --- the same fit, twice --------------------------------------------------------------


@pytest.mark.parametrize("layout", ["C", "F", "csr"])
@pytest.mark.parametrize(("solver", "optimizer"), COMBINATIONS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_repeated_fits_are_bit_identical(Estimator, solver, optimizer, layout):
    X, y = data(Estimator, layout=layout)
    weight = np.random.RandomState(3).uniform(0.0, 2.0, len(y))
    first = configured(Estimator, solver, optimizer).fit(X, y, sample_weight=weight)
    second = configured(Estimator, solver, optimizer).fit(X, y, sample_weight=weight)
    assert fitted_bytes(first) == fitted_bytes(second)
    assert first.n_iter_ == second.n_iter_ and first.t_ == second.t_


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_random_state_instance_is_not_shared_state(Estimator):
    # A RandomState instance is consumed by fit, as in scikit-learn, but two
    # estimators given equal seeds of their own behave alike.
    X, y = data(Estimator)
    one = Estimator(
        solver="online", max_iter=3, tol=None, random_state=np.random.RandomState(5)
    )
    two = Estimator(
        solver="online", max_iter=3, tol=None, random_state=np.random.RandomState(5)
    )
    assert fitted_bytes(one.fit(X, y)) == fitted_bytes(two.fit(X, y))


def test_early_stopping_split_is_deterministic():
    X, y = data(GDClassifier, n_samples=80)
    params = {"early_stopping": True, "validation_fraction": 0.25, "random_state": 2}
    first = GDClassifier(solver="online", **params).fit(X, y)
    second = GDClassifier(solver="online", **params).fit(X, y)
    assert fitted_bytes(first) == fitted_bytes(second)
    assert first.validation_scores_ == second.validation_scores_


# --- the same fit, in two processes -------------------------------------------------


def fingerprints():
    """A digest of the fitted parameters of a set of configurations."""
    digests = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for Estimator in ESTIMATORS:
            for layout in ("C", "F", "csr"):
                X, y = data(Estimator, layout=layout)
                for solver, optimizer in COMBINATIONS:
                    est = configured(Estimator, solver, optimizer)
                    key = f"{Estimator.__name__}-{layout}-{solver}-{optimizer}"
                    digests[key] = hashlib.sha256(
                        fitted_bytes(est.fit(X, y))
                    ).hexdigest()
    return digests


def test_fits_are_bit_identical_across_processes():
    here = os.path.dirname(os.path.abspath(__file__))
    script = (
        f"import sys, json; sys.path.insert(0, {here!r}); "
        "from test_determinism import fingerprints; print(json.dumps(fingerprints()))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Different hash seeds: no result may depend on set or dict order.
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            text=True,
        )  # fmt: skip
        for seed in (1, 2)
    ]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    assert outputs[0] == outputs[1]
    assert outputs[0] == fingerprints()  # and this process agrees


# --- fit and partial_fit --------------------------------------------------------------

SCHEDULE_VARIANTS = [
    {},
    {"average": True},
    {"learning_rate": "invscaling"},
    {"learning_rate": "exponential", "gamma": 0.7},
    {"learning_rate": "step", "step_size": 2},
    {"learning_rate": "cosine"},
    {"warmup": 2},
]


@pytest.mark.parametrize(
    "variant",
    SCHEDULE_VARIANTS,
    ids=lambda v: "-".join(map(str, v.values())) or "default",
)
@pytest.mark.parametrize(("solver", "optimizer"), COMBINATIONS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_equals_as_many_partial_fit_epochs(Estimator, solver, optimizer, variant):
    if not accepts(solver, optimizer, **variant):
        pytest.skip(f"solver={solver!r} has no learning-rate schedule")
    if solver in ("accelerated", "lbfgs", "saga", "sdca", "auto"):
        pytest.skip(
            f"solver={solver!r} starts its momentum, memory, table or duals at "
            "every call"
        )
    X, y = data(Estimator)
    params = dict(solver=solver, optimizer=optimizer, batch_size=7, random_state=0)
    params.update(variant)
    k = 5
    fitted = Estimator(max_iter=k, tol=None, **params).fit(X, y)
    streamed = Estimator(max_iter=k, **params)
    kwargs = {"classes": np.unique(y)} if Estimator is GDClassifier else {}
    for _ in range(k):
        streamed.partial_fit(X, y, **kwargs)
    assert fitted_bytes(fitted) == fitted_bytes(streamed)
    assert fitted.t_ == streamed.t_ and fitted.n_iter_ == streamed.n_iter_ == k
    np.testing.assert_array_equal(fitted.loss_curve_, streamed.loss_curve_)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_momentum_state_resumes_across_partial_fit(Estimator, solver):
    if not accepts(solver, momentum=0.9, nesterov=True):
        pytest.skip(f"solver={solver!r} takes no momentum")
    X, y = data(Estimator)
    params = dict(
        solver=solver, momentum=0.9, nesterov=True, batch_size=7, random_state=0
    )
    fitted = Estimator(max_iter=4, tol=None, **params).fit(X, y)
    streamed = Estimator(**params)
    kwargs = {"classes": np.unique(y)} if Estimator is GDClassifier else {}
    for _ in range(4):
        streamed.partial_fit(X, y, **kwargs)
    assert fitted_bytes(fitted) == fitted_bytes(streamed)


# --- threads ----------------------------------------------------------------------------


def run_in_threads(functions):
    """Call every function in its own thread, all released at once."""
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def worker(i):
        try:
            barrier.wait(timeout=60)
            results[i] = functions[i]()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=worker, args=(i,)) for i in range(len(functions))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize(
    ("solver", "optimizer"),
    [(s, "sgd") for s in SOLVERS] + [("minibatch", "adam"), ("batch", "rprop")],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_concurrent_fits_equal_sequential_fits(Estimator, solver, optimizer):
    datasets = [data(Estimator, seed=seed, n_samples=400) for seed in range(4)]
    datasets[3] = (sp.csr_matrix(datasets[3][0]), datasets[3][1])  # sparse kernels too

    def fit(dataset):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return configured(Estimator, solver, optimizer, max_iter=20).fit(*dataset)

    sequential = [fitted_bytes(fit(dataset)) for dataset in datasets]
    for _ in range(2):
        concurrent = run_in_threads([lambda d=d: fit(d) for d in datasets])
        assert [fitted_bytes(est) for est in concurrent] == sequential


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_concurrent_predictions_equal_sequential_ones(Estimator):
    X, y = data(Estimator, n_samples=200)
    est = Estimator(max_iter=20, random_state=0).fit(X, y)
    methods = ["predict"] + (
        ["decision_function", "predict_proba"] if Estimator is GDClassifier else []
    )
    inputs = [data(Estimator, seed=seed, n_samples=2000)[0] for seed in range(4)]
    inputs[1] = sp.csr_matrix(inputs[1])
    inputs[2] = np.asfortranarray(inputs[2])
    expected = [[getattr(est, m)(X_) for m in methods] for X_ in inputs]
    coef = fitted_bytes(est)

    def predict(X_):
        return [[getattr(est, m)(X_) for m in methods] for _ in range(20)]

    results = run_in_threads([lambda X_=X_: predict(X_) for X_ in inputs])
    for repeats, wanted in zip(results, expected, strict=True):
        for outputs in repeats:
            for output, reference in zip(outputs, wanted, strict=True):
                np.testing.assert_array_equal(output, reference)
    assert fitted_bytes(est) == coef  # predicting never touches the model
