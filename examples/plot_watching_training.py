"""
=================
Watching training
=================

A fitted :class:`skgd.GDRegressor` keeps a record of every epoch in
``history_``: the training objective (``"loss"``), the norm of its gradient
(``"grad_norm"``, for the solvers that form it), the learning rate of the
epoch's last update
(``"learning_rate"``), the coefficient norm, the elapsed time, and how many
times a diverging epoch was rescued (``"lr_halvings"``). With
``record_coef=True`` it also keeps the coefficients and intercepts of every
epoch, the optimisation path.

This example reads those records, measures the distance from the exact
minimum with :func:`skgd.objective_gap`, rescues a learning rate that is too
large with ``divergence_recovery``, and keeps the best coefficients of a
stream of :meth:`~skgd.GDRegressor.partial_fit` calls with
``validation_data``.
"""

# %%
# What ``history_`` records
# -------------------------
# Mini-batch descent on the standardised diabetes data, with a learning rate
# that warms up for 5 epochs and then follows a cosine down to zero.
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor, closed_form_solution, objective_gap

data = load_diabetes()
X = StandardScaler().fit_transform(data.data)
y = (data.target - data.target.mean()) / data.target.std()

reg = GDRegressor(
    solver="minibatch",
    batch_size=16,
    learning_rate="cosine",
    warmup=5,
    eta0=0.05,
    max_iter=60,
    tol=None,
    record_coef=True,
    random_state=0,
).fit(X, y)
history = reg.history_
print(sorted(history))
print(f"history_['coef'] has shape {history['coef'].shape}: (epochs, features)")

# The objective minus its exact minimum, and the distance from the exact
# coefficients (both from the normal equations). Mini-batch descent never
# forms the full gradient, so its ``history["grad_norm"]`` is NaN; the
# batch solver records it.
gap = objective_gap(reg, X, y)
exact_coef, exact_intercept = closed_form_solution(reg, X, y)
distance = np.linalg.norm(history["coef"] - exact_coef, axis=1)

epochs = np.arange(1, reg.n_iter_ + 1)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
axes[0].semilogy(epochs, gap, "C0")
axes[0].set(title="objective_gap (loss - minimum)", xlabel="epoch")
axes[1].semilogy(epochs, distance, "C1")
axes[1].set(title="|history_['coef'] - closed form|", xlabel="epoch")
axes[2].plot(epochs, history["learning_rate"], "C2")
axes[2].set(title="history_['learning_rate']", xlabel="epoch")
plt.show()

# %%
# While the rate is large, the mini-batches' noise keeps the objective from
# going lower; as the cosine brings the rate down, the noise dies out and the
# gap falls by two orders of magnitude. The distance from the exact
# coefficients falls by only a third: the next plot shows why.
#
# The coefficient path
# --------------------
# ``history_["coef"]`` stacks ``coef_`` after each epoch. The exact answer
# the path is heading for is :func:`skgd.closed_form_solution`.

fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
for j, name in enumerate(data.feature_names):
    (line,) = ax.plot(epochs, history["coef"][:, j], label=name)
    ax.plot(epochs[-1] + 2, exact_coef[j], "<", color=line.get_color())
ax.set(
    xlabel="epoch", ylabel="coef_", title="history_['coef'], and the closed form (◀)"
)
ax.legend(title="feature", loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()

# %%
# Most coefficients settle on their exact values within a few epochs, but not
# all: ``s1``, ``s2``, ``s3`` and ``s5`` are still far from them, although the
# objective is less than 0.001 above its minimum. These blood-serum measurements
# are strongly correlated, so moving their coefficients together barely
# changes the objective: a long, flat valley floor, where a small gradient
# drives slow progress. A small objective gap does not mean exact
# coefficients; :ref:`sphx_glr_auto_examples_plot_closed_form.py` follows
# the batch solver along that valley.
#
# Rescuing a learning rate that is too large
# ------------------------------------------
# Ten times the safe step ``1 / L`` (the ``eta0_`` that ``eta0="auto"``
# computes) makes the batch solver diverge, and ``fit`` says so.
safe_step = GDRegressor(solver="batch", max_iter=1, tol=None).fit(X, y).eta0_
too_large = dict(solver="batch", eta0=10 * safe_step, max_iter=60, tol=None)
try:
    GDRegressor(**too_large).fit(X, y)
except ValueError as error:
    print(textwrap.fill(str(error), 79))

# %%
# With ``divergence_recovery=5``, up to five diverging epochs are undone and
# retried with the learning rate halved. ``history_["lr_halvings"]`` counts
# the halvings so far, epoch by epoch.
rescued = GDRegressor(divergence_recovery=5, **too_large).fit(X, y)
print(
    f"halvings: {int(rescued.history_['lr_halvings'][-1])}, "
    f"final rate: {rescued.history_['learning_rate'][-1] / safe_step:.2f} / L"
)

epochs = np.arange(1, rescued.n_iter_ + 1)
halvings = rescued.history_["lr_halvings"]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
axes[0].semilogy(epochs, objective_gap(rescued, X, y), "C3.-")
axes[0].set(xlabel="epoch", title="objective_gap of the rescued fit")
axes[1].step(epochs, halvings, "C3", where="post")
axes[1].set(
    xlabel="epoch",
    title="history_['lr_halvings']",
    yticks=range(int(halvings.max()) + 1),
)
axes[2].semilogy(epochs, rescued.history_["learning_rate"] / safe_step, "C3")
axes[2].axhline(2, color="k", ls=":", label="2 / L: the stability limit")
axes[2].set(xlabel="epoch", title="history_['learning_rate'] * L")
axes[2].legend()
for ax in axes:
    ax.set_xlim(0, 20)
plt.show()

# %%
# The objective grows geometrically until it passes a million times its
# starting value; that epoch is undone and retried at half the rate, which
# still overshoots, and so on until the rate is below ``2 / L``. Only the
# diverging epoch is undone, not the growth that led to it, so the rescued
# fit first has to come back down. A rescue is a safety net: a rate that
# needs one is better fixed, here by keeping ``eta0="auto"``.
#
# Keeping the best coefficients of a stream
# -----------------------------------------
# With 80 features and only 120 noisy training samples, least squares
# overfits. Each :meth:`~skgd.GDRegressor.partial_fit` call runs one more
# epoch; given ``validation_data``, it scores the new iterate on held-out
# data and keeps in ``coef_`` the best coefficients seen so far, while
# training continues from the latest iterate.
rng = np.random.RandomState(0)
n_features = 80
true_coef = rng.standard_normal(n_features) * (rng.uniform(size=n_features) < 0.3)


def sample(n):
    X = rng.standard_normal((n, n_features))
    return X, X @ true_coef + rng.standard_normal(n)


X_train, y_train = sample(120)
X_val, y_val = sample(500)

stream = GDRegressor(solver="batch", penalty=None, random_state=0)
kept = []
for _ in range(150):
    stream.partial_fit(X_train, y_train, validation_data=(X_val, y_val))
    kept.append(stream.score(X_val, y_val))

scores = stream.history_["val_score"]  # the score of each epoch's iterate
print(
    f"best validation R² {stream.best_validation_score_:.3f} at epoch "
    f"{np.argmax(scores) + 1}; last iterate {scores[-1]:.3f}; "
    f"coef_ {kept[-1]:.3f}"
)

fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
calls = np.arange(1, len(scores) + 1)
ax.plot(calls, scores, "C0", label="the iterate: history_['val_score']")
ax.plot(calls, kept, "C3--", label="coef_: the best so far")
ax.axvline(np.argmax(scores) + 1, color="0.6", lw=0.8)
ax.set(
    xlabel="partial_fit calls (epochs)",
    ylabel="validation R²",
    title="partial_fit(..., validation_data=(X_val, y_val))",
)
ax.legend(loc="lower right")
plt.show()

# %%
# The validation score peaks early and then falls as the iterate fits the
# noise of the training samples; ``coef_`` keeps the peak's coefficients,
# which is early stopping for training that never ends. (``fit`` does the
# same with ``early_stopping=True``, on a held-out share of its data.)
#
# The same records through scikit-learn's callbacks
# -------------------------------------------------
# Where the installed scikit-learn has the callback API (``sklearn.callback``),
# both estimators report every epoch to the callbacks set with
# ``set_callbacks``: ``ProgressBar()`` draws a live bar, and
# ``ScoringMonitor`` scores the model after every epoch.
try:
    from sklearn.callback import ScoringMonitor
except ImportError:  # a scikit-learn without the callback API
    print("This scikit-learn has no sklearn.callback; skipping.")
else:
    monitor = ScoringMonitor(scoring="r2")
    GDRegressor(solver="batch", max_iter=30, tol=None).set_callbacks(monitor).fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    print("training R² per epoch:", np.round([row["r2"] for row in rows[:8]], 3), "...")
