"""
================================
Decision boundaries of each loss
================================

:class:`skgd.GDClassifier` never trains the label itself: a threshold is a
step function, flat almost everywhere, with no gradient to follow. It trains
the *score* ``x @ coef_.T + intercept_`` with a loss that keeps a slope while
a sample is misclassified or too close to the boundary, and thresholds only
at prediction time. Each loss draws a slightly different boundary.

Three overlapping classes in two dimensions, one of them with a few samples
far out on its own side. ``'log_loss'`` is the
multinomial (softmax) loss; the other losses train one boundary per class
against the rest, all in the same pass over the data.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs

from skgd import GDClassifier

X, y = make_blobs(
    n_samples=[120, 120, 120],
    centers=[[-2, -1], [2, -1], [0, 2.2]],
    cluster_std=[0.8, 1.4, 1.0],
    random_state=0,
)
# A few samples of the first class far out on their own side: correctly
# classified by any sensible boundary, but some losses still pull on them.
far = np.random.RandomState(1).normal([-9.0, -6.0], 0.6, size=(20, 2))
X, y = np.vstack([X, far]), np.concatenate([y, np.zeros(20, dtype=int)])
losses = ["log_loss", "hinge", "modified_huber", "squared_hinge", "squared_error"]

# %%
# One classifier per loss
# -----------------------
# The batch solver with its automatic step and a constant rate. The
# non-smooth hinge loss would need a decaying rate to settle exactly; 200
# epochs are plenty for a picture. The last panel draws the losses
# themselves, as functions of the margin ``y * score`` (labels ``y = ±1``),
# next to the step that counts mistakes.
x0, x1 = np.meshgrid(
    np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, 200),
    np.linspace(X[:, 1].min() - 1, X[:, 1].max() + 1, 200),
)
grid = np.column_stack([x0.ravel(), x1.ravel()])
colors = ["C0", "C1", "C2"]

fig, axes = plt.subplots(2, 3, figsize=(12, 7.5), layout="constrained")
for ax, loss in zip(axes.ravel()[:-1], losses, strict=True):
    clf = GDClassifier(
        loss=loss, solver="batch", max_iter=200, tol=None, random_state=0
    ).fit(X, y)
    regions = clf.predict(grid).reshape(x0.shape)
    ax.contourf(
        x0, x1, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=colors, alpha=0.25
    )
    ax.contour(x0, x1, regions, levels=[0.5, 1.5], colors="k", linewidths=0.8)
    for label, color in enumerate(colors):
        ax.scatter(*X[y == label].T, color=color, edgecolor="k", linewidth=0.5, s=18)
    ax.set(title=f"loss={loss!r}: accuracy {clf.score(X, y):.2f}", xticks=[], yticks=[])

margin = np.linspace(-2.5, 2.5, 501)
curves = {
    "0-1 (mistakes)": (margin <= 0).astype(float),
    "log_loss": np.logaddexp(0, -margin) / np.log(2),  # scaled to 1 at 0
    "hinge": np.maximum(0, 1 - margin),
    "modified_huber": np.where(
        margin >= -1, np.maximum(0, 1 - margin) ** 2, -4 * margin
    ),
    "squared_hinge": np.maximum(0, 1 - margin) ** 2,
    "perceptron": np.maximum(0, -margin),
    "squared_error": (1 - margin) ** 2,
}
ax = axes.ravel()[-1]
for (name, curve), style in zip(
    curves.items(), ["k-"] + [f"C{i}-" for i in range(6)], strict=True
):
    ax.plot(margin, curve, style, lw=2.5 if name.startswith("0-1") else 1.2, label=name)
ax.set(ylim=(-0.1, 4), xlabel="margin y * score", title="the losses, per sample")
ax.legend(fontsize="small")
plt.show()

# %%
# The step that counts mistakes is flat on both sides of zero: its gradient
# is zero wherever it exists, so it gives gradient descent nothing to follow.
# Every loss that can be trained keeps a slope for misclassified samples
# (negative margin). The log-loss and the squared hinge are smooth and give
# boundaries close to each other. The hinge and the modified Huber loss
# ignore the samples beyond the margin (``y * score > 1``), so their
# boundaries are set by the samples near them. ``'squared_error'`` regresses
# the ±1 labels, so it also penalises samples for being *too* far on the right
# side: the distant group of the first class pulls on its boundaries, which
# tilt and misclassify more samples of the other classes.
