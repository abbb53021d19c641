"""Training on dask arrays (the optional ``skgd[dask]`` extra)."""


def fit_dask(estimator, X, y, sample_weight, **kwargs):
    """Fit ``estimator`` on dask arrays."""
    raise NotImplementedError("Training on dask arrays is not available yet.")
