"""What training leaves on the estimator: ``coef_``, ``n_iter_``, ``history_``...

Called by :class:`skgd._estimators.base.BaseGD` after the training loop
returns (and by a failed call's roll-back).
"""

import math

from ..training.records import Records
from ..training.stopping import CertifiedStopping


def reported_theta(estimator, state):
    """The parameters ``coef_`` shows: the average once averaging started."""
    return state.average_coefficients(int(estimator.average))


def store_training(
    estimator, solver, state, history, n_run, continuing, incremental, best
):
    """Set the fitted attributes after ``n_run`` epochs ending at ``state``."""
    estimator._training_state = state
    estimator.solver_ = solver
    reported = reported_theta(estimator, state)
    if not continuing:
        estimator._best_validation = estimator._partial_fit_stopping = None
    if incremental and best is not None:
        # Streaming with validation data: coef_ is the best epoch so far,
        # never overwritten by a worse one; training goes on from the iterate.
        previous = estimator._best_validation
        if previous is None or best[0] > previous[0]:
            previous = estimator._best_validation = best
        reported = previous[1]
    estimator._last_reported = reported.copy()
    for name, value in estimator._fitted_parameters(reported).items():
        setattr(estimator, name, value)
    estimator.t_ = state.t + 1
    theta_path = history.records.pop("theta", None)
    if theta_path is not None:
        path = [estimator._fitted_parameters(theta) for theta in theta_path]
        history.records["coef"] = [p["coef_"] for p in path]
        history.records["intercept"] = [p["intercept_"] for p in path]
    scored_before = continuing and "val_score" in estimator.history_
    if continuing:
        estimator.n_iter_ += n_run
        estimator.history_ = estimator.history_.extended(history)
    else:
        estimator.n_iter_ = n_run
        estimator.history_ = Records.of(history)
    expose_history(estimator)
    if "val_score" in estimator.history_:
        # The best so far: that of the earlier calls, then this call's
        # scores (NaN while no epoch has one).
        earlier = [estimator.best_validation_score_] if scored_before else []
        scores = [
            score
            for score in [*earlier, *history.records.get("val_score", [])]
            if not math.isnan(score)
        ]
        estimator.best_validation_score_ = float(max(scores, default=math.nan))
    else:  # a fit without validation: no scores of an earlier fit
        for name in ("validation_scores_", "best_validation_score_"):
            estimator.__dict__.pop(name, None)

def expose_history(estimator):
    """``loss_curve_`` and ``validation_scores_``: lists of ``history_``
    (grown in place by later ``partial_fit`` calls)."""
    estimator.loss_curve_ = estimator.history_.as_list("loss")
    if "val_score" in estimator.history_:
        estimator.validation_scores_ = estimator.history_.as_list("val_score")


def store_certificate(estimator, stopping, solver, state):
    """``dual_gap_``: the duality gap at the returned parameters, for a fit
    that stopped on it (absent where the objective has no certificate, and
    for the solvers that stop on SGD's rule)."""
    estimator.__dict__.pop("dual_gap_", None)
    if isinstance(stopping, CertifiedStopping) and stopping.certifying:
        estimator.dual_gap_ = float(stopping.check(state, solver))
