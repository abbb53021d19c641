"""skgd: linear models trained by gradient descent, done properly.

>>> from skgd import GDRegressor, GDClassifier
"""

from . import schedules
from ._estimators.classifier import GDClassifier
from ._estimators.data import DataScaleWarning
from ._estimators.regressor import GDRegressor
from .objective.exact import closed_form_solution, objective_gap, training_objective

__version__ = "0.1.0"

__all__ = [
    "DataScaleWarning",
    "GDClassifier",
    "GDRegressor",
    "closed_form_solution",
    "objective_gap",
    "schedules",
    "training_objective",
    "__version__",
]
