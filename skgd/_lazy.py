"""Compilation on first use: explicitly typed kernels, and the functions they take.

``@numba.njit([signatures])`` compiles every signature when the module is
imported. With numba's on-disk cache still empty (a fresh install), that
made ``import skgd`` take 29 s for some 70 signatures, of which one fit uses
about five. :func:`lazy_njit` takes the same signatures but compiles (or
loads from the cache) each one at its first call.

The signatures stay explicit, not inferred from the arguments, because the
losses and update rules arrive as first-class function arguments: typed
from the call, they would make numba specialise a kernel on each function
object, and such specialisations cannot be cached on disk. Those functions
are passed as C callbacks (:func:`first_class`), which numba types as the
kernels' function arguments at once.
"""

import functools
import threading

import numba as nb
import numpy as np


def lazy_njit(signatures, **options):
    """``numba.njit(signatures, **options)``, each signature compiled on first use."""

    def decorate(func):
        return LazyDispatcher(func, signatures, options)

    return decorate


class LazyDispatcher:
    """Calls ``func`` compiled for the one of ``signatures`` its arrays match.

    The match looks at the array arguments only (dtype, dimensions, layout,
    read-only flag): the scalars and functions of a signature are converted
    by numba as usual. New specialisations are never made at call time, as
    with eager signatures, so arguments that match no signature raise
    ``TypeError``.
    """

    def __init__(self, func, signatures, options):
        self.py_func = func
        self._signatures = list(signatures)
        # Compiles nothing until ``_compile_for`` asks, which then disables
        # compilation at call time (numba allows that once one signature exists).
        self._dispatcher = nb.njit(**options)(func)
        self._compiled = {}  # array types -> compiled
        self._lock = threading.Lock()
        functools.update_wrapper(self, func)

    @property
    def stats(self):
        """numba's compilation and cache statistics of the compiled signatures."""
        return self._dispatcher.stats

    def __call__(self, *args):
        key = tuple(_array_type(arg) for arg in args)
        if key not in self._compiled:
            self._compile_for(key, args)
        return self._dispatcher(*args)

    def _compile_for(self, key, args):
        signature = next(
            (sig for sig in self._signatures if _arrays_match(sig, args)), None
        )
        if signature is None:
            raise TypeError(
                f"{self.py_func.__name__} has no signature for the argument types "
                f"{tuple(nb.typeof(arg) for arg in args)}"
            )
        with self._lock:  # one thread compiles; the others find it compiled
            self._dispatcher.disable_compile(False)
            try:
                self._dispatcher.compile(signature)
            finally:
                self._dispatcher.disable_compile(True)
            self._compiled[key] = signature


def _array_type(arg):
    if isinstance(arg, np.ndarray):
        return (arg.dtype, arg.ndim, arg.flags.c_contiguous, arg.flags.writeable)
    return None


def _arrays_match(signature, args):
    if len(signature.args) != len(args):
        return False
    return all(
        nb.typeof(arg) == expected
        for arg, expected in zip(args, signature.args, strict=True)
        if isinstance(arg, np.ndarray)
    )


_FIRST_CLASS = {}
_FIRST_CLASS_LOCK = threading.Lock()


def first_class(dispatcher, signature_of, dtype):
    """``dispatcher``'s function as a C callback of signature
    ``signature_of(numba type of dtype)``.

    A ``numba.cfunc`` (compiled at the first request, then kept in memory
    and cached on disk) is typed exactly as a kernel's ``FunctionType``
    argument. Passed the dispatcher instead, numba searches for a conversion
    on every call, which measured 25 us per function argument per call: a
    third of a ``partial_fit`` on 100 rows.
    """
    key = (dispatcher.py_func, np.dtype(dtype))
    function = _FIRST_CLASS.get(key)
    if function is None:
        with _FIRST_CLASS_LOCK:
            function = _FIRST_CLASS.get(key)
            if function is None:
                signature = signature_of(nb.from_dtype(key[1]))
                function = nb.cfunc(signature, cache=True)(dispatcher.py_func)
                _FIRST_CLASS[key] = function
    return function
