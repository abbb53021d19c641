"""Property-based tests: any data, any parameters, and either a finite model or a reason.

Hypothesis draws the data (shape, dtype, layout, scale, sample weights) and
the parameters (solver, optimizer, momentum, penalty, loss, schedule,
averaging, early stopping, class weights...) of both estimators, fits by
``fit``, ``partial_fit`` or ``warm_start``, and checks the one contract:

- either the fit succeeds, and then coefficients, intercepts, the loss curve,
  predictions, decision values and probabilities are all finite (and the
  inputs are untouched);
- or it raises a ``ValueError``/``TypeError`` whose message is one of the
  explanations below, *and* that explanation applies to the drawn case (a
  single-class error needs a single class, a divergence needs a learning
  rate that can diverge...).

Anything else fails: another exception type (a numba typing error, an
``IndexError``), a ``RuntimeWarning``, NaN coefficients. ``max_iter`` is at
most 20 and the data small, so no example can hang.

The profile ``skgd-ci`` (the default) is derandomised, so CI runs the same
300 examples per estimator every time; ``SKGD_HYPOTHESIS_PROFILE=skgd-explore``
draws fresh, more numerous examples locally.

The second half checks divergence for every solver and optimizer: a learning
rate that blows the loss up is caught at the epoch it happens, with a message
that says what to do, and a model being continued keeps its last finite state.
Last, a property over layouts: C, F, CSR and CSC data train the same model.
"""

import os
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from combinations import accepts
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning

from skgd import GDClassifier, GDRegressor

settings.register_profile(
    "skgd-ci",
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "skgd-explore",
    parent=settings.get_profile("skgd-ci"),
    derandomize=False,
    max_examples=3000,
)
PROFILE = settings.get_profile(os.environ.get("SKGD_HYPOTHESIS_PROFILE", "skgd-ci"))


def _options(name, estimator=GDRegressor):
    # Read from the estimators' own validation, so a new option is drawn too.
    return tuple(sorted(estimator._parameter_constraints[name][0].options))


SOLVERS = _options("solver")
OPTIMIZERS = _options("optimizer")
SCHEDULES = _options("learning_rate")
REGRESSION_LOSSES = _options("loss", GDRegressor)
CLASSIFICATION_LOSSES = _options("loss", GDClassifier)
# Rules that normalise each parameter's gradient: eta0='auto' gives them a
# fixed 0.01 whatever the data's scale (documented), so a poorly scaled
# problem can legitimately diverge with them.
NORMALISED = {"adagrad", "rmsprop", "adam", "rprop"}
MAX_ITER = 20


# --- the explanations a failing fit may give ---------------------------------------

EXPLANATIONS = {
    # One family: scikit-learn's _parameter_constraints.
    "parameter": r"The '\w+' parameter of GD(Regressor|Classifier) must be",
    "perturbation": r"solver='perturbation' uses no gradient, so \w+=",
    "accelerated": r"solver='accelerated' sets its own .*, so \w+=",
    "lbfgs": r"solver='lbfgs' sets its own .*, so \w+=",
    "saga": r"solver='saga' steps by variance-reduced gradients .*, so \w+=",
    "sdca": r"solver='sdca' solves each sample's dual variable exactly.*, so \w+=",
    "sdca penalty": r"solver='sdca' needs an L2 part in the penalty",
    "sdca multinomial": r"solver='sdca' fits one-vs-rest losses",
    "rprop": r"optimizer='rprop' steps by the sign of the exact gradient and needs "
    r"solver='batch'",
    "momentum": r"momentum applies to optimizer='sgd' only",
    "optimal": r"learning_rate='optimal' is 1 / \(alpha \* \(t0 \+ t\)\) and needs a "
    r"penalty with alpha > 0",
    "schedule": r"The learning rate schedule returned .* learning rates must be finite "
    r"and non-negative",
    "divergence": r"Training diverged at epoch (\d+): the training objective",
    "one class": r"The number of classes has to be greater than one",
    "zero weights": r"Sample weights must contain at least one non-zero number"
    r"|The training samples all have zero sample_weight"
    r"|The sample weights for validation set are all zero",
    "partial_fit early stopping": r"early_stopping should be False with partial_fit",
    "partial_fit balanced": r"class_weight 'balanced' is not supported for "
    r"partial_fit",
    "class_weight labels": r"class_weight names labels .* that are not classes of y",
    # early_stopping on too few samples: scikit-learn's train_test_split says why.
    "split": r"the resulting train set will be empty"
    r"|The least populated class(es)? in y ha(s|ve) only 1 member"
    r"|(test|train)_size = \d+ should be greater or equal to the number of classes"
    r"|leaves an empty training or validation set",
}


def explain(error):
    """The name of the explanation ``error`` gives, or None."""
    for name, pattern in EXPLANATIONS.items():
        if re.search(pattern, str(error)):
            return name
    return None


# --- data ---------------------------------------------------------------------------


@st.composite
def features(draw, n_samples):
    """A feature matrix in any dtype, layout and (moderate) scale."""
    n_features = draw(st.sampled_from([1, 2, 3, 5, 70]))  # 70: Lanczos curvature
    if n_features > 5 or draw(st.booleans()):
        seed = draw(st.integers(0, 2**16))
        scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
        X = np.random.RandomState(seed).standard_normal((n_samples, n_features))
        X *= scale
    else:  # Hypothesis's own values: zeros, repeats, extremes within the range
        X = draw(
            hnp.arrays(
                np.float64,
                (n_samples, n_features),
                elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
            )
        )
    if draw(st.booleans()):  # sparse-looking: many exact zeros
        X[np.abs(X) < np.median(np.abs(X))] = 0.0
    dtype = draw(st.sampled_from(["float64", "float32", "int64", "bool"]))
    if dtype == "int64":
        X = np.round(X).astype(np.int64)
    elif dtype == "bool":
        X = X > 0
    else:
        X = X.astype(dtype)
    layout = draw(st.sampled_from(["C", "F", "strided", "csr", "csc", "readonly"]))
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "strided":  # a non-contiguous view into a wider array
        wide = np.zeros((n_samples, 2 * n_features), dtype=X.dtype)
        wide[:, ::2] = X
        X = wide[:, ::2]
    elif layout in ("csr", "csc"):
        X = sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    elif layout == "readonly":  # memory-mapped data arrive read-only
        X = np.ascontiguousarray(X)
        X.flags.writeable = False
    return X


@st.composite
def sample_weights(draw, n_samples):
    kind = draw(st.sampled_from(["none", "positive", "some zeros"] * 3 + ["all zeros"]))
    if kind == "none":
        return None
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    weight = rng.uniform(0.1, 3.0, n_samples)
    if kind == "some zeros":
        weight[rng.rand(n_samples) < 0.4] = 0.0
    elif kind == "all zeros":
        weight[:] = 0.0
    return weight


@st.composite
def regression_data(draw):
    n_samples = draw(st.sampled_from(range(1, 26)))  # uniform: no pile-up at 1
    X = draw(features(n_samples))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    shape = draw(st.sampled_from([(n_samples,), (n_samples, 1), (n_samples, 2)]))
    y = rng.standard_normal(shape) * draw(st.sampled_from([1.0, 1e-2, 1e2]))
    if draw(st.booleans()):
        y = y.astype(np.float32)
    return X, y, draw(sample_weights(n_samples))


@st.composite
def classification_data(draw):
    n_samples = draw(st.sampled_from(range(1, 26)))  # uniform: no pile-up at 1
    X = draw(features(n_samples))
    n_classes = draw(st.sampled_from([2, 3, 4] * 3 + [1]))
    labels = draw(
        st.sampled_from(
            [
                np.arange(n_classes),
                np.array(["b", "a", "d", "c"])[:n_classes],
                np.arange(n_classes) * 10 - 5,
            ]
        )
    )
    codes = draw(
        hnp.arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1))
    )
    if draw(st.sampled_from([True] * 4 + [False])):  # mostly every class
        codes[:n_classes] = np.arange(n_classes)[:n_samples]
    return X, labels[codes], draw(sample_weights(n_samples))


# --- parameters ---------------------------------------------------------------------

# Combinations the estimators must refuse, with the explanation they must give.
INVALID = {
    "rprop off batch": ({"solver": "online", "optimizer": "rprop"}, "rprop"),
    "momentum with adam": ({"optimizer": "adam", "momentum": 0.9}, "momentum"),
    "optimal without alpha": (
        {"learning_rate": "optimal", "alpha": 0.0, "penalty": "l2"},
        "optimal",
    ),
    "optimal without penalty": (
        {"learning_rate": "optimal", "alpha": 1e-2, "penalty": None},
        "optimal",
    ),
    "perturbation with momentum": (
        {"solver": "perturbation", "optimizer": "sgd", "momentum": 0.5},
        "perturbation",
    ),
    "perturbation with a schedule": (
        {"solver": "perturbation", "learning_rate": "invscaling"},
        "perturbation",
    ),
    "negative alpha": ({"alpha": -1.0}, "parameter"),
    "zero eta0": ({"eta0": 0.0}, "parameter"),
    "negative schedule": ({"learning_rate": lambda t: -0.1}, "schedule"),
}


# The solvers that choose their own update rule and step schedule ('auto'
# takes the user's: it runs SGD's solver when SGD's step parameters are set).
OWN_RULES = ("perturbation", "accelerated", "lbfgs", "saga", "sdca")


@st.composite
def parameters(draw, losses):
    """Parameters of a valid configuration, or of one that must be refused."""
    solver = draw(st.sampled_from(SOLVERS))
    if solver in OWN_RULES:  # no update rule to choose
        params = {"optimizer": "sgd", "momentum": 0.0, "nesterov": False}
        params["learning_rate"] = "constant"
    else:
        optimizer = draw(
            st.sampled_from(
                [o for o in OPTIMIZERS if solver == "batch" or o != "rprop"]
            )
        )
        params = {
            "optimizer": optimizer,
            "momentum": draw(st.sampled_from([0.0, 0.5, 0.9]))
            if optimizer == "sgd"
            else 0.0,
            "nesterov": draw(st.booleans()),
            "learning_rate": draw(st.sampled_from(SCHEDULES)),
        }
    params.update(
        solver=solver,
        loss=draw(st.sampled_from(losses)),
        penalty=draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        alpha=draw(st.sampled_from([1e-4, 0.0, 1e-2, 1.0])),
        l1_ratio=draw(st.sampled_from([0.15, 0.0, 1.0])),
        fit_intercept=draw(st.booleans()),
        batch_size=draw(st.sampled_from([32, 1, 3])),
        eta0=draw(st.sampled_from(["auto", 1e-3, 0.1, 1.0])),
        power_t=draw(st.sampled_from([0.25, 0.5])),
        gamma=draw(st.sampled_from([0.9, 0.5])),
        step_size=draw(st.sampled_from([10, 1])),
        # Warm-up is a schedule's, so the perturbation solver refuses it.
        warmup=0 if solver in OWN_RULES else draw(st.sampled_from([0, 2])),
        beta_1=draw(st.sampled_from([0.9, 0.0])),
        rho=draw(st.sampled_from([0.9, 0.5])),
        max_iter=draw(st.integers(1, MAX_ITER)),
        tol=draw(st.sampled_from([1e-4, None, 1e-2])),
        n_iter_no_change=draw(st.sampled_from([5, 1])),
        early_stopping=draw(st.sampled_from([False, False, True])),
        validation_fraction=draw(st.sampled_from([0.1, 0.5])),
        shuffle=draw(st.booleans()),
        average=False
        if solver in ("accelerated", "lbfgs", "saga", "sdca")
        else draw(st.sampled_from([False, True, 3])),
        divergence_recovery=draw(st.sampled_from([0, 2])),
        random_state=draw(st.integers(0, 3)),
    )
    if solver == "sdca" and (
        params["penalty"] in (None, "l1") or params["alpha"] == 0
        or (params["penalty"] == "elasticnet" and params["l1_ratio"] == 1.0)
    ):  # fmt: skip
        params["alpha"], params["penalty"] = 1e-2, "l2"  # it needs an L2 part
    if solver == "lbfgs":  # it needs a differentiable objective
        if params["loss"] in ("hinge", "epsilon_insensitive", "perceptron"):
            params["loss"] = "squared_hinge" if "squared_hinge" in losses else "huber"
        if params["penalty"] in ("l1", "elasticnet"):
            params["penalty"] = "l2"
    if params["learning_rate"] == "optimal" and (
        params["alpha"] == 0 or params["penalty"] is None
    ):
        params["alpha"], params["penalty"] = 1e-2, "l2"
    if params["learning_rate"] in ("pa1", "pa2"):
        # SGD's passive-aggressive rules: plain online steps of their own
        # loss, without L1 (which they take only as SGD's cumulative penalty,
        # on a sparse row's features alone: layouts would differ); valid
        # (their refusals are test_errors' cases).
        params.update(solver="online", optimizer="sgd", momentum=0.0, warmup=0)
        params["loss"] = "hinge" if "hinge" in losses else "epsilon_insensitive"
        if params["penalty"] in ("l1", "elasticnet"):
            params["penalty"] = "l2"
        return params, None
    expected = None
    if draw(st.sampled_from([False] * 4 + [True])):  # one in five must be refused
        changes, expected = INVALID[draw(st.sampled_from(sorted(INVALID)))]
        params.update(changes)
        if params["solver"] in OWN_RULES and expected != "parameter":
            # Their check comes first and names what it refuses.
            params.update(optimizer="sgd", momentum=0.0, nesterov=False)
            params["learning_rate"] = changes.get("learning_rate", "constant")
            expected = params["solver"]
            if params["learning_rate"] == "constant":
                params["momentum"] = 0.5
    return params, expected


def can_diverge(params):
    """Whether the drawn rate may legitimately be too large for the data."""
    return (
        params["eta0"] != "auto"
        or params["optimizer"] in NORMALISED
        # SGD's 1 / (alpha (t0 + t)) ignores eta0 and is not data-aware.
        or params["learning_rate"] == "optimal"
        # A known bug, pinned by test_edge_cases.py::
        # test_perceptron_reference_is_not_a_rounding_error.
        or params["loss"] == "perceptron"
    )


# --- the contract -------------------------------------------------------------------


def snapshot(array):
    if array is None:
        return None
    return array.copy() if sp.issparse(array) else np.array(array, copy=True)


def assert_unchanged(original, copy):
    if original is None:
        return
    if sp.issparse(original):
        assert original.format == copy.format
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(original, name), getattr(copy, name))
    else:
        assert original.dtype == copy.dtype
        np.testing.assert_array_equal(original, copy)


def assert_finite_model(est, X, y, sample_weight):
    assert np.all(np.isfinite(est.coef_)), est.coef_
    assert np.all(np.isfinite(est.intercept_)), est.intercept_
    assert np.all(np.isfinite(est.loss_curve_))
    assert len(est.loss_curve_) == est.n_iter_
    if isinstance(est, GDRegressor):
        prediction = est.predict(X)
        assert prediction.shape == np.shape(y)
        assert np.all(np.isfinite(prediction))
        return
    assert set(np.unique(est.predict(X))) <= set(est.classes_)
    assert np.all(np.isfinite(est.decision_function(X)))
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        assert np.all(np.isfinite(proba))
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    if len(y) > 1:
        assert 0.0 <= est.score(X, y, sample_weight=sample_weight) <= 1.0


# Errors that only data can cause; found before a bad schedule is ever called.
DATA_REASONS = {"one class", "zero weights", "split", "sdca multinomial"}


def assert_explained(error, est, params, expected, y, chunk_y, chunk_weight, method):
    """``error`` is a ValueError/TypeError whose explanation applies here."""
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    reason = explain(error)
    assert reason is not None, f"unexplained error: {error!r}"
    event(f"refused: {reason}")
    if reason == expected:
        return
    # Parameter combinations are checked before the data; a schedule's rates
    # only when training starts, after the data's own checks.
    assert expected in (None, "schedule"), f"expected {expected!r}, got {error!r}"
    assert expected is None or reason in DATA_REASONS, repr(error)
    weights = np.ones(len(chunk_y)) if chunk_weight is None else chunk_weight
    if reason == "divergence":
        assert can_diverge(params), f"eta0='auto' diverged: {error}"
        # Epochs count from the start of training: across warm starts and
        # partial_fit calls too (two of them at most here).
        epoch = int(re.search(EXPLANATIONS["divergence"], str(error)).group(1))
        assert 1 <= epoch <= 2 * params["max_iter"]
        for advice in ("eta0", "StandardScaler"):
            assert advice in str(error)
    elif reason == "one class":
        # Whatever the chunk, classes given to partial_fit make it two or more.
        assert isinstance(est, GDClassifier) and len(np.unique(y)) < 2
    elif reason == "zero weights":
        # All-zero weights, or (with early stopping) a split whose training or
        # validation rows all weigh 0 (see test_errors for that message).
        splits = params["early_stopping"] and method != "partial_fit"
        assert not weights.any() or (splits and not weights.all())
    elif reason == "split":  # partial_fit never splits
        assert params["early_stopping"] and method != "partial_fit"
    elif reason == "sdca multinomial":  # the log-loss of three classes or more
        assert params["solver"] == "sdca" and params["loss"] == "log_loss"
        assert isinstance(est, GDClassifier) and len(np.unique(y)) > 2
    else:
        pytest.fail(f"{reason!r} error for a valid configuration: {error}")


def exercise(Estimator, data, params, expected, method, class_weight_choice=None):
    X, y, sample_weight = data
    params = dict(params)
    if Estimator is GDClassifier:
        classes = np.unique(y)
        params["class_weight"] = {
            "none": None,
            "balanced": "balanced",
            "dict": {label: 1.0 + i for i, label in enumerate(classes.tolist())},
        }[class_weight_choice]
    else:
        classes = None
    if method == "warm_start":
        params["warm_start"] = True
    if method == "partial_fit":
        # Refused as SGD refuses them: early stopping first of BaseGD's own
        # checks (after the parameters' constraints), balanced class weights
        # after every shared check.
        if params["early_stopping"] and expected != "parameter":
            expected = "partial_fit early stopping"
        elif params.get("class_weight") == "balanced" and expected is None:
            expected = "partial_fit balanced"
    # A 1-sample validation set makes R^2 undefined (NaN) at every epoch: a
    # known bug, pinned by test_edge_cases.py::test_early_stopping_on_one_validation_sample.
    assume(
        Estimator is GDClassifier
        or not params["early_stopping"]
        or method == "partial_fit"
        or len(y) * params["validation_fraction"] > 1
    )
    # All-zero data with 64+ features and no intercept crash the Lanczos
    # curvature estimate: a known bug, pinned by
    # test_edge_cases.py::test_all_zero_features_without_intercept.
    assume(
        X.shape[1] + 1 <= 64
        or params["fit_intercept"]
        or (X.count_nonzero() if sp.issparse(X) else np.count_nonzero(X)) > 0
    )
    # NaN parameters that a squared margin loss scores 0 escape the divergence
    # test: a known bug, pinned by test_non_finite_parameters_are_divergence.
    assume(
        params["loss"] not in ("squared_hinge", "squared_epsilon_insensitive")
        or params["eta0"] == "auto"
    )
    copies = [snapshot(a) for a in (X, y, sample_weight)]
    est = Estimator(**params)
    chunk_y, chunk_weight = y, sample_weight
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        # The advice to scale badly scaled data (test_edge_cases checks it).
        warnings.filterwarnings("ignore", message=".*StandardScaler")
        try:
            if method == "partial_fit":
                # Two chunks (the same rows twice when there is one): classes
                # are given on the first call; a chunk may lack some of them.
                half = max(len(y) // 2, 1)
                chunks = [slice(0, half), slice(half - (half == len(y)), len(y))]
                for i, rows in enumerate(chunks):
                    chunk_y = y[rows]
                    before = (
                        (est.coef_.copy(), est.intercept_.copy())
                        if hasattr(est, "coef_")
                        else None
                    )
                    kwargs = (
                        {"classes": classes} if classes is not None and i == 0 else {}
                    )
                    chunk_weight = (
                        None if sample_weight is None else sample_weight[rows]
                    )
                    try:
                        est.partial_fit(
                            X[rows], chunk_y, sample_weight=chunk_weight, **kwargs
                        )
                    except ValueError as error:
                        if before is not None and "diverged" in str(error):
                            # The model keeps its last finite state.
                            np.testing.assert_array_equal(est.coef_, before[0])
                            np.testing.assert_array_equal(est.intercept_, before[1])
                        raise
            else:
                est.fit(X, y, sample_weight=sample_weight)
                if method == "warm_start":
                    est.fit(X, y, sample_weight=sample_weight)
        except AssertionError:
            raise
        except Exception as error:  # noqa: BLE001 - the contract is on the type
            assert_explained(
                error, est, params, expected, y, chunk_y, chunk_weight, method
            )
        else:
            assert expected is None, f"the {expected!r} error was not raised"
            assert_finite_model(est, X, y, sample_weight)
            event("fitted")
    for original, copy in zip((X, y, sample_weight), copies, strict=True):
        assert_unchanged(original, copy)


METHODS = st.sampled_from(["fit", "partial_fit", "warm_start"])


@PROFILE
@given(data=regression_data(), config=parameters(REGRESSION_LOSSES), method=METHODS)
def test_regressor_fits_finitely_or_explains_why(data, config, method):
    params, expected = config
    exercise(GDRegressor, data, params, expected, method)


@PROFILE
@given(
    data=classification_data(),
    config=parameters(CLASSIFICATION_LOSSES),
    method=METHODS,
    class_weight=st.sampled_from(["none", "balanced", "dict"]),
)
def test_classifier_fits_finitely_or_explains_why(data, config, method, class_weight):
    params, expected = config
    exercise(GDClassifier, data, params, expected, method, class_weight)


# --- divergence ---------------------------------------------------------------------

GRADIENT_COMBINATIONS = [
    (solver, optimizer)
    for solver in SOLVERS
    # The accelerated solver backtracks, lbfgs searches its line, sdca takes
    # no step: no eta0 makes them diverge (tested with the solver).
    if solver not in ("perturbation", "accelerated", "lbfgs", "sdca", "auto")
    for optimizer in OPTIMIZERS
    if accepts(solver, optimizer)
]


def divergence_problem(Estimator):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 4))
    if Estimator is GDRegressor:
        return X, X @ [1.0, -2.0, 0.5, 3.0] + 1.0
    # Noisy labels: some samples stay misclassified, whatever the step.
    return X, np.digitize(
        X[:, 0] + 0.5 * X[:, 1] + rng.standard_normal(40), [-0.5, 0.5]
    )


def explosive_eta0(Estimator, optimizer):
    """A rate that blows the objective up within a few epochs.

    Plain gradient steps on the squared error grow the error geometrically
    once ``eta0 > 2 / L`` (here L ~ 2). The normalised rules move each
    parameter by about ``eta0`` whatever the gradient, and the log-loss grows
    only linearly with the coefficients, so those need a rate that overshoots
    by the 1e6 factor of the divergence test in one step.
    """
    if Estimator is GDRegressor and optimizer == "sgd":
        return 2.0
    return 1e8


def explosive(Estimator, solver, optimizer, **params):
    return Estimator(
        solver=solver, optimizer=optimizer, eta0=explosive_eta0(Estimator, optimizer),
        batch_size=8, tol=None, random_state=0, **params,
    )  # fmt: skip


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
@pytest.mark.parametrize(("solver", "optimizer"), GRADIENT_COMBINATIONS)
def test_divergence_is_caught_at_the_epoch_it_happens(Estimator, solver, optimizer):
    X, y = divergence_problem(Estimator)
    # Fits are deterministic, so the first max_iter that raises is the epoch
    # that diverged: every shorter fit must end finite, and the error must
    # name exactly that epoch.
    for max_iter in range(1, 16):
        est = explosive(Estimator, solver, optimizer, max_iter=max_iter)
        try:
            est.fit(X, y)
        except ValueError as error:
            message = str(error)
            assert f"Training diverged at epoch {max_iter}:" in message
            break
        assert np.all(np.isfinite(est.coef_))
        assert np.all(np.isfinite(est.loss_curve_))
    else:
        pytest.fail("no divergence within 15 epochs")
    assert not hasattr(est, "coef_")
    # It says what to do: a smaller eta0, the automatic one, or scaled data.
    for advice in ("a smaller eta0", "eta0='auto'", "StandardScaler"):
        assert advice in message


@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
@pytest.mark.parametrize(("solver", "optimizer"), GRADIENT_COMBINATIONS)
def test_divergence_keeps_the_last_finite_state(Estimator, solver, optimizer, method):
    if optimizer == "rprop":
        pytest.skip(
            "rprop's per-parameter steps are resumed state, capped at 50: a new "
            "eta0 only seeds a fresh start, so a continued rprop cannot be made "
            "to diverge this way"
        )
    X, y = divergence_problem(Estimator)
    est = Estimator(
        solver=solver, optimizer=optimizer, batch_size=8, max_iter=3, tol=None,
        random_state=0, warm_start=method == "warm_start",
    )  # fmt: skip
    kwargs = {"classes": np.unique(y)} if Estimator is GDClassifier else {}

    def refit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if method == "partial_fit":
                return est.partial_fit(X, y, **kwargs)
            return est.fit(X, y)

    refit()
    # One epoch overshoots by the 1e6 factor: partial_fit judges each call
    # against its own start (see test_partial_fit_catches_divergence_across_calls).
    est.set_params(eta0=1e8, max_iter=15)
    attributes = ("coef_", "intercept_", "t_", "n_iter_", "eta0_", "loss_curve_")
    for _ in range(15):  # partial_fit runs one epoch per call
        before = {name: np.copy(getattr(est, name)) for name in attributes}
        prediction = est.predict(X)
        try:
            refit()
        except ValueError as error:
            assert re.match(r"Training diverged at epoch \d+:", str(error))
            break
    else:
        pytest.fail("no divergence within 15 epochs")
    # The failed call left the model exactly as it was before it.
    for name in attributes:
        np.testing.assert_array_equal(getattr(est, name), before[name], err_msg=name)
    np.testing.assert_array_equal(est.predict(X), prediction)
    # ...and training goes on from there once the rate is sane again.
    est.set_params(eta0="auto")
    refit()
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("Estimator", [GDRegressor, GDClassifier])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_perturbation_never_diverges(Estimator, dtype):
    # The (1+1)-ES only accepts improvements, so no step size can blow it up:
    # the objective never increases and the model stays finite.
    X, y = divergence_problem(Estimator)
    for eta0 in (1e3, 1e30):
        est = Estimator(
            solver="perturbation", eta0=eta0, max_iter=20, tol=None, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            est.fit(X.astype(dtype), y)
        assert np.all(np.isfinite(est.coef_))
        assert np.all(np.diff(est.loss_curve_) <= 0)


def test_perturbation_float32_with_a_step_beyond_float32_range_is_silent():
    X, y = divergence_problem(GDRegressor)
    est = GDRegressor(solver="perturbation", eta0=1e200, max_iter=5, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est.fit(X.astype(np.float32), y)
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.filterwarnings("ignore:.*StandardScaler")
def test_divergence_advice_fits_an_automatic_eta0():
    # eta0='auto' no longer diverges on the data that once showed this (the
    # normalised optimizers' first step is bounded now), so check the advice
    # itself: it suggests eta0='auto' only to a user who does not have it.
    from skgd.training.loop import _divergence_message

    assert "eta0='auto'" not in _divergence_message(3, np.inf, 1.0, 0.5, True)
    assert "eta0='auto'" in _divergence_message(3, np.inf, 1.0, 0.5, False)


def overflow_problem(case):
    """Data and estimator whose squared margin loss overflows to NaN parameters.

    Squared margin losses have unbounded gradients: a large step overflows
    the coefficients to inf, the next gradient makes them NaN, and these
    losses' "inside the margin" branch (a NaN comparison is False) then
    scores every NaN prediction 0: the objective looks perfect.
    """
    rng = np.random.RandomState(0)
    X = rng.standard_normal((50, 3))
    common = {"solver": "online", "max_iter": 5, "tol": None, "random_state": 0}
    if case == "regressor, float64":
        est = GDRegressor(
            loss="squared_epsilon_insensitive", penalty=None, fit_intercept=False,
            eta0=1e3, **common,
        )  # fmt: skip
        return est, X * 100.0, X @ [1.0, 2.0, 3.0]
    if case == "classifier, float32":
        est = GDClassifier(loss="squared_hinge", penalty=None, eta0=1e3, **common)
        return est, X.astype(np.float32), (X[:, 0] > 0).astype(int)
    # With fit_intercept=False, inf * 0 (the intercept's zeroed gradient)
    # makes the intercept NaN, here under an L1 penalty.
    est = GDRegressor(
        loss="squared_epsilon_insensitive", penalty="l1", fit_intercept=False,
        eta0=0.1, shuffle=False, **{**common, "max_iter": 1},
    )  # fmt: skip
    y = np.random.RandomState(0).standard_normal(16)
    return est, np.full((16, 5), 21.0, dtype=np.float32), y


@pytest.mark.parametrize(
    "case", ["regressor, float64", "classifier, float32", "NaN intercept, l1"]
)
def test_non_finite_parameters_are_divergence(case):
    est, X, y = overflow_problem(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            est.fit(X, y)
        except ValueError as error:
            assert "diverged" in str(error)
            return
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))


def test_partial_fit_catches_divergence_across_calls():
    X, y = divergence_problem(GDRegressor)
    # eta0 = 2 > 2 / L: the error grows geometrically, ~2.5x per epoch; fit()
    # catches it at epoch 10 (see above). A stream of one-epoch calls must too.
    est = GDRegressor(solver="batch", eta0=2.0, random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        for _ in range(40):
            est.partial_fit(X, y)
    assert est.loss_curve_[-1] < 1e6 * est.loss_curve_[0]


def test_divergence_recovery_says_it_tried():
    X, y = divergence_problem(GDRegressor)
    est = explosive(GDRegressor, "online", "sgd", max_iter=5, divergence_recovery=2)
    with pytest.raises(
        ValueError, match="Halving the learning rate 2 times did not help"
    ):
        est.fit(X, y)


# --- layouts ------------------------------------------------------------------------


@settings(PROFILE, max_examples=PROFILE.max_examples // 2)
@given(
    seed=st.integers(0, 2**16),
    shape=st.tuples(st.sampled_from(range(2, 30)), st.sampled_from([1, 3, 70])),
    config=parameters(REGRESSION_LOSSES),
    classify=st.booleans(),
)
def test_every_layout_trains_the_same_model(seed, shape, config, classify):
    # C, F, CSR and CSC data reach different kernels (fused dense, BLAS, CSR,
    # lazily scaled CSR): the model must not depend on which.
    params, expected = config
    # rprop steps a full eta0 by the sign of a gradient that is 0 up to
    # rounding, and rounding depends on the summation order of each layout.
    assume(expected is None and params["optimizer"] != "rprop")
    params["early_stopping"] = False  # its split draws from the same stream
    rng = np.random.RandomState(seed)
    X = rng.standard_normal(shape)
    X[rng.rand(*shape) < 0.5] = 0.0
    if classify:
        Estimator, y = GDClassifier, (X[:, 0] + rng.standard_normal(shape[0]) > 0)
        assume(len(np.unique(y)) == 2)
        params["loss"] = "log_loss"
    else:
        Estimator, y = GDRegressor, rng.standard_normal(shape[0])
    models = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for layout in (
            np.ascontiguousarray,
            np.asfortranarray,
            sp.csr_matrix,
            sp.csc_matrix,
        ):
            try:
                models.append(Estimator(**params).fit(layout(X), y))
            except ValueError as error:
                models.append(str(error))
    if isinstance(models[0], str):  # all refuse alike (a divergence)
        assert models == [models[0]] * 4, models
        event("refused alike")
        return
    event("fitted alike")
    for model in models[1:]:
        assert not isinstance(model, str), model
        np.testing.assert_allclose(model.coef_, models[0].coef_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(
            model.intercept_, models[0].intercept_, rtol=1e-6, atol=1e-9
        )
