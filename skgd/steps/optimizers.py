"""Optimizers: how one gradient becomes one step of the parameters.

Every optimizer is a compiled update rule over explicit state::

    update(theta, grad, state, lr, t, hyper)

``theta`` and ``grad`` have the shape of the parameters (one row per output,
the intercept in the last column); ``state`` stacks the optimizer's slots
(velocity, moments, step sizes) in front of that shape; ``lr`` is the
learning rate of this update, ``t`` its 1-based count, ``hyper`` the rule's
constants. ``theta`` and ``state`` are updated in place. The state lives on
the fitted estimator, so ``partial_fit`` and ``warm_start`` resume exactly.

Two ideas are kept apart here: *magnitude* (how far: ``sgd``, ``adagrad``,
``rmsprop``, ``adam`` scale the gradient) and *sign* (``rprop`` only uses the
gradient's sign and learns each parameter's step size on its own).
"""

from dataclasses import dataclass

import numba as nb
import numpy as np

from .._kernels.lazy import first_class
from .._kernels.signatures import update_signature

# Added to the root of the second moment so a parameter whose gradient has
# always been zero does not divide by zero (Kingma & Ba's value).
ADAPTIVE_EPS = 1e-8

# eta0='auto' for the rules that normalise the gradient per parameter.
NORMALISED_ETA0 = 0.01


def _compile(func):
    # No signatures: each is compiled (or loaded from the cache) when a
    # kernel first takes the function as an argument of that type.
    return nb.njit(cache=True, nogil=True)(func)


@_compile
def sgd_update(theta, grad, state, lr, t, hyper):
    """Plain, heavy-ball or Nesterov step; ``hyper = (momentum, nesterov)``.

    Heavy ball (Polyak 1964): ``v <- mu v - lr g``; ``theta <- theta + v``.
    Nesterov (Sutskever et al. 2013): the same velocity, then
    ``theta <- theta + mu v - lr g``, which is the look-ahead gradient step
    written in the look-ahead variable, so the gradient is always taken at
    the stored ``theta``.
    """
    mu = hyper[0]
    nesterov = hyper[1] != 0.0
    v = state[0]
    for j in range(theta.shape[0]):
        for f in range(theta.shape[1]):
            g = grad[j, f]
            if mu == 0.0:
                theta[j, f] -= lr * g
            else:
                v[j, f] = mu * v[j, f] - lr * g
                if nesterov:
                    theta[j, f] += mu * v[j, f] - lr * g
                else:
                    theta[j, f] += v[j, f]


@_compile
def adagrad_update(theta, grad, state, lr, t, hyper):
    """AdaGrad (Duchi et al. 2011): ``theta -= lr g / sqrt(sum of g**2)``."""
    acc = state[0]
    for j in range(theta.shape[0]):
        for f in range(theta.shape[1]):
            g = grad[j, f]
            acc[j, f] += g * g
            theta[j, f] -= lr * g / (np.sqrt(acc[j, f]) + ADAPTIVE_EPS)


@_compile
def rmsprop_update(theta, grad, state, lr, t, hyper):
    """RMSProp (Tieleman & Hinton 2012): a moving average of g**2, decay ``rho``."""
    rho = hyper[0]
    avg = state[0]
    for j in range(theta.shape[0]):
        for f in range(theta.shape[1]):
            g = grad[j, f]
            avg[j, f] = rho * avg[j, f] + (1.0 - rho) * g * g
            theta[j, f] -= lr * g / (np.sqrt(avg[j, f]) + ADAPTIVE_EPS)


@_compile
def adam_update(theta, grad, state, lr, t, hyper):
    """Adam (Kingma & Ba 2015) with bias-corrected moments; ``hyper = (beta_1, beta_2)``."""
    beta_1, beta_2 = hyper[0], hyper[1]
    m, v = state[0], state[1]
    correction_1 = 1.0 - beta_1**t
    correction_2 = 1.0 - beta_2**t
    for j in range(theta.shape[0]):
        for f in range(theta.shape[1]):
            g = grad[j, f]
            m[j, f] = beta_1 * m[j, f] + (1.0 - beta_1) * g
            v[j, f] = beta_2 * v[j, f] + (1.0 - beta_2) * g * g
            m_hat = m[j, f] / correction_1
            v_hat = v[j, f] / correction_2
            theta[j, f] -= lr * m_hat / (np.sqrt(v_hat) + ADAPTIVE_EPS)


@_compile
def rprop_update(theta, grad, state, lr, t, hyper):
    """iRprop- (Igel & Huesken 2000): only the gradient's sign moves ``theta``.

    Each parameter's step grows by ``hyper[0]`` while its gradient keeps its
    sign and shrinks by ``hyper[1]`` when it flips (and that step is skipped),
    within ``[hyper[2], hyper[3]]``. Steps start at the first ``lr``.
    """
    grow, shrink, step_min, step_max = hyper[0], hyper[1], hyper[2], hyper[3]
    previous, step = state[0], state[1]
    for j in range(theta.shape[0]):
        for f in range(theta.shape[1]):
            g = grad[j, f]
            if step[j, f] == 0.0:
                step[j, f] = lr
            agreement = g * previous[j, f]
            if agreement > 0:
                step[j, f] = min(step[j, f] * grow, step_max)
            elif agreement < 0:
                step[j, f] = max(step[j, f] * shrink, step_min)
                g = 0.0
            theta[j, f] -= np.sign(g) * step[j, f]
            previous[j, f] = g


@dataclass(frozen=True)
class Optimizer:
    """An update rule with its constants, as the solvers see it.

    Parameters
    ----------
    name : str
        The public name (the estimator's ``optimizer`` parameter).
    kernel : numba dispatcher
        The compiled update rule described in the module docstring.
    n_slots : int
        How many arrays of the parameters' shape the rule keeps as state.
    hyper : tuple of float
        The rule's constants, passed to the kernel.
    full_batch_only : bool
        True for rules that need exact gradients (Rprop reads their signs).
    auto_eta0 : float or None
        The rate ``eta0='auto'`` gives. None: ``1 / L`` from the data, right
        for rules whose step is proportional to the gradient. Rules that
        normalise each parameter's gradient take steps of about ``eta0`` in
        every coordinate, whatever the data's scale, so they get the usual
        fixed value instead (PyTorch's default for AdaGrad and RMSProp).
    """

    name: str
    kernel: object
    n_slots: int
    hyper: tuple
    full_batch_only: bool = False
    auto_eta0: float | None = None

    @property
    def key(self):
        """Identifies the meaning of this rule's state (name and slot count)."""
        return (self.name, self.n_slots)

    def init_state(self, shape, dtype):
        """Fresh state for parameters of ``shape`` (at least one slot, so the
        kernels always see the same array rank)."""
        return np.zeros((max(self.n_slots, 1), *shape), dtype=dtype)

    @property
    def hyper_array(self):
        return np.asarray(self.hyper, dtype=np.float64)

    def function(self, dtype):
        """The kernel as the compiled loops take it, for parameters of ``dtype``."""
        return first_class(self.kernel, update_signature, dtype)


def make_optimizer(name, *, momentum, nesterov, beta_1, beta_2, rho):
    """The optimizer called ``name`` with the estimator's constants."""
    if name == "sgd":
        return Optimizer("sgd", sgd_update, 1, (momentum, float(nesterov)))
    if name == "adagrad":
        return Optimizer("adagrad", adagrad_update, 1, (), auto_eta0=NORMALISED_ETA0)
    if name == "rmsprop":
        return Optimizer(
            "rmsprop", rmsprop_update, 1, (rho,), auto_eta0=NORMALISED_ETA0
        )
    if name == "adam":
        return Optimizer(
            "adam", adam_update, 2, (beta_1, beta_2), auto_eta0=NORMALISED_ETA0
        )
    if name == "rprop":
        # Igel & Huesken's constants: grow 1.2, shrink 0.5, steps in [1e-6, 50].
        return Optimizer(
            "rprop",
            rprop_update,
            2,
            (1.2, 0.5, 1e-6, 50.0),
            full_batch_only=True,
            auto_eta0=NORMALISED_ETA0,
        )
    raise ValueError(f"Unknown optimizer {name!r}.")


OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "rprop")
