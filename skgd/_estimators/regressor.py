"""GDRegressor: linear regression trained by gradient descent."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import StrOptions

from ..objective.losses import REGRESSION_LOSSES, loss_functions, regression_loss
from .base import BaseGD, store_parameters, validate_rows
from .docstrings import fill_doc


@fill_doc
class GDRegressor(RegressorMixin, BaseGD):
    r"""Linear regression trained by gradient descent.

    Minimises, over coefficients :math:`w` and intercept :math:`b`,

    .. math::

        L(w, b) = \frac{{1}}{{S}} \sum_{{i=1}}^{{n}} s_i\,
        \ell(y_i, x_i^\top w + b) + \mathrm{{penalty}}(w),
        \qquad S = \sum_i s_i,

    with :math:`\ell(y, p) = \frac12 (y - p)^2` for the default loss and
    :math:`s_i` the sample weights. With unit weights this is exactly
    :class:`~sklearn.linear_model.SGDRegressor`'s objective. Sample weights
    are *frequency* weights: a weight of 2 is the same as the sample twice.
    So, for the squared error and ``penalty='l2'``, the exact minimiser is
    ``Ridge(alpha=S * alpha)``, and ordinary least squares for
    ``penalty=None`` or ``alpha=0``. Every solver descends this same
    objective: an update's loss term is scaled by :math:`s_i / \bar s`
    (:math:`\bar s = S / n`), so a mini-batch gradient is
    :math:`\sum_{{i \in B}} s_i \nabla\ell_i / (|B| \bar s) + \nabla\mathrm{{penalty}}`.

    Each update moves the parameters against that gradient by the learning
    rate; the ``solver`` says how often, ``learning_rate`` and ``eta0`` how
    far, ``optimizer`` and ``momentum`` how.

    Parameters
    ----------
    loss : {{'squared_error', 'huber', 'epsilon_insensitive', 'squared_epsilon_insensitive'}}, default='squared_error'
        The per-sample loss, as :class:`~sklearn.linear_model.SGDRegressor`
        defines it: ``0.5 * (y - p)**2``; Huber (quadratic within
        ``epsilon``, linear beyond); ``max(0, |y - p| - epsilon)``; its square.
    {penalty}
    {alpha}
    {l1_ratio}
    {l1_step}
    {fit_intercept}
    {intercept_scaling}
    {solver}
    {batch_size}
    {optimizer}
    {learning_rate}
    {eta0}
    {power_t}
    {gamma}
    {step_size}
    {warmup}
    {momentum}
    {nesterov}
    {beta_1}
    {beta_2}
    {rho}
    {max_iter}
    {tol}
    {n_iter_no_change}
    {early_stopping}
    {restore_best}
    {validation_fraction}
    {epsilon}
    {shuffle}
    {random_state}
    {warm_start}
    {average}
    {divergence_recovery}
    {divergence_check}
    {record_coef}
    {epoch_loss}
    {verbose}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients; 2-D when ``y`` was 2-D, as :class:`~sklearn.linear_model.Ridge`.
    intercept_ : ndarray of shape (1,) or (n_targets,)
        Intercepts (zeros with ``fit_intercept=False``).
    {solver_}
    {dual_gap_}
    {n_iter_}
    {t_}
    {eta0_}
    {loss_curve_}
    {history_}
    {validation_scores_}
    {best_validation_score_}
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    sklearn.linear_model.SGDRegressor : Online SGD with the same parameter names.
    sklearn.linear_model.Ridge : The closed-form solution of the default objective.
    GDClassifier : The same machinery for classification.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd import GDRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0
    >>> reg = GDRegressor(penalty=None, tol=1e-10).fit(X, y)
    >>> np.round(reg.coef_, 4), np.round(reg.intercept_, 4)
    (array([ 1. , -2. ,  0.5]), array([3.]))
    >>> online = GDRegressor(solver="online", learning_rate="invscaling",
    ...                      random_state=0).fit(X, y)
    >>> round(online.score(X, y), 3)
    1.0
    """

    _parameter_constraints: dict = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
    }
    loss_functions = loss_functions(REGRESSION_LOSSES, regression_loss)
    # The loss of the passive-aggressive rules (learning_rate='pa1'/'pa2').
    _passive_aggressive_loss = "epsilon_insensitive"

    def __init__(
        self,
        loss="squared_error",
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        l1_step="proximal",
        fit_intercept=True,
        intercept_scaling=1.0,
        solver="auto",
        batch_size=32,
        optimizer="sgd",
        learning_rate="constant",
        eta0="auto",
        power_t=0.25,
        gamma=0.9,
        step_size=10,
        warmup=0,
        momentum=0.0,
        nesterov=False,
        beta_1=0.9,
        beta_2=0.999,
        rho=0.9,
        max_iter=1000,
        tol="auto",
        n_iter_no_change=5,
        early_stopping=False,
        restore_best=True,
        validation_fraction=0.1,
        epsilon=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        average=False,
        divergence_recovery=0,
        divergence_check=True,
        record_coef=False,
        epoch_loss="exact",
        verbose=0,
    ):
        # The signature above is the documentation (help(), numpydoc); the
        # body only stores it, as scikit-learn asks of __init__.
        store_parameters(self, locals())

    # --- hooks -------------------------------------------------------------------

    def _validate_targets(self, X, y, reset):
        return validate_rows(
            self, X, y, reset=reset, accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32], multi_output=True, y_numeric=True,
        )  # fmt: skip

    def _encode_targets(self, y, dtype, incremental, classes=None):
        if incremental and (y.ndim == 2) != (self.coef_.ndim == 2):
            raise ValueError(
                f"y has {y.ndim} dimension(s) but the model was fitted with "
                f"{self.coef_.ndim}-dimensional coefficients."
            )
        self._y_ndim = y.ndim
        return np.array(y.reshape(y.shape[0], -1), dtype=dtype, order="C")

    def _make_loss(self, n_outputs):
        return regression_loss(self.loss, self.epsilon)

    def _validation_split(self, y, rng):
        rows = np.arange(y.shape[0])
        n_val = int(np.ceil(self.validation_fraction * len(rows)))
        # R^2 needs two validation rows to be defined, and training one row.
        if n_val < 2 or len(rows) - n_val < 1:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"holds out {n_val} of {len(rows)} samples; the validation score "
                "needs at least 2 and training at least 1. Use more samples, a larger "
                "validation_fraction, or early_stopping=False."
            )
        train, val = train_test_split(rows, test_size=n_val, random_state=rng)
        return np.sort(train), np.sort(val)

    def _score_theta(self, theta, X, y, sample_weight):
        coef, intercept = self._coef_and_intercept(theta)
        prediction = X @ coef.T + intercept
        if y.ndim == 1:
            prediction = prediction[:, 0]
        return r2_score(y, prediction, sample_weight=sample_weight)

    def _fitted_parameters(self, theta):
        coef, intercept = self._coef_and_intercept(theta)
        coef = coef[0] if self._y_ndim == 1 else coef
        return {"coef_": coef.copy(), "intercept_": intercept}

    # --- public API ----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None):
        """Fit the model by gradient descent, for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 data trains in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative frequency weights (see the class docstring).
        coef_init : array-like of shape (n_features,) or (n_targets, n_features), \
default=None
            Starting coefficients (zeros by default).
        intercept_init : array-like of shape (1,) or (n_targets,), default=None
            Starting intercepts (zeros by default).

        Returns
        -------
        self : GDRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, coef_init, intercept_init)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, validation_data=None):
        """Run one epoch over ``(X, y)``, continuing from the current state.

        The optimizer's state (momentum velocity, moments, update count)
        carries over between calls, so a stream of chunks trains as one long
        run. ``early_stopping`` and ``tol`` do not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative frequency weights.
        validation_data : tuple, default=None
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``: held-out
            data scored after the epoch. ``coef_`` then keeps the parameters
            of the best epoch so far, across calls, so a worse epoch never
            overwrites them (training goes on from the latest iterate), and
            with ``learning_rate='adaptive'`` a plateau of the score divides
            the rate. Scores accumulate in ``validation_scores_``.

        Returns
        -------
        self : GDRegressor
            The updated estimator.
        """
        return self._fit(
            X, y, sample_weight, incremental=True, validation_data=validation_data
        )

    def predict(self, X):
        """Predict targets: ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        prediction = self._decision(X)
        if self._y_ndim == 1:
            return prediction.ravel()
        return prediction

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
