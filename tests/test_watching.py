"""Watching training: callbacks, history, distance to the exact answer,
divergence recovery and validation while streaming."""

import copy
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import (
    GDClassifier,
    GDRegressor,
    closed_form_solution,
    objective_gap,
    training_objective,
)

callback = pytest.importorskip("sklearn.callback")

SOLVERS = ["batch", "online", "minibatch", "perturbation"]


def regression_data(n_samples=200, n_features=4, noise=0.5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = (
        X @ np.arange(1.0, n_features + 1)
        + 2.0
        + noise * rng.standard_normal(n_samples)
    )
    return X, y


class EpochRecorder(callback.AutoPropagatedCallback):
    """Records every task that ends, with the model's score on the training data."""

    def __init__(self):
        self.ended = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(
        self, estimator, context, *, X=None, y=None, fitted_estimator=None
    ):
        score = None
        if hasattr(fitted_estimator, "coef_") and X is not None:
            score = fitted_estimator.score(X, y)
        self.ended.append((type(estimator).__name__, context.task_name, score))


# --- scikit-learn callbacks -------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_scoring_monitor_logs_one_score_per_epoch(solver):
    X, y = regression_data()
    monitor = callback.ScoringMonitor(scoring="r2")
    est = GDRegressor(solver=solver, max_iter=6, tol=None, random_state=0)
    est.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert len(epochs) == est.n_iter_ == 6
    # The epoch's fitted_estimator is the model as it stood then: the last
    # epoch's score is the final model's.
    assert epochs[-1]["r2"] == pytest.approx(est.score(X, y))


def test_a_callback_can_stop_training():
    class StopAfterThree(EpochRecorder):
        def on_fit_task_end(self, estimator, context, **kwargs):
            super().on_fit_task_end(estimator, context, **kwargs)
            return context.task_name == "epoch" and len(self.ended) >= 3

    X, y = regression_data()
    est = GDRegressor(max_iter=50, tol=None).set_callbacks(StopAfterThree()).fit(X, y)
    assert est.n_iter_ == 3


def test_callbacks_propagate_through_a_pipeline():
    X, y = regression_data()
    recorder = EpochRecorder()
    pipeline = make_pipeline(StandardScaler(), GDClassifier(max_iter=4, tol=None))
    pipeline.set_callbacks(recorder).fit(X, y > np.median(y))
    epochs = [entry for entry in recorder.ended if entry[1] == "epoch"]
    assert [entry[0] for entry in epochs] == ["GDClassifier"] * 4


def test_progress_bar_renders_in_a_subprocess():
    pytest.importorskip("rich")
    script = textwrap.dedent(
        """
        import numpy as np
        from sklearn.callback import ProgressBar
        from skgd import GDRegressor
        X = np.random.RandomState(0).standard_normal((50, 3))
        GDRegressor(max_iter=5, tol=None).set_callbacks(ProgressBar()).fit(X, X.sum(1))
        """
    )
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env,
        timeout=120, check=True,
    )  # fmt: skip
    rendered = out.stdout + out.stderr
    assert "GDRegressor" in rendered and "100%" in rendered


# --- history ------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_history_has_one_entry_per_epoch(solver):
    X, y = regression_data()
    est = GDRegressor(
        solver=solver, max_iter=7, tol=None, record_coef=True, random_state=0
    ).fit(X, y)
    assert est.n_iter_ == 7
    for key, values in est.history_.items():
        assert len(values) == est.n_iter_, key
    assert est.history_["coef"].shape == (7, 4)
    np.testing.assert_array_equal(est.history_["coef"][-1], est.coef_)
    np.testing.assert_array_equal(est.history_["intercept"][-1], est.intercept_)
    np.testing.assert_allclose(
        est.history_["coef_norm"], np.linalg.norm(est.history_["coef"], axis=1)
    )
    assert list(est.history_["loss"]) == est.loss_curve_
    assert np.all(np.diff(est.history_["time"]) >= 0)


def test_history_grows_with_partial_fit_and_gradient_vanishes():
    X, y = regression_data()
    est = GDRegressor(alpha=0.0)
    for _ in range(30):
        est.partial_fit(X, y)
    assert est.n_iter_ == 30
    assert all(len(values) == 30 for values in est.history_.values())
    # Full-batch descent with the 1/L step on a strongly convex quadratic:
    # the gradient norm falls geometrically.
    assert est.history_["grad_norm"][-1] < 1e-3 * est.history_["grad_norm"][0]


def test_partial_fit_appends_to_the_history_in_place():
    # A stream of calls must cost each call its own epochs: the records grow
    # in place (loss_curve_ is one list throughout, as MLPRegressor's), and
    # a record only some calls have is NaN-filled (validation scores) or, a
    # path of arrays, dropped. A shallow copy extended apart leaves the
    # other's records as they were.
    X, y = regression_data()
    est = GDRegressor(solver="online", random_state=0)
    est.partial_fit(X, y)
    curve = est.loss_curve_
    est.partial_fit(X, y, validation_data=(X, y))
    est.partial_fit(X, y)
    assert est.loss_curve_ is curve and len(curve) == 3
    np.testing.assert_array_equal(est.history_["loss"], curve)
    scores = est.history_["val_score"]
    assert np.isnan(scores[[0, 2]]).all() and scores[1] == est.best_validation_score_
    assert est.validation_scores_[1] == scores[1]

    twin = copy.copy(est)
    est.partial_fit(X[:50], y[:50])
    twin.partial_fit(X[50:], y[50:])
    assert len(est.history_["loss"]) == len(twin.history_["loss"]) == 4
    np.testing.assert_array_equal(est.history_["loss"][:3], twin.history_["loss"][:3])
    assert est.history_["loss"][3] != twin.history_["loss"][3]
    assert est.loss_curve_ == list(est.history_["loss"])
    assert twin.loss_curve_ == list(twin.history_["loss"])

    recorded = est.set_params(record_coef=True).partial_fit(X, y)
    assert "coef" not in recorded.history_  # only the last call has the path
    assert set(recorded.history_) == set(twin.history_)


def test_a_failed_partial_fit_leaves_the_curves_as_the_history(monkeypatch):
    # The lists loss_curve_ and validation_scores_ are history_'s own, grown
    # in place; a call that fails after growing them must leave them as the
    # rolled-back history_ has them.
    import skgd._estimators.base

    X, y = regression_data()
    est = GDRegressor(solver="online", random_state=0)
    est.partial_fit(X, y, validation_data=(X, y))
    est.partial_fit(X, y, validation_data=(X, y))

    def fail(self):
        raise RuntimeError("a callback failed")

    monkeypatch.setattr(skgd._estimators.base.EpochCallbacks, "end_fit", fail)
    with pytest.raises(RuntimeError):
        est.partial_fit(X, y, validation_data=(X, y))
    assert est.n_iter_ == 2
    assert est.loss_curve_ == list(est.history_["loss"]) and len(est.loss_curve_) == 2
    np.testing.assert_array_equal(est.validation_scores_, est.history_["val_score"])


def test_best_validation_score_is_that_of_this_fits_epochs():
    X, y = regression_data()
    est = GDRegressor(solver="online", early_stopping=True, random_state=0).fit(X, y)
    assert est.best_validation_score_ == max(est.validation_scores_)
    est.set_params(early_stopping=False).fit(X, y)  # no scores: none kept
    assert not hasattr(est, "best_validation_score_")
    assert not hasattr(est, "validation_scores_")
    est.partial_fit(X, y)
    est.partial_fit(X, y, validation_data=(X[:20], -y[:20]))  # a bad score
    scores = est.history_["val_score"]
    assert np.isnan(scores[:-1]).all()
    assert est.best_validation_score_ == scores[-1] < 0


# --- distance to the exact answer ------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_closed_form_solution_is_weighted_ridge(fit_intercept, n_targets):
    rng = np.random.RandomState(1)
    X = rng.standard_normal((80, 3))
    y = X @ rng.standard_normal((3, n_targets)) + 1.0
    y = y.ravel() if n_targets == 1 else y
    weights = rng.uniform(0.5, 2.0, 80)
    est = GDRegressor(alpha=0.01, fit_intercept=fit_intercept)
    coef, intercept = closed_form_solution(est, X, y, weights)
    ridge = Ridge(alpha=0.01 * weights.sum(), fit_intercept=fit_intercept)
    ridge.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(coef, ridge.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        intercept, np.broadcast_to(ridge.intercept_, intercept.shape), atol=1e-10
    )


def test_objective_gap_shrinks_to_zero():
    X, y = regression_data()
    est = GDRegressor(solver="batch", alpha=0.01, tol=1e-12, max_iter=500).fit(X, y)
    gap = objective_gap(est, X, y)
    assert len(gap) == est.n_iter_
    assert gap.min() >= -1e-12  # nothing beats the exact minimiser
    assert np.all(np.diff(gap) <= 1e-15)  # the 1/L step descends monotonically
    assert gap[-1] < 1e-10
    coef, intercept = closed_form_solution(est, X, y)
    exact = training_objective(est, X, y, coef=coef, intercept=intercept)
    assert training_objective(est, X, y) - exact == pytest.approx(gap[-1], abs=1e-14)


def test_closed_form_refuses_what_has_none():
    X, y = regression_data()
    with pytest.raises(ValueError, match="LogisticRegression"):
        closed_form_solution(GDClassifier(), X, y > 0)
    with pytest.raises(ValueError, match="Lasso"):
        closed_form_solution(GDRegressor(penalty="l1"), X, y)


# --- divergence recovery -------------------------------------------------------------


@pytest.mark.parametrize("solver", ["batch", "online", "minibatch"])
def test_recovery_turns_divergence_into_convergence(solver):
    X, y = regression_data()
    X = X * 30.0  # curvature ~1e3: eta0=1 overshoots by three orders of magnitude
    plain = GDRegressor(solver=solver, eta0=1.0, random_state=0)
    with pytest.raises(ValueError, match="diverged at epoch"):
        plain.fit(X, y)
    rescued = GDRegressor(
        solver=solver, eta0=1.0, divergence_recovery=40, learning_rate="invscaling",
        max_iter=300, random_state=0,
    ).fit(X, y)  # fmt: skip
    halvings = rescued.history_["lr_halvings"]
    assert halvings[-1] >= 1  # some epoch needed rescuing
    assert np.all(np.diff(halvings) >= 0)
    assert np.all(np.isfinite(rescued.coef_))
    # Noise R^2 is 1 - 0.25 / var(y) ~ 0.99; the stochastic solvers stop at
    # their noise floor for the rescued rate, a few points below.
    assert rescued.score(X, y) > 0.9


def test_recovery_gives_up_after_its_budget():
    X, y = regression_data()
    est = GDRegressor(solver="batch", eta0=1e6, divergence_recovery=2)
    with pytest.raises(
        ValueError, match="Halving the learning rate 2 times did not help"
    ):
        est.fit(X * 30.0, y)


# --- validation while streaming ---------------------------------------------------------


def test_partial_fit_keeps_the_best_coefficients_across_calls():
    X, y = regression_data(n_samples=300)
    X_val, y_val = regression_data(n_samples=100, seed=1)
    est = GDRegressor(solver="online", random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, validation_data=(X_val, y_val))
    best_coef = est.coef_.copy()
    best_score = est.best_validation_score_
    # A chunk with scrambled targets drags the iterate away ...
    rng = np.random.RandomState(2)
    est.partial_fit(X, rng.permutation(y) * 10, validation_data=(X_val, y_val))
    assert est.validation_scores_[-1] < best_score
    # ... but never the reported coefficients.
    np.testing.assert_array_equal(est.coef_, best_coef)
    assert est.score(X_val, y_val) == pytest.approx(best_score)
    assert len(est.validation_scores_) == est.n_iter_ == 4
    # Training resumes from the iterate, not the best: the next clean chunk
    # starts where the bad one left off.
    assert not np.allclose(est._training_state.theta[0, :-1], best_coef)


def test_partial_fit_validation_plateau_divides_an_adaptive_rate():
    X, y = regression_data(n_samples=300)
    X_val, y_val = regression_data(n_samples=100, seed=1)
    est = GDRegressor(
        solver="online", learning_rate="adaptive", n_iter_no_change=2, tol=1e-2,
        random_state=0,
    )  # fmt: skip
    for _ in range(12):
        est.partial_fit(X, y, validation_data=(X_val, y_val))
    rates = est.history_["learning_rate"]
    assert rates[-1] < rates[0] / 4  # at least one division by 5
    assert np.all(np.diff(rates) <= 0)
