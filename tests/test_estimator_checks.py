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
    GDRegressor(optimizer="rprop"),
    GDClassifier(optimizer="rprop"),
    GDRegressor(solver="online", average=True),
    GDClassifier(solver="perturbation", max_iter=2000),
    GDRegressor(solver="perturbation", max_iter=2000),
    GDRegressor(loss="huber", penalty="elasticnet"),
]


def expected_failures(estimator):
    stochastic = estimator.solver == "online" or (
        # Per-parameter rates with a fixed eta0 hover within ~eta0 of the
        # minimiser instead of converging, so the equivalence only holds on
        # average, as for the online solver.
        estimator.solver == "minibatch" and estimator.optimizer != "sgd"
    )
    return SAMPLE_WEIGHT_XFAIL if stochastic else {}


# Not strict: a classifier compares predicted labels, which often agree even
# where the coefficients differ slightly.
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
