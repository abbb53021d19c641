"""The two estimators and what only they do: parameters, data, fitted attributes.

- :mod:`~skgd._estimators.base`: ``BaseGD``, which orchestrates ``fit`` and
  ``partial_fit``;
- :mod:`~skgd._estimators.regressor`, :mod:`~skgd._estimators.classifier`:
  the two thin faces;
- :mod:`~skgd._estimators.params`: parameter constraints and the rules on
  their combinations;
- :mod:`~skgd._estimators.data`: validating and preparing ``X``, ``y`` and
  the weights;
- :mod:`~skgd._estimators.starting`: where training starts (zeros,
  ``coef_init``, warm starts, resuming);
- :mod:`~skgd._estimators.fitted`: storing what training produced;
- :mod:`~skgd._estimators.dask`: the same fit on dask arrays;
- :mod:`~skgd._estimators.docstrings`, :mod:`~skgd._estimators.sgd_compat`:
  the shared parameter documentation, and SGD's attribute names.

The top layer: it builds the objective, the state and the settings, and
calls a solver through the training loop.
"""
