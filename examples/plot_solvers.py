"""
=========================================
Batch, online and mini-batch: the zig-zag
=========================================

The three solvers of :class:`skgd.GDRegressor` descend the same objective
but look at different amounts of data per step:

- ``solver="batch"``: one step per epoch, with the exact gradient;
- ``solver="online"``: one step per sample, with that sample's gradient;
- ``solver="minibatch"``: one step per block of ``batch_size`` samples.

On a two-parameter least-squares problem we record the coefficients after
*every* update, by feeding :meth:`~skgd.GDRegressor.partial_fit` exactly
the samples of one update at a time (the optimizer's state carries over
between calls, so this is the same run as ``fit``). Each solver takes its own
automatic step (``eta0_``), which we read from a one-epoch ``fit``.
"""

# %%
# A small, correlated problem
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor

rng = np.random.RandomState(0)
n_samples = 100
X = rng.standard_normal((n_samples, 2)) @ np.array([[1.0, 0.0], [0.8, 0.35]])
y = X @ np.array([2.0, -1.0]) + 0.5 * rng.standard_normal(n_samples)

# No penalty and no intercept: the minimiser is ordinary least squares.
w_star = np.linalg.lstsq(X, y, rcond=None)[0]


def objective(w):
    """The estimators' objective, mean(0.5 * residual**2), for rows of ``w``."""
    residuals = y[:, np.newaxis] - X @ np.atleast_2d(w).T
    return 0.5 * np.mean(residuals**2, axis=0)


f_star = objective(w_star)[0]

# %%
# Every update, recorded
# ----------------------
# ``block`` is the number of samples per update: all of them for the batch
# solver, 1 for online, ``batch_size`` for mini-batch.

n_epochs = 10
common = dict(penalty=None, fit_intercept=False, shuffle=False, tol=None)
solvers = {
    "batch": dict(solver="batch"),
    "online": dict(solver="online"),
    "minibatch (10)": dict(solver="minibatch", batch_size=10),
}
paths = {}
for name, params in solvers.items():
    # The automatic step this solver would use on the whole data set.
    eta0 = GDRegressor(max_iter=1, **params, **common).fit(X, y).eta0_
    block = {"batch": n_samples, "online": 1}.get(params["solver"], 10)
    reg = GDRegressor(eta0=eta0, **params, **common)
    order_rng = np.random.RandomState(1)
    path = [np.zeros(2)]
    for _ in range(n_epochs):
        order = order_rng.permutation(n_samples)
        for start in range(0, n_samples, block):
            rows = order[start : start + block]
            reg.partial_fit(X[rows], y[rows])
            path.append(reg.coef_.copy())
    paths[name] = np.array(path)
    print(
        f"{name:>15}: eta0 = {eta0:.3f}, {len(path) - 1} updates in {n_epochs} epochs"
    )

# %%
# Paths on the contour lines, and the objective per epoch
# -------------------------------------------------------
# The online path swings across the valley because each sample pulls the
# coefficients towards the values that would fit *it*; it reaches the
# neighbourhood of the minimum within the first epoch, then keeps jittering
# around it. Mini-batches average 10 pulls and zig-zag less. The batch path
# is smooth but makes only one step per epoch.

fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
w0, w1 = np.meshgrid(np.linspace(-0.5, 3.5, 150), np.linspace(-2.5, 1.0, 150))
grid = np.column_stack([w0.ravel(), w1.ravel()])
levels = f_star + np.geomspace(0.005, 5, 10)
ax_path.contour(w0, w1, objective(grid).reshape(w0.shape), levels=levels, colors="0.75")
styles = {"batch": "C0o-", "online": "C3-", "minibatch (10)": "C2.-"}
for name, path in paths.items():
    ax_path.plot(path[:, 0], path[:, 1], styles[name], lw=1, ms=3, label=name)
ax_path.plot(*w_star, "k*", ms=14, label="least squares")
ax_path.set(
    xlabel="coef_[0]", ylabel="coef_[1]", title="Coefficients after each update"
)
ax_path.legend()

for name, path in paths.items():
    epochs = np.linspace(0, n_epochs, len(path))
    ax_loss.semilogy(
        epochs, objective(path) - f_star, styles[name][:2] + "-", label=name
    )
ax_loss.set(
    xlabel="epochs (passes over the data)",
    ylabel="objective - minimum",
    title="Objective after each update",
)
ax_loss.legend()
plt.show()

# %%
# With a constant rate the online solver never settles: at the minimum the
# *mean* gradient is zero but the individual ones are not. A decaying
# ``learning_rate`` (see :ref:`sphx_glr_auto_examples_plot_schedules.py`) or a
# larger ``batch_size`` shrinks the jitter; the batch solver has none.
