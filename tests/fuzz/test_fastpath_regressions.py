"""Wrong results the fuzzing of the fast paths found, each against numpy
(and real Halide where it compiles the program)."""
import numpy as np
import pytest

import pipelang


def _cancelling_clamp(hl, vectorize):
    # uint8(clamp(min(u + 0.99 + 1e7, 2e7) - 1e7, 0, 255)): the real value is
    # below 256, but float32 rounds u + 0.99 + 1e7 up to a whole number, so
    # u = 255 computes 256.0; the clamp must stay (175c52c dropped it from
    # the real-number bounds alone: 0 instead of 255).
    a = hl.ImageParam(hl.UInt(8), 1, "a")
    x = hl.Var("x")
    f = hl.Func("f")
    v = hl.min(hl.cast(hl.Float(32), a[x]) + hl.f32(0.99) + hl.f32(1e7), hl.f32(2e7)) - hl.f32(1e7)
    f[x] = hl.cast(hl.UInt(8), hl.clamp(v, 0.0, 255.0))
    if vectorize:
        f.vectorize(x, 8)
    av = np.arange(256, dtype=np.uint8)
    a.set(hl.Buffer(av))
    return np.asarray(f.realize([256]))


def _expected():
    v = np.minimum(np.arange(256, dtype=np.float32) + np.float32(0.99) + np.float32(1e7),
                   np.float32(2e7)) - np.float32(1e7)
    return np.trunc(np.clip(v, 0, 255)).astype(np.uint8)


@pytest.mark.parametrize("vectorize", [False, True])
def test_float_clamp_kept_when_rounding_can_pass_its_end(vectorize):
    np.testing.assert_array_equal(_cancelling_clamp(pipelang, vectorize), _expected())


def test_float_clamp_rounding_case_matches_halide():
    hl = pytest.importorskip("halide")
    np.testing.assert_array_equal(_cancelling_clamp(hl, True), _expected())


@pytest.mark.parametrize("form", ["var", "param", "shl"])
def test_comparison_with_a_constant_past_int32_is_not_wrapped(form):
    # x - 2 < 2147483647 was canonicalized to x < 2147483649, whose constant
    # wrapped to -2147483647: false for every x (found from long-run seed 13024;
    # real Halide 21 refuses these with "Signed integer overflow occurred
    # during constant-folding").
    hl = pipelang
    p0 = hl.Param(hl.Int(32), "p0", 5)
    x = hl.Var("x")
    e = {"var": x - 2, "param": p0 - 2, "shl": (x << 11) + (-2)}[form]
    f = hl.Func("f")
    f[x] = hl.select(e < hl.Int(32).max(), 1, 0) + hl.select(e <= hl.Int(32).max() - 1, 2, 0)
    np.testing.assert_array_equal(np.asarray(f.realize([4])), [3, 3, 3, 3])


@pytest.mark.parametrize("extent", [1, 2, 3])
@pytest.mark.parametrize("which", ["argmin", "argmax"])
def test_inline_argmin_over_negative_coordinates(which, extent):
    # argmin's update compares x + k with its best so far, which starts at
    # INT_MAX: canonicalizing `x - 2 < best` to `x < best + 2` wrapped, so the
    # update never fired (long-run seeds 13024 and 20992: index 0 and value
    # INT_MAX; real Halide 21 makes the same rewrite and gives index 0).
    hl = pipelang
    x = hl.Var("x")
    k = hl.RDom([hl.Range(-2, extent)], f"k_{which}_{extent}")
    sign = 1 if which == "argmin" else -1
    t = getattr(hl, which)(sign * (x + k.x), f"best_{which}_{extent}")
    f = hl.Func(f"arg_{which}_{extent}")
    f[x] = (t[0], t[1])
    index, value = (np.asarray(b) for b in f.realize([4]))
    xs = np.arange(4)
    np.testing.assert_array_equal(index, np.full(4, -2))
    np.testing.assert_array_equal(value, sign * (xs - 2))


@pytest.mark.parametrize("vectorize", [False, True])
def test_comparison_with_a_loaded_extreme(vectorize):
    # x - 2 < a[x] and x + 3 > b[x] where a holds INT_MAX and b INT_MIN: the
    # constants must not move onto the loaded side.
    hl = pipelang
    a = hl.ImageParam(hl.Int(32), 1, "cmp_a")
    b = hl.ImageParam(hl.Int(32), 1, "cmp_b")
    x = hl.Var("x")
    f = hl.Func("cmp_loaded")
    f[x] = hl.select(x - 2 < a[x], 1, 0) + hl.select(x + 3 > b[x], 2, 0) + \
        hl.select(a[x] - 1 >= b[x] + 1, 4, 0)
    if vectorize:
        f.vectorize(x, 8)
    a.set(hl.Buffer(np.full(16, np.iinfo(np.int32).max, np.int32)))
    b.set(hl.Buffer(np.full(16, np.iinfo(np.int32).min, np.int32)))
    np.testing.assert_array_equal(np.asarray(f.realize([16])), np.full(16, 7))
