"""
===================================================
Plain gradient descent, momentum and Nesterov paths
===================================================

On an ill-conditioned least-squares problem the contour lines are long, thin
ellipses. Plain gradient descent with the safe step ``1/L`` crawls along the
valley floor; heavy-ball momentum accumulates speed along it but overshoots
and spirals; Nesterov's look-ahead corrects the overshoot one step earlier.

We fit :class:`skgd.GDRegressor` with ``solver="batch"`` (one step per
epoch) and ``fit_intercept=False`` from a chosen starting point, with
``record_coef=True``: ``history_["coef"]`` then holds the coefficients after
every epoch, which draw the path.
"""

# %%
# An ill-conditioned two-parameter problem
# ----------------------------------------
# We build features whose second-moment matrix has curvatures 1 and 0.02 along
# two perpendicular directions, the steep one tilted by 30 degrees: the
# objective is steep across the valley and nearly flat along it.
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor

rng = np.random.RandomState(0)
n_samples = 200
# Exactly white samples, so that the curvatures are exactly the chosen ones.
Z = np.linalg.qr(rng.standard_normal((n_samples, 2)))[0] * np.sqrt(n_samples)
angle = np.deg2rad(30)
rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
X = Z @ np.diag(np.sqrt([1.0, 0.02])) @ rotation.T
w_star = np.array([1.0, 1.0])
y = X @ w_star  # noiseless, so w_star is the minimiser

hessian = X.T @ X / n_samples
eigenvalues = np.linalg.eigvalsh(hessian)
kappa = eigenvalues[1] / eigenvalues[0]
print(f"curvatures {eigenvalues.round(3)}, condition number {kappa:.0f}")

# %%
# Every step, recorded
# --------------------
# Far along the flat direction, a little off the valley floor.
start = w_star + 2.2 * rotation[:, 1] + 0.4 * rotation[:, 0]
n_steps = 60
methods = {
    "plain": dict(momentum=0.0),
    "momentum 0.9": dict(momentum=0.9),
    "Nesterov 0.9": dict(momentum=0.9, nesterov=True),
}
paths = {}
for name, params in methods.items():
    reg = GDRegressor(
        solver="batch",
        penalty=None,
        fit_intercept=False,
        max_iter=n_steps,
        tol=None,
        record_coef=True,
        **params,
    )
    reg.fit(X, y, coef_init=start)
    paths[name] = np.vstack([start, reg.history_["coef"]])
    distance = np.linalg.norm(reg.coef_ - w_star)
    print(f"{name:>13}: distance to the minimum after {n_steps} steps {distance:.2e}")

# %%
# The paths on the contour lines
# ------------------------------
# The objective is the quadratic ``0.5 * (w - w*)' H (w - w*)`` plus a
# constant, so the contours need no data.

w0, w1 = np.meshgrid(np.linspace(-0.6, 2.6, 200), np.linspace(-0.3, 3.3, 200))
delta = np.stack([w0 - w_star[0], w1 - w_star[1]], axis=-1)
gap = 0.5 * np.einsum("...i,ij,...j->...", delta, hessian, delta)

fig, ax = plt.subplots(figsize=(8, 6), layout="constrained")
ax.contour(w0, w1, gap, levels=np.geomspace(1e-3, 5, 12), colors="0.75")
for (name, path), style in zip(paths.items(), ["C0o-", "C3s-", "C2^-"], strict=True):
    ax.plot(path[:, 0], path[:, 1], style, ms=3, lw=1, label=name)
ax.plot(*start, "ko", ms=8, label="start")
ax.plot(*w_star, "k*", ms=15, label="minimum")
ax.set(
    xlabel="coef_[0]",
    ylabel="coef_[1]",
    title=f"{n_steps} steps of batch gradient descent with eta0='auto'",
    aspect="equal",
)
ax.legend(loc="upper right")
plt.show()

# %%
# Plain descent moves straight across the valley and then needs about one
# condition number of steps per factor *e* along it. Momentum turns the
# persistent part of the gradient (along the valley) into speed; the part
# that flips sign (across it) cancels out. Neither momentum method descends
# monotonically: they trade a guaranteed decrease at every step for far
# fewer steps.
