"""Code-generation choices made for speed: each checked by a property of the
LLVM IR it produces and by its results against numpy."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.backends.llvm import compile_lowered
from pipelang.backends.llvm.codegen import generate_module
from pipelang.backends.llvm.jit import X86_TUNING, host_description
from pipelang.ir import Float, Int, UInt, type_of_dtype
from pipelang.ir.nodes import (
    Add, Block, Mod, Argument, ArgKind, Broadcast, Cast, Div, FloatImm, For, ForKind, LoweredFunc, Max, Min,
    Mul, Ramp, Select, Store, Symbol, Variable, Load, LT, buffer_extent, i32, var,
)
from pipelang.lowering.analysis.const_bounds import float_bounds

F32 = Float(32)


def _f(v, lanes=1):
    c = FloatImm(F32, v)
    return c if lanes == 1 else Broadcast(c, lanes)


def _compile_elementwise(fn, in_dtype, out_dtype, lanes):
    """out[x] = fn(in[x]), `lanes` at a time; returns (jitted, run)."""
    a_, out, x = Symbol("a"), Symbol("out"), Symbol("x")
    idx = Ramp(Mul(var(x), i32(lanes)), i32(1), lanes) if lanes > 1 else var(x)
    load = Load(type_of_dtype(in_dtype).with_lanes(lanes), a_, idx)
    n = Variable(Int(32), buffer_extent(out, 0))
    body = For(x, i32(0), Div(n, i32(lanes)), ForKind.SERIAL, Store(out, fn(load), idx))
    args = (Argument(a_, ArgKind.BUFFER, type_of_dtype(in_dtype), 1),
            Argument(out, ArgKind.BUFFER, type_of_dtype(out_dtype), 1))
    jf = compile_lowered(LoweredFunc("elementwise", args, body), loop_opt=False)

    def run(a):
        result = np.zeros(len(a), out_dtype)
        jf(jf.make_argv(a, result))
        return result
    return jf, run


# ---------------------------------------------------------------- float -> int casts

def test_float_bounds():
    x = Variable(F32, Symbol("x"))
    assert float_bounds(x, {}) == (None, None)
    assert float_bounds(Max(Min(x, _f(255.0)), _f(0.0)), {}) == (0.0, 255.0)
    assert float_bounds(Min(x, _f(3.0)), {}) == (None, 3.0)
    # min(3, x) is x when x is NaN: no upper end.
    assert float_bounds(Min(_f(3.0), x), {}) == (None, None)
    assert float_bounds(Max(_f(3.0), x), {}) == (None, None)
    u8 = Variable(UInt(8), Symbol("u"))
    # uint8 -> float, scaled and offset: every end known.
    e = Mul(Cast(F32, u8), _f(0.5))
    assert float_bounds(e, {}) == (0.0, 127.5)
    # A NaN operand of a sum is not bounded by anything: no bounds.
    assert float_bounds(Mul(Cast(F32, u8), x), {}) == (None, None)
    assert float_bounds(Select(LT(x, _f(0.0)), _f(-1.0), _f(2.0)), {}) == (-1.0, 2.0)
    assert float_bounds(x, {x.sym: (1.0, 2.0)}) == (1.0, 2.0)
    assert float_bounds(_f(float("inf")), {}) == (None, None)
    # float64 -> float32 of a value past float32's range is infinite: unbounded.
    d = Variable(Float(64), Symbol("d"))
    assert float_bounds(Cast(F32, d), {d.sym: (-1e300, 2.0)}) == (None, 2.0)
    assert float_bounds(Cast(F32, d), {d.sym: (-1.0, 2.0)}) == (-1.0, 2.0)


@pytest.mark.parametrize("lanes", [1, 16])
def test_clamped_float_to_uint8_converts_through_int32(lanes):
    # u8(clamp(v, 0, 255)): the clamp bounds the value, so the conversion is
    # a float->int32 one (vcvttps2dq on x86) rather than float->int64.
    fn = lambda v: Cast(UInt(8).with_lanes(lanes),
                        Max(Min(v, _f(255.0, lanes)), _f(0.0, lanes)))
    jf, run = _compile_elementwise(fn, np.float32, np.uint8, lanes)
    vec = f"<{lanes} x float>" if lanes > 1 else "float"
    assert f"fptosi {vec}" in jf.llvm_ir
    assert "i64>" not in jf.llvm_ir.split("fptosi", 1)[1].split("\n", 1)[0]
    a = np.concatenate([np.linspace(-400, 400, 63, dtype=np.float32),
                        np.float32([np.inf, -np.inf, 254.99, 0.5, 255.0] + [7.0] * 28)])
    expected = np.clip(a, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(run(a), expected)


def test_unbounded_float_to_uint8_still_wraps():
    # No clamp: the value may be outside int32's range, so the cast keeps
    # going through int64 and wraps (uint8(300.0f) == 44, uint8(2^33 + 5) == 5).
    lanes = 8
    jf, run = _compile_elementwise(lambda v: Cast(UInt(8).with_lanes(lanes), v),
                                   np.float32, np.uint8, lanes)
    a = np.float32([300.0, -1.0, 2.0**33 + 1024, 7.9, 255.0, 256.0, -256.0, 1000.0])
    assert run(a).tolist() == [44, 255, 0, 7, 255, 0, 0, 232]


@pytest.mark.parametrize("dst, dtype", [(Int(32), np.int32), (UInt(8), np.uint8)])
def test_unbounded_vector_float_to_int_checks_the_range_then_converts_through_int32(dst, dtype):
    # No bounds: an int32 conversion when every lane is within int32's range,
    # the int64 route (wrapping bits) for a vector with a lane outside it.
    lanes = 16
    jf, run = _compile_elementwise(lambda v: Cast(dst.with_lanes(lanes), v), np.float32, dtype, lanes)
    assert f"fptosi <{lanes} x float> %" in jf.llvm_ir
    assert f"to <{lanes} x i32>" in jf.llvm_ir.split(f"fptosi <{lanes} x float>", 1)[1].split("\n", 1)[0]
    assert f"to <{lanes} x i64>" in jf.llvm_ir      # the out-of-range branch
    inside = np.linspace(-3e5, 3e5, 2 * lanes, dtype=np.float32)
    outside = np.float32([3e9, -3e9, 2.0**33 + 1024, 7.9] + [-2.5] * (lanes - 4))
    a = np.concatenate([inside, outside, inside])
    wrapped = a.astype(np.int64).astype(dtype)      # int64, then keep the low bits
    np.testing.assert_array_equal(run(a), wrapped)


def test_clamped_cast_in_a_pipeline_matches_numpy():
    rng = np.random.default_rng(1)
    img = rng.uniform(-50, 300, size=(37, 64)).astype(np.float32)
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    b = hl.Buffer(img)
    f[x, y] = hl.u8(hl.clamp(b[x, y] * hl.f32(1.5) - hl.f32(20), 0, 255))
    f.vectorize(x, 16)
    out = np.asarray(f.realize([64, 37]))
    ref = np.clip(img * np.float32(1.5) - np.float32(20), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, ref)


# ---------------------------------------------------------------- no SLP gathers

def test_x86_targets_prefer_no_gather():
    triple, _, features = host_description()
    if not triple.startswith(("x86_64", "i686", "i386")):
        pytest.skip("x86 only")
    assert X86_TUNING in features.split(",")


def test_unrolled_scatter_loads_are_not_packed_into_a_gather():
    # apps/hist's row histograms: four rows unrolled, each a scalar load of
    # the luma and a data-dependent increment. LLVM's SLP vectorizer must not
    # pack the four loads into a masked gather (slow, and not what was scheduled).
    if not host_description()[0].startswith("x86_64"):
        pytest.skip("x86 only")
    rng = np.random.default_rng(0)
    lum = rng.uniform(-10, 270, size=(8, 1536)).astype(np.float32)
    width, height = lum.shape[1], lum.shape[0]
    x, y = hl.Var("x"), hl.Var("y")
    Y = hl.Func("Y")
    b = hl.Buffer(lum)
    Y[x, y] = b[x, y] + hl.f32(0)
    rx = hl.RDom([(0, width)], "rx")
    hist_rows = hl.Func("hist_rows")
    hist_rows[x, y] = 0
    hist_rows[hl.i32(hl.clamp(Y[rx.x, y], 0, 255)), y] += 1
    out = hl.Func("out")
    out[x, y] = hist_rows[x, y]
    yo, yi = hl.Var("yo"), hl.Var("yi")
    out.bound(x, 0, 256).split(y, yo, yi, 4).vectorize(x, 16)
    Y.compute_at(out, yo).vectorize(x, 16)
    hist_rows.compute_at(out, yo).update().reorder(y, rx.x).unroll(y)
    p = hl.Pipeline(out)
    assert "masked.gather" not in p.llvm_ir()
    result = np.asarray(p.realize([256, height]))
    bins = np.clip(lum, 0, 255).astype(np.int32)
    ref = np.stack([np.bincount(r, minlength=256) for r in bins])
    np.testing.assert_array_equal(result, ref)


# ---------------------------------------------------------------- float min / max

NAN_A = np.float32([np.nan, 1.0, np.nan, 2.0, 3.0, -np.inf, np.inf, 0.0])
NAN_B = np.float32([1.0, np.nan, np.nan, 2.0, 4.0, 1.0, 1.0, -0.0])


@pytest.mark.parametrize("vec", [1, 8])
def test_float_min_max_are_halides_selects(vec):
    # Halide's definition: min(a, b) = a < b ? a : b, max(a, b) = a > b ? a : b,
    # so b when either is NaN (and of +0/-0). One vminps/vmaxps on x86, with no
    # NaN fix-up: a running maximum's loop carries one instruction.
    x = hl.Var("x")
    A, B = hl.Buffer(NAN_A), hl.Buffer(NAN_B)
    f, g = hl.Func("f"), hl.Func("g")
    f[x] = hl.max(A[x], B[x])
    g[x] = hl.min(A[x], B[x])
    if vec > 1:
        f.vectorize(x, vec)
        g.vectorize(x, vec)
    for fn, want in ((f, np.where(NAN_A > NAN_B, NAN_A, NAN_B)),
                     (g, np.where(NAN_A < NAN_B, NAN_A, NAN_B))):
        p = hl.Pipeline(fn)
        assert "maxnum" not in p.llvm_ir() and "minnum" not in p.llvm_ir()
        out = np.asarray(p.realize([8]))
        np.testing.assert_array_equal(out, want)
        assert np.signbit(out[7]) == np.signbit(want[7])


def test_float_max_matches_halide_with_nans():
    halide = pytest.importorskip("halide")
    x = halide.Var("x")
    f = halide.Func("f")
    f[x] = halide.max(halide.Buffer(NAN_A)[x], halide.Buffer(NAN_B)[x])
    want = np.asarray(f.realize([8]))
    x = hl.Var("x")
    g = hl.Func("g")
    g[x] = hl.max(hl.Buffer(NAN_A)[x], hl.Buffer(NAN_B)[x])
    np.testing.assert_array_equal(np.asarray(g.realize([8])), want)


def test_running_maximum_is_one_instruction_per_step():
    if not host_description()[0].startswith("x86_64"):
        pytest.skip("x86 only")
    a = np.random.default_rng(2).standard_normal((16, 64)).astype(np.float32)
    x = hl.Var("x")
    r = hl.RDom([(0, 16)], "r")
    m = hl.Func("m")
    m[x] = hl.maximum(hl.Buffer(a)[x, r.x])
    m.vectorize(x, 8)
    p = hl.Pipeline(m)
    asm = p.assembly()
    assert "vmaxps" in asm and "vcmpunordps" not in asm
    np.testing.assert_array_equal(np.asarray(p.realize([64])), a.max(axis=0))


# ---------------------------------------------------------------- gathers

@pytest.mark.parametrize("lanes", [16, 32, 64])
def test_narrow_gathers_load_lane_by_lane(lanes):
    # A table lookup (apps/hist's cdf): up to LANE_GATHER_MAX lanes are loaded
    # one by one from 32-bit indices, as Halide does; wider ones stay one
    # llvm.masked.gather (compact IR). Both give numpy's result.
    from pipelang.backends.llvm.exprs import LANE_GATHER_MAX
    rng = np.random.default_rng(3)
    table = rng.integers(-1000, 1000, 256).astype(np.int32)
    idx = rng.integers(0, 256, 128).astype(np.uint8)
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = hl.Buffer(table)[hl.i32(hl.Buffer(idx)[x])] * 3
    f.vectorize(x, lanes)
    p = hl.Pipeline(f)
    ir = p.llvm_ir()
    assert ("masked.gather" in ir) == (lanes > LANE_GATHER_MAX)
    np.testing.assert_array_equal(np.asarray(p.realize([128])), table[idx] * 3)


@pytest.mark.parametrize("lanes", [1, 8])
@pytest.mark.parametrize("offset", [0, -40])
def test_division_by_a_divisor_known_positive(lanes, offset):
    # out[x] = (in[x] + offset) / max(n - 57, 1) and % max(n - 57, 1), n the output's
    # extent (unknown, but the max bounds it below by 1): no zero or -1
    # guards, Euclidean (floor) rounding of negative numerators, and plain
    # truncation when the numerator is known non-negative (a uint8 input).
    out_q, out_r, a_, x = Symbol("q"), Symbol("r"), Symbol("a"), Symbol("x")
    idx = Ramp(Mul(var(x), i32(lanes)), i32(1), lanes) if lanes > 1 else var(x)
    n = Variable(Int(32), buffer_extent(out_q, 0))
    wide = lambda e: Broadcast(e, lanes) if lanes > 1 else e
    num = Cast(Int(32, lanes), Load(UInt(8, lanes), a_, idx))
    if offset:
        num = Add(num, wide(i32(offset)))
    divisor = wide(Max(Add(n, i32(-57)), i32(1)))
    body = For(x, i32(0), Div(n, i32(lanes)), ForKind.SERIAL,
               Block((Store(out_q, Div(num, divisor), idx), Store(out_r, Mod(num, divisor), idx))))
    args = tuple(Argument(s, ArgKind.BUFFER, t, 1) for s, t in
                 ((a_, UInt(8)), (out_q, Int(32)), (out_r, Int(32))))
    jf = compile_lowered(LoweredFunc("div_positive", args, body), loop_opt=False)
    text = str(generate_module(LoweredFunc("div_positive", args, body)).module)
    assert "icmp eq" not in text            # no divisor guards
    if offset == 0:
        assert "select" not in text         # truncation is the answer
    a = np.random.default_rng(lanes).integers(0, 256, 64).astype(np.uint8)
    q, r = np.zeros(64, np.int32), np.zeros(64, np.int32)
    jf(jf.make_argv(a, q, r))
    d = max(64 - 57, 1)
    np.testing.assert_array_equal(q, (a.astype(np.int64) + offset) // d)
    np.testing.assert_array_equal(r, (a.astype(np.int64) + offset) % d)


def test_gathers_at_computed_indices_are_one_masked_gather():
    # A gather whose index is arithmetic of the loop variable alone (a clamped
    # ramp: a boundary condition at a stride of 3) is one llvm.masked.gather,
    # scalarized by LLVM after its optimizer, not five instructions a lane
    # (most of the IR of the pyramid apps' partitioned edges). An index read
    # from memory stays lane by lane (see test_narrow_gathers_load_lane_by_lane).
    rng = np.random.default_rng(4)
    data = rng.integers(-1000, 1000, 300).astype(np.int32)
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = hl.Buffer(data)[hl.clamp(3 * x - 40, 0, 299)] + 1
    f.vectorize(x, 16)
    p = hl.Pipeline(f)
    ir = p.llvm_ir()
    assert "masked.gather" in ir
    assert "extractelement" not in ir
    xs = np.arange(128)
    np.testing.assert_array_equal(np.asarray(p.realize([128])), data[np.clip(3 * xs - 40, 0, 299)] + 1)
