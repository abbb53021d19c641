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
"""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import lsq_linear
from scipy.special import expit, xlogy

__all__ = ["LOSSES", "duality_gap"]

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
# Rows of X converted to float64 at a time when X is float32 (bounded memory).
_BLOCK_ENTRIES = 1 << 20


# --- products in float64 ---------------------------------------------------


def _matmul(X, B):
    """``X @ B`` in float64 for ``B`` of shape (d, k); X dense or CSR."""
    if sp.issparse(X):
        return np.asarray(X @ B, dtype=np.float64)
    if X.dtype == np.float64:
        return X @ B
    # float32 dense: convert row blocks so that the sums run in float64
    # without a full float64 copy of X.
    n, d = X.shape
    rows = max(1, _BLOCK_ENTRIES // max(d, 1))
    out = np.empty((n, B.shape[1]), dtype=np.float64)
    for start in range(0, n, rows):
        out[start : start + rows] = X[start : start + rows].astype(np.float64) @ B
    return out


def _rmatmul(X, A):
    """``X.T @ A`` in float64 for ``A`` of shape (n, k); X dense or CSR."""
    if sp.issparse(X):
        return np.asarray(X.T @ A, dtype=np.float64)
    if X.dtype == np.float64:
        return X.T @ A
    n, d = X.shape
    rows = max(1, _BLOCK_ENTRIES // max(d, 1))
    out = np.zeros((d, A.shape[1]), dtype=np.float64)
    for start in range(0, n, rows):
        out += X[start : start + rows].astype(np.float64).T @ A[start : start + rows]
    return out


# --- the losses: value, dual candidate, domain, conjugate -------------------


def _loss_value(name, P, Y, t, eps):
    """Elementwise loss (float64)."""
    if name in _CLASSIFICATION:
        z = Y * P
        if name in ("hinge", "perceptron"):
            return np.maximum(t - z, 0.0)
        if name == "squared_hinge":
            return np.maximum(1.0 - z, 0.0) ** 2
        if name == "modified_huber":
            return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, (1.0 - z) ** 2, -4.0 * z))
        return np.logaddexp(0.0, -z)  # log_loss, stable for any z
    r = P - Y
    a = np.abs(r)
    if name == "squared_error":
        return 0.5 * r * r
    if name == "huber":
        return np.where(a <= eps, 0.5 * r * r, eps * a - 0.5 * eps * eps)
    if name == "epsilon_insensitive":
        return np.maximum(a - eps, 0.0)
    return np.maximum(a - eps, 0.0) ** 2  # squared_epsilon_insensitive


def _candidate(name, P, Y, t, eps):
    """``alpha = -loss'(p)``, with skgd's kernel's choice at the kinks."""
    if name in _CLASSIFICATION:
        z = Y * P
        if name in ("hinge", "perceptron"):
            a = (z <= t).astype(np.float64)
        elif name == "squared_hinge":
            a = 2.0 * np.maximum(1.0 - z, 0.0)
        elif name == "modified_huber":
            a = np.where(z >= 1.0, 0.0, np.where(z >= -1.0, 2.0 * (1.0 - z), 4.0))
        else:
            a = expit(-z)  # in (0, 1): the open domain is never left
        return a * Y
    r = P - Y
    if name == "squared_error":
        return -r
    if name == "huber":
        return -np.clip(r, -eps, eps)
    if name == "epsilon_insensitive":
        return -np.sign(r) * (np.abs(r) > eps)
    return -2.0 * np.sign(r) * np.maximum(np.abs(r) - eps, 0.0)


def _domain(name, Y, eps):
    """Bounds ``lo <= alpha <= hi`` of each sample's conjugate domain."""
    if name in _CLASSIFICATION:
        top = {"hinge": 1.0, "perceptron": 1.0, "log_loss": 1.0,
               "modified_huber": 4.0, "squared_hinge": np.inf}[name]  # fmt: skip
        # a in [0, top] and alpha = a y with y = +-1.
        lo = np.where(Y > 0, 0.0, -top)
        hi = np.where(Y > 0, top, 0.0)
        return lo, hi
    half = {"huber": eps, "epsilon_insensitive": 1.0}.get(name, np.inf)
    return np.full(Y.shape, -half), np.full(Y.shape, half)


def _conjugate(name, A, Y, t, eps):
    """``h(alpha) = loss*(-alpha)`` elementwise, for alpha in the domain."""
    if name in _CLASSIFICATION:
        a = A * Y
        if name in ("hinge", "perceptron"):
            return -t * a
        if name in ("squared_hinge", "modified_huber"):
            return -a + 0.25 * a * a
        b = 1.0 - a
        return xlogy(a, a) + xlogy(b, b)  # 0 log 0 = 0 at the closed ends
    if name in ("squared_error", "huber"):
        return -A * Y + 0.5 * A * A
    if name == "epsilon_insensitive":
        return -A * Y + eps * np.abs(A)
    return -A * Y + eps * np.abs(A) + 0.25 * A * A


# --- feasibility: the intercept's hyperplane --------------------------------


def _shift_clip(a, w, lo, hi, total=0.0, scale=None):
    """``clip(a - tau * scale, lo, hi)`` with ``sum(w * result) == total``.

    ``f(tau) = sum w clip(a - tau s, lo, hi)`` is continuous, non-increasing
    and piecewise linear in tau, with breakpoints ``(a - hi)/s`` and
    ``(a - lo)/s``. Sorting them (O(m log m)) and evaluating f at every
    breakpoint with prefix sums (O(m)) brackets the root in one linear piece,
    where it is solved exactly. With ``scale = 1`` the result is the
    projection onto ``{lo <= alpha <= hi, w . alpha = total}`` in the metric
    weighted by ``w``; with ``scale = w`` it is the Euclidean one.

    Returns None when the set is empty (``sum w lo > total`` or
    ``sum w hi < total``). ``w`` must be positive.
    """
    s = np.ones_like(a) if scale is None else scale
    wlo = np.where(np.isfinite(lo), w * lo, 0.0)
    whi = np.where(np.isfinite(hi), w * hi, 0.0)
    lo_sum = wlo.sum() if np.all(np.isfinite(lo)) else -np.inf
    hi_sum = whi.sum() if np.all(np.isfinite(hi)) else np.inf
    slack = 1e-12 * (np.abs(wlo).sum() + np.abs(whi).sum() + abs(total))
    if lo_sum > total + slack or hi_sum < total - slack:
        return None
    u = (a - hi) / s  # tau <= u: at hi (u = -inf when hi = +inf: never)
    l_ = (a - lo) / s  # tau >= l: at lo (l = +inf when lo = -inf: never)
    ws, wa = w * s, w * a
    ou, ol = np.argsort(u), np.argsort(l_)
    us, ls = u[ou], l_[ol]
    cu = [np.concatenate(([0.0], np.cumsum(q[ou]))) for q in (whi, wa, ws)]
    cl = [np.concatenate(([0.0], np.cumsum(q[ol]))) for q in (wlo, wa, ws)]
    tot_a, tot_s = wa.sum(), ws.sum()

    def f(tau):  # vectorised over tau; upper set u > tau, lower set l < tau
        iu = np.searchsorted(us, tau, side="right")
        il = np.searchsorted(ls, tau, side="left")
        up = [c[-1] - c[iu] for c in cu]
        low = [c[il] for c in cl]
        mid_a = tot_a - up[1] - low[1]
        mid_s = tot_s - up[2] - low[2]
        return up[0] + low[0] + mid_a - tau * mid_s

    knots = np.concatenate((us[np.isfinite(us)], ls[np.isfinite(ls)]))
    knots = np.unique(knots)
    if knots.size:
        values = f(knots) - total
        above = np.nonzero(values >= 0)[0]
        below = np.nonzero(values <= 0)[0]
        if above.size and below.size and above[-1] + 1 >= below[0]:
            i = above[-1]
            if values[i] == 0:
                tau = knots[i]
            else:
                j = i + 1  # values[j] < 0: the root is inside (knots[i], knots[j])
                tau = knots[i] + values[i] * (knots[j] - knots[i]) / (values[i] - values[j])
        elif not above.size:  # root left of every knot: solve the last piece
            tau = _solve_piece(f, knots[0] - 1.0, knots[0], total)
        else:
            tau = _solve_piece(f, knots[-1], knots[-1] + 1.0, total)
    else:  # no finite bound at all: f(tau) = sum w a - tau sum w s
        tau = (tot_a - total) / tot_s
    return np.clip(a - tau * s, lo, hi)


def _solve_piece(f, t0, t1, total):
    # f is affine on [t0, t1] extended to the unbounded side: solve it there.
    f0, f1 = f(np.array([t0, t1])) - total
    slope = (f1 - f0) / (t1 - t0)
    if slope == 0:
        return t0
    return t0 - f0 / slope


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


# --- the margin refinement (hinge, epsilon-insensitive) ----------------------


def _refine_output(XM, wm, a0, lo, hi, v_rest, coef, l1, l2, constrained, iters):
    """Re-fit the dual variables of the m samples at a kink of a piecewise
    linear loss (hinge, epsilon-insensitive), the other samples fixed.

    At a kink the subgradient is an interval and the optimal dual variable
    lies somewhere inside it; skgd's 0/1 choice can be far from it, and the
    gap then stays of order ``||X_M^T (W delta)||^2 / (l2 n^2)`` even at the
    exact optimum. The optimal variables satisfy the penalty's
    stationarity, ``v = l2 coef + l1 sign(coef)`` on the support of coef and
    ``|v| <= l1`` off it, so this minimises the violation::

        F(a) = 1/2 sum_{coef_f != 0} (v_f - l2 coef_f - l1 sign coef_f)^2
             + 1/2 sum_{coef_f == 0} (|v_f| - l1)_+^2,   v = v_rest + A a,

    ``A a = X_M^T (wm a)``, over the samples' boxes and, with an intercept,
    the hyperplane ``wm . a = wm . a0``, by accelerated projected gradient
    (Euclidean projection by :func:`_shift_clip` with ``scale = wm``). It is
    a heuristic: the caller keeps its result only if it raises the dual, and
    any feasible point gives a valid bound. Cost per iteration: two products
    with the m kink rows and an O(m log m) projection.

    Returns the new ``a`` or None (nothing to do, or no feasible point).
    """
    support = coef != 0
    target = l2 * coef + l1 * np.sign(coef)
    total = float(wm @ a0)

    def matvec(a):
        return XM.T @ (wm * a)

    def rmatvec(r):
        return wm * (XM @ r)

    def residual(v):
        return np.where(support, v - target, np.sign(v) * np.maximum(np.abs(v) - l1, 0.0))

    def project(a):
        if constrained:
            return _shift_clip(a, wm, lo, hi, total, scale=wm)
        return np.clip(a, lo, hi)

    def objective(a):
        r = residual(v_rest + matvec(a))
        return 0.5 * float(r @ r)

    # grad F = A^T residual, Lipschitz with ||A||^2 (the residual map is
    # 1-Lipschitz): power iteration, with a safety margin as it undershoots.
    x = np.ones_like(a0)
    L = 0.0
    for _ in range(30):
        y = rmatvec(matvec(x))
        norm = np.linalg.norm(y)
        if norm == 0.0:
            return None
        L, x = norm / np.linalg.norm(x), y / norm
    step = 1.0 / (1.5 * L)

    start = a0
    S = np.nonzero(support)[0]
    if S.size and S.size * a0.size <= 4_000_000:
        # Small enough for an exact bounded least squares on the support's
        # (linear) equations, the hyperplane as one heavily weighted extra
        # row; projected gradient then polishes it (the off-support part,
        # the exact hyperplane). Plain projected gradient alone can need
        # thousands of iterations on these ill-conditioned systems.
        cols = XM[:, S]
        AS = (cols.toarray() if sp.issparse(cols) else np.asarray(cols)).T * wm
        rhs = target[S] - v_rest[S]
        if constrained:
            heavy = 1e3 * max(np.abs(AS).max(), 1e-300) / wm.max()
            AS = np.vstack([AS, heavy * wm])
            rhs = np.append(rhs, heavy * total)
        try:
            start = lsq_linear(AS, rhs, bounds=(lo, hi), method="bvls").x
        except (ValueError, np.linalg.LinAlgError):
            start = a0
    x = project(start)
    if x is None:
        x = project(a0)
    if x is None:
        return None
    fx = objective(x)
    y, t_k = x, 1.0
    for _ in range(iters):
        x_new = project(y - step * rmatvec(residual(v_rest + matvec(y))))
        f_new = objective(x_new)
        if f_new > fx:  # restart the momentum: keeps the iterates monotone
            if y is x:
                break
            y, t_k = x, 1.0
            continue
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t_k * t_k))
        y = x_new + ((t_k - 1.0) / t_next) * (x_new - x)
        improvement = fx - f_new
        x, fx, t_k = x_new, f_new, t_next
        if fx <= 1e-30 or improvement <= 1e-14 * fx:
            break
    return x


# --- the multinomial intercept ----------------------------------------------


def _multinomial_feasible(P, Y, w):
    """Probabilities ``q_i`` in the simplex with ``sum_i w_i q_i = sum_i w_i y_i``.

    ``q_i = softmax(p_i + b)`` with the common bias ``b`` that solves these k
    equations, by Newton's method on the convex ``sum_i w_i lse(p_i + b) -
    m . b`` (its gradient is the constraint's residual): this is the
    intercept re-fitted with the coefficients fixed, so at an optimum b = 0.
    A common shift of all q_i then removes the last rounding-level residual
    (it stays on the simplex's affine hull); the q_i it would push below 0
    are clipped and renormalised. Classes without weight get q = 0 (their
    b is -inf). Returns None if the residual is not at rounding level.
    """
    m = w @ Y
    live = m > 0
    Z = np.where(live, P, -np.inf)
    b = np.zeros(P.shape[1])
    W_total = w.sum()

    def probs(b):
        S = Z + b
        S -= S.max(axis=1, keepdims=True)
        E = np.exp(S)
        return E / E.sum(axis=1, keepdims=True)

    def phi(b):
        S = Z[:, live] + b[live]
        top = S.max(axis=1)
        return float(w @ (top + np.log(np.exp(S - top[:, None]).sum(axis=1))) - m[live] @ b[live])

    Q = probs(b)
    for _ in range(100):
        grad = (w @ Q - m)[live]
        if np.abs(grad).max() <= 1e-14 * W_total:
            break
        Ql = Q[:, live]
        H = (Ql * w[:, None]).T @ Ql
        H = np.diag(w @ Ql) - H
        # H is singular along the all-ones vector (a common b changes nothing),
        # and the gradient is orthogonal to it: add that direction to solve.
        ones = np.ones(H.shape[0]) / np.sqrt(H.shape[0])
        step = np.linalg.solve(H + W_total * np.outer(ones, ones), -grad)
        full = np.zeros_like(b)
        full[live] = step
        f0, t = phi(b), 1.0
        while t > 1e-10 and phi(b + t * full) > f0 + 1e-4 * t * float(grad @ step):
            t *= 0.5
        if t <= 1e-10:  # no more progress at rounding level: the shift below ends it
            break
        b = b + t * full
        Q = probs(b)
    shift = (m - w @ Q) / W_total
    shift[~live] = 0.0
    Q = np.maximum(Q + np.where(live, shift, 0.0), 0.0)
    Q /= Q.sum(axis=1, keepdims=True)
    if np.abs(w @ Q - m).max() > 1e-11 * W_total:
        return None
    return Q


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
        Iterations of the re-fit.

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
      hi_i)`` with one shift tau per output, found exactly by sorting the
      2m breakpoints (O(m log m) for the m weighted rows); that is the
      projection in the W-weighted norm. Infeasible only when the boxes
      cannot sum to 0 (e.g. a hinge output whose samples all have one
      label), then D = 0. Multinomial: the bias re-fit of
      :func:`_multinomial_feasible` (a few Newton steps, O(n k^2) each).
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
      raises that output's dual.
    * **Perceptron** (t <= 0): ``P >= 0 = P(0)``, so ``P* = 0`` and the
      returned ``gap = P(theta)`` is exact.

    Cost: one product for P (skipped when given), one ``X^T (W alpha)``,
    O(n log n) per output for the intercept projection, and with the
    re-fit a few hundred products with the (few) kink rows.
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
        P = _matmul(X, coef.T)
        if c != 0.0:
            P += c * theta[:, -1]
    else:
        P = np.asarray(P, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    penalty = l1 * np.abs(coef).sum() + 0.5 * l2 * np.square(coef).sum()

    if loss == "multinomial":
        w = W[:, 0]
        Z = P - P.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z).sum(axis=1))
        primal = float(w @ (lse - (Y * Z).sum(axis=1))) / n + penalty
        dual = _multinomial_dual(X, Y, w, P, n, l1, l2, c)
    else:
        Wk = np.broadcast_to(W, P.shape)
        primal = float((Wk * _loss_value(loss, P, Y, t, eps)).sum()) / n + penalty
        dual = _separable_dual(
            X, Y, Wk, P, n, theta, loss, t, eps, l1, l2, c,
            refine, kink_tol, max_kink, refine_iter,
        )  # fmt: skip
    if not np.isfinite(primal):
        return primal, dual, np.inf
    return primal, dual, primal - dual


def _separable_dual(X, Y, Wk, P, n, theta, loss, t, eps, l1, l2, c,
                    refine, kink_tol, max_kink, refine_iter):  # fmt: skip
    if (l1 <= 0.0 and l2 <= 0.0) or (loss in ("hinge", "perceptron") and t <= 0.0):
        return 0.0  # no penalty: trivial bound; perceptron: P* = 0 exactly
    k = P.shape[1]
    coef = theta[:, :-1]
    active = Wk > 0
    lo, hi = _domain(loss, Y, eps)
    with np.errstate(over="ignore", invalid="ignore"):
        A = np.where(active, _candidate(loss, P, Y, t, eps), 0.0)
    A = np.clip(A, lo, hi)
    kinky = refine and (loss == "epsilon_insensitive" or (loss == "hinge" and t > 0.0))
    kinks = [None] * k
    if kinky:  # the samples at the kink, and the box of their re-fit
        for j in range(k):
            if loss == "hinge":
                distance = np.abs(Y[:, j] * P[:, j] - t)
            else:
                distance = np.abs(np.abs(P[:, j] - Y[:, j]) - eps)
            M = np.nonzero(active[:, j] & (distance <= kink_tol))[0]
            if M.size > max_kink:
                M = M[np.argpartition(distance[M], max_kink)[:max_kink]]
            if M.size == 0:
                continue
            if loss == "hinge":
                mlo, mhi = lo[M, j], hi[M, j]
            else:  # the subdifferential's own half of [-1, 1], where h is linear
                r = P[M, j] - Y[M, j]
                mlo, mhi = np.where(r > 0, -1.0, 0.0), np.where(r > 0, 0.0, 1.0)
            kinks[j] = (M, mlo, mhi)

    feasible = np.ones(k, dtype=bool)
    if c != 0.0:
        for j in range(k):
            rows = active[:, j]
            if kinks[j] is not None:
                # Satisfy the hyperplane with the kink samples alone when
                # they can: they are the ones whose variable is free at an
                # optimum, and a shift of all the others would spoil them.
                M, mlo, mhi = kinks[j]
                rest = float(Wk[rows, j] @ A[rows, j] - Wk[M, j] @ A[M, j])
                col = _shift_clip(A[M, j], Wk[M, j], mlo, mhi, -rest)
                if col is not None:
                    A[M, j] = col
                    continue
            col = _shift_clip(A[rows, j], Wk[rows, j], lo[rows, j], hi[rows, j])
            if col is None:
                feasible[j] = False
                A[:, j] = 0.0
            else:
                A[rows, j] = col
    V = _rmatmul(X, Wk * A) / n
    H = (Wk * np.where(active, _conjugate(loss, A, Y, t, eps), 0.0)).sum(axis=0) / n
    D = _output_duals(loss, A, Y, Wk, active, V, H, n, t, eps, l1, l2)
    D[~feasible] = 0.0

    if kinky:
        Xr = X.tocsr() if sp.issparse(X) else X
        for j in np.nonzero(feasible)[0]:
            if kinks[j] is None:
                continue
            M, mlo, mhi = kinks[j]
            XM = Xr[M]
            XM = XM.astype(np.float64) if XM.dtype != np.float64 else XM
            wm = Wk[M, j] / n
            a0 = A[M, j]
            v_rest = V[:, j] - XM.T @ (wm * a0)
            aM = _refine_output(XM, wm, a0, mlo, mhi, v_rest, coef[j], l1, l2,
                                c != 0.0, refine_iter)  # fmt: skip
            if aM is None:
                continue
            a_new = A[:, j].copy()
            a_new[M] = aM
            v_new = v_rest + XM.T @ (wm * aM)
            h_new = H[j] + float(
                wm @ (_conjugate(loss, aM, Y[M, j], t, eps) - _conjugate(loss, a0, Y[M, j], t, eps))
            )
            d_new = _output_duals(
                loss, a_new[:, None], Y[:, j : j + 1], Wk[:, j : j + 1],
                active[:, j : j + 1], v_new[:, None], np.array([h_new]), n, t, eps, l1, l2,
            )[0]  # fmt: skip
            D[j] = max(D[j], d_new)
    return max(float(D.sum()), 0.0)


def _output_duals(loss, A, Y, Wk, active, V, H, n, t, eps, l1, l2):
    """``D_j = -H_j - g*(v_j)`` per output; with ``l2 == 0`` (pure L1) the
    point is first scaled by ``s_j`` so that ``g*(s_j v_j) = 0``."""
    if l2 > 0.0:
        return -H - _penalty_conjugate(V, l1, l2)
    s = _l1_scale(V, l1)
    if np.all(s == 1.0):
        return -H
    h = np.where(active, _conjugate(loss, A * s, Y, t, eps), 0.0)
    return -(Wk * h).sum(axis=0) / n


def _multinomial_dual(X, Y, w, P, n, l1, l2, c):
    if l1 <= 0.0 and l2 <= 0.0:
        return 0.0
    active = w > 0
    Q = np.array(Y, dtype=np.float64)  # q = y (alpha = 0) on held-out rows
    if c != 0.0:
        Qa = _multinomial_feasible(P[active], Y[active], w[active])
        if Qa is None:
            return 0.0
        Q[active] = Qa
    else:
        Z = P[active] - P[active].max(axis=1, keepdims=True)
        E = np.exp(Z)
        Q[active] = E / E.sum(axis=1, keepdims=True)
    A = Y - Q
    V = _rmatmul(X, w[:, None] * A) / n
    if l2 > 0.0:
        H = float(w @ xlogy(Q, Q).sum(axis=1)) / n
        return max(-H - float(_penalty_conjugate(V, l1, l2).sum()), 0.0)
    # pure L1: one common scale keeps every q_i = y_i - s alpha_i in the
    # simplex (a convex combination of q_i and y_i) and the k equalities.
    s = float(_l1_scale(V.reshape(-1, 1), l1)[0])
    Qs = Y - s * A
    H = float(w @ xlogy(Qs, Qs).sum(axis=1)) / n
    return max(-H, 0.0)


def dual_value(X, Y, W, n_train, alpha, loss, loss_params, l1, l2, intercept):
    """``max(D(alpha), 0)`` for a dual point a solver carries (SDCA's).

    ``alpha`` (n, k) is first made feasible as in :func:`duality_gap`:
    clipped into each sample's conjugate domain and, with an intercept,
    shifted onto ``sum_i W_ij alpha_ij = 0`` per output (an output whose
    hyperplane misses the box contributes the trivial 0). Cost: one
    ``X^T (W alpha)`` and O(n log n) per output.
    """
    params = tuple(float(q) for q in loss_params)
    t = params[0] if params else (0.0 if loss == "perceptron" else 1.0)
    eps = params[0] if params else 0.1
    n = float(n_train)
    Y = np.asarray(Y, dtype=np.float64)
    Wk = np.broadcast_to(np.asarray(W, dtype=np.float64), Y.shape)
    active = Wk > 0
    lo, hi = _domain(loss, Y, eps)
    A = np.clip(np.where(active, alpha, 0.0), lo, hi)
    feasible = np.ones(Y.shape[1], dtype=bool)
    if intercept != 0.0:
        for j in range(Y.shape[1]):
            rows = active[:, j]
            col = _shift_clip(A[rows, j], Wk[rows, j], lo[rows, j], hi[rows, j])
            if col is None:
                feasible[j] = False
                A[:, j] = 0.0
            else:
                A[rows, j] = col
    V = _rmatmul(X, Wk * A) / n
    H = (Wk * np.where(active, _conjugate(loss, A, Y, t, eps), 0.0)).sum(axis=0) / n
    D = _output_duals(loss, A, Y, Wk, active, V, H, n, t, eps, l1, l2)
    D[~feasible] = 0.0
    return max(float(D.sum()), 0.0)
