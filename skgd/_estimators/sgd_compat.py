"""scikit-learn SGD's names for what skgd keeps under its own.

scikit-learn's SGD estimators expose, and their tests read, a few private
attributes of averaged SGD. skgd keeps the same quantities in its training
state (``TrainingState.theta`` and ``TrainingState.averaged``); this mixin
shows them under SGD's names, so that code written against SGD keeps working.
It also has SGD's ``sparsify`` and ``densify``.
"""

import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted


def _averaging_attribute(state_field, fitted_name):
    def get(self):
        state = getattr(self, "_training_state", None)
        if not self.average or state is None:
            raise AttributeError(
                f"{type(self).__name__} keeps SGD's averaging attributes only when "
                "fitted with average set."
            )
        return self._fitted_parameters(getattr(state, state_field))[fitted_name]

    return property(get, doc=f"SGD's name for the {state_field} {fitted_name}.")


class SGDAttributesMixin:
    """SGD's ``_standard_coef``, ``_standard_intercept``, ``_average_coef`` and
    ``_average_intercept``: the last iterate and the running average of
    averaged SGD, present only with ``average``."""

    _standard_coef = _averaging_attribute("theta", "coef_")
    _standard_intercept = _averaging_attribute("theta", "intercept_")
    _average_coef = _averaging_attribute("averaged", "coef_")
    _average_intercept = _averaging_attribute("averaged", "intercept_")

    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse CSR matrix, as SGD's ``sparsify``.

        Worth it when most coefficients are exactly zero (an L1 penalty):
        predictions then cost the non-zeros only. Fitting again densifies.

        Returns
        -------
        self : estimator
            The estimator, with a sparse ``coef_``.
        """
        check_is_fitted(self)
        self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def densify(self):
        """Store ``coef_`` as a numpy array again (the default layout).

        Returns
        -------
        self : estimator
            The estimator, with a dense ``coef_``.
        """
        coef = getattr(self, "coef_", None)
        if sp.issparse(coef):
            dense = coef.toarray()
            self.coef_ = dense.ravel() if getattr(self, "_y_ndim", 2) == 1 else dense
        return self
