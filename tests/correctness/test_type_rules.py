"""Halide's implicit type promotion and literal coercion, checked on Expr types and on realized values.

The rules (Halide's IROperator.h, as the Python bindings apply them):
  * equal types: unchanged;
  * a float and a non-float: the non-float is cast to the float's type;
    two floats: the wider one;
  * both signed or both unsigned integers: the wider one;
  * one signed, one unsigned integer: a *signed* integer of the wider width
    (so uint8 + int8 is int8 and uint32 + int32 is int32);
  * a Python int literal takes the other operand's type (an error if the value
    changes — see tests/errors); a Python float literal is a float32 constant;
  * comparisons give bool.
"""

import numpy as np
import pytest

import pipelang as hl

TYPES = {
    "int8": (hl.Int(8), np.int8),
    "int16": (hl.Int(16), np.int16),
    "int32": (hl.Int(32), np.int32),
    "int64": (hl.Int(64), np.int64),
    "uint8": (hl.UInt(8), np.uint8),
    "uint16": (hl.UInt(16), np.uint16),
    "uint32": (hl.UInt(32), np.uint32),
    "uint64": (hl.UInt(64), np.uint64),
    "float32": (hl.Float(32), np.float32),
    "float64": (hl.Float(64), np.float64),
}
CAST = {
    "int8": hl.i8, "int16": hl.i16, "int32": hl.i32, "int64": hl.i64,
    "uint8": hl.u8, "uint16": hl.u16, "uint32": hl.u32, "uint64": hl.u64,
    "float32": hl.f32, "float64": hl.f64,
}


def promoted(a, b):
    """The type name Halide's rules give a binary operator on types a and b (independent reference)."""
    if a == b:
        return a
    fa, fb = a.startswith("float"), b.startswith("float")
    bits = lambda n: int("".join(c for c in n if c.isdigit()))
    if fa and fb:
        return a if bits(a) >= bits(b) else b
    if fa:
        return a
    if fb:
        return b
    w = max(bits(a), bits(b))
    signed = a.startswith("int") or b.startswith("int")
    return f"{'int' if signed else 'uint'}{w}"


PAIRS = [(a, b) for a in TYPES for b in TYPES]


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_binary_promotion_type(a, b):
    x = hl.Var("x")
    ea, eb = CAST[a](x), CAST[b](x)
    want = TYPES[promoted(a, b)][0]
    for e in (ea + eb, ea - eb, ea * eb, ea / eb, hl.min(ea, eb), hl.max(ea, eb)):
        assert e.type() == want, f"{a} op {b}: {e.type()} != {want}"
    assert (ea < eb).type() == hl.Bool()
    assert (ea == eb).type() == hl.Bool()


@pytest.mark.parametrize(
    "a,b,want",
    [("uint8", "int16", "int16"), ("int8", "uint8", "int8"), ("uint32", "int32", "int32"),
     ("uint16", "int8", "int16"), ("uint8", "uint16", "uint16"), ("int32", "float32", "float32"),
     ("int64", "float32", "float32"), ("float32", "float64", "float64"), ("uint64", "int8", "int64")],
)
def test_promotion_examples_stated_by_hand(a, b, want):
    x = hl.Var("x")
    assert (CAST[a](x) + CAST[b](x)).type() == TYPES[want][0]


def test_mixed_signedness_values():
    """The unsigned operand is reinterpreted in the signed type of the wider width, then wraps."""
    x = hl.Var("x")
    u8 = hl.Buffer(np.array([200, 255, 10, 128], np.uint8))
    i8 = hl.Buffer(np.array([1, 1, -20, 0], np.int8))
    i16 = hl.Buffer(np.array([-300, 1000, -1, 32767], np.int16))
    f_u8_i8, f_u8_i16 = hl.Func("f_u8_i8"), hl.Func("f_u8_i16")
    f_u8_i8[x] = u8[x] + i8[x]
    f_u8_i16[x] = u8[x] + i16[x]
    outs = hl.Pipeline([f_u8_i8, f_u8_i16]).realize([4])
    assert outs[0].type() == hl.Int(8) and np.asarray(outs[0]).dtype == np.int8
    assert outs[1].type() == hl.Int(16) and np.asarray(outs[1]).dtype == np.int16
    # uint8 200 as int8 is -56; -56 + 1 = -55. 128 as int8 is -128.
    np.testing.assert_array_equal(np.asarray(outs[0]), [-55, 0, -10, -128])
    np.testing.assert_array_equal(np.asarray(outs[1]), [-100, 1255, 9, -32641])  # 128 + 32767 wraps


def test_int_times_float_values():
    x = hl.Var("x")
    i = hl.Buffer(np.array([3, -7, 100000, 0], np.int32))
    f = hl.Buffer(np.array([0.5, 0.25, 3.0, -1.0], np.float32))
    g = hl.Func("g")
    g[x] = i[x] * f[x]
    out = g.realize([4])
    assert out.type() == hl.Float(32)
    np.testing.assert_array_equal(np.asarray(out), np.array([1.5, -1.75, 300000.0, -0.0], np.float32))


@pytest.mark.parametrize("tname", list(TYPES))
def test_int_literal_takes_expr_type(tname):
    x = hl.Var("x")
    e = CAST[tname](x)
    t = TYPES[tname][0]
    for r in (e + 3, 3 + e, e - 1, 1 - e, e * 2, 2 * e, e / 2, e % 3, e // 2):
        assert r.type() == t, f"{tname}: {r} has type {r.type()}"
    for r in (e < 3, 3 < e, e == 0, e != 1, e >= 2):
        assert r.type() == hl.Bool()


@pytest.mark.parametrize("tname", [n for n in TYPES if not n.startswith("float")])
def test_float_literal_makes_int_expr_float32(tname):
    x = hl.Var("x")
    e = CAST[tname](x)
    for r in (e + 1.5, 1.5 * e, e / 2.0, hl.min(e, 2.5)):
        assert r.type() == hl.Float(32)


def test_float_literal_keeps_float64():
    x = hl.Var("x")
    e = hl.f64(x)
    for r in (e + 1.5, 2.0 * e, e / 4.0, e + 1):
        assert r.type() == hl.Float(64)


def test_literal_coercion_values():
    """A literal coerced to uint8 computes in uint8 (wrapping); a float literal computes in float32."""
    x = hl.Var("x")
    u8 = hl.Buffer(np.array([0, 1, 250, 255], np.uint8))
    add, sub, rsub, half = hl.Func("add"), hl.Func("sub"), hl.Func("rsub"), hl.Func("half")
    add[x] = u8[x] + 10
    sub[x] = u8[x] - 1
    rsub[x] = 1 - u8[x]
    half[x] = u8[x] * 0.5
    outs = hl.Pipeline([add, sub, rsub, half]).realize([4])
    np.testing.assert_array_equal(np.asarray(outs[0]), np.array([10, 11, 4, 9], np.uint8))
    np.testing.assert_array_equal(np.asarray(outs[1]), np.array([255, 0, 249, 254], np.uint8))
    np.testing.assert_array_equal(np.asarray(outs[2]), np.array([1, 0, 7, 2], np.uint8))
    assert outs[3].type() == hl.Float(32)
    np.testing.assert_array_equal(np.asarray(outs[3]), np.array([0, 0.5, 125, 127.5], np.float32))


def test_expr_from_python_scalars():
    assert hl.Expr(5).type() == hl.Int(32)
    assert hl.Expr(-(2**31)).type() == hl.Int(32)
    assert hl.Expr(2**31).type() == hl.Int(64)
    assert hl.Expr(2**40).type() == hl.Int(64)
    assert hl.Expr(1.5).type() == hl.Float(32)
    assert hl.Expr(True).type() == hl.Bool()
    assert (hl.Var("x") + 0).type() == hl.Int(32)


def test_var_arithmetic_is_int32_and_int_division_stays_integer():
    x = hl.Var("x")
    assert (x / 2).type() == hl.Int(32)
    assert (x // 2).type() == hl.Int(32)
    assert (x + 1.5).type() == hl.Float(32)
    assert (x / 2.0).type() == hl.Float(32)


def test_float_floordiv_is_floor_of_quotient():
    x = hl.Var("x")
    a = hl.Buffer(np.array([-7.5, 7.5, 6.0, -0.5], np.float32))
    f = hl.Func("f")
    f[x] = a[x] // 2
    assert f.type() == hl.Float(32)
    np.testing.assert_array_equal(np.asarray(f.realize([4])), [-4.0, 3.0, 3.0, -1.0])


def test_abs_and_absd_return_unsigned():
    x = hl.Var("x")
    for tname, unsigned in [("int8", hl.UInt(8)), ("int16", hl.UInt(16)), ("int32", hl.UInt(32)), ("int64", hl.UInt(64))]:
        e = CAST[tname](x)
        assert hl.abs(e).type() == unsigned
        assert hl.absd(e, e).type() == unsigned
    assert hl.abs(hl.u8(x)).type() == hl.UInt(8)
    assert hl.abs(hl.f32(x)).type() == hl.Float(32)
    assert hl.absd(hl.f64(x), hl.f64(x)).type() == hl.Float(64)


def test_math_functions_promote_ints_to_float32():
    x = hl.Var("x")
    for fn in (hl.sqrt, hl.exp, hl.log, hl.sin, hl.floor, hl.ceil, hl.round, hl.trunc):
        assert fn(x).type() == hl.Float(32)
        assert fn(hl.u8(x)).type() == hl.Float(32)
        assert fn(hl.f64(x)).type() == hl.Float(64)
    assert hl.atan2(x, x).type() == hl.Float(32)
    assert hl.pow(hl.i32(x), hl.i32(x)).type() == hl.Float(32)


def test_select_and_clamp_coerce_literals():
    x = hl.Var("x")
    u8 = hl.u8(x)
    assert hl.select(x > 0, u8, 1).type() == hl.UInt(8)
    assert hl.select(x > 0, 1, u8).type() == hl.UInt(8)
    assert hl.select(x > 0, hl.f32(x), 1).type() == hl.Float(32)
    assert hl.clamp(u8, 0, 200).type() == hl.UInt(8)
    assert hl.clamp(hl.f32(x), 0, 1).type() == hl.Float(32)


def test_shift_result_type():
    """A shift has the signedness of its left operand and the wider of the two widths."""
    x = hl.Var("x")
    assert (hl.u8(x) << hl.i32(x)).type() == hl.UInt(32)
    assert (hl.i32(x) << hl.u8(x)).type() == hl.Int(32)
    assert (hl.i8(x) >> hl.u8(x)).type() == hl.Int(8)
    assert (hl.u8(x) >> 2).type() == hl.UInt(8)
    assert (hl.u16(x) & 3).type() == hl.UInt(16)
    assert (~hl.u8(x)).type() == hl.UInt(8)
    assert (-hl.u8(x)).type() == hl.UInt(8)


def test_python_binding_literal_quirks():
    """Behaviours of Halide 21's Python bindings that users' code can depend on.

    * hl.min/hl.max convert a Python int to an Int(32) Expr *before* matching types,
      so hl.min(uint8, 3) is int32 (unlike select/clamp/operators, which coerce);
    * a Python int literal that does not fit in int32 becomes an Int(64) constant and
      promotes the other operand (uint32 + 2**32-1 is int64);
    * `e ** n` with a Python int n is repeated multiplication in e's type.
    """
    x = hl.Var("x")
    u8 = hl.u8(x)
    assert hl.min(u8, 3).type() == hl.Int(32)
    assert hl.max(u8, 300).type() == hl.Int(32)
    assert hl.min(u8, hl.u8(3)).type() == hl.UInt(8)
    assert (hl.i32(x) + 2**40).type() == hl.Int(64)
    assert (x * 2**31).type() == hl.Int(64)
    assert (hl.u32(x) + (2**32 - 1)).type() == hl.Int(64)
    assert (x ** 2).type() == hl.Int(32)
    assert (u8 ** 2).type() == hl.UInt(8)
    assert (hl.f32(x) ** 2).type() == hl.Float(32)


@pytest.mark.parametrize("tname", list(TYPES) + ["bool"])
def test_realized_buffer_type_and_dtype(tname):
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    if tname == "bool":
        f[x, y] = (x + y) % 2 == 0
        t, dt = hl.Bool(), np.bool_
    else:
        t, dt = TYPES[tname]
        f[x, y] = hl.cast(t, x + 2 * y)
    assert f.type() == t
    assert f.dimensions() == 2
    buf = f.realize([5, 3])
    assert buf.type() == t
    arr = np.asarray(buf)
    assert arr.dtype == dt
    assert arr.shape == (3, 5)
    yy, xx = np.mgrid[0:3, 0:5]
    want = ((xx + yy) % 2 == 0) if tname == "bool" else (xx + 2 * yy).astype(dt)
    np.testing.assert_array_equal(arr, want)


@pytest.mark.parametrize("tname", list(TYPES))
def test_type_queries(tname):
    t = TYPES[tname][0]
    bits = int("".join(c for c in tname if c.isdigit()))
    assert t.bits() == bits
    assert t.is_float() == tname.startswith("float")
    assert t.is_int() == tname.startswith("int")
    assert t.is_uint() == tname.startswith("uint")
    assert t == TYPES[tname][0]
    assert t != hl.Bool()
    assert hl.Bool().is_bool()
    assert hl.Bool().bits() == 1


# ---------------------------------------------------------------- mixed-type arithmetic, evaluated

def _operand_values(tname):
    dt = TYPES[tname][1]
    if tname.startswith("float"):
        return [0.0, 1.5, -2.25, 100.0, 3e9, -7.0]
    info = np.iinfo(dt)
    cands = [0, 1, -1, 7, -100, 100, 200, 70000, int(info.max), int(info.min)]
    return [v for v in dict.fromkeys(cands) if info.min <= v <= info.max]


def _to_type(v, tname):
    """Python value of `v` after Halide's implicit cast to tname (int casts wrap; int -> float rounds)."""
    dt = TYPES[tname][1]
    if tname.startswith("float"):
        return float(np.array(v, dtype=object).astype(dt))
    bits = np.iinfo(dt).bits
    v = int(v) & ((1 << bits) - 1)
    if tname.startswith("int") and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def _add_result(a, b, tname):
    dt = TYPES[tname][1]
    if tname.startswith("float"):
        return float(np.array(a, dt) + np.array(b, dt))
    exact = a + b
    info = np.iinfo(dt)
    if tname in ("int32", "int64"):
        return exact if info.min <= exact <= info.max else None  # signed overflow: undefined
    return _to_type(exact, tname)


@pytest.mark.parametrize("lhs", list(TYPES))
def test_mixed_type_arithmetic_values(lhs):
    """a + b for every pair of types, against the implicit casts done by hand in Python.

    (Comparisons cast their operands the same way; they are covered per type in test_operators.)
    """
    x, y = hl.Var("x"), hl.Var("y")
    av = _operand_values(lhs)
    a_col = np.array(av, dtype=object).astype(TYPES[lhs][1])
    A = hl.Buffer(a_col.view(np.ulonglong) if a_col.dtype == np.uint64 else a_col)
    funcs, keep, rhs_values = [], [], {}
    for rhs in TYPES:
        bv = _operand_values(rhs)
        rhs_values[rhs] = bv
        b_col = np.array(bv, dtype=object).astype(TYPES[rhs][1])
        B = hl.Buffer(b_col.view(np.ulonglong) if b_col.dtype == np.uint64 else b_col)
        keep.append((b_col, B))
        add = hl.Func(f"add_{rhs}")
        add[x, y] = A[x] + B[hl.min(y, len(bv) - 1)]
        funcs.append(add)
    outs = hl.Pipeline(funcs).realize([len(av), 10])
    bad = []
    for k, rhs in enumerate(TYPES):
        t = promoted(lhs, rhs)
        got_add = np.asarray(outs[k]).tolist()
        assert outs[k].type() == TYPES[t][0]
        for j, b in enumerate(rhs_values[rhs]):
            for i, a in enumerate(av):
                ca, cb = _to_type(a, t), _to_type(b, t)
                want = _add_result(ca, cb, t)
                if want is not None and got_add[j][i] != want:
                    bad.append(f"{lhs} {a!r} + {rhs} {b!r} -> {t}: got {got_add[j][i]!r}, want {want!r}")
    assert not bad, f"{len(bad)} mismatches, e.g.\n  " + "\n  ".join(bad[:12])
