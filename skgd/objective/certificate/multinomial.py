"""The multinomial log-loss's dual point: softmax probabilities made feasible.

With an intercept the class sums must match the labels', which a common
bias re-fitted by Newton's method achieves (the intercept re-optimised with
the coefficients fixed).
"""

import numpy as np

from ..products import dot, rmatmul
from .conjugates import _l1_scale, _penalty_conjugate, _xlogx

# --- the multinomial intercept ----------------------------------------------
# The multinomial arrays are held transposed, (k, n): the reductions over the
# k classes then run along contiguous rows, many times faster than along the
# short axis of an (n, k) array.


def _softmax(S):
    """Probabilities, log-probabilities and log-sum-exp of each column of
    ``S`` (k, n), all finite; ``S`` is overwritten (by the log-probabilities)."""
    top = S.max(axis=0)
    S -= top
    E = np.exp(S)
    total = E.sum(axis=0)
    E /= total
    lse = np.log(total)
    S -= lse
    lse += top
    return E, S, lse


def _class_sums(w, Q):
    """``sum_i w_i q_ji`` per class (rows of ``Q``), without BLAS threads."""
    return np.array([dot(w, q) for q in Q])


def _multinomial_feasible(P, Y, w):
    """Probabilities ``q_i`` in the simplex with ``sum_i w_i q_i = sum_i w_i y_i``,
    and their logarithms (``-inf`` where ``q = 0``); ``P``, ``Y`` and the
    results are (k, n).

    ``q_i = softmax(p_i + b)`` with the common bias ``b`` that solves these k
    equations, by Newton's method on the convex ``sum_i w_i lse(p_i + b) -
    m . b`` (its gradient is the constraint's residual): this is the
    intercept re-fitted with the coefficients fixed, so at an optimum b = 0
    and near one the first step lands in the quadratic convergence region.
    Each step costs an exponential of the k x n scores and a k x n x k
    product. A step whose decrease of the objective is below its rounding is
    still taken when it shrinks the residual (near the solution the line
    search cannot see the decrease; the residual can). If the residual is
    not at rounding level in the end, a common shift of all q_i removes it
    (it stays on the simplex's affine hull); the q_i it would push below 0
    are clipped and renormalised. Classes without weight get q = 0 (their b
    is -inf). Returns None if the residual is not at rounding level.
    """
    k = P.shape[0]
    m = _class_sums(w, Y)
    live = m > 0
    W_total = float(w.sum())
    tol = 1e-13 * W_total
    Pl = P if live.all() else P[live]
    ml = m[live]
    kl = Pl.shape[0]
    b = np.zeros(kl)

    def scores(b):
        Q, logQ, lse = _softmax(Pl + b[:, None])
        return Q, logQ, dot(w, lse) - float(ml @ b), _class_sums(w, Q) - ml

    Q, logQ, phi, grad = scores(b)
    gmax = np.abs(grad).max()
    ones = np.full(kl, 1.0 / np.sqrt(kl))
    for _ in range(30):
        if gmax <= tol:
            break
        H = np.diag(grad + ml) - (Q * w) @ Q.T
        # H is singular along the all-ones vector (a common b changes nothing),
        # and the gradient is orthogonal to it: add that direction to solve.
        try:
            step = np.linalg.solve(H + W_total * np.outer(ones, ones), -grad)
        except np.linalg.LinAlgError:
            break
        slope = float(grad @ step)
        slack = 1e-13 * (abs(phi) + W_total)  # the rounding of phi
        t = 1.0
        while t > 1e-10:
            Q_t, logQ_t, phi_t, grad_t = scores(b + t * step)
            g_t = np.abs(grad_t).max()
            if phi_t <= phi + 1e-4 * t * slope or (phi_t <= phi + slack and g_t < gmax):
                break
            t *= 0.5
        else:  # no more progress at rounding level: the shift below ends it
            break
        b = b + t * step
        Q, logQ, phi, grad, gmax = Q_t, logQ_t, phi_t, grad_t, g_t
    if not live.all():
        Qf = np.zeros(P.shape)
        Qf[live] = Q
        logQf = np.full(P.shape, -np.inf)
        logQf[live] = logQ
        Q, logQ = Qf, logQf
    if gmax <= tol:
        return Q, logQ
    shift = np.zeros(k)
    shift[live] = -grad / W_total
    Q = np.maximum(Q + shift[:, None], 0.0)
    Q /= Q.sum(axis=0)
    if np.abs(_class_sums(w, Q) - m).max() > 1e-11 * W_total:
        return None
    with np.errstate(divide="ignore"):
        return Q, np.log(Q)


def _multinomial(X, Y, w, P, n, l1, l2, c):
    """``(sum_i w_i loss_i, max(D, 0))`` for the multinomial loss."""
    rows = None if np.all(w > 0) else np.flatnonzero(w > 0)
    PT, YT = (P.T, Y.T) if rows is None else (P[rows].T, Y[rows].T)
    wa = w if rows is None else w[rows]
    PT = np.ascontiguousarray(PT)
    YT = np.ascontiguousarray(YT)
    Q, logQ, lse = _softmax(PT.copy())
    lse -= np.einsum("ji,ji->i", YT, PT)  # the loss of each row
    loss_sum = dot(wa, lse)
    if l1 <= 0.0 and l2 <= 0.0:
        return loss_sum, 0.0
    exact = True  # logQ is finite everywhere (a softmax)
    if c != 0.0:
        residual = _class_sums(wa, Q) - _class_sums(wa, YT)
        if np.abs(residual).max() > 1e-13 * float(wa.sum()):
            out = _multinomial_feasible(PT, YT, wa)
            if out is None:
                return loss_sum, 0.0
            Q, logQ = out
            exact = False
    A = YT - Q  # alpha, (k, n) on the active rows
    WA = A * wa
    if rows is not None:
        full = np.zeros(P.shape[::-1])
        full[:, rows] = WA
        WA = full
    V = rmatmul(X, WA.T) / n
    if l2 > 0.0:
        if exact:
            H = float(np.einsum("i,ji,ji->", wa, Q, logQ)) / n
        else:  # q log q with 0 log 0 = 0 (logQ = -inf where q = 0)
            H = dot(wa, np.where(Q > 0.0, Q * logQ, 0.0).sum(axis=0)) / n
        return loss_sum, max(-H - float(_penalty_conjugate(V, l1, l2).sum()), 0.0)
    # pure L1: one common scale keeps every q_i = y_i - s alpha_i in the
    # simplex (a convex combination of q_i and y_i) and the k equalities.
    s = float(_l1_scale(V.reshape(-1, 1), l1)[0])
    Qs = YT - s * A
    H = dot(wa, _xlogx(np.maximum(Qs, 0.0)).sum(axis=0)) / n
    return loss_sum, max(-H, 0.0)
