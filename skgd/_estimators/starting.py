"""Where training starts: zeros, the user's ``coef_init``, a warm start, or where it stopped.

Called by :class:`skgd._estimators.base.BaseGD` (and the dask path) to
build the :class:`~skgd.training.state.TrainingState` a solver moves.
"""

import numpy as np

from ..training.state import TrainingState


def initial_theta(estimator, coef_init, intercept_init, n_outputs, n_features, dtype):
    """The parameters ``coef_init`` and ``intercept_init`` give (zeros where None)."""
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
        if estimator.fit_intercept:  # stored as the weight of its constant feature
            theta[:, -1] = intercept / estimator._intercept_feature
    if not np.all(np.isfinite(theta)):
        raise ValueError("coef_init and intercept_init must be finite.")
    return theta

def starting_state(
    estimator, incremental, continuing, coef_init, intercept_init, shape, dtype,
    optimizer, resumes_rate,
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
    fitted = hasattr(estimator, "coef_")
    warm = continuing or (
        not incremental and estimator.warm_start == "resume" and fitted
    )
    if (
        not incremental and estimator.warm_start and not warm and fitted
        and np.size(estimator.coef_) == n_outputs * (width - 1)
    ):  # fmt: skip
        coef_init = estimator.coef_ if coef_init is None else coef_init
        if intercept_init is None:
            intercept_init = estimator.intercept_
    previous = getattr(estimator, "_training_state", None) if warm else None
    if previous is not None and previous.theta.shape != shape:
        if continuing:
            raise ValueError(
                f"partial_fit got {n_outputs} target column(s) (targets, or "
                f"classes one-vs-rest); the model was fitted with "
                f"{previous.theta.shape[0]}."
            )
        previous = None  # warm_start on other data starts afresh
    intercept = estimator._intercept_feature
    if previous is None:
        theta = initial_theta(estimator,
            coef_init, intercept_init, n_outputs, width - 1, dtype
        )
        return TrainingState(
            theta, optimizer.init_state(shape, dtype), optimizer_key=optimizer.key,
            intercept=intercept,
        )  # fmt: skip
    same_rule = previous.optimizer_key == optimizer.key
    if previous.intercept != intercept:
        previous = _rescale_intercept(estimator, previous, intercept)
        same_rule = False  # its intercept slots are in the old units
    theta = initial_theta(estimator,
        estimator.coef_, estimator.intercept_, n_outputs, width - 1, dtype
    )
    reported = estimator._fitted_parameters(estimator._last_reported)
    if all(
        np.array_equal(np.asarray(getattr(estimator, name), dtype), value.astype(dtype))
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
        previous.lr_factor if continuing or resumes_rate else 1.0,
        previous.averaged.astype(dtype, copy=True),
        optimizer.key,
        previous.reference,
        intercept,
    )

def _rescale_intercept(estimator, previous, intercept):
    """``previous`` (a copy) for a changed ``intercept_scaling`` or
    ``fit_intercept``: every stored intercept weight (the iterate, the
    average, the last reported and the best validated parameters) is
    rescaled, so that the intercept itself carries over."""
    factor = previous.intercept / intercept if intercept else 0.0
    previous = previous.copy()
    estimator._last_reported = estimator._last_reported.copy()
    thetas = [previous.theta, previous.averaged, estimator._last_reported]
    if getattr(estimator, "_best_validation", None) is not None:
        score, best = estimator._best_validation
        estimator._best_validation = (score, best.copy())
        thetas.append(estimator._best_validation[1])
    for theta in thetas:
        theta[:, -1] *= factor
    previous.intercept = intercept
    return previous
