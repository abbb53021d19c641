"""The exact answer gradient descent is heading for, to measure the distance to it."""

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from .objective import Objective
from .penalties import make_penalty


def _data(estimator, X, y, sample_weight):
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32])
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    y = np.asarray(y)
    return X, y, sample_weight


def training_objective(estimator, X, y, sample_weight=None, coef=None, intercept=None):
    """The estimator's training objective at given (or its fitted) parameters.

    This is the function the solvers descend (see the estimators'
    docstrings): the weighted mean loss plus the penalty.

    Parameters
    ----------
    estimator : GDRegressor or GDClassifier
        A fitted estimator; its loss, penalty and weights define the objective.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets (class labels for a classifier).
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights.
    coef, intercept : array-like, default=None
        Parameters to evaluate, shaped as ``coef_`` and ``intercept_``; the
        fitted ones by default.

    Returns
    -------
    value : float
        The objective.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd import GDRegressor, training_objective
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> reg = GDRegressor(penalty=None, tol=1e-12).fit(X, y)
    >>> round(training_objective(reg, X, y), 8)
    0.0
    """
    check_is_fitted(estimator)
    X, y, sample_weight = _data(estimator, X, y, sample_weight)
    coef = estimator.coef_ if coef is None else coef
    intercept = estimator.intercept_ if intercept is None else intercept
    coef = np.asarray(coef, dtype=np.float64).reshape(-1, X.shape[1])
    theta = np.column_stack([coef, np.asarray(intercept, np.float64).reshape(-1)])
    Y = estimator._encode_targets(y, np.float64, incremental=True)
    W = estimator._weight_matrix(y, sample_weight)
    W /= estimator._sample_weights(y, sample_weight).mean()
    objective = Objective(
        X.astype(np.float64), np.ascontiguousarray(Y), np.ascontiguousarray(W),
        X.shape[0], estimator._make_loss(Y.shape[1]),
        make_penalty(estimator.penalty, estimator.alpha, estimator.l1_ratio),
        1.0 if estimator.fit_intercept else 0.0,  # theta holds intercept_ itself
    )  # fmt: skip
    return objective.evaluate(np.ascontiguousarray(theta), gradient=False)[0]


def closed_form_solution(estimator, X, y, sample_weight=None):
    """The exact minimiser of a squared-error ``GDRegressor``'s objective.

    With ``loss='squared_error'`` and ``penalty='l2'`` (or None, or
    ``alpha=0``) the objective is quadratic, and its minimiser solves the
    normal equations ``A^T S A theta = A^T S y`` with ``A = [X, 1]``, ``S``
    the sample weights, plus ``sum(S) * alpha`` on the diagonal of the
    coefficients (never the intercept): ``Ridge(alpha=sum(S) * alpha)``.
    Gradient descent converges to it; this is the yardstick.

    Parameters
    ----------
    estimator : GDRegressor
        Defines the objective (fitted or not).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights.

    Returns
    -------
    coef : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, shaped like ``coef_``.
    intercept : ndarray of shape (1,) or (n_targets,)
        Intercepts, shaped like ``intercept_``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd import GDRegressor, closed_form_solution
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> closed_form_solution(GDRegressor(penalty=None), X, y)
    (array([2.]), array([1.]))
    """
    if (
        getattr(estimator, "loss", None) != "squared_error"
        or not hasattr(estimator, "predict")
        or hasattr(estimator, "predict_proba")
    ):
        raise ValueError(
            "A closed form exists for GDRegressor(loss='squared_error') only; "
            "compare a classifier with sklearn's LogisticRegression instead."
        )
    penalty = make_penalty(estimator.penalty, estimator.alpha, estimator.l1_ratio)
    if penalty.l1:
        raise ValueError(
            "An L1 penalty has no closed form; use sklearn's Lasso or ElasticNet."
        )
    X, y, sample_weight = _data(estimator, X, y, sample_weight)
    Y = y.reshape(len(y), -1).astype(np.float64)
    n_samples, n_features = X.shape
    ones = np.full((n_samples, 1), 1.0 if estimator.fit_intercept else 0.0)
    A = sp.hstack([X, ones], format="csr") if sp.issparse(X) else np.hstack([X, ones])
    SA = (
        A.multiply(sample_weight[:, None])
        if sp.issparse(A)
        else A * sample_weight[:, None]
    )
    gram = np.asarray((A.T @ SA).toarray() if sp.issparse(A) else A.T @ SA, np.float64)
    rhs = np.asarray(SA.T @ Y, dtype=np.float64)
    ridge = np.full(n_features + 1, sample_weight.sum() * penalty.l2)
    ridge[-1] = 0.0 if estimator.fit_intercept else 1.0  # pins a fixed zero intercept
    gram[np.diag_indices_from(gram)] += ridge
    try:
        theta = scipy.linalg.solve(gram, rhs, assume_a="sym")
    except (scipy.linalg.LinAlgError, ValueError):
        theta = scipy.linalg.lstsq(gram, rhs)[0]
    coef, intercept = theta[:-1].T, theta[-1]
    if y.ndim == 1:
        return coef[0], intercept
    return coef, intercept


def objective_gap(estimator, X, y, sample_weight=None):
    """Per-epoch distance of the training objective from its exact minimum.

    ``history_['loss'] - f*``, with ``f*`` the objective at
    :func:`closed_form_solution`: how far each epoch of the last fit was from
    the best any method can do, the quantity convergence theory bounds.

    Parameters
    ----------
    estimator : GDRegressor
        A fitted squared-error regressor.
    X, y, sample_weight
        The training data of that fit.

    Returns
    -------
    gap : ndarray of shape (`n_iter_`,)
        Non-negative up to rounding.
    """
    check_is_fitted(estimator)
    coef, intercept = closed_form_solution(estimator, X, y, sample_weight)
    best = training_objective(estimator, X, y, sample_weight, coef, intercept)
    return np.asarray(estimator.history_["loss"]) - best
