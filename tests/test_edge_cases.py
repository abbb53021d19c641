"""Edge cases of the data: tiny, degenerate, badly scaled, wide, duplicated, streamed.

Every solver must either fit such data to a finite model that still makes
sense, or refuse it with a message that names the problem. And no method ever
writes to the arrays it is given. Known bugs are xfail(strict=True) with the
reason; the report of the test battery proposes the fixes.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from combinations import accepts, one_vs_rest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor, closed_form_solution

SOLVERS = tuple(sorted(GDRegressor._parameter_constraints["solver"][0].options))
OPTIMIZERS = tuple(sorted(GDRegressor._parameter_constraints["optimizer"][0].options))
ESTIMATORS = (GDRegressor, GDClassifier)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def regression(n_samples=40, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.linspace(-2.0, 2.0, n_features)
    return X, X @ coef + 0.5 + 0.05 * rng.standard_normal(n_samples)


def classification(n_samples=40, n_features=3, n_classes=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features))
    score = X[:, 0] + 0.5 * rng.standard_normal(n_samples)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y


def problem(Estimator, **kwargs):
    return (regression if Estimator is GDRegressor else classification)(**kwargs)


def theta_of(est):
    return np.column_stack(
        [np.reshape(est.coef_, (len(est.intercept_), -1)), est.intercept_]
    )


def fit_kwargs(Estimator, y, method):
    if Estimator is GDClassifier and method == "partial_fit":
        return {"classes": np.unique(y)}
    return {}


# --- tiny data --------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_sample_regression(solver):
    if not accepts(solver, penalty=None):
        pytest.skip(f"solver={solver!r} needs an L2 part, which stops interpolation")
    X, y = np.array([[1.5, -0.5]]), np.array([2.0])
    est = GDRegressor(solver=solver, penalty=None, max_iter=200, random_state=0)
    est.fit(X, y)
    assert np.all(np.isfinite(theta_of(est)))
    if solver != "perturbation":
        # One sample is interpolated exactly by gradient descent.
        np.testing.assert_allclose(est.predict(X), y, atol=1e-3)


def test_one_sample_classification_is_one_class():
    with pytest.raises(ValueError, match="number of classes has to be greater"):
        GDClassifier().fit([[1.0, 2.0]], ["spam"])


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_sample_per_class(solver):
    X, y = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), np.array([0, 1, 2])
    est = GDClassifier(
        solver=solver, max_iter=300, random_state=0, **one_vs_rest(solver)
    ).fit(X, y)
    assert np.all(np.isfinite(theta_of(est)))
    if solver != "perturbation":
        np.testing.assert_array_equal(est.predict(X), y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_one_feature(Estimator, solver):
    X, y = problem(Estimator, n_features=1)
    est = Estimator(solver=solver, max_iter=300, random_state=0).fit(X, y)
    assert est.coef_.shape[-1] == 1
    # The one feature carries the signal: much better than a constant model.
    assert est.score(X, y) > (0.9 if Estimator is GDRegressor else 0.7)


# --- degenerate data ----------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_constant_features_predict_the_mean(solver):
    rng = np.random.RandomState(0)
    X = np.full((30, 3), 3.0)
    y = rng.standard_normal(30) + 1.0
    # With a constant rate, each online step interpolates the sample it sees
    # (every row has the largest norm); averaging cancels that noise.
    est = GDRegressor(
        solver=solver, max_iter=300, random_state=0, average=solver == "online"
    ).fit(X, y)
    assert np.all(np.isfinite(theta_of(est)))
    # Constant columns cannot explain anything: the best fit is the mean.
    tolerance = {"online": 0.1, "perturbation": 0.3}.get(solver, 1e-2)
    np.testing.assert_allclose(est.predict(X[:1]), [y.mean()], atol=tolerance)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    ("solver", "optimizer"),
    [
        (solver, optimizer)
        for solver in SOLVERS
        if solver != "perturbation"  # random trials move every coefficient
        for optimizer in OPTIMIZERS
        if accepts(solver, optimizer)
    ],
)
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
def test_all_zero_feature_keeps_a_zero_coefficient(
    Estimator, solver, optimizer, penalty
):
    # A feature that is always 0 gets no gradient, and no penalty moves a
    # coefficient away from 0: whatever the update rule, it must stay exactly 0.
    if not accepts(solver, optimizer, penalty=penalty):
        pytest.skip(f"solver={solver!r} refuses penalty={penalty!r}")
    X, y = problem(Estimator)
    X = np.column_stack([X[:, :1], np.zeros(len(X)), X[:, 1:]])
    est = Estimator(
        solver=solver, optimizer=optimizer, penalty=penalty, max_iter=10,
        random_state=0,
    )  # fmt: skip
    est.fit(X, y)
    assert np.all(np.isfinite(theta_of(est)))
    np.testing.assert_array_equal(np.reshape(est.coef_, (-1, X.shape[1]))[:, 1], 0.0)


@pytest.mark.parametrize(
    ("solver", "optimizer"),
    [(solver, "sgd") for solver in SOLVERS] + [("batch", o) for o in OPTIMIZERS[1:]],
)
def test_zero_target_gives_exactly_zero_model(solver, optimizer):
    # y = 0 is minimised by theta = 0, where training starts and every
    # gradient vanishes: nothing may move (and no divergence may be claimed
    # from a zero objective).
    X, _ = regression()
    est = GDRegressor(solver=solver, optimizer=optimizer, max_iter=10, random_state=0)
    est.fit(X, np.zeros(len(X)))
    np.testing.assert_array_equal(theta_of(est), 0.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_constant_target(solver):
    X, _ = regression()
    y = np.full(len(X), 7.0)
    est = GDRegressor(solver=solver, max_iter=300, random_state=0).fit(X, y)
    tolerance = 0.5 if solver in ("online", "perturbation") else 1e-2
    np.testing.assert_allclose(est.predict(X), 7.0, atol=tolerance)


def test_constant_labels_are_one_class():
    X, _ = classification()
    with pytest.raises(ValueError, match="number of classes has to be greater"):
        GDClassifier().fit(X, np.full(len(X), "a"))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_all_zero_sample_weights_are_refused_clearly(Estimator, method):
    X, y = problem(Estimator)
    est = Estimator()
    with pytest.raises(ValueError, match=r"(?i)sample.?weights? .*(non-zero|zero)"):
        getattr(est, method)(
            X, y, sample_weight=np.zeros(len(y)), **fit_kwargs(Estimator, y, method)
        )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_zero_weight_training_rows_with_early_stopping(Estimator):
    # Only the rows the validation split keeps carry weight: the training
    # objective would be empty, and the message says so.
    X, y = problem(Estimator, n_samples=40)
    est = Estimator(early_stopping=True, validation_fraction=0.5, random_state=0)
    weights = np.zeros(len(y))
    for seed_rows in range(len(y)):  # find the held-out rows of this split
        weights[:] = 0.0
        weights[seed_rows] = 1.0
        try:
            est.fit(X, y, sample_weight=weights)
        except ValueError as error:
            if "training samples all have zero sample_weight" in str(error):
                return
            if "held out rows whose sample_weight are all zero" in str(error):
                continue  # the single row went to training
                continue
            raise
    pytest.fail("no split put the only weighted row in the validation set")


# --- scale --------------------------------------------------------------------------


def scaled(scale, n_samples=60):
    X, y = regression(n_samples=n_samples)
    return X * scale, y


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale", [1e8, 1e-8])
def test_badly_scaled_features_warn_and_suggest_standard_scaler(scale, solver):
    X, y = scaled(scale)
    est = GDRegressor(solver=solver, max_iter=50, random_state=0)
    if solver in ("auto", "lbfgs"):
        # L-BFGS in the Gram matrix's metric: the scales do not matter, and
        # nothing is said about them. (At 1e-8 the L2 part dominates: the
        # minimiser predicts almost the mean.)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est.fit(X, y)
        with warnings.catch_warnings():  # (it warns of the 1e16 scale too)
            warnings.simplefilter("ignore")
            coef, intercept = closed_form_solution(est, X, y)
        np.testing.assert_allclose(
            est.predict(X), X @ coef + intercept, atol=1e-6 * np.abs(y).max()
        )
    else:
        with pytest.warns(UserWarning, match="StandardScaler"):
            est.fit(X, y)
    assert np.all(np.isfinite(theta_of(est)))
    assert np.all(np.isfinite(est.predict(X)))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_mixed_feature_scales_warn(Estimator, layout):
    X, y = problem(Estimator)
    X = X * [1.0, 1e4, 1.0]  # no intercept to blame: one column is off
    if layout == "csr":
        X = sp.csr_matrix(X)
    with pytest.warns(UserWarning, match="StandardScaler"):
        Estimator(solver="accelerated", fit_intercept=False, max_iter=5).fit(X, y)
    # partial_fit's first call checks too.
    with pytest.warns(UserWarning, match="StandardScaler"):
        Estimator(fit_intercept=False).partial_fit(
            X, y, **fit_kwargs(Estimator, y, "partial_fit")
        )


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_standardised_data_does_not_warn_about_scale(Estimator):
    X, y = problem(Estimator)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        Estimator(max_iter=5).fit(X, y)


@pytest.mark.parametrize("kind", ["tf-idf", "one-hot"])
def test_sparse_features_are_sized_by_their_non_zero_values(kind):
    # A rare word or a one-hot column is mostly zeros: its mean square is
    # tiny, but scaling it up is no cure. Its size when present is what
    # counts, and here every feature is on the intercept's scale.
    rng = np.random.RandomState(0)
    if kind == "tf-idf":
        X = sp.random(
            300, 2000, density=0.01, random_state=0, format="csr",
            data_rvs=lambda k: rng.uniform(0.5, 1.0, k),  # term weights
        )  # fmt: skip
        X = sp.csr_matrix(X / np.sqrt(X.multiply(X).sum(axis=1)).clip(1e-12))
    else:
        X = np.zeros((300, 40))
        X[np.arange(300), rng.randint(40, size=300)] = 1.0
    y = rng.randint(2, size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        GDClassifier(solver="online", max_iter=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("scale", [1e8, 1e-8])
def test_the_advice_works(scale):
    # Following the warning's advice fits what the raw data could not.
    X, y = scaled(scale)
    pipeline = make_pipeline(StandardScaler(), GDRegressor(random_state=0))
    assert pipeline.fit(X, y).score(X, y) > 0.99


@pytest.mark.parametrize("category", ["DataScaleWarning", "ConvergenceWarning"])
def test_warnings_point_at_the_callers_line(category):
    X, y = scaled(1e4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # (The default, L-BFGS, lands in a step and is blind to scales.)
        GDRegressor(solver="accelerated", max_iter=2).fit(X, y)
    (warning,) = [w for w in caught if w.category.__name__ == category]
    assert warning.filename == __file__


def test_features_too_large_to_square_get_a_clear_error():
    X, y = scaled(1e160)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match="StandardScaler|scale"):
            GDRegressor(max_iter=5).fit(X, y)


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adam", "rprop"])
def test_tiny_targets_train_with_the_automatic_step(optimizer):
    X, y = regression()
    est = GDRegressor(
        solver="batch", optimizer=optimizer, max_iter=20, tol=None, random_state=0
    )
    est.fit(X, 1e-8 * y)
    assert np.all(np.isfinite(theta_of(est)))


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_perceptron_reference_is_not_a_rounding_error(optimizer):
    # Balanced class weights make the first gradient cancel to rounding noise.
    X = np.zeros((4, 1)) if optimizer == "sgd" else np.ones((4, 1))
    y = np.array([0, 1, 0, 0])
    est = GDClassifier(solver="batch",
        loss="perceptron", optimizer=optimizer, class_weight="balanced",
        fit_intercept=optimizer == "sgd", max_iter=10, tol=None,
    )  # fmt: skip
    est.fit(X, y)
    assert np.all(np.isfinite(theta_of(est)))


# --- wide, duplicated, streamed ---------------------------------------------------


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_many_more_features_than_samples(solver, layout):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((10, 300))  # 301 > 64 columns: the Lanczos curvature
    if layout == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    y = rng.standard_normal(10)
    labels = np.arange(10) % 3
    # (sdca needs an L2 part: the default alpha's is too weak to matter here)
    penalty = None if accepts(solver, penalty=None) else "l2"
    regressor = GDRegressor(
        solver=solver, penalty=penalty, max_iter=200, random_state=0
    )
    classifier = GDClassifier(
        solver=solver, max_iter=200, random_state=0, **one_vs_rest(solver)
    )
    # With 300 features 10 samples can be interpolated (and separated).
    assert regressor.fit(X, y).score(X, y) > 0.99
    assert classifier.fit(X, labels).score(X, labels) == 1.0


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_all_zero_features_without_intercept(Estimator):
    # An all-zero chunk of sparse text features is common in streaming.
    X = sp.csr_matrix((20, 100))
    y = np.arange(20.0) if Estimator is GDRegressor else np.arange(20) % 2
    est = Estimator(fit_intercept=False)
    est.partial_fit(X, y, **fit_kwargs(Estimator, y, "partial_fit"))
    np.testing.assert_array_equal(est.coef_, 0.0)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_duplicated_samples_equal_integer_weights(Estimator):
    # Frequency weights (documented): a sample twice is a weight of 2. For
    # the batch solver the two objectives, their curvature and so every
    # iterate are the same, up to the order of the sums.
    X, y = problem(Estimator, n_samples=30)
    counts = np.random.RandomState(1).randint(1, 4, len(y))
    repeated = np.repeat(np.arange(len(y)), counts)
    params = {"solver": "batch", "max_iter": 50, "tol": None}
    weighted = Estimator(**params).fit(X, y, sample_weight=counts)
    duplicated = Estimator(**params).fit(X[repeated], y[repeated])
    np.testing.assert_allclose(
        theta_of(weighted), theta_of(duplicated), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_single_class_chunks_after_classes_were_given(solver, n_classes):
    if solver in ("sdca", "lbfgs"):
        pytest.skip(
            f"solver={solver!r} solves each call's chunk afresh (its duals or "
            "memory are per call): a chunk of one class fits that chunk"
        )
    X, y = classification(n_samples=60, n_classes=n_classes)
    est = GDClassifier(solver=solver, random_state=0, **one_vs_rest(solver))
    classes = np.arange(n_classes)
    for label in (*classes, *classes):  # each chunk holds one class only
        rows = y == label
        est.partial_fit(X[rows], y[rows], classes=classes)
        np.testing.assert_array_equal(est.classes_, classes)
        assert np.all(np.isfinite(theta_of(est)))
    shape = (60,) if n_classes == 2 else (60, n_classes)
    assert est.decision_function(X).shape == shape
    if solver != "perturbation":  # one random trial per call learns little
        # Streaming the classes one at a time still learns something.
        assert est.score(X, y) > 1.0 / n_classes


def test_balanced_class_weight_refuses_partial_fit():
    # A chunk's class frequencies are not the stream's (SGD refuses too).
    X, y = classification()
    est = GDClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="'balanced' is not supported for partial_fit"):
        est.partial_fit(X, y, classes=[0, 1])
    # A dict of class weights works, even for a single-class chunk.
    est = GDClassifier(class_weight={0: 1.0, 1: 3.0})
    est.partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    assert np.all(np.isfinite(theta_of(est)))


# --- early stopping on tiny data ----------------------------------------------------


def test_early_stopping_on_one_validation_sample():
    X, y = regression(n_samples=8)
    est = GDRegressor(early_stopping=True, max_iter=50, random_state=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            est.fit(X, y)
    except ValueError as error:  # refusing, with a reason, is fine too
        assert "validation" in str(error)
        return
    assert np.all(np.isfinite(est.validation_scores_))
    # Otherwise, the model is not the one after the first epoch.
    first = GDRegressor(max_iter=1, tol=None, random_state=0).fit(X, y)
    assert not np.allclose(est.coef_, first.coef_, rtol=1e-2)


# --- a failed fit -------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_after_a_failed_first_fit_is_not_fitted(Estimator):
    X, y = problem(Estimator)
    est = Estimator(solver="batch", eta0=1e9, max_iter=5)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_a_failed_refit_leaves_the_model_as_it_was():
    X, _ = classification()
    labels = np.where(X[:, 0] > 0, "cat", "dog")
    est = GDClassifier(solver="batch", max_iter=20).fit(X, labels)
    before = est.predict(X)
    other = np.array(["x", "y", "z"])[np.digitize(X[:, 1], [-0.5, 0.5])]
    est.set_params(eta0=1e9)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X, other)
    np.testing.assert_array_equal(est.classes_, ["cat", "dog"])
    np.testing.assert_array_equal(est.predict(X), before)


# --- inputs are never modified ------------------------------------------------------

LAYOUTS = ("C", "F", "csr", "csc", "readonly")


def in_layout(X, layout):
    if layout == "F":
        return np.asfortranarray(X)
    if layout in ("csr", "csc"):
        # Half the entries zero, so the sparse structure is not trivial.
        X = np.where(np.abs(X) > 0.6, X, 0.0)
        return sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    X = np.ascontiguousarray(X)
    if layout == "readonly":
        X.flags.writeable = False
    return X


def copy_of(a):
    return a.copy() if sp.issparse(a) else np.array(a, copy=True, order="K")


def assert_identical(a, b):
    assert type(a) is type(b)
    if sp.issparse(a):
        assert a.format == b.format
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            assert getattr(a, name).dtype == getattr(b, name).dtype
    else:
        assert a.dtype == b.dtype and a.flags.f_contiguous == b.flags.f_contiguous
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_no_method_modifies_its_inputs(Estimator, solver, layout):
    X, y = problem(Estimator, n_samples=30)
    X = in_layout(X, layout)
    weight = np.random.RandomState(0).uniform(0.0, 2.0, len(y))
    weight[:3] = 0.0
    inputs = (X, y, weight)
    copies = [copy_of(a) for a in inputs]
    est = Estimator(solver=solver, max_iter=3, tol=None, random_state=0)
    est.fit(X, y, sample_weight=weight)
    est.partial_fit(X, y, sample_weight=weight)
    est.predict(X)
    est.score(X, y, sample_weight=weight)
    if Estimator is GDClassifier:
        est.decision_function(X)
        est.predict_proba(X)
        est.predict_log_proba(X)
    fresh = Estimator(solver=solver, random_state=0)
    fresh.partial_fit(
        X, y, sample_weight=weight, **fit_kwargs(Estimator, y, "partial_fit")
    )
    for original, copy in zip(inputs, copies, strict=True):
        assert_identical(original, copy)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_initial_values_and_validation_data_are_not_modified(Estimator):
    X, y = problem(Estimator, n_samples=30)
    n_classes = len(np.unique(y))
    n_rows = 1 if Estimator is GDRegressor or n_classes == 2 else n_classes
    coef_init = np.full((n_rows, X.shape[1]), 0.1)
    intercept_init = np.full(n_rows, 0.2)
    if Estimator is GDRegressor:
        coef_init = coef_init[0]
    X_val, y_val = X[:10].copy(), y[:10].copy()
    inputs = (coef_init, intercept_init, X_val, y_val)
    copies = [copy_of(a) for a in inputs]
    est = Estimator(max_iter=3, tol=None)
    est.fit(X, y, coef_init=coef_init, intercept_init=intercept_init)
    est.partial_fit(X, y, validation_data=(X_val, y_val))
    for original, copy in zip(inputs, copies, strict=True):
        assert_identical(original, copy)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_sparse_arrays_fit_as_sparse_matrices(Estimator, solver, fmt):
    # scipy's sparse arrays (csr_array, csc_array) are the same data as the
    # older sparse matrices: the same model, bit for bit.
    X, y = problem(Estimator)
    X[np.abs(X) < 0.5] = 0.0
    matrix = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    array = sp.csr_array(X) if fmt == "csr" else sp.csc_array(X)
    params = dict(solver=solver, max_iter=10, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        from_matrix = Estimator(**params).fit(matrix, y)
        from_array = Estimator(**params).fit(array, y)
    np.testing.assert_array_equal(from_array.coef_, from_matrix.coef_)
    np.testing.assert_array_equal(from_array.intercept_, from_matrix.intercept_)
    np.testing.assert_array_equal(
        from_array.predict(array), from_matrix.predict(matrix)
    )
