"""
=======================================
Landing on the answer: restart and SAGA
=======================================

How fast do the full-batch methods of the lecture approach the minimum of a
logistic regression, and what do skgd's exact solvers add? We fit
:class:`skgd.GDClassifier` on the standardised breast-cancer data (log-loss,
``alpha=1e-4``) with

- plain gradient descent, ``solver="batch"`` (step ``1/L``);
- heavy-ball momentum, ``solver="batch", momentum=0.9``;
- Nesterov's momentum without restart, ``solver="batch", momentum=0.9,
  nesterov=True``;
- Nesterov's momentum with adaptive restart and backtracking,
  ``solver="accelerated"`` (what ``solver="auto"`` takes for L1 penalties,
  ``partial_fit`` and dask arrays);
- the variance-reduced ``solver="saga"``, when the installed skgd has it;
- the default, ``GDClassifier()``, which here runs ``solver="lbfgs"``
  (quasi-Newton from the data's curvature bound) and stops by itself;

and measure, after every epoch, the relative objective gap
``(F - F*) / F*`` from ``history_["loss"]`` and the distance to the exact
coefficients from ``history_["coef"]`` (``record_coef=True``). ``F*`` is the
objective of :class:`~sklearn.linear_model.LogisticRegression` with
``C = 1 / (n alpha)`` and ``tol=1e-12``, the same problem solved by Newton's
method, scored with :func:`skgd.training_objective`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, training_objective

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
n_samples, alpha = X.shape[0], 1e-4

exact = LogisticRegression(
    C=1.0 / (n_samples * alpha), solver="newton-cholesky", tol=1e-12
).fit(X, y)
scorer = GDClassifier(alpha=alpha, max_iter=1, tol=None).fit(X, y)
best = training_objective(scorer, X, y, coef=exact.coef_, intercept=exact.intercept_)
print(f"F* = {best:.10f}")

# The curvatures at the minimum: eigenvalues of the Hessian of the mean
# log-loss, [X, 1]^T diag(p (1 - p)) [X, 1] / n, plus alpha on the coefficients.
design = np.column_stack([X, np.ones(n_samples)])
p = exact.predict_proba(X)[:, 1]
hessian = design.T @ (design * (p * (1 - p))[:, None]) / n_samples
hessian[:-1, :-1] += alpha * np.eye(X.shape[1])
curvatures = np.linalg.eigvalsh(hessian)
# What the step 1/L of solver="batch" assumes: the worst case p (1 - p) = 1/4.
lipschitz = 0.25 * np.linalg.eigvalsh(design.T @ design / n_samples)[-1] + alpha
print(
    f"curvature at the minimum from {curvatures[0]:.1e} to {curvatures[-1]:.2f}; "
    f"L = {lipschitz:.2f}, so kappa = L / mu = {lipschitz / curvatures[0]:.0f}"
)

# %%
# Every epoch, recorded
# ---------------------
# ``tol=None`` runs all epochs, so these curves show the methods, not where
# they would stop. The default runs at its own ``tol`` and stops by itself
# (the star).
n_epochs = 1000
methods = {
    "plain GD (batch)": dict(solver="batch"),
    "heavy ball 0.9 (batch)": dict(solver="batch", momentum=0.9),
    "Nesterov 0.9, no restart (batch)": dict(
        solver="batch", momentum=0.9, nesterov=True
    ),
    "Nesterov + restart + backtracking (accelerated)": dict(solver="accelerated"),
}
if "saga" in GDClassifier._parameter_constraints["solver"][0].options:
    methods["variance-reduced (saga)"] = dict(solver="saga")
else:
    print("This skgd has no solver='saga': its line is left out.")

# The relative gap is floored where float64 rounding of F takes over.
floor = 1e-15
gaps, distances = {}, {}
for name, params in methods.items():
    clf = GDClassifier(
        alpha=alpha, max_iter=n_epochs, tol=None, record_coef=True, **params
    ).fit(X, y)
    loss = np.asarray(clf.history_["loss"])
    gaps[name] = np.maximum((loss - best) / best, floor)
    path = np.asarray(clf.history_["coef"]).reshape(len(loss), -1)
    distances[name] = np.linalg.norm(path - exact.coef_, axis=1) / np.linalg.norm(
        exact.coef_
    )
    print(f"{name:58s} gap after {len(loss)} epochs: {gaps[name][-1]:.1e}")
accelerated = GDClassifier(alpha=alpha, solver="accelerated").fit(X, y)
print(f"solver='accelerated' at tol='auto' stops after {accelerated.n_iter_} epochs")

# The default, at its default tol="auto": it stops once its duality gap
# certifies a relative gap of 1e-6, and its curve ends there. (With
# tol=None, its iterations past the optimum would find no decrease in
# float64 and only cost time: 30 trial steps each.)
default = GDClassifier(alpha=alpha, record_coef=True).fit(X, y)
name = f"quasi-Newton from the curvature bound ({default.solver_}, default)"
methods[name] = {}
loss = np.asarray(default.history_["loss"])
gaps[name] = np.maximum((loss - best) / best, floor)
path = np.asarray(default.history_["coef"]).reshape(len(loss), -1)
distances[name] = np.linalg.norm(path - exact.coef_, axis=1) / np.linalg.norm(
    exact.coef_
)
default_gap = (training_objective(default, X, y) - best) / best
print(
    f"default GDClassifier ({default.solver_}): stops after {default.n_iter_} "
    f"epochs, gap {default_gap:.1e}"
)

# %%
# The gap and the distance, epoch by epoch
# ----------------------------------------
fig, (ax_gap, ax_dist) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
for name in methods:
    epochs = np.arange(1, len(gaps[name]) + 1)
    ax_gap.plot(epochs, gaps[name], lw=1.4, label=name)
    ax_dist.plot(epochs, distances[name], lw=1.4, label=name)
ax_gap.plot(
    default.n_iter_, max(default_gap, floor), "k*", ms=11,
    label="the default stops here (tol='auto')",
)  # fmt: skip
ax_gap.axhline(1e-6, color="0.5", ls=":", lw=1)
ax_gap.set(
    yscale="log", xlabel="epoch", ylabel="(F - F*) / F*",
    title="relative objective gap",
)  # fmt: skip
ax_dist.set(
    yscale="log", xlabel="epoch", ylabel="||w - w*|| / ||w*||",
    title="distance to the exact coefficients",
)  # fmt: skip
for ax in (ax_gap, ax_dist):
    ax.grid(True, alpha=0.3)
handles, labels = ax_gap.get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
plt.show()

# %%
# What the curves say
# -------------------
# The condition number of this problem is large (standardised but strongly
# correlated features, nearly separable classes, and ``alpha=1e-4`` as the
# only curvature in some directions), so plain gradient descent with the
# safe step ``1/L`` has barely started after a thousand epochs: it contracts
# the error by about ``1 - 1/kappa`` per epoch. Heavy-ball momentum and
# Nesterov's look-ahead with a fixed 0.9 (their two lines lie on top of each
# other) move about ten times as far per epoch (``1 / (1 - 0.9)``), which on
# this problem is nowhere near enough: the momentum would have to be about
# ``1 - 1/sqrt(kappa)``, a number nobody knows in advance, and set too high
# it makes the iterates circle the minimum.
#
# ``solver="accelerated"`` fixes the two things a fixed momentum gets
# wrong. **Backtracking** measures the curvature where the
# iterate is (here the curvature at the minimum is at most 0.11, thirty times
# below the worst case ``L`` printed above), so the steps are longer;
# **adaptive restart** resets the momentum as soon as it points uphill, so
# the oscillations never build up, and the convergence becomes linear at the
# accelerated rate without knowing the strong convexity. At ``tol="auto"``
# it stops by itself after about 220 epochs, once its duality gap certifies
# a relative gap of 1e-6 (``dual_gap_``).
#
# The default, ``solver="lbfgs"``, shapes the direction instead: L-BFGS
# learns the curvature from its last 10 steps and gradient changes,
# starting from the data's curvature bound ``B = [X, 1]^T [X, 1] / (4 n)``
# plus ``alpha`` (Böhning & Lindsay 1988). On these nearly separable
# classes the bound is loose (most rows' loss has flattened), so when the
# gradient stalls it rebuilds its metric from the loss's curvature at the
# current predictions. Its line search evaluates the objective along the
# direction from the kept predictions ``X theta`` and ``X d``, so an epoch
# costs two passes over ``X``, as the accelerated solver's do. It
# certifies 1e-6 after about 20 epochs: the star.
#
# A variance-reduced method (SAGA) takes ``n`` cheap steps per epoch, each
# corrected by a table of past gradients so that the noise vanishes at the
# minimum; it pays off when ``n`` is large or the data sparse, where a full
# gradient is expensive and many of them are needed. See
# :ref:`stopping_and_acceleration` in the user guide.
