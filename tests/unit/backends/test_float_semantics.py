"""Float semantics of the LLVM backend: Halide's relaxations (fused multiply-add,
reassociation) by default, none inside strict_float()."""

import numpy as np
import pytest

import pipelang as hl

N = 64


def _inputs():
    rng = np.random.default_rng(7)
    return [rng.uniform(-1, 1, N).astype(np.float32) for _ in range(3)]


def _mul_add(module, strict: bool):
    a, b, c = (module.Buffer(v) for v in _inputs())
    x = module.Var("x")
    f = module.Func("f")
    e = a[x] * b[x] + c[x]
    f[x] = module.strict_float(e) if strict else e
    f.vectorize(x, 16)
    return f


def test_multiply_add_is_contracted_by_default():
    p = hl.Pipeline(_mul_add(hl, strict=False))
    assert "contract" in p.llvm_ir()
    if "fma" in hl.get_host_target().to_string().split("-"):
        assert "vfmadd" in p.assembly()
    a, b, c = _inputs()
    out = np.asarray(p.realize([N]))
    fused = (a.astype(np.float64) * b + c).astype(np.float32)  # one rounding, as an FMA
    separate = a * b + c
    assert np.all((out == fused) | (out == separate))


def test_strict_float_rounds_every_operation():
    p = hl.Pipeline(_mul_add(hl, strict=True))
    assert "contract" not in p.llvm_ir()
    assert "vfmadd" not in p.assembly()
    a, b, c = _inputs()
    np.testing.assert_array_equal(np.asarray(p.realize([N])), a * b + c)


def test_strict_float_matches_halide():
    halide = pytest.importorskip("halide")
    ours = np.asarray(_mul_add(hl, strict=True).realize([N]))
    theirs = np.asarray(_mul_add(halide, strict=True).realize([N]))
    np.testing.assert_array_equal(ours, theirs)


def test_strict_float_is_an_expression_of_its_argument_type():
    x = hl.Var("x")
    e = hl.strict_float(hl.f32(2) * x)
    assert e.type() == hl.Float(32)
    f = hl.Func("g")
    f[x] = hl.strict_float(hl.cast(hl.Float(32), x) * hl.f32(0.5) + 1)
    np.testing.assert_array_equal(np.asarray(f.realize([4])), np.arange(4, dtype=np.float32) * 0.5 + 1)


def _divide(module, divisor, strict: bool):
    a = module.Buffer(_inputs()[0])
    x = module.Var("x")
    f = module.Func("f")
    e = a[x] / divisor
    f[x] = module.strict_float(e) if strict else e
    f.vectorize(x, 16)
    return f


def test_division_by_a_constant_multiplies_by_its_reciprocal():
    # As Halide's simplifier rewrites x / c: a multiply, rounded once more.
    p = hl.Pipeline(_divide(hl, hl.f32(0.7), strict=False))
    assert "fdiv" not in p.llvm_ir()
    a = _inputs()[0]
    np.testing.assert_array_equal(np.asarray(p.realize([N])), a * np.float32(1 / np.float32(0.7)))
    halide = pytest.importorskip("halide")
    theirs = np.asarray(_divide(halide, halide.f32(0.7), strict=False).realize([N]))
    np.testing.assert_array_equal(np.asarray(p.realize([N])), theirs)


def test_division_stays_a_division_where_the_reciprocal_is_not_a_float():
    # strict_float, a divisor whose reciprocal overflows, and one that is not a constant.
    a = _inputs()[0]
    p = hl.Pipeline(_divide(hl, hl.f32(0.7), strict=True))
    assert "fdiv" in p.llvm_ir()
    np.testing.assert_array_equal(np.asarray(p.realize([N])), a / np.float32(0.7))
    tiny = np.float32(1e-40)                        # subnormal: 1/tiny is beyond float32
    p = hl.Pipeline(_divide(hl, hl.f32(float(tiny)), strict=False))
    assert "fdiv" in p.llvm_ir()
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(np.asarray(p.realize([N])), a / tiny)
    b = hl.Buffer(_inputs()[1])
    x = hl.Var("x")
    g = hl.Func("g")
    g[x] = b[x] / (b[x] + 2)
    assert "fdiv" in hl.Pipeline(g).llvm_ir()
