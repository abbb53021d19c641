"""``BaseGD``: what both estimators share, ``fit`` and ``partial_fit`` orchestrated.

The estimators are thin: validate, encode the targets, build the objective
(:mod:`skgd.objective`), the starting state (:mod:`.starting`) and the
solver's settings (:mod:`skgd.solvers`), run the training loop
(:mod:`skgd.training`), store the fitted attributes (:mod:`.fitted`).
Everything that differs between regression and classification is a small
hook a subclass overrides. Parameter rules are :mod:`.params`; data
preparation :mod:`.data`.
"""

import math
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..objective import Objective
from ..objective.penalties import make_penalty
from ..solvers import SOLVERS, SolverSettings, choose_solver
from ..solvers.base import distance_step
from ..steps.optimizers import make_optimizer
from ..steps.schedules import make_schedule
from ..training.callbacks import CallbackSupportMixin, EpochCallbacks
from ..training.loop import train
from ..training.stopping import Stopping, resolve_tol, stopping_rule
from .data import (
    DataScaleWarning,
    held_out,
    is_dask_collection,
    prepare_rows,
    training_weights,
    validate_rows,
    warn_if_badly_scaled,
)
from .fitted import (
    expose_history,
    reported_theta,
    store_certificate,
    store_training,
)
from .params import (
    PARAMETER_CONSTRAINTS,
    check_combinations,
    convergence_advice,
    sgd_steps_solver,
)
from .sgd_compat import SGDAttributesMixin
from .starting import starting_state

__all__ = ["BaseGD", "DataScaleWarning", "store_parameters", "validate_rows"]


def store_parameters(estimator, parameters):
    """Set each of ``__init__``'s ``parameters`` (its ``locals()``) as an
    attribute of the same name, unchanged: the one body both estimators'
    ``__init__`` share."""
    for name, value in parameters.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class BaseGD(SGDAttributesMixin, CallbackSupportMixin, BaseEstimator):
    """Shared machinery of :class:`GDRegressor` and :class:`GDClassifier`."""

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    @property
    def _solver(self):
        """The solver in effect: ``solver``, or what ``'auto'`` chose for the
        data of the fit under way (:func:`skgd.solvers.choose_solver`)."""
        if self.solver != "auto":
            return self.solver
        chosen = getattr(self, "_chosen_solver", "auto")
        return chosen if chosen != "auto" else sgd_steps_solver(self)

    @property
    def _solver_class(self):
        return SOLVERS[self._solver]

    def _choose_solver(self, X, incremental):
        if self._solver != "auto":
            return self._solver
        return choose_solver(
            X, self._make_loss(1), self._penalty(), self._intercept_feature, incremental
        )

    # --- hooks for the subclasses ------------------------------------------

    def _check_parameter_combinations(self, incremental):
        """Raise if the parameters do not go together
        (:func:`~skgd._estimators.params.check_combinations`)."""
        check_combinations(self, self._solver, incremental)

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


    @property
    def _intercept_feature(self):
        """The constant feature whose weight is the intercept's parameter:
        ``intercept_scaling``, or 0 without an intercept. The intercept is
        that weight times this value."""
        return float(self.intercept_scaling) if self.fit_intercept else 0.0

    def _coef_and_intercept(self, theta):
        """``theta``'s coefficients ``(n_outputs, n_features)`` and intercepts."""
        return theta[:, :-1], theta[:, -1] * self._intercept_feature

    def _penalty(self):
        return make_penalty(self.penalty, self.alpha, self.l1_ratio or 0.0)

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

    def _solver_settings(self, optimizer, rng, train_rows):
        """The :class:`~skgd.solvers.SolverSettings` of this estimator's
        parameters (``eta0`` still to be resolved)."""
        return SolverSettings(
            solver=self._solver, eta0=math.nan, rng=rng, train_rows=train_rows,
            batch_size=self.batch_size, optimizer=optimizer,
            schedule=self._schedule(), shuffle=self.shuffle,
            average_start=int(self.average),  # True: from the first update, as SGD
            automatic_eta0=self.eta0 == "auto",
            running_loss=self.epoch_loss == "running",
            cumulative_l1=self.l1_step == "cumulative",
            passive_aggressive={"pa1": 1, "pa2": 2}.get(self.learning_rate, 0),
        )  # fmt: skip

    def _make_solver(
        self, objective, state, optimizer, rng, train_rows, continuing, cls=None
    ):
        """The solver in effect (or ``cls``) over ``objective``, its ``eta0``
        resolved."""
        settings = self._solver_settings(optimizer, rng, train_rows)
        settings.eta0 = self._initial_rate(objective, state, settings, continuing)
        return (cls or self._solver_class)(objective, settings)

    def _initial_rate(self, objective, state, settings, continuing):
        """The resolved ``eta0``: the user's, or the solver's automatic one."""
        if self.eta0 != "auto":
            return float(self.eta0)
        solver_class = self._solver_class
        if continuing and solver_class.resumes_step:
            return self.eta0_
        optimizer = settings.optimizer
        if optimizer.auto_eta0 is not None:
            # The usual fixed rate, but never a first step longer than the
            # distance to the minimiser can be.
            return min(optimizer.auto_eta0, distance_step(objective, state.theta))
        eta0 = solver_class.first_step(objective, settings, state.theta)
        # A later chunk may need a smaller step, never a larger.
        return min(eta0, self.eta0_) if continuing else eta0

    def _starting_state(
        self, incremental, continuing, coef_init, intercept_init, optimizer, shape,
        dtype,
    ):  # fmt: skip
        """:func:`~skgd._estimators.starting.starting_state`, without an
        intercept where there is none."""
        state = starting_state(
            self, incremental, continuing, coef_init, intercept_init, shape, dtype,
            optimizer, self._solver_class.resumes_step,
        )  # fmt: skip
        if not self.fit_intercept:
            state.theta[:, -1] = 0.0
        return state

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
                expose_history(self)
            raise

    def _train_from(
        self, X, y, sample_weight=None, coef_init=None, intercept_init=None,
        incremental=False, classes=None, validation_data=None,
    ):  # fmt: skip
        self._chosen_solver = "auto"  # until the data is seen
        self._check_parameter_combinations(incremental)
        self.densify()  # a sparsified coef_ trains dense, then stays so
        if any(is_dask_collection(data) for data in (X, y, sample_weight)):
            from .dask import fit_dask

            return fit_dask(
                self, X, y, sample_weight, coef_init=coef_init,
                intercept_init=intercept_init, incremental=incremental, classes=classes,
            )  # fmt: skip
        continuing = incremental and hasattr(self, "coef_")
        X, y = self._validate_targets(X, y, reset=not continuing)
        self._chosen_solver = self._choose_solver(X, incremental)
        solver_class = self._solver_class
        X = prepare_rows(X, solver_class.walks_rows, solver_class.canonical_rows)
        if not continuing and not solver_class.scale_free:
            warn_if_badly_scaled(X, self._intercept_feature)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True,
            # early stopping says which side of its split weighs nothing
            allow_all_zero_weights=self.early_stopping and not incremental,
        )  # fmt: skip
        Y = self._encode_targets(y, X.dtype, continuing, classes)
        n_outputs, n_features = Y.shape[1], X.shape[1]

        optimizer = self._optimizer()
        rng = self._rng if continuing else check_random_state(self.random_state)
        self._rng = rng  # partial_fit continues the same stream of shuffles
        validation, train_rows = held_out(
            self, X, y, sample_weight, rng, incremental, validation_data
        )
        W = training_weights(self, y, sample_weight, train_rows, X.dtype)
        objective = Objective(
            X, Y, W, len(train_rows), self._make_loss(n_outputs), self._penalty(),
            self._intercept_feature,
        )  # fmt: skip
        state = self._starting_state(
            incremental, continuing, coef_init, intercept_init, optimizer,
            (n_outputs, n_features + 1), X.dtype,
        )  # fmt: skip
        solver = self._make_solver(
            objective, state, optimizer, rng, train_rows, continuing
        )
        return self._run_training(
            solver, state, X, y, sample_weight, validation, incremental, continuing,
            warning_depth=1,
        )  # fmt: skip


    def _run_training(
        self, solver, state, X, y, sample_weight, validation, incremental,
        continuing, warning_depth,
    ):  # fmt: skip
        """Train from ``state``, then set the fitted attributes; shared by the
        in-memory and the dask paths. ``warning_depth`` counts the frames
        between the caller's ``_train_from`` and this method."""
        n_epochs = 1 if incremental else self.max_iter
        callbacks = EpochCallbacks(
            self, n_epochs if not self.divergence_recovery else None, X, y,
            None if sample_weight is None else {"sample_weight": sample_weight},
            lambda state: self._fitted_parameters(reported_theta(self, state)),
        )  # fmt: skip
        stopping = self._stopping_rule(
            state, incremental, continuing, validation is not None
        )
        n_run, converged, history, best = train(
            solver, state, n_epochs=n_epochs, stopping=stopping,
            validation=validation, verbose=self.verbose, callbacks=callbacks,
            max_halvings=self.divergence_recovery, record_theta=self.record_coef,
            restore_best=self.restore_best and not incremental,
            check_growth=self.divergence_check,
        )  # fmt: skip
        self.eta0_ = solver.eta0
        # The certificate first: a solver may settle its last iterate before
        # it certifies it (lbfgs minimises over the intercept alone), and the
        # fitted attributes must be that iterate.
        store_certificate(self, stopping, solver, state)
        store_training(
            self, self._solver, state, history, n_run, continuing, incremental, best
        )
        callbacks.end_fit()
        if not incremental and not converged and self.tol is not None:
            warnings.warn(
                f"Maximum number of epochs ({self.max_iter}) reached before "
                f"convergence.{stopping.shortfall()} {convergence_advice(self)}",
                ConvergenceWarning,
                # The user's fit call: past this method, the callers down to
                # _train_from, _fit, fit and _fit_context's wrapper.
                stacklevel=5 + warning_depth,
            )
        return self

    def _stopping_rule(self, state, incremental, continuing, validating):
        """The rule that ends ``fit`` early, or the plateau rule of ``partial_fit``."""
        adaptive = self.learning_rate == "adaptive"
        exact = self._solver_class.exact
        if incremental:
            # Streaming never stops, but a validation plateau still divides an
            # adaptive rate; the rule's memory lasts across calls.
            if not (validating and adaptive):
                return None
            rule = getattr(self, "_partial_fit_stopping", None) if continuing else None
            if rule is None:
                tol = resolve_tol(self.tol, exact, progress=True)
                rule = Stopping(tol, self.n_iter_no_change, adaptive=True)
                self._partial_fit_stopping = rule
            return rule
        patience = self.n_iter_no_change
        if self.optimizer == "sgd" and self.momentum > 0:
            # Momentum remembers ~1 / (1 - momentum) gradients and its
            # objective oscillates on that time scale: judge progress over it.
            patience = math.ceil(patience / (1.0 - self.momentum))
        patience = self._solver_class.patience(patience, state.theta.size)
        return stopping_rule(self.tol, exact, validating, adaptive, patience)

    def _validation_score(self, X, y, sample_weight=None):
        """``score(theta)`` on held-out data, validated against the training data."""
        X, y = self._validate_targets(X, y, reset=False)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)

        def score(theta):
            return self._score_theta(theta, X, y, sample_weight)

        return score


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
