"""Training on dask arrays: ``fit`` and ``partial_fit`` with the ``skgd[dask]`` extra.

The rows never travel to the client. Each block of rows (a chunk that holds
whole rows) is validated, encoded and weighted once, on the worker that holds
it, into the ``(X, Y, W)`` that the numpy path trains on, and persisted
there. Every later pass over the data is one task per block whose small
result (a loss and a gradient, or parameters) the driver combines:

- ``solver="batch"`` (and ``"perturbation"``): the objective is a sum over
  rows, so the blocks' sums of losses and gradients add up to the numpy
  path's, and the one training loop (:func:`skgd.training.loop.train`) runs on top
  unchanged: one pass over the cluster's data per iteration, the same
  iterates, the same stopping rule.
- ``solver="online"`` and ``"minibatch"``: iterative parameter mixing
  (McDonald, Hall & Mann 2010; Zinkevich et al. 2010). In every epoch each
  block runs one epoch of the numpy solver on its own rows, from the current
  parameters and optimizer state, and the driver averages the results
  weighted by the blocks' sizes. The update count ``t`` moves on by the
  largest block's number of updates: the blocks step in parallel, each on
  its own clock.
"""

import copy
import math

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    validate_data,
)

from ..objective.curvature import (
    EXACT_CURVATURE_MAX_FEATURES,
    largest_row_curvature,
    row_curvatures,
    top_eigenvalue,
    weighted_gram,
)
from ..objective.objective import Objective, weighted_gram_matvec
from ..objective.penalties import Penalty, make_penalty
from ..solvers import SOLVERS
from .data import prepare_rows

try:
    import dask
    import dask.array as da
except ImportError as error:
    raise ImportError(
        "Training on dask arrays needs dask[array] and distributed; install them "
        "with: pip install skgd[dask]"
    ) from error

from ..solvers.mixing import MixingSolver  # noqa: E402 (needs dask, checked above)

# Rows of a block densified at once to form the Gram matrix: with at most
# EXACT_CURVATURE_MAX_FEATURES float64 columns, a few MB.
GRAM_ROWS = 8192


def fit_dask(
    estimator, X, y, sample_weight=None, *, coef_init=None, intercept_init=None,
    incremental=False, classes=None, validation_data=None,
):  # fmt: skip
    """``BaseGD._fit`` for dask arrays ``X``, ``y`` or ``sample_weight``."""
    estimator._chosen_solver = estimator._choose_solver(None, incremental)
    in_memory_only = {
        "saga": "keeps every sample's last gradient and walks the rows one by one",
        "sdca": "keeps every sample's dual variable and walks the rows one by one",
        "lbfgs": "keeps the predictions X @ coef of every row between its steps",
    }
    if estimator._solver in in_memory_only:
        raise ValueError(
            f"solver={estimator._solver!r} {in_memory_only[estimator._solver]}, "
            "which skgd does not do on dask arrays; use solver='accelerated' (the "
            "default: its passes run on the workers), or 'online'/'minibatch' "
            "(parameter mixing)."
        )
    if estimator.early_stopping and not incremental:
        raise ValueError(
            "early_stopping=True draws a random validation split of the rows, which "
            "skgd does not do on dask arrays; hold out a validation set and pass it "
            "to partial_fit(validation_data=...), or set early_stopping=False."
        )
    if estimator.l1_step == "cumulative":
        raise ValueError(
            "l1_step='cumulative' is not available on dask arrays (each block's "
            "epoch would keep its own penalty record); use l1_step='proximal'."
        )
    if estimator.learning_rate in ("pa1", "pa2"):
        raise ValueError(
            f"learning_rate={estimator.learning_rate!r} (passive-aggressive) is not "
            "available on dask arrays; fit numpy data (partial_fit on computed chunks)."
        )
    continuing = incremental and hasattr(estimator, "coef_")
    objective = _persisted_objective(
        estimator, X, y, sample_weight, continuing, classes
    )
    optimizer = estimator._optimizer()
    state = estimator._starting_state(
        incremental, continuing, coef_init, intercept_init, optimizer,
        (objective.n_outputs, objective.n_features + 1), objective.dtype,
    )  # fmt: skip
    rng = estimator._rng if continuing else check_random_state(estimator.random_state)
    estimator._rng = rng
    mixing = estimator._solver in ("online", "minibatch")
    solver = estimator._make_solver(
        objective, state, optimizer, rng, None, continuing,
        MixingSolver if mixing else None,
    )  # fmt: skip
    validation = None
    if validation_data is not None:
        validation = estimator._validation_score(*validation_data)

    return estimator._run_training(
        solver, state, X, y, sample_weight, validation, incremental, continuing,
        warning_depth=2,  # fit_dask sits between _train_from and _run_training
    )  # fmt: skip


# --- the data, once: validated, encoded and weighted where it lies ----------------


def _persisted_objective(estimator, X, y, sample_weight, continuing, classes):
    """The training objective over blocks prepared and persisted on the workers.

    The driver only sees what it must decide for all blocks alike: the
    number of features, the labels (a classifier's classes, computed once
    with dask's ``unique``), and the mean sample weight.
    """
    X, y, sample_weight = _aligned(X, y, sample_weight)
    check_consistent_length(X, y, sample_weight)
    validate_data(estimator, X, reset=not continuing, skip_check_array=True)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    classifier = is_classifier(estimator)
    labels = da.unique(y) if classifier else np.zeros((1, *y.shape[1:]))
    total_weight = X.shape[0] if sample_weight is None else sample_weight.sum()
    labels, total_weight = dask.compute(labels, total_weight)
    if not total_weight > 0:
        raise ValueError(
            "The training samples all have zero sample_weight; at least one must be "
            "positive."
        )
    # The numpy path's own checks and encoding, run on the labels alone: sets
    # classes_ (or the targets' dimension) and says how many outputs to fit.
    n_outputs = estimator._encode_targets(labels, dtype, continuing, classes).shape[1]
    spec = clone(estimator)  # the parameters: what the workers build their pieces from
    classes = getattr(estimator, "classes_", None)
    if classifier:
        # Class weights are a property of all the data ('balanced' counts
        # every block): resolved here, handed to the blocks as a dict.
        label_weights = None
        if estimator.class_weight is not None:
            label_weights = _sum_blocks(
                _label_weights, _blocks(y, sample_weight), labels
            )
        weights = estimator._class_weights(labels, label_weights)
        spec.set_params(
            class_weight=dict(zip(classes.tolist(), weights.tolist(), strict=True))
        )
        if label_weights is not None:
            # The weights are normalised by their mean with the class weights
            # (BaseGD._training_weights).
            total_weight = float(np.dot(weights, label_weights))

    sizes = np.array(X.chunks[0])
    mean_weight = float(total_weight) / X.shape[0]
    blocks = [
        dask.delayed(_prepare_block)(spec, *block, mean_weight, classes)
        for block, size in zip(_blocks(X, y, sample_weight), sizes, strict=True)
        if size > 0
    ]
    return DaskObjective(
        list(dask.persist(*blocks)), sizes[sizes > 0], spec, n_outputs, X.shape[1],
        dtype, X.shape[0], estimator._make_loss(n_outputs),
        make_penalty(estimator.penalty, estimator.alpha, estimator.l1_ratio),
        estimator._intercept_feature,
    )  # fmt: skip


def _aligned(X, y, sample_weight):
    """``X``, ``y`` and ``sample_weight`` as dask arrays with the same row blocks."""
    reference = next(a for a in (X, y, sample_weight) if _is_dask(a))
    rows = reference.chunks[0]
    if any(math.isnan(size) for size in rows):
        raise ValueError(
            "The dask arrays have unknown chunk sizes; call compute_chunk_sizes() on "
            "them (or build them with known lengths) before fitting."
        )
    if _is_dask(X) and X.ndim == 2 and X.numblocks[1] != 1:
        raise ValueError(
            f"X is chunked along its columns ({X.numblocks[1]} column blocks); skgd "
            "trains on blocks of whole rows. Rechunk it with X.rechunk({1: -1})."
        )

    def align(array):
        if array is None:
            return None
        if not _is_dask(array):
            array = da.from_array(np.asarray(array), chunks=-1)
        return array.rechunk({0: rows, **{axis: -1 for axis in range(1, array.ndim)}})

    if np.ndim(X) != 2:
        raise ValueError(f"Expected a 2D array X, got {np.ndim(X)} dimension(s).")

    return align(X), align(y), align(sample_weight)


def _is_dask(array):
    return hasattr(array, "__dask_graph__")


def _blocks(*arrays):
    """Per row block, a tuple of the arrays' delayed blocks (None stays None)."""
    columns = [
        [None] * max(len(a.chunks[0]) for a in arrays if a is not None)
        if a is None
        else list(a.to_delayed().ravel())
        for a in arrays
    ]
    return list(zip(*columns, strict=True))


def _sum_blocks(func, blocks, *args):
    """``sum(func(*block, *args))`` over the blocks, computed where they lie."""
    return sum(dask.compute(*[dask.delayed(func)(*b, *args) for b in blocks]))


def _label_weights(y, sample_weight, labels):
    index = np.searchsorted(labels, np.ravel(y))
    return np.bincount(index, weights=sample_weight, minlength=len(labels))


def _prepare_block(spec, X, y, sample_weight, mean_weight, classes):
    """One block as the numpy path trains on it: validated ``X``, encoded ``Y``,
    normalised ``W`` (see ``BaseGD._fit`` and ``BaseGD._training_weights``)."""
    spec = copy.copy(spec)  # tasks may share it within a process; the hooks write to it
    X, y = spec._validate_targets(X, y, reset=True)
    solver_class = SOLVERS.get(spec.solver)  # None for 'auto': lay rows out for any
    X = prepare_rows(X, solver_class is None or solver_class.walks_rows, False)
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True
    )
    Y = spec._encode_targets(y, X.dtype, False, classes)
    W = spec._weight_matrix(y, sample_weight).astype(X.dtype) / mean_weight
    return X, Y, np.ascontiguousarray(W)


# --- the objective: Objective's interface, summed over the blocks ----------------


class DaskObjective:
    """The training objective of persisted blocks, with :class:`Objective`'s interface.

    The loss is a sum over rows, so each block evaluates its share with
    ``n_train`` the total number of rows (shares then add up), and the driver
    adds the penalty once.
    """

    # The duality gap's dual point is per sample and its projection global:
    # not computed across blocks (the fit stops on the optimality residual).
    certifiable = False

    def __init__(
        self, blocks, sizes, spec, n_outputs, n_features, dtype, n_train, loss,
        penalty, intercept,
    ):  # fmt: skip
        self.blocks, self.sizes, self.spec = blocks, sizes, spec
        self.n_outputs, self.n_features, self.dtype = n_outputs, n_features, dtype
        self.n_train, self.loss, self.penalty = n_train, loss, penalty
        self.intercept = intercept

    @property
    def fit_intercept(self):
        return self.intercept != 0.0

    def map(self, func, *args):
        """``[func(block, *args) for block in blocks]``, computed where they lie."""
        return dask.compute(*[dask.delayed(func)(b, *args) for b in self.blocks])

    def evaluate(self, theta, gradient=True):
        shares = self.map(
            _block_share, self.spec, self.n_outputs, self.n_train, theta, gradient
        )
        coef = theta[:, :-1]
        value = sum(share[0] for share in shares) + self.penalty.value(coef)
        if not gradient:
            return value, None
        grad = np.sum([share[1] for share in shares], axis=0)
        self.penalty.add_gradient(coef, grad[:, :-1])
        return value, grad.astype(theta.dtype, copy=False)

    def value_at_zero(self):
        return sum(
            self.map(_block_value_at_zero, self.spec, self.n_outputs, self.n_train)
        )

    def curvature(self):
        """:func:`skgd.objective.objective.largest_curvature` of all the blocks' rows."""
        size = self.n_features + 1
        if size <= EXACT_CURVATURE_MAX_FEATURES:
            gram = sum(self.map(_block_gram, self.intercept))
            return top_eigenvalue(size, gram=gram / self.n_train)

        def matvec(v):
            return sum(self.map(_block_gram_matvec, v, self.intercept)) / self.n_train

        return top_eigenvalue(size, matvec=matvec)

    def row_curvature(self):
        """:func:`skgd.objective.curvature.largest_row_curvature`: the largest over the blocks."""
        return max(self.map(_block_row_curvature, self.intercept))

    def trace_curvature(self):
        """:meth:`skgd.objective.Objective.trace_curvature` of all the blocks' rows."""
        return sum(self.map(_block_trace_curvature, self.intercept)) / self.n_train


def _block_objective(block, spec, n_outputs, n_train):
    X, Y, W = block
    loss = spec._make_loss(n_outputs)
    return Objective(X, Y, W, n_train, loss, Penalty(), spec._intercept_feature)


def _block_share(block, spec, n_outputs, n_train, theta, gradient):
    return _block_objective(block, spec, n_outputs, n_train).evaluate(theta, gradient)


def _block_value_at_zero(block, spec, n_outputs, n_train):
    return _block_objective(block, spec, n_outputs, n_train).value_at_zero()


def _block_gram(block, intercept):
    X, _, W = block
    return weighted_gram(X, W.max(axis=1), intercept, chunk=GRAM_ROWS, in_place=False)


def _block_gram_matvec(block, v, intercept):
    X, _, W = block
    return weighted_gram_matvec(X, W.max(axis=1), intercept, v)


def _block_row_curvature(block, intercept):
    X, _, W = block
    return largest_row_curvature(X, W, intercept)


def _block_trace_curvature(block, intercept):
    X, _, W = block
    return float(row_curvatures(X, W, intercept).sum())
