"""Penalties on the coefficients (never the intercept).

Every penalty skgd offers is an elastic net,
``l1 * ||w||_1 + (l2 / 2) * ||w||_2**2``: ``"l2"`` is ``(0, alpha)``,
``"l1"`` is ``(alpha, 0)``, ``"elasticnet"`` splits ``alpha`` by ``l1_ratio``
exactly as scikit-learn's SGD and ElasticNet do. The smooth part enters the
gradient; the L1 part is applied as a proximal step (soft-thresholding), so
coefficients become exactly zero instead of oscillating around it.
"""

from dataclasses import dataclass

import numpy as np

from .._kernels.passes import sum_of_squares

# Float64 arrays up to this many values are summed by a compiled loop.
SHORT_SUM = 4096


def squared_norm(a):
    """``||a||**2`` in float64, without BLAS: on a busy machine a threaded
    BLAS dot of a few thousand values measured 6 ms (thread hand-offs), this
    20 us. Short float64 arrays by a compiled loop, which skips numpy's
    error-state bookkeeping: 1.6 against 4.4 us (the training loop asks at
    every epoch). Overflows to inf silently, as the dot did: divergence is
    judged on the result."""
    if a.size <= SHORT_SUM and a.dtype == np.float64:
        return sum_of_squares(np.ascontiguousarray(a).ravel())
    with np.errstate(over="ignore"):
        return float(np.square(a, dtype=np.float64).sum())


@dataclass(frozen=True)
class Penalty:
    """Strengths of the L1 and L2 parts.

    Parameters
    ----------
    l1 : float
        Weight of ``||w||_1``.
    l2 : float
        Weight of ``||w||_2**2 / 2``.
    """

    l1: float = 0.0
    l2: float = 0.0

    def value(self, coef):
        """The penalty of coefficients ``coef``."""
        value = self.l1_value(coef)
        if self.l2:
            value += 0.5 * self.l2 * squared_norm(coef)
        return value

    def l1_value(self, coef):
        """The non-smooth part of :meth:`value`, ``l1 * ||coef||_1``."""
        return self.l1 * float(np.abs(coef).sum()) if self.l1 else 0.0

    def add_gradient(self, coef, grad):
        """Add the smooth part's gradient to ``grad`` in place."""
        if self.l2:
            grad += self.l2 * coef

    def prox(self, coef, step):
        """The proximal step of the L1 part, in place: soft-threshold by ``step * l1``."""
        if self.l1:
            threshold = step * self.l1
            np.copysign(np.maximum(np.abs(coef) - threshold, 0.0), coef, out=coef)


def make_penalty(penalty, alpha, l1_ratio):
    """The :class:`Penalty` for an estimator's ``penalty``, ``alpha`` and ``l1_ratio``."""
    if penalty is None or alpha == 0:
        return Penalty()
    alpha = float(alpha)  # an integer alpha would reach the kernels as one
    if penalty == "l2":
        return Penalty(l2=alpha)
    if penalty == "l1":
        return Penalty(l1=alpha)
    return Penalty(l1=alpha * l1_ratio, l2=alpha * (1.0 - l1_ratio))
