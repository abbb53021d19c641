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
