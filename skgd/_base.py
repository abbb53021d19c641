"""What both estimators share: parameters, validation, and the fit plumbing.

The estimators are thin: validate, encode the targets, pick the pieces
(loss, penalty, optimizer, schedule), call the training loop, store the
fitted attributes. Everything that differs between regression and
classification is a small hook a subclass overrides.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._callbacks import CallbackSupportMixin, EpochCallbacks
from ._optimizers import OPTIMIZERS, make_optimizer
from ._penalties import make_penalty
from ._sgd_compat import SGDAttributesMixin
from ._solver import (
    DETERMINISTIC_SOLVERS,
    Objective,
    Records,
    TrainingState,
    largest_row_curvature,
    train,
)
from ._stopping import OptimalityStopping, Stopping
from ._threads import all_finite
from ._trainers import trainer_class
from .schedules import make_schedule

SCHEDULES = {
    "constant",
    "invscaling",
    "optimal",
    "adaptive",
    "exponential",
    "step",
    "cosine",
    "pa1",
    "pa2",
}


# Curvature along a feature grows with the square of its scale, and the
# step must suit the steepest direction: scales (root mean squares of the
# non-zero values) more than this factor apart slow gradient descent by its
# square or more.
SCALE_RATIO_WARNING = 100.0


# tol='auto': the optimality residual, relative to its value at zero, at which
# the deterministic solvers stop (a relative objective gap of ~1e-7 to 1e-8
# on standardised breast_cancer, wine, digits, diabetes), and SGD's rule's
# improvement of the objective per epoch (tighter than SGD's 1e-3).
AUTO_OPTIMALITY_TOL = 1e-6
AUTO_PROGRESS_TOL = 1e-4


# The update rule's and the schedule's parameters at their neutral values
# (plain steps of a constant rate, no averaging): a solver with a rule of its
# own refuses any other.
NEUTRAL_RULE = {
    "optimizer": "sgd",
    "momentum": 0.0,
    "nesterov": False,
    "learning_rate": "constant",
    "warmup": 0,
    "average": False,
}

# The solvers with an update rule of their own, and what it is.
OWN_UPDATE_RULES = {
    "accelerated": "sets its own momentum (Nesterov's, with restart) and step "
    "(backtracking)",
    "saga": "steps by variance-reduced gradients at a constant step",
    "auto": "picks 'accelerated' or 'saga', which set their own steps",
}

# solver='auto' takes SAGA for sparse data with at least this many samples
# per unit of its condition number L_max / alpha: there SAGA converges in a
# few epochs (measured: 13 epochs, 2.2 s, where the accelerated solver needed
# 50 s on 1e5 x 2e4 tf-idf-like rows), while on dense rows an epoch of
# per-sample steps costs about two accelerated iterations and wins nothing
# (1e6 x 50: 7.8 s against 7.0 s).
AUTO_SAGA_SAMPLES_PER_CONDITION = 1.0


class DataScaleWarning(UserWarning):
    """The features' scales differ enough to slow gradient descent badly."""


def _warn_if_badly_scaled(X, intercept):
    """Warn, suggesting StandardScaler, when feature scales span > 100x.

    The intercept's constant column counts as a feature of scale
    ``intercept`` (``intercept_scaling``; none if 0). A feature's scale is
    the root mean square of its non-zero values over at most 1000 evenly
    spaced rows (so the check costs nothing next to an epoch): its size when
    present, so that a rare word of a tf-idf matrix, or a one-hot column,
    is not mistaken for a tiny feature that scaling would fix.
    """
    step = max(1, X.shape[0] // 1000)
    rows = X[::step]
    if sp.issparse(rows):
        rows = sp.csr_matrix(rows)
        sum_squares = np.asarray(rows.multiply(rows).sum(axis=0)).ravel()
        present = np.bincount(rows.indices[rows.data != 0], minlength=X.shape[1])
    else:
        with np.errstate(over="ignore"):  # inf scales still warn, and fit explains
            sum_squares = np.sum(np.square(rows, dtype=np.float64), axis=0)
        present = np.count_nonzero(rows, axis=0)
    seen = present > 0
    features = np.sqrt(sum_squares[seen] / present[seen])
    features = features[features > 0]  # squares that underflowed
    scales = np.append(features, intercept) if intercept else features
    if scales.size < 2:
        return
    largest, smallest = scales.max(), scales.min()
    if largest > SCALE_RATIO_WARNING * smallest:
        advice = "sklearn.preprocessing.StandardScaler in a Pipeline"
        if features.size and features.max() <= SCALE_RATIO_WARNING * features.min():
            # Only the intercept is off: it can move to the features' scale.
            typical = float(np.exp(np.mean(np.log(features))))
            advice += f", or intercept_scaling={typical:.3g} (the features' scale)"
        warnings.warn(
            f"The features' scales span a factor of {largest / smallest:.3g} "
            f"(from {smallest:.3g} to {largest:.3g}"
            f"{f', the intercept counting as {intercept:g}' if intercept else ''}): "
            f"gradient descent converges slowly on badly scaled data. Consider "
            f"{advice}.",
            DataScaleWarning,
            stacklevel=6,  # the user's fit call
        )


def validate_rows(estimator, X, y="no_validation", **check_params):
    """scikit-learn's ``validate_data``, with the test that every entry of
    ``X`` is finite summed in threads (:func:`~skgd._threads.all_finite`);
    only data that fails it meets scikit-learn's own check, which names
    the problem."""
    validated = validate_data(estimator, X, y, ensure_all_finite=False, **check_params)
    X = validated[0] if isinstance(validated, tuple) else validated
    values = X.data if sp.issparse(X) else X
    if not get_config()["assume_finite"] and not all_finite(values):
        assert_all_finite(
            values, estimator_name=type(estimator).__name__, input_name="X"
        )
    return validated


def _is_dask_collection(data):
    # Checked by type, so that dask stays an optional import.
    return type(data).__module__.split(".")[0] == "dask"


class BaseGD(SGDAttributesMixin, CallbackSupportMixin, BaseEstimator):
    """Shared machinery of :class:`GDRegressor` and :class:`GDClassifier`."""

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "l1_step": [StrOptions({"proximal", "cumulative"})],
        "fit_intercept": ["boolean"],
        "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
        "solver": [
            StrOptions(
                {
                    "auto",
                    "accelerated",
                    "batch",
                    "saga",
                    "online",
                    "minibatch",
                    "perturbation",
                }
            )
        ],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [StrOptions(SCHEDULES), HasMethods(["rates"]), callable],
        "eta0": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "step_size": [Interval(Integral, 1, None, closed="left")],
        "warmup": [Interval(Integral, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"}), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "restore_best": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean", StrOptions({"blocks"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean", StrOptions({"resume"})],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
        "divergence_recovery": [Interval(Integral, 0, None, closed="left")],
        "divergence_check": ["boolean"],
        "record_coef": ["boolean"],
        "epoch_loss": [StrOptions({"exact", "running"})],
        "verbose": ["verbose"],
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }

    @property
    def _solver(self):
        """The solver in effect: ``solver``, or what ``'auto'`` chose for the
        data of the fit under way (:meth:`_choose_solver`)."""
        if self.solver != "auto":
            return self.solver
        return getattr(self, "_chosen_solver", "auto")

    def _choose_solver(self, X, incremental):
        """What ``solver='auto'`` means for ``X``: ``'saga'`` for sparse data
        whose samples outnumber SAGA's condition number (the largest row's
        curvature over the L2 strength), ``'accelerated'`` otherwise (and for
        ``partial_fit``, and data on a dask cluster)."""
        if self.solver != "auto":
            return self.solver
        l2 = make_penalty(self.penalty, self.alpha, self.l1_ratio or 0.0).l2
        if incremental or X is None or not sp.issparse(X) or l2 <= 0:
            return "accelerated"
        unit = np.ones((X.shape[0], 1))
        rows = largest_row_curvature(X, unit, self._intercept_feature)
        condition = self._make_loss(1).curvature * rows / l2
        enough = X.shape[0] >= AUTO_SAGA_SAMPLES_PER_CONDITION * condition
        return "saga" if enough else "accelerated"

    @property
    def _intercept_feature(self):
        """The constant feature whose weight is the intercept's parameter:
        ``intercept_scaling``, or 0 without an intercept. The intercept is
        that weight times this value."""
        return float(self.intercept_scaling) if self.fit_intercept else 0.0

    def _coef_and_intercept(self, theta):
        """``theta``'s coefficients ``(n_outputs, n_features)`` and intercepts."""
        return theta[:, :-1], theta[:, -1] * self._intercept_feature

    # --- hooks for the subclasses ------------------------------------------

    def _validate_targets(self, X, y, reset):
        """Validate ``X`` and ``y`` together; returns both."""
        raise NotImplementedError

    def _encode_targets(self, y, dtype, incremental, classes=None):
        """The targets as a C-contiguous ``(n_samples, n_outputs)`` float array."""
        raise NotImplementedError

    def _make_loss(self, n_outputs):
        raise NotImplementedError

    def _weight_matrix(self, y, sample_weight):
        """Per-sample (or per-sample-and-output) weights, before normalisation."""
        return sample_weight[:, np.newaxis]

    def _sample_weights(self, y, sample_weight):
        """Each sample's weight (a classifier's times its class's), whose mean
        over the training rows normalises :meth:`_weight_matrix`."""
        return sample_weight

    def _validation_split(self, y, rng):
        """Indices of the training and validation rows for early stopping."""
        raise NotImplementedError

    def _score_theta(self, theta, X, y, sample_weight):
        """The validation score of parameters ``theta``."""
        raise NotImplementedError

    def _fitted_parameters(self, theta):
        """``coef_`` and ``intercept_`` of parameters ``theta``, as a dict."""
        raise NotImplementedError

    def _initial_theta(self, coef_init, intercept_init, n_outputs, n_features, dtype):
        theta = np.zeros((n_outputs, n_features + 1), dtype=dtype)
        if coef_init is not None:
            coef = np.asarray(coef_init, dtype=dtype)
            if coef.size != n_outputs * n_features:
                raise ValueError(
                    f"Provided coef_init does not match dataset: coef_init has shape "
                    f"{coef.shape}; expected "
                    f"{(n_outputs, n_features) if n_outputs > 1 else (n_features,)}."
                )
            theta[:, :-1] = coef.reshape(n_outputs, n_features)
        if intercept_init is not None:
            intercept = np.asarray(intercept_init, dtype=dtype).reshape(-1)
            if intercept.size != n_outputs:
                raise ValueError(
                    "Provided intercept_init does not match dataset: intercept_init "
                    f"has {intercept.size} values; expected {n_outputs}."
                )
            if self.fit_intercept:  # stored as the weight of its constant feature
                theta[:, -1] = intercept / self._intercept_feature
        if not np.all(np.isfinite(theta)):
            raise ValueError("coef_init and intercept_init must be finite.")
        return theta

    # --- validation of parameter combinations (the one place) ---------------

    def _overridden_rule(self, names):
        """The first of ``names`` (update-rule and schedule parameters) set
        away from its neutral value, as ``(name, value, neutral)``, or None."""
        for name in names:
            value, neutral = getattr(self, name), NEUTRAL_RULE[name]
            if value != neutral:
                return name, value, neutral
        return None

    def _check_parameter_combinations(self, incremental):
        # SGD's own checks, with SGD's messages.
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        if self.early_stopping and incremental:
            raise ValueError(
                "early_stopping should be False with partial_fit (it holds out "
                "part of fit's data; pass validation_data to partial_fit instead)."
            )
        if self.power_t < 0:
            warnings.warn(
                "Negative values for `power_t` are deprecated, as in scikit-learn "
                "1.8, and will raise an error in a future release (a rate that "
                "grows with the update count). Use values in the range [0.0, inf).",
                FutureWarning,
                stacklevel=5,
            )
        plain_online = (
            self._solver == "online" and self.optimizer == "sgd" and self.momentum == 0
        )
        passive_aggressive = self.learning_rate in ("pa1", "pa2")
        for name, value, used in (
            ("l1_step", "cumulative", self.l1_step == "cumulative"),
            ("learning_rate", self.learning_rate, passive_aggressive),
        ):
            if used and not plain_online:
                raise ValueError(
                    f"{name}={value!r} is SGD's rule for its own online steps: it "
                    "needs solver='online', optimizer='sgd' and momentum=0; got "
                    f"solver={self._solver!r}, optimizer={self.optimizer!r}, "
                    f"momentum={self.momentum!r}."
                )
        if passive_aggressive and self.loss != self._passive_aggressive_loss:
            # SGD's message
            raise ValueError(
                f"Learning rate '{self.learning_rate}' only works with loss "
                f"'{self._passive_aggressive_loss}'."
            )
        if (
            passive_aggressive and self.l1_step != "cumulative"
            and make_penalty(self.penalty, self.alpha, self.l1_ratio or 0.0).l1 > 0
        ):  # fmt: skip
            raise ValueError(
                f"learning_rate={self.learning_rate!r} with an L1 penalty needs "
                "l1_step='cumulative' (SGD's way of applying it to these steps)."
            )
        if self._solver == "perturbation":
            # Averaging the accepted trials is allowed.
            overridden = self._overridden_rule(
                [name for name in NEUTRAL_RULE if name != "average"]
            )
            if overridden is not None:
                name, value, neutral = overridden
                raise ValueError(
                    f"solver='perturbation' uses no gradient, so {name}={value!r} "
                    f"does not apply; leave it at {neutral!r} (eta0 sets the "
                    "initial trial step, which then adapts by the 1/5 rule)."
                )
        if self._solver in OWN_UPDATE_RULES:
            overridden = self._overridden_rule(NEUTRAL_RULE)
            if overridden is not None:
                name, value, neutral = overridden
                raise ValueError(
                    f"solver={self._solver!r} {OWN_UPDATE_RULES[self._solver]}, so "
                    f"{name}={value!r} does not apply; use solver='batch' (or "
                    f"'online', 'minibatch') for descent with {name}={value!r}, "
                    f"or leave it at {neutral!r}."
                )
        if self._solver != "batch" and self.optimizer == "rprop":
            raise ValueError(
                "optimizer='rprop' steps by the sign of the exact gradient and needs "
                f"solver='batch'; got solver={self._solver!r}."
            )
        if self.momentum > 0 and self.optimizer != "sgd":
            raise ValueError(
                "momentum applies to optimizer='sgd' only; "
                f"optimizer={self.optimizer!r} keeps its own moments (set momentum=0)."
            )
        if self.learning_rate == "optimal" and (
            self.alpha == 0 or self.penalty is None
        ):
            raise ValueError(
                "learning_rate='optimal' is 1 / (alpha * (t0 + t)) and needs a penalty "
                "with alpha > 0."
            )

    # --- the pieces ---------------------------------------------------------

    def _schedule(self):
        return make_schedule(
            self.learning_rate, alpha=self.alpha, power_t=self.power_t,
            gamma=self.gamma, step_size=self.step_size, max_iter=self.max_iter,
            warmup=self.warmup,
        )  # fmt: skip

    def _optimizer(self):
        return make_optimizer(
            self.optimizer, momentum=self.momentum, nesterov=self.nesterov,
            beta_1=self.beta_1, beta_2=self.beta_2, rho=self.rho,
        )  # fmt: skip

    def _automatic_trial_step(self, objective, theta):
        """The perturbation solver's first step: ``sqrt(2 f0 / L)`` per coordinate.

        ``sqrt(2 (f0 - f*) / L)`` bounds how far the minimiser can be from a
        start whose objective is ``f0`` for a loss of curvature ``L``; spread
        over the parameters, it is the scale of a useful first trial.
        """
        lipschitz = objective.loss.curvature * objective.curvature()
        lipschitz += objective.penalty.l2
        start_value = objective.evaluate(theta, gradient=False)[0]
        if lipschitz <= 0 or not start_value > 0:
            return 1.0
        return float(np.sqrt(2.0 * start_value / lipschitz / theta.size))

    def _automatic_eta0(self, objective):
        """``1 / L``: L bounds the curvature of what one update descends.

        The full objective's for the batch solver (largest eigenvalue of the
        weighted Gram matrix: exact for few features, Lanczos beyond); one
        sample's for online (the largest weighted squared row norm, as
        scikit-learn's SAG solver); for mini-batches of ``b`` of ``n`` samples
        drawn without replacement, the expected smoothness
        ``(n (b-1) L_full + (n-b) L_row) / (b (n-1))`` of Gower et al. (2019),
        which moves from the online step at ``b=1`` to the batch step at
        ``b=n``. ``objective`` computes the curvatures where the data lies
        (in memory, or on a dask cluster).
        """
        n = objective.n_train
        b = min({"online": 1, "minibatch": self.batch_size}.get(self._solver, n), n)
        if self._solver == "saga":
            # Defazio et al.'s step 1 / (2 L + min(2 n mu, L)) for the largest
            # sample curvature L and the strong convexity mu of the L2 part
            # (as scikit-learn's SAGA).
            row = objective.loss.curvature * objective.row_curvature()
            row += objective.penalty.l2
            if row <= 0:
                return 1.0
            return 1.0 / (2.0 * row + min(2.0 * n * objective.penalty.l2, row))
        if self._solver == "accelerated":
            # Only a first step: backtracking finds the curvature. The trace
            # bounds the full one (by at most n_features + 1 times) and costs
            # a pass without the Gram matrix or Lanczos.
            curvature = objective.trace_curvature()
        elif b == n:
            curvature = objective.curvature()
        elif b == 1:
            curvature = objective.row_curvature()
        else:
            full, row = objective.curvature(), objective.row_curvature()
            curvature = (n * (b - 1) * full + (n - b) * row) / (b * (n - 1))
        lipschitz = objective.loss.curvature * curvature + objective.penalty.l2
        if lipschitz <= 0:  # all-zero data: any step is safe
            return 1.0
        step = 1.0 / lipschitz
        if self._solver != "batch" and self.optimizer == "sgd":
            # Heavy-ball momentum multiplies the steady-state step, and with it
            # the gradient noise, by 1 / (1 - momentum): keep their product safe.
            step *= 1.0 - self.momentum
        return step

    def _average_start(self):
        # average=True starts at the first update, as in scikit-learn's SGD.
        return int(self.average)

    # --- fitting --------------------------------------------------------------

    def _starting_state(
        self, incremental, continuing, coef_init, intercept_init, shape, dtype,
        optimizer,
    ):  # fmt: skip
        """Where training starts: zeros or the user's init, or where it stopped.

        ``warm_start=True`` starts ``fit`` from the previous ``coef_`` and
        ``intercept_`` as if given as ``coef_init`` and ``intercept_init``
        (SGD's meaning: the schedule and the update rule start afresh).
        Resuming (``partial_fit``, ``warm_start='resume'``) keeps the
        parameters, the update count and the optimizer's state, unless the
        optimizer was changed since (its state would mean something else) or,
        for ``warm_start``, the data has another shape.
        """
        n_outputs, width = shape
        fitted = hasattr(self, "coef_")
        warm = continuing or (
            not incremental and self.warm_start == "resume" and fitted
        )
        if (
            not incremental and self.warm_start and not warm and fitted
            and np.size(self.coef_) == n_outputs * (width - 1)
        ):  # fmt: skip
            coef_init = self.coef_ if coef_init is None else coef_init
            if intercept_init is None:
                intercept_init = self.intercept_
        previous = getattr(self, "_training_state", None) if warm else None
        if previous is not None and previous.theta.shape != shape:
            if continuing:
                raise ValueError(
                    f"partial_fit got {n_outputs} target column(s) (targets, or "
                    f"classes one-vs-rest); the model was fitted with "
                    f"{previous.theta.shape[0]}."
                )
            previous = None  # warm_start on other data starts afresh
        intercept = self._intercept_feature
        if previous is None:
            theta = self._initial_theta(
                coef_init, intercept_init, n_outputs, width - 1, dtype
            )
            return TrainingState(
                theta, optimizer.init_state(shape, dtype), optimizer_key=optimizer.key,
                intercept=intercept,
            )  # fmt: skip
        same_rule = previous.optimizer_key == optimizer.key
        if previous.intercept != intercept:
            previous = self._rescale_intercept(previous, intercept)
            same_rule = False  # its intercept slots are in the old units
        theta = self._initial_theta(
            self.coef_, self.intercept_, n_outputs, width - 1, dtype
        )
        reported = self._fitted_parameters(self._last_reported)
        if all(
            np.array_equal(np.asarray(getattr(self, name), dtype), value.astype(dtype))
            for name, value in reported.items()
        ):
            # coef_ is what training reported (the average, or the best
            # validation epoch): resume from the optimizer's own iterate. A
            # coef_ set by the user since is respected.
            theta = previous.theta.astype(dtype, copy=True)
        return TrainingState(
            theta,
            previous.optimizer_state.astype(dtype, copy=True)
            if same_rule
            else optimizer.init_state(shape, dtype),
            previous.t,
            previous.epoch,
            previous.lr_factor if continuing or self._solver == "perturbation" else 1.0,
            previous.averaged.astype(dtype, copy=True),
            optimizer.key,
            previous.reference,
            intercept,
        )

    def _rescale_intercept(self, previous, intercept):
        """``previous`` (a copy) for a changed ``intercept_scaling`` or
        ``fit_intercept``: every stored intercept weight (the iterate, the
        average, the last reported and the best validated parameters) is
        rescaled, so that the intercept itself carries over."""
        factor = previous.intercept / intercept if intercept else 0.0
        previous = previous.copy()
        self._last_reported = self._last_reported.copy()
        thetas = [previous.theta, previous.averaged, self._last_reported]
        if getattr(self, "_best_validation", None) is not None:
            score, best = self._best_validation
            self._best_validation = (score, best.copy())
            thetas.append(self._best_validation[1])
        for theta in thetas:
            theta[:, -1] *= factor
        previous.intercept = intercept
        return previous

    def _prepare_X(self, X):
        # The stochastic and SAGA kernels walk rows: C order, or CSR. The
        # full-batch solvers only evaluate the objective, which takes any
        # layout without a copy.
        if self._solver in ("batch", "accelerated"):
            return X
        if sp.issparse(X):
            X = X.tocsr()
            # SAGA catches a feature up once per row: a row must name it once.
            canonical = self._solver != "saga" or X.has_canonical_format
            if not X.data.flags.writeable or not canonical:
                X = X.copy()
                X.sum_duplicates()
            return X
        return np.ascontiguousarray(X)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coef_")

    def _fit(self, *args, **kwargs):
        """:meth:`_train_from` that leaves the estimator as it was if it fails.

        A fit that raises (divergence, bad data found late) must not leave a
        half-updated model: new ``classes_`` with old ``coef_`` would predict
        the wrong labels silently.
        """
        before = dict(self.__dict__)
        try:
            return self._train_from(*args, **kwargs)
        except BaseException:
            # The callback API's own bookkeeping is torn down by its context
            # manager after this returns; leave it in place.
            callbacks = {k: v for k, v in self.__dict__.items() if "callback" in k}
            self.__dict__.clear()
            self.__dict__.update(before)
            self.__dict__.update(callbacks)
            if "history_" in before:  # lists the failed call may have grown
                self._expose_history()
            raise

    def _train_from(
        self, X, y, sample_weight=None, coef_init=None, intercept_init=None,
        incremental=False, classes=None, validation_data=None,
    ):  # fmt: skip
        self._chosen_solver = "auto"  # until the data is seen
        self._check_parameter_combinations(incremental)
        self.densify()  # a sparsified coef_ trains dense, then stays so
        if any(_is_dask_collection(data) for data in (X, y, sample_weight)):
            from ._dask import fit_dask

            return fit_dask(
                self, X, y, sample_weight, coef_init=coef_init,
                intercept_init=intercept_init, incremental=incremental, classes=classes,
            )  # fmt: skip
        continuing = incremental and hasattr(self, "coef_")
        X, y = self._validate_targets(X, y, reset=not continuing)
        self._chosen_solver = self._choose_solver(X, incremental)
        X = self._prepare_X(X)
        if not continuing:
            _warn_if_badly_scaled(X, self._intercept_feature)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True,
            # early stopping says which side of its split weighs nothing
            allow_all_zero_weights=self.early_stopping and not incremental,
        )  # fmt: skip
        Y = self._encode_targets(y, X.dtype, continuing, classes)
        n_outputs, n_features = Y.shape[1], X.shape[1]

        rng = self._rng if continuing else check_random_state(self.random_state)
        self._rng = rng  # partial_fit continues the same stream of shuffles
        validation, train_rows = None, np.arange(X.shape[0])
        if self.early_stopping and not incremental:
            train_rows, val_rows = self._validation_split(y, rng)
            if sample_weight[val_rows].sum() <= 0:
                raise ValueError(
                    "The sample weights for validation set are all zero, consider "
                    "using a different random state (early_stopping held out rows "
                    "whose sample_weight are all zero, so the validation score is "
                    "undefined; give them weight, or change validation_fraction)."
                )
            validation = self._validation_score(
                X[val_rows], y[val_rows], sample_weight[val_rows]
            )
        elif validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(
                validation_data
            ) not in (2, 3):
                raise ValueError(
                    "validation_data must be a tuple (X_val, y_val) or "
                    f"(X_val, y_val, sample_weight_val); got {type(validation_data).__name__}"
                    f"{' of length ' + str(len(validation_data)) if hasattr(validation_data, '__len__') else ''}."
                )
            validation = self._validation_score(*validation_data)

        W = self._training_weights(y, sample_weight, train_rows, X.dtype)
        loss = self._make_loss(n_outputs)
        penalty = make_penalty(self.penalty, self.alpha, self.l1_ratio)
        optimizer = self._optimizer()
        objective = Objective(
            X, Y, W, len(train_rows), loss, penalty, self._intercept_feature
        )
        state = self._starting_state(
            incremental, continuing, coef_init, intercept_init, (n_outputs, n_features + 1),
            X.dtype, optimizer,
        )  # fmt: skip
        if not self.fit_intercept:
            state.theta[:, -1] = 0.0
        eta0 = self._initial_rate(objective, state, optimizer, continuing)
        trainer = self._make_trainer(objective, optimizer, eta0, rng, train_rows)

        return self._run_training(
            trainer, state, X, y, sample_weight, validation, incremental, continuing,
            warning_depth=1,
        )  # fmt: skip

    def _make_trainer(self, objective, optimizer, eta0, rng, train_rows, cls=None):
        """The trainer of ``self._solver`` (or ``cls``) over ``objective``."""
        return (cls or trainer_class(self._solver))(
            objective, self._solver, self.batch_size, optimizer, self._schedule(),
            eta0, self.shuffle, rng, train_rows, self._average_start(),
            self.eta0 == "auto", self.epoch_loss == "running",
            self.l1_step == "cumulative",
            {"pa1": 1, "pa2": 2}.get(self.learning_rate, 0),
        )  # fmt: skip

    def _run_training(
        self, trainer, state, X, y, sample_weight, validation, incremental,
        continuing, warning_depth,
    ):  # fmt: skip
        """Train from ``state``, then set the fitted attributes; shared by the
        in-memory and the dask paths. ``warning_depth`` counts the frames
        between the caller's ``_train_from`` and this method."""
        n_epochs = 1 if incremental else self.max_iter
        callbacks = EpochCallbacks(
            self, n_epochs if not self.divergence_recovery else None, X, y,
            None if sample_weight is None else {"sample_weight": sample_weight},
            lambda state: self._fitted_parameters(self._reported_theta(state)),
        )  # fmt: skip
        stopping = self._stopping_rule(
            state, incremental, continuing, validation is not None
        )
        n_run, converged, history, best = train(
            trainer, state, n_epochs=n_epochs, stopping=stopping,
            validation=validation, verbose=self.verbose, callbacks=callbacks,
            max_halvings=self.divergence_recovery, record_theta=self.record_coef,
            restore_best=self.restore_best and not incremental,
            check_growth=self.divergence_check,
        )  # fmt: skip
        self.eta0_ = trainer.eta0
        self._store_training(state, history, n_run, continuing, incremental, best)
        callbacks.end_fit()
        if not incremental and not converged and self.tol is not None:
            warnings.warn(
                f"Maximum number of epochs ({self.max_iter}) reached before "
                f"convergence.{stopping.shortfall()} Consider increasing max_iter or "
                "tol, or scaling the data.",
                ConvergenceWarning,
                # The user's fit call: past this method, the callers down to
                # _train_from, _fit, fit and _fit_context's wrapper.
                stacklevel=5 + warning_depth,
            )
        return self

    def _validation_score(self, X, y, sample_weight=None):
        """``score(theta)`` on held-out data, validated against the training data."""
        X, y = self._validate_targets(X, y, reset=False)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)

        def score(theta):
            return self._score_theta(theta, X, y, sample_weight)

        return score

    def _training_weights(self, y, sample_weight, train_rows, dtype):
        """Frequency weights: each update's loss term is scaled by ``s_i / mean(s)``
        (``s_i`` the sample weight, times its class's weight for a classifier).

        Rows held out for validation get weight 0.
        """
        raw = self._weight_matrix(y, sample_weight).astype(dtype)
        train_weight = self._sample_weights(y, sample_weight)[train_rows]
        if train_weight.sum() <= 0:
            raise ValueError(
                "The training samples all have zero sample_weight; at least one must "
                "be positive."
            )
        W = np.zeros_like(raw)
        W[train_rows] = raw[train_rows] / train_weight.mean()
        return np.ascontiguousarray(W)

    def _initial_rate(self, objective, state, optimizer, continuing):
        """The resolved ``eta0``."""
        if self.eta0 != "auto":
            return float(self.eta0)
        if self._solver == "perturbation":
            if continuing:  # the trial step keeps adapting from where it was
                return self.eta0_
            return self._automatic_trial_step(objective, state.theta)
        if optimizer.auto_eta0 is not None:
            # The usual fixed rate, but never a first step longer than the
            # distance to the minimiser can be (see _automatic_trial_step).
            return min(
                optimizer.auto_eta0,
                self._automatic_trial_step(objective, state.theta),
            )
        eta0 = self._automatic_eta0(objective)
        if continuing:  # a later chunk may need a smaller step, never a larger
            eta0 = min(eta0, self.eta0_)
        return eta0

    def _tol(self):
        """The resolved ``tol``: 'auto' is a relative optimality residual of
        AUTO_OPTIMALITY_TOL for the rules that measure optimality, and
        AUTO_PROGRESS_TOL of objective (or score) for SGD's progress rule."""
        if self.tol != "auto":
            return self.tol
        deterministic = self._solver in DETERMINISTIC_SOLVERS
        progress = self.early_stopping or self.learning_rate == "adaptive"
        return (
            AUTO_OPTIMALITY_TOL if deterministic and not progress else AUTO_PROGRESS_TOL
        )

    def _stopping_rule(self, state, incremental, continuing, validating):
        """The rule that ends ``fit`` early, or the plateau rule of ``partial_fit``."""
        adaptive = self.learning_rate == "adaptive"
        if incremental:
            # Streaming never stops, but a validation plateau still divides an
            # adaptive rate; the rule's memory lasts across calls.
            if not (validating and adaptive):
                return None
            rule = getattr(self, "_partial_fit_stopping", None) if continuing else None
            if rule is None:
                rule = self._partial_fit_stopping = Stopping(
                    self._tol(), self.n_iter_no_change, adaptive=True
                )
            return rule
        tol = self._tol()
        if self._solver in DETERMINISTIC_SOLVERS and not (validating or adaptive):
            return OptimalityStopping(tol)
        patience = self.n_iter_no_change
        if self.optimizer == "sgd" and self.momentum > 0:
            # Momentum remembers ~1 / (1 - momentum) gradients and its
            # objective oscillates on that time scale: judge progress over it.
            patience = math.ceil(patience / (1.0 - self.momentum))
        if self._solver == "perturbation":
            # One random trial improves one direction in expectation: give
            # every parameter its n_iter_no_change chances.
            patience *= state.theta.size
        return Stopping(tol, patience, adaptive)

    def _reported_theta(self, state):
        """The parameters ``coef_`` shows: the average once averaging started."""
        return state.average_coefficients(self._average_start())

    def _store_training(self, state, history, n_run, continuing, incremental, best):
        """Set the fitted attributes after ``n_run`` epochs ending at ``state``."""
        self._training_state = state
        self.solver_ = self._solver
        reported = self._reported_theta(state)
        if not continuing:
            self._best_validation = self._partial_fit_stopping = None
        if incremental and best is not None:
            # Streaming with validation data: coef_ is the best epoch so far,
            # never overwritten by a worse one; training goes on from the iterate.
            previous = self._best_validation
            if previous is None or best[0] > previous[0]:
                previous = self._best_validation = best
            reported = previous[1]
        self._last_reported = reported.copy()
        for name, value in self._fitted_parameters(reported).items():
            setattr(self, name, value)
        self.t_ = state.t + 1
        theta_path = history.records.pop("theta", None)
        if theta_path is not None:
            path = [self._fitted_parameters(theta) for theta in theta_path]
            history.records["coef"] = [p["coef_"] for p in path]
            history.records["intercept"] = [p["intercept_"] for p in path]
        scored_before = continuing and "val_score" in self.history_
        if continuing:
            self.n_iter_ += n_run
            self.history_ = self.history_.extended(history)
        else:
            self.n_iter_ = n_run
            self.history_ = Records.of(history)
        self._expose_history()
        if "val_score" in self.history_:
            # The best so far: that of the earlier calls, then this call's
            # scores (NaN while no epoch has one).
            earlier = [self.best_validation_score_] if scored_before else []
            scores = [
                score
                for score in [*earlier, *history.records.get("val_score", [])]
                if not math.isnan(score)
            ]
            self.best_validation_score_ = float(max(scores, default=math.nan))
        else:  # a fit without validation: no scores of an earlier fit
            for name in ("validation_scores_", "best_validation_score_"):
                self.__dict__.pop(name, None)

    def _expose_history(self):
        """``loss_curve_`` and ``validation_scores_``: lists of ``history_``
        (grown in place by later ``partial_fit`` calls)."""
        self.loss_curve_ = self.history_.as_list("loss")
        if "val_score" in self.history_:
            self.validation_scores_ = self.history_.as_list("val_score")

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_rows(
            self, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32],
            reset=False,
        )  # fmt: skip
        # coef_ may be sparse after sparsify().
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
