"""What happened at each epoch: :class:`History` while training, and
:class:`Records`, the fitted estimator's ``history_``.

The training loop (:mod:`skgd.training.loop`) fills a :class:`History`;
the estimator stores it as :class:`Records` (:mod:`skgd._estimators.fitted`).
"""

import math
import time
from collections.abc import Mapping

import numpy as np


class History:
    """Per-epoch records of a fit, exposed as the estimator's ``history_``."""

    def __init__(self, with_validation=False, with_theta=False, with_gap=False):
        self.start = time.perf_counter()
        keys = [
            "loss",
            "learning_rate",
            "grad_norm",
            "coef_norm",
            "lr_halvings",
            "time",
        ]
        if with_validation:
            keys.append("val_score")
        if with_theta:
            keys.append("theta")
        if with_gap:
            keys.append("dual_gap")
        self.records = {key: [] for key in keys}

    def record(self, **values):
        values["time"] = time.perf_counter() - self.start
        for key, value in values.items():
            if key in self.records:
                self.records[key].append(value)


class Records(Mapping):
    """``history_``: every record of the epochs since the last ``fit``, each
    a read-only array with one entry per epoch (a mapping, not a dict:
    ``dict(history_)`` makes one).

    ``partial_fit`` appends its epochs to the lists its previous records
    hold (:meth:`extended`), so a stream of calls costs each call its own
    epochs only; rebuilding the arrays at every call made a long stream
    quadratic (20 000 calls of 100 rows: 1.3 -> 2.7 ms a call). The arrays
    are built when first read.

    Records share lists with the records they extend, up to their own
    ``size``: a holder that finds the lists longer than that (an estimator
    rolled back after a failed call, or a shallow copy extended by another)
    copies its part before appending.
    """

    def __init__(self, lists, size):
        self._lists = lists
        self._size = size
        self._arrays = {}

    @classmethod
    def of(cls, history):
        """The records of one run (a :class:`History`)."""
        return cls(dict(history.records), len(history.records["loss"]))

    def extended(self, history):
        """These records followed by those of ``history`` (a later run). A
        record only one of them has is NaN-filled for the other's epochs, or
        dropped if it is a path of arrays (``coef``, ``intercept``)."""
        size, new = self._size, history.records
        if all(len(values) == size for values in self._lists.values()):
            lists = dict(self._lists)  # the lists themselves grow in place
        else:
            lists = {key: values[:size] for key, values in self._lists.items()}
        n_new = len(new["loss"])
        merged = {}
        for key in dict.fromkeys([*lists, *new]):
            old, added = lists.get(key), new.get(key)
            if old is None or added is None:
                known = old or added
                if known and np.ndim(known[0]) > 0:
                    continue
                old = [math.nan] * size if old is None else old
                added = [math.nan] * n_new if added is None else added
            old.extend(added)
            merged[key] = old
        return Records(merged, size + n_new)

    def as_list(self, key):
        """Record ``key`` as a list of floats: the list itself, which later
        ``partial_fit`` calls extend in place (``loss_curve_``, as
        MLPRegressor's)."""
        values = self._lists[key]
        return values if len(values) == self._size else values[: self._size]

    def __getitem__(self, key):
        array = self._arrays.get(key)
        if array is None:
            values = self._lists[key][: self._size]
            array = self._arrays[key] = np.asarray(values, dtype=np.float64)
            array.flags.writeable = False  # shared by every reader
        return array

    def __iter__(self):
        return iter(self._lists)

    def __len__(self):
        return len(self._lists)

    def __repr__(self):
        return repr(dict(self))

    def __getstate__(self):  # its own epochs; the arrays are rebuilt on reading
        size = self._size
        lists = {k: v if len(v) == size else v[:size] for k, v in self._lists.items()}
        return {"_lists": lists, "_size": size, "_arrays": {}}
