"""Every error a user can get from skgd, each triggered once, with its message.

The catalogue below is the list: one entry per message (scikit-learn's
parameter validation counts as one family), with what triggers it. Then an
inventory test reads every ``raise`` in skgd's source and checks that its
text appears in one of the catalogued messages, so a new error cannot be
added without a line here. Errors whose message does not yet say what to do
are xfail(strict=True) tests at the end, each with its reason.
"""

import ast
import functools
import pathlib
import re
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import skgd
from skgd import (
    GDClassifier,
    GDRegressor,
    closed_form_solution,
    objective_gap,
    schedules,
    training_objective,
)

RNG = np.random.RandomState(0)
X = RNG.standard_normal((30, 3))
Y = X @ [1.0, -2.0, 0.5] + 0.1 * RNG.standard_normal(30)
LABELS = np.where(X[:, 0] > 0, "yes", "no")
THREE = np.array(["a", "b", "c"])[np.digitize(X[:, 1], [-0.5, 0.5])]


@dataclass(frozen=True)
class Case:
    """One error: how to trigger it, its type, and a regex its message matches."""

    name: str
    trigger: object
    error: type
    message: str
    needs: str | None = None  # an optional module the trigger needs


def _quiet(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return func(*args, **kwargs)

    return wrapper


# --- triggers that need more than one line ----------------------------------------


def _partial_fit_then(first, second, Estimator=GDRegressor, **params):
    est = Estimator(**params)
    est.partial_fit(*first)
    est.partial_fit(*second)


def _negative_schedule():
    GDRegressor(solver="batch", learning_rate=lambda t: -1.0, max_iter=2).fit(X, Y)


class _NoRates(schedules.Schedule):
    """A schedule subclass that forgot to implement ``rates``."""


def _dask_arrays():
    da = pytest.importorskip("dask.array")
    return da.from_array(X, chunks=(10, 3)), da.from_array(Y, chunks=10)


def _dask_early_stopping():
    dX, dy = _dask_arrays()
    GDRegressor(early_stopping=True).fit(dX, dy)


def _dask_saga():
    dX, dy = _dask_arrays()
    GDRegressor(solver="saga").fit(dX, dy)


def _dask_lbfgs():
    dX, dy = _dask_arrays()
    GDRegressor(solver="lbfgs").fit(dX, dy)


def _dask_sdca():
    dX, dy = _dask_arrays()
    GDRegressor(solver="sdca").fit(dX, dy)


def _dask_cumulative_l1():
    dX, dy = _dask_arrays()
    GDRegressor(solver="online", penalty="l1", l1_step="cumulative").fit(dX, dy)


def _dask_passive_aggressive():
    dX, dy = _dask_arrays()
    GDRegressor(solver="online", loss="epsilon_insensitive", learning_rate="pa1").fit(
        dX, dy
    )


def _dask_unknown_chunks():
    dX, dy = _dask_arrays()
    dX = dX[dX[:, 0] > -10]  # boolean indexing: row counts unknown until computed
    GDRegressor().fit(dX, dy)


def _dask_column_chunks():
    da = pytest.importorskip("dask.array")
    GDRegressor().fit(da.from_array(X, chunks=(10, 1)), Y)


def _dask_one_dimensional():
    da = pytest.importorskip("dask.array")
    GDRegressor().fit(da.from_array(Y, chunks=10), Y)


def _dask_zero_weights():
    dX, dy = _dask_arrays()
    GDRegressor().fit(dX, dy, sample_weight=np.zeros(len(Y)))


def _demo(*argv):
    from skgd._demo import main

    main(list(argv))


def _demo_without_matplotlib():
    saved = {
        name: sys.modules.get(name) for name in ("matplotlib", "matplotlib.figure")
    }
    sys.modules.update({name: None for name in saved})  # makes the import fail
    try:
        _demo("--plot", "out.png", "--max-iter", "1")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _validation_split_all_zero_weight():
    # Weight only on rows the validation split takes: the training set weighs 0.
    est = GDRegressor(early_stopping=True, validation_fraction=0.5, random_state=0)
    for row in range(len(Y)):
        weights = np.zeros(len(Y))
        weights[row] = 1.0
        try:
            est.fit(X, Y, sample_weight=weights)
        except ValueError as error:
            if "training samples" in str(error):
                raise
    pytest.fail("the split never held out the weighted row")


CATALOGUE = [
    # --- parameters: scikit-learn's _parameter_constraints (one family) --------------
    Case(
        "parameter out of range",
        lambda: GDRegressor(alpha=-1.0).fit(X, Y),
        InvalidParameterError,
        r"The 'alpha' parameter of GDRegressor must be a float "
        r"in the range \[0.0, inf\)",
    ),
    Case(
        "unknown option",
        lambda: GDClassifier(solver="newton-cg").fit(X, LABELS),
        InvalidParameterError,
        r"The 'solver' parameter of GDClassifier must be a str "
        r"among",
    ),
    Case(
        "wrong type",
        lambda: GDRegressor(solver="batch", learning_rate=5).fit(X, Y),
        InvalidParameterError,
        r"The 'learning_rate' parameter of GDRegressor must be "
        r".*an object implementing 'rates' or a callable",
    ),
    # --- combinations of parameters (checked in one place) ----------------------------
    Case(
        "perturbation with an optimizer",
        lambda: GDRegressor(solver="perturbation", optimizer="adam").fit(X, Y),
        ValueError,
        r"solver='perturbation' uses no gradient, so optimizer='adam' does "
        r"not apply; leave it at 'sgd'",
    ),
    Case(
        "perturbation with momentum",
        lambda: GDRegressor(solver="perturbation", momentum=0.9).fit(X, Y),
        ValueError,
        r"solver='perturbation' uses no gradient, so momentum=0.9",
    ),
    Case(
        "perturbation with nesterov",
        lambda: GDRegressor(solver="perturbation", nesterov=True).fit(X, Y),
        ValueError,
        r"so nesterov=True does not apply",
    ),
    Case(
        "perturbation with a schedule",
        lambda: GDClassifier(solver="perturbation", learning_rate="optimal").fit(
            X, LABELS
        ),
        ValueError,
        r"so learning_rate='optimal' does not apply; leave it at 'constant'",
    ),
    Case(
        "rprop off the batch solver",
        lambda: GDRegressor(solver="online", optimizer="rprop").fit(X, Y),
        ValueError,
        r"optimizer='rprop' steps by the sign of the exact gradient and "
        r"needs solver='batch'; got solver='online'",
    ),
    Case(
        "momentum with adam",
        lambda: GDRegressor(solver="batch", optimizer="adam", momentum=0.5).fit(X, Y),
        ValueError,
        r"momentum applies to optimizer='sgd' only; optimizer='adam' keeps "
        r"its own moments \(set momentum=0\)",
    ),
    Case(
        "optimal without alpha",
        lambda: GDRegressor(solver="batch", learning_rate="optimal", alpha=0.0).fit(
            X, Y
        ),
        ValueError,
        r"learning_rate='optimal' is 1 / \(alpha \* \(t0 \+ t\)\) and needs "
        r"a penalty with alpha > 0",
    ),
    Case(
        "optimal without penalty",
        lambda: GDClassifier(solver="batch", learning_rate="optimal", penalty=None).fit(
            X, LABELS
        ),
        ValueError,
        r"learning_rate='optimal' .* needs a penalty with alpha > 0",
    ),
    # --- initial values ---------------------------------------------------------------
    Case(
        "coef_init shape",
        lambda: GDRegressor().fit(X, Y, coef_init=[1.0, 2.0]),
        ValueError,
        r"coef_init has shape \(2,\); expected \(3,\)",
    ),
    Case(
        "coef_init shape, classifier",
        lambda: GDClassifier().fit(X, THREE, coef_init=np.zeros((2, 3))),
        ValueError,
        r"coef_init has shape \(2, 3\); expected \(3, 3\)",
    ),
    Case(
        "intercept_init size",
        lambda: GDRegressor().fit(X, Y, intercept_init=[1.0, 2.0]),
        ValueError,
        r"intercept_init has 2 values; expected 1",
    ),
    Case(
        "non-finite initial values",
        lambda: GDRegressor().fit(X, Y, coef_init=[np.nan, 0.0, 0.0]),
        ValueError,
        r"coef_init and intercept_init must be finite",
    ),
    # --- data (scikit-learn's validation) -----------------------------------------------
    Case(
        "NaN in X",
        lambda: GDRegressor().fit(np.where(X > 1, np.nan, X), Y),
        ValueError,
        r"Input X contains NaN",
    ),
    Case(
        "NaN in sparse X",
        lambda: GDClassifier().fit(sp.csr_matrix(np.where(X > 1, np.nan, X)), Y > 0),
        ValueError,
        r"Input X contains NaN",
    ),
    Case(
        # entries enough (2**19) for a finiteness test in row blocks in
        # threads, the culprit in the last block
        "infinity in a large X",
        lambda: GDRegressor().fit(
            np.vstack([np.ones((300_000, 2)), [[np.inf, 0.0]]]), np.ones(300_001)
        ),
        ValueError,
        r"Input X contains infinity",
    ),
    Case(
        "NaN in a large X to predict",
        lambda: (
            GDRegressor()
            .fit(X, Y)
            .predict(np.vstack([np.ones((200_000, 3)), [[0.0, 0.0, np.nan]]]))
        ),
        ValueError,
        r"Input X contains NaN",
    ),
    Case(
        "infinity in an F-ordered X",
        lambda: GDRegressor().fit(np.asfortranarray(np.where(X > 1, np.inf, X)), Y),
        ValueError,
        r"Input X contains infinity",
    ),
    Case(
        "infinite y",
        lambda: GDRegressor().fit(X, np.where(Y > 1, np.inf, Y)),
        ValueError,
        r"Input y contains infinity",
    ),
    Case(
        "inconsistent lengths",
        lambda: GDRegressor().fit(X, Y[:5]),
        ValueError,
        r"inconsistent numbers of samples",
    ),
    Case(
        "no features",
        lambda: GDRegressor().fit(X[:, :0], Y),
        ValueError,
        r"0 feature\(s\) \(shape=\(30, 0\)\) while a minimum of 1 is required",
    ),
    Case(
        "continuous labels",
        lambda: GDClassifier().fit(X, Y),
        ValueError,
        r"Unknown label type: continuous",
    ),
    Case(
        "negative sample weights",
        lambda: GDRegressor().fit(X, Y, sample_weight=-np.ones(30)),
        ValueError,
        r"Negative values in data passed to `sample_weight`",
    ),
    Case(
        "all-zero sample weights",
        lambda: GDClassifier().fit(X, LABELS, sample_weight=np.zeros(30)),
        ValueError,
        r"Sample weights must contain at least one non-zero number",
    ),
    Case(
        "zero-weight training rows (early stopping)",
        _validation_split_all_zero_weight,
        ValueError,
        r"The training samples all have zero sample_weight; at least one "
        r"must be positive",
    ),
    Case(
        "early stopping leaves nothing to train on",
        lambda: GDRegressor(early_stopping=True).fit(X[:1], Y[:1]),
        ValueError,
        r"early_stopping with validation_fraction=0\.1 holds out 1 of 1 samples",
    ),
    Case(
        "early stopping on a rare class",
        lambda: GDClassifier(early_stopping=True).fit(X, np.r_[["rare"], LABELS[1:]]),
        ValueError,
        r"The least populated class(es)? in y ha(s|ve) only 1 member",
    ),
    # --- classes ------------------------------------------------------------------------
    Case(
        "single class",
        lambda: GDClassifier().fit(X, np.full(30, "yes")),
        ValueError,
        r"The number of classes has to be greater than one; got 1 class "
        r"\(\['yes'\]\)",
    ),
    Case(
        "partial_fit without classes",
        lambda: GDClassifier().partial_fit(X, LABELS),
        ValueError,
        r"classes must be passed on the first call to partial_fit",
    ),
    Case(
        "labels outside classes=",
        lambda: GDClassifier().partial_fit(X, LABELS, classes=["no", "maybe"]),
        ValueError,
        r"y has labels \['yes'\] that are not in classes=\['maybe', 'no'\]",
    ),
    Case(
        "unknown labels later",
        lambda: _partial_fit_then((X, LABELS, ["no", "yes"]), (X, THREE), GDClassifier),
        ValueError,
        r"y has labels \['a', 'b', 'c'\] that are not in classes "
        r"\['no', 'yes'\] given on the first call to partial_fit",
    ),
    Case(
        "class_weight names unknown labels",
        lambda: GDClassifier(class_weight={"yes": 1.0, "maybe": 2.0}).fit(X, LABELS),
        ValueError,
        r"class_weight names labels \['maybe'\] that are not classes of y",
    ),
    Case(
        "balanced weights in partial_fit",
        lambda: GDClassifier(class_weight="balanced").partial_fit(
            X, LABELS, classes=["no", "yes"]
        ),
        ValueError,
        r"class_weight 'balanced' is not supported for partial_fit\. In order to use "
        r"'balanced' weights, use compute_class_weight",
    ),
    Case(
        "cumulative L1 outside plain online steps",
        lambda: GDRegressor(solver="batch", l1_step="cumulative").fit(X, Y),
        ValueError,
        r"l1_step='cumulative' is SGD's rule for its own online steps: it needs "
        r"solver='online', optimizer='sgd' and momentum=0; got solver='batch', "
        r"optimizer='sgd', momentum=0.0\.",
    ),
    Case(
        "passive-aggressive with another loss",
        lambda: GDRegressor(solver="online", learning_rate="pa1").fit(X, Y),
        ValueError,
        r"Learning rate 'pa1' only works with loss 'epsilon_insensitive'\.",
    ),
    Case(
        "passive-aggressive with the proximal L1 step",
        lambda: GDClassifier(
            loss="hinge", solver="online", learning_rate="pa2", penalty="l1"
        ).fit(X, LABELS),
        ValueError,
        r"learning_rate='pa2' with an L1 penalty needs l1_step='cumulative' \(SGD's "
        r"way of applying it to these steps\)\.",
    ),
    Case(
        "elastic net without l1_ratio",
        lambda: GDRegressor(penalty="elasticnet", l1_ratio=None).fit(X, Y),
        ValueError,
        r"l1_ratio must be set when penalty is 'elasticnet'",
    ),
    Case(
        "early stopping in partial_fit",
        lambda: GDRegressor(early_stopping=True).partial_fit(X, Y),
        ValueError,
        r"early_stopping should be False with partial_fit \(it holds out part of "
        r"fit's data; pass validation_data to partial_fit instead\)",
    ),
    Case(
        "SGD's averaging attributes without averaging",
        lambda: GDRegressor().fit(X, Y)._average_coef,
        AttributeError,
        r"GDRegressor keeps SGD's averaging attributes only when fitted with average "
        r"set",
    ),
    Case(
        "overflow without the divergence check",
        lambda: GDRegressor(
            solver="online", eta0=10.0, divergence_check=False, max_iter=50, tol=None
        ).fit(X * 1e300, Y),
        ValueError,
        r"Floating-point under-/overflow occurred at epoch #\d+\. Scaling input data "
        r"with StandardScaler or MinMaxScaler might help\.",
    ),
    Case(
        "probabilities of a margin loss",
        lambda: GDClassifier(loss="hinge", max_iter=2).fit(X, LABELS).predict_proba(X),
        AttributeError,
        r"has no attribute 'predict_proba'",
    ),
    # --- continuing a model -------------------------------------------------------------
    Case(
        "partial_fit with more targets",
        lambda: _partial_fit_then((X, np.c_[Y, Y]), (X, np.c_[Y, Y, Y])),
        ValueError,
        r"partial_fit got 3 target column\(s\) \(targets, or classes "
        r"one-vs-rest\); the model was fitted with 2",
    ),
    Case(
        "partial_fit with 2-D targets after 1-D",
        lambda: _partial_fit_then((X, Y), (X, np.c_[Y, Y])),
        ValueError,
        r"y has 2 dimension\(s\) but the model was fitted with "
        r"1-dimensional coefficients",
    ),
    Case(
        "partial_fit with other features",
        lambda: _partial_fit_then((X, Y), (X[:, :2], Y)),
        ValueError,
        r"X has 2 features, but GDRegressor is expecting 3 features",
    ),
    Case(
        "predict before fit",
        lambda: GDRegressor().predict(X),
        NotFittedError,
        r"This GDRegressor instance is not fitted yet",
    ),
    # --- training -----------------------------------------------------------------------
    Case(
        "divergence",
        lambda: GDRegressor(solver="batch", eta0=1e3, max_iter=5).fit(X, Y),
        ValueError,
        r"Training diverged at epoch 2: the training objective grew to .* "
        r"The learning rate \(last 1e\+03\) is too large for this data\. Try "
        r"eta0='auto', a smaller eta0, or scaling the features \(for example with "
        r"sklearn\.preprocessing\.StandardScaler\); divergence_recovery=N retries "
        r"with the rate halved up to N times\.",
    ),
    Case(
        "divergence with recovery",
        lambda: GDRegressor(
            solver="batch", eta0=1e6, max_iter=5, divergence_recovery=2
        ).fit(X, Y),
        ValueError,
        r"diverged at epoch 1: .* \(Halving the learning rate 2 times did "
        r"not help\.\)",
    ),
    Case(
        "sdca without an L2 part",
        lambda: GDRegressor(solver="sdca", penalty="l1").fit(X, Y),
        ValueError,
        r"solver='sdca' needs an L2 part in the penalty \(penalty='l2', or "
        r"'elasticnet' with l1_ratio < 1, and alpha > 0\); use "
        r"solver='accelerated' or 'saga' for this penalty\.",
    ),
    Case(
        "lbfgs with a kinked loss",
        lambda: GDClassifier(solver="lbfgs", loss="hinge").fit(X, LABELS),
        ValueError,
        r"solver='lbfgs' needs a differentiable loss; loss='hinge' has a kink\. "
        r"Use solver='sdca' \(or 'auto'\) for it\.",
    ),
    Case(
        "lbfgs with an L1 part",
        lambda: GDRegressor(solver="lbfgs", penalty="elasticnet").fit(X, Y),
        ValueError,
        r"solver='lbfgs' needs a differentiable objective; the L1 part of "
        r"penalty='elasticnet' has a kink at zero\. Use solver='accelerated' or "
        r"'saga' \(or 'auto'\) for it\.",
    ),
    Case(
        "sdca for the multinomial log-loss",
        lambda: GDClassifier(solver="sdca").fit(X, np.arange(30) % 3),
        ValueError,
        r"solver='sdca' fits one-vs-rest losses; the multinomial log-loss "
        r"\(loss='log_loss' with more than two classes\) is fitted by "
        r"solver='accelerated' or 'saga'\.",
    ),
    Case(
        "a schedule for the accelerated solver",
        lambda: GDRegressor(solver="accelerated", learning_rate="invscaling").fit(X, Y),
        ValueError,
        r"solver='accelerated' sets its own momentum \(Nesterov's, with restart\) "
        r"and step \(backtracking\), so learning_rate='invscaling' does not apply; "
        r"use solver='batch' \(or 'online', 'minibatch'\) for descent with "
        r"learning_rate='invscaling', or leave it at 'constant'\.",
    ),
    Case(
        "divergence to non-finite values",
        lambda: GDRegressor(solver="online", eta0=1e150, max_iter=5).fit(X, Y),
        ValueError,
        r"Training diverged at epoch 1: the training objective became "
        r"non-finite",
    ),
    Case(
        "negative learning rate",
        _negative_schedule,
        ValueError,
        r"The learning rate schedule returned .*-1\.0.* at update \d+; "
        r"learning rates must be finite and non-negative",
    ),
    Case(
        "schedule without rates",
        lambda: GDRegressor(solver="batch", learning_rate=_NoRates(), max_iter=2).fit(
            X, Y
        ),
        NotImplementedError,
        r"",
    ),
    # --- the exact solution ---------------------------------------------------------------
    Case(
        "closed form of a classifier",
        lambda: closed_form_solution(GDClassifier(), X, LABELS),
        ValueError,
        r"A closed form exists for GDRegressor\(loss='squared_error'\) only; "
        r"compare a classifier with sklearn's LogisticRegression instead",
    ),
    Case(
        "closed form of another loss",
        lambda: closed_form_solution(GDRegressor(loss="huber"), X, Y),
        ValueError,
        r"A closed form exists for GDRegressor\(loss='squared_error'\) only",
    ),
    Case(
        "closed form with L1",
        lambda: closed_form_solution(GDRegressor(penalty="elasticnet"), X, Y),
        ValueError,
        r"An L1 penalty has no closed form; use sklearn's Lasso or ElasticNet",
    ),
    Case(
        "objective gap of a classifier",
        lambda: objective_gap(GDClassifier(max_iter=2).fit(X, LABELS), X, LABELS),
        ValueError,
        r"A closed form exists for GDRegressor",
    ),
    Case(
        "objective of an unfitted model",
        lambda: training_objective(GDRegressor(), X, Y),
        NotFittedError,
        r"This GDRegressor instance is not fitted yet",
    ),
    # --- dask arrays (the skgd[dask] extra) ---------------------------------------------
    Case(
        "dask with early stopping",
        _dask_early_stopping,
        ValueError,
        r"early_stopping=True draws a random validation split of the rows, which skgd "
        r"does not do on dask arrays",
        needs="dask.array",
    ),
    Case(
        "dask with saga",
        _dask_saga,
        ValueError,
        r"solver='saga' keeps every sample's last gradient and walks the rows one by "
        r"one, which skgd does not do on dask arrays; use solver='accelerated'",
        needs="dask.array",
    ),
    Case(
        "dask with lbfgs",
        _dask_lbfgs,
        ValueError,
        r"solver='lbfgs' keeps the predictions X @ coef of every row between its "
        r"steps, which skgd does not do on dask arrays; use solver='accelerated'",
        needs="dask.array",
    ),
    Case(
        "dask with sdca",
        _dask_sdca,
        ValueError,
        r"solver='sdca' keeps every sample's dual variable and walks the rows one by "
        r"one, which skgd does not do on dask arrays; use solver='accelerated'",
        needs="dask.array",
    ),
    Case(
        "dask with the cumulative L1 penalty",
        _dask_cumulative_l1,
        ValueError,
        r"l1_step='cumulative' is not available on dask arrays \(each block's epoch "
        r"would keep its own penalty record\); use l1_step='proximal'",
        needs="dask.array",
    ),
    Case(
        "dask with the passive-aggressive rules",
        _dask_passive_aggressive,
        ValueError,
        r"learning_rate='pa1' \(passive-aggressive\) is not available on dask "
        r"arrays; fit numpy data \(partial_fit on computed chunks\)\.",
        needs="dask.array",
    ),
    Case(
        "dask with unknown chunks",
        _dask_unknown_chunks,
        ValueError,
        r"The dask arrays have unknown chunk sizes; call compute_chunk_sizes\(\)",
        needs="dask.array",
    ),
    Case(
        "dask chunked by column",
        _dask_column_chunks,
        ValueError,
        r"X is chunked along its columns \(3 column blocks\); skgd trains on blocks of "
        r"whole rows\. Rechunk it with X\.rechunk\(\{1: -1\}\)",
        needs="dask.array",
    ),
    Case(
        "dask 1-D X",
        _dask_one_dimensional,
        ValueError,
        r"Expected a 2D array X, got 1 dimension\(s\)",
        needs="dask.array",
    ),
    Case(
        "dask all-zero weights",
        _dask_zero_weights,
        ValueError,
        r"The training samples all have zero sample_weight",
        needs="dask.array",
    ),
    Case(
        "early stopping holds out only zero weights",
        lambda: GDRegressor(
            early_stopping=True, validation_fraction=0.5, random_state=0
        ).fit(np.arange(8.0)[:, None], np.arange(8.0), sample_weight=[1.0] + [0.0] * 7),
        ValueError,
        r"early_stopping held out rows whose sample_weight are all zero",
    ),
    Case(
        "malformed validation_data",
        lambda: GDRegressor().partial_fit(X, Y, validation_data=(X,)),
        ValueError,
        r"validation_data must be a tuple \(X_val, y_val\) or "
        r"\(X_val, y_val, sample_weight_val\); got tuple of length 1",
    ),
    Case(
        "features too large to square",
        lambda: GDRegressor().fit(
            np.array([[1e200, 1.0], [2e200, -1.0], [0.0, 2.0]]), [1.0, 2.0, 3.0]
        ),
        ValueError,
        r"The features are too large to square in floating point",
    ),
    Case(
        "intercept_scaling too large to square",
        lambda: GDRegressor(intercept_scaling=1e200).fit(
            [[1.0], [2.0], [0.0]], [1, 2, 3]
        ),
        ValueError,
        r"too large to square .* the intercept counting as intercept_scaling",
    ),
    # --- python -m skgd -----------------------------------------------------------------
    Case(
        "demo arguments",
        lambda: _demo("--max-iter", "0"),
        SystemExit,
        r"--max-iter must be >= 1, --alpha > 0 and --tol >= 0",
    ),
    Case(
        "demo plot without matplotlib",
        _demo_without_matplotlib,
        SystemExit,
        r"--plot needs matplotlib, which is not installed: pip install matplotlib",
    ),
]


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda case: case.name)
def test_error_message(case):
    if case.needs:
        pytest.importorskip(case.needs)
    with pytest.raises(case.error) as info:
        _quiet(case.trigger)()
    assert re.search(case.message, _full_message(info.value)), _full_message(info.value)


def _full_message(error):
    # available_if and friends put the explanation in the chained cause.
    messages = [str(error)]
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
        messages.append(str(error))
    return " <- ".join(messages)


@functools.cache
def _catalogued_messages():
    messages = []
    for case in CATALOGUE:
        try:
            _quiet(case.trigger)()
        except pytest.skip.Exception:
            continue
        except BaseException as error:  # noqa: BLE001 - SystemExit included
            messages.append(_full_message(error))
    return " || ".join(messages)


# Raises no user can reach, each with the reason.
UNREACHABLE = {
    "Unknown optimizer ": "_parameter_constraints refuse an unknown optimizer first",
    "Training on dask arrays needs dask[array] and distributed; install them with: "
    "pip install skgd[dask]": "needs a dask collection, so dask is installed",
    " leaves an empty training or validation set for ": "train_test_split refuses "
    "an empty split first (see test_early_stopping_on_too_few_samples_names_...)",
    " has no signature for the argument types ": "validation hands the kernels "
    "only arrays of their declared types (the message itself: test_lazy.py)",
}


def _raises_in_source():
    """``(place, longest literal text)`` of every ``raise`` with a message in skgd."""
    found = []
    for path in sorted(pathlib.Path(skgd.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            if not node.exc.args:
                continue  # a bare NotImplementedError() of an abstract hook
            texts = [
                sub.value
                for sub in ast.walk(node.exc.args[0])
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            ]
            if texts:  # DivergenceError(message): its text is built elsewhere
                found.append((f"{path.name}:{node.lineno}", max(texts, key=len)))
    return found


@pytest.mark.filterwarnings("ignore")
def test_every_error_in_the_source_is_catalogued():
    if not all(_importable(case.needs) for case in CATALOGUE if case.needs):
        pytest.skip("the optional dependencies' errors cannot be triggered here")
    messages = _catalogued_messages()
    missing = [
        f"{place}: {text!r}"
        for place, text in _raises_in_source()
        if text not in messages and text not in UNREACHABLE
    ]
    assert not missing, "errors without a catalogue entry:\n" + "\n".join(missing)


def _importable(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# --- messages that do not (yet) say what to do ----------------------------------------


def test_zero_weight_validation_rows_are_explained():
    est = GDRegressor(early_stopping=True, validation_fraction=0.5, random_state=0)
    # Probe the split: a row weighted alone is held out iff training weighs 0.
    held_out = np.zeros(len(Y), dtype=bool)
    for row in range(len(Y)):
        weights = np.zeros(len(Y))
        weights[row] = 1.0
        with pytest.raises(ValueError) as info:
            est.fit(X, Y, sample_weight=weights)
        held_out[row] = "training samples" in str(info.value)
    assert 0 < held_out.sum() < len(Y)
    # Weight every training row and no held-out one: training is well defined,
    # but no validation score can be computed. Say so.
    with pytest.raises(ValueError, match="validation"):
        est.fit(X, Y, sample_weight=(~held_out).astype(float))


def test_schedule_without_rates_is_explained():
    with pytest.raises(NotImplementedError, match="rates"):
        GDRegressor(solver="batch", learning_rate=_NoRates(), max_iter=2).fit(X, Y)


def test_bad_schedule_message_names_the_update():
    schedule = lambda t: 1e-3 if t < 5 else -1.0  # noqa: E731
    with pytest.raises(ValueError) as info:
        GDRegressor(solver="online", learning_rate=schedule, max_iter=2).fit(X, Y)
    assert "returned -1.0 at update 5;" in str(info.value)


@pytest.mark.parametrize("validation_data", ["X only", "four items", "an array"])
def test_malformed_validation_data_is_explained(validation_data):
    value = {"X only": (X,), "four items": (X, Y, None, 1), "an array": X}[
        validation_data
    ]
    with pytest.raises((ValueError, TypeError), match="validation_data"):
        GDRegressor().partial_fit(X, Y, validation_data=value)


def test_early_stopping_on_too_few_samples_names_validation_fraction():
    with pytest.raises(ValueError, match="validation_fraction"):
        GDRegressor(early_stopping=True).fit(X[:1], Y[:1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_perturbation_refuses_a_warmup():
    with pytest.raises(ValueError, match="warmup"):
        GDRegressor(solver="perturbation", warmup=5, max_iter=2).fit(X, Y)
