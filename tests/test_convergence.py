"""The default fit lands on the exact optimum, and its stopping rule says so truthfully.

Judged as a user would: default estimators on scikit-learn's bundled data,
standardised, against the reference solvers (LogisticRegression, ElasticNet,
the closed form), with ConvergenceWarning as an error.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LogisticRegression
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor, closed_form_solution, training_objective

ALPHA = 1e-4  # the estimators' default


def standardised(loader, **kwargs):
    X, y = loader(return_X_y=True, **kwargs) if callable(loader) else loader
    return StandardScaler().fit_transform(X), y


def relative_gap(estimator, X, y, coef, intercept):
    best = training_objective(estimator, X, y, coef=coef, intercept=intercept)
    return (training_objective(estimator, X, y) - best) / abs(best)


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return estimator.fit(X, y)


CLASSIFICATION = {
    "breast_cancer": lambda: standardised(load_breast_cancer),
    "iris": lambda: standardised(load_iris),
    "20k x 50": lambda: standardised(
        make_classification(20000, 50, n_informative=20, random_state=0)
    ),
}


@pytest.mark.parametrize("name", sorted(CLASSIFICATION))
def test_default_classifier_lands_on_logistic_regression(name):
    X, y = CLASSIFICATION[name]()
    clf = fit_quietly(GDClassifier(), X, y)
    reference = LogisticRegression(
        C=1.0 / (ALPHA * len(y)), tol=1e-12, max_iter=100_000
    ).fit(X, y)
    gap = relative_gap(clf, X, y, reference.coef_, reference.intercept_)
    # Observed: 1e-7 (breast_cancer), 5e-8 (iris), 2e-12 (20k x 50).
    assert -1e-9 < gap <= 1e-6


def test_default_regressor_lands_on_the_closed_form():
    X, y = standardised(load_diabetes)
    reg = fit_quietly(GDRegressor(), X, y)
    coef, intercept = closed_form_solution(reg, X, y)
    assert 0 <= relative_gap(reg, X, y, coef, intercept) <= 1e-6  # observed 1e-9
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-3, atol=1e-2)


def test_default_elastic_net_lands_on_sklearn_elastic_net():
    X, y = standardised(load_diabetes)
    params = dict(alpha=0.05, l1_ratio=0.7)
    reg = fit_quietly(GDRegressor(penalty="elasticnet", **params), X, y)
    reference = ElasticNet(**params, tol=1e-12, max_iter=100_000).fit(X, y)
    assert relative_gap(reg, X, y, reference.coef_, reference.intercept_) <= 1e-6
    # The proximal step gives the exact zeros the reference has.
    np.testing.assert_array_equal(reg.coef_ == 0, reference.coef_ == 0)


def test_sparse_and_float32_land_too():
    X, y = CLASSIFICATION["breast_cancer"]()
    reference = LogisticRegression(
        C=1.0 / (ALPHA * len(y)), tol=1e-12, max_iter=100_000
    ).fit(X, y)
    dense = fit_quietly(GDClassifier(), X, y)
    sparse = fit_quietly(GDClassifier(), sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    single = fit_quietly(GDClassifier(), X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    # float32 rounds the objective at ~1e-7 of its value.
    assert relative_gap(single, X, y, reference.coef_, reference.intercept_) < 1e-5


def test_no_eta0_makes_the_accelerated_solver_diverge():
    X, y = standardised(load_diabetes)
    reg = fit_quietly(GDRegressor(solver="accelerated", eta0=1e6), X, y)
    coef, intercept = closed_form_solution(reg, X, y)
    assert relative_gap(reg, X, y, coef, intercept) <= 1e-6


def test_momentum_restarts_where_it_points_uphill():
    # Restarted FISTA needs a fraction of plain descent's epochs on an
    # ill-conditioned problem (here kappa ~ 5e3: plain GD needs ~1e4).
    X, y = standardised(load_breast_cancer)
    accelerated = fit_quietly(GDClassifier(), X, y)
    plain = GDClassifier(solver="batch", max_iter=accelerated.n_iter_)
    with pytest.warns(ConvergenceWarning, match="certified duality gap is still"):
        plain.fit(X, y)
    assert training_objective(accelerated, X, y) < training_objective(plain, X, y)


# --- the stopping rule's guarantee ---------------------------------------------------


def least_squares_residual(X, y, coef, intercept, l1, l2):
    """The optimality residual of ``0.5 mean(r**2) + l1 |w|_1 + l2/2 |w|^2``,
    written from its definition."""
    r = X @ coef + intercept - y
    g = np.append(X.T @ r / len(y) + l2 * coef, r.mean())
    v = g.copy()
    zero = coef == 0
    v[:-1][zero] = np.sign(g[:-1][zero]) * np.maximum(np.abs(g[:-1][zero]) - l1, 0)
    v[:-1][~zero] += l1 * np.sign(coef[~zero])
    return np.linalg.norm(v), np.linalg.norm(np.append(X.T @ y, y.sum()) / len(y))


@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6])
def test_a_converged_fit_is_within_the_certified_distance(penalty, tol):
    # Uncentred features (a cross term), so the bound is not met by luck.
    X, y = standardised(load_diabetes)
    X = np.column_stack([X, X[:, 2] * X[:, 3] + 1.0])
    alpha, l1_ratio = 0.01, 0.5
    reg = fit_quietly(
        GDRegressor(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=tol), X, y
    )
    l1 = alpha * l1_ratio if penalty == "elasticnet" else 0.0
    l2 = alpha - l1
    objective = training_objective(reg, X, y)
    assert reg.dual_gap_ <= tol * objective  # what "converged" promises
    reference = ElasticNet(
        alpha=alpha, l1_ratio=l1 / alpha, tol=1e-14, max_iter=100_000
    ).fit(X, y)
    best = training_objective(
        reg, X, y, coef=reference.coef_, intercept=reference.intercept_
    )
    # A true bound (the reference is itself exact to rounding only).
    assert -1e-12 * best <= objective - best <= reg.dual_gap_ + 1e-12 * best
    # mu: the smallest curvature of the objective, intercept included, so
    # the parameters lie within sqrt(2 gap / mu) of the minimiser.
    A = np.column_stack([X, np.ones(len(y))])
    hessian = A.T @ A / len(y) + np.diag(np.append(np.full(X.shape[1], l2), 0.0))
    mu = np.linalg.eigvalsh(hessian)[0]
    distance = np.linalg.norm(
        np.append(reg.coef_ - reference.coef_, reg.intercept_ - reference.intercept_)
    )
    assert distance <= np.sqrt(2 * reg.dual_gap_ / mu) + 1e-9


def test_stopping_early_says_how_far_it_still_is():
    X, y = standardised(load_breast_cancer)
    with pytest.warns(
        ConvergenceWarning, match=r"duality gap is still .* \(tol=1e-06\)"
    ):
        GDClassifier(max_iter=3).fit(X, y)


def test_the_certificate_is_measured_at_the_returned_parameters():
    # dual_gap_ is the gap of coef_ itself: rebuild a dual point from the
    # logistic formula (alpha = sigmoid(-margin), shifted so that the
    # intercept's constraint holds) and check that it certifies coef_ too.
    X, y = standardised(load_breast_cancer)
    clf = fit_quietly(GDClassifier(), X, y)
    signs = np.where(y == 1, 1.0, -1.0)
    margin = signs * (X @ clf.coef_[0] + clf.intercept_[0])
    primal = np.logaddexp(0, -margin).mean() + ALPHA / 2 * clf.coef_[0] @ clf.coef_[0]
    a = expit(-margin)
    a -= (a * signs).mean() * signs  # sum a_i y_i = 0, the intercept's constraint
    a = np.clip(a, 0.0, 1.0)
    assert abs((a * signs).mean()) < 1e-6
    v = X.T @ (a * signs) / len(y)
    entropy = np.where(a > 0, a * np.log(np.where(a > 0, a, 1)), 0) + np.where(
        a < 1, (1 - a) * np.log(np.where(a < 1, 1 - a, 1)), 0
    )
    dual = -entropy.mean() - v @ v / (2 * ALPHA)
    assert clf.dual_gap_ <= 1e-6 * primal
    # An independent certificate of the same point: as tight, within the
    # slack this simpler projection leaves.
    assert 0 <= primal - dual <= 1e-5 * primal


# --- the variance-reduced solver ------------------------------------------------------


def text_like(n_samples=3000, n_features=500, seed=0):
    """Sparse non-negative rows of unit norm, labels from a planted model."""
    rng = np.random.RandomState(seed)
    X = sp.random(
        n_samples, n_features, density=0.04, format="csr", random_state=rng,
        data_rvs=lambda k: rng.exponential(1.0, k),
    )  # fmt: skip
    X = sp.csr_matrix(X.multiply(1.0 / np.sqrt(X.multiply(X).sum(axis=1))))
    scores = X @ (3.0 * rng.standard_normal(n_features))
    y = (scores + 0.3 * rng.standard_normal(n_samples) > np.median(scores)).astype(int)
    return X, y


def logistic_reference(X, y, alpha, l1_ratio=0.0):
    if not l1_ratio:
        return LogisticRegression(
            C=1.0 / (alpha * len(y)), tol=1e-12, max_iter=100_000
        ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # penalty's deprecation
        # scikit-learn's SAGA, the one solver of its with an elastic net:
        # 1e-9 of coefficient change leaves it ~1e-10 from the minimum here.
        return LogisticRegression(
            C=1.0 / (alpha * len(y)), l1_ratio=l1_ratio, solver="saga",
            penalty="elasticnet", tol=1e-9, max_iter=100_000,
        ).fit(X, y)  # fmt: skip


@pytest.mark.parametrize(
    "penalty, l1_ratio", [("l2", 0.0), ("elasticnet", 0.5)], ids=["l2", "elasticnet"]
)
@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_saga_lands_on_logistic_regression(layout, penalty, l1_ratio):
    X, y = text_like()
    if layout == "dense":
        X = X.toarray()
    alpha = 1e-4 if penalty == "l2" else 1e-3
    clf = fit_quietly(
        GDClassifier(solver="saga", penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                     random_state=0),
        X, y,
    )  # fmt: skip
    reference = logistic_reference(X, y, alpha, l1_ratio)
    gap = relative_gap(clf, X, y, reference.coef_, reference.intercept_)
    assert -1e-9 < gap <= 1e-6  # observed: 1e-12 to 1e-9, in ~20 epochs


def test_saga_on_sparse_data_takes_the_dense_path():
    # The just-in-time updates replay, in closed form, the steps the dense
    # kernel takes one by one: the same iterates up to rounding.
    X, y = text_like(n_samples=500, n_features=200)
    for penalty in ("l2", "elasticnet"):
        params = dict(solver="saga", penalty=penalty, alpha=1e-3, max_iter=5,
                      tol=None, random_state=0)  # fmt: skip
        sparse = GDClassifier(**params).fit(X, y)
        dense = GDClassifier(**params).fit(X.toarray(), y)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-9)


def test_saga_lands_on_elastic_net_regression():
    X, y = standardised(load_diabetes)
    params = dict(alpha=0.05, l1_ratio=0.7)
    reg = fit_quietly(
        GDRegressor(solver="saga", penalty="elasticnet", random_state=0, **params),
        X, y,
    )  # fmt: skip
    reference = ElasticNet(**params, tol=1e-12, max_iter=100_000).fit(X, y)
    assert relative_gap(reg, X, y, reference.coef_, reference.intercept_) <= 1e-6
    np.testing.assert_array_equal(reg.coef_ == 0, reference.coef_ == 0)


def test_saga_weights_samples_as_frequencies():
    X, y = text_like(n_samples=300, n_features=100)
    counts = np.random.RandomState(1).randint(1, 4, len(y))
    weighted = GDClassifier(solver="saga", alpha=1e-2, tol=1e-13, random_state=0).fit(
        X, y, sample_weight=counts
    )
    repeated = np.repeat(np.arange(len(y)), counts)
    duplicated = GDClassifier(solver="saga", alpha=1e-2, tol=1e-13, random_state=0).fit(
        X[repeated], y[repeated]
    )
    # Both certified within a relative gap of 1e-13: coefficients within
    # sqrt(2 gap / alpha) ~ 3.5e-6 of the same minimiser.
    np.testing.assert_allclose(weighted.coef_, duplicated.coef_, rtol=1e-5, atol=1e-6)


def test_auto_takes_lbfgs_for_a_smooth_objective_and_saga_for_sparse_l1():
    # Unit-norm text rows at alpha=1e-4: SAGA's condition number is
    # 0.25 * 2 / 1e-4 = 5000 (log-loss curvature, row and intercept).
    X, y = text_like(n_samples=6000, n_features=500)
    # Without an L1 part: L-BFGS, sparse or dense, with or without L2.
    assert fit_quietly(GDClassifier(), X, y).solver_ == "lbfgs"
    assert fit_quietly(GDClassifier(), X.toarray(), y).solver_ == "lbfgs"
    assert fit_quietly(GDClassifier(penalty=None), X, y).solver_ == "lbfgs"
    # With one: saga where the samples outnumber its condition number.
    l1 = dict(penalty="elasticnet", l1_ratio=0.5, alpha=2e-4)
    assert fit_quietly(GDClassifier(**l1), X, y).solver_ == "saga"
    assert fit_quietly(GDClassifier(**l1), X[:3000], y[:3000]).solver_ == "accelerated"
    assert fit_quietly(GDClassifier(**l1), X.toarray(), y).solver_ == "accelerated"
    # partial_fit: always accelerated (no memory across chunks).
    streamed = GDClassifier().partial_fit(X, y, classes=[0, 1])
    assert streamed.solver_ == "accelerated"
    # And each choice lands where the other would.
    for params in ({}, l1):
        chosen = fit_quietly(GDClassifier(**params), X, y)
        other = fit_quietly(GDClassifier(solver="accelerated", **params), X, y)
        assert relative_gap(chosen, X, y, other.coef_, other.intercept_) < 1e-6


@pytest.mark.parametrize(
    "estimator, solver",
    [
        (GDClassifier(average=True), "online"),
        (GDClassifier(learning_rate="optimal"), "online"),
        (GDRegressor(learning_rate="invscaling", eta0=0.01), "online"),
        (GDRegressor(eta0=0.01), "online"),
        (GDRegressor(power_t=0.5, learning_rate="invscaling"), "online"),
        (GDClassifier(l1_step="cumulative", penalty="l1"), "online"),
        (GDRegressor(momentum=0.9), "online"),
        (GDRegressor(optimizer="adam"), "online"),
        (GDRegressor(optimizer="rprop"), "batch"),
    ],
    ids=repr,
)
def test_auto_runs_sgds_algorithm_where_sgds_step_parameters_are_given(
    estimator, solver
):
    # A class-name swap from SGD keeps SGD's step parameters: solver='auto'
    # then takes the solver they belong to instead of refusing them.
    X, y = standardised(load_diabetes)
    if isinstance(estimator, GDClassifier):
        y = y > np.median(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert estimator.set_params(max_iter=20).fit(X, y).solver_ == solver
