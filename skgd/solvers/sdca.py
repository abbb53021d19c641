r"""Stochastic dual coordinate ascent: one sample's dual variable at a time, solved exactly.

SDCA (Shalev-Shwartz & Zhang 2013; prox-SDCA for the elastic net, 2014)
maximises the dual of the objective, which has one variable
:math:`\alpha_i` per sample (and output):

.. math::

    D(\alpha) = -\frac1n \sum_i s_i\, \ell_i^*(-\alpha_i)
    - \lambda_2\, g^*\!\Bigl(\frac{1}{\lambda_2 n} \sum_i s_i \alpha_i x_i\Bigr),
    \qquad w = \nabla g^*(v) = \operatorname{soft}(v, \lambda_1 / \lambda_2),

with :math:`g(w) = \tfrac12 \lVert w \rVert^2 + (\lambda_1/\lambda_2)
\lVert w \rVert_1`. A step maximises :math:`D` over one :math:`\alpha_i`,
the others fixed: an online step whose size is *solved* (in closed form,
or by a few safeguarded Newton steps for the log-loss) rather than
scheduled, so there is no learning rate, and the non-smooth losses (hinge,
:math:`\varepsilon`-insensitive), whose conjugates are smooth on a box,
converge to their exact optimum. The primal iterate :math:`w` follows
:math:`\alpha`, and the duality gap :math:`P(w) - D(\alpha)` comes with
every epoch: it is the stopping test.

The unpenalised intercept adds the dual constraint :math:`\sum_i s_i
\alpha_i = 0`. Within an epoch the intercept carries a proximal term
:math:`(\mu/2)(b - b_0)^2` (each step moves :math:`b` too), and after it the
centre moves to the new :math:`b`: the method of multipliers on that
constraint, whose fixed points are the unpenalised optimum (``mu = l2``: a
step's curvature is then liblinear's augmented row, but recentred). On the
hinge, liblinear's shrinking drops the rows whose variable sits at a bound
and would stay there. The compiled passes are :mod:`skgd._kernels.sdca`.

SDCA needs an L2 part (``alpha > 0`` with ``penalty='l2'``, or
``'elasticnet'`` with ``l1_ratio < 1``), and takes the separable losses (the
multinomial log-loss is fitted by the primal solvers). Its dual variables
are per call: ``partial_fit`` and warm starts begin from zero duals (and so
zero coefficients) at the previous intercept.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._kernels.sdca import (
    LOSS_CODES,
    MIN_CALL_WORK,
    csr_sdca_passes,
    dense_sdca_passes,
)
from ..objective.certificate import dual_value
from ..objective.curvature import squared_row_norms
from .base import Solver

# liblinear's tolerance on the spread of the projected gradients of the
# active rows (hinge shrinking), at which a kernel call ends: the first one
# with an intercept (see SdcaSolver._aim_shrinking).
SHRINKING_START_EPS = 0.1

# An epoch's evaluation and its gap cost about two passes over the data: an
# epoch of one pass's worth of steps would spend two thirds of the time
# measuring (measured: hinge on 5000 x 100, 2.8x liblinear's time). So an
# epoch runs the passes the gaps so far say are still needed (their rate per
# pass, extrapolated to the stopping target), from one up to this many: a
# fit that needs few overshoots little, a long one measures at most a fifth
# of the time.
MAX_PASSES_PER_EPOCH = 8

# Without an intercept, the shrinking's convergence test of the next epoch
# aims at cutting the gap this much (see SdcaSolver._aim_shrinking).
GAP_CUT_PER_EPOCH = 0.01


@dataclass
class SdcaSolver(Solver):
    """:class:`~skgd.solvers.base.Solver` whose epoch is a pass's worth of
    exact dual coordinate steps (at least ``MIN_CALL_WORK`` multiply-adds)."""

    _dual: dict = field(default=None, repr=False)

    name = "sdca"
    exact = True
    own_rule = "solves each sample's dual variable exactly, without a learning rate"
    walks_rows = True
    canonical_rows = True  # a row's squared norm sums its stored values
    uses_full_gradient = False

    @classmethod
    def first_step(cls, objective, settings, theta):
        return 1.0  # no step to choose: each coordinate step is solved

    @classmethod
    def check(cls, objective):
        """Raise if SDCA cannot fit ``objective`` (its penalty's L2 part is
        checked with the parameters)."""
        if objective.loss.coupled:
            raise ValueError(
                "solver='sdca' fits one-vs-rest losses; the multinomial log-loss "
                "(loss='log_loss' with more than two classes) is fitted by "
                "solver='accelerated' or 'saga'."
            )

    def start(self, state):
        obj = self.objective
        self.check(obj)
        X, (n, k) = obj.X, obj.Y.shape
        train = np.flatnonzero((obj.W != 0).any(axis=1)).astype(np.int64)
        c, l2 = float(obj.intercept), obj.penalty.l2
        entries_per_row = max((X.nnz if sp.issparse(X) else X.size) / max(n, 1), 1.0)
        b = np.array(state.theta[:, -1], dtype=np.float64)
        self._dual = {
            "alpha": np.zeros((n, k)),
            "v": np.zeros((k, X.shape[1])),
            "w": np.zeros((k, X.shape[1])),
            "b": b,
            "b0": b.copy(),
            "sqnorm": np.asarray(squared_row_norms(X), dtype=np.float64),
            "index": np.tile(train, (k, 1)),
            "active": np.full(k, train.size, dtype=np.int64),
            "n_rows": train.size,
            "kept": False,  # whether this epoch began with rows still shrunk
            "converged": False,  # whether the last call's active problem converged
            "pg": np.array([[np.inf] * k, [-np.inf] * k, [0.0] * k, [0.0] * k]),
            "pg_eps": SHRINKING_START_EPS,
            "rng": np.array([self.rng.randint(1, 2**62)], dtype=np.uint64),
            # A pass's worth of row visits at least, and enough work that a
            # call's Python overhead and the gap's pass stay small beside it.
            "pass": max(train.size, math.ceil(MIN_CALL_WORK / entries_per_row)),
            # Passes in the next epoch. Without an intercept the kernel's own
            # convergence test (aimed at the target, see aim) ends the first
            # epoch: sparse 2e4 x 5e3 hinge, one epoch of 6.8 ms, where
            # epochs of 1, 2 and 3 passes took 8.6 ms and three gaps.
            "passes": 1 if c != 0.0 else MAX_PASSES_PER_EPOCH,
            "done": 0,  # passes run so far
            "gaps": [],  # (passes so far, gap) at each measurement
            "code": LOSS_CODES[obj.loss.name],
            "lam": obj.penalty.l1 / l2,
            "inv_l2n": 1.0 / (l2 * obj.n_train),
            # The intercept's proximal weight mu = l2 c^2: its steps then do
            # not depend on intercept_scaling (mu = l2 at c = 1, measured best
            # there; at c = 0.1, mu = l2 made the intercept crawl).
            "inv_mun": 1.0 / (l2 * c * c * obj.n_train) if c != 0.0 else 0.0,
        }

    def run_epoch(self, state):
        obj, dual = self.objective, self._dual
        X = obj.X
        if sp.issparse(X):
            kernel, data = csr_sdca_passes, (X.data, X.indices, X.indptr)
        else:
            kernel, data = dense_sdca_passes, (X,)
        c = float(obj.intercept)
        budget = dual["pass"] * dual["passes"]
        # A call whose active problem converged brings every row back for
        # the next; one that ran out of budget leaves its rows shrunk, but
        # for one epoch at most: the active problem of a few nearly
        # dependent rows may not converge in any budget, and the rows left
        # out would then never move (dense hinge 2e4 x 100: the gap stuck at
        # 1.4e-6 for ten epochs). With an intercept every epoch starts with
        # every row (the multiplier step moves every prediction; rows stuck
        # at a bound once stalled the intercept's constraint).
        kept = bool(np.any(dual["active"] < dual["n_rows"]))
        if c != 0.0 or (kept and dual["kept"]):
            dual["active"][:] = dual["n_rows"]
            kept = False
        dual["kept"] = kept
        dual["done"] += dual["passes"]
        # Shrinking (liblinear's) pays on the hinge and the epsilon-insensitive
        # loss, whose variables pile up at the box's bounds (and, for the
        # latter, at 0 inside the tube).
        shrinking = dual["code"] == LOSS_CODES["epsilon_insensitive"] or (
            dual["code"] == LOSS_CODES["hinge"] and obj.loss.params[0] > 0
        )
        converged = kernel(
            *data, obj.Y, obj.W, dual["index"], dual["active"], dual["n_rows"],
            dual["sqnorm"], dual["alpha"], dual["v"], dual["w"], dual["b"],
            dual["code"], obj.loss.params_array, dual["lam"], dual["inv_l2n"], c,
            dual["inv_mun"], shrinking, dual["pg"], dual["pg_eps"], budget, dual["rng"],
        )  # fmt: skip
        b = dual["b"].copy()  # the intercept of these duals, before recentring
        if c != 0.0:
            self._recentre()
        coef = dual["v"] if dual["lam"] == 0.0 else dual["w"]
        state.theta[:, :-1] = coef
        state.theta[:, -1] = b
        dual["converged"] = converged > 0
        state.t += budget
        state.epoch += 1
        return 1.0

    def _recentre(self):
        # The multiplier step b0 <- b0 + s / mu, s = (c/n) sum_i W_i alpha_i:
        # its fixed points satisfy the dual's constraint s = 0. The new b
        # is recomputed from alpha, so rounding does not accumulate.
        obj, dual = self.objective, self._dual
        W = obj.W.astype(np.float64)
        alpha = dual["alpha"]
        s = (W * alpha).sum(axis=0) if W.shape[1] > 1 else W[:, 0] @ alpha
        step = float(obj.intercept) * dual["inv_mun"] * s
        dual["b0"] += step
        dual["b"][:] = dual["b0"] + step

    def aim(self, target):
        # The first epoch's convergence test, aimed at the target (see
        # _aim_shrinking), without an intercept.
        if self.objective.intercept == 0.0 and target > 0:
            self._dual["pg_eps"] = target * self._per_gap()

    def residual_estimate(self, state):
        return 0.0  # its gap is cheap: check it after every epoch

    def _plan(self, gap, target):
        """The passes of the next epoch: as many as the gap's rate per pass
        so far needs to reach ``target``, doubling without a rate yet."""
        dual = self._dual
        gaps = dual["gaps"]
        gaps.append((dual["done"], gap))
        passes = 2 * dual["passes"]
        if len(gaps) >= 2 and target is not None and 0 < target < gap:
            (p0, g0), (p1, g1) = gaps[-2], gaps[-1]
            if 0 < g1 < g0:
                rate = math.log(g1 / g0) / (p1 - p0)  # log-gap per pass, < 0
                passes = math.ceil(math.log(target / gap) / rate)
        dual["passes"] = int(min(max(passes, 1), MAX_PASSES_PER_EPOCH))

    def duality_gap(self, state, target=None):
        """``P(theta)`` from the epoch's evaluation, and the dual of the
        solver's own variables (one ``X^T`` product)."""
        obj = self.objective
        primal = self.evaluate(state)
        dual = dual_value(
            obj.X, obj.Y, obj.W, obj.n_train, self._dual["alpha"], obj.loss.name,
            obj.loss.params, obj.penalty.l1, obj.penalty.l2, obj.intercept,
        )  # fmt: skip
        gap = max(primal - dual, 0.0)
        self._plan(gap, target)
        self._aim_shrinking(gap, target)
        return gap, primal

    def _aim_shrinking(self, gap, target):
        """The spread of projected gradients at which the next epoch's active
        problem counts as converged, and the epoch ends.

        Without an intercept: the spread that would cut the gap a hundredfold,
        never finer than the target needs. A row's share of the gap is at
        most its projected gradient's size weighted ``W_i / n``, so the gap
        is at most ``max |PG| sum_i W_i / n`` per output, and a spread of
        ``g n / sum_i W_i`` bounds it by about ``g``.

        With an intercept, the gap is mostly the dual's distance from the
        intercept's constraint, which one multiplier step per epoch closes:
        a finer inner problem buys nothing (breast_cancer's hinge, 8.7 ->
        11.9 ms with the aim above). The spread then starts at
        ``SHRINKING_START_EPS``.

        Either way a tenth of the last spread where the last epoch converged
        and still missed the target.
        """
        obj, dual = self.objective, self._dual
        eps = dual["pg_eps"]
        if obj.intercept == 0.0:
            aim = GAP_CUT_PER_EPOCH * gap
            if target is not None:
                aim = max(aim, target)
            eps = aim * self._per_gap()
        if dual["converged"]:
            eps = min(eps, 0.1 * dual["pg_eps"])
        dual["pg_eps"] = eps

    def _per_gap(self):
        # The projected gradients' spread per unit of gap (_aim_shrinking).
        obj = self.objective
        return obj.n_train / max(float(obj.W.sum(axis=0).max()), 1e-300)
