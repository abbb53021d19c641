"""
===========================================
Learning by trials versus gradient descent
===========================================

The most naive way to learn needs no derivative: change the parameters at
random, keep the change if the training objective went down, undo it
otherwise. :class:`skgd.GDRegressor` implements it as
``solver="perturbation"`` (a (1+1) evolution strategy whose trial step
adapts by the 1/5 success rule), next to ``solver="batch"``, which steps
against the exact gradient.

Both solvers evaluate the objective once per epoch: a trial needs one pass
over the data, and so does a gradient (the fused pass computes the objective
and its gradient together). So ``max_iter`` buys both the same number of
objective evaluations, and their ``history_`` can be compared epoch for
epoch. We measure the distance from the exact minimum with
:func:`skgd.objective_gap`, which subtracts the objective of
:func:`skgd.closed_form_solution` from ``history_["loss"]``.
"""

# %%
# The diabetes data, ten features
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor, objective_gap

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()

n_evaluations = 3000
gaps, fits = {}, {}
for solver in ["batch", "perturbation"]:
    reg = GDRegressor(solver=solver, max_iter=n_evaluations, tol=None, random_state=0)
    fits[solver] = reg.fit(X, y)
    gaps[solver] = objective_gap(reg, X, y)
    print(
        f"{solver:>12}: gap after 10 evaluations {gaps[solver][9]:.1e}, "
        f"after {n_evaluations} {gaps[solver][-1]:.1e}"
    )

# %%
# The perturbation solver records its trial step as the "learning rate" of
# each epoch: it grows after a success and shrinks after a failure, and an
# accepted trial is an epoch whose objective went down.
trials = fits["perturbation"].history_
accepted = np.diff(trials["loss"]) < 0
print(f"accepted trials: {accepted.mean():.0%}")

# %%
# How many evaluations for how much progress
# ------------------------------------------
epochs = np.arange(1, n_evaluations + 1)
fig, (ax_gap, ax_step) = plt.subplots(
    1, 2, figsize=(11, 4.5), layout="constrained", width_ratios=[3, 2]
)
styles = {"batch": "C0", "perturbation": "C3"}
for solver, gap in gaps.items():
    # Clip at rounding level: the log axis has no room for a gap of 0.
    ax_gap.loglog(epochs, np.maximum(gap, 1e-12), styles[solver], label=solver)
ax_gap.set(
    xlabel="objective evaluations (epochs)",
    ylabel="objective - exact minimum",
    title="Distance from the closed-form minimum",
    ylim=(1e-10, 1),
)
ax_gap.legend()
ax_step.loglog(epochs, trials["learning_rate"], "C3")
ax_step.set(
    xlabel="objective evaluations (epochs)",
    ylabel="trial step",
    title="The perturbation solver's step (1/5 rule)",
)
plt.show()

# %%
# After the same number of passes over the data, gradient descent is several
# orders of magnitude closer to the minimum. Most random trials are
# rejected, and the accepted ones are mostly sideways: the trial step has to
# shrink for any trial to succeed, and progress slows with it.
#
# The cost grows with the number of parameters
# --------------------------------------------
# A random direction in ``d`` dimensions has a component of only about
# ``1 / sqrt(d)`` along the downhill direction, so trial and error needs
# more evaluations the more parameters there are. The gradient gives all
# ``d`` slopes from one pass. We count the evaluations each solver needs to
# close 99.9% of the gap between the starting objective and the minimum, on
# well-conditioned synthetic problems of growing width.
rng = np.random.RandomState(0)
widths = [2, 4, 8, 16, 32, 64]
needed = {"batch": [], "perturbation": []}
for d in widths:
    X_d = rng.standard_normal((1000, d))
    y_d = X_d @ rng.standard_normal(d) / np.sqrt(d) + 0.5 * rng.standard_normal(1000)
    for solver in needed:
        budget = 50 if solver == "batch" else 40 * d + 100
        reg = GDRegressor(solver=solver, max_iter=budget, tol=None, random_state=0)
        gap = objective_gap(reg.fit(X_d, y_d), X_d, y_d)
        minimum = reg.history_["loss"][0] - gap[0]
        # The objective at the start (zero coefficients) is half the mean square.
        target = 1e-3 * (0.5 * np.mean(y_d**2) - minimum)
        reached = np.flatnonzero(gap < target)
        needed[solver].append(reached[0] + 1 if reached.size else np.nan)
    print(
        f"d = {d:>2}: evaluations needed, batch {needed['batch'][-1]}, "
        f"perturbation {needed['perturbation'][-1]}"
    )

fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
for solver, counts in needed.items():
    ax.loglog(widths, counts, styles[solver] + "o-", label=solver)
proportional = needed["perturbation"][-1] * np.array(widths) / widths[-1]
ax.loglog(widths, proportional, "k:", label="proportional to d")
ax.set(
    xlabel="number of features d",
    ylabel="evaluations to reach the target",
    title="Trial and error scales with d, the gradient does not",
)
ax.set_xticks(widths, [str(d) for d in widths])
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.legend()
plt.show()

# %%
# The number of trials grows in proportion to ``d``, while gradient descent
# needs a handful of steps whatever the width, because each step uses the
# exact direction of steepest descent and a step length from the curvature
# (``eta0="auto"``). The trial solver is not useless, since it needs nothing
# but objective values, but whenever a gradient is available, it wins.
