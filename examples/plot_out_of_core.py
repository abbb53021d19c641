"""
=====================================
Out-of-core training with partial_fit
=====================================

When the data does not fit in memory, the normal equations are out of reach,
but gradient descent only ever needs one chunk at a time.
:meth:`skgd.GDRegressor.partial_fit` runs one epoch over the chunk it is
given and keeps the optimizer's state between calls, so a stream of chunks
trains as one long run.

Here the "large" data set lives in a file, memory-mapped with
:class:`numpy.memmap` in a temporary directory: it is written chunk by chunk
(as a data pipeline would) and read back read-only, so only the chunk being
trained on is ever loaded.
"""

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import r2_score

from skgd import GDRegressor

n_samples, n_features, chunk = 200_000, 20, 10_000
rng = np.random.RandomState(0)
true_coef = rng.standard_normal(n_features)


def make_chunk(n, seed):
    """A chunk of the data stream: standardised features, a linear target."""
    r = np.random.RandomState(seed)
    X = r.standard_normal((n, n_features))
    return X, X @ true_coef + 1.0 + r.standard_normal(n)


X_test, y_test = make_chunk(5_000, seed=12345)

# %%
# Write the data to disk, one chunk at a time
# -------------------------------------------
workdir = tempfile.TemporaryDirectory()
x_path = os.path.join(workdir.name, "X.dat")
y_path = os.path.join(workdir.name, "y.dat")
X_disk = np.memmap(x_path, dtype=np.float64, mode="w+", shape=(n_samples, n_features))
y_disk = np.memmap(y_path, dtype=np.float64, mode="w+", shape=(n_samples,))
for start in range(0, n_samples, chunk):
    X_disk[start : start + chunk], y_disk[start : start + chunk] = make_chunk(
        chunk, start
    )
X_disk.flush()
y_disk.flush()
del X_disk, y_disk
print(f"{os.path.getsize(x_path) / 1e6:.0f} MB of features on disk")

# %%
# Train chunk by chunk, two passes over the file
# ----------------------------------------------
# A decaying rate (``learning_rate="invscaling"``) lets the noise of the
# stochastic updates die out over the stream. The update count, and with it
# the rate, carries over from one ``partial_fit`` call to the next.
X_disk = np.memmap(x_path, dtype=np.float64, mode="r", shape=(n_samples, n_features))
y_disk = np.memmap(y_path, dtype=np.float64, mode="r", shape=(n_samples,))
reg = GDRegressor(
    solver="minibatch",
    batch_size=64,
    learning_rate="invscaling",
    power_t=0.5,
    eta0=0.05,
    random_state=0,
)
seen, scores, errors = [], [], []
n_passes = 2
for _ in range(n_passes):
    for start in range(0, n_samples, chunk):
        reg.partial_fit(X_disk[start : start + chunk], y_disk[start : start + chunk])
        seen.append(len(seen) + 1)
        scores.append(r2_score(y_test, reg.predict(X_test)))
        errors.append(np.linalg.norm(reg.coef_ - true_coef))
print(f"{reg.n_iter_} partial_fit calls, {reg.t_ - 1} updates")
print(f"test R² {scores[-1]:.4f}, ||coef_ - true coef|| = {errors[-1]:.4f}")
best = r2_score(y_test, X_test @ true_coef + 1.0)
print(f"test R² of the generating coefficients themselves: {best:.4f}")

del X_disk, y_disk  # release the files before removing the directory
workdir.cleanup()

# %%
# Progress over the stream
# ------------------------
fig, (ax_score, ax_error) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
chunks = np.array(seen) * chunk / n_samples
ax_score.plot(chunks, scores, "C0.-", label="GDRegressor")
ax_score.axhline(best, color="k", ls=":", label="generating coefficients")
ax_score.legend(loc="lower right")
ax_score.set(xlabel="passes over the file", ylabel="test R²", title="Held-out score")
ax_error.semilogy(chunks, errors, "C3.-")
ax_error.set(
    xlabel="passes over the file",
    ylabel="||coef_ - true coef||",
    title="Distance to the generating coefficients",
)
plt.show()

# %%
# The first chunk already gets most of the way; later chunks refine the
# coefficients as the rate decays. The test score is limited by the noise in
# the targets, not by the training: the coefficients that generated the data
# score no better.
