"""scikit-learn's own SGD test suite, run against skgd (issue 13).

``sklearn/linear_model/tests/test_sgd.py`` tests SGDClassifier and
SGDRegressor through factories (``SGDClassifier(**kwargs)``,
``SparseSGDClassifier(**kwargs)``, ...) and through parametrisations over
them. Its test functions are re-collected here with every function of that
module rebound to a copy of its globals in which the names of scikit-learn's
estimators (``linear_model.SGDClassifier``, the sparse wrappers) are skgd's
online estimators with SGD's defaults. scikit-learn's module is not touched.

Tests of what skgd does not have (SGDOneClassSVM, the Cython loss objects)
are not collected. Each intended difference is an ``xfail(strict=True)``
whose reason is listed on ``docs/switching.rst``.
"""

import inspect
import types

import pytest
import scipy.sparse as sp
import sklearn.linear_model

from skgd import GDClassifier, GDRegressor

suite = pytest.importorskip("sklearn.linear_model.tests.test_sgd")

# SGD's defaults where skgd's differ on purpose (docs/switching.rst, the
# recipe for SGD's algorithm): the online solver, SGD's schedules, its stopping rule on the
# running loss, training on when the objective explodes, early stopping that
# keeps the last epoch, and the cumulative L1 penalty.
SGD_CLASSIFIER_DEFAULTS = {
    "loss": "hinge",
    "solver": "online",
    "learning_rate": "optimal",
    "eta0": 0.01,
    "power_t": 0.5,
    "tol": 1e-3,
    "epoch_loss": "running",
    "divergence_check": False,
    "restore_best": False,
    "l1_step": "cumulative",
}
SGD_REGRESSOR_DEFAULTS = {
    **SGD_CLASSIFIER_DEFAULTS,
    "loss": "squared_error",
    "learning_rate": "invscaling",
    "power_t": 0.25,
}


def _with_defaults(base, defaults, name):
    """``base`` with other constructor defaults (get_params reads the signature)."""
    signature = inspect.signature(base.__init__)
    signature = signature.replace(
        parameters=[
            p.replace(default=defaults.get(p.name, p.default))
            for p in signature.parameters.values()
        ]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        base.__init__(arguments.pop("self"), **arguments)

    __init__.__signature__ = signature
    return type(name, (base,), {"__init__": __init__, "__module__": __name__})


# On sparse data SGD damps the intercept's steps by 0.01; skgd's algorithm
# does not depend on the data's format, and intercept_scaling=0.1 is the same
# damping (docs/switching.rst).
SPARSE_INTERCEPT_SCALING = 0.1


def _sparse(base, defaults, name):
    """``base`` with SGD's defaults on sparse data, converting ``X`` to CSR as
    the suite's sparse wrappers do."""
    base = _with_defaults(
        base, {**defaults, "intercept_scaling": SPARSE_INTERCEPT_SCALING}, name
    )

    def converting(method):
        def call(self, X, *args, **kwargs):
            return getattr(base, method)(self, sp.csr_array(X), *args, **kwargs)

        call.__name__ = method
        return call

    methods = ["fit", "partial_fit", "decision_function"]
    if issubclass(base, GDClassifier):
        methods.append("predict_proba")
    namespace = {m: converting(m) for m in methods}
    namespace["__module__"] = __name__
    return type(name, (base,), namespace)


# Module-level names, so that the estimators pickle (test_sgd_l1 does).
SkgdSGDClassifier = _with_defaults(
    GDClassifier, SGD_CLASSIFIER_DEFAULTS, "SkgdSGDClassifier"
)
SkgdSGDRegressor = _with_defaults(
    GDRegressor, SGD_REGRESSOR_DEFAULTS, "SkgdSGDRegressor"
)
SkgdSparseSGDClassifier = _sparse(
    GDClassifier, SGD_CLASSIFIER_DEFAULTS, "SkgdSparseSGDClassifier"
)
SkgdSparseSGDRegressor = _sparse(
    GDRegressor, SGD_REGRESSOR_DEFAULTS, "SkgdSparseSGDRegressor"
)

linear_model = types.ModuleType("linear_model")
linear_model.__dict__.update(vars(sklearn.linear_model))
linear_model.SGDClassifier = SkgdSGDClassifier
linear_model.SGDRegressor = SkgdSGDRegressor

ESTIMATORS = {
    sklearn.linear_model.SGDClassifier: SkgdSGDClassifier,
    sklearn.linear_model.SGDRegressor: SkgdSGDRegressor,
}

# The suite's functions, rebound to globals naming skgd's estimators.
_globals = dict(vars(suite))
_globals.update(
    linear_model=linear_model,
    _SparseSGDClassifier=SkgdSparseSGDClassifier,
    _SparseSGDRegressor=SkgdSparseSGDRegressor,
)
_rebound = {}
for _name, _value in vars(suite).items():
    if isinstance(_value, types.FunctionType) and _value.__module__ == suite.__name__:
        _copy = types.FunctionType(
            _value.__code__, _globals, _name, _value.__defaults__, _value.__closure__
        )
        _copy.__kwdefaults__ = _value.__kwdefaults__
        _copy.__dict__.update(_value.__dict__)
        _copy.__qualname__ = _value.__qualname__
        _globals[_name] = _rebound[_value] = _copy

# The suite's names of the estimators it builds, and what they now build.
ESTIMATOR_NAMES = (
    "SGDClassifier",
    "SGDRegressor",
    "SparseSGDClassifier",
    "SparseSGDRegressor",
)
SKGD_FACTORIES = {_rebound[getattr(suite, name)] for name in ESTIMATOR_NAMES} | set(
    ESTIMATORS.values()
)


def _substitute(value):
    if isinstance(value, tuple | list):
        return type(value)(_substitute(v) for v in value)
    try:
        return _rebound.get(value, ESTIMATORS.get(value, value))
    except TypeError:  # unhashable
        return value


def _names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _uses_skgd(values):
    return any(
        v in SKGD_FACTORIES
        for value in values
        for v in (value if isinstance(value, tuple | list) else (value,))
        if callable(v)
    )


def _recollect(test):
    """``test`` with its parametrisations over estimators substituted (and its
    SGDOneClassSVM cases dropped); None if it never builds an SGD estimator."""
    marks = []
    builds = bool(_names(test.__code__) & set(ESTIMATOR_NAMES))
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize":
            argnames, argvalues = mark.args[0], [_substitute(v) for v in mark.args[1]]
            if _uses_skgd(argvalues):
                builds = True
                argvalues = [v for v in argvalues if _uses_skgd([v])]
            mark = pytest.mark.parametrize(argnames, argvalues, **mark.kwargs).mark
        marks.append(mark)
    if not builds:
        return None
    test.pytestmark = marks
    return test


for _test in list(_rebound.values()):
    if _test.__name__.startswith("test_"):
        _test = _recollect(_test)
        if _test is not None:
            globals()[_test.__name__] = _test


# The intended differences, each listed with its reason on docs/switching.rst
# ("scikit-learn's SGD test suite"), keyed by test name and parameter id.
MULTI_OUTPUT = (
    "GDRegressor fits 2-D targets, one row of coef_ per target (as Ridge); "
    "SGDRegressor refuses them"
)
VISIT_ORDER = (
    "skgd trains every class in one pass over one random order (numpy's "
    "RandomState); SGD shuffles each one-vs-rest problem with its own seed and "
    "generator: the fits agree in distribution, not in the coincidence this test "
    "pins"
)
INTENDED_DIFFERENCES = {
    "test_input_format[SGDRegressor]": MULTI_OUTPUT,
    "test_input_format[SparseSGDRegressor]": MULTI_OUTPUT,
    "test_validation_mask_correctly_subsets": "it mocks scikit-learn's private "
    "_stochastic_gradient._ValidationScoreCallback, which skgd does not use",
    # tol=0 and tol=0.1 stop after the same number of epochs
    "test_tol_parameter": VISIT_ORDER,
    # the best validation accuracy is first reached after 23 epochs, not 20
    "test_multi_thread_multi_class_and_early_stopping": VISIT_ORDER,
    # the best search score is 0.793, not above 0.8
    "test_multi_core_gridsearch_and_early_stopping": VISIT_ORDER,
    # which of three hard-zero modified Huber probabilities is the smallest
    "test_sgd_proba[SparseSGDClassifier]": VISIT_ORDER,
}


@pytest.fixture(autouse=True)
def _intended_difference(request):
    reason = INTENDED_DIFFERENCES.get(request.node.name)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def test_every_intended_difference_names_a_collected_test():
    # (Not one of scikit-learn's tests: it keeps the table above honest.)
    assert {key.split("[")[0] for key in INTENDED_DIFFERENCES} <= set(globals())


@pytest.fixture
def global_random_seed():
    """scikit-learn's fixture, at its default seed."""
    return 42
