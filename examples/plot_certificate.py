"""
===========================================
When do we stop? When the certificate says
===========================================

Every convex objective :math:`P(\\theta)` has a dual :math:`D(\\alpha)` that
is below its minimum for every feasible :math:`\\alpha`. A fit that builds a
dual point next to its iterate can therefore *prove* how close it is:
``P(theta) - D(alpha)`` bounds ``P(theta) - P*``. skgd's exact solvers stop
when this duality gap is at most ``tol`` times the objective, and record each
gap they compute in ``history_["dual_gap"]``.

We fit :class:`skgd.GDClassifier` on the standardised breast-cancer data
(``alpha=1e-3``) with two losses and two solvers:

- ``solver="sdca"`` (stochastic dual coordinate ascent, the default for the
  hinge), which carries its dual point and measures the gap every epoch;
- ``solver="accelerated"`` (Nesterov's momentum with restart, the default
  with an L1 penalty and in ``partial_fit``), which builds the dual point
  from its iterate, and computes it only when its free estimate of the
  gradient says a stop is near. The log-loss's default, ``solver="lbfgs"``,
  certifies the same way.

On the smooth log-loss both land. On the hinge the accelerated solver's
primal creeps, and its certificate says so: a first-order primal method has
no linear rate on a loss with a kink. SDCA's exact coordinate steps close the
gap in a handful of epochs.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)

fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex="col")
for column, loss in enumerate(["hinge", "log_loss"]):
    for solver, color in [("sdca", "C0"), ("accelerated", "C1")]:
        clf = GDClassifier(
            loss=loss, alpha=1e-3, solver=solver, max_iter=300, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        epochs = np.arange(1, clf.n_iter_ + 1)
        primal = clf.history_["loss"]
        gap = clf.history_["dual_gap"]
        checked = ~np.isnan(gap)
        axes[0, column].plot(epochs, primal, color=color, label=f"{solver}: P")
        axes[0, column].plot(
            epochs[checked], primal[checked] - gap[checked], "o--", color=color,
            markersize=3, label=f"{solver}: D",
        )  # fmt: skip
        axes[1, column].semilogy(
            epochs[checked], gap[checked] / primal[checked], "o-", color=color,
            markersize=3, label=f"{solver} ({clf.n_iter_} epochs)",
        )  # fmt: skip
    axes[1, column].axhline(1e-6, color="gray", linestyle=":", label="tol = 1e-6")
    top = axes[0, column]
    top.set_title(f"loss={loss!r}")
    top.set_ylim(0.9 * primal.min(), 1.5 * primal.min())
    top.set_ylabel("primal P and dual D")
    top.legend(fontsize=8)
    axes[1, column].set_xlabel("epoch")
    axes[1, column].set_ylabel("certified gap (P - D) / P")
    axes[1, column].legend(fontsize=8)
fig.tight_layout()
plt.show()
