"""Interleaved stores (Halide's rewrite_interleavings): a vector whose lanes
alternate between formulas (`select(x % 2 == 0, a[x / 2], b[x / 2])`, as
camera_pipe's demosaic) is computed as deinterleaved parts with dense loads
and one shuffle. Checked against numpy and real Halide, and in the lowered
statement (no per-lane `% 2`, no gathers)."""
import numpy as np
import pytest

import pipelang as pl
from pipelang import ir
from pipelang.lowering.simplify import simplify

A = np.random.default_rng(7).integers(0, 1000, 300).astype(np.int32)
B = np.random.default_rng(8).integers(0, 1000, 300).astype(np.int32)
C = np.random.default_rng(9).integers(0, 1000, 300).astype(np.int32)


def _interleave(hl, k: int, lanes: int, offset: int):
    x = hl.Var("x")
    srcs = [hl.Buffer(s, n) for s, n in zip((A, B, C), ("ia", "ib", "ic"))][:k]
    pick = srcs[-1][x // k + 1] * 3
    for j in reversed(range(k - 1)):
        pick = hl.select(x % k == j, srcs[j][x // k] + 1, pick)
    f = hl.Func("interleaved")
    f[x] = pick
    f.vectorize(x, lanes)
    out = hl.Buffer(hl.Int(32), [lanes * 9])
    out.set_min([offset])
    return f, out


def _reference(k: int, lanes: int, offset: int):
    xs = np.arange(offset, offset + lanes * 9)
    srcs = (A, B, C)[:k]
    out = srcs[-1][xs // k + 1] * 3
    for j in range(k - 1):
        out = np.where(xs % k == j, srcs[j][xs // k] + 1, out)
    return out


@pytest.mark.parametrize("k,lanes,offset", [(2, 16, 0), (2, 16, 3), (2, 8, 5), (3, 12, 1), (4, 8, 6), (2, 4, 1)])
def test_interleaved_select_matches_numpy(k, lanes, offset):
    f, out = _interleave(pl, k, lanes, offset)
    f.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _reference(k, lanes, offset))


def test_interleaved_select_is_dense_loads_and_one_shuffle():
    f, out = _interleave(pl, 2, 16, 3)
    stmt = pl.Pipeline(f).lowered_stmt()
    assert "shuffle(" in stmt, stmt
    assert "% x" not in stmt and "/x" not in stmt.replace(" ", ""), stmt   # no per-lane % k or / k left
    assert "ramp(" in stmt and ", 1, 8)]" in stmt, stmt                     # dense half-width loads


def test_interleaved_select_matches_halide():
    halide = pytest.importorskip("halide")
    f, out = _interleave(pl, 3, 12, 2)
    f.realize(out)
    hf, hout = _interleave(halide, 3, 12, 2)
    hf.realize(hout)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(hout))


def test_modulus_of_a_let_bound_value_folds():
    # let v = x*64 - 1: v is odd (v % 2 == 1) and v + 1 a multiple of 4.
    x, v = ir.Symbol("x"), ir.Symbol("v")
    var = lambda s: ir.Variable(ir.Int(32), s)
    value = ir.Sub(ir.Mul(var(x), ir.i32(64)), ir.i32(1))
    body = ir.Add(ir.Mod(var(v), ir.i32(2)), ir.Mod(ir.Add(var(v), ir.i32(1)), ir.i32(4)))
    got = _body(simplify(ir.Let(v, value, body)))
    assert ir.const_value(got) == 1, ir.to_string(got)
    # A select of two odd values is odd too.
    sel = ir.Select(ir.LT(var(x), ir.i32(3)), ir.Add(var(x), var(x)), ir.Mul(var(x), ir.i32(4)))
    got = _body(simplify(ir.Let(v, ir.Add(sel, ir.i32(1)), ir.Mod(var(v), ir.i32(2)))))
    assert ir.const_value(got) == 1, ir.to_string(got)


def _body(e):
    while isinstance(e, ir.Let):
        e = e.body
    return e


def _upsample(hl):
    x = hl.Var("x")
    src = hl.Buffer(A, "up_in")
    f = hl.Func("upsampled")
    f[x] = (src[x // 2] + src[(x + 1) // 2]) * 3 + src[x]
    f.vectorize(x, 16)
    out = hl.Buffer(hl.Int(32), [16 * 9])
    out.set_min([5])
    return f, out


def test_upsampling_loads_are_deinterleaved_alone():
    # Only loads use x / 2: each such load becomes two dense half-width loads
    # and a shuffle; the dense load of src[x] stays one full-width load.
    f, out = _upsample(pl)
    f.realize(out)
    xs = np.arange(5, 5 + 16 * 9)
    np.testing.assert_array_equal(np.asarray(out), (A[xs // 2] + A[(xs + 1) // 2]) * 3 + A[xs])
    stmt = pl.Pipeline(f).lowered_stmt()
    assert "/x16(2)" not in stmt.replace(" ", "") and ", 1, 8)]" in stmt and ", 1, 16)]" in stmt, stmt
