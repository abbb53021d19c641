"""GDClassifier: linear classification trained by gradient descent."""

from numbers import Integral

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from ..objective.losses import (
    CLASSIFICATION_LOSSES,
    classification_loss,
    loss_functions,
)
from .base import BaseGD, store_parameters, validate_rows
from .docstrings import fill_doc

PROBABILISTIC_LOSSES = ("log_loss", "modified_huber")


def _has_proba(estimator):
    if estimator.loss not in PROBABILISTIC_LOSSES:
        raise AttributeError(
            f"probability estimates are not available for loss={estimator.loss!r}; "
            f"use one of {PROBABILISTIC_LOSSES}."
        )
    return True


@fill_doc
class GDClassifier(ClassifierMixin, BaseGD):
    r"""Linear classification trained by gradient descent.

    Minimises, over coefficients :math:`W` (one row per class, one row in
    total for two classes) and intercepts :math:`b`,

    .. math::

        L(W, b) = \frac{{1}}{{S}} \sum_{{i=1}}^{{n}} s_i\,
        \ell(y_i, W x_i + b) + \mathrm{{penalty}}(W),
        \qquad S = \sum_i s_i,

    with sample weights :math:`s_i` (frequency weights, times the class
    weights). With unit weights this is
    :class:`~sklearn.linear_model.SGDClassifier`'s objective. For
    ``loss='log_loss'`` and more than two classes, :math:`\ell` is the
    multinomial (softmax) cross-entropy over all classes jointly, so with
    ``penalty='l2'`` the exact minimiser is
    ``LogisticRegression(C=1 / (S * alpha))``; the margin losses are applied
    one-vs-rest, every class trained in the same pass over the data.

    Parameters
    ----------
    loss : {{'log_loss', 'hinge', 'modified_huber', 'squared_hinge', 'perceptron', 'squared_error', 'huber', 'epsilon_insensitive', 'squared_epsilon_insensitive'}}, default='log_loss'
        The per-sample loss, as :class:`~sklearn.linear_model.SGDClassifier`
        defines it, on labels encoded as -1/+1 (the last four are the
        regression losses, fitting those labels). ``'log_loss'`` is the default
        (SGD's is ``'hinge'``) because it is smooth, so the default batch
        solver converges to the exact minimiser, and it gives probabilities.
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
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplying the sample weights. ``'balanced'``
        uses ``n_samples / (n_classes * np.bincount(y))``, with the classes
        counted by their sample weights (as in
        :class:`~sklearn.linear_model.LogisticRegression`). For the softmax
        loss a sample is weighted by its class's weight, as in
        :class:`~sklearn.linear_model.LogisticRegression`; for one-vs-rest
        losses each binary problem weights its positive class, as in
        :class:`~sklearn.linear_model.SGDClassifier`.
    n_jobs : int or None, default=None
        Accepted for :class:`~sklearn.linear_model.SGDClassifier`
        compatibility, and unused: every class (one-vs-rest) is trained in
        the same pass over the data, which measured faster than one thread
        per class (see :ref:`switching`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for two classes.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
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
    sklearn.linear_model.SGDClassifier : Online SGD with the same parameter names.
    sklearn.linear_model.LogisticRegression : The exact minimiser of the log-loss.
    GDRegressor : The same machinery for regression.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgd import GDClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:1]).round(2)
    array([[1., 0., 0.]])
    """

    _parameter_constraints: dict = {
        **BaseGD._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFICATION_LOSSES))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "n_jobs": [Integral, None],
    }
    # The loss of the passive-aggressive rules (learning_rate='pa1'/'pa2').
    _passive_aggressive_loss = "hinge"
    loss_functions = loss_functions(
        CLASSIFICATION_LOSSES, lambda name: classification_loss(name, 1)
    )

    def __init__(
        self,
        loss="log_loss",
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
        class_weight=None,
        n_jobs=None,
    ):
        # The signature above is the documentation (help(), numpydoc); the
        # body only stores it, as scikit-learn asks of __init__.
        store_parameters(self, locals())

    # --- hooks -------------------------------------------------------------------

    def _check_parameter_combinations(self, incremental):
        super()._check_parameter_combinations(incremental)
        if self.class_weight == "balanced" and incremental:
            # A chunk's class frequencies are not the stream's (SGD's message).
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In order "
                "to use 'balanced' weights, use compute_class_weight('balanced', "
                "classes=classes, y=y). In place of y you can use a large enough "
                "sample of the full training set target to properly estimate the "
                "class frequency distributions. Pass the resulting weights as the "
                "class_weight parameter."
            )

    def _validate_targets(self, X, y, reset):
        X, y = validate_rows(
            self, X, y, reset=reset, accept_sparse=("csr", "csc"),
            dtype=[np.float64, np.float32],
        )  # fmt: skip
        check_classification_targets(y)
        return X, y

    def _encode_targets(self, y, dtype, incremental, classes=None):
        if incremental:
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            if unknown.size:
                raise ValueError(
                    f"y has labels {unknown.tolist()} that are not in classes "
                    f"{self.classes_.tolist()} given on the first call to partial_fit."
                )
        elif classes is not None:
            self.classes_ = np.unique(np.asarray(classes))
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            if unknown.size:
                raise ValueError(
                    f"y has labels {unknown.tolist()} that are not in classes="
                    f"{self.classes_.tolist()}."
                )
        else:
            self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{len(self.classes_)} class ({self.classes_.tolist()})."
            )
        index = np.searchsorted(self.classes_, y)
        self._class_index = index
        n_classes = len(self.classes_)
        if n_classes == 2:
            return np.where(index == 1, 1.0, -1.0).astype(dtype)[:, np.newaxis]
        one_hot = np.zeros((len(y), n_classes), dtype=dtype)
        one_hot[np.arange(len(y)), index] = 1.0
        if self.loss == "log_loss":
            return one_hot
        return 2.0 * one_hot - 1.0

    def _make_loss(self, n_outputs):
        return classification_loss(self.loss, n_outputs, self.epsilon)

    def _class_weights(self, y, sample_weight):
        if self.class_weight is None:
            return np.ones(len(self.classes_))
        if isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight names labels {sorted(unknown, key=str)} that are "
                    f"not classes of y ({self.classes_.tolist()})."
                )
        if self.class_weight == "balanced":
            # Classes counted with the sample weights, as LogisticRegression
            # counts them: a frequency weight of 2 must count as a repeated sample.
            counts = np.bincount(
                self._class_index, weights=sample_weight, minlength=len(self.classes_)
            )
            # A class whose samples all weigh 0 adds nothing, whatever its weight.
            weights = np.zeros(len(self.classes_))
            np.divide(
                counts.sum(), len(self.classes_) * counts, out=weights, where=counts > 0
            )
            return weights
        return compute_class_weight(self.class_weight, classes=self.classes_, y=y)

    def _sample_weights(self, y, sample_weight):
        return sample_weight * self._class_weights(y, sample_weight)[self._class_index]

    def _weight_matrix(self, y, sample_weight):
        class_weight = self._class_weights(y, sample_weight)
        index = self._class_index
        n_classes = len(self.classes_)
        if n_classes == 2 or self.loss == "log_loss":
            # One weight per sample: its class's weight.
            return self._sample_weights(y, sample_weight)[:, np.newaxis]
        # One-vs-rest: binary problem j weights its positive class by class_weight[j].
        weights = np.repeat(sample_weight[:, np.newaxis], n_classes, axis=1)
        rows = np.arange(len(index))
        weights[rows, index] *= class_weight[index]
        return weights

    def _validation_split(self, y, rng):
        rows = np.arange(y.shape[0])
        train, val = train_test_split(
            rows, test_size=self.validation_fraction, random_state=rng, stratify=y
        )
        return np.sort(train), np.sort(val)

    def _score_theta(self, theta, X, y, sample_weight):
        coef, intercept = self._coef_and_intercept(theta)
        decision = X @ coef.T + intercept
        return accuracy_score(y, self._labels(decision), sample_weight=sample_weight)

    def _fitted_parameters(self, theta):
        coef, intercept = self._coef_and_intercept(theta)
        return {"coef_": coef.copy(), "intercept_": intercept}

    def _labels(self, decision):
        if decision.shape[1] == 1:
            return self.classes_[(decision[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(decision, axis=1)]

    # --- public API ----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None):
        """Fit the model by gradient descent, for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 data trains in float32.
        y : array-like of shape (n_samples,)
            Class labels (any labels scikit-learn accepts).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative frequency weights.
        coef_init : array-like of shape (n_classes, n_features), default=None
            Starting coefficients (one row for two classes).
        intercept_init : array-like of shape (n_classes,), default=None
            Starting intercepts.

        Returns
        -------
        self : GDClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, coef_init, intercept_init)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, validation_data=None):
        """Run one epoch over ``(X, y)``, continuing from the current state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream. Required on the first call,
            ignored afterwards.
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
        self : GDClassifier
            The updated estimator.
        """
        self._check_parameter_combinations(incremental=True)  # before the data's
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(
            X, y, sample_weight, incremental=True, classes=classes,
            validation_data=validation_data,
        )  # fmt: skip

    def decision_function(self, X):
        """Signed distances to the decision boundaries, ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class; a single column (raveled) for two classes,
            positive for ``classes_[1]``.
        """
        decision = self._decision(X)
        return decision.ravel() if decision.shape[1] == 1 else decision

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The class of the largest decision value.
        """
        return self._labels(self._decision(X))

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities, for ``loss='log_loss'`` or ``'modified_huber'``.

        The log-loss gives the sigmoid (two classes) or softmax of the
        decision values. The modified Huber loss gives
        ``(clip(decision, -1, 1) + 1) / 2``, normalised over the classes, as
        :class:`~sklearn.linear_model.SGDClassifier` defines it (uniform where
        every class scores 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, in the order of ``classes_``.
        """
        decision = self._decision(X)
        if self.loss == "log_loss":
            if decision.shape[1] == 1:
                # expit(-d), not 1 - expit(d), which rounds to 0 beyond d ~ 37.
                return np.column_stack([expit(-decision[:, 0]), expit(decision[:, 0])])
            return softmax(decision, axis=1)
        scores = (np.clip(decision, -1.0, 1.0) + 1.0) / 2.0
        if decision.shape[1] == 1:
            return np.column_stack([1.0 - scores[:, 0], scores[:, 0]])
        total = scores.sum(axis=1, keepdims=True)
        uniform = np.full_like(scores, 1.0 / scores.shape[1])
        return np.divide(scores, total, out=uniform, where=total > 0)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, in the order of ``classes_``.
        """
        if self.loss == "log_loss":
            # Computed from the decision values: finite where the probability
            # underflows to 0 (its exact log is minus a huge margin).
            decision = self._decision(X)
            if decision.shape[1] == 1:
                return np.column_stack(
                    [log_expit(-decision[:, 0]), log_expit(decision[:, 0])]
                )
            return log_softmax(decision, axis=1)
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
