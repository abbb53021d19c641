r"""SAGA: stochastic steps that converge to the exact optimum.

Plain SGD with a constant step stalls at a noise floor: one sample's gradient
is not the full gradient, and its variance does not vanish at the optimum.
SAGA (Defazio, Bach & Lacoste-Julien 2014) corrects each sample's gradient
by what that sample contributed the last time it was seen, plus the mean of
all those stored contributions:

.. math::

    x \leftarrow \operatorname{prox}_{s h}\Bigl(x - s\bigl(\nabla f_i(x)
    - \nabla f_i(\phi_i) + \tfrac1n \textstyle\sum_j \nabla f_j(\phi_j)\bigr)\Bigr),

whose expectation is the full gradient and whose variance goes to zero as
the iterates converge, so a constant step converges linearly on strongly
convex problems. For a linear model ``f_i``'s gradient is
``loss'(x·a_i) a_i``: the table stores one derivative per sample (and
output), not a gradient.

The compiled epochs are in :mod:`skgd._kernels.saga`.
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._kernels.saga import csr_saga_epoch, dense_saga_epoch
from ..objective.optimality import optimality_residual
from .base import Solver


@dataclass
class SagaSolver(Solver):
    """:class:`~skgd.solvers.base.Solver` whose epoch is one SAGA pass.

    The table of derivatives and their mean start at zero at every call of
    ``fit`` or ``partial_fit`` (they describe the rows of that call). The
    step is ``eta0``, constant: variance reduction needs no decay.
    """

    _table: np.ndarray = field(default=None, repr=False)
    _mean: np.ndarray = field(default=None, repr=False)
    _last: np.ndarray = field(default=None, repr=False)

    # The gradient-mapping-like estimate below that triggers an exact
    # optimality check, halved after each failed check (as in
    # AcceleratedTrainer).
    _trigger: float = field(default=1.0, repr=False)

    name = "saga"
    exact = True
    own_rule = "steps by variance-reduced gradients at a constant step"
    walks_rows = True
    canonical_rows = True  # a feature is caught up once per row
    # After an epoch, the objective's value only: its gradient is estimated
    # from the table for free (see optimality).
    uses_full_gradient = False

    @classmethod
    def first_step(cls, objective, settings, theta):
        """Defazio et al.'s step ``1 / (2 L + min(2 n mu, L))`` for the
        largest sample curvature ``L`` and the strong convexity ``mu`` of the
        L2 part (as scikit-learn's SAGA)."""
        row = objective.loss.curvature * objective.row_curvature()
        row += objective.penalty.l2
        if row <= 0:
            return 1.0
        n = objective.n_train
        return 1.0 / (2.0 * row + min(2.0 * n * objective.penalty.l2, row))

    def _estimated_gradient(self, state):
        # The table's mean is the gradient at the points each sample was last
        # seen (within the last epoch), which converge to the current one.
        grad = self._mean.copy()
        grad[:, :-1] += self.objective.penalty.l2 * state.theta[:, :-1]
        return grad

    def gradient_norm(self, state):
        """Norm of the table's estimate of the gradient (free; the exact
        gradient is computed only to confirm convergence)."""
        return float(np.linalg.norm(self._estimated_gradient(state)))

    def residual_estimate(self, state):
        """The residual of the table's gradient estimate (free)."""
        l1 = self.objective.penalty.l1
        return optimality_residual(state.theta, self._estimated_gradient(state), l1)

    def optimality(self, state, threshold):
        l1 = self.objective.penalty.l1
        estimate = optimality_residual(state.theta, self._estimated_gradient(state), l1)
        if estimate > self._trigger * threshold:
            return estimate
        residual = optimality_residual(state.theta, self.gradient_at(state), l1)
        if residual > threshold:
            self._trigger *= 0.5
        return residual

    def start(self, state):
        obj = self.objective
        self._table = np.zeros(obj.Y.shape, dtype=obj.Y.dtype)
        self._mean = np.zeros(state.theta.shape)
        self._last = np.zeros(state.theta.shape[1] - 1, dtype=np.int64)
        super().start(state)

    def run_epoch(self, state):
        obj = self.objective
        X = obj.X
        order = self.epoch_order(1)
        step = self.eta0 * state.lr_factor
        if sp.issparse(X):  # CSR: see walks_rows
            kernel = csr_saga_epoch
            data = (X.data, X.indices, X.indptr)
            extra = (self._last,)
        else:
            kernel, data, extra = dense_saga_epoch, (X,), ()
        with np.errstate(over="ignore", invalid="ignore"):
            kernel(
                *data, obj.Y, obj.W, order, state.theta, self._table, self._mean,
                *extra, step, 1.0 / obj.n_train, obj.loss.function(state.theta.dtype),
                obj.loss.params_array, obj.penalty.l2, obj.penalty.l1,
                float(obj.intercept),
            )  # fmt: skip
        state.t += len(order)
        state.epoch += 1
        return step
