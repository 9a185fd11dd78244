"""The LLVM backend on hand-built lowered IR, checked against numpy."""
import math

import numpy as np
import pytest

from pipelang.backends.llvm import compile_lowered, pack_scalar
from pipelang.errors import PipelineRuntimeError
from pipelang.ir import Bool, Float, Int, UInt, type_of_dtype
from pipelang.ir.nodes import (
    EQ, GE, GT, LE, LT, NE, Add, Allocate, And, ArgKind, Argument, AssertStmt, Block,
    Broadcast, Cast, Div, Evaluate, FloatImm, For, ForKind, IfThenElse, IntImm, Intrinsic,
    Let, LetStmt, Load, LoweredFunc, Max, MemoryType, Min, Mod, Mul, Not, Op, Or, Ramp,
    Select, Shuffle, Store, Sub, Symbol, UIntImm, Variable, buffer_extent, buffer_min,
    buffer_stride, i32, make_const, var,
)


def buffer_arg(sym, dtype, dims=1):
    return Argument(sym, ArgKind.BUFFER, type_of_dtype(dtype), dims)


def elementwise(fn, arrays, out_dtype, lanes=1):
    """out[x] = fn(*loads of arrays at x), `lanes` elements per loop iteration."""
    ins = [Symbol(f"in{i}") for i in range(len(arrays))]
    out, x = Symbol("out"), Symbol("x")
    idx = Ramp(Mul(var(x), i32(lanes)), i32(1), lanes) if lanes > 1 else var(x)
    loads = [Load(type_of_dtype(a.dtype).with_lanes(lanes), s, idx) for s, a in zip(ins, arrays)]
    n = Variable(Int(32), buffer_extent(out, 0))
    body = For(x, i32(0), Div(n, i32(lanes)), ForKind.SERIAL, Store(out, fn(*loads), idx))
    args = tuple(buffer_arg(s, a.dtype) for s, a in zip(ins, arrays)) + (buffer_arg(out, out_dtype),)
    jf = compile_lowered(LoweredFunc("elementwise", args, body))
    result = np.zeros(len(arrays[0]), out_dtype)
    jf(jf.make_argv(*arrays, result))
    return result


INT_DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64]


def sample(dtype, n=64, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(-100, 100, n).astype(dtype)
    info = np.iinfo(dtype)
    vals = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    vals[:4] = [info.min, info.max, 0, 1]
    return vals


# ------------------------------------------------------------------ arithmetic

@pytest.mark.parametrize("lanes", [1, 8])
@pytest.mark.parametrize("dtype", INT_DTYPES + [np.float32, np.float64])
@pytest.mark.parametrize("node,ref", [(Add, np.add), (Sub, np.subtract), (Mul, np.multiply),
                                      (Min, np.minimum), (Max, np.maximum)])
def test_binary_arithmetic(node, ref, dtype, lanes):
    a, b = sample(dtype, seed=1), sample(dtype, seed=2)
    if np.dtype(dtype).itemsize >= 4 and np.dtype(dtype).kind == "i" and node is not Min and node is not Max:
        a, b = a // 4, b // 4  # signed 32/64-bit overflow is undefined, as in Halide
    with np.errstate(over="ignore"):
        expected = ref(a, b)
    np.testing.assert_array_equal(elementwise(node, [a, b], dtype, lanes), expected)


def euclid(a, b):
    """Halide's integer division and modulo, in Python integers."""
    if b == 0:
        return 0, 0
    q = abs(a) // abs(b) * (1 if (a >= 0) == (b > 0) else -1)
    r = a - q * b
    if r < 0:
        q, r = (q - 1, r + b) if b > 0 else (q + 1, r - b)
    return q, r


DIV_CASES = [(-7, 3), (-7, -3), (7, -3), (7, 3), (5, 0), (-5, 0), (0, 0),
             (-2**31, -1), (-2**31, 1), (2**31 - 1, -1), (-2**31, 2**31 - 1), (6, 3), (-6, 3)]


@pytest.mark.parametrize("lanes", [1, 4])
def test_signed_div_mod_are_euclidean_and_total(lanes):
    a = np.array([c[0] for c in DIV_CASES] * 4, np.int32)[: 4 * len(DIV_CASES) // lanes * lanes]
    b = np.array([c[1] for c in DIV_CASES] * 4, np.int32)[: len(a)]
    wrap = lambda v: (v + 2**31) % 2**32 - 2**31
    div = elementwise(Div, [a, b], np.int32, lanes)
    mod = elementwise(Mod, [a, b], np.int32, lanes)
    for x, y, q, r in zip(a.tolist(), b.tolist(), div.tolist(), mod.tolist()):
        eq, er = euclid(x, y)
        assert (q, r) == (wrap(eq), wrap(er)), (x, y)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int64])
def test_signed_div_mod_narrow_and_wide(dtype):
    a, b = sample(dtype, 200, 3), sample(dtype, 200, 4)
    b[::7] = 0
    b[1::9] = -1
    bits = np.dtype(dtype).itemsize * 8
    wrap = lambda v: (v + 2**(bits - 1)) % 2**bits - 2**(bits - 1)
    div, mod = elementwise(Div, [a, b], dtype), elementwise(Mod, [a, b], dtype)
    for x, y, q, r in zip(a.tolist(), b.tolist(), div.tolist(), mod.tolist()):
        eq, er = euclid(x, y)
        assert (q, r) == (wrap(eq), wrap(er)), (x, y)


@pytest.mark.parametrize("divisor", [1, 2, 8, 3, 7, -1, -4, -3, 0])
@pytest.mark.parametrize("lanes", [1, 8])
def test_div_mod_by_constants(divisor, lanes):
    a = np.arange(-64, 64, dtype=np.int32)
    c = lambda e: make_const(e.type, divisor)
    div = elementwise(lambda x: Div(x, c(x)), [a], np.int32, lanes)
    mod = elementwise(lambda x: Mod(x, c(x)), [a], np.int32, lanes)
    assert div.tolist() == [euclid(x, divisor)[0] for x in a.tolist()]
    assert mod.tolist() == [euclid(x, divisor)[1] for x in a.tolist()]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.uint64])
def test_unsigned_div_mod(dtype):
    a, b = sample(dtype, 100, 5), sample(dtype, 100, 6) // 7
    b[::5] = 0
    div, mod = elementwise(Div, [a, b], dtype), elementwise(Mod, [a, b], dtype)
    safe = np.where(b == 0, 1, b)
    np.testing.assert_array_equal(div, np.where(b == 0, 0, a // safe))
    np.testing.assert_array_equal(mod, np.where(b == 0, 0, a % safe))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_div_mod(dtype):
    a = np.array([-7.5, 7.5, -7.5, 7.5, 1.0, 0.0], dtype)
    b = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 5.0], dtype)
    np.testing.assert_array_equal(elementwise(Div, [a, b], dtype), a / b)
    expected = a - b * np.floor(a / b)
    np.testing.assert_array_equal(elementwise(Mod, [a, b], dtype), expected.astype(dtype))


# ------------------------------------------------------------------ casts

CASTS = [  # source dtype, value, destination type, expected
    (np.float32, 300.0, UInt(8), 44), (np.float32, -2.7, Int(32), -2), (np.float32, 2.7, Int(32), 2),
    (np.float32, -1.0, UInt(8), 255), (np.float64, 1e10, Int(64), 10**10),
    (np.int32, -1, UInt(8), 255), (np.int8, -1, Int(32), -1), (np.uint8, 255, Int(32), 255),
    (np.int16, -2, UInt(32), 2**32 - 2), (np.uint32, 2**32 - 1, Float(64), 2.0**32 - 1),
    (np.int32, -3, Float(32), -3.0), (np.float64, 0.1, Float(32), float(np.float32(0.1))),
    (np.float32, 0.5, Bool(), 0), (np.float32, 0.0, Bool(), 0), (np.int32, 256, Bool(), 0),
    (np.uint8, 0, Bool(), 0), (np.int64, 2**40 + 5, Int(16), 5),
]


@pytest.mark.parametrize("lanes", [1, 4])
@pytest.mark.parametrize("src,value,dst,expected", CASTS)
def test_casts(src, value, dst, expected, lanes):
    a = np.full(8, value, src)
    out = elementwise(lambda v: Cast(dst.with_lanes(lanes), v), [a], dst.numpy_dtype(), lanes)
    assert out.tolist() == [expected] * 8


def test_bool_source_zero_extends():
    a = np.array([True, False, True, True], np.bool_)
    for dst, dtype in [(Int(32), np.int32), (Float(32), np.float32), (UInt(8), np.uint8)]:
        out = elementwise(lambda v: Cast(dst.with_lanes(v.type.lanes()), v), [a], dtype, 4)
        assert out.tolist() == [1, 0, 1, 1]


# ------------------------------------------------------------------ bools and comparisons

@pytest.mark.parametrize("lanes", [1, 8])
@pytest.mark.parametrize("dtype", [np.int32, np.uint16, np.float32])
def test_comparisons_store_bools(dtype, lanes):
    a, b = sample(dtype, 64, 7), sample(dtype, 64, 8)
    b[::3] = a[::3]
    for node, ref in [(EQ, np.equal), (NE, np.not_equal), (LT, np.less), (LE, np.less_equal),
                      (GT, np.greater), (GE, np.greater_equal)]:
        np.testing.assert_array_equal(elementwise(node, [a, b], np.bool_, lanes), ref(a, b))


def test_float_comparisons_with_nan():
    a = np.array([np.nan, 1.0, np.nan, 2.0], np.float32)
    b = np.array([1.0, np.nan, np.nan, 2.0], np.float32)
    for node, ref in [(EQ, np.equal), (NE, np.not_equal), (LT, np.less), (GE, np.greater_equal)]:
        np.testing.assert_array_equal(elementwise(node, [a, b], np.bool_, 4), ref(a, b))


@pytest.mark.parametrize("lanes", [1, 8])
def test_bool_logic_and_select(lanes):
    rng = np.random.default_rng(3)
    p, q = rng.random(64) < 0.5, rng.random(64) < 0.5
    np.testing.assert_array_equal(elementwise(And, [p, q], np.bool_, lanes), p & q)
    np.testing.assert_array_equal(elementwise(Or, [p, q], np.bool_, lanes), p | q)
    np.testing.assert_array_equal(elementwise(lambda a: Not(a), [p], np.bool_, lanes), ~p)
    x, y = sample(np.int16, 64, 1), sample(np.int16, 64, 2)
    out = elementwise(Select, [p, x, y], np.int16, lanes)
    np.testing.assert_array_equal(out, np.where(p, x, y))


# ------------------------------------------------------------------ intrinsics

def intr(op, t=None):
    return lambda *args: Intrinsic(t or args[0].type, op, tuple(args))


FLOAT_MATH = [
    (Op.SQRT, np.sqrt, (0, 100)), (Op.EXP, np.exp, (-5, 5)), (Op.LOG, np.log, (0.1, 100)),
    (Op.SIN, np.sin, (-4, 4)), (Op.COS, np.cos, (-4, 4)), (Op.TAN, np.tan, (-1, 1)),
    (Op.ASIN, np.arcsin, (-1, 1)), (Op.ACOS, np.arccos, (-1, 1)), (Op.ATAN, np.arctan, (-9, 9)),
    (Op.SINH, np.sinh, (-3, 3)), (Op.COSH, np.cosh, (-3, 3)), (Op.TANH, np.tanh, (-3, 3)),
    (Op.ASINH, np.arcsinh, (-9, 9)), (Op.ACOSH, np.arccosh, (1, 9)),
    (Op.ATANH, np.arctanh, (-0.9, 0.9)),
]


@pytest.mark.parametrize("lanes", [1, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op,ref,domain", FLOAT_MATH, ids=[m[0].value for m in FLOAT_MATH])
def test_float_math(op, ref, domain, dtype, lanes):
    a = np.random.default_rng(0).uniform(*domain, 32).astype(dtype)
    np.testing.assert_allclose(elementwise(intr(op), [a], dtype, lanes), ref(a), rtol=1e-5)


@pytest.mark.parametrize("lanes", [1, 4])
def test_binary_float_math(lanes):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.1, 3, 32).astype(np.float32), rng.uniform(-3, 3, 32).astype(np.float32)
    np.testing.assert_allclose(elementwise(intr(Op.POW), [a, b], np.float32, lanes), a ** b, rtol=1e-5)
    np.testing.assert_allclose(elementwise(intr(Op.ATAN2), [b, a], np.float32, lanes),
                               np.arctan2(b, a), rtol=1e-5)


@pytest.mark.parametrize("lanes", [1, 8])
def test_rounding_is_exact(lanes):
    a = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6, -2.6], np.float32)
    for op, ref in [(Op.FLOOR, np.floor), (Op.CEIL, np.ceil), (Op.ROUND, np.round),
                    (Op.TRUNC, np.trunc)]:
        np.testing.assert_array_equal(elementwise(intr(op), [a], np.float32, lanes), ref(a))


@pytest.mark.parametrize("lanes", [1, 4])
def test_float_classification(lanes):
    a = np.array([np.nan, np.inf, -np.inf, 1.0], np.float64)
    for op, ref in [(Op.IS_NAN, np.isnan), (Op.IS_INF, np.isinf), (Op.IS_FINITE, np.isfinite)]:
        out = elementwise(intr(op, Bool(lanes)), [a], np.bool_, lanes)
        np.testing.assert_array_equal(out, ref(a))


@pytest.mark.parametrize("lanes", [1, 8])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.uint32, np.int64])
def test_bitwise_and_shifts(dtype, lanes):
    a, b = sample(dtype, 64, 1), sample(dtype, 64, 2)
    bits = np.dtype(dtype).itemsize * 8
    s = (np.arange(64) % bits).astype(dtype)
    for op, ref in [(Op.BITWISE_AND, np.bitwise_and), (Op.BITWISE_OR, np.bitwise_or),
                    (Op.BITWISE_XOR, np.bitwise_xor), (Op.SHIFT_LEFT, np.left_shift),
                    (Op.SHIFT_RIGHT, np.right_shift)]:
        y = s if op in (Op.SHIFT_LEFT, Op.SHIFT_RIGHT) else b
        np.testing.assert_array_equal(elementwise(intr(op), [a, y], dtype, lanes), ref(a, y))
    np.testing.assert_array_equal(elementwise(intr(Op.BITWISE_NOT), [a], dtype, lanes), ~a)


@pytest.mark.parametrize("lanes", [1, 8])
def test_abs_absd(lanes):
    a, b = sample(np.int8, 64, 1), sample(np.int8, 64, 2)
    out = elementwise(intr(Op.ABS, UInt(8, lanes)), [a], np.uint8, lanes)
    np.testing.assert_array_equal(out, np.abs(a.astype(np.int16)).astype(np.uint8))
    out = elementwise(intr(Op.ABSD, UInt(8, lanes)), [a, b], np.uint8, lanes)
    np.testing.assert_array_equal(out, np.abs(a.astype(np.int16) - b).astype(np.uint8))
    f = sample(np.float32, 64, 3)
    np.testing.assert_array_equal(elementwise(intr(Op.ABS), [f], np.float32, lanes), np.abs(f))
    u, v = sample(np.uint16, 64, 4), sample(np.uint16, 64, 5)
    out = elementwise(intr(Op.ABSD), [u, v], np.uint16, lanes)
    np.testing.assert_array_equal(out, np.abs(u.astype(np.int32) - v).astype(np.uint16))


@pytest.mark.parametrize("lanes", [1, 4])
def test_bit_counting_reinterpret_likely(lanes):
    a = np.array([0, 1, 0x80000000, 0xF0F0, 7, 2**32 - 1, 12, 1024], np.uint32)
    pop = elementwise(intr(Op.POPCOUNT), [a], np.uint32, lanes)
    assert pop.tolist() == [bin(v).count("1") for v in a.tolist()]
    clz = elementwise(intr(Op.COUNT_LEADING_ZEROS), [a], np.uint32, lanes)
    assert clz.tolist() == [32 - v.bit_length() for v in a.tolist()]
    ctz = elementwise(intr(Op.COUNT_TRAILING_ZEROS), [a], np.uint32, lanes)
    assert ctz.tolist() == [32 if v == 0 else (v & -v).bit_length() - 1 for v in a.tolist()]
    out = elementwise(intr(Op.REINTERPRET, Float(32, lanes)), [a], np.float32, lanes)
    np.testing.assert_array_equal(out.view(np.uint32), a)
    np.testing.assert_array_equal(elementwise(intr(Op.LIKELY), [a], np.uint32, lanes), a)


# ------------------------------------------------------------------ vectors and memory

def test_gather_scatter_and_ramp_stride():
    # out[ramp(4x, 2, 4)] = in[ramp(8x + 7, -1, 4)] + ramp(0, 10, 4): strided both ways.
    inp, out, x = Symbol("in"), Symbol("out"), Symbol("x")
    src = Ramp(Add(Mul(var(x), i32(8)), i32(7)), i32(-1), 4)
    dst = Ramp(Mul(var(x), i32(8)), i32(2), 4)
    value = Add(Load(Int(32, 4), inp, src), Ramp(i32(0), i32(10), 4))
    body = For(x, i32(0), i32(4), ForKind.SERIAL, Store(out, value, dst))
    args = (buffer_arg(inp, np.int32), buffer_arg(out, np.int32))
    jf = compile_lowered(LoweredFunc("gather", args, body))
    a, o = np.arange(32, dtype=np.int32), np.zeros(32, np.int32)
    jf(jf.make_argv(a, o))
    expected = np.zeros(32, np.int32)
    for xi in range(4):
        for lane in range(4):
            expected[8 * xi + 2 * lane] = a[8 * xi + 7 - lane] + 10 * lane
    np.testing.assert_array_equal(o, expected)


def test_reversed_and_broadcast_indices():
    # out[ramp(8x + 7, -1, 8)] = in[ramp(8x, 1, 8)] + in[x8(1)];  last[x8(0)] = ramp(x, 1, 8)
    inp, out, last, x = Symbol("in"), Symbol("out"), Symbol("last"), Symbol("x")
    base = Mul(var(x), i32(8))
    value = Add(Load(Int(32, 8), inp, Ramp(base, i32(1), 8)), Load(Int(32, 8), inp, Broadcast(i32(1), 8)))
    body = For(x, i32(0), i32(4), ForKind.SERIAL, Block((
        Store(out, value, Ramp(Add(base, i32(7)), i32(-1), 8)),
        Store(last, Ramp(var(x), i32(1), 8), Broadcast(i32(0), 8)))))
    args = (buffer_arg(inp, np.int32), buffer_arg(out, np.int32), buffer_arg(last, np.int32))
    jf = compile_lowered(LoweredFunc("reverse", args, body))
    a, o, l = np.arange(32, dtype=np.int32) * 3, np.zeros(32, np.int32), np.zeros(1, np.int32)
    jf(jf.make_argv(a, o, l))
    np.testing.assert_array_equal(o, (a + a[1]).reshape(4, 8)[:, ::-1].reshape(-1))
    assert l[0] == 3 + 7


def test_shuffles_and_broadcast():
    a = np.arange(16, dtype=np.float32)
    b = a * 100
    interleave = lambda p, q: Shuffle((p, q), (0, 8, 1, 9, 2, 10, 3, 11))
    out = elementwise(lambda p, q: Shuffle((interleave(p, q),), (0, 2, 4, 6, 1, 3, 5, 7)), [a, b], np.float32, 8)
    chunks_a, chunks_b = a.reshape(-1, 8)[:, :4], b.reshape(-1, 8)[:, :4]
    np.testing.assert_array_equal(out.reshape(-1, 8), np.hstack([chunks_a, chunks_b]))
    reverse = elementwise(lambda p: Shuffle((p,), tuple(range(7, -1, -1))), [a], np.float32, 8)
    np.testing.assert_array_equal(reverse, np.concatenate([a[7::-1], a[15:7:-1]]))
    lane = elementwise(lambda p: Broadcast(Shuffle((p,), (3,)), 4), [a], np.float32, 4)
    np.testing.assert_array_equal(lane, np.repeat(a[3::4], 4))
    # Mixed scalars and vectors of different widths.
    mixed = elementwise(lambda p: Shuffle((Shuffle((p,), (0, 1)), Shuffle((p,), (3,)), p),
                                          (2, 0, 3, 6)), [a], np.float32, 4)
    np.testing.assert_array_equal(mixed, a.reshape(-1, 4)[:, [3, 0, 0, 3]].reshape(-1))


def test_two_dimensional_buffers_with_mins_and_strides():
    # out(x, y) = in(x, y) * 2 + y over out's region; in is a transposed view.
    inp, out, x, y = Symbol("in"), Symbol("out"), Symbol("x"), Symbol("y")
    V = lambda sym: Variable(Int(32), sym)

    def index(buf):
        return Add(Mul(Sub(var(x), V(buffer_min(buf, 0))), V(buffer_stride(buf, 0))),
                   Mul(Sub(var(y), V(buffer_min(buf, 1))), V(buffer_stride(buf, 1))))
    store = Store(out, Add(Mul(Load(Int(32), inp, index(inp)), i32(2)), var(y)), index(out))
    body = For(y, V(buffer_min(out, 1)), V(buffer_extent(out, 1)), ForKind.SERIAL,
               For(x, V(buffer_min(out, 0)), V(buffer_extent(out, 0)), ForKind.SERIAL, store))
    args = (buffer_arg(inp, np.int32, 2), buffer_arg(out, np.int32, 2))
    jf = compile_lowered(LoweredFunc("two_d", args, body))
    a = np.arange(35, dtype=np.int32).reshape(5, 7).T  # numpy shape (7, 5): x extent 5, y extent 7
    o = np.zeros((7, 5), np.int32)
    jf(jf.make_argv((a, (3, -2)), (o, (3, -2))))
    ys = np.arange(-2, 5)[:, None]
    np.testing.assert_array_equal(o, a * 2 + ys)
    assert jf.arg_offsets == [0, 7] and jf.argv_size == 14


@pytest.mark.parametrize("memory,size", [(MemoryType.AUTO, 64), (MemoryType.AUTO, 100_000),
                                         (MemoryType.STACK, None), (MemoryType.HEAP, 64),
                                         (MemoryType.AUTO, None)])
def test_allocations_inside_loops(memory, size):
    # for y: allocate tmp[n]; tmp[x] = in[x] + y; out[y] += sum_x tmp[x]  (vectorized by 8)
    inp, out, tmp, x, y = Symbol("in"), Symbol("out"), Symbol("tmp"), Symbol("x"), Symbol("y")
    n = Variable(Int(32), buffer_extent(inp, 0))
    ramp = Ramp(Mul(var(x), i32(8)), i32(1), 8)
    fill = For(x, i32(0), Div(n, i32(8)), ForKind.SERIAL,
               Store(tmp, Add(Load(Int(32, 8), inp, ramp), Broadcast(var(y), 8)), ramp))
    acc = For(x, i32(0), n, ForKind.SERIAL,
              Store(out, Add(Load(Int(32), out, var(y)), Load(Int(32), tmp, var(x))), var(y)))
    alloc_size = i32(size) if size is not None else n
    body = For(y, i32(0), i32(2000), ForKind.SERIAL,
               Allocate(tmp, Int(32), alloc_size, memory, Block((fill, acc))))
    args = (buffer_arg(inp, np.int32), buffer_arg(out, np.int32))
    jf = compile_lowered(LoweredFunc("alloc", args, body))
    a = np.arange(64, dtype=np.int32)
    o = np.zeros(2000, np.int32)
    jf(jf.make_argv(a, o))
    np.testing.assert_array_equal(o, a.sum() + 64 * np.arange(2000))


def test_bool_buffers_are_bytes():
    p = np.array([True, False, False, True] * 4)
    np.testing.assert_array_equal(elementwise(lambda a: Not(a), [p], np.bool_, 8), ~p)


# ------------------------------------------------------------------ scalars, lets, control flow

SCALARS = [(Int(8), -5), (UInt(8), 250), (Int(32), -123456), (UInt(32), 2**32 - 3),
           (Int(64), -2**40), (UInt(64), 2**64 - 1), (Bool(), True), (Float(32), -1.25),
           (Float(64), 1e100)]


@pytest.mark.parametrize("t,value", SCALARS)
def test_scalar_arguments(t, value):
    s, out = Symbol("s"), Symbol("out")
    body = Store(out, Variable(t, s), i32(0))
    args = (Argument(s, ArgKind.SCALAR, t), buffer_arg(out, t.numpy_dtype()))
    jf = compile_lowered(LoweredFunc("scalar", args, body))
    o = np.zeros(1, t.numpy_dtype())
    argv = jf.make_argv(value, o)
    assert argv[0] == pack_scalar(value, t)
    jf(argv)
    assert o[0] == value


def test_lets_and_if_then_else():
    # for x: let t = in[x] * 3 in if (t % 2 == 0) out[x] = (let u = t + 1 in u * u) else out[x] = -t
    inp, out, x, t, u = (Symbol(n) for n in ("in", "out", "x", "t", "u"))
    T = var(t)
    even = EQ(Mod(T, i32(2)), i32(0))
    then = Store(out, Let(u, Add(T, i32(1)), Mul(var(u), var(u))), var(x))
    body = For(x, i32(0), Variable(Int(32), buffer_extent(out, 0)), ForKind.SERIAL,
               LetStmt(t, Mul(Load(Int(32), inp, var(x)), i32(3)),
                       Block((Evaluate(T), IfThenElse(even, then, Store(out, Sub(i32(0), T), var(x)))))))
    args = (buffer_arg(inp, np.int32), buffer_arg(out, np.int32))
    jf = compile_lowered(LoweredFunc("lets", args, body))
    a = np.arange(-10, 10, dtype=np.int32)
    o = np.zeros_like(a)
    jf(jf.make_argv(a, o))
    np.testing.assert_array_equal(o, np.where(a * 3 % 2 == 0, (a * 3 + 1) ** 2, -a * 3))


# ------------------------------------------------------------------ asserts

def asserting_function():
    inp, out, x = Symbol("in"), Symbol("out"), Symbol("x")
    n = Variable(Int(32), buffer_extent(inp, 0))
    m = Variable(Int(32), buffer_extent(out, 0))
    tmp = Symbol("tmp")
    body = Block((
        AssertStmt(GE(n, i32(4)), "Input buffer in is accessed at 3, beyond extent {}", (n,)),
        Allocate(tmp, Float(32), i32(1 << 20), MemoryType.HEAP, Block((
            AssertStmt(LE(m, n), "out ({}) is larger than in ({}) by {}", (m, n, Sub(m, n))),
            For(x, i32(0), m, ForKind.SERIAL, Store(out, Load(Int(32), inp, var(x)), var(x))),
        ))),
    ))
    args = (buffer_arg(inp, np.int32), buffer_arg(out, np.int32))
    return compile_lowered(LoweredFunc("asserts", args, body))


def test_failed_asserts_raise_with_values():
    jf = asserting_function()
    with pytest.raises(PipelineRuntimeError, match="accessed at 3, beyond extent 2"):
        jf(jf.make_argv(np.zeros(2, np.int32), np.zeros(1, np.int32)))
    for _ in range(100):  # the heap allocation is freed on the error path
        with pytest.raises(PipelineRuntimeError, match=r"out \(9\) is larger than in \(5\) by 4"):
            jf(jf.make_argv(np.zeros(5, np.int32), np.zeros(9, np.int32)))
    a, o = np.arange(5, dtype=np.int32), np.zeros(5, np.int32)
    jf(jf.make_argv(a, o))
    np.testing.assert_array_equal(o, a)


def test_unlowered_loops_are_internal_errors():
    out, x = Symbol("out"), Symbol("x")
    body = For(x, i32(0), i32(8), ForKind.VECTORIZED, Store(out, var(x), var(x)))
    with pytest.raises(AssertionError, match="lowering must remove it"):
        compile_lowered(LoweredFunc("bad", (buffer_arg(out, np.int32),), body))


def test_products():
    jf = asserting_function()
    assert "define i32 @asserts(" in jf.llvm_ir
    assert ".text" in jf.assembly() or "asserts" in jf.assembly()
    assert 0 < jf.compile_seconds < 10


def test_compiling_from_several_python_threads():
    import threading
    results, a = {}, np.arange(64, dtype=np.int32)

    def work(k):
        results[k] = elementwise(lambda v: Add(v, make_const(v.type, k)), [a], np.int32, 4)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in range(6):
        np.testing.assert_array_equal(results[k], a + k)


def test_without_llvm_loop_optimizations():
    a_, out, x = Symbol("a"), Symbol("out"), Symbol("x")
    n = Variable(Int(32), buffer_extent(out, 0))
    body = For(x, i32(0), n, ForKind.SERIAL, Store(out, Mul(Load(Int(32), a_, var(x)), i32(3)), var(x)))
    args = (buffer_arg(a_, np.int32), buffer_arg(out, np.int32))
    jf = compile_lowered(LoweredFunc("plain", args, body), loop_opt=False)
    a, o = np.arange(100, dtype=np.int32), np.zeros(100, np.int32)
    jf(jf.make_argv(a, o))
    np.testing.assert_array_equal(o, a * 3)
    assert "<16 x i32>" not in jf.llvm_ir and "vector.body" not in jf.llvm_ir


def test_narrow_ramps_wrap():
    a = np.zeros(8, np.uint8)
    out = elementwise(lambda v: Add(v, Ramp(UIntImm(UInt(8), 250), UIntImm(UInt(8), 100), 8)),
                      [a], np.uint8, 8)
    assert out.tolist() == [(250 + 100 * i) % 256 for i in range(8)]


def test_nested_parallel_loops_capture_what_their_tasks_use():
    # Each task's closure holds the enclosing values its body uses, taken as
    # the body is generated: a Param and an input used only in the innermost
    # task pass through the middle one.
    import pipelang as hl
    rng = np.random.default_rng(5)
    data = rng.integers(-100, 100, (3, 7, 9)).astype(np.int32)
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    k = hl.Param(hl.Int(32), "k")
    f = hl.Func("f")
    f[x, y, c] = hl.Buffer(data)[x, y, c] * k + y * c
    f.parallel(c).parallel(y)
    p = hl.Pipeline(f)
    k.set(3)
    tasks = [line for line in p.llvm_ir().splitlines() if line.startswith("define internal")]
    assert len(tasks) == 2
    out = np.asarray(p.realize([9, 7, 3]))
    np.testing.assert_array_equal(out, data * 3 + np.arange(7)[None, :, None] * np.arange(3)[:, None, None])
