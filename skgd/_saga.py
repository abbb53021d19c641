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

On sparse data a step touches the row's non-zero features only: the other
coefficients move by the same ``-s (mean_j + l2 x_j)`` at every step until
their feature next appears (the mean changes only where a row is non-zero),
a linear recurrence applied in closed form when the feature is next read
("just in time", as scikit-learn's SAG does); with an L1 part the missed
proximal steps are replayed, stopping early once the coefficient sits at
zero for good.
"""

from dataclasses import dataclass, field

import numba as nb
import numpy as np
import scipy.sparse as sp
from numba import types

from ._kernels import FASTMATH, _prefetch_csr, dense_matrix_types
from ._lazy import lazy_njit
from ._losses import FLOAT_TYPES, loss_signature
from ._solver import Trainer
from ._stopping import optimality_residual


@nb.njit(inline="always")
def _soft_threshold(w, threshold):
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return 0.0


@nb.njit(inline="always")
def _renew(table, i, g, delta):
    # Sample i's new derivatives replace its stored ones; delta is the change.
    for j in range(g.shape[0]):
        delta[j] = g[j] - table[i, j]
        table[i, j] = g[j]


def _saga_signature(ft, x_types):
    return types.void(
        *x_types,
        ft[:, ::1], ft[:, ::1], types.int64[::1],  # Y, W, order
        ft[:, ::1], ft[:, ::1], types.float64[:, ::1],  # theta, table, mean
        types.float64, types.float64,  # step, 1 / n_train
        types.FunctionType(loss_signature(ft)), types.float64[::1],
        types.float64, types.float64, types.float64,  # l2, l1, intercept
    )  # fmt: skip


@lazy_njit(
    [_saga_signature(ft, (x,)) for ft in FLOAT_TYPES for x in dense_matrix_types(ft)],
    cache=True,
    nogil=True,
    fastmath=FASTMATH,
)
def dense_saga_epoch(
    X, Y, W, order, theta, table, mean, step, inv_n, loss, loss_params, l2, l1,
    intercept,
):  # fmt: skip
    """One SAGA pass over ``X[order]``; ``table`` and ``mean`` updated in place.

    ``table[i]`` is sample ``i``'s weighted loss derivative when last seen,
    ``mean`` the mean of ``table[i] * [x_i, intercept]`` over the training
    rows (float64: it is a running sum of small corrections).
    """
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=X.dtype)
    g = np.empty(n_outputs, dtype=X.dtype)
    delta = np.empty(n_outputs)
    threshold = step * l1
    for position in range(order.shape[0]):
        i = order[position]
        x = X[i]
        for j in range(n_outputs):
            s = theta[j, d] * intercept
            for f in range(d):
                s += theta[j, f] * x[f]
            p[j] = s
        loss(p, Y[i], W[i], g, loss_params)
        _renew(table, i, g, delta)
        for j in range(n_outputs):
            dj = delta[j]
            for f in range(d):
                w = theta[j, f] - step * (dj * x[f] + mean[j, f] + l2 * theta[j, f])
                theta[j, f] = _soft_threshold(w, threshold) if l1 > 0.0 else w
                mean[j, f] += dj * x[f] * inv_n
            if intercept != 0.0:
                theta[j, d] -= step * (dj * intercept + mean[j, d])
                mean[j, d] += dj * intercept * inv_n


@nb.njit(inline="always")
def _replay_prox_steps(theta, j, f, mean, missed, step, l2, l1):
    # ``missed`` steps of x <- soft(x - step * (mean + l2 x), step * l1) with
    # the same mean, one by one (the L1 path; without L1 the scaled kernel
    # catches up in closed form).
    a = 1.0 - step * l2
    b = step * mean[j, f]
    threshold = step * l1
    w = theta[j, f]
    for _ in range(missed):
        w = _soft_threshold(a * w - b, threshold)
        if w == 0.0 and abs(b) <= threshold:
            break  # zero is a fixed point of the step: it stays there
    theta[j, f] = w


@nb.njit(inline="always")
def _csr_saga_scaled(
    data, indices, indptr, Y, W, order, theta, table, mean, last, step, inv_n,
    loss, loss_params, l2, intercept,
):  # fmt: skip
    # Without L1, the coefficients are ``scale * v`` (``v`` stored in theta):
    # the L2 shrink (1 - step * l2) of every coefficient is one product of
    # ``scale``, and the mean-gradient part of every step adds
    # ``-mean[f] * step / scale`` to ``v[f]``, whose running sum ``sums``
    # catches a feature up in one subtraction (no power, no replay).
    n_outputs, width = theta.shape
    d = width - 1
    n = order.shape[0]
    p = np.empty(n_outputs, dtype=data.dtype)
    g = np.empty(n_outputs, dtype=data.dtype)
    delta = np.empty(n_outputs)
    sums = np.zeros(n + 1)
    shrink = 1.0 - step * l2
    scale = 1.0
    last[:] = 0
    for k in range(n):
        _prefetch_csr(data, indices, indptr, Y, W, order, k)
        i = order[k]
        lo, hi = indptr[i], indptr[i + 1]
        for j in range(n_outputs):
            s = 0.0
            for q in range(lo, hi):
                f = indices[q]
                theta[j, f] -= mean[j, f] * (sums[k] - sums[last[f]])
                s += theta[j, f] * data[q]
            p[j] = scale * s + theta[j, d] * intercept
        loss(p, Y[i], W[i], g, loss_params)
        _renew(table, i, g, delta)
        scale *= shrink
        rate = step / scale
        sums[k + 1] = sums[k] + rate
        for j in range(n_outputs):
            dj = delta[j]
            for q in range(lo, hi):
                f = indices[q]
                theta[j, f] -= rate * (dj * data[q] + mean[j, f])
                mean[j, f] += dj * data[q] * inv_n
            if intercept != 0.0:
                theta[j, d] -= step * (dj * intercept + mean[j, d])
                mean[j, d] += dj * intercept * inv_n
        for q in range(lo, hi):
            last[indices[q]] = k + 1
        if scale < 1e-9 or k == n - 1:  # fold scale into the coefficients
            for f in range(d):
                for j in range(n_outputs):
                    theta[j, f] -= mean[j, f] * (sums[k + 1] - sums[last[f]])
                    theta[j, f] *= scale
                last[f] = k + 1
            scale = 1.0


def _csr_saga_signature(ft, it):
    return types.void(
        ft[::1], it[::1], it[::1],
        ft[:, ::1], ft[:, ::1], types.int64[::1],  # Y, W, order
        ft[:, ::1], ft[:, ::1], types.float64[:, ::1],  # theta, table, mean
        types.int64[::1],  # the step each feature was last brought up to
        types.float64, types.float64,  # step, 1 / n_train
        types.FunctionType(loss_signature(ft)), types.float64[::1],
        types.float64, types.float64, types.float64,  # l2, l1, intercept
    )  # fmt: skip


@lazy_njit(
    [
        _csr_saga_signature(ft, it)
        for ft in FLOAT_TYPES
        for it in (types.int32, types.int64)
    ],
    cache=True,
    nogil=True,
)
def csr_saga_epoch(
    data, indices, indptr, Y, W, order, theta, table, mean, last, step, inv_n,
    loss, loss_params, l2, l1, intercept,
):  # fmt: skip
    """:func:`dense_saga_epoch` on a CSR matrix in O(nnz) per step.

    Coefficient ``f`` has taken every step before ``last[f]``; the rest are
    applied when its feature is next read, and all of them at the end, so
    ``theta`` is exact when the epoch returns.
    """
    if l1 == 0.0:
        _csr_saga_scaled(
            data, indices, indptr, Y, W, order, theta, table, mean, last, step,
            inv_n, loss, loss_params, l2, intercept,
        )  # fmt: skip
        return
    n_outputs, width = theta.shape
    d = width - 1
    p = np.empty(n_outputs, dtype=data.dtype)
    g = np.empty(n_outputs, dtype=data.dtype)
    delta = np.empty(n_outputs)
    threshold = step * l1
    last[:] = 0
    for k in range(order.shape[0]):
        i = order[k]
        lo, hi = indptr[i], indptr[i + 1]
        for j in range(n_outputs):
            s = theta[j, d] * intercept
            for q in range(lo, hi):
                f = indices[q]
                _replay_prox_steps(theta, j, f, mean, k - last[f], step, l2, l1)
                s += theta[j, f] * data[q]
            p[j] = s
        for q in range(lo, hi):
            last[indices[q]] = k + 1  # this step is taken below
        loss(p, Y[i], W[i], g, loss_params)
        _renew(table, i, g, delta)
        for j in range(n_outputs):
            dj = delta[j]
            for q in range(lo, hi):
                f = indices[q]
                w = theta[j, f] - step * (dj * data[q] + mean[j, f] + l2 * theta[j, f])
                theta[j, f] = _soft_threshold(w, threshold) if l1 > 0.0 else w
            for q in range(lo, hi):
                mean[j, indices[q]] += dj * data[q] * inv_n
            if intercept != 0.0:
                theta[j, d] -= step * (dj * intercept + mean[j, d])
                mean[j, d] += dj * intercept * inv_n
    n = order.shape[0]
    for f in range(d):
        for j in range(n_outputs):
            _replay_prox_steps(theta, j, f, mean, n - last[f], step, l2, l1)


@dataclass
class SagaTrainer(Trainer):
    """:class:`~skgd._solver.Trainer` whose epoch is one SAGA pass.

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

    @property
    def uses_full_gradient(self):
        # After an epoch, the objective's value only: its gradient is
        # estimated from the table for free (see optimality).
        return False

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
        if sp.issparse(X):  # CSR: see BaseGD._prepare_X
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
