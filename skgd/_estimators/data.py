"""The data as the solvers want it: validated, weighted, laid out for the kernels.

Called by :class:`skgd._estimators.base.BaseGD` before training and before
predicting.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import validate_data

from .._kernels.threads import all_finite

# Curvature along a feature grows with the square of its scale, and the
# step must suit the steepest direction: scales (root mean squares of the
# non-zero values) more than this factor apart slow gradient descent by its
# square or more.
SCALE_RATIO_WARNING = 100.0


class DataScaleWarning(UserWarning):
    """The features' scales differ enough to slow gradient descent badly."""


def warn_if_badly_scaled(X, intercept):
    """Warn, suggesting StandardScaler, when feature scales span > 100x.

    The intercept's constant column counts as a feature of scale
    ``intercept`` (``intercept_scaling``; none if 0). A feature's scale is
    the root mean square of its non-zero values over at most 1000 evenly
    spaced rows (so the check costs nothing next to an epoch): its size when
    present, so that a rare word of a tf-idf matrix, or a one-hot column,
    is not mistaken for a tiny feature that scaling would fix.
    """
    step = max(1, X.shape[0] // 1000)
    rows = X[::step]
    if sp.issparse(rows):
        rows = sp.csr_matrix(rows)
        sum_squares = np.asarray(rows.multiply(rows).sum(axis=0)).ravel()
        present = np.bincount(rows.indices[rows.data != 0], minlength=X.shape[1])
    else:
        with np.errstate(over="ignore"):  # inf scales still warn, and fit explains
            sum_squares = np.sum(np.square(rows, dtype=np.float64), axis=0)
        present = np.count_nonzero(rows, axis=0)
    seen = present > 0
    features = np.sqrt(sum_squares[seen] / present[seen])
    features = features[features > 0]  # squares that underflowed
    scales = np.append(features, intercept) if intercept else features
    if scales.size < 2:
        return
    largest, smallest = scales.max(), scales.min()
    if largest > SCALE_RATIO_WARNING * smallest:
        advice = "sklearn.preprocessing.StandardScaler in a Pipeline"
        if features.size and features.max() <= SCALE_RATIO_WARNING * features.min():
            # Only the intercept is off: it can move to the features' scale.
            typical = float(np.exp(np.mean(np.log(features))))
            advice += f", or intercept_scaling={typical:.3g} (the features' scale)"
        warnings.warn(
            f"The features' scales span a factor of {largest / smallest:.3g} "
            f"(from {smallest:.3g} to {largest:.3g}"
            f"{f', the intercept counting as {intercept:g}' if intercept else ''}): "
            f"gradient descent converges slowly on badly scaled data. Consider "
            f"{advice}.",
            DataScaleWarning,
            stacklevel=6,  # the user's fit call
        )


def validate_rows(estimator, X, y="no_validation", **check_params):
    """scikit-learn's ``validate_data``, with the test that every entry of
    ``X`` is finite summed in threads (:func:`~skgd._kernels.threads.all_finite`);
    only data that fails it meets scikit-learn's own check, which names
    the problem."""
    validated = validate_data(estimator, X, y, ensure_all_finite=False, **check_params)
    X = validated[0] if isinstance(validated, tuple) else validated
    values = X.data if sp.issparse(X) else X
    if not get_config()["assume_finite"] and not all_finite(values):
        assert_all_finite(
            values, estimator_name=type(estimator).__name__, input_name="X"
        )
    return validated


def is_dask_collection(data):
    # Checked by type, so that dask stays an optional import.
    return type(data).__module__.split(".")[0] == "dask"


def prepare_rows(X, walks_rows, canonical):
    """``X`` as the solver walks it (a copy only where needed)."""
    # The stochastic and SAGA kernels walk rows: C order, or CSR. The
    # full-batch solvers only evaluate the objective, which takes any
    # layout without a copy. ``canonical``: each row must name a feature
    # once (SAGA catches a feature up once per row).
    if not walks_rows:
        return X
    if sp.issparse(X):
        X = X.tocsr()
        # SAGA catches a feature up once per row: a row must name it once.
        canonical = not canonical or X.has_canonical_format
        if not X.data.flags.writeable or not canonical:
            X = X.copy()
            X.sum_duplicates()
        return X
    return np.ascontiguousarray(X)


def training_weights(estimator, y, sample_weight, train_rows, dtype):
    """Frequency weights: each update's loss term is scaled by ``s_i / mean(s)``
    (``s_i`` the sample weight, times its class's weight for a classifier).

    Rows held out for validation get weight 0.
    """
    raw = estimator._weight_matrix(y, sample_weight).astype(dtype)
    train_weight = estimator._sample_weights(y, sample_weight)[train_rows]
    if train_weight.sum() <= 0:
        raise ValueError(
            "The training samples all have zero sample_weight; at least one must "
            "be positive."
        )
    W = np.zeros_like(raw)
    W[train_rows] = raw[train_rows] / train_weight.mean()
    return np.ascontiguousarray(W)


def held_out(estimator, X, y, sample_weight, rng, incremental, validation_data):
    """``(score, train_rows)``: the validation score of parameters (None
    without validation) and the rows training walks (early stopping
    holds the others out)."""
    validation, train_rows = None, np.arange(X.shape[0])
    if estimator.early_stopping and not incremental:
        train_rows, val_rows = estimator._validation_split(y, rng)
        if sample_weight[val_rows].sum() <= 0:
            raise ValueError(
                "The sample weights for validation set are all zero, consider "
                "using a different random state (early_stopping held out rows "
                "whose sample_weight are all zero, so the validation score is "
                "undefined; give them weight, or change validation_fraction)."
            )
        validation = estimator._validation_score(
            X[val_rows], y[val_rows], sample_weight[val_rows]
        )
    elif validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(
            validation_data
        ) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (X_val, y_val) or "
                f"(X_val, y_val, sample_weight_val); got {type(validation_data).__name__}"
                f"{' of length ' + str(len(validation_data)) if hasattr(validation_data, '__len__') else ''}."
            )
        validation = estimator._validation_score(*validation_data)
    return validation, train_rows
