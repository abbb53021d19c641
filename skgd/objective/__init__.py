"""The objective: what every solver minimises, and how far a point is from its minimum.

- :mod:`~skgd.objective.losses`: each sample's loss and its derivative in
  the prediction (compiled, one signature);
- :mod:`~skgd.objective.penalties`: L1, L2 and elastic net, with their
  proximal step;
- :mod:`~skgd.objective.objective`: :class:`Objective`, the weighted mean
  loss plus the penalty, its value and gradient in one pass;
- :mod:`~skgd.objective.curvature`: bounds on its curvature (safe steps);
- :mod:`~skgd.objective.optimality`: how far parameters are from optimal;
- :mod:`~skgd.objective.exact`: closed-form solutions and the public
  objective helpers.

This layer imports only :mod:`skgd._kernels`.
"""

from .objective import Objective

__all__ = ["Objective"]
