"""The estimators' parameters: their constraints, and the rules on their combinations.

Each parameter's type and range is checked by scikit-learn's
``_parameter_constraints`` (:data:`PARAMETER_CONSTRAINTS`); whether they go
together is :func:`check_combinations`, the one place that says so, with a
message that names the conflict and what to do. Called by
:meth:`skgd._estimators.base.BaseGD._train_from`.
"""

import warnings
from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..objective.penalties import make_penalty
from ..solvers import KINKED_LOSSES, NON_SMOOTH_LOSSES, SOLVERS
from ..steps.optimizers import OPTIMIZERS

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

PARAMETER_CONSTRAINTS = {
    "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
    "l1_step": [StrOptions({"proximal", "cumulative"})],
    "fit_intercept": ["boolean"],
    "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
    "solver": [StrOptions({"auto", *SOLVERS})],
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



def check_combinations(estimator, solver, incremental):
    """Raise a ValueError naming the conflict if ``estimator``'s parameters
    do not go together for ``solver`` (the one in effect, or ``'auto'``)."""
    # SGD's own checks, with SGD's messages.
    if estimator.penalty == "elasticnet" and estimator.l1_ratio is None:
        raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
    if estimator.early_stopping and incremental:
        raise ValueError(
            "early_stopping should be False with partial_fit (it holds out "
            "part of fit's data; pass validation_data to partial_fit instead)."
        )
    if estimator.power_t < 0:
        warnings.warn(
            "Negative values for `power_t` are deprecated, as in scikit-learn "
            "1.8, and will raise an error in a future release (a rate that "
            "grows with the update count). Use values in the range [0.0, inf).",
            FutureWarning,
            stacklevel=5,
        )
    plain_online = (
        solver == "online" and estimator.optimizer == "sgd" and estimator.momentum == 0
    )
    passive_aggressive = estimator.learning_rate in ("pa1", "pa2")
    for name, value, used in (
        ("l1_step", "cumulative", estimator.l1_step == "cumulative"),
        ("learning_rate", estimator.learning_rate, passive_aggressive),
    ):
        if used and not plain_online:
            raise ValueError(
                f"{name}={value!r} is SGD's rule for its own online steps: it "
                "needs solver='online', optimizer='sgd' and momentum=0; got "
                f"solver={solver!r}, optimizer={estimator.optimizer!r}, "
                f"momentum={estimator.momentum!r}."
            )
    if passive_aggressive and estimator.loss != estimator._passive_aggressive_loss:
        # SGD's message
        raise ValueError(
            f"Learning rate '{estimator.learning_rate}' only works with loss "
            f"'{estimator._passive_aggressive_loss}'."
        )
    if (
        passive_aggressive and estimator.l1_step != "cumulative"
        and _penalty(estimator).l1 > 0
    ):  # fmt: skip
        raise ValueError(
            f"learning_rate={estimator.learning_rate!r} with an L1 penalty needs "
            "l1_step='cumulative' (SGD's way of applying it to these steps)."
        )
    message = _refused_rule(estimator, solver)
    if message is not None:
        raise ValueError(message)
    if solver == "sdca" and _penalty(estimator).l2 <= 0:
        raise ValueError(
            "solver='sdca' needs an L2 part in the penalty (penalty='l2', or "
            "'elasticnet' with l1_ratio < 1, and alpha > 0); use "
            "solver='accelerated' or 'saga' for this penalty."
        )
    if solver == "lbfgs":
        _check_lbfgs(estimator)
    if solver != "batch" and estimator.optimizer == "rprop":
        raise ValueError(
            "optimizer='rprop' steps by the sign of the exact gradient and needs "
            f"solver='batch'; got solver={solver!r}."
        )
    if estimator.momentum > 0 and estimator.optimizer != "sgd":
        raise ValueError(
            "momentum applies to optimizer='sgd' only; "
            f"optimizer={estimator.optimizer!r} keeps its own moments (set momentum=0)."
        )
    if estimator.learning_rate == "optimal" and (
        estimator.alpha == 0 or estimator.penalty is None
    ):
        raise ValueError(
            "learning_rate='optimal' is 1 / (alpha * (t0 + t)) and needs a penalty "
            "with alpha > 0."
        )


def _check_lbfgs(estimator):
    penalty = _penalty(estimator)
    if estimator.loss in KINKED_LOSSES:
        # sdca takes the kinked losses, but only with an L2 part.
        other = "sdca" if penalty.l2 > 0 else "accelerated"
        raise ValueError(
            f"solver='lbfgs' needs a differentiable loss; loss={estimator.loss!r} "
            f"has a kink. Use solver={other!r} (or 'auto') for it."
        )
    if penalty.l1 > 0:
        raise ValueError(
            "solver='lbfgs' needs a differentiable objective; the L1 part of "
            f"penalty={estimator.penalty!r} has a kink at zero. Use "
            "solver='accelerated' or 'saga' (or 'auto') for it."
        )


def sgd_steps_solver(estimator):
    """What ``solver='auto'`` takes before seeing the data when the user set
    how the steps go: ``'batch'`` for Rprop (it needs the exact gradient's
    sign), ``'online'`` (SGD's own solver) for any other update-rule or
    schedule parameter away from its neutral value, a numeric ``eta0``, a
    ``power_t`` other than the default, or ``l1_step='cumulative'``; else
    ``'auto'`` (the choice waits for the data). A class-name swap from SGD
    with SGD's step parameters then runs SGD's algorithm instead of failing."""
    if estimator.optimizer == "rprop":
        return "batch"
    default_power_t = type(estimator)().power_t
    given = (
        any(getattr(estimator, name) != neutral for name, neutral in NEUTRAL_RULE.items())
        or estimator.eta0 != "auto"
        or estimator.power_t != default_power_t
        or estimator.l1_step == "cumulative"
    )
    return "online" if given else "auto"


def convergence_advice(estimator):
    """What to try after a fit that ran out of epochs: advice that works.

    A first-order primal solver has no linear rate on a loss with a kink
    (hinge, epsilon-insensitive): more epochs do not help there, sdca does.
    """
    loss = getattr(estimator, "loss", None)
    exact = SOLVERS[estimator._solver].exact  # SGD's solvers stop on progress
    if loss in NON_SMOOTH_LOSSES and exact and estimator._solver != "sdca":
        if _penalty(estimator).l2 > 0:
            return (
                f"loss={loss!r} has a kink, on which this solver converges slowly "
                "whatever max_iter; solver='sdca' lands on it."
            )
        return (
            f"loss={loss!r} has a kink, on which this solver converges slowly "
            "whatever max_iter; solver='sdca' lands on it, but needs an L2 part "
            "(alpha > 0 with penalty='l2', or 'elasticnet' with l1_ratio < 1)."
        )
    return "Consider increasing max_iter or tol, or scaling the data."


def _penalty(estimator):
    return make_penalty(estimator.penalty, estimator.alpha, estimator.l1_ratio or 0.0)


def _refused_rule(estimator, solver):
    """Why the first update-rule or schedule parameter set away from its
    neutral value does not apply to ``solver``, or None."""
    for name, neutral in NEUTRAL_RULE.items():
        value = getattr(estimator, name)
        if value == neutral:
            continue
        message = SOLVERS[solver].refuse_rule(name, value, neutral)
        if message is not None:
            return message
    return None
