"""Losses: the value of one sample's loss and its derivative in the prediction.

Every loss is a compiled function with one signature::

    loss(p, y, w, g, params) -> value

``p`` holds the sample's predictions (one per output), ``y`` its encoded
targets, ``w`` its weight (one entry, or one per output), ``params`` the
loss's own constants (Huber's width, ...). The function writes the weighted
derivative ``w * dloss/dp`` into ``g`` and returns the weighted loss value.
The solvers only ever call this function, so a new loss is one function here
and one entry in a table: no solver changes.

The kernels declare this signature (float32 and float64) for their loss
argument, which lets them take the function as a first-class argument *and*
keep numba's on-disk cache; a plain dispatcher argument would force a
recompilation in every new process. A loss is compiled for a float type when
a kernel first needs it (:meth:`Loss.function`).
"""

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from .._kernels.inlined_losses import logistic as _logistic
from .._kernels.inlined_losses import squared as _squared
from .._kernels.lazy import first_class
from .._kernels.signatures import loss_signature


def _compile(func):
    # No signatures: each is compiled (or loaded from the cache) when a
    # kernel first takes the function as an argument of that type.
    return nb.njit(cache=True, nogil=True)(func)


@nb.njit(inline="always")
def _weight(w, j):
    # Per-output weights (one-vs-rest class weights) or one weight per sample.
    return w[j] if w.shape[0] > 1 else w[0]


# --- regression ------------------------------------------------------------


@_compile
def squared_error(p, y, w, g, params):
    """0.5 * (p - y)**2."""
    value = 0.0
    for j in range(p.shape[0]):
        loss, g[j] = _squared(p[j], y[j], _weight(w, j))
        value += loss
    return value


@_compile
def huber(p, y, w, g, params):
    """Quadratic within ``epsilon = params[0]`` of the target, linear beyond."""
    eps = params[0]
    value = 0.0
    for j in range(p.shape[0]):
        wj = _weight(w, j)
        r = p[j] - y[j]
        if abs(r) <= eps:
            g[j] = wj * r
            value += 0.5 * wj * r * r
        else:
            g[j] = wj * eps * np.sign(r)
            value += wj * (eps * abs(r) - 0.5 * eps * eps)
    return value


@_compile
def epsilon_insensitive(p, y, w, g, params):
    """max(0, |y - p| - epsilon): errors smaller than ``params[0]`` are free."""
    eps = params[0]
    value = 0.0
    for j in range(p.shape[0]):
        wj = _weight(w, j)
        r = p[j] - y[j]
        z = abs(r) - eps
        if z > 0:
            g[j] = wj * np.sign(r)
            value += wj * z
        else:
            g[j] = 0.0
    return value


@_compile
def squared_epsilon_insensitive(p, y, w, g, params):
    """max(0, |y - p| - epsilon)**2, as SGDRegressor defines it (no 1/2)."""
    eps = params[0]
    value = 0.0
    for j in range(p.shape[0]):
        wj = _weight(w, j)
        r = p[j] - y[j]
        z = abs(r) - eps
        if z > 0:
            g[j] = wj * 2.0 * z * np.sign(r)
            value += wj * z * z
        else:
            g[j] = 0.0
    return value


# --- classification: targets encoded as -1/+1 per output (one-vs-rest) ------


@_compile
def hinge(p, y, w, g, params):
    """max(0, threshold - y p), ``threshold = params[0]`` (0 is the perceptron)."""
    threshold = params[0]
    value = 0.0
    for j in range(p.shape[0]):
        wj = _weight(w, j)
        z = p[j] * y[j]
        if z <= threshold:
            g[j] = -wj * y[j]
            value += wj * (threshold - z)
        else:
            g[j] = 0.0
    return value


@_compile
def squared_hinge(p, y, w, g, params):
    """max(0, 1 - y p)**2."""
    value = 0.0
    for j in range(p.shape[0]):
        wj = _weight(w, j)
        z = 1.0 - p[j] * y[j]
        if z > 0:
            g[j] = -2.0 * wj * y[j] * z
            value += wj * z * z
        else:
            g[j] = 0.0
    return value


@_compile
def modified_huber(p, y, w, g, params):
    """Squared hinge for y p >= -1, linear (slope 4) below: Zhang (2004)."""
    value = 0.0
    for j in range(p.shape[0]):
        wj = _weight(w, j)
        z = p[j] * y[j]
        if z >= 1.0:
            g[j] = 0.0
        elif z >= -1.0:
            g[j] = -2.0 * wj * y[j] * (1.0 - z)
            value += wj * (1.0 - z) * (1.0 - z)
        else:
            g[j] = -4.0 * wj * y[j]
            value += -4.0 * wj * z
    return value


@_compile
def log_loss(p, y, w, g, params):
    """log(1 + exp(-y p)), the binary logistic loss."""
    value = 0.0
    for j in range(p.shape[0]):
        loss, g[j] = _logistic(p[j], y[j], _weight(w, j))
        value += loss
    return value


@_compile
def multinomial_log_loss(p, y, w, g, params):
    """Softmax cross-entropy: logsumexp(p) - sum(y * p), ``y`` one-hot."""
    top = p[0]
    for j in range(1, p.shape[0]):
        top = max(top, p[j])
    total = 0.0
    for j in range(p.shape[0]):
        total += np.exp(p[j] - top)
    logsumexp = top + np.log(total)
    value = logsumexp
    for j in range(p.shape[0]):
        g[j] = w[0] * (np.exp(p[j] - logsumexp) - y[j])
        value -= y[j] * p[j]
    return w[0] * value


# --- the same losses over a block of rows, in numpy ----------------------------
#
# ``rows(P, Y, W, G) -> total``: the weighted loss summed over the rows of
# ``P`` (float64), the weighted derivatives into ``G``, exactly as the
# per-sample function on every row. numpy's exp and log run on whole
# vectors (SIMD), which the per-sample call through a function pointer
# cannot: the binary log-loss of 1e5 rows in 1.7 against 4.2 ms. The
# solvers that evaluate predictions alone (a line search on ``X theta``)
# take these where a loss has one.


def log_loss_rows(P, Y, W, G):
    """:func:`log_loss` over rows."""
    z = P * Y
    e = np.exp(-np.abs(z))
    # sigmoid(-z) from the one exp: e / (1 + e) above zero, 1 / (1 + e) below.
    slope = np.where(z > 0, e, 1.0)
    slope /= 1.0 + e
    np.multiply(slope, Y, out=G)
    np.multiply(G, W, out=G)
    np.negative(G, out=G)
    value = np.log1p(e)
    value -= np.minimum(z, 0)
    value *= W
    return float(value.sum(dtype=np.float64))


def multinomial_log_loss_rows(P, Y, W, G):
    """:func:`multinomial_log_loss` over rows. The sums and maxima over a
    row's few outputs run column by column: numpy's reductions along a
    short last axis cost some 20 ns an entry (1e5 x 5: 3.6 against 9.7 ms)."""
    top = _over_columns(np.maximum, P)
    np.subtract(P, top[:, np.newaxis], out=G)
    np.exp(G, out=G)
    total = _over_columns(np.add, G)
    G /= total[:, np.newaxis]
    G -= Y
    G *= W
    value = np.log(total) + top - _over_columns(np.add, Y * P)
    return float(np.dot(W[:, 0].astype(np.float64), value))


def _over_columns(ufunc, A):
    """``ufunc.reduce(A, axis=1)``, one column at a time."""
    out = A[:, 0].copy()
    for j in range(1, A.shape[1]):
        ufunc(out, A[:, j], out=out)
    return out


def log_loss_second_derivative(P, Y, W):
    """:func:`log_loss`'s weighted second derivative in each prediction,
    ``w sigmoid(z) sigmoid(-z)``."""
    e = np.exp(-np.abs(P * Y))
    return W * (e / np.square(1.0 + e))


def multinomial_second_derivative(P, Y, W):
    """The diagonal of the softmax loss's weighted Hessian in each row's
    predictions, ``w p (1 - p)`` (its diagonal blocks' weights)."""
    E = np.exp(P - P.max(axis=1, keepdims=True))
    E /= E.sum(axis=1, keepdims=True)
    return W * E * (1.0 - E)


def squared_error_rows(P, Y, W, G):
    """:func:`squared_error` over rows."""
    np.subtract(P, Y, out=G)
    value = np.einsum("ij,ij,ij->", G, G, W, dtype=np.float64)
    G *= W
    return 0.5 * float(value)


@dataclass(frozen=True)
class Loss:
    """A loss as the solvers see it.

    Parameters
    ----------
    name : str
        The public name (the estimator's ``loss`` parameter).
    kernel : numba dispatcher
        The compiled per-sample function described in the module docstring.
    curvature : float
        A bound on the second derivative in the prediction, so that
        ``curvature * ||x||**2`` bounds one sample's curvature in the
        parameters. Non-smooth losses have no such bound; they use 1 (the
        slope scale of their gradient), which sets the scale of the automatic
        step as scikit-learn's SAG solver does.
    params : tuple of float
        Constants passed to the kernel (Huber's ``epsilon``, ...).
    coupled : bool
        True if the outputs share one loss (softmax); such a loss takes one
        weight per sample, never per output.
    rows : callable or None
        The same loss over a block of rows in numpy (see
        :func:`log_loss_rows`), where one is written.
    second_derivative : callable or None
        ``second_derivative(P, Y, W)``: each row's weighted second
        derivative in its predictions (an array like ``P``), where the loss
        has one that varies (the log-losses): the curvature the quasi-Newton
        solver's metric is refreshed from.
    """

    name: str
    kernel: object
    curvature: float
    params: tuple = field(default=(0.0,))
    coupled: bool = False
    rows: object = None
    second_derivative: object = None

    @property
    def params_array(self):
        return np.asarray(self.params, dtype=np.float64)

    def function(self, dtype):
        """The kernel as the compiled loops take it, for data of ``dtype``."""
        return first_class(self.kernel, loss_signature, dtype)


# The width of the Huber and epsilon-insensitive losses by default (SGD's).
DEFAULT_EPSILON = 0.1


def regression_loss(name, epsilon=DEFAULT_EPSILON):
    """The regression loss called ``name``, with Huber/insensitive width ``epsilon``."""
    return {
        "squared_error": Loss(
            "squared_error", squared_error, 1.0, rows=squared_error_rows
        ),
        "huber": Loss("huber", huber, 1.0, (epsilon,)),
        "epsilon_insensitive": Loss(
            "epsilon_insensitive", epsilon_insensitive, 1.0, (epsilon,)
        ),
        "squared_epsilon_insensitive": Loss(
            "squared_epsilon_insensitive", squared_epsilon_insensitive, 2.0, (epsilon,)
        ),
    }[name]


def classification_loss(name, n_outputs, epsilon=DEFAULT_EPSILON):
    """The classification loss ``name`` for a model with ``n_outputs`` rows.

    ``log_loss`` with more than one output is the multinomial (softmax) loss;
    every other loss is applied to each output separately (one-vs-rest). The
    regression losses (as SGDClassifier offers them) fit the labels -1/+1.
    """
    if name in REGRESSION_LOSSES:
        return regression_loss(name, epsilon)
    if name == "log_loss" and n_outputs > 1:
        # The softmax Hessian is diag(s) - s s^T, whose largest eigenvalue is <= 1/2.
        return Loss(
            "log_loss", multinomial_log_loss, 0.5, coupled=True,
            rows=multinomial_log_loss_rows,
            second_derivative=multinomial_second_derivative,
        )  # fmt: skip
    return {
        "log_loss": Loss(
            "log_loss", log_loss, 0.25, rows=log_loss_rows,
            second_derivative=log_loss_second_derivative,
        ),  # fmt: skip
        "hinge": Loss("hinge", hinge, 1.0, (1.0,)),
        "perceptron": Loss("perceptron", hinge, 1.0, (0.0,)),
        "squared_hinge": Loss("squared_hinge", squared_hinge, 2.0),
        "modified_huber": Loss("modified_huber", modified_huber, 2.0),
    }[name]


REGRESSION_LOSSES = (
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
)
CLASSIFICATION_LOSSES = (
    "log_loss",
    "hinge",
    "modified_huber",
    "squared_hinge",
    "perceptron",
    *REGRESSION_LOSSES,
)


def loss_functions(names, make):
    """scikit-learn SGD's ``loss_functions`` table: each loss name mapped to
    ``(its compiled function, *its constants at the default epsilon)``."""
    table = {}
    for name in names:
        loss = make(name)
        table[name] = (loss.kernel, *loss.params)
    return table
