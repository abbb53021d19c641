"""Training on dask arrays, on a real two-process cluster.

The batch solver sums the blocks' losses and gradients, which add up to the
numpy path's up to rounding: same data, same iterates, so every fitted
attribute must agree to 1e-8. The online and mini-batch solvers mix
parameters (one local epoch per block, then the mean), which is a different
algorithm from one machine's SGD; they are held to the exact solutions that
mixing provably reaches (see each test).
"""

import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skgd import GDClassifier, GDRegressor, closed_form_solution, training_objective

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

# Unequal blocks, so that weighting by block size matters.
CHUNKS = (120, 80, 100, 100)
N_SAMPLES = sum(CHUNKS)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def to_dask(*arrays):
    """Each array as a dask array in CHUNKS row blocks (whole rows)."""
    return [
        None
        if a is None
        else da.from_array(a, chunks=(CHUNKS, *a.shape[1:]) if a.ndim > 1 else CHUNKS)
        for a in arrays
    ]


def regression(n_features=5, n_targets=None, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N_SAMPLES, n_features)) + 0.3
    shape = () if n_targets is None else (n_targets,)
    coef = rng.uniform(-2.0, 2.0, (n_features, *shape))
    y = X @ coef + 1.0 + 0.3 * rng.standard_normal((N_SAMPLES, *shape))
    return X, y


def classification(n_classes, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N_SAMPLES, 4))
    scores = X @ rng.standard_normal((4, n_classes)) + rng.standard_normal(
        (N_SAMPLES, n_classes)
    )
    return X, np.argmax(scores, axis=1)


def sample_weights(seed=1):
    return np.random.RandomState(seed).uniform(0.2, 3.0, N_SAMPLES)


def fit_quietly(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def assert_same_fit(ours, reference, rtol=1e-8):
    """Every fitted attribute of ``_base._fit`` agrees (the clock aside)."""
    assert ours.n_iter_ == reference.n_iter_
    assert ours.t_ == reference.t_
    assert ours.n_features_in_ == reference.n_features_in_
    assert_allclose(ours.eta0_, reference.eta0_, rtol=rtol)
    for name in ("coef_", "intercept_"):
        assert getattr(ours, name).shape == getattr(reference, name).shape
        assert_allclose(
            getattr(ours, name), getattr(reference, name), rtol=rtol, atol=1e-12
        )
    assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=rtol)
    # dual_gap: numpy's certificate; skgd computes none across dask blocks,
    # and the stochastic solvers none at all.
    assert set(ours.history_) - {"dual_gap"} == set(reference.history_) - {"dual_gap"}
    # grad_norm: NaN when one side is a stochastic solver (never formed)
    skipped = {"time", "dual_gap"}
    if {ours.solver, reference.solver} & {"online", "minibatch"}:
        skipped.add("grad_norm")  # NaN on the stochastic side: never formed
    for key in set(reference.history_) - skipped:
        assert_allclose(
            ours.history_[key], reference.history_[key], rtol=rtol, atol=1e-12,
            err_msg=key,
        )  # fmt: skip
    assert_allclose(
        ours._training_state.theta,
        reference._training_state.theta,
        rtol=rtol,
        atol=1e-12,
    )
    if hasattr(reference, "classes_"):
        assert_array_equal(ours.classes_, reference.classes_)


# --- batch: the same iterates as on numpy ---------------------------------------------


def _regressor_cases():
    X, y = regression()
    yield "default", GDRegressor(), X, y, None
    yield (
        "huber-elasticnet-no-intercept-weighted",
        GDRegressor(loss="huber", epsilon=0.5, penalty="elasticnet", alpha=1e-2,
                    fit_intercept=False, max_iter=60),
        X, y, sample_weights(),
    )  # fmt: skip
    yield "multi-output", GDRegressor(max_iter=60), *regression(n_targets=3), None
    # 80 features: eta0='auto' takes the Lanczos branch (distributed matvecs).
    yield "lanczos", GDRegressor(max_iter=15), *regression(n_features=80), None
    yield "adam", GDRegressor(solver="batch", optimizer="adam", max_iter=15), X, y, None
    yield (
        "scaled-intercept", GDRegressor(intercept_scaling=0.3, max_iter=15), X, y,
        None,
    )  # fmt: skip


def _classifier_cases():
    X, y = classification(2)
    yield "binary", GDClassifier(), X, y, None
    X, y = classification(3)
    yield (
        "softmax-balanced-weighted",
        GDClassifier(class_weight="balanced", max_iter=30), X, y, sample_weights(),
    )  # fmt: skip
    labels = np.array(["ant", "bee", "cat"])[y]
    yield (
        "hinge-ovr-dict-weights-strings",
        GDClassifier(loss="hinge", class_weight={"bee": 2.0}, max_iter=25),
        X, labels, None,
    )  # fmt: skip


CASES = [*_regressor_cases(), *_classifier_cases()]


@pytest.mark.parametrize(
    "estimator, X, y, sample_weight", [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)  # fmt: skip
def test_batch_on_dask_equals_batch_on_numpy(client, estimator, X, y, sample_weight):
    # The numpy fit stops on its duality gap, which skgd does not compute
    # across dask blocks (there the fit stops on the optimality residual):
    # the iterates are compared over the same epochs.
    estimator.set_params(random_state=0, tol=None, max_iter=min(estimator.max_iter, 20))
    if estimator.solver == "auto":
        # On dask 'auto' takes the accelerated solver; in memory the hinge
        # would take sdca, which walks rows where they lie.
        estimator.set_params(solver="accelerated")
    reference = fit_quietly(estimator, X, y, sample_weight)
    ours = fit_quietly(
        estimator.__class__(**estimator.get_params()), *to_dask(X, y, sample_weight)
    )
    assert_same_fit(ours, reference)
    # Fitted from dask, the model predicts numpy input as usual.
    if isinstance(reference, GDClassifier):
        assert_array_equal(ours.predict(X), reference.predict(X))
        assert_allclose(ours.decision_function(X), reference.decision_function(X))
    else:
        assert_allclose(ours.predict(X), reference.predict(X), rtol=1e-8)


def test_all_zero_features_train_as_on_numpy(client):
    # 80 columns: the Lanczos branch of the automatic step, which cannot
    # start from all-zero data (ARPACK) and must report a zero curvature.
    X, y = np.zeros((N_SAMPLES, 80)), np.linspace(-1.0, 2.0, N_SAMPLES)
    reference = GDRegressor(solver="batch", max_iter=5, tol=None).fit(X, y)
    ours = GDRegressor(solver="batch", max_iter=5, tol=None).fit(*to_dask(X, y))
    assert_same_fit(ours, reference)
    assert_allclose(ours.intercept_, [y.mean()])


def test_batch_on_sparse_blocks_equals_dense_numpy(client):
    X, y = regression()
    X[np.abs(X) < 0.8] = 0.0
    X_dask, y_dask = to_dask(X, y)
    # (On dask, 'auto' is the accelerated solver; in memory, L-BFGS.)
    params = dict(solver="accelerated", max_iter=20, tol=None)
    reference = GDRegressor(**params).fit(X, y)
    ours = GDRegressor(**params).fit(X_dask.map_blocks(sp.csr_matrix), y_dask)
    assert_same_fit(ours, reference)


def test_batch_stopping_rule_and_convergence_warning_as_on_numpy(client):
    X, y = regression()
    estimator = GDRegressor(solver="accelerated", tol=1e-12, max_iter=5)
    with pytest.warns(ConvergenceWarning, match="Maximum number of epochs"):
        reference = GDRegressor(**estimator.get_params()).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="Maximum number of epochs"):
        ours = estimator.fit(*to_dask(X, y))
    assert_same_fit(ours, reference)
    # With the default tol, numpy stops on its certified duality gap and dask
    # (no gap across blocks) on the optimality residual: both land.
    reference, ours = GDRegressor().fit(X, y), GDRegressor().fit(*to_dask(X, y))
    assert ours.n_iter_ < GDRegressor().max_iter and not hasattr(ours, "dual_gap_")
    best = training_objective(reference, X, y)
    assert training_objective(ours, X, y) - best <= 1e-6 * best


def test_perturbation_on_dask_equals_numpy(client):
    # The trial noise is drawn on the driver, the objective summed from the blocks.
    X, y = regression()
    params = dict(solver="perturbation", max_iter=25, tol=None, random_state=0)
    assert_same_fit(
        GDRegressor(**params).fit(*to_dask(X, y)), GDRegressor(**params).fit(X, y)
    )


def test_partial_fit_batch_is_one_iteration_per_call(client):
    X, y = classification(3)
    X_dask, y_dask = to_dask(X, y)
    reference, ours = GDClassifier(), GDClassifier()
    for _ in range(3):
        reference.partial_fit(X, y, classes=[0, 1, 2])
        ours.partial_fit(X_dask, y_dask, classes=[0, 1, 2])
    assert ours.n_iter_ == 3
    assert_same_fit(ours, reference)


def test_float32_trains_in_float32(client):
    X, y = regression()
    X, y = X.astype(np.float32), y.astype(np.float32)
    params = dict(solver="accelerated", max_iter=10, tol=None)
    reference = GDRegressor(**params).fit(X, y)
    ours = GDRegressor(**params).fit(*to_dask(X, y))
    assert ours.coef_.dtype == np.float32
    # float32 blocks round their shares before the sum: float32 agreement.
    assert_allclose(ours.coef_, reference.coef_, rtol=1e-4)


# --- parameter mixing: the exact solutions it provably reaches ------------------------


@pytest.mark.parametrize("solver", ["online", "minibatch"])
def test_mixing_reaches_least_squares_solution_when_it_interpolates(client, solver):
    # Noise-free targets: every sample's gradient vanishes at the least-squares
    # solution, so it is a fixed point of every local epoch and of their mean,
    # and each local step with eta0 = 1/L contracts towards it (a convex
    # combination of contractions to one point contracts to it). The error
    # thus falls geometrically to machine precision.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((N_SAMPLES, 5))
    y = X @ rng.uniform(-2.0, 2.0, 5) + 1.0
    solution = np.linalg.lstsq(np.column_stack([X, np.ones(N_SAMPLES)]), y, rcond=None)[
        0
    ]
    fitted = GDRegressor(
        solver=solver, penalty=None, tol=None, max_iter=12, random_state=0
    ).fit(*to_dask(X, y))
    assert_allclose(
        np.r_[fitted.coef_, fitted.intercept_], solution, rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize(
    "estimator, data",
    [
        (GDRegressor(alpha=1e-2), regression()),
        (GDClassifier(class_weight="balanced"), classification(3)),
    ],
    ids=["ridge", "softmax"],
)
def test_mixing_with_block_sized_batches_is_batch_descent(client, estimator, data):
    # With batch_size >= every block, each local epoch is one exact gradient
    # step on its block, and the size-weighted mean of those steps is one
    # exact step on all the data (the objective is the size-weighted mean of
    # the blocks'): mixing is then batch gradient descent, iterate for iterate.
    X, y = data
    params = dict(eta0=0.2, tol=None, max_iter=15)
    mixing = estimator.set_params(solver="minibatch", batch_size=max(CHUNKS), **params)
    mixing.fit(*to_dask(X, y))
    batch = estimator.__class__(**{**estimator.get_params(), "solver": "batch"})
    batch.fit(X, y)
    assert_same_fit(mixing, batch)


@pytest.mark.parametrize("solver", ["online", "minibatch"])
def test_running_epoch_loss_of_one_block_is_the_in_memory_one(client, solver):
    # One block and no shuffling: mixing is the in-memory epoch itself, and
    # with epoch_loss='running' the blocks report the losses they met, so
    # the recorded objectives agree, with no pass over the cluster for them.
    X, y = regression()
    params = dict(
        solver=solver, shuffle=False, epoch_loss="running", tol=None, max_iter=4
    )
    reference = GDRegressor(**params).fit(X, y)
    ours = GDRegressor(**params).fit(
        da.from_array(X, chunks=X.shape), da.from_array(y, chunks=y.shape)
    )
    assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=1e-10)
    assert_allclose(ours.coef_, reference.coef_, rtol=1e-10)
    exact = GDRegressor(**{**params, "epoch_loss": "exact"}).fit(X, y)
    assert ours.loss_curve_ != exact.loss_curve_


def test_noisy_mixing_is_at_least_as_close_as_one_machine(client):
    # With noise, constant-rate-ish SGD hovers around the minimiser. Mixing
    # averages the blocks' iterates: by convexity the mean's objective is at
    # most the mean of theirs, and averaging K independent noises divides
    # their variance by K. So mixing must land no farther (in objective) from
    # the ridge solution than one machine's SGD with the same steps and epochs.
    X, y = regression()
    params = dict(solver="online", alpha=1e-2, learning_rate="invscaling", tol=None,
                  max_iter=15, random_state=0)  # fmt: skip
    coef, intercept = closed_form_solution(GDRegressor(**params), X, y)
    reference = GDRegressor(**params).fit(X, y)
    f_min = training_objective(reference, X, y, coef=coef, intercept=intercept)

    def gap(fitted):
        return training_objective(fitted, X, y) / f_min - 1

    mixed = GDRegressor(**params).fit(*to_dask(X, y))
    assert 0 <= gap(mixed) <= gap(reference)
    assert gap(mixed) < 1e-2


def test_partial_fit_mixing_is_one_round_per_call(client):
    X, y = classification(2)
    X_dask, y_dask = to_dask(X, y)
    clf = GDClassifier(solver="online", random_state=0)
    for call in range(1, 4):
        clf.partial_fit(X_dask, y_dask, classes=[0, 1])
        assert clf.n_iter_ == call
        # The blocks step in parallel: the clock moves by the largest block.
        assert clf.t_ == call * max(CHUNKS) + 1
    assert clf.score(X, y) > 0.8


def test_mixing_is_reproducible(client):
    X, y = regression()
    fits = [
        GDRegressor(solver="minibatch", random_state=3, max_iter=5, tol=None).fit(
            *to_dask(X, y)
        )
        for _ in range(2)
    ]
    assert_array_equal(fits[0].coef_, fits[1].coef_)


# --- dask_ml's Incremental wrapper: partial_fit on numpy blocks -----------------------


def test_dask_ml_incremental_calls_partial_fit_on_blocks(client):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, y = classification(3)
    X_dask, y_dask = to_dask(X, y)
    model = wrappers.Incremental(
        GDClassifier(solver="minibatch", random_state=0), shuffle_blocks=False
    )
    model.fit(X_dask, y_dask, classes=[0, 1, 2])
    reference = GDClassifier(solver="minibatch", random_state=0)
    for start, stop in zip(
        np.cumsum((0, *CHUNKS[:-1])), np.cumsum(CHUNKS), strict=True
    ):
        reference.partial_fit(X[start:stop], y[start:stop], classes=[0, 1, 2])
    assert model.estimator_.n_iter_ == len(CHUNKS)
    assert_allclose(model.estimator_.coef_, reference.coef_, rtol=1e-12)
    assert model.score(X_dask, y_dask) == pytest.approx(reference.score(X, y))


# --- errors ---------------------------------------------------------------------------


def test_blocks_must_hold_whole_rows():
    X, y = regression()
    X_dask = da.from_array(X, chunks=(100, 3))
    with pytest.raises(ValueError, match=r"whole rows.*rechunk\(\{1: -1\}\)"):
        GDRegressor().fit(X_dask, y)


def test_unknown_chunk_sizes_are_refused():
    X, y = regression()
    X_dask, y_dask = to_dask(X, y)
    keep = y_dask > 0
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        GDRegressor().fit(X_dask[keep], y_dask[keep])


def test_early_stopping_is_refused():
    X, y = regression()
    with pytest.raises(ValueError, match="early_stopping"):
        GDRegressor(early_stopping=True).fit(*to_dask(X, y))


def test_missing_dask_names_the_extra(monkeypatch):
    X, y = regression()
    X_dask, y_dask = to_dask(X, y)
    monkeypatch.delitem(sys.modules, "skgd._estimators.dask")
    monkeypatch.setitem(sys.modules, "dask.array", None)  # import dask.array fails
    with pytest.raises(ImportError, match=r"pip install skgd\[dask\]"):
        GDRegressor().fit(X_dask, y_dask)
