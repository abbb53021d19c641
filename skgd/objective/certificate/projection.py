"""Dual feasibility for the unpenalised intercept: the shift onto ``sum_i w_i alpha_i = total``.

``f(tau) = sum_i w_i clip(a_i - tau s_i, lo_i, hi_i)`` is monotone and
piecewise linear: its root is found exactly by bracketed Newton steps on
the current piece (no sort), with the sorted breakpoints as the fallback.
"""

import numpy as np

from ..products import dot

# A hyperplane residual below this, relative to sum |w alpha|, is rounding.
_ROUNDING = 1e-13


_SWEEPS = 50  # sweeps of the shift's root finding before the exact fallback


# --- feasibility: the intercept's hyperplane --------------------------------


def _shift(a, scale, tau, lo, hi, u, x):
    """``u = a - tau * scale`` (``scale`` None: 1) and ``x = clip(u, lo, hi)``, in place."""
    if scale is None:
        np.subtract(a, tau, out=u)
    else:
        np.multiply(scale, -tau, out=u)
        u += a
    np.clip(u, lo, hi, out=x)


def _shift_clip(a, w, lo, hi, total=0.0, scale=None, tau=0.0, full=False):
    """``clip(a - tau * scale, lo, hi)`` with ``sum(w * result) == total``.

    ``f(tau) = sum w clip(a - tau s, lo, hi)`` is continuous, non-increasing
    and piecewise linear in tau. Its root is found by sweeps over the m
    samples (O(m) each) that keep a bracket ``f(left) > total > f(right)``:
    Newton's step on the linear piece of the current tau, secant steps
    (Illinois) when it leaves the bracket, a jump to the outermost breakpoint
    while one side is unbounded. Each sample's state (at ``hi``, free, at
    ``lo``) only moves one way as tau grows, so equal sums of the states at
    two points mean that one linear piece joins them: Newton's step that
    stays on its piece lands on the root, and a bracket on one piece gives
    it by interpolation -- the root is exact (up to rounding), not
    approximated. Near an optimum the first Newton step lands on the root's
    piece (two sweeps), and a residual already at rounding level ends at
    once. After ``_SWEEPS`` sweeps the breakpoints are sorted instead
    (:func:`_shift_clip_sorted`, O(m log m)). With ``scale = None`` (1) the
    result is the projection onto ``{lo <= alpha <= hi, w . alpha = total}``
    in the metric weighted by ``w``; with ``scale = w`` it is the Euclidean
    one. ``lo`` and ``hi`` are arrays or scalars; ``tau`` is the first guess.

    Returns the result (``(result, tau)`` with ``full``), or None when the
    set is empty (``sum w lo > total`` or ``sum w hi < total`` beyond
    rounding). ``w`` and ``scale`` must be positive.
    """
    a = np.asarray(a, dtype=np.float64)
    m = a.size
    if m == 0:
        if abs(total) > 0.0:
            return None
        return (a.copy(), 0.0) if full else a.copy()
    ws = w if scale is None else w * scale
    if np.isscalar(lo) and np.isscalar(hi) and lo == -np.inf and hi == np.inf:
        # no bound (squared error): f is affine, tau a weighted mean
        tau = (dot(w, a) - total) / float(ws.sum())
        x = a - tau if scale is None else a - tau * scale
        return (x, tau) if full else x
    u, x, tmp = np.empty(m), np.empty(m), np.empty(m)
    left, right = -np.inf, np.inf  # f(left) > total > f(right)
    r_left = r_right = 0.0  # the residuals f - total there
    g_left = g_right = 0.0  # the same, Illinois-scaled
    st_left = st_right = -1  # the sums of the states there
    side, prev_state, newton = 0, -1, False
    for _ in range(_SWEEPS):
        _shift(a, scale, tau, lo, hi, u, x)
        r = dot(w, x) - total
        size = dot(w, np.abs(x, out=tmp)) + abs(total)
        if abs(r) <= _ROUNDING * size:
            break
        below, at_lo = u < hi, u <= lo
        state = np.count_nonzero(below) + np.count_nonzero(at_lo)
        if newton and state == prev_state:
            break  # a Newton step that stayed on its linear piece: the root
        if r > 0.0:
            if side > 0:
                g_right *= 0.5
            left, r_left, g_left, st_left, side = tau, r, r, state, 1
        else:
            if side < 0:
                g_left *= 0.5
            right, r_right, g_right, st_right, side = tau, r, r, state, -1
        if st_left == st_right:  # one linear piece spans the bracket
            tau = left + (right - left) * (r_left / (r_left - r_right))
            _shift(a, scale, tau, lo, hi, u, x)
            break
        # the one-sided slope towards the root (at a breakpoint, the samples
        # that leave their bound that way count as free)
        if r > 0.0:
            free = np.less_equal(u, hi, out=below)
            free &= ~at_lo
        else:
            free = np.greater_equal(u, lo, out=at_lo)
            free &= below
        slope = float(np.multiply(ws, free, out=tmp).sum())
        prev_state, newton = state, False
        if slope > 0.0:
            step = tau + r / slope
            if left < step < right:
                tau, newton = step, True
                continue
        if np.isfinite(left) and np.isfinite(right):
            step = left + (right - left) * (g_left / (g_left - g_right))
            tau = step if left < step < right else 0.5 * (left + right)
            continue
        # One side unbounded, f flat here: jump to the outermost breakpoint
        # on that side, past which f is affine. Flat there too, the set is
        # empty unless the residual is rounding.
        with np.errstate(invalid="ignore"):
            breaks = np.concatenate((a - lo, a - hi))
            if scale is not None:
                breaks /= np.concatenate((scale, scale))
            breaks = breaks[np.isfinite(breaks)]
        if breaks.size:
            outer = breaks.max() if r > 0.0 else breaks.min()
            if (r > 0.0 and tau < outer) or (r < 0.0 and tau > outer):
                tau = outer
                continue
        # Past every breakpoint (up to rounding): the samples whose bound
        # that way is infinite are free, the others at their bound.
        infinite = np.isinf(np.broadcast_to(lo if r > 0.0 else hi, a.shape))
        slope = float(np.multiply(ws, infinite, out=tmp).sum())
        if slope > 0.0:
            tau += r / slope
            _shift(a, scale, tau, lo, hi, u, x)
            break
        if abs(r) <= 1e-12 * size:
            break
        return None
    else:
        return _shift_clip_sorted(a, w, lo, hi, total, scale, full)
    return (x, tau) if full else x


def _shift_clip_sorted(a, w, lo, hi, total=0.0, scale=None, full=False):
    """:func:`_shift_clip` by sorting the 2m breakpoints (O(m log m)):
    evaluating f at every breakpoint with prefix sums (O(m)) brackets the
    root in one linear piece, where it is solved exactly."""
    s = np.ones_like(a) if scale is None else scale
    lo = np.broadcast_to(lo, a.shape)
    hi = np.broadcast_to(hi, a.shape)
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
            tau = _solve_piece(f, knots[0], knots[0] - 1.0, total, slack)
        else:
            tau = _solve_piece(f, knots[-1], knots[-1] + 1.0, total, slack)
    else:  # no finite bound at all: f(tau) = sum w a - tau sum w s
        tau = (tot_a - total) / tot_s
    x = np.clip(a - tau * s, lo, hi)
    if abs(dot(w, x) - total) > 1e-10 * (dot(w, np.abs(x)) + abs(total)) + slack:
        return None  # a safety net: never a point off the hyperplane
    return (x, tau) if full else x


def _solve_piece(f, knot, t1, total, slack):
    # f is affine past the outermost knot (towards t1): solve it there. At
    # the knot itself when f is flat there at ``total`` (up to rounding): a
    # rounding-level slope must not send tau to infinity.
    f0, f1 = f(np.array([knot, t1])) - total
    if abs(f0) <= slack:
        return knot
    slope = (f1 - f0) / (t1 - knot)
    if slope == 0:
        return knot
    return knot - f0 / slope
