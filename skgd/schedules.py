"""Learning-rate schedules (public name of :mod:`skgd.steps.schedules`)."""

from .steps import schedules as _schedules
from .steps.schedules import *  # noqa: F403
from .steps.schedules import __all__  # noqa: F401

__doc__ = _schedules.__doc__
