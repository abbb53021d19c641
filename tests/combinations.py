"""Which parameter combinations skgd accepts, asked of the estimators themselves.

Test tables build their (solver, optimizer, ...) products from the
estimators' constraints and keep the combinations the estimator's own check
accepts, so a new solver or update rule joins every table it is valid in.
"""

from skgd import GDRegressor


def accepts(solver, optimizer="sgd", **params):
    """Whether ``GDRegressor(solver=solver, optimizer=optimizer, **params)`` fits."""
    try:
        GDRegressor(
            solver=solver, optimizer=optimizer, **params
        )._check_parameter_combinations(incremental=False)
    except ValueError:
        return False
    return True


def one_vs_rest(solver, Estimator=None):
    """Parameters that let ``solver`` fit multi-class data: ``solver='sdca'``
    fits the one-vs-rest losses only (it refuses the multinomial log-loss,
    test_errors.py), so the tables ask it for the modified Huber loss there
    (one-vs-rest, with probabilities)."""
    if solver == "sdca" and Estimator is not GDRegressor:
        return {"loss": "modified_huber"}
    return {}
