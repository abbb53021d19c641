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

import collections
import functools
import threading
from types import FunctionType, SimpleNamespace

import numba as nb
import numpy as np
from numba import types
from numba.core.typing.typeof import typeof_impl
from numba.experimental.function_type import WrapperAddressProtocol


def lazy_njit(signatures, **options):
    """``numba.njit(signatures, **options)``, each signature compiled on first use."""

    def decorate(func):
        return LazyDispatcher(func, signatures, options)

    return decorate


class LazyDispatcher:
    """Calls ``func`` compiled for the one of ``signatures`` its arrays match.

    The match looks at the array arguments only (dtype, dimensions, layout,
    read-only flag): the scalars and functions of a signature are converted
    by numba as usual. Each signature gets its own dispatcher, compiled
    eagerly for that signature alone (or loaded from the cache) and closed
    to new specialisations, exactly as ``njit([signature])`` would be, so a
    call never compiles on its own, and threads calling a compiled signature
    never meet one being compiled. Arguments that match no signature raise
    ``TypeError``.
    """

    def __init__(self, func, signatures, options):
        self.py_func = func
        self.options = dict(options)
        self._signatures = list(signatures)
        self._by_arrays = {}  # the array arguments' types -> dispatcher
        self._by_signature = {}
        self._lock = threading.Lock()
        self._last = None
        functools.update_wrapper(self, func)

    @property
    def compiled_signatures(self):
        """The signatures compiled so far."""
        return [sig for sig, _ in self._by_signature.values()]

    @property
    def stats(self):
        """numba's cache statistics, summed over the compiled signatures."""
        dispatchers = [dispatcher for _, dispatcher in self._by_signature.values()]
        hits, misses = collections.Counter(), collections.Counter()
        for dispatcher in dispatchers:
            hits.update(dispatcher.stats.cache_hits)
            misses.update(dispatcher.stats.cache_misses)
        path = dispatchers[0].stats.cache_path if dispatchers else None
        return SimpleNamespace(cache_hits=hits, cache_misses=misses, cache_path=path)

    def __call__(self, *args):
        # The dispatcher of the previous call first: a fit calls one kernel
        # with arrays of the same types every epoch, and numba itself refuses
        # arrays its one signature does not take (TypeError), which then
        # takes the lookup below. Building the lookup key measured about
        # 20 us a call of a kernel with 25 arguments.
        last = self._last
        if last is not None:
            try:
                return last(*args)
            except TypeError:
                pass
        key = tuple(_array_type(arg) for arg in args)
        dispatcher = self._by_arrays.get(key)
        if dispatcher is None:
            dispatcher = self._compile_for(key, args)
        self._last = dispatcher
        return dispatcher(*args)

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
            name = str(signature)
            if name not in self._by_signature:
                dispatcher = nb.njit([signature], **self.options)(self.py_func)
                self._by_signature[name] = (signature, dispatcher)
            self._by_arrays[key] = self._by_signature[name][1]
        return self._by_arrays[key]


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
                cfunc = nb.cfunc(signature, cache=True)(_cfunc_twin(dispatcher))
                function = _FIRST_CLASS[key] = Callback(cfunc)
    return function


class Callback(WrapperAddressProtocol):
    """A ``numba.cfunc`` whose numba type is built once.

    numba types a ``cfunc`` argument by building a ``FunctionType`` from its
    signature at every call of a kernel, which measured 30 us a function
    argument: more than a whole gradient pass over 500 rows. A kernel
    receives this object exactly as it would the ``cfunc`` (the wrapper
    address protocol), typed by the one type it keeps.
    """

    def __init__(self, cfunc):
        self.cfunc = cfunc
        self.numba_type = types.FunctionType(cfunc._sig)

    def __wrapper_address__(self):
        return self.cfunc.address

    def signature(self):
        return self.cfunc._sig


@typeof_impl.register(Callback)
def _typeof_callback(value, context):
    return value.numba_type


def _cfunc_twin(dispatcher):
    """``dispatcher``'s Python function under another qualified name.

    numba names a function's disk cache after its qualified name, and a
    ``cfunc`` compiled from the very function the dispatcher wraps would
    share the dispatcher's cache index: for the same signature, each then
    loads the other's machine code, which has another calling convention
    (observed: a segmentation fault). The twin keeps a cache of its own.
    """
    func = dispatcher.py_func
    twin = FunctionType(
        func.__code__, func.__globals__, func.__name__, func.__defaults__,
        func.__closure__,
    )  # fmt: skip
    twin.__qualname__ = f"{func.__qualname__}_cfunc"
    twin.__module__ = func.__module__
    return twin
