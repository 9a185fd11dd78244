"""A float clamp before a cast to an integer: the ends the value cannot pass by
a whole unit are dropped (truncation gives the same integer), from the float
bounds of the value (integer loads through casts, times and plus constants),
as Halide drops hist's luma clamp. Checked as IR and against numpy."""
import numpy as np
import pytest

from pipelang.ir import Add, Cast, Float, Max, Min, Mul, Symbol, UInt, make_const, to_string, var
from pipelang.lowering.simplify import simplify

F32, U8 = Float(32), UInt(8)
r, g, b = (var(Symbol(n), U8) for n in "rgb")


def f32(v):
    return make_const(F32, v)


def luma(scale=1.0):
    y = Add(Add(Mul(f32(0.299), Cast(F32, r)), Mul(f32(0.587), Cast(F32, g))), Mul(f32(0.114), Cast(F32, b)))
    return y if scale == 1.0 else Mul(y, f32(scale))


def clamp(v, lo, hi):
    return Max(Min(v, f32(hi)), f32(lo))


def test_luma_clamp_before_uint8_is_dropped():
    # 0.299 + 0.587 + 0.114 is 1.0000000x in float32: luma reaches 255.0000018 (< 256, truncates to 255).
    out = simplify(Cast(U8, clamp(luma(), 0, 255)))
    assert out == Cast(U8, simplify(luma())), to_string(out)


@pytest.mark.parametrize("expr, kept", [
    (clamp(luma(2.0), 0, 255), {"min"}),                 # up to 510: the upper end matters
    (clamp(Add(luma(), f32(-0.5)), 0, 255), set()),      # -0.5 .. 254.5 truncates inside [0, 255]
    (clamp(luma(), 0, 254), {"min"}),                    # 254.x and 255 truncate differently
    (clamp(Add(luma(), f32(-3.0)), 1, 300), {"max"}),    # a positive lower end: 0.5 truncates to 0, not 1
    (clamp(Add(luma(), f32(-1.0)), 0, 255), {"max"}),    # -1 truncates to -1
])
def test_only_the_ends_that_matter_are_kept(expr, kept):
    text = to_string(simplify(Cast(U8, expr)))
    assert {op for op in ("min", "max") if f"{op}(" in text} == kept, text


def test_float_clamp_without_a_cast_is_kept():
    e = clamp(luma(), 0, 255)
    assert "min(" in to_string(simplify(e)) and "max(" in to_string(simplify(e))


def test_pipeline_matches_numpy_and_halide():
    import pipelang as hl
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (3, 16, 64)).astype(np.uint8)
    img[:, 0, :] = 255                                        # luma's largest value
    img[:, 1, :] = 0
    def build(m):
        x, y = m.Var("x"), m.Var("y")
        inp = m.Buffer(img)
        yv = m.f32(0.299) * inp[x, y, 0] + m.f32(0.587) * inp[x, y, 1] + m.f32(0.114) * inp[x, y, 2]
        f = m.Func("truncated_clamp")
        f[x, y] = m.u8(m.clamp(yv, 0, 255))
        f.vectorize(x, 16)
        return f

    got = np.asarray(build(hl).realize([64, 16]))
    f = np.float32
    want = np.clip(f(0.299) * img[0] + f(0.587) * img[1] + f(0.114) * img[2], 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(got, want)
    halide = pytest.importorskip("halide")
    np.testing.assert_array_equal(got, np.asarray(build(halide).realize([64, 16])))
