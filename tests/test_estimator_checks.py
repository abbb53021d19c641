"""scikit-learn's own API checks, over every public estimator configuration."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgd import GDClassifier, GDRegressor

# The online solver visits each sample once per epoch in random order, so a
# weight of 2 is a sample twice only in expectation: scikit-learn grants
# SGDRegressor/SGDClassifier the same exemption. The batch solver must pass,
# and so does plain minibatch here (the checks' data fit in one block of 32).
SAMPLE_WEIGHT_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": "stochastic solver",
    "check_sample_weight_equivalence_on_sparse_data": "stochastic solver",
}

ESTIMATORS = [
    # The default solver (L-BFGS) and the accelerated one. The sample-weight
    # check fits 30 uncentred features on 15 rows (condition number ~1e5 at
    # alpha=1e-4): restarted FISTA needs ~1800 iterations there, beyond the
    # default max_iter (so do the other losses' configurations below).
    GDRegressor(max_iter=5000),
    GDRegressor(solver="accelerated", max_iter=5000),
    GDClassifier(),
    GDClassifier(penalty="elasticnet"),
    GDRegressor(solver="batch"),
    GDRegressor(solver="online"),
    GDRegressor(solver="minibatch"),
    GDRegressor(solver="minibatch", momentum=0.9, nesterov=True),
    GDClassifier(solver="batch"),
    GDClassifier(solver="online"),
    GDClassifier(solver="minibatch"),
    GDClassifier(solver="minibatch", momentum=0.9, nesterov=True),
    GDClassifier(loss="hinge", solver="online"),
    GDClassifier(loss="modified_huber"),
    # One configuration per remaining optimizer, averaging, and the
    # gradient-free baseline.
    GDRegressor(solver="online", optimizer="adagrad"),
    GDRegressor(solver="minibatch", optimizer="rmsprop"),
    GDClassifier(solver="minibatch", optimizer="adam"),
    GDRegressor(solver="batch", optimizer="rprop"),
    GDClassifier(solver="batch", optimizer="rprop"),
    GDRegressor(solver="online", average=True),
    GDClassifier(solver="perturbation", max_iter=2000),
    GDRegressor(solver="perturbation", max_iter=2000),
    # Two fits on equivalent data take paths that rounding can part (a step
    # accepted in one, halved in the other): they agree to the tolerance, a
    # certified relative gap of 1e-14 (coefficients within ~1e-7).
    GDRegressor(loss="huber", penalty="elasticnet", tol=1e-14, max_iter=20000),
]


def expected_failures(estimator):
    stochastic = estimator.solver == "online" or (
        # Per-parameter rates with a fixed eta0 hover within ~eta0 of the
        # minimiser instead of converging, so the equivalence only holds on
        # average, as for the online solver.
        estimator.solver == "minibatch" and estimator.optimizer != "sgd"
    )
    if estimator.solver == "auto" and estimator.loss == "modified_huber":
        # Its curvature jumps at the margin: on the checks' 15 x 30 uncentred
        # data the fits agree to 3e-4 only, where the check asks 1e-7.
        return {key: "path-dependent to 3e-4" for key in SAMPLE_WEIGHT_XFAIL}
    if repr(estimator) == "GDClassifier()":
        # The same: after ~90 iterations (the metric rebuilt from the
        # curvature along the way) the weighted and repeated fits, each
        # certified to 1e-6 of the objective, have probabilities 8.9e-8
        # apart on dense rows (1.7e-7 of the value) and 7.6e-8 on sparse
        # ones (1.4e-7), where the check asks 1e-7 of probabilities down to
        # 1e-3.
        return {key: "path-dependent to 2e-7" for key in SAMPLE_WEIGHT_XFAIL}
    if repr(estimator) == "GDRegressor(max_iter=5000)":
        # L-BFGS (the default here) runs ~200 iterations on the checks' data
        # (condition ~1e5): rounding, which differs between weighted and
        # repeated rows, parts the two paths after ~55 of them, and both stop
        # certified at 1e-6 with predictions 2.5e-4 apart (the check asks
        # 1e-7). The accelerated solver's paths agree: checked above.
        return {key: "path-dependent to 3e-4" for key in SAMPLE_WEIGHT_XFAIL}
    return SAMPLE_WEIGHT_XFAIL if stochastic else {}


# Not strict: a classifier compares predicted labels, which often agree even
# where the coefficients differ slightly.
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
