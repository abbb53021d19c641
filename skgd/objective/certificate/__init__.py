"""The certificate: a duality gap for skgd's objective, for every loss and penalty.

:func:`duality_gap` builds a dual-feasible point next to an iterate and
returns ``P(theta) - D(alpha)``, an upper bound on ``P(theta) - P*``;
:func:`dual_value` scores a dual point a solver carries (SDCA's). The
derivation and the table of conjugates are in :mod:`.gap`'s docstring.

- :mod:`.conjugates`: each loss's dual candidate, domain and conjugate;
- :mod:`.projection`: the unpenalised intercept's hyperplane (an exact shift);
- :mod:`.kinks`: the re-fit of the samples at a kink (hinge,
  epsilon-insensitive);
- :mod:`.multinomial`: the softmax loss's dual point;

Called by :meth:`skgd.objective.Objective.duality_gap` and
:mod:`skgd.solvers.sdca`.
"""

from .gap import dual_value, duality_gap

__all__ = ["dual_value", "duality_gap"]
