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
