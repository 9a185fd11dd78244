"""Constant folding agrees with the generated code, and both with Halide.

The simplifier folds an operation whose operands became constants during
lowering (an inlined constant Func, say); the same operation on values loaded
at run time goes through the LLVM backend. The two must give the same bits,
and the bits Halide gives. Fuzz seed 10516 found them apart: `bool(2.0f)`
folded to true (a test against zero) where the code, like Halide, keeps the
low bit.

Each case is built twice: with the operand Funcs inlined (the simplifier
folds) and computed at root (the code computes). One select over x holds
every case for a destination type, so each module compiles two pipelines per
type.
"""
import math

import numpy as np
import pytest

import pipelang

TYPES = [("Bool", 1), ("UInt", 8), ("UInt", 16), ("UInt", 32), ("UInt", 64), ("Int", 8), ("Int", 16),
         ("Int", 32), ("Int", 64), ("Float", 32), ("Float", 64)]
FLOATS = [0.0, 2.0, 2.5, 3.0, 0.5, 255.5, -1.0, -2.5, -100.25]


def _type(hl, code, bits):
    return hl.Bool() if code == "Bool" else getattr(hl, code)(bits)


def _ints(code, bits):
    if code == "Bool":
        return [0, 1]
    lo, hi = (0, (1 << bits) - 1) if code == "UInt" else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return sorted({lo, hi, 0, 1, 2, 3, min(hi, 300), max(lo, -1)})


def _cases(dst):
    """(source type, value) pairs whose cast to dst Halide defines: every int
    source (ints wrap), floats whose truncation fits dst (a Bool keeps the
    low bit of any in-range integer)."""
    dcode, dbits = dst
    for src in TYPES:
        if src == dst:
            continue
        scode, sbits = src
        if scode != "Float":
            yield src, _ints(scode, sbits)
            continue
        if dcode == "Float":
            yield src, FLOATS
        elif dcode == "Bool":
            yield src, [v for v in FLOATS if v >= 0]
        else:
            lo, hi = (0, (1 << dbits) - 1) if dcode == "UInt" else (-(1 << (dbits - 1)), (1 << (dbits - 1)) - 1)
            yield src, [v for v in FLOATS if lo <= math.trunc(v) <= hi]


def _realize(hl, dst, inline):
    x = hl.Var("x")
    terms = []
    for src, values in _cases(dst):
        for v in values:
            f = hl.Func(f"c{len(terms)}")
            # A uint64 beyond int64 is written as the int64 with its bits.
            f[x] = hl.cast(_type(hl, *src), v - (1 << 64) if v >= 1 << 63 else v)
            if not inline:
                f.compute_root()
            terms.append(hl.cast(_type(hl, *dst), f[x]))
    args = []
    for i, t in enumerate(terms[:-1]):
        args += [x == i, t]
    g = hl.Func("g")
    g[x] = hl.select(*args, terms[-1]) if args else terms[-1]
    return np.asarray(g.realize([len(terms)])).copy()


# Two JIT compilers on a shared CPU: a quick set by default, every type with `-m slow`.
_QUICK = {("Bool", 1), ("UInt", 8), ("Int", 32), ("Float", 32)}
_DSTS = [pytest.param(t, marks=() if t in _QUICK else pytest.mark.slow) for t in TYPES]
_IDS = [f"{c}{b}" for c, b in TYPES]


@pytest.mark.parametrize("dst", _DSTS, ids=_IDS)
def test_folded_casts_match_computed_casts(dst):
    folded = _realize(pipelang, dst, inline=True)
    computed = _realize(pipelang, dst, inline=False)
    np.testing.assert_array_equal(folded, computed)


@pytest.mark.parametrize("dst", _DSTS, ids=_IDS)
def test_folded_casts_match_halide(dst):
    halide = pytest.importorskip("halide")
    np.testing.assert_array_equal(_realize(pipelang, dst, inline=True), _realize(halide, dst, inline=True))
