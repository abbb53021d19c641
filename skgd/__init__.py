"""skgd: linear models trained by gradient descent, done properly.

>>> from skgd import GDRegressor, GDClassifier
"""

from . import schedules
from ._classifier import GDClassifier
from ._regressor import GDRegressor

__version__ = "0.1.0"

__all__ = ["GDClassifier", "GDRegressor", "schedules", "__version__"]
