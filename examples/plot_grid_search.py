"""
==========================================
Tuning eta0 and momentum with GridSearchCV
==========================================

:class:`skgd.GDRegressor` is an ordinary scikit-learn estimator, so its
training parameters can be tuned like any other. Here a
:class:`~sklearn.pipeline.Pipeline` standardises the diabetes data and fits
the mini-batch solver for a fixed budget of 10 epochs;
:class:`~sklearn.model_selection.GridSearchCV` scores every pair of
learning rate ``eta0`` and ``momentum`` by cross-validated R².

Some pairs make too long a step: their fit raises the divergence
``ValueError``, which ``GridSearchCV`` records as a failed fit
(``error_score=np.nan``) and which show as blank cells.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDRegressor

X, y = load_diabetes(return_X_y=True)
pipeline = make_pipeline(
    StandardScaler(),
    GDRegressor(solver="minibatch", batch_size=32, max_iter=10, random_state=0),
)
param_grid = {
    "gdregressor__eta0": [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
    "gdregressor__momentum": [0.0, 0.5, 0.9, 0.95],
}
search = GridSearchCV(
    pipeline, param_grid, cv=KFold(3, shuffle=True, random_state=0), error_score=np.nan
)
with warnings.catch_warnings():
    # 10 epochs is a deliberate budget, and diverging fits are expected.
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", FitFailedWarning)
    warnings.filterwarnings("ignore", message="One or more of the test scores")
    search.fit(X, y)
print("best parameters:", search.best_params_)
print(f"best cross-validated R²: {search.best_score_:.3f}")

# %%
# The scores as a heat map
# ------------------------
etas = param_grid["gdregressor__eta0"]
momenta = param_grid["gdregressor__momentum"]
scores = search.cv_results_["mean_test_score"].reshape(len(etas), len(momenta))

fig, ax = plt.subplots(figsize=(5.5, 5.5), layout="constrained")
image = ax.imshow(scores, cmap="viridis", vmin=0.0, vmax=np.nanmax(scores))
for i in range(len(etas)):
    for j in range(len(momenta)):
        text = "diverged" if np.isnan(scores[i, j]) else f"{scores[i, j]:.2f}"
        color = "black" if np.isnan(scores[i, j]) or scores[i, j] > 0.3 else "white"
        ax.text(j, i, text, ha="center", va="center", color=color, fontsize="small")
ax.set_xticks(range(len(momenta)), momenta)
ax.set_yticks(range(len(etas)), etas)
ax.set(
    xlabel="momentum", ylabel="eta0", title="Mean cross-validated R² after 10 epochs"
)
fig.colorbar(image, ax=ax, label="R²")
plt.show()

# %%
# Small rates underfit in 10 epochs, and momentum compensates: the heavy ball
# multiplies the steady-state step by ``1 / (1 - momentum)``, so the best
# cells lie along a diagonal where ``eta0 / (1 - momentum)`` is about
# constant. Beyond it, the effective step is too long: the scores collapse,
# and with ``eta0=1`` every fit diverges.
# With ``eta0="auto"`` (the default) the step is computed from the data, and
# only ``momentum`` would need tuning.
