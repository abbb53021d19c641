"""The steps: how one gradient becomes one update.

- :mod:`~skgd.steps.optimizers`: update rules over explicit state (plain,
  heavy ball, Nesterov, AdaGrad, RMSProp, Adam, Rprop);
- :mod:`~skgd.steps.schedules`: learning-rate schedules, pure functions of
  the update count (public as :mod:`skgd.schedules`).

This layer imports only :mod:`skgd._kernels`.
"""
