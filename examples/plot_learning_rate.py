"""
====================================
Too small, good, too large: the step
====================================

The learning rate ``eta0`` is the length of a step against the gradient. For
the squared error, a step multiplies the error along a direction of
curvature ``lambda`` by ``1 - eta0 * lambda``; with ``L`` the largest
curvature, steps shorter than ``2 / L`` converge and longer ones diverge.
``eta0="auto"`` takes ``1 / L``, which :class:`skgd.GDRegressor` stores as
``eta0_``.

We train on the (standardised) diabetes data with multiples of that step.
A diverging run is stopped by the estimator: ``fit`` raises a
``ValueError`` once the objective is a million times its starting value. To
see the epochs before that, we fit with ``max_iter`` = 1, 2, 3, ... until the
error comes; the batch solver is deterministic, so each fit replays the
previous one and adds an epoch.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()

params = dict(solver="batch", tol=None)
step = GDRegressor(max_iter=1, **params).fit(X, y).eta0_
print(f"eta0='auto' gives 1/L = {step:.4f}")

# The minimum of the objective, from the closed form (the default penalty is
# alpha=1e-4 times the mean loss, that is Ridge with alpha = n * 1e-4).
n_samples = len(y)
ridge = Ridge(alpha=n_samples * 1e-4).fit(X, y)
residuals = y - ridge.predict(X)
f_star = 0.5 * np.mean(residuals**2) + 0.5e-4 * np.sum(ridge.coef_**2)

# The curvatures of the objective: eigenvalues of the Gram matrix of [X, 1].
design = np.column_stack([X, np.ones(n_samples)])
curvatures = np.linalg.eigvalsh(design.T @ design / n_samples)
print(f"condition number {curvatures[-1] / curvatures[0]:.0f}")

# %%
# Four learning rates
# -------------------
factors = {
    "0.05 / L: too small": 0.05,
    "1 / L: eta0='auto'": 1.0,
    "1.9 / L: overshoots, converges": 1.9,
    "2.5 / L: diverges": 2.5,
}
n_epochs = 60
curves, diverged_at = {}, {}
for label, factor in factors.items():
    reg = GDRegressor(eta0=factor * step, max_iter=n_epochs, **params)
    try:
        curves[label] = reg.fit(X, y).history_["loss"]
    except ValueError as error:
        print(f"{label}:\n  {error}")
        # Replay the run epoch by epoch up to the last finite objective.
        for max_iter in range(1, n_epochs):
            try:
                history = reg.set_params(max_iter=max_iter).fit(X, y).history_
            except ValueError:
                break
            curves[label] = history["loss"]
        diverged_at[label] = len(curves[label]) + 1

# %%
# The objective, epoch by epoch
# -----------------------------
fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
for (label, loss), color in zip(curves.items(), ["C0", "C2", "C1", "C3"], strict=True):
    epochs = np.arange(1, len(loss) + 1)
    ax.semilogy(epochs, loss - f_star, color=color, marker=".", label=label)
    if label in diverged_at:
        ax.annotate(
            f"ValueError at epoch {diverged_at[label]}",
            xy=(epochs[-1], loss[-1] - f_star),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            color=color,
        )
ax.set(
    xlabel="epoch",
    ylabel="objective - minimum",
    title="Batch gradient descent on diabetes",
)
ax.legend(title="eta0", loc="center right")
plt.show()

# %%
# Too small a step is safe but slow: after 60 epochs it is still far from the
# minimum. ``1 / L`` removes the error along the steep directions within a few
# epochs, then slows down: along the flattest direction of this data each
# epoch removes only a fraction ``1 / kappa`` of what is left (``kappa`` is the
# condition number printed above). ``1.9 / L`` overshoots the steepest
# direction at every step, yet still contracts it, and its longer steps make
# more progress along the flat directions, which is why it ends lower. Beyond
# ``2 / L`` every overshoot is larger than the last, and the objective grows
# geometrically until the divergence check stops the fit.
