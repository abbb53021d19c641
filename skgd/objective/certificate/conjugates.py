"""Each loss's side of the dual: its dual candidate, conjugate domain and conjugate.

The table of conjugates is in :mod:`skgd.objective.certificate`'s
docstring; the elastic net's conjugate and the pure-L1 scaling are here too.
"""

import numpy as np

from ..products import dot

LOSSES = (
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
    "hinge",
    "perceptron",
    "squared_hinge",
    "modified_huber",
    "log_loss",
    "multinomial",
)


_CLASSIFICATION = ("hinge", "perceptron", "squared_hinge", "modified_huber", "log_loss")


# The upper end of ``a`` for the classification losses (``a`` in [0, top]).
_TOP = {"hinge": 1.0, "perceptron": 1.0, "log_loss": 1.0, "modified_huber": 4.0,
        "squared_hinge": np.inf}  # fmt: skip


# --- the losses: value, dual candidate, domain, conjugate -------------------


def _loss_candidate(name, p, y, t, eps, dual):
    """Elementwise loss, and with ``dual`` the candidate ``alpha = -loss'(p)``
    (skgd's kernel's choice at the kinks) and the distance to the kink
    (hinge, epsilon-insensitive; else None). One output's active rows."""
    alpha = dist = None
    if name in _CLASSIFICATION:
        z = y * p
        if name in ("hinge", "perceptron"):
            m = t - z
            value = np.maximum(m, 0.0)
            if dual:
                alpha = (m >= 0.0).astype(np.float64)
                dist = np.abs(m, out=m)
        elif name == "squared_hinge":
            m = np.maximum(1.0 - z, 0.0)
            value = m * m
            if dual:
                alpha = np.multiply(m, 2.0, out=m)
        elif name == "modified_huber":
            # m = clip(1 - z, 0, 2): loss m (2 (1 - z) - m), a = 2 m
            u = 1.0 - z
            m = np.clip(u, 0.0, 2.0)
            u *= 2.0
            u -= m
            value = np.multiply(m, u, out=u)
            if dual:
                alpha = np.multiply(m, 2.0, out=m)
        else:  # log_loss: log(1 + exp(-z)), stable for any z
            e = np.exp(-np.abs(z))
            value = np.maximum(-z, 0.0)
            value += np.log1p(e)
            if dual:  # expit(-z), in (0, 1)
                alpha = np.add(e, 1.0)
                np.divide(np.where(z >= 0.0, e, 1.0), alpha, out=alpha)
        if alpha is not None:
            alpha *= y  # alpha = a y
        return value, alpha, dist
    r = p - y
    a = np.abs(r)
    if name == "squared_error":
        value = 0.5 * r * r
        if dual:
            alpha = np.negative(r, out=r)
    elif name == "huber":
        # clip(r): loss = cr (r - cr / 2), alpha = -cr
        cr = np.clip(r, -eps, eps)
        value = cr * (r - 0.5 * cr)
        if dual:
            alpha = np.negative(cr, out=cr)
    elif name == "epsilon_insensitive":
        a -= eps
        value = np.maximum(a, 0.0)
        if dual:
            alpha = np.sign(r)
            alpha *= a > 0.0
            np.negative(alpha, out=alpha)
            dist = np.abs(a, out=a)
    else:  # squared_epsilon_insensitive
        a -= eps
        np.maximum(a, 0.0, out=a)
        value = a * a
        if dual:
            alpha = np.sign(r)
            alpha *= a
            alpha *= -2.0
    return value, alpha, dist


def _domain(name, y, eps):
    """Bounds ``lo <= alpha <= hi`` of the conjugate's domain: scalars for
    the regression losses, arrays (``alpha = a y``) for classification."""
    if name in _CLASSIFICATION:
        top_y = _TOP[name] * y
        return np.minimum(top_y, 0.0), np.maximum(top_y, 0.0)
    half = {"huber": eps, "epsilon_insensitive": 1.0}.get(name, np.inf)
    return -half, half


def _xlogx(a):
    """``a log a`` for ``a >= 0``, 0 at 0."""
    return a * np.log(np.maximum(a, 1e-300))


def _conjugate(name, A, Y, t, eps):
    """``h(alpha) = loss*(-alpha)`` elementwise, for alpha in the domain."""
    if name in _CLASSIFICATION:
        a = A * Y
        if name in ("hinge", "perceptron"):
            return -t * a
        if name in ("squared_hinge", "modified_huber"):
            return a * (0.25 * a - 1.0)
        return _xlogx(a) + _xlogx(1.0 - a)  # 0 log 0 = 0 at the closed ends
    if name in ("squared_error", "huber"):
        return A * (0.5 * A - Y)
    if name == "epsilon_insensitive":
        return eps * np.abs(A) - A * Y
    return A * (0.25 * A - Y) + eps * np.abs(A)


def _conjugate_sum(name, w, A, Y, t, eps):
    """``sum_i w_i h(alpha_i)`` (one output)."""
    if name in ("hinge", "perceptron"):
        return -t * float(np.einsum("i,i,i->", w, Y, A))
    return dot(w, _conjugate(name, A, Y, t, eps))


# --- the penalty's conjugate and the pure-L1 scaling -------------------------


def _penalty_conjugate(V, l1, l2):
    """``g*(v_j)`` per output (columns of ``V``), ``l2 > 0``."""
    excess = np.maximum(np.abs(V) - l1, 0.0)
    return np.square(excess).sum(axis=0) / (2.0 * l2)


def _l1_scale(V, l1):
    """Per output, the largest s <= 1 with ``||s v_j||_inf <= l1``."""
    top = np.abs(V).max(axis=0) if V.shape[0] else np.zeros(V.shape[1])
    with np.errstate(divide="ignore"):
        return np.where(top > l1, l1 / top, 1.0)


def _output_duals(loss, outputs, V, H, n, t, eps, l1, l2):
    """``D_j = -H_j - g*(v_j)`` per output; with ``l2 == 0`` (pure L1) the
    point is first scaled by ``s_j`` so that ``g*(s_j v_j) = 0``."""
    if l2 > 0.0:
        return -H - _penalty_conjugate(V, l1, l2)
    s = _l1_scale(V, l1)
    D = -H.copy()
    for j in np.flatnonzero(s != 1.0):
        _, _, y, w, alpha, _ = outputs[j]
        D[j] = -_conjugate_sum(loss, w, s[j] * alpha, y, t, eps) / n
    return D
