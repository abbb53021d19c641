"""The training loop and what it keeps: state, stopping rules, history, callbacks.

- :mod:`~skgd.training.loop`: :func:`~skgd.training.loop.train`, epochs of
  a solver until a stopping rule says enough, watching for divergence;
- :mod:`~skgd.training.state`: :class:`~skgd.training.state.TrainingState`;
- :mod:`~skgd.training.stopping`: when to stop (optimality or SGD's rule);
- :mod:`~skgd.training.records`: the per-epoch ``history_``;
- :mod:`~skgd.training.callbacks`: scikit-learn's callback API around epochs.

This layer imports :mod:`skgd.objective` and :mod:`skgd._kernels` only; it
calls a solver through the contract of :mod:`skgd.solvers` without
importing it.
"""
