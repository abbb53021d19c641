"""Duality-gap certificate for skgd's training objective.

The primal problem (:class:`skgd.objective.Objective`) is::

    P(theta) = (1/n) sum_ij W_ij loss(y_ij, p_ij)
               + sum_j (l1 ||coef_j||_1 + (l2/2) ||coef_j||^2),
    p_ij = x_i . coef_j + c * theta[j, -1],

with ``coef_j = theta[j, :-1]``, ``c`` the intercept scaling (0: no
intercept) and ``n = n_train``. Writing each loss through its convex
conjugate, ``loss(p) = sup_u (u p - loss*(u))`` with ``u = -alpha``, gives for
*every* alpha (Fenchel-Young) and every theta::

    P(theta) >= D(alpha) = -(1/n) sum_ij W_ij h_ij(alpha_ij)
                           - sum_j g*(v_j),
    h(alpha) = loss*(-alpha),   v_j = (1/n) X^T (W_:j * alpha_:j),

provided that, with an intercept, ``sum_i W_ij alpha_ij = 0`` for every
output (the intercept's conjugate is the indicator of that hyperplane; the
intercept is not penalised). ``g`` is the elastic net, whose conjugate is::

    g*(v) = sum_f (|v_f| - l1)_+^2 / (2 l2)      if l2 > 0,
    g*(v) = 0 if ||v||_inf <= l1 else +inf       if l2 == 0.

Hence ``D(alpha) <= P*`` for every feasible alpha and
``gap = P(theta) - D(alpha) >= P(theta) - P*``: stopping when
``gap <= tol * |P(theta)|`` is a certificate. Every loss of skgd is
nonnegative, so ``P* >= 0`` and the trivial ``D = 0`` is always a valid
lower bound too; the returned dual is ``max(D(alpha), 0)``.

Conjugates (``h(alpha) = loss*(-alpha)``; ``r = p - y``; for the
classification losses ``y`` is -1/+1, ``alpha = a * y`` and ``z = y p``)

=============================  ======================  ==============================
loss                           domain of alpha (or a)  h
=============================  ======================  ==============================
squared_error  r^2/2           alpha in R              -alpha y + alpha^2/2
huber(eps)                     |alpha| <= eps          -alpha y + alpha^2/2
epsilon_insensitive(eps)       |alpha| <= 1            -alpha y + eps |alpha|
squared_epsilon_insensitive    alpha in R              -alpha y + eps |alpha| + alpha^2/4
hinge(t) max(0, t - z)         a in [0, 1]             -t a
squared_hinge (1-z)_+^2        a >= 0                  -a + a^2/4
modified_huber                 a in [0, 4]             -a + a^2/4
log_loss log(1+exp(-z))        a in [0, 1]             a log a + (1-a) log(1-a)
multinomial lse(p) - y.p       q = y - alpha in the    sum_j q_j log q_j
                               probability simplex
=============================  ======================  ==============================

(``0 log 0 = 0``: the log-loss conjugates are finite on the closed domains.)
Every domain contains ``alpha = 0``, so scaling alpha towards 0 keeps it
feasible, which the pure-L1 case uses.

The dual point is built from the primal one: ``alpha = -loss'(p)`` (the
optimal dual variable at the optimum for the smooth losses; skgd's own
subgradient at the kinks of the hinge and epsilon-insensitive losses), then
made feasible (see :func:`duality_gap`).

Cost: the certificate is a solver's stopping test, so given the predictions
it costs one product ``X^T (W alpha)`` (summed in float64, a float32 X never
copied whole) and a few vectorised O(n) sweeps: the intercept's shift is the
root of a monotone piecewise-linear function, found exactly by bracketed
Newton steps (:func:`_shift_clip`, no sort), and the multinomial bias by a
few Newton steps. The kink re-fit of hinge and epsilon-insensitive works on
the (few) kink rows only and stops as soon as its share of the gap no
longer matters. ``bench_gap.py`` measures it against one ``X @ coef``.
Long reductions avoid BLAS (:func:`dot`): its threads, waiting for a busy
core, made a dot product of 1e5 entries a hundred times slower.
"""

import numpy as np

from ..products import dot, matmul, rmatmul
from .conjugates import (
    _conjugate_sum,
    _domain,
    _loss_candidate,
    _output_duals,
)
from .kinks import _blas_controller, _refine_kinks
from .multinomial import _multinomial
from .projection import _shift_clip

# --- the certificate ---------------------------------------------------------


def duality_gap(
    X, Y, W, n_train, theta, loss, loss_params=(), l1=0.0, l2=0.0,
    intercept=0.0, P=None, *, refine=True, kink_tol=1e-3, max_kink=1000,
    refine_iter=300,
):  # fmt: skip
    """Primal value, a dual lower bound and their gap for skgd's objective.

    Parameters
    ----------
    X : ndarray of shape (n, d) or scipy CSR matrix
        The samples (float32 or float64; everything is computed in float64).
    Y : ndarray of shape (n, k)
        Encoded targets: -1/+1 for the classification losses, real values for
        the regression ones, one-hot rows for ``"multinomial"``.
    W : ndarray of shape (n, 1) or (n, k)
        Nonnegative sample weights, already normalised; zero rows (held-out
        samples) are ignored. ``"multinomial"`` takes (n, 1).
    n_train : int
        The ``n`` dividing the weighted loss.
    theta : ndarray of shape (k, d + 1)
        Coefficients, the intercept's weight in the last column.
    loss : str
        One of :data:`LOSSES`.
    loss_params : sequence of float
        The loss's constants as skgd's ``Loss.params``: ``(epsilon,)`` for
        huber and the (squared) epsilon-insensitive losses, ``(threshold,)``
        for hinge (default 1) and perceptron (default 0).
    l1, l2 : float
        Penalty ``l1 ||coef||_1 + (l2/2) ||coef||^2`` on each output's
        coefficients (never the intercept).
    intercept : float
        The intercept scaling ``c``; 0 means no intercept.
    P : ndarray of shape (n, k), optional
        The predictions ``X coef^T + c theta[:, -1]`` if already computed.
    refine : bool
        Re-fit the dual variables of the samples at the kink of the hinge and
        epsilon-insensitive losses (see Notes). Never lowers the dual.
    kink_tol : float
        A sample is at the kink when ``|y p - t| <= kink_tol`` (hinge) or
        ``||p - y| - epsilon| <= kink_tol`` (epsilon-insensitive).
    max_kink : int
        At most this many samples per output (the nearest) are re-fitted.
    refine_iter : int
        At most this many iterations of the re-fit (it stops earlier when
        more would not matter; see Notes).

    Returns
    -------
    primal : float
        ``P(theta)``.
    dual : float
        ``max(D(alpha), 0) <= P*`` (all losses are nonnegative, so ``P* >= 0``).
    gap : float
        ``primal - dual >= P(theta) - P*`` (up to rounding; it can be
        slightly negative at an exact optimum).

    Notes
    -----
    The dual point is ``alpha = -loss'(p)`` (in each sample's conjugate
    domain by construction), then:

    * **Intercept** (``c != 0``): each output needs ``sum_i W_ij alpha_ij =
      0``. Separable losses: ``alpha_i = clip(alpha_hat_i - tau, lo_i,
      hi_i)`` with one shift tau per output, the projection in the
      W-weighted norm; tau is the root of a monotone piecewise-linear
      function, found exactly in a few O(m) sweeps for the m weighted rows
      (:func:`_shift_clip`; two near an optimum, none when the residual is
      already rounding). Infeasible only when the boxes cannot sum to 0
      (e.g. a hinge output whose samples all have one label), then D = 0.
      Multinomial: the bias re-fit of :func:`_multinomial_feasible` (a few
      Newton steps, O(n k^2) each; none when the residual is rounding).
    * **Penalty**: ``l2 > 0``: ``g*`` is finite everywhere. ``l2 == 0 <
      l1``: alpha_:j is scaled by ``s_j = min(1, l1 / ||v_j||_inf)`` (one
      common s for the multinomial, whose outputs are coupled); every
      domain contains 0, so the scaled point stays in its box (or simplex)
      and on the intercept's hyperplane. No penalty: ``g*`` is the indicator
      of ``v = 0``, which the candidate never meets exactly; the dual is the
      trivial 0 and the gap is ``P(theta)`` (a valid, but for stopping
      useless, bound).
    * **Kinks** (hinge with t > 0, epsilon-insensitive): the subgradient
      0/1 at a margin sample makes the gap stay of order
      ``||X_M^T (W delta)||^2 / (l2 n^2)`` at the optimum; the re-fit of
      :func:`_refine_output` fixes it and is kept per output only if it
      raises that output's dual. With ``l2 > 0`` it is skipped when the
      penalty's part of the gap (the only part it acts on, besides the kink
      samples' own small terms) is under 1% of the rest, and stops as soon
      as it is; it also stops when it stalls, or the gap is rounding.
    * **Perceptron** (t <= 0): ``P >= 0 = P(0)``, so ``P* = 0`` and the
      returned ``gap = P(theta)`` is exact.

    Cost: one product for P (skipped when given), one ``X^T (W alpha)``,
    a few O(n) sweeps per output, and with the re-fit at most
    ``refine_iter`` products with the (few) kink rows and their transpose.
    """
    params = tuple(float(q) for q in loss_params)
    t = params[0] if params else (0.0 if loss == "perceptron" else 1.0)
    eps = params[0] if params else 0.1
    n = float(n_train)
    c = float(intercept)
    l1, l2 = float(l1), float(l2)
    theta = np.asarray(theta, dtype=np.float64)
    coef = theta[:, :-1]
    Y = np.asarray(Y, dtype=np.float64)
    if P is None:
        P = matmul(X, coef.T)
        if c != 0.0:
            P += c * theta[:, -1]
    else:
        P = np.asarray(P, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    penalty = l1 * np.abs(coef).sum() + 0.5 * l2 * np.square(coef).sum()

    with np.errstate(over="ignore", invalid="ignore"):
        if loss == "multinomial":
            loss_sum, dual = _multinomial(X, Y, W[:, 0], P, n, l1, l2, c)
        else:
            loss_sum, dual = _separable(
                X, Y, W, P, n, theta, loss, t, eps, l1, l2, c,
                refine, kink_tol, max_kink, refine_iter,
            )  # fmt: skip
    primal = loss_sum / n + penalty
    if not np.isfinite(primal):
        return primal, dual, np.inf
    return primal, dual, primal - dual


def _separable(X, Y, W, P, n, theta, loss, t, eps, l1, l2, c,
               refine, kink_tol, max_kink, refine_iter):  # fmt: skip
    """``(sum_ij W_ij loss_ij, max(D, 0))`` for a separable loss."""
    k = P.shape[1]
    coef = theta[:, :-1]
    with_dual = not ((l1 <= 0.0 and l2 <= 0.0) or (loss in ("hinge", "perceptron") and t <= 0.0))
    kinky = (
        with_dual and refine and (loss == "epsilon_insensitive" or (loss == "hinge" and t > 0.0))
    )
    shared = W.shape[1] == 1
    if shared:
        shared_rows = None if np.all(W > 0) else np.flatnonzero(W[:, 0] > 0)
    loss_sums = np.zeros(k)
    H = np.zeros(k)  # (1/n) sum_i W_ij h(alpha_ij)
    WA = np.zeros(P.shape) if with_dual else None
    feasible = np.ones(k, dtype=bool)
    outputs = []
    for j in range(k):
        w = W[:, 0] if shared else W[:, j]
        rows = shared_rows if shared else (None if np.all(w > 0) else np.flatnonzero(w > 0))
        p, y = P[:, j], Y[:, j]
        if rows is not None:
            p, y, w = p[rows], y[rows], w[rows]
        elif k > 1:
            p, y = np.ascontiguousarray(p), np.ascontiguousarray(y)
        value, alpha, dist = _loss_candidate(loss, p, y, t, eps, with_dual)
        loss_sums[j] = dot(w, value)
        if not with_dual:
            continue
        lo, hi = _domain(loss, y, eps)
        kink = None
        if kinky:  # the samples at the kink, and the box of their re-fit
            M = np.flatnonzero(dist <= kink_tol)
            if M.size > max_kink:
                M = M[np.argpartition(dist[M], max_kink)[:max_kink]]
            if M.size:
                if loss == "hinge":
                    mlo, mhi = lo[M], hi[M]
                else:  # the subdifferential's own half of [-1, 1], where h is linear
                    pos = p[M] > y[M]
                    mlo, mhi = np.where(pos, -1.0, 0.0), np.where(pos, 0.0, 1.0)
                kink = (M, mlo, mhi)
        if c != 0.0:
            done = False
            if kink is not None:
                # Satisfy the hyperplane with the kink samples alone when
                # they can: they are the ones whose variable is free at an
                # optimum, and a shift of all the others would spoil them.
                M, mlo, mhi = kink
                wM = w[M]
                rest = dot(w, alpha) - dot(wM, alpha[M])
                col = _shift_clip(alpha[M], wM, mlo, mhi, -rest)
                if col is not None:
                    alpha[M] = col
                    done = True
            if not done:
                col = _shift_clip(alpha, w, lo, hi)
                if col is None:
                    feasible[j] = False
                    alpha[:] = 0.0
                else:
                    alpha = col
        H[j] = _conjugate_sum(loss, w, alpha, y, t, eps) / n
        if rows is None:
            np.multiply(w, alpha, out=WA[:, j])
        else:
            WA[rows, j] = w * alpha
        outputs.append((rows, p, y, w, alpha, kink))
    if not with_dual:
        return float(loss_sums.sum()), 0.0

    V = rmatmul(X, WA) / n
    D = _output_duals(loss, outputs, V, H, n, t, eps, l1, l2)
    D[~feasible] = 0.0

    if kinky and any(out[5] is not None for out in outputs):
        # The re-fit's products and factorisations are small: BLAS threads
        # would only wait on each other (or on a busy core).
        with _blas_controller().limit(limits=1, user_api="blas"):
            _refine_kinks(X, n, coef, loss, t, eps, l1, l2, c, outputs, feasible,
                          loss_sums, V, H, D, refine_iter)  # fmt: skip
    return float(loss_sums.sum()), max(float(D.sum()), 0.0)


def dual_value(X, Y, W, n_train, alpha, loss, loss_params, l1, l2, intercept):
    """``max(D(alpha), 0)`` for a dual point a solver carries (SDCA's).

    ``alpha`` (n, k) is first made feasible as in :func:`duality_gap`:
    clipped into each sample's conjugate domain and, with an intercept,
    shifted onto ``sum_i W_ij alpha_ij = 0`` per output (an output whose
    hyperplane misses the box contributes the trivial 0). Cost: one
    ``X^T (W alpha)`` and a few O(n) sweeps per output.
    """
    params = tuple(float(q) for q in loss_params)
    t = params[0] if params else (0.0 if loss == "perceptron" else 1.0)
    eps = params[0] if params else 0.1
    n = float(n_train)
    Y = np.asarray(Y, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    k = Y.shape[1]
    H, WA = np.zeros(k), np.zeros(Y.shape)
    feasible = np.ones(k, dtype=bool)
    outputs = []
    for j in range(k):
        w = W[:, 0] if W.shape[1] == 1 else W[:, j]
        rows = np.flatnonzero(w > 0)
        y, w = Y[rows, j], w[rows]
        lo, hi = _domain(loss, y, eps)
        a = np.clip(alpha[rows, j], lo, hi)
        if intercept != 0.0:
            a = _shift_clip(a, w, lo, hi)
            if a is None:
                feasible[j] = False
                a = np.zeros(rows.size)
        H[j] = _conjugate_sum(loss, w, a, y, t, eps) / n
        WA[rows, j] = w * a
        outputs.append((rows, None, y, w, a, None))
    V = rmatmul(X, WA) / n
    D = _output_duals(loss, outputs, V, H, n, t, eps, l1, l2)
    D[~feasible] = 0.0
    return max(float(D.sum()), 0.0)
