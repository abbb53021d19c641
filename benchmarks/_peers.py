"""The logistic-regression solvers skgd's default races in ``bench_convergence.py``.

scikit-learn's four solvers for an L2-penalised log-loss (lbfgs,
newton-cholesky, newton-cg, saga), and, when they are installed (the
``bench`` extra), oneDAL's (``scikit-learn-intelex``) and snapml's. Each
entry is ``(name, make(tol), tols)``: the race fits ``make(tol)`` for each
``tol`` of ``tols``, loosest first, and times the first that reaches the gap.

Every peer is given skgd's objective: ``LogisticRegression(C)`` minimises
``C n`` times skgd's ``mean loss + alpha/2 |w|^2`` when ``C = 1 / (n alpha)``,
with an unpenalised intercept, so its coefficients are scored by the same
formula. snapml penalises its intercept (as liblinear does): it is fitted
without one, on ``X`` with a constant column of ``INTERCEPT_COLUMN``, so
its objective has the extra term ``alpha/2 (b / INTERCEPT_COLUMN)^2``; the
gap, scored on skgd's objective, says whether that mattered. (A column of
1e3, which would make the term negligible, slowed its SDCA 30-fold on
1e4 x 50: 5563 iterations to a gap of 2e-3, against 167 to 6e-7 with 1.)
"""

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

LBFGS_TOLS = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
NEWTON_TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8)
SAGA_TOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
SNAPML_TOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)

# The constant column that stands for snapml's intercept.
INTERCEPT_COLUMN = 1.0

# newton-cholesky factorises a (d+1)^2 Hessian per iteration: above this
# many features (sparse text), it is not a contender and is not raced.
NEWTON_CHOLESKY_MAX_FEATURES = 2000


def sklearn_peers(X, alpha, saga_max_iter):
    """scikit-learn's solvers for skgd's objective on ``X``."""
    C = 1.0 / (X.shape[0] * alpha)
    solvers = ["lbfgs", "newton-cholesky", "newton-cg", "saga"]
    if X.shape[1] > NEWTON_CHOLESKY_MAX_FEATURES:
        solvers.remove("newton-cholesky")
    tols = {"lbfgs": LBFGS_TOLS, "saga": SAGA_TOLS}
    entries = []
    for solver in solvers:
        max_iter = saga_max_iter if solver == "saga" else 10_000

        def make(tol, solver=solver, max_iter=max_iter):
            return LogisticRegression(C=C, solver=solver, tol=tol, max_iter=max_iter)

        entries.append(
            (f"LogisticRegression({solver})", make, tols.get(solver, NEWTON_TOLS))
        )
    return entries


def optional_peers(X, alpha):
    """oneDAL's and snapml's logistic regressions, those that are installed,
    and a note for each that is not."""
    C = 1.0 / (X.shape[0] * alpha)
    entries, notes = [], []
    try:
        from sklearnex.linear_model import LogisticRegression as DalLogistic
    except ImportError:
        notes.append("scikit-learn-intelex is not installed: no oneDAL row.")
    else:

        def make_dal(tol):
            return DalLogistic(C=C, tol=tol, max_iter=10_000)

        entries.append(("oneDAL LogisticRegression", make_dal, LBFGS_TOLS))
    try:
        from snapml import LogisticRegression as SnapLogistic
    except ImportError:
        notes.append("snapml is not installed: no snapml row.")
    else:

        def make_snap(tol):
            # snapml's regularizer multiplies ||w||^2 / 2 against the sum of
            # the losses: n alpha for skgd's mean (checked on breast_cancer:
            # its primal solver lands within 2e-6 of scikit-learn's).
            return ConstantColumnIntercept(
                SnapLogistic(
                    regularizer=X.shape[0] * alpha, tol=tol, max_iter=10_000,
                    fit_intercept=False, n_jobs=2, dual=True,
                )
            )  # fmt: skip

        entries.append(("snapml LogisticRegression", make_snap, SNAPML_TOLS))
    return entries, notes


class ConstantColumnIntercept:
    """A linear classifier without an intercept of its own, fitted on ``X``
    with a constant column (``INTERCEPT_COLUMN``): ``coef_`` and
    ``intercept_`` as scikit-learn's."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        column = np.full((X.shape[0], 1), INTERCEPT_COLUMN, dtype=X.dtype)
        augmented = (
            sp.hstack([X, column], format="csr")
            if sp.issparse(X)
            else np.hstack([X, column])
        )
        self.estimator.fit(augmented, y)
        coef = np.atleast_2d(self.estimator.coef_)
        self.coef_, self.intercept_ = coef[:, :-1], coef[:, -1] * INTERCEPT_COLUMN
        self.n_iter_ = getattr(self.estimator, "n_iter_", 0)
        self.max_iter = self.estimator.max_iter
        return self
