"""Kernels compile each signature at its first use (``skgd._kernels.lazy``)."""

import threading

import numba
import numpy as np
import pytest
from numba import types

from skgd._kernels.lazy import first_class, lazy_njit
from skgd._kernels.signatures import loss_signature
from skgd.objective.losses import regression_loss

SIGNATURES = [
    types.float64(ft[::1], types.float64) for ft in (types.float64, types.float32)
]


def make_kernel():
    @lazy_njit(SIGNATURES, nogil=True)
    def scaled_sum(x, factor):
        total = 0.0
        for value in x:
            total += value
        return total * factor

    return scaled_sum


def test_nothing_compiles_before_the_first_call():
    kernel = make_kernel()
    assert kernel.compiled_signatures == []
    assert kernel(np.arange(4.0), 2.0) == 12.0
    assert kernel.compiled_signatures == [SIGNATURES[0]]


def test_each_signature_compiles_once_and_never_specialises():
    kernel = make_kernel()
    x32 = np.arange(4, dtype=np.float32)
    for _ in range(3):
        assert kernel(x32, 1) == 6.0  # an int factor converts, as with eager njit
        assert kernel(np.arange(4.0), 0.5) == 3.0
    assert kernel.compiled_signatures == SIGNATURES[::-1]
    # Each signature's dispatcher is closed to new specialisations.
    assert all(
        len(dispatcher.overloads) == 1
        for _, dispatcher in kernel._by_signature.values()
    )


def test_arrays_of_no_signature_are_refused_with_the_kernels_name():
    kernel = make_kernel()
    with pytest.raises(TypeError, match="scaled_sum has no signature for"):
        kernel(np.arange(8.0)[::2], 1.0)  # not contiguous
    with pytest.raises(TypeError, match="scaled_sum has no signature for"):
        kernel(np.arange(4), 1.0)  # integers
    assert kernel.compiled_signatures == []


def test_concurrent_first_calls_compile_once():
    kernel = make_kernel()
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(kernel(np.ones(5), 1.0)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [5.0] * 4
    assert kernel.compiled_signatures == [SIGNATURES[0]]


def test_first_class_functions_are_compiled_once_per_dtype():
    kernel = regression_loss("squared_error", 0.1).kernel
    f64 = first_class(kernel, loss_signature, np.float64)
    assert first_class(kernel, loss_signature, np.dtype("float64")) is f64
    f32 = first_class(kernel, loss_signature, np.float32)
    assert f32 is not f64
    # Typed exactly as the kernels' function arguments: no conversion search.
    assert numba.typeof(f64) == types.FunctionType(loss_signature(types.float64))
    assert numba.typeof(f32) == types.FunctionType(loss_signature(types.float32))


def test_a_compiled_signature_never_specialises_on_its_own():
    # Each signature has its own dispatcher, closed to compilation, so no
    # call (from any thread, at any time) can compile something unintended.
    kernel = make_kernel()
    kernel(np.arange(3.0), 1.0)
    ((_, dispatcher),) = kernel._by_signature.values()
    with pytest.raises(TypeError):
        dispatcher(np.arange(3), 1.0)  # integers: would need a new compilation
    assert len(dispatcher.overloads) == 1
