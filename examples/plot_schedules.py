"""
=======================
Learning-rate schedules
=======================

A schedule is a pure function of the update count: each object of
:mod:`skgd.schedules` has a ``rates(t, epoch, eta0)`` method returning the
learning rate of the updates numbered ``t`` during epoch ``epoch``. We plot
every schedule with ``eta0 = 0.1`` and one update per epoch (the batch
solver), so ``t`` is the epoch number. Any of these objects can be passed as
``learning_rate``; the strings ``"exponential"``, ``"step"``, ``"cosine"``...
build them from the estimator's ``gamma``, ``step_size``, ``max_iter`` and
``power_t``.

The one schedule that is not a function of ``t`` is ``"adaptive"``: it
divides the rate by 5 whenever training stalls, so it is shown from a real
fit, through the estimator's ``history_["learning_rate"]``.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skgd import GDRegressor
from skgd.schedules import (
    Constant,
    Cosine,
    Exponential,
    InvScaling,
    Optimal,
    StepDecay,
    Warmup,
)

eta0, n_epochs = 0.1, 100
epochs = np.arange(n_epochs)


def curve(schedule):
    """The rate of the single update of each epoch."""
    return np.array([schedule.rates(np.array([e]), e, eta0)[0] for e in epochs])


per_epoch = {
    "Constant()": Constant(),
    "Exponential(gamma=0.97)": Exponential(gamma=0.97),
    "StepDecay(gamma=0.5, step_size=20)": StepDecay(gamma=0.5, step_size=20),
    "Cosine(n_epochs=100)": Cosine(n_epochs=100),
    "Warmup(Cosine(100), warmup=10)": Warmup(Cosine(n_epochs=100), warmup=10),
}
per_update = {
    "InvScaling(power_t=0.25)": InvScaling(power_t=0.25),
    "InvScaling(power_t=0.5)": InvScaling(power_t=0.5),
    "InvScaling(power_t=1.0)": InvScaling(power_t=1.0),
    "Optimal(alpha=0.1)": Optimal(alpha=0.1),
}

# %%
# The adaptive schedule, from a fit
# ---------------------------------
# The online solver with a constant rate stalls at the level of its own
# gradient noise; ``"adaptive"`` then divides the rate by 5, which lowers the
# noise and lets the objective fall again, until the rate is below 1e-6.
rng = np.random.RandomState(0)
X = rng.standard_normal((300, 5))
y = X @ rng.standard_normal(5) + 0.5 * rng.standard_normal(300)
adaptive = GDRegressor(
    solver="online",
    learning_rate="adaptive",
    eta0=0.05,
    n_iter_no_change=3,
    random_state=0,
).fit(X, y)
print(f"'adaptive' stopped after {adaptive.n_iter_} epochs")

# %%
# All the schedules
# -----------------
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
for label, schedule in per_epoch.items():
    axes[0].plot(epochs, curve(schedule), label=label)
axes[0].set(xlabel="epoch", ylabel="learning rate", title="Per-epoch schedules")

for label, schedule in per_update.items():
    axes[1].loglog(epochs + 1, curve(schedule), label=label)
axes[1].set(xlabel="update t + 1", title="Per-update schedules (log-log)")

history = adaptive.history_
axes[2].semilogy(np.arange(1, adaptive.n_iter_ + 1), history["learning_rate"], "C3")
axes[2].set(xlabel="epoch", title="learning_rate='adaptive' (from history_)")
twin = axes[2].twinx()
twin.semilogy(np.arange(1, adaptive.n_iter_ + 1), history["loss"], "0.5", lw=1)
twin.set_ylabel("training objective (grey)")
axes[0].legend(fontsize="small", loc="upper right", bbox_to_anchor=(1, 0.94))
axes[1].legend(fontsize="small", loc="lower left")
plt.show()

# %%
# ``Optimal`` starts from its own rate, set by the regularisation strength
# ``alpha`` and not by ``eta0``; the inverse-scaling schedules all start at
# ``eta0``. Rates that decay like ``1 / t`` (``power_t=1`` and ``Optimal``)
# satisfy the classic conditions for stochastic gradient descent to converge:
# their sum is infinite, the sum of their squares is not.
