"""The one training loop: epochs of a solver until a stopping rule says enough.

:func:`train` is called by the estimators (:mod:`skgd._estimators.base`) with
a solver (:mod:`skgd.solvers`), the state it moves (:mod:`skgd.training.state`)
and a stopping rule (:mod:`skgd.training.stopping`). It watches every epoch:
divergence (rolled back, and retried with a halved rate on request),
callbacks, validation scores and the history.
"""

import math

import numpy as np

from ..objective.penalties import squared_norm
from .records import History

# An epoch whose objective exceeds this multiple of the objective at the
# start of training (or at zero coefficients, whichever is larger) has
# diverged: descent methods with a sane step never get there, while a step
# that is too large grows the objective geometrically and passes it within a
# few epochs.
DIVERGENCE_FACTOR = 1e6


class DivergenceError(ValueError):
    """Training diverged: the objective became non-finite or exploded."""


AUTO_ADVICE = "eta0='auto', "


def _divergence_message(epoch, value, reference, rate, automatic=False):
    what = "became non-finite" if not np.isfinite(value) else (
        f"grew to {value:.3g}, over {DIVERGENCE_FACTOR:.0e} times its starting "
        f"value {reference:.3g}"
    )  # fmt: skip
    return (
        f"Training diverged at epoch {epoch}: the training objective {what}. "
        f"The learning rate (last {rate:.3g}) is too large for this data. Try "
        f"{'' if automatic else AUTO_ADVICE}a smaller eta0, or scaling the "
        "features (for example with "
        "sklearn.preprocessing.StandardScaler); divergence_recovery=N retries with "
        "the rate halved up to N times."
    )


def _overflow_message(epoch):
    # scikit-learn SGD's words, for the one divergence it detects.
    return (
        f"Floating-point under-/overflow occurred at epoch #{epoch}. Scaling input "
        "data with StandardScaler or MinMaxScaler might help."
    )


def train(
    trainer, state, *, n_epochs, stopping=None, validation=None, verbose=0,
    callbacks=None, max_halvings=0, record_theta=False, restore_best=True,
    check_growth=True,
):  # fmt: skip
    """Run up to ``n_epochs`` epochs from ``state`` (updated in place).

    Parameters
    ----------
    trainer : Trainer
        The data and the pieces.
    state : TrainingState
        Where training starts; holds where it ended on return. On divergence
        it is rolled back to the last epoch with a finite objective before
        :class:`DivergenceError` is raised.
    n_epochs : int
        The most epochs to run.
    stopping : Stopping, OptimalityStopping or None
        The stopping rule (see :mod:`skgd.training.stopping`); None runs every epoch.
    validation : callable or None
        ``validation(theta) -> score`` (higher is better). Given one, the
        stopping rule watches the score.
    verbose : int
        Print one line per epoch if positive.
    callbacks : EpochCallbacks or None
        scikit-learn callbacks, called around every epoch; one may stop
        training.
    max_halvings : int
        How many diverging epochs may be undone and retried with the
        learning rate halved before :class:`DivergenceError` is raised.
    record_theta : bool
        Also record the parameters after every epoch.
    restore_best : bool
        With ``validation``, end at the parameters of the best epoch, as
        MLPRegressor's early stopping does.
    check_growth : bool
        Treat an objective that is non-finite or grew ``DIVERGENCE_FACTOR``
        times as divergence. Without, as scikit-learn's SGD, only non-finite
        parameters are.

    Returns
    -------
    n_run : int
        Epochs run (retried epochs not counted).
    converged : bool
        True if the stopping rule ended training.
    history : History
        What happened at each epoch.
    best : tuple or None
        ``(score, theta)`` of the best validation epoch, with ``validation``.
    """
    certifying = getattr(stopping, "records_gap", False)
    history = History(
        with_validation=validation is not None, with_theta=record_theta,
        with_gap=certifying,
    )  # fmt: skip
    trainer.start(state)
    zero_value = trainer.value_at_zero(state)
    if stopping is not None:
        stopping.start(trainer, state)
    # The scale divergence is judged against: kept across partial_fit calls
    # and warm starts, so a loss that grows a little per call is still caught.
    if state.reference > 0:
        reference = max(zero_value, state.reference)
    elif np.any(state.theta):  # a user's start: its objective sets the scale
        reference = max(trainer.evaluate(state), zero_value)
    else:  # all-zero parameters: no pass over the data needed
        reference = zero_value
    best = None
    converged, n_run, halvings = False, 0, 0
    try:
        while n_run < n_epochs:
            saved = state.copy()
            if callbacks is not None:
                callbacks.begin_epoch(state)
            rate = trainer.run_epoch(state)
            value = trainer.epoch_value(state, more=n_run + 1 < n_epochs)
            grew = not np.isfinite(value) or (
                reference > 0 and value > DIVERGENCE_FACTOR * reference
            )
            if not np.all(np.isfinite(state.theta)) or (check_growth and grew):
                state.restore(saved)
                trainer.forget()
                message = (
                    _divergence_message(
                        state.epoch + 1, value, reference, rate, trainer.automatic_eta0
                    )
                    if check_growth
                    else _overflow_message(state.epoch + 1)
                )
                if halvings >= max_halvings:
                    if max_halvings:
                        message += f" (Halving the learning rate {halvings} times did not help.)"
                    raise DivergenceError(message)
                # Recovery: undo the epoch, halve the rate, try again.
                halvings += 1
                state.lr_factor /= 2.0
                if verbose:
                    print(
                        f"-- {message.split(':')[0]}; retrying with the learning rate halved"
                    )
                if callbacks is not None:
                    callbacks.end_epoch(state)
                continue
            n_run += 1
            if reference == 0:
                # A loss that is 0 at the start (the perceptron's at zero
                # coefficients) has no scale yet: the first positive epoch sets it.
                # (at least 1: the weights average 1, so a margin loss costs ~1 at
                # zero; rounding noise must not become the scale)
                reference = max(value, 1.0)
            coef_norm = math.sqrt(squared_norm(state.theta[:, :-1]))
            monitored, score = value, None
            if validation is not None:
                score = validation(state.theta)
                monitored = -score
                if best is None or score > best[0]:
                    best = (score, state.theta.copy())
            history.record(
                loss=value, learning_rate=rate, grad_norm=trainer.gradient_norm(state),
                coef_norm=coef_norm, val_score=score, lr_halvings=halvings,
                theta=state.theta.copy() if record_theta else None,
            )  # fmt: skip
            if verbose:
                extra = "" if score is None else f", validation score {score:.6g}"
                print(
                    f"-- Epoch {state.epoch}: objective {value:.6g}{extra}, "
                    f"norm {coef_norm:.4g}, learning rate {rate:.4g}, "
                    f"{history.records['time'][-1]:.3f} s"
                )
            stop_requested = callbacks is not None and callbacks.end_epoch(state)
            stop = stopping is not None and stopping.should_stop(
                monitored, state, trainer
            )
            if certifying:  # the gap the rule computed at this epoch, if any
                history.records["dual_gap"].append(stopping.gap_at(state))
            if stop:
                converged = True
                break
            if stop_requested:
                break
    finally:
        trainer.drop_lookahead()  # one begun for an epoch that will not run
    state.reference = reference
    if best is not None and restore_best:
        state.theta[...] = best[1]
    return n_run, converged, history, best
