"""Pure-NumPy references for skgd's compiled losses and training objective.

These are the test oracles for the compiled path. They are written from the
definitions (scikit-learn's SGD documentation and the formulas in the
docstrings), vectorised over samples, and share no code with ``skgd``, so
a bug in a kernel cannot hide in its oracle.

Every loss reference has the signature ``loss(P, Y, W, params) -> (values,
G)``: ``P`` and ``Y`` are ``(n_samples, n_outputs)`` predictions and encoded
targets, ``W`` the weights, ``(n_samples, 1)`` or one per output
``(n_samples, n_outputs)``, and ``params`` the loss's constants. ``values``
holds each sample's weighted loss (summed over outputs) and ``G`` the
weighted derivative of that loss in ``P``.
"""

import numpy as np
from scipy.special import expit, logsumexp, softmax

# --- regression: residuals r = p - y ------------------------------------------------


def squared_error(P, Y, W, params):
    """``0.5 * r**2``."""
    R = P - Y
    return (W * 0.5 * R**2).sum(axis=1), W * R


def huber(P, Y, W, params):
    """``0.5 * r**2`` for ``|r| <= eps``, ``eps * |r| - eps**2 / 2`` beyond."""
    eps = params[0]
    R = P - Y
    inside = np.abs(R) <= eps
    values = np.where(inside, 0.5 * R**2, eps * np.abs(R) - 0.5 * eps**2)
    return (W * values).sum(axis=1), W * np.clip(R, -eps, eps)


def epsilon_insensitive(P, Y, W, params):
    """``max(0, |r| - eps)``."""
    eps = params[0]
    R = P - Y
    excess = np.abs(R) - eps
    values = np.maximum(excess, 0.0)
    return (W * values).sum(axis=1), W * np.sign(R) * (excess > 0)


def squared_epsilon_insensitive(P, Y, W, params):
    """``max(0, |r| - eps)**2`` (no 1/2, as SGDRegressor)."""
    eps = params[0]
    R = P - Y
    excess = np.maximum(np.abs(R) - eps, 0.0)
    return (W * excess**2).sum(axis=1), W * 2.0 * excess * np.sign(R)


# --- classification: margins z = y p with y in {-1, +1} ---------------------------


def hinge(P, Y, W, params):
    """``max(0, threshold - z)``; threshold 0 is the perceptron."""
    threshold = params[0]
    Z = Y * P
    values = np.maximum(threshold - Z, 0.0)
    return (W * values).sum(axis=1), W * -Y * (Z <= threshold)


def squared_hinge(P, Y, W, params):
    """``max(0, 1 - z)**2``."""
    excess = np.maximum(1.0 - Y * P, 0.0)
    return (W * excess**2).sum(axis=1), W * -2.0 * Y * excess


def modified_huber(P, Y, W, params):
    """``max(0, 1 - z)**2`` for ``z >= -1``, ``-4 z`` below (Zhang 2004)."""
    Z = Y * P
    quadratic = Z >= -1.0
    excess = np.maximum(1.0 - Z, 0.0)
    values = np.where(quadratic, excess**2, -4.0 * Z)
    G = np.where(quadratic, -2.0 * Y * excess, -4.0 * Y)
    return (W * values).sum(axis=1), W * G


def log_loss(P, Y, W, params):
    """``log(1 + exp(-z))``, with derivative ``-y * sigmoid(-z)``."""
    Z = Y * P
    return (W * np.logaddexp(0.0, -Z)).sum(axis=1), W * -Y * expit(-Z)


def multinomial_log_loss(P, Y, W, params):
    """Softmax cross-entropy ``logsumexp(p) - y . p`` with one-hot ``y``.

    The outputs share one loss, so only the first weight column is used.
    """
    w = W[:, :1]
    values = logsumexp(P, axis=1) - (Y * P).sum(axis=1)
    return w[:, 0] * values, w * (softmax(P, axis=1) - Y)


# Keyed by the name of the compiled kernel each one checks.
LOSSES = {
    "squared_error": squared_error,
    "huber": huber,
    "epsilon_insensitive": epsilon_insensitive,
    "squared_epsilon_insensitive": squared_epsilon_insensitive,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "modified_huber": modified_huber,
    "log_loss": log_loss,
    "multinomial_log_loss": multinomial_log_loss,
}


# --- penalty and objective ----------------------------------------------------------


def elastic_net(coef, l1, l2):
    """``l1 * ||w||_1 + l2 / 2 * ||w||_2**2`` and the gradient where it exists.

    The L1 part's derivative ``l1 * sign(w)`` is exact away from ``w = 0``.
    """
    value = l1 * np.abs(coef).sum() + 0.5 * l2 * (coef**2).sum()
    return value, l1 * np.sign(coef) + l2 * coef


def objective(theta, X, Y, weights, total_weight, loss, params, l1, l2, fit_intercept):
    """The documented training objective and its gradient in ``theta``.

    ``(1 / S) sum_i loss_i + penalty(W)``, where ``loss_i`` is sample ``i``'s
    loss weighted by its row of ``weights`` (``(n_samples, 1)``, or one
    column per output) and ``S = total_weight`` (the sum of the training
    sample weights; rows held out for validation have weight 0). ``theta`` is
    ``(n_outputs, n_features + 1)``, the intercept last; without intercept it
    is held fixed and its gradient is zero.
    """
    X = np.asarray(X, dtype=np.float64)
    P = X @ theta[:, :-1].T + theta[:, -1]
    values, G = loss(P, Y, weights, params)
    penalty, penalty_gradient = elastic_net(theta[:, :-1], l1, l2)
    gradient = np.zeros_like(theta)
    gradient[:, :-1] = G.T @ X / total_weight + penalty_gradient
    if fit_intercept:
        gradient[:, -1] = G.sum(axis=0) / total_weight
    return values.sum() / total_weight + penalty, gradient
