"""Software prefetch for the compiled loops.

Shuffled epochs visit rows in random order, which defeats the CPU's own
prefetcher: every row starts with a cache miss and the loop waits for memory
more than it computes (measured: a shuffled online epoch took 2.5x a
sequential one). Asking for the row a few samples ahead overlaps that wait
with useful work. ``llvm.prefetch`` is only a hint: it never faults and does
not change any result.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

CACHE_LINE = 64


def _prefetch_bytes(builder, start, n_bytes):
    # One llvm.prefetch (read, high locality, data cache) per cache line.
    i8p = ir.IntType(8).as_pointer()
    i32, i64 = ir.IntType(32), ir.IntType(64)
    start = builder.bitcast(start, i8p)
    prefetch = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
        "llvm.prefetch.p0",
    )  # fmt: skip
    n_lines = builder.add(builder.udiv(n_bytes, i64(CACHE_LINE)), i64(1))
    with cgutils.for_range(builder, n_lines) as loop:
        address = builder.gep(start, [builder.mul(loop.index, i64(CACHE_LINE))])
        builder.call(prefetch, [address, i32(0), i32(3), i32(1)])


@intrinsic
def prefetch_row(typingctx, array, row):
    """Start loading row ``row`` of a C-contiguous 2-D ``array`` into cache."""
    if not (isinstance(array, types.Array) and array.ndim == 2):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        i64 = ir.IntType(64)
        row_index = context.cast(builder, args[1], signature.args[1], types.int64)
        shape = cgutils.unpack_tuple(builder, ary.shape)
        strides = cgutils.unpack_tuple(builder, ary.strides)
        start = cgutils.get_item_pointer2(
            context, builder, ary.data, shape, strides, array_type.layout,
            [row_index, i64(0)],
        )  # fmt: skip
        _prefetch_bytes(builder, start, strides[0])
        return context.get_dummy_value()

    return types.void(array, row), codegen


@intrinsic
def prefetch_span(typingctx, array, start, stop):
    """Start loading ``array[start:stop]`` of a contiguous 1-D ``array``."""
    if not (isinstance(array, types.Array) and array.ndim == 1):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        lo = context.cast(builder, args[1], signature.args[1], types.int64)
        hi = context.cast(builder, args[2], signature.args[2], types.int64)
        first = cgutils.get_item_pointer(context, builder, array_type, ary, [lo])
        itemsize = ir.Constant(ir.IntType(64), context.get_abi_sizeof(
            context.get_data_type(array_type.dtype)
        ))  # fmt: skip
        _prefetch_bytes(builder, first, builder.mul(builder.sub(hi, lo), itemsize))
        return context.get_dummy_value()

    return types.void(array, start, stop), codegen
