"""Averages computed in a wider type, T((W(a) + W(b) + r) / 2), are made in
T itself (x86's pavgb/pavgw for rounding unsigned bytes and shorts, as
Halide's rounding_halving_add), and wide gathers are loaded lane by lane.
Each checked by a property of the optimized LLVM IR and against numpy."""
import re

import numpy as np
import pytest

import pipelang as hl
from pipelang.backends.llvm.exprs import x86_vector_bits
from pipelang.backends.llvm.jit import host_description

X86 = x86_vector_bits(host_description()[0], host_description()[2]) > 0


def _average(dtype, wide, rounding, lanes, signed_select=False):
    """out[x] = T((W(a[x]) + W(b[x]) + rounding) / 2), vectorized by `lanes`."""
    a = hl.ImageParam(_hl_type(dtype), 1, "a")
    b = hl.ImageParam(_hl_type(dtype), 1, "b")
    x = hl.Var("x")
    f = hl.Func("avg")
    wt = _hl_type(wide)
    total = hl.cast(wt, a[x]) + hl.cast(wt, b[x])
    if rounding:
        total = total + 1
    avg = hl.cast(_hl_type(dtype), total / 2)
    if signed_select:
        # A select between two averages (camera_pipe's green interpolation).
        other = hl.cast(_hl_type(dtype), (hl.cast(wt, a[x]) + hl.cast(wt, b[x + 1]) + 1) / 2)
        avg = hl.select(a[x] < b[x], avg, other)
    f[x] = avg
    if lanes > 1:
        f.vectorize(x, lanes)
    return f, a, b


def _hl_type(dtype):
    return {np.uint8: hl.UInt(8), np.uint16: hl.UInt(16), np.int8: hl.Int(8), np.int16: hl.Int(16),
            np.uint32: hl.UInt(32), np.int32: hl.Int(32), np.int64: hl.Int(64)}[dtype]


def _reference(a, b, rounding):
    s = a.astype(np.int64) + b.astype(np.int64) + int(rounding)
    return np.floor_divide(s, 2).astype(a.dtype)


def _inputs(dtype, n, seed=0):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    a = rng.integers(info.min, info.max, n, endpoint=True).astype(dtype)
    b = rng.integers(info.min, info.max, n, endpoint=True).astype(dtype)
    # The extremes, where a widening sum would carry out of T.
    a[:4], b[:4] = [info.max, info.max, info.min, info.min], [info.max, info.min, info.max, info.min]
    return a, b


CASES = [
    (np.uint8, np.uint16, True, 64), (np.uint8, np.uint16, False, 32), (np.uint16, np.uint32, True, 64),
    (np.uint16, np.uint32, True, 8), (np.uint16, np.uint32, True, 12), (np.uint8, np.uint16, True, 4),
    (np.int16, np.int32, True, 32), (np.int8, np.int16, False, 16), (np.uint8, np.int32, True, 16),
    (np.int16, np.int64, True, 1), (np.uint16, np.uint32, True, 1),
]


@pytest.mark.parametrize("dtype,wide,rounding,lanes", CASES)
def test_average_matches_numpy(dtype, wide, rounding, lanes):
    f, a, b = _average(dtype, wide, rounding, lanes)
    n = 4 * max(lanes, 16)
    av, bv = _inputs(dtype, n)
    a.set(hl.Buffer(av))
    b.set(hl.Buffer(bv))
    out = np.asarray(f.realize([n]))
    np.testing.assert_array_equal(out, _reference(av, bv, rounding))


@pytest.mark.skipif(not X86, reason="pavg is x86's")
@pytest.mark.parametrize("dtype,wide,lanes", [(np.uint8, np.uint16, 64), (np.uint16, np.uint32, 32),
                                              (np.uint16, np.uint32, 12)])
def test_rounding_unsigned_average_is_pavg(dtype, wide, lanes):
    f, a, b = _average(dtype, wide, True, lanes, signed_select=True)
    ir = hl.Pipeline(f).llvm_ir()
    assert "llvm.x86." in ir and ".pavg." in ir
    # No sum is widened: no vector of T is extended.
    bits = np.dtype(dtype).itemsize * 8
    assert not re.search(rf"[sz]ext <\d+ x i{bits}>", ir)
    n = 256
    av, bv = _inputs(dtype, n + 1, seed=1)
    a.set(hl.Buffer(av))
    b.set(hl.Buffer(bv))
    out = np.asarray(f.realize([n]))
    ai, bi = av.astype(np.int64), bv.astype(np.int64)
    first = (ai[:n] + bi[:n] + 1) // 2
    second = (ai[:n] + bi[1:] + 1) // 2
    np.testing.assert_array_equal(out, np.where(av[:n] < bv[:n], first, second).astype(dtype))


def test_not_an_average_is_left_alone():
    # Three terms, or a divisor other than 2: ordinary widened arithmetic.
    a = hl.ImageParam(hl.UInt(8), 1, "a")
    x = hl.Var("x")
    f = hl.Func("f")
    w = lambda e: hl.cast(hl.UInt(16), e)
    f[x] = hl.cast(hl.UInt(8), (w(a[x]) + w(a[x + 1]) + w(a[x + 2])) / 2) + hl.cast(
        hl.UInt(8), (w(a[x]) + w(a[x + 1]) + 1) / 4)
    f.vectorize(x, 32)
    av = np.arange(130, dtype=np.uint8) * 7
    a.set(hl.Buffer(av))
    out = np.asarray(f.realize([128]))
    v = av.astype(np.int64)
    ref = ((v[:128] + v[1:129] + v[2:130]) // 2 % 256 + (v[:128] + v[1:129] + 1) // 4) % 256
    np.testing.assert_array_equal(out, ref.astype(np.uint8))
    assert ".pavg." not in hl.Pipeline(f).llvm_ir()


@pytest.mark.parametrize("lanes", [64, 40])
def test_wide_gather_lane_by_lane(lanes):
    # A lookup of 64 lanes: scalar loads at 32-bit indices, no llvm.masked.gather.
    lut = hl.ImageParam(hl.UInt(8), 1, "lut")
    idx = hl.ImageParam(hl.UInt(16), 1, "idx")
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = lut[hl.clamp(hl.cast(hl.Int(32), idx[x]), 0, 1023)]
    f.vectorize(x, lanes)
    ir = hl.Pipeline(f).llvm_ir()
    assert "llvm.masked.gather" not in ir
    rng = np.random.default_rng(3)
    lv = rng.integers(0, 256, 1024).astype(np.uint8)
    iv = rng.integers(0, 1200, 4 * lanes).astype(np.uint16)
    lut.set(hl.Buffer(lv))
    idx.set(hl.Buffer(iv))
    out = np.asarray(f.realize([4 * lanes]))
    np.testing.assert_array_equal(out, lv[np.clip(iv, 0, 1023)])


# ---------------------------------------------------------------- pmaddwd

def _dot(lanes, n_products, constant, kinds, seed=0):
    """out[x] = sum_k i32(a_k[x]) * i32(b_k) (+ constant), vectorized by `lanes`;
    `kinds` picks each product's second operand: "vec" (another input),
    "param" (a scalar Param), "imm" (a constant)."""
    x = hl.Var("x")
    rng = np.random.default_rng(seed)
    ins, params, exprs, ref = [], [], [], None
    n = 4 * max(lanes, 16)
    for k in range(n_products):
        dtype = (np.int16, np.uint8, np.int8)[k % 3]
        info = np.iinfo(dtype)
        av = rng.integers(info.min, info.max, n, endpoint=True).astype(dtype)
        av[:2] = [info.min, info.max]
        a = hl.ImageParam(_hl_type(dtype), 1, f"a{k}")
        a.set(hl.Buffer(av))
        kind = kinds[k % len(kinds)]
        if kind == "vec":
            bv = rng.integers(-32768, 32767, n, endpoint=True).astype(np.int16)
            bv[:2] = [-32768, -32768]
            bp = hl.ImageParam(hl.Int(16), 1, f"b{k}")
            bp.set(hl.Buffer(bv))
            be, bref = hl.cast(hl.Int(32), bp[x]), bv.astype(np.int64)
        elif kind == "param":
            pv = int(rng.integers(-32768, 32767))
            p = hl.Param(hl.Int(16), f"p{k}", pv)
            be, bref = hl.cast(hl.Int(32), p), np.int64(pv)
        else:
            c = int(rng.integers(-300, 300))
            be, bref = hl.Expr(c), np.int64(c)
        exprs.append(hl.cast(hl.Int(32), a[x]) * be)
        term = av.astype(np.int64) * bref
        ref = term if ref is None else ref + term
    total = exprs[0]
    for t in exprs[1:]:
        total = total + t
    if constant is not None:
        total = total + constant
        ref = ref + constant
    f = hl.Func("dot")
    f[x] = total
    f.vectorize(x, lanes)
    # int32 wraps as the hardware's would (only the all--32768 pair can overflow)
    return f, n, ((ref + 2**31) % 2**32 - 2**31).astype(np.int32)


@pytest.mark.parametrize("lanes,n_products,constant,kinds", [
    (64, 3, 100, ["vec", "param"]),      # camera_pipe's colour matrix: 3 products and a constant
    (16, 2, None, ["vec"]), (32, 4, None, ["param", "vec"]), (24, 3, None, ["imm", "vec"]),
    (12, 5, -7, ["vec", "imm", "param"]), (8, 2, 5, ["param"]), (4, 2, None, ["vec"]),
])
def test_sum_of_16_bit_products_matches_numpy(lanes, n_products, constant, kinds):
    f, n, ref = _dot(lanes, n_products, constant, kinds)
    np.testing.assert_array_equal(np.asarray(f.realize([n])), ref)


@pytest.mark.skipif(not X86, reason="pmaddwd is x86's")
def test_sum_of_16_bit_products_is_pmaddwd():
    f, n, ref = _dot(64, 3, 100, ["vec", "param"])
    ir = hl.Pipeline(f).llvm_ir()
    assert re.search(r"llvm\.x86\.(sse2|avx2)\.pmadd\.wd|llvm\.x86\.avx512\.pmaddw\.d\.512", ir)
    # No 32-bit multiply of vectors is left.
    assert not re.search(r"= mul (nsw )?<\d+ x i32>", ir)
    np.testing.assert_array_equal(np.asarray(f.realize([n])), ref)
    # One product: an ordinary multiply.
    g, n, ref = _dot(64, 1, 100, ["vec"])
    assert ".pmadd" not in hl.Pipeline(g).llvm_ir()
    np.testing.assert_array_equal(np.asarray(g.realize([n])), ref)
