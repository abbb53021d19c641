"""The dual variables of the samples at a kink (hinge, epsilon-insensitive), re-fitted.

With ``alpha = -loss'(p)`` the 0/1 choice at samples sitting on the kink
leaves a gap of the order of the objective even at the optimum; re-fitting
those few variables to the penalty's optimality condition (bounded least
squares, then accelerated projected gradient) closes it. Kept only where it
raises the dual, so it can never weaken the certificate.
"""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import lsq_linear
from threadpoolctl import ThreadpoolController

from ..products import dot
from .conjugates import _conjugate, _output_duals
from .projection import _shift_clip

# The kink re-fit starts with BVLS (a bounded least squares) while its work,
# iterations x rows x kinks x min(rows, kinks), fits in this many times the
# entries of X (or in _BVLS_FLOOR, for small data).
_BVLS_FACTOR = 2.0


_BVLS_FLOOR = 1e6


# --- products in float64 ---------------------------------------------------

_CONTROLLER = []


def _blas_controller():
    """threadpoolctl's controller, made once (finding the libraries is the
    slow part of ``threadpool_limits``: 0.3 ms against 10 us)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


# --- the margin refinement (hinge, epsilon-insensitive) ----------------------


def _refine_output(XM, wm, a0, lo, hi, v_rest, coef, l1, l2, constrained, iters,
                   bvls_budget, measure):  # fmt: skip
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
    the hyperplane ``wm . a = wm . a0``. ``XM`` holds the kink rows' columns
    that they touch, ``v_rest`` and ``coef`` those features' entries.

    When the bounded least squares on the support's (linear) equations costs
    at most ``bvls_budget`` (its iterations times rows x m x min(rows, m),
    the size of one factorisation), it is solved first (BVLS, the hyperplane
    as one heavily weighted extra row); accelerated projected gradient on F
    then polishes it (the off-support part, the exact hyperplane) or does
    it all: plain projected gradient alone can need thousands of iterations
    on these ill-conditioned systems. The projection is :func:`_shift_clip`'s
    Euclidean one (``scale = wm``), warm-started at the previous shift. The
    product for the momentum point is not computed: v is affine in a.

    ``measure(a, v)`` returns the output's dual and the stopping test's
    verdict at a point, in O(m + features) (the caller's
    :func:`_kink_measure`): the iterations stop once the re-fit's part of
    the gap is negligible, or when they stall: in 20 iterations, F fell by
    under 1% and the dual gained under 1% of the gap (either alone can
    pause while the other still moves: with a pure L1 penalty the dual
    follows ``max |v|``, not F). The iterate of the highest dual is
    returned (any feasible point gives a valid bound, and the caller keeps
    the result only if it raises the dual). Cost per iteration: one product
    with the m kink rows and one with their transpose, and an O(m)
    projection.

    Returns the new ``a`` or None (no feasible point).
    """
    XT = XM.T.tocsr() if sp.issparse(XM) else XM.T
    support = coef != 0
    target = l2 * coef + l1 * np.sign(coef)
    off = 1.0 - support  # as floats
    total = dot(wm, a0)

    def matvec(a):  # A a
        return XT @ (wm * a)

    def rmatvec(r):  # A^T r
        return wm * (XM @ r)

    def residual(v):
        # v - target on the support; soft(v, l1) = v - clip(v, -l1, l1) off it
        out = np.clip(v, -l1, l1)
        out *= off
        out += target
        return np.subtract(v, out, out=out)

    tau = 0.0

    def project(a):
        nonlocal tau
        if not constrained:
            return np.clip(a, lo, hi)
        out = _shift_clip(a, wm, lo, hi, total, scale=wm, tau=tau, full=True)
        if out is None:
            return None
        out, tau = out
        return out

    start = a0
    S = np.flatnonzero(support)
    rows = S.size + constrained
    factorisation = rows * a0.size * min(rows, a0.size)  # one least squares
    if S.size and factorisation <= bvls_budget:
        cols = XM[:, S]
        AS = (cols.toarray() if sp.issparse(cols) else np.asarray(cols)).T * wm
        rhs = target[S] - v_rest[S]
        if constrained:
            heavy = 1e3 * max(np.abs(AS).max(), 1e-300) / wm.max()
            AS = np.vstack([AS, heavy * wm])
            rhs = np.append(rhs, heavy * total)
        try:
            # BVLS's iterates stay in the box: stopped early, still a start
            max_iter = max(5, int(bvls_budget // factorisation))
            start = lsq_linear(AS, rhs, bounds=(lo, hi), method="bvls", max_iter=max_iter).x
        except (ValueError, np.linalg.LinAlgError):
            start = a0
    x = project(start)
    if x is None:
        x = project(a0)
    if x is None:
        return None
    vx = v_rest + matvec(x)
    best, (best_dual, done) = x, measure(x, vx)
    if done or iters <= 0:
        return x
    rx = residual(vx)
    fx = 0.5 * dot(rx, rx)

    # grad F = A^T residual, Lipschitz with ||A||^2 (the residual map is
    # 1-Lipschitz): power iteration, with a safety margin as it undershoots.
    z = np.ones_like(a0)
    L = 0.0
    for _ in range(30):
        y = rmatvec(matvec(z))
        norm = np.sqrt(dot(y, y))
        if norm == 0.0:
            return x
        L_new = norm / np.sqrt(dot(z, z))
        z = y / norm
        if abs(L_new - L) <= 1e-3 * L_new:
            L = L_new
            break
        L = L_new
    step = 1.0 / (1.5 * L)

    y, vy, ry, t_k = x, vx, rx, 1.0
    duals, values = [best_dual], [fx]
    for _ in range(iters):
        x_new = project(y - step * rmatvec(ry))
        if x_new is None:
            break
        v_new = v_rest + matvec(x_new)
        r_new = residual(v_new)
        f_new = 0.5 * dot(r_new, r_new)
        if f_new > fx:  # restart the momentum: keeps the iterates monotone
            if y is x:
                break
            y, vy, ry, t_k = x, vx, rx, 1.0
            continue
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t_k * t_k))
        beta = (t_k - 1.0) / t_next
        y = x_new + beta * (x_new - x)
        vy = v_new + beta * (v_new - vx)  # v is affine in a: no product
        ry = residual(vy)
        improvement = fx - f_new
        x, vx, rx, fx, t_k = x_new, v_new, r_new, f_new, t_next
        dual, done = measure(x, vx)
        if dual > best_dual:
            best, best_dual = x, dual
        duals.append(best_dual)
        values.append(fx)
        if done or fx <= 1e-30 or improvement <= 1e-14 * fx:
            break
        if (
            len(duals) > 20
            and values[-21] - fx <= 0.01 * fx
            and not measure.gaining(duals[-21], best_dual)
        ):
            break  # stalled: neither F nor the dual moves any more
    return best


def _refine_kinks(X, n, coef, loss, t, eps, l1, l2, c, outputs, feasible,
                  loss_sums, V, H, D, refine_iter):  # fmt: skip
    """Re-fit the kink samples of each output (:func:`_refine_output`) and
    raise ``D[j]`` in place where that raises the output's dual."""
    Xr = X.tocsr() if sp.issparse(X) else X
    entries = X.nnz if sp.issparse(X) else X.size
    bvls_budget = max(_BVLS_FLOOR, _BVLS_FACTOR * entries)
    penalties = l1 * np.abs(coef).sum(axis=1) + 0.5 * l2 * np.square(coef).sum(axis=1)
    for j in np.flatnonzero(feasible):
        rows, p, y, w, alpha, kink = outputs[j]
        if kink is None:
            continue
        primal_j = loss_sums[j] / n + penalties[j]
        if _kink_done(primal_j, D[j], _penalty_gap(coef[j], V[:, j], l1, l2), l2):
            continue
        M, mlo, mhi = kink
        XM = Xr[M if rows is None else rows[M]]
        XM = XM.astype(np.float64) if XM.dtype != np.float64 else XM
        wm = w[M] / n
        a0 = alpha[M]
        yM = y[M]
        v_rest = V[:, j] - XM.T @ (wm * a0)
        if sp.issparse(XM):  # follow only the features the kink rows touch
            touched = np.unique(XM.indices)
            XMt = XM[:, touched]
        else:
            touched, XMt = slice(None), XM
        measure = _kink_measure(loss, t, eps, l1, l2, yM, wm, a0, H[j], primal_j,
                                coef[j], V[:, j], touched)  # fmt: skip
        aM = _refine_output(XMt, wm, a0, mlo, mhi, v_rest[touched], coef[j][touched],
                            l1, l2, c != 0.0, refine_iter, bvls_budget, measure)  # fmt: skip
        if aM is None:
            continue
        a_new = alpha.copy()
        a_new[M] = aM
        v_new = v_rest + XM.T @ (wm * aM)
        h_new = H[j] + dot(wm, _conjugate(loss, aM, yM, t, eps) - _conjugate(loss, a0, yM, t, eps))
        out = [(rows, p, y, w, a_new, kink)]
        d_new = _output_duals(loss, out, v_new[:, None], np.array([h_new]), n, t, eps, l1, l2)[0]
        D[j] = max(D[j], d_new)


def _kink_done(primal, dual, penalty_part, l2):
    """Whether a re-fit of the kinks can no longer matter: the gap is at
    rounding level, or (``l2 > 0``) the penalty's part of it, the only part
    the re-fit acts on besides the kink samples' own (small) terms, is under
    1% of the rest."""
    gap = primal - dual
    if gap <= 1e-13 * abs(primal):
        return True
    return l2 > 0.0 and penalty_part <= 0.01 * (gap - penalty_part)


def _kink_measure(loss, t, eps, l1, l2, yM, wm, a0, H_j, primal, coef, v, touched):
    """``measure(a, v_touched) -> (dual, done)`` for :func:`_refine_output`:
    the output's dual with the kink samples at ``a`` (O(m + touched
    features): the rest is constant), and :func:`_kink_done`'s verdict.
    ``measure.gaining(old, new)``: whether a dual's rise from ``old`` to
    ``new`` is still worth iterating for (1% of the gap)."""
    H_rest = H_j - dot(wm, _conjugate(loss, a0, yM, t, eps))
    mask = np.ones(v.shape, dtype=bool)
    mask[touched] = False  # the features that the kink rows leave alone
    v_fixed = v[mask]
    coef_t = coef[touched]
    coef_fixed = coef[mask]
    if l2 > 0.0:
        excess = np.maximum(np.abs(v_fixed) - l1, 0.0)
        g_star_fixed = dot(excess, excess) / (2.0 * l2)
        g = l1 * np.abs(coef).sum() + 0.5 * l2 * dot(coef, coef)
        cv_fixed = dot(coef_fixed, v_fixed)
    else:
        top_fixed = np.abs(v_fixed).max() if v_fixed.size else 0.0

    def measure(a, v_t):
        H = H_rest + dot(wm, _conjugate(loss, a, yM, t, eps))
        if l2 > 0.0:
            excess = np.maximum(np.abs(v_t) - l1, 0.0)
            g_star = g_star_fixed + dot(excess, excess) / (2.0 * l2)
            dual = -H - g_star
            penalty_part = g + g_star - cv_fixed - dot(coef_t, v_t)
            return dual, _kink_done(primal, dual, penalty_part, l2)
        # pure L1: the point scaled by s (h is positively homogeneous here)
        top = max(top_fixed, np.abs(v_t).max() if v_t.size else 0.0)
        s = l1 / top if top > l1 else 1.0
        dual = -s * H
        return dual, _kink_done(primal, dual, 0.0, l2)

    measure.gaining = lambda old, new: new - old > 0.01 * (primal - new)
    return measure


def _penalty_gap(coef, v, l1, l2):
    """``g(coef) + g*(v) - coef . v >= 0`` (Fenchel-Young for the penalty),
    ``l2 > 0``; 0 for ``l2 == 0``."""
    if l2 <= 0.0:
        return 0.0
    g = l1 * np.abs(coef).sum() + 0.5 * l2 * dot(coef, coef)
    excess = np.maximum(np.abs(v) - l1, 0.0)
    return max(g + dot(excess, excess) / (2.0 * l2) - dot(coef, v), 0.0)
