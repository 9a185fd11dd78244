"""Every operator and math function, for every scalar type, against numpy.

Operands come from input Buffers laid out as a 2-D grid (x walks the left
operand's values, y the right operand's), so nothing can constant-fold and one
compiled pipeline checks every (a, b) pair. All operators of one type share one
multi-output Pipeline; each (type, operator) pair is still its own test, so a
failure names the operator.

The references below implement Halide's semantics by hand, in Python integers
or numpy, independent of any compiler:
  * 8- and 16-bit signed and all unsigned arithmetic wraps around;
  * signed 32/64-bit overflow is undefined in Halide, so results whose exact
    value is out of range are not checked;
  * integer `/` and `//` round so that `%` is Euclidean (0 <= a % b < |b|);
    x / 0 == 0 and x % 0 == 0;
  * float `%` is a - b * floor(a / b) (the sign of the divisor), float `//` is
    floor(a / b);
  * `abs` and `absd` of signed integers return the unsigned type of equal width;
  * shifts by a negative (signed) amount shift the other way.
"""

import functools
import math

import numpy as np
import pytest

import pipelang as hl

# ---------------------------------------------------------------- types

INT_TYPES = {
    "int8": (hl.Int(8), np.int8),
    "int16": (hl.Int(16), np.int16),
    "int32": (hl.Int(32), np.int32),
    "int64": (hl.Int(64), np.int64),
    "uint8": (hl.UInt(8), np.uint8),
    "uint16": (hl.UInt(16), np.uint16),
    "uint32": (hl.UInt(32), np.uint32),
    "uint64": (hl.UInt(64), np.uint64),
}
FLOAT_TYPES = {
    "float32": (hl.Float(32), np.float32),
    "float64": (hl.Float(64), np.float64),
}
ALL_TYPES = {**INT_TYPES, **FLOAT_TYPES}


def _bits_signed(name):
    return np.iinfo(INT_TYPES[name][1]).bits, name.startswith("int")


def _range(name):
    info = np.iinfo(INT_TYPES[name][1])
    return int(info.min), int(info.max)


def to_buffer(arr):
    """hl.Buffer over a numpy array (uint64 as 'Q': Halide 21's bindings reject numpy 2's 'L')."""
    arr = np.asarray(arr)
    if arr.dtype == np.uint64:
        arr = arr.view(np.ulonglong)
    return hl.Buffer(arr)


def wrap(v, bits, signed):
    """Two's-complement wrap of a Python int to `bits` bits."""
    v &= (1 << bits) - 1
    if signed and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def int_values(name):
    """Interesting operand values of an integer type: 0, +-1, small, extremes."""
    lo, hi = _range(name)
    cands = [0, 1, 2, 3, 5, 7, 100, 1000, 65535, 2**31 - 1, 2**40 + 3,
             -1, -2, -3, -5, -7, -100, -1000, -(2**33) - 1,
             lo, lo + 1, hi, hi - 1, hi // 2, hi // 2 + 1]
    out = []
    for c in cands:
        if lo <= c <= hi and c not in out:
            out.append(c)
    return out


FLOAT_VALUES = [0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 3.75, -7.0, 7.0, 100.25,
                -1000.0, 1e-3, 65536.0]


def grid(values):
    """(A, B) object arrays of shape (n, n): A[y, x] = values[x], B[y, x] = values[y]."""
    v = np.array(values, dtype=object)
    a = np.tile(v, (len(v), 1))
    b = a.T.copy()
    return a, b


# ---------------------------------------------------------------- comparison helpers

def assert_int_grid(got, expected, a, b, what):
    """Compare an integer/bool result grid with a Python-int reference; None means 'unchecked'."""
    got = np.asarray(got).tolist()
    bad = []
    for j, row in enumerate(expected):
        for i, want in enumerate(row):
            if want is None:
                continue
            have = got[j][i]
            if isinstance(want, bool):
                ok = bool(have) == want
            else:
                ok = int(have) == want
            if not ok:
                bad.append(f"a={a[j][i]!r} b={b[j][i]!r}: got {have!r}, want {want!r}")
    assert not bad, f"{what}: {len(bad)} mismatches, e.g.\n  " + "\n  ".join(bad[:10])


def _euclid_div(a, b):
    if b == 0:
        return 0
    return a // b if b > 0 else -(a // -b)


def _euclid_mod(a, b):
    if b == 0:
        return 0
    return a - _euclid_div(a, b) * b


# ---------------------------------------------------------------- integer binary operators

# name -> (build Expr from (a, b), reference on Python ints, result kind)
# kind: "wrap" (same type, wraps), "bool", "unsigned" (unsigned type of equal width)
INT_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, "wrap"),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, "wrap"),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, "wrap"),
    "div": (lambda a, b: a / b, _euclid_div, "wrap"),
    "floordiv": (lambda a, b: a // b, _euclid_div, "wrap"),
    "mod": (lambda a, b: a % b, _euclid_mod, "wrap"),
    "lt": (lambda a, b: a < b, lambda a, b: a < b, "bool"),
    "le": (lambda a, b: a <= b, lambda a, b: a <= b, "bool"),
    "gt": (lambda a, b: a > b, lambda a, b: a > b, "bool"),
    "ge": (lambda a, b: a >= b, lambda a, b: a >= b, "bool"),
    "eq": (lambda a, b: a == b, lambda a, b: a == b, "bool"),
    "ne": (lambda a, b: a != b, lambda a, b: a != b, "bool"),
    "and": (lambda a, b: a & b, lambda a, b: a & b, "wrap"),
    "or": (lambda a, b: a | b, lambda a, b: a | b, "wrap"),
    "xor": (lambda a, b: a ^ b, lambda a, b: a ^ b, "wrap"),
    "min": (lambda a, b: hl.min(a, b), min, "wrap"),
    "max": (lambda a, b: hl.max(a, b), max, "wrap"),
    "absd": (lambda a, b: hl.absd(a, b), lambda a, b: abs(a - b), "unsigned"),
    "select": (lambda a, b: hl.select(a < b, a, b), lambda a, b: a if a < b else b, "wrap"),
    "select_eq": (lambda a, b: hl.select(a == b, b, a ^ b), lambda a, b: b if a == b else a ^ b, "wrap"),
    "clamp_to_b": (lambda a, b: hl.clamp(a, b, b | 7), lambda a, b: min(max(a, b), b | 7), "wrap"),
    # Unary operators on the left operand (the y axis just repeats them).
    "neg": (lambda a, b: -a, lambda a, b: -a, "wrap"),
    "invert": (lambda a, b: ~a, lambda a, b: ~a, "wrap"),
    "abs": (lambda a, b: hl.abs(a), lambda a, b: abs(a), "unsigned"),
}


def _int_result(name, kind, exact):
    """The value Halide must produce for an exact result, or None where it is undefined."""
    bits, signed = _bits_signed(name)
    if kind == "bool":
        return bool(exact)
    if kind == "unsigned":
        return wrap(exact, bits, False)
    if signed and bits >= 32:
        lo, hi = _range(name)
        return exact if lo <= exact <= hi else None  # signed overflow is undefined here
    return wrap(exact, bits, signed)


@functools.lru_cache(maxsize=None)
def _int_binary_results(name):
    t, dt = INT_TYPES[name]
    a_np, b_np = grid(int_values(name))
    A, B = to_buffer(a_np.astype(dt)), to_buffer(b_np.astype(dt))
    x, y = hl.Var("x"), hl.Var("y")
    funcs = []
    for op, (build, _, _) in INT_BINARY.items():
        f = hl.Func(f"{op}_{name}")
        f[x, y] = build(A[x, y], B[x, y])
        funcs.append(f)
    n = a_np.shape[0]
    outs = hl.Pipeline(funcs).realize([n, n])
    return a_np.tolist(), b_np.tolist(), dict(zip(INT_BINARY, [(f.type(), o) for f, o in zip(funcs, outs)]))


@pytest.mark.parametrize("op", list(INT_BINARY))
@pytest.mark.parametrize("tname", list(INT_TYPES))
def test_integer_operator(tname, op):
    _, ref, kind = INT_BINARY[op]
    a, b, results = _int_binary_results(tname)
    ftype, out = results[op]
    bits, signed = _bits_signed(tname)
    if kind == "bool":
        assert ftype == hl.Bool()
        assert np.asarray(out).dtype == np.bool_
    elif kind == "unsigned":
        assert ftype == hl.UInt(bits)
    else:
        assert ftype == INT_TYPES[tname][0]
    expected = [[_int_result(tname, kind, ref(av, bv)) for av, bv in zip(ra, rb)] for ra, rb in zip(a, b)]
    assert_int_grid(out, expected, a, b, f"{op} on {tname}")


# ---------------------------------------------------------------- shifts

def _shift_amounts(name):
    bits, signed = _bits_signed(name)
    amounts = [0, 1, 2, 3, bits // 2, bits - 2, bits - 1]
    if signed:
        amounts += [-1, -2, -3, -(bits - 1)]
    return amounts


def _shl(a, s, bits, signed):
    return wrap(a << s, bits, signed) if s >= 0 else a >> -s


def _shr(a, s, bits, signed):
    return a >> s if s >= 0 else wrap(a << -s, bits, signed)


@functools.lru_cache(maxsize=None)
def _shift_results(name):
    t, dt = INT_TYPES[name]
    vals, amounts = int_values(name), _shift_amounts(name)
    a_np = np.array([[v for v in vals] for _ in amounts], dtype=object)
    s_np = np.array([[s for _ in vals] for s in amounts], dtype=object)
    A, S = to_buffer(a_np.astype(dt)), to_buffer(s_np.astype(dt))
    x, y = hl.Var("x"), hl.Var("y")
    shl, shr = hl.Func("shl"), hl.Func("shr")
    shl[x, y] = A[x, y] << S[x, y]
    shr[x, y] = A[x, y] >> S[x, y]
    outs = hl.Pipeline([shl, shr]).realize([len(vals), len(amounts)])
    return a_np.tolist(), s_np.tolist(), {"shl": (shl.type(), outs[0]), "shr": (shr.type(), outs[1])}


@pytest.mark.parametrize("op", ["shl", "shr"])
@pytest.mark.parametrize("tname", list(INT_TYPES))
def test_shift(tname, op):
    """Shift amounts in (-bits, bits); signed right shifts are arithmetic."""
    bits, signed = _bits_signed(tname)
    a, s, results = _shift_results(tname)
    ftype, out = results[op]
    assert ftype == INT_TYPES[tname][0]
    ref = _shl if op == "shl" else _shr
    expected = [[ref(av, sv, bits, signed) for av, sv in zip(ra, rs)] for ra, rs in zip(a, s)]
    assert_int_grid(out, expected, a, s, f"{op} on {tname}")


def test_shift_unsigned_by_signed_amount():
    """uint8 << int8: the result keeps the unsigned type; a negative amount shifts right."""
    x = hl.Var("x")
    a = to_buffer(np.full(6, 200, np.uint8))
    s = to_buffer(np.array([-3, -1, 0, 1, 2, 7], np.int8))
    f = hl.Func("f")
    f[x] = a[x] << s[x]
    assert f.type() == hl.UInt(8)
    np.testing.assert_array_equal(np.asarray(f.realize([6])), [25, 100, 200, 144, 32, 0])


# ---------------------------------------------------------------- narrow wrap-around, by hand

def test_uint8_wraps_around():
    x = hl.Var("x")
    a = to_buffer(np.array([250, 3, 0, 128], np.uint8))
    f = hl.Func("f")
    f[x] = a[x] + hl.u8(10)
    g = hl.Func("g")
    g[x] = a[x] - hl.u8(10)
    h = hl.Func("h")
    h[x] = a[x] * hl.u8(2)
    outs = hl.Pipeline([f, g, h]).realize([4])
    np.testing.assert_array_equal(np.asarray(outs[0]), [4, 13, 10, 138])
    np.testing.assert_array_equal(np.asarray(outs[1]), [240, 249, 246, 118])
    np.testing.assert_array_equal(np.asarray(outs[2]), [244, 6, 0, 0])


def test_int8_division_by_minus_one_wraps():
    x = hl.Var("x")
    a = to_buffer(np.array([-128, -128, 127, -128], np.int8))
    b = to_buffer(np.array([-1, 1, -1, -128], np.int8))
    q, r = hl.Func("q"), hl.Func("r")
    q[x] = a[x] / b[x]
    r[x] = a[x] % b[x]
    outs = hl.Pipeline([q, r]).realize([4])
    np.testing.assert_array_equal(np.asarray(outs[0]), [-128, -128, -127, 1])
    np.testing.assert_array_equal(np.asarray(outs[1]), [0, 0, 0, 0])


def test_signed_division_examples():
    """Spot values of floor division / Euclidean modulo, stated by hand."""
    x = hl.Var("x")
    a = to_buffer(np.array([-7, -6, 7, 6, 0, -1, 1, 5, -7, 7], np.int32))
    b = to_buffer(np.array([2, -2, -2, 0, 3, 0, -3, 0, -2, 2], np.int32))
    q, r = hl.Func("q"), hl.Func("r")
    q[x] = a[x] / b[x]
    r[x] = a[x] % b[x]
    outs = hl.Pipeline([q, r]).realize([10])
    np.testing.assert_array_equal(np.asarray(outs[0]), [-4, 3, -3, 0, 0, 0, 0, 0, 4, 3])
    np.testing.assert_array_equal(np.asarray(outs[1]), [1, 0, 1, 0, 0, 0, 1, 0, 1, 1])


def test_division_by_constant_matches_division_by_buffer():
    """Division by a literal may be strength-reduced; it must keep the same semantics."""
    x = hl.Var("x")
    vals = np.arange(-40, 41, dtype=np.int32)
    a = to_buffer(vals)
    funcs, refs = [], []
    for d in [1, 2, 3, 4, 7, 8, -1, -3, -8, 16, 255]:
        fq, fr = hl.Func(f"q{d}".replace("-", "m")), hl.Func(f"r{d}".replace("-", "m"))
        fq[x] = a[x] / d
        fr[x] = a[x] % d
        funcs += [fq, fr]
        refs += [[_euclid_div(int(v), d) for v in vals], [_euclid_mod(int(v), d) for v in vals]]
    outs = hl.Pipeline(funcs).realize([len(vals)])
    for f, out, ref in zip(funcs, outs, refs):
        np.testing.assert_array_equal(np.asarray(out), ref, err_msg=f.name())


def test_unsigned_division_by_constant():
    x = hl.Var("x")
    vals = np.array([0, 1, 2, 3, 6, 7, 8, 100, 254, 255], np.uint8)
    a = to_buffer(vals)
    funcs, refs = [], []
    for d in [1, 2, 3, 7, 10, 255]:
        fq, fr = hl.Func(f"q{d}"), hl.Func(f"r{d}")
        fq[x] = a[x] / d
        fr[x] = a[x] % d
        funcs += [fq, fr]
        refs += [vals // d, vals % d]
    outs = hl.Pipeline(funcs).realize([len(vals)])
    for f, out, ref in zip(funcs, outs, refs):
        np.testing.assert_array_equal(np.asarray(out), ref, err_msg=f.name())


# ---------------------------------------------------------------- float binary operators

def _np_floor_mod(a, b):
    return a - b * np.floor(a / b)


FLOAT_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "floordiv": (lambda a, b: a // b, lambda a, b: np.floor(a / b)),
    "mod": (lambda a, b: a % b, _np_floor_mod),
    "lt": (lambda a, b: a < b, lambda a, b: a < b),
    "le": (lambda a, b: a <= b, lambda a, b: a <= b),
    "gt": (lambda a, b: a > b, lambda a, b: a > b),
    "ge": (lambda a, b: a >= b, lambda a, b: a >= b),
    "eq": (lambda a, b: a == b, lambda a, b: a == b),
    "ne": (lambda a, b: a != b, lambda a, b: a != b),
    "min": (lambda a, b: hl.min(a, b), np.minimum),
    "max": (lambda a, b: hl.max(a, b), np.maximum),
    "absd": (lambda a, b: hl.absd(a, b), lambda a, b: np.abs(a - b)),
    "select": (lambda a, b: hl.select(a < b, a, b), lambda a, b: np.where(a < b, a, b)),
    "clamp": (lambda a, b: hl.clamp(a, -2.5, 3.75), lambda a, b: np.minimum(np.maximum(a, -2.5), 3.75)),
    "neg": (lambda a, b: -a, lambda a, b: -a),
    "abs": (lambda a, b: hl.abs(a), lambda a, b: np.abs(a)),
}


@functools.lru_cache(maxsize=None)
def _float_binary_results(name):
    t, dt = FLOAT_TYPES[name]
    a_np, b_np = grid(FLOAT_VALUES)
    a_np, b_np = a_np.astype(dt), b_np.astype(dt)
    A, B = hl.Buffer(a_np), hl.Buffer(b_np)
    x, y = hl.Var("x"), hl.Var("y")
    funcs = []
    for op, (build, _) in FLOAT_BINARY.items():
        f = hl.Func(f"{op}_{name}")
        f[x, y] = build(A[x, y], B[x, y])
        funcs.append(f)
    n = a_np.shape[0]
    outs = hl.Pipeline(funcs).realize([n, n])
    return a_np, b_np, {op: (f.type(), np.asarray(o)) for op, f, o in zip(FLOAT_BINARY, funcs, outs)}


@pytest.mark.parametrize("op", list(FLOAT_BINARY))
@pytest.mark.parametrize("tname", list(FLOAT_TYPES))
def test_float_operator(tname, op):
    """Single IEEE operations are exact: compare bit-for-bit (NaN == NaN), incl. x/0 and x%0."""
    t, dt = FLOAT_TYPES[tname]
    a, b, results = _float_binary_results(tname)
    ftype, out = results[op]
    with np.errstate(all="ignore"):
        want = np.asarray(FLOAT_BINARY[op][1](a, b))
    if want.dtype == np.bool_:
        assert ftype == hl.Bool()
        np.testing.assert_array_equal(out, want, err_msg=f"{op} on {tname}")
    else:
        assert ftype == t
        want = want.astype(dt)
        assert out.dtype == dt
        if op == "mod":
            # a - b * floor(a / b) may be evaluated with a fused multiply-add (Halide does), so
            # allow a couple of ulps of max(|a|, |b|); floor(a / b) itself must agree.
            eps = np.finfo(dt).eps
            tol = 4 * eps * np.maximum(np.abs(a), np.abs(b))
            same = np.isnan(out) == np.isnan(want)
            assert same.all(), f"mod on {tname}: NaN pattern differs"
            ok = np.isnan(want) | (np.abs(out.astype(np.float64) - want) <= tol)
            assert ok.all(), f"mod on {tname}: a={a[~ok]} b={b[~ok]} got {out[~ok]} want {want[~ok]}"
            return
        np.testing.assert_array_equal(out, want, err_msg=f"{op} on {tname}")


def test_float_mod_takes_sign_of_divisor():
    x = hl.Var("x")
    a = hl.Buffer(np.array([-7.5, 7.5, -7.5, 7.5, 5.0], np.float32))
    b = hl.Buffer(np.array([2, 2, -2, -2, 0], np.float32))
    f = hl.Func("f")
    f[x] = a[x] % b[x]
    out = np.asarray(f.realize([5]))
    np.testing.assert_array_equal(out[:4], [0.5, 1.5, -1.5, -0.5])
    assert np.isnan(out[4])


# ---------------------------------------------------------------- math functions

# name -> (build, numpy reference, float32 domain, float64 domain or None = same)
_POS = [1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, 100.0, 12345.0]
_ANY = [-10.0, -3.0, -1.5, -1.0, -0.5, -0.1, 0.0, 0.1, 0.5, 1.0, 1.5, 3.0, 10.0]
_UNIT = [-1.0, -0.99, -0.75, -0.5, -0.1, 0.0, 0.1, 0.5, 0.75, 0.99, 1.0]
_ROUNDING = [-3.5, -2.75, -2.5, -2.25, -1.5, -0.5, -0.25, 0.0, 0.25, 0.5, 1.5, 2.25, 2.5, 2.75, 3.5, 1e6 + 0.5]

MATH_UNARY = {
    "sqrt": (hl.sqrt, np.sqrt, _POS + [0.0]),
    "exp": (hl.exp, np.exp, [-20.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 20.0, 80.0]),
    "log": (hl.log, np.log, _POS),
    "sin": (hl.sin, np.sin, _ANY + [100.0]),
    "cos": (hl.cos, np.cos, _ANY + [100.0]),
    "tan": (hl.tan, np.tan, [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 3.0]),
    "asin": (hl.asin, np.arcsin, _UNIT),
    "acos": (hl.acos, np.arccos, _UNIT),
    "atan": (hl.atan, np.arctan, _ANY + [1e6, -1e6]),
    "sinh": (hl.sinh, np.sinh, [-5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0]),
    "cosh": (hl.cosh, np.cosh, [-5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0]),
    "tanh": (hl.tanh, np.tanh, [-20.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 20.0]),
    "floor": (hl.floor, np.floor, _ROUNDING),
    "ceil": (hl.ceil, np.ceil, _ROUNDING),
    # Halide's round() rounds half to even, as np.rint does.
    "round": (hl.round, np.rint, _ROUNDING),
    "trunc": (hl.trunc, np.trunc, _ROUNDING),
    # Halide 21's fract is x - trunc(x): the result has the sign of x.
    "fract": (hl.fract, lambda v: v - np.trunc(v), _ROUNDING),
}
EXACT_MATH = {"floor", "ceil", "round", "trunc", "fract", "sqrt"}
TOLERANCE = {  # (rtol, atol) for the transcendental functions
    "float32": (2e-6, 1e-6),
    "float64": (1e-13, 1e-14),
}


@functools.lru_cache(maxsize=None)
def _math_results(tname):
    t, dt = FLOAT_TYPES[tname]
    x = hl.Var("x")
    n = max(len(v[2]) for v in MATH_UNARY.values())
    funcs, inputs = [], {}
    for name, (build, _, domain) in MATH_UNARY.items():
        vals = np.array(domain + [domain[-1]] * (n - len(domain)), dtype=dt)  # pad to n
        inputs[name] = vals
        buf = hl.Buffer(vals)
        f = hl.Func(f"{name}_{tname}")
        f[x] = build(buf[x])
        funcs.append(f)
    outs = hl.Pipeline(funcs).realize([n])
    return {name: (inputs[name], f.type(), np.asarray(o)) for name, f, o in zip(MATH_UNARY, funcs, outs)}


@pytest.mark.parametrize("fn", list(MATH_UNARY))
@pytest.mark.parametrize("tname", list(FLOAT_TYPES))
def test_math_function(tname, fn):
    t, dt = FLOAT_TYPES[tname]
    vals, ftype, out = _math_results(tname)[fn]
    assert ftype == t
    assert out.dtype == dt
    want = MATH_UNARY[fn][1](vals).astype(dt)
    if fn in EXACT_MATH:
        np.testing.assert_array_equal(out, want, err_msg=f"{fn} on {tname}, inputs {vals}")
    else:
        rtol, atol = TOLERANCE[tname]
        np.testing.assert_allclose(out, want, rtol=rtol, atol=atol, err_msg=f"{fn} on {tname}, inputs {vals}")


@pytest.mark.parametrize("tname", list(FLOAT_TYPES))
def test_binary_math_functions(tname):
    """pow, atan2 and lerp over grids of operands."""
    t, dt = FLOAT_TYPES[tname]
    rtol, atol = TOLERANCE[tname]
    x, y = hl.Var("x"), hl.Var("y")
    bases = [0.5, 1.0, 2.0, 3.0, 10.0, -2.0, -0.5, 0.0]
    exps = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0]
    pb, pe = np.meshgrid(np.array(bases, dt), np.array(exps, dt))
    coords = [-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0]
    ay, ax = np.meshgrid(np.array(coords, dt), np.array(coords, dt))
    ends = np.array([-3.0, 0.0, 1.0, 2.5, 10.0], dt)
    weights = np.array([0.0, 0.25, 0.5, 1.0], dt)
    la, lw = np.meshgrid(ends, weights)
    lb = (la * 3 + 1).astype(dt)
    PB, PE, AY, AX, LA, LB, LW = (hl.Buffer(np.ascontiguousarray(v)) for v in (pb, pe, ay, ax, la, lb, lw))
    fpow, fatan2, flerp = hl.Func("pow_grid"), hl.Func("atan2_grid"), hl.Func("lerp_grid")
    fpow[x, y] = hl.pow(PB[x, y], PE[x, y])
    fatan2[x, y] = hl.atan2(AY[x, y], AX[x, y])
    flerp[x, y] = hl.lerp(LA[x, y], LB[x, y], LW[x, y])
    got_pow = np.asarray(fpow.realize(list(pb.shape[::-1])))
    got_atan2 = np.asarray(fatan2.realize(list(ay.shape[::-1])))
    got_lerp = np.asarray(flerp.realize(list(la.shape[::-1])))
    for f in (fpow, fatan2, flerp):
        assert f.type() == t
    with np.errstate(all="ignore"):
        want_pow = np.power(pb, pe)
    # pow of a negative base with a non-integer exponent is NaN. 0 ** negative is left
    # unchecked: Halide 21 gives inf for float64 but 0 for float32.
    checked = ~((pb == 0) & (pe < 0))
    np.testing.assert_allclose(got_pow[checked], want_pow[checked], rtol=rtol, atol=atol, equal_nan=True)
    np.testing.assert_allclose(got_atan2, np.arctan2(ay, ax), rtol=rtol, atol=atol)
    np.testing.assert_allclose(got_lerp, la + lw * (lb - la), rtol=rtol, atol=atol)
    # lerp hits its end points exactly.
    np.testing.assert_array_equal(got_lerp[0], la[0])
    np.testing.assert_array_equal(got_lerp[-1], lb[-1])


def test_lerp_uint8_weight_is_normalized():
    """Integer lerp: weight w in uint8 means w/255, rounded to nearest."""
    x, y = hl.Var("x"), hl.Var("y")
    ends = np.array([0, 1, 10, 100, 128, 200, 255], np.uint8)
    ws = np.array([0, 1, 2, 64, 127, 128, 200, 254, 255], np.uint8)
    a = np.tile(ends, (len(ws), 1))
    b = (255 - a).astype(np.uint8)
    w = np.tile(ws[:, None], (1, len(ends)))
    A, B, W = hl.Buffer(a), hl.Buffer(b), hl.Buffer(np.ascontiguousarray(w))
    f = hl.Func("f")
    f[x, y] = hl.lerp(A[x, y], B[x, y], W[x, y])
    assert f.type() == hl.UInt(8)
    got = np.asarray(f.realize([len(ends), len(ws)]))
    num = a.astype(np.int64) * (255 - w.astype(np.int64)) + b.astype(np.int64) * w.astype(np.int64)
    want = (2 * num + 255) // 510  # round(num / 255); num / 255 is never exactly a half
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("tname", list(FLOAT_TYPES))
def test_is_nan(tname):
    t, dt = FLOAT_TYPES[tname]
    x = hl.Var("x")
    vals = np.array([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, -np.nan, 1e-30], dt)
    buf = hl.Buffer(vals)
    f = hl.Func("f")
    f[x] = hl.is_nan(buf[x])
    assert f.type() == hl.Bool()
    np.testing.assert_array_equal(np.asarray(f.realize([len(vals)])), np.isnan(vals))


@pytest.mark.parametrize("tname", ["int8", "uint8", "int16", "int32"])
def test_math_on_integers_promotes_to_float32(tname):
    t, dt = INT_TYPES[tname]
    x = hl.Var("x")
    vals = np.array([0, 1, 4, 9, 100, 127], dt)
    buf = hl.Buffer(vals)
    f = hl.Func("f")
    f[x] = hl.sqrt(buf[x])
    assert f.type() == hl.Float(32)
    np.testing.assert_allclose(np.asarray(f.realize([len(vals)])), np.sqrt(vals.astype(np.float32)), rtol=1e-6)


def test_integer_power_by_python_literal_stays_integer():
    """`e ** n` with a literal int n is repeated multiplication in e's type; `**` of two Exprs is float pow."""
    x = hl.Var("x")
    vals = np.array([3, -3, 2, 0, 5, -2], np.int32)
    a = hl.Buffer(vals)
    sq, cube, fp = hl.Func("sq"), hl.Func("cube"), hl.Func("fp")
    sq[x] = a[x] ** 2
    cube[x] = a[x] ** 3
    fp[x] = a[x] ** a[x]
    assert sq.type() == hl.Int(32) and cube.type() == hl.Int(32)
    assert fp.type() == hl.Float(32)
    outs = hl.Pipeline([sq, cube, fp]).realize([len(vals)])
    np.testing.assert_array_equal(np.asarray(outs[0]), vals * vals)
    np.testing.assert_array_equal(np.asarray(outs[1]), vals * vals * vals)
    np.testing.assert_allclose(np.asarray(outs[2]), np.power(vals.astype(np.float64), vals.astype(np.float64)), rtol=1e-6)


# ---------------------------------------------------------------- casts

def _float_cast_values():
    return [0.0, -0.0, 0.25, 0.75, 1.0, 1.5, 2.5, -0.75, -1.0, -1.5, -2.5, -2.75, 3.999, 100.5, -100.5,
            127.0, -128.0, 200.75, 255.0, 1000.25, -1000.25, 65535.0, 70000.0, -70000.0, 2.0**31 - 256.0,
            -(2.0**31), 2.0**40, -(2.0**40), 2.0**63 - 2**40]


def _cast_ref(value, src, dst):
    """Python-level value Halide's cast produces, or None where the cast is undefined."""
    if dst in FLOAT_TYPES:
        return None  # floats are checked with numpy below
    if dst == "bool":
        return None
    if src in FLOAT_TYPES:
        t = math.trunc(value)  # float -> int truncates toward zero
        lo, hi = _range(dst)
        return t if lo <= t <= hi else None  # out-of-range float -> int is undefined
    bits, signed = _bits_signed(dst)
    return wrap(value, bits, signed)  # int -> int wraps (two's complement)


CAST_TARGETS = list(ALL_TYPES) + ["bool"]


def _type_of(tname):
    return hl.Bool() if tname == "bool" else ALL_TYPES[tname][0]


@functools.lru_cache(maxsize=None)
def _cast_results(src):
    t, dt = ALL_TYPES[src]
    vals = int_values(src) if src in INT_TYPES else _float_cast_values()
    arr = np.array(vals, dtype=object).astype(dt)
    buf = to_buffer(arr)
    x = hl.Var("x")
    funcs = []
    for dst in CAST_TARGETS:
        f = hl.Func(f"cast_{src}_to_{dst}")
        f[x] = hl.cast(_type_of(dst), buf[x])
        funcs.append(f)
    outs = hl.Pipeline(funcs).realize([len(vals)])
    return arr, {dst: (f.type(), np.asarray(o)) for dst, f, o in zip(CAST_TARGETS, funcs, outs)}


@pytest.mark.parametrize("dst", CAST_TARGETS)
@pytest.mark.parametrize("src", list(ALL_TYPES))
def test_cast(src, dst):
    arr, results = _cast_results(src)
    ftype, out = results[dst]
    assert ftype == _type_of(dst)
    vals = arr.tolist()
    if dst in FLOAT_TYPES:
        # int -> float and float -> float round to nearest even, like numpy.
        np.testing.assert_array_equal(out, arr.astype(FLOAT_TYPES[dst][1]))
        return
    if dst == "bool":
        assert out.dtype == np.bool_
        # Only 0 -> false and 1 -> true are pinned (Halide's cast to bool of other values keeps
        # just the low bit on some paths; use `x != 0` to test for nonzero).
        for v, o in zip(vals, out.tolist()):
            if v == 0 or v == 1:
                assert o == bool(v), f"cast {src} {v} to bool gave {o}"
        return
    expected = [_cast_ref(v, src, dst) for v in vals]
    assert_int_grid(out[None, :], [expected], [vals], [vals], f"cast {src} -> {dst}")


def test_cast_from_bool():
    x = hl.Var("x")
    a = hl.Buffer(np.array([0, 5, -3, 0, 1], np.int32))
    outs = []
    funcs = []
    for t in [hl.UInt(8), hl.Int(32), hl.Float(32), hl.UInt(64)]:
        f = hl.Func()
        f[x] = hl.cast(t, a[x] != 0)
        funcs.append(f)
    outs = hl.Pipeline(funcs).realize([5])
    for f, o in zip(funcs, outs):
        np.testing.assert_array_equal(np.asarray(o), [0, 1, 1, 0, 1], err_msg=str(f.type()))


def test_cast_shorthands():
    x = hl.Var("x")
    shorthands = [(hl.i8, "int8"), (hl.i16, "int16"), (hl.i32, "int32"), (hl.i64, "int64"),
                  (hl.u8, "uint8"), (hl.u16, "uint16"), (hl.u32, "uint32"), (hl.u64, "uint64"),
                  (hl.f32, "float32"), (hl.f64, "float64")]
    vals = [-1, 0, 300, 70000]
    a = hl.Buffer(np.array(vals, np.int32))
    funcs = []
    for fn, tname in shorthands:
        assert fn(x).type() == ALL_TYPES[tname][0]
        f = hl.Func(f"to_{tname}")
        f[x] = fn(a[x])
        funcs.append(f)
    outs = hl.Pipeline(funcs).realize([len(vals)])
    for (_, tname), out in zip(shorthands, outs):
        t, dt = ALL_TYPES[tname]
        assert out.type() == t
        if tname in FLOAT_TYPES:
            np.testing.assert_array_equal(np.asarray(out), np.array(vals, dt))
        else:
            bits, signed = _bits_signed(tname)
            assert np.asarray(out).tolist() == [wrap(v, bits, signed) for v in vals], tname


# ---------------------------------------------------------------- saturating_cast

def _sat_ref(value, dst):
    lo, hi = _range(dst)
    if isinstance(value, float):
        value = math.trunc(value) if math.isfinite(value) else value
    return int(min(max(value, lo), hi))


@pytest.mark.parametrize("src", list(ALL_TYPES))
def test_saturating_cast(src):
    t, dt = ALL_TYPES[src]
    if src in INT_TYPES:
        vals = int_values(src)
    else:
        vals = [0.0, 0.75, -0.75, 3.7, -3.7, 127.9, -128.9, 255.5, 300.7, -1.5, 65535.5, -40000.0,
                1e10, -1e10, 1e30, -1e30]
    arr = np.array(vals, dtype=object).astype(dt)
    buf = to_buffer(arr)
    x = hl.Var("x")
    funcs = []
    for dst in INT_TYPES:
        f = hl.Func(f"sat_{src}_to_{dst}")
        f[x] = hl.saturating_cast(INT_TYPES[dst][0], buf[x])
        funcs.append(f)
    outs = hl.Pipeline(funcs).realize([len(vals)])
    for dst, f, out in zip(INT_TYPES, funcs, outs):
        assert f.type() == INT_TYPES[dst][0]
        ref_vals = arr.tolist()
        expected = [_sat_ref(v, dst) for v in ref_vals]
        assert_int_grid(np.asarray(out)[None, :], [expected], [ref_vals], [ref_vals],
                        f"saturating_cast {src} -> {dst}")


# ---------------------------------------------------------------- booleans

def test_boolean_operators():
    x = hl.Var("x")
    a = hl.Buffer(np.array([0, 1, 0, 1], np.uint8))
    b = hl.Buffer(np.array([0, 0, 1, 1], np.uint8))
    pa, pb = a[x] == 1, b[x] == 1
    f_and, f_or, f_not, f_lnot, f_xor = (hl.Func(n) for n in ("f_and", "f_or", "f_not", "f_lnot", "f_xor"))
    f_and[x] = pa & pb
    f_or[x] = pa | pb
    f_not[x] = ~pa
    f_lnot[x] = hl.logical_not(pa)
    f_xor[x] = pa != pb
    outs = hl.Pipeline([f_and, f_or, f_not, f_lnot, f_xor]).realize([4])
    for f in (f_and, f_or, f_not, f_lnot, f_xor):
        assert f.type() == hl.Bool()
    want = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "not": [1, 0, 1, 0], "lnot": [1, 0, 1, 0], "xor": [0, 1, 1, 0]}
    for (name, w), out in zip(want.items(), outs):
        assert np.asarray(out).dtype == np.bool_
        np.testing.assert_array_equal(np.asarray(out), np.array(w, bool), err_msg=name)


def test_mux():
    x = hl.Var("x")
    sel = hl.Buffer(np.array([0, 1, 2, 3, 2, 1, 0], np.int32))
    f = hl.Func("f")
    f[x] = hl.mux(sel[x], [hl.i32(10), hl.i32(20), hl.i32(30)])
    # An index past the end picks the last value.
    np.testing.assert_array_equal(np.asarray(f.realize([7])), [10, 20, 30, 30, 30, 20, 10])
