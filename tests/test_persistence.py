"""Persistence: pickle, joblib and skops round trips, also in the middle of training.

Training state is explicit and lives on the estimator (parameters, update
count, optimizer state, shuffling stream, plateau rule), so a model saved
after some ``partial_fit`` calls and loaded elsewhere must continue exactly as
the original does: bit-identical coefficients after the same further calls.
"""

import io
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from combinations import one_vs_rest

from skgd import GDClassifier, GDRegressor, schedules

SOLVERS = tuple(sorted(GDRegressor._parameter_constraints["solver"][0].options))
OPTIMIZERS = tuple(sorted(GDRegressor._parameter_constraints["optimizer"][0].options))
ESTIMATORS = (GDRegressor, GDClassifier)
# Each solver with plain steps, and each stateful rule once.
CONFIGURATIONS = [
    *({"solver": solver} for solver in SOLVERS),
    {"solver": "online", "momentum": 0.9, "nesterov": True},
    {"solver": "minibatch", "optimizer": "adam"},
    {"solver": "minibatch", "optimizer": "adagrad", "average": True},
    {"solver": "online", "optimizer": "rmsprop"},
    {"solver": "batch", "optimizer": "rprop"},
    {"solver": "online", "learning_rate": schedules.Cosine(n_epochs=6), "warmup": 2},
]


def config_id(config):
    return "-".join(
        str(v) if not isinstance(v, schedules.Schedule) else type(v).__name__
        for v in config.values()
    )


pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(Estimator, seed=0, n_samples=60):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, 4))
    if Estimator is GDRegressor:
        y = X @ [1.0, -2.0, 0.5, 0.0] + 0.3 + 0.1 * rng.standard_normal(n_samples)
    else:
        y = np.array(["a", "b", "c"])[
            np.digitize(X[:, 0] + 0.5 * rng.standard_normal(n_samples), [-0.5, 0.5])
        ]
    return X, y


def pickle_round_trip(est):
    return pickle.loads(pickle.dumps(est, protocol=pickle.HIGHEST_PROTOCOL))


def joblib_round_trip(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer, compress=3)
    buffer.seek(0)
    return joblib.load(buffer)


def skops_round_trip(est):
    sio = pytest.importorskip("skops.io")
    payload = sio.dumps(est)
    # Only skgd's own classes need trusting: everything else skops knows.
    untrusted = sio.get_untrusted_types(data=payload)
    assert all(name.startswith("skgd.") for name in untrusted), untrusted
    return sio.loads(payload, trusted=untrusted)


ROUND_TRIPS = {
    "pickle": pickle_round_trip,
    "joblib": joblib_round_trip,
    "skops": skops_round_trip,
}


def fitted_state(est):
    """Everything a fitted model exposes, for exact comparison."""
    state = {
        name: np.asarray(getattr(est, name))
        for name in ("coef_", "intercept_", "t_", "n_iter_", "eta0_", "n_features_in_")
    }
    state.update({f"history_{k}": v for k, v in est.history_.items() if k != "time"})
    if hasattr(est, "classes_"):
        state["classes_"] = est.classes_
    return state


def assert_same_state(a, b):
    left, right = fitted_state(a), fitted_state(b)
    assert left.keys() == right.keys()
    for name in left:
        np.testing.assert_array_equal(left[name], right[name], err_msg=name)


def continue_training(est, X, y, n_calls=2):
    kwargs = {"classes": np.unique(y)} if isinstance(est, GDClassifier) else {}
    for i in range(n_calls):
        # A different chunk each call, so the shuffling stream matters.
        rows = slice(i * 20, i * 20 + 40)
        est.partial_fit(X[rows], y[rows], **kwargs)
    return est


@pytest.mark.parametrize("round_trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("config", CONFIGURATIONS, ids=config_id)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_round_trip_of_a_fitted_model(Estimator, config, round_trip):
    X, y = data(Estimator)
    config = {**config, **one_vs_rest(config["solver"], Estimator)}
    est = Estimator(max_iter=6, tol=None, random_state=0, **config).fit(X, y)
    restored = ROUND_TRIPS[round_trip](est)
    assert type(restored) is Estimator
    assert restored.get_params().keys() == est.get_params().keys()
    assert_same_state(est, restored)
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    if Estimator is GDClassifier:
        np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    else:
        assert restored.score(X, y) == est.score(X, y)


@pytest.mark.parametrize("round_trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("config", CONFIGURATIONS, ids=config_id)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickled_mid_training_resumes_identically(Estimator, config, round_trip):
    X, y = data(Estimator)
    config = {**config, **one_vs_rest(config["solver"], Estimator)}
    est = continue_training(Estimator(random_state=0, **config), X, y)
    restored = ROUND_TRIPS[round_trip](est)
    continue_training(est, X[::-1], y[::-1])
    continue_training(restored, X[::-1], y[::-1])
    assert_same_state(est, restored)


@pytest.mark.parametrize("round_trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_resumes_identically_after_a_round_trip(Estimator, round_trip):
    X, y = data(Estimator)
    params = {"solver": "minibatch", "optimizer": "adam", "max_iter": 4, "tol": None}
    est = Estimator(warm_start="resume", random_state=0, **params).fit(X, y)
    restored = ROUND_TRIPS[round_trip](est)
    est.fit(X, y)
    restored.fit(X, y)
    assert_same_state(est, restored)


@pytest.mark.parametrize("round_trip", sorted(ROUND_TRIPS))
def test_streaming_validation_state_survives_a_round_trip(round_trip):
    # partial_fit with validation data keeps the best epoch so far and an
    # adaptive plateau rule across calls: both must travel with the model.
    X, y = data(GDRegressor, n_samples=120)
    X_val, y_val = data(GDRegressor, seed=1, n_samples=40)
    est = GDRegressor(
        solver="online", learning_rate="adaptive", eta0=0.05, n_iter_no_change=1,
        random_state=0,
    )  # fmt: skip
    for _ in range(3):
        est.partial_fit(X, y, validation_data=(X_val, y_val))
    restored = ROUND_TRIPS[round_trip](est)
    for model in (est, restored):
        for _ in range(3):
            model.partial_fit(X, y, validation_data=(X_val, y_val))
    assert_same_state(est, restored)
    assert est.validation_scores_ == restored.validation_scores_


@pytest.mark.parametrize("round_trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_unfitted_round_trip_fits_identically(Estimator, round_trip):
    X, y = data(Estimator)
    est = Estimator(solver="online", max_iter=4, tol=None, random_state=0)
    restored = ROUND_TRIPS[round_trip](est)
    assert not hasattr(restored, "coef_")
    assert_same_state(est.fit(X, y), restored.fit(X, y))


@pytest.mark.parametrize("round_trip", ["pickle", "joblib"])
def test_sparse_trained_model_round_trip(round_trip):
    X, y = data(GDClassifier)
    X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    est = GDClassifier(solver="online", max_iter=5, tol=None, random_state=0).fit(X, y)
    restored = ROUND_TRIPS[round_trip](est)
    np.testing.assert_array_equal(
        restored.decision_function(X), est.decision_function(X)
    )


def test_float32_model_keeps_its_dtype():
    X, y = data(GDRegressor)
    est = GDRegressor(max_iter=5, tol=None).fit(X.astype(np.float32), y)
    for round_trip in (pickle_round_trip, joblib_round_trip):
        restored = round_trip(est)
        assert restored.coef_.dtype == np.float32
        np.testing.assert_array_equal(restored.coef_, est.coef_)
