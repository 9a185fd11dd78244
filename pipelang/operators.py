"""Halide's free functions on expressions: `select`, `clamp`, `min`, math, casts.

Each builds IR with Halide's typing and returns an `Expr`. Arguments are any
expression-like or Python number; numbers become Exprs as Halide's bindings
convert an `Expr` argument (an int is int32, a float is float32), so
`min(u8(x), 3)` is int32, while `clamp` casts its bounds to the value's type
when that loses nothing. Math on a non-float argument works in float32:

    sqrt(x)        ->  (float32)sqrt_f32(float32(x))
    abs(i8(x))     ->  (uint8)abs(int8(x))
    clamp(u8(x), 0, 255)  ->  max(min(uint8(x), (uint8)255), (uint8)0)

`lerp`, `mux` and `saturating_cast` are Halide intrinsics; until the IR has
ops for them they are expanded here (`lower_lerp`, `lower_mux`,
`lower_saturating_cast`, which a lowering pass can also call).
"""
from __future__ import annotations

import builtins
import math
import itertools

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.expr import (Expr, as_const_float, as_const_int, as_python_number,
                           can_represent_float, can_represent_int, cast_ir, make_const,
                           make_one, make_zero, match_lanes, match_types, to_ir, type_name)

__all__ = [
    "cast", "reinterpret", "saturating_cast", "select", "mux", "clamp", "min", "max",
    "abs", "absd", "sqrt", "exp", "log", "pow", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "floor", "ceil",
    "round", "trunc", "fract", "lerp", "is_nan", "is_inf", "is_finite", "popcount",
    "count_leading_zeros", "count_trailing_zeros", "logical_not", "likely", "strict_float", "undef",
    "print", "print_when",
    "hypot", "erf", "fast_sin", "fast_cos", "fast_log", "fast_exp", "fast_pow", "fast_inverse",
    "fast_inverse_sqrt", "likely_if_innermost", "unsafe_promise_clamped", "target_has_feature",
    "target_arch_is", "target_os_is", "target_bits", "target_natural_vector_size",
    "random_float", "random_int", "random_uint",
    "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
    "i8_sat", "i16_sat", "i32_sat", "i64_sat", "u8_sat", "u16_sat", "u32_sat", "u64_sat",
]


def _show(e: ir.Expr) -> str:
    return ir.to_string(e)


# ---------------------------------------------------------------- casts

def cast(t: ir.Type, e) -> Expr:
    """`e` converted to type `t`; constants fold (`cast(UInt(8), 300)` is `(uint8)44`)."""
    if not isinstance(t, ir.Type):
        raise TypeError(f"cast() takes a pipelang Type first, not {type(t).__name__}")
    return Expr(cast_ir(t, to_ir(e)))


def reinterpret(t: ir.Type, e) -> Expr:
    """The bits of `e` read as type `t`, which must have the same total width."""
    e = to_ir(e)
    from_bits = e.type.bits() * e.type.lanes()
    to_bits = t.bits() * t.lanes()
    if from_bits != to_bits:
        raise CompileError(f"Reinterpret cast from type {type_name(e.type)} which has {from_bits} "
                           f"bits, to type {type_name(t)} which has {to_bits} bits")
    return Expr(ir.Intrinsic(t, ir.Op.REINTERPRET, (e,)))


def _concise(t: ir.Type):
    """`i8(v)`...`f64(v)`: an exact constant for an in-range number, else a cast."""
    def convert(v) -> Expr:
        p = as_python_number(v)
        if isinstance(p, (bool, int)):
            if t.is_float():
                return Expr(make_const(t, float(p)))
            if t.min_value() <= p <= t.max_value():
                return Expr(make_const(t, int(p)))
        elif isinstance(p, float) and t.is_float():
            return Expr(make_const(t, p))
        return Expr(cast_ir(t, to_ir(v)))
    convert.__name__ = convert.__qualname__ = (
        f"{'f' if t.is_float() else 'u' if t.is_uint() else 'i'}{t.bits()}")
    convert.__doc__ = f"`v` as a {t}: `cast({t}, v)`, exact for an in-range literal."
    return convert


i8, i16, i32, i64 = (_concise(ir.Int(b)) for b in (8, 16, 32, 64))
u8, u16, u32, u64 = (_concise(ir.UInt(b)) for b in (8, 16, 32, 64))
f32, f64 = _concise(ir.Float(32)), _concise(ir.Float(64))


def lossless_cast(t: ir.Type, e: ir.Expr) -> ir.Expr | None:
    """`e` as type `t` if that provably keeps every value, else None.

    Covers what `clamp` bounds need: same type, a type `t` can hold, casts
    from such types, and constants. (Halide also reasons about arithmetic
    on narrow values; that is not done here.)
    """
    if e.type == t:
        return e
    if _can_represent_type(t, e.type):
        return cast_ir(t, e)
    if isinstance(e, ir.Cast):
        if _can_represent_type(e.type, e.value.type):
            return lossless_cast(t, e.value)
        return None
    if isinstance(e, ir.Broadcast):
        v = lossless_cast(t.element_of(), e.value)
        return None if v is None else ir.Broadcast(v, e.lanes)
    if isinstance(e, (ir.IntImm, ir.UIntImm)):
        return make_const(t, e.value) if can_represent_int(t, e.value) else None
    if isinstance(e, ir.FloatImm):
        return make_const(t, e.value) if can_represent_float(t, e.value) else None
    return None


def _can_represent_type(t: ir.Type, other: ir.Type) -> bool:
    """Halide's `Type::can_represent(Type)`: every value of `other` fits in `t`."""
    if t.lanes() != other.lanes():
        return False
    if t.is_int():
        return (other.is_int() and other.bits() <= t.bits()
                or other.is_uint() and other.bits() < t.bits())
    if t.is_uint():
        return other.is_uint() and other.bits() <= t.bits()
    if t.is_float():
        return (other.is_float() and other.bits() <= t.bits()
                or t.bits() == 64 and other.bits() <= 32
                or t.bits() == 32 and other.bits() <= 16)
    return False


def _sat_ir(t: ir.Type, e: ir.Expr) -> ir.Expr:
    if hasattr(ir.Op, "SATURATING_CAST"):
        return ir.Intrinsic(t, ir.Op.SATURATING_CAST, (e,))
    return lower_saturating_cast(t, e)


def lower_saturating_cast(t: ir.Type, e: ir.Expr) -> ir.Expr:
    """`saturating_cast(t, e)` as clamps and casts (Halide's own lowering of it)."""
    t = t.with_lanes(e.type.lanes())
    if t.is_float() and e.type.is_float():
        # Halide's float limits are the infinities, so this is a plain cast.
        return cast_ir(t, e)
    if e.type == t:
        return e
    tmin, tmax = make_const(t, t.min_value()), make_const(t, t.max_value())
    if e.type.is_float() and not t.is_float() and t.bits() >= e.type.bits():
        # t's limits may round in e's float type; its minimum (0 or -2^(n-1)) never does,
        # and its maximum rounds up, so `>=` catches every value past it.
        e = ir.Max(e, cast_ir(e.type, tmin))
        return ir.Select(ir.GE(e, cast_ir(e.type, tmax)), tmax, cast_ir(t, e))
    lo = None if e.type.is_uint() else lossless_cast(e.type, tmin)
    hi = lossless_cast(e.type, tmax)
    if hi is not None:
        e = ir.Min(e, hi)
    if lo is not None:
        e = ir.Max(e, lo)
    return cast_ir(t, e)


def saturating_cast(t: ir.Type, e) -> Expr:
    """`e` cast to `t`, clamped to `t`'s range first."""
    return Expr(_sat_ir(t, to_ir(e)))


def _sat(t: ir.Type):
    def convert(e) -> Expr:
        return saturating_cast(t, e)
    convert.__name__ = convert.__qualname__ = (
        f"{'u' if t.is_uint() else 'i'}{t.bits()}_sat")
    convert.__doc__ = f"`saturating_cast({t}, e)`."
    return convert


i8_sat, i16_sat, i32_sat, i64_sat = (_sat(ir.Int(b)) for b in (8, 16, 32, 64))
u8_sat, u16_sat, u32_sat, u64_sat = (_sat(ir.UInt(b)) for b in (8, 16, 32, 64))


# ---------------------------------------------------------------- select, mux, min, max, clamp

def _select_ir(c: ir.Expr, a: ir.Expr, b: ir.Expr) -> ir.Expr:
    # Int literals take the other side's type, unchecked, as in Halide.
    if as_const_int(c) is not None:
        c = cast_ir(ir.Bool(c.type.lanes()), c)
    if as_const_int(a) is not None:
        a = cast_ir(b.type, a)
    if as_const_int(b) is not None:
        b = cast_ir(a.type, b)
    if not c.type.is_bool():
        raise CompileError(f"The first argument to a select must be a boolean:\n"
                           f"  {_show(c)} has type {type_name(c.type)}")
    if a.type != b.type:
        raise CompileError(f"The second and third arguments to a select do not have a "
                           f"matching type:\n  {_show(a)} has type {type_name(a.type)}\n"
                           f"  {_show(b)} has type {type_name(b.type)}")
    if c.type.lanes() != a.type.lanes():
        if c.type.is_scalar():
            c = ir.Broadcast(c, a.type.lanes())
        else:
            raise CompileError("In Select, vector lanes of condition must be equal to vector "
                               "lanes of arguments")
    return ir.Select(c, a, b)


def select(*args):
    """`select(c, a, b)`: `a` where `c` holds, else `b`.

    `select(c1, v1, c2, v2, ..., default)` chains them; the values may be
    tuples (of equal size), giving a tuple of Exprs.
    """
    if len(args) < 3:
        raise ValueError("select() must have at least 3 arguments")
    if len(args) % 2 == 0:
        raise ValueError("select() must have an odd number of arguments")
    if any(isinstance(a, (tuple, list)) for a in args[1::2] + args[-1:]):
        return _select_tuple(args)
    result = to_ir(args[-1])
    for i in range(len(args) - 3, -1, -2):
        value = to_ir(args[i + 1])
        cond = to_ir(args[i])
        result = _select_ir(cond, value, result)
    return Expr(result)


def _select_tuple(args) -> tuple:
    def items(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v,)
    result = [to_ir(v) for v in items(args[-1])]
    if len({isinstance(c, (tuple, list)) for c in args[:-1:2]}) > 1:
        raise CompileError("select() on Tuples may not mix Expr and Tuple for the condition elements.")
    for i in range(len(args) - 3, -1, -2):
        values = [to_ir(v) for v in items(args[i + 1])]
        conds = items(args[i])
        if len(values) != len(result) or len(conds) not in (1, len(values)):
            raise CompileError("select() on Tuples requires all Tuples to have identical sizes.")
        conds = [to_ir(c) for c in conds] * (len(values) if len(conds) == 1 else 1)
        result = [_select_ir(c, v, r) for c, v, r in zip(conds, values, result)]
    return tuple(Expr(r) for r in result)


def mux(id, values) -> Expr:
    """`values[id]`; an out-of-range `id` gives the last value. `values` is a
    list, or a Tuple-valued call such as `g[x]` (one value per element)."""
    if not isinstance(values, (list, tuple)) and hasattr(values, "__len__"):
        values = [values[i] for i in range(len(values))]
    vals = [to_ir(v) for v in values]
    if not vals:
        raise CompileError("mux() requires a non-empty vector of values")
    idx = to_ir(id)
    if len(vals) == 1:
        return Expr(vals[0])
    t = vals[0].type
    if any(v.type != t for v in vals[1:]):
        raise CompileError("mux() requires all the values to have the same type.")
    if hasattr(ir.Op, "MUX"):
        return Expr(ir.Intrinsic(t, ir.Op.MUX, (idx, *vals)))
    return Expr(lower_mux(idx, vals))


def lower_mux(idx: ir.Expr, values) -> ir.Expr:
    """mux as a select chain: select(id == 0, v0, id == 1, v1, ..., last)."""
    result = values[-1]
    for i in range(len(values) - 2, -1, -1):
        result = _select_ir(ir.EQ(idx, make_const(idx.type, i)), values[i], result)
    return result


def _minmax(cls, name: str, args) -> Expr:
    if len(args) < 2:
        raise ValueError(f"{name}() must have at least 2 arguments")
    value = to_ir(args[-1])
    for a in reversed(args[:-1]):
        a, b = match_types(to_ir(a), value)
        value = cls(a, b)
    return Expr(value)


def min(*args) -> Expr:
    """The least of two or more values, after Halide's type matching (`min(a, min(b, c))`)."""
    return _minmax(ir.Min, "min", args)


def max(*args) -> Expr:
    """The greatest of two or more values, after Halide's type matching."""
    return _minmax(ir.Max, "max", args)


def clamp(a, min_val, max_val) -> Expr:
    """`max(min(a, max_val), min_val)`, the bounds cast to `a`'s type when lossless."""
    a = to_ir(a)
    lo, hi = to_ir(min_val), to_ir(max_val)
    bounds = []
    for which, b in (("second", lo), ("third", hi)):
        nb = lossless_cast(a.type, b)
        if nb is None:
            raise CompileError(
                f"Type mismatch in call to clamp. First argument ({_show(a)}) has type "
                f"{type_name(a.type)}, but {which} argument ({_show(b)}) has type "
                f"{type_name(b.type)}. Use an explicit cast.")
        bounds.append(nb)
    return Expr(ir.Max(ir.Min(a, bounds[1]), bounds[0]))


# ---------------------------------------------------------------- abs, absd

def abs(a) -> Expr:
    """|a|: unsigned of the same width for signed ints, a no-op on unsigned ones."""
    a = to_ir(a)
    t = a.type
    if t.is_int():
        t = t.with_code(ir.TypeCode.UINT)
    elif t.is_uint():
        # Halide's bindings print user warnings to stdout, with this doubled prefix.
        builtins.print("Warning: Warning: abs of an unsigned type is a no-op")
        return Expr(a)
    return Expr(ir.Intrinsic(t, ir.Op.ABS, (a,)))


def absd(a, b) -> Expr:
    """|a - b| computed without overflow: unsigned for ints, `abs(a - b)` for floats."""
    a, b = match_types(to_ir(a), to_ir(b))
    if a.type.is_float():
        return Expr(ir.Intrinsic(a.type, ir.Op.ABS, (ir.Sub(a, b),)))
    return Expr(ir.Intrinsic(a.type.with_code(ir.TypeCode.UINT), ir.Op.ABSD, (a, b)))


# ---------------------------------------------------------------- float math

def _as_float(e: ir.Expr) -> ir.Expr:
    return e if e.type.is_float() else cast_ir(ir.Float(32, e.type.lanes()), e)


def _unary_float(op: ir.Op, doc: str):
    def fn(x) -> Expr:
        e = _as_float(to_ir(x))
        return Expr(ir.Intrinsic(e.type, op, (e,)))
    fn.__name__ = fn.__qualname__ = op.value
    fn.__doc__ = doc + " A non-float argument is cast to float32 first."
    return fn


sqrt = _unary_float(ir.Op.SQRT, "The square root.")
exp = _unary_float(ir.Op.EXP, "e to the power of the argument.")
log = _unary_float(ir.Op.LOG, "The natural logarithm.")
sin = _unary_float(ir.Op.SIN, "The sine, in radians.")
cos = _unary_float(ir.Op.COS, "The cosine, in radians.")
tan = _unary_float(ir.Op.TAN, "The tangent, in radians.")
asin = _unary_float(ir.Op.ASIN, "The arcsine.")
acos = _unary_float(ir.Op.ACOS, "The arccosine.")
atan = _unary_float(ir.Op.ATAN, "The arctangent.")
sinh = _unary_float(ir.Op.SINH, "The hyperbolic sine.")
cosh = _unary_float(ir.Op.COSH, "The hyperbolic cosine.")
tanh = _unary_float(ir.Op.TANH, "The hyperbolic tangent.")
asinh = _unary_float(ir.Op.ASINH, "The hyperbolic arcsine.")
acosh = _unary_float(ir.Op.ACOSH, "The hyperbolic arccosine.")
atanh = _unary_float(ir.Op.ATANH, "The hyperbolic arctangent.")
floor = _unary_float(ir.Op.FLOOR, "The largest integer not greater than the argument, as a float.")
ceil = _unary_float(ir.Op.CEIL, "The smallest integer not less than the argument, as a float.")
round = _unary_float(ir.Op.ROUND, "The nearest integer, ties to even, as a float.")
trunc = _unary_float(ir.Op.TRUNC, "The argument rounded toward zero, as a float.")


def fract(x) -> Expr:
    """The fractional part, `x - trunc(x)` (so it has the sign of `x`), in float."""
    e = _as_float(to_ir(x))
    return Expr(ir.Sub(e, ir.Intrinsic(e.type, ir.Op.TRUNC, (e,))))


def atan2(y, x) -> Expr:
    """The angle of the point (x, y), in the type of `y` if float, else float32."""
    y, x = to_ir(y), to_ir(x)
    y, x = match_lanes(y, x)
    if y.type.is_float():
        x = cast_ir(y.type, x)
    else:
        y, x = _as_float(y), cast_ir(ir.Float(32, y.type.lanes()), x)
    return Expr(ir.Intrinsic(y.type, ir.Op.ATAN2, (y, x)))


def _raise_to_integer_power(e: ir.Expr, p: int) -> ir.Expr:
    # Binary exponentiation, as Halide's raise_to_integer_power builds it.
    if p == 0:
        return make_one(e.type)
    if p == 1:
        return e
    if p < 0:
        return ir.Div(make_one(e.type), _raise_to_integer_power(e, -p))
    y = _raise_to_integer_power(e, p >> 1)
    return ir.Mul(ir.Mul(y, y), e) if p & 1 else ir.Mul(y, y)


def pow(x, y) -> Expr:
    """x to the power y: repeated multiplication for an integer-constant `y`
    (keeping `x`'s type), else a float pow in `x`'s float type or float32."""
    x, y = to_ir(x), to_ir(y)
    p = as_const_int(y)
    if p is not None:
        return Expr(_raise_to_integer_power(x, p))
    x, y = match_lanes(x, y)
    if x.type.is_float():
        y = cast_ir(x.type, y)
    else:
        x, y = _as_float(x), cast_ir(ir.Float(32, x.type.lanes()), y)
    return Expr(ir.Intrinsic(x.type, ir.Op.POW, (x, y)))


def _float_test(op: ir.Op):
    def fn(x) -> Expr:
        e = to_ir(x)
        if not e.type.is_float():
            raise CompileError(f"{op.value} only works for float")
        return Expr(ir.Intrinsic(ir.Bool(e.type.lanes()), op, (e,)))
    fn.__name__ = fn.__qualname__ = op.value
    fn.__doc__ = f"Whether a float is {op.value[3:].replace('_', ' ')}, per lane (a bool)."
    return fn


is_nan = _float_test(ir.Op.IS_NAN)
is_inf = _float_test(ir.Op.IS_INF)
is_finite = _float_test(ir.Op.IS_FINITE)


# ---------------------------------------------------------------- lerp

def lerp(zero_val, one_val, weight) -> Expr:
    """Linear interpolation, `zero_val*(1 - weight) + one_val*weight`, in the values' type.

    An integer weight is read as a fraction of its type's maximum (for a
    uint8 weight, 255 is 1.0); integer results round to nearest.
    """
    z, o, w = to_ir(zero_val), to_ir(one_val), to_ir(weight)
    # Int literals take the other value's type, so lerp(0, u8(x), w) is uint8.
    if as_const_int(z) is not None:
        z = cast_ir(o.type, z)
    if as_const_int(o) is not None:
        o = cast_ir(z.type, o)
    if z.type != o.type:
        raise CompileError(f"Can't lerp between {_show(z)} of type {type_name(z.type)} and "
                           f"{_show(o)} of different type {type_name(o.type)}")
    if not (w.type.is_uint() or w.type.is_float()):
        raise CompileError(f"A lerp weight must be an unsigned integer or a float, but lerp "
                           f"weight {_show(w)} has type {type_name(w.type)}.")
    if not (z.type.is_float() or z.type.bits() <= 32):
        raise CompileError("Lerping between 64-bit integers is not supported")
    if not z.type.is_float():
        fw = as_const_float(w)
        if fw is not None and not 0.0 <= fw <= 1.0:
            raise CompileError(f"Floating-point weight for lerp with integer arguments is "
                               f"{_fmt_g(fw)}, which is not in the range [0.0, 1.0].")
    z, w = match_lanes(z, w)
    o, w = match_lanes(o, w)
    z, o = match_lanes(z, o)
    if hasattr(ir.Op, "LERP"):
        return Expr(ir.Intrinsic(z.type, ir.Op.LERP, (z, o, w)))
    return Expr(lower_lerp(z, o, w))


def _fmt_g(v: float) -> str:
    """A double as C++ streams it by default (six significant digits)."""
    s = f"{v:.6g}"
    return s


def lower_lerp(zero: ir.Expr, one: ir.Expr, weight: ir.Expr) -> ir.Expr:
    """lerp as arithmetic, with Halide's rounding (its `lower_lerp`)."""
    result_type = zero.type
    lanes = result_type.lanes()
    ct = result_type
    bias = None
    if result_type.is_int():
        # Work unsigned, where the bias add/subtract wraps as intended.
        ct = ir.UInt(result_type.bits(), lanes)
        bias = make_const(ct, result_type.min_value())
        zero = ir.Sub(ir.Cast(ct, zero), bias)
        one = ir.Sub(ir.Cast(ct, one), bias)

    if result_type.is_bool():
        half = (make_const(weight.type, 0.5) if weight.type.is_float()
                else make_const(weight.type, weight.type.max_value() // 2))
        return ir.Select(ir.GT(weight, half), one, zero)

    wt = weight.type
    if wt.is_float():
        if ct.is_uint():
            if ct.bits() == 32:
                scale = make_const(ir.Float(64, lanes), 65535.0 * 65537.0)
                typed = ir.Cast(ct, ir.Mul(scale, cast_ir(ir.Float(64, lanes), weight)))
            else:
                fmax = make_const(wt, ct.max_value())
                typed = ir.Cast(ct, ir.Mul(fmax, weight))
            inverse = ir.Sub(make_const(ct, ct.max_value()), typed)
        else:
            # A float weight of another width is used in the values' type.
            typed = cast_ir(ct, weight)
            inverse = ir.Sub(make_one(ct), typed)
    elif ct.is_float():
        if wt.bits() == 32:
            typed = ir.Cast(ct, ir.Div(cast_ir(ir.Float(64, lanes), weight),
                                       make_const(ir.Float(64, lanes), 2.0 ** 32 - 1)))
        else:
            wf = cast_ir(ir.Float(32, lanes), weight)
            typed = cast_ir(ct, ir.Div(wf, make_const(ir.Float(32, lanes),
                                                      2.0 ** wt.bits() - 1)))
        inverse = ir.Sub(make_one(ct), typed)
    else:
        # Rescale an m-bit weight to n bits: (2^n - 1)/(2^m - 1) is a product of (2^k + 1).
        diff = wt.bits() - ct.bits()
        if diff == 0:
            typed = weight
        else:
            bits_left = builtins.abs(diff)
            shift = builtins.min(ct.bits(), wt.bits())
            factor = 1
            while bits_left:
                factor += factor << shift
                bits_left -= shift
                shift *= 2
            if diff < 0:
                typed = ir.Mul(ir.Cast(ct, weight), make_const(ct, factor))
            else:
                typed = ir.Cast(ct, ir.Div(weight, make_const(wt, factor)))
        inverse = ir.Sub(make_const(ct, ct.max_value()), typed)

    if ct.is_float():
        result = ir.Add(ir.Mul(zero, inverse), ir.Mul(one, typed))
    else:
        bits = ct.bits()
        if bits == 1:
            result = ir.Select(ir.NE(typed, make_zero(typed.type)), one, zero)
        else:
            wide = ir.UInt(2 * bits, lanes)
            z2, o2 = ir.Cast(wide, zero), ir.Cast(wide, one)
            rounding = make_const(wide, 1 << (bits - 1))
            divisor = make_const(wide, 1 << bits)
            prod_sum = ir.Add(ir.Add(ir.Mul(z2, ir.Cast(wide, inverse)),
                                     ir.Mul(o2, ir.Cast(wide, typed))), rounding)
            divided = ir.Div(ir.Add(ir.Div(prod_sum, divisor), prod_sum), divisor)
            result = ir.Cast(ct, divided)
    if bias is not None:
        result = ir.Cast(result_type, ir.Add(result, bias))
    return result


# ---------------------------------------------------------------- bit counting, hints, logic

def _integer_unary(op: ir.Op, doc: str):
    def fn(x) -> Expr:
        e = to_ir(x)
        if not (e.type.is_int() or e.type.is_uint()):
            raise CompileError(f"Argument to {op.value} must be an integer")
        return Expr(ir.Intrinsic(e.type, op, (e,)))
    fn.__name__ = fn.__qualname__ = op.value
    fn.__doc__ = doc + " The result has the argument's type."
    return fn


popcount = _integer_unary(ir.Op.POPCOUNT, "The number of set bits.")
count_leading_zeros = _integer_unary(ir.Op.COUNT_LEADING_ZEROS,
                                     "The number of zero bits above the highest set bit.")
count_trailing_zeros = _integer_unary(ir.Op.COUNT_TRAILING_ZEROS,
                                      "The number of zero bits below the lowest set bit.")


def likely(e) -> Expr:
    """`e`, marked as the likely case, so loop partitioning splits the loop around it."""
    e = to_ir(e)
    return Expr(ir.Intrinsic(e.type, ir.Op.LIKELY, (e,)))


def undef(t: ir.Type) -> Expr:
    """Halide's `undef(t)`: no value. As (part of) a definition's value it
    means "leave this element as it was": a Tuple element of an update, or a
    branch of a select, stores nothing (an update whose value is undefined
    outside any select stores nothing at all). In a pure definition the
    element's content is unspecified (pipelang gives 0)."""
    if not isinstance(t, ir.Type):
        raise TypeError(f"undef() takes a pipelang Type, not {type(t).__name__}")
    return Expr(ir.Intrinsic(t, ir.Op.UNDEF, ()))


def strict_float(e) -> Expr:
    """`e` evaluated with IEEE float semantics, as written: no fused
    multiply-add and no reassociation inside it (elsewhere LLVM may do both,
    as Halide lets it). Non-float parts of `e` are unaffected."""
    e = to_ir(e)
    return Expr(ir.Intrinsic(e.type, ir.Op.STRICT_FLOAT, (e,)))


def logical_not(e) -> Expr:
    """The negation of a bool Expr (`!e`)."""
    e = to_ir(e)
    if not e.type.is_bool():
        raise CompileError("argument of Not is not a bool")
    return Expr(ir.Not(e))


# ---------------------------------------------------------------- debugging

def _print_pieces(args) -> list:
    pieces = []
    for i, a in enumerate(args):
        if i:
            pieces.append(ir.StringImm(ir.Handle(), " "))
        pieces.append(ir.StringImm(ir.Handle(), a) if isinstance(a, str) else to_ir(a))
    return pieces


def print_when(condition, *args) -> Expr:
    """Like `print`, but only when `condition` holds where it is evaluated."""
    cond = to_ir(condition)
    if not cond.type.is_bool():
        raise CompileError(f"print_when needs a boolean condition, not {type_name(cond.type)}")
    pieces = _print_pieces(args)
    values = [p for p in pieces if not isinstance(p, ir.StringImm)]
    if not values:
        raise CompileError("print() needs at least one Expr argument, whose value it returns")
    return Expr(ir.Intrinsic(values[0].type, ir.Op.PRINT, (values[0], cond, *pieces)))


def print(*args) -> Expr:  # noqa: A001  (Halide's name)
    """The value of the first Expr argument, printing all the arguments
    (space-separated) each time it is evaluated."""
    return print_when(ir.make_const(ir.Bool(), 1), *args)


# ---------------------------------------------------------------- more math: hypot, erf, fast_*

def _require_float32(name: str, e: ir.Expr, also16: bool = False) -> None:
    ok = e.type.element_of() == ir.Float(32) or (also16 and e.type.element_of() == ir.Float(16))
    if not ok:
        raise CompileError(f"{name} only takes float32{' or float16' if also16 else ''} arguments, "
                           f"not {type_name(e.type)}")


def hypot(x, y) -> Expr:
    """`sqrt(x*x + y*y)` (as Halide defines it, without guarding overflow)."""
    x, y = match_types(to_ir(x), to_ir(y))
    return sqrt(Expr(ir.Add(ir.Mul(x, x), ir.Mul(y, y))))


def erf(x) -> Expr:
    """The error function of a float32, to about 1e-7 (Abramowitz and Stegun 7.1.26)."""
    e = to_ir(x)
    _require_float32("erf", e)
    t = e.type
    c = lambda v: make_const(t, v)  # noqa: E731
    ax = ir.Intrinsic(t, ir.Op.ABS, (e,))
    k = ir.Div(c(1.0), ir.Add(c(1.0), ir.Mul(c(0.3275911), ax)))
    poly = c(1.061405429)
    for coeff in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly = ir.Add(ir.Mul(poly, k), c(coeff))
    poly = ir.Mul(poly, k)
    y = ir.Sub(c(1.0), ir.Mul(poly, ir.Intrinsic(t, ir.Op.EXP, (ir.Sub(c(0.0), ir.Mul(ax, ax)),))))
    return Expr(_select_ir(ir.LT(e, c(0.0)), ir.Sub(c(0.0), y), y))


def _fast(name: str, exact):
    def fn(x) -> Expr:
        e = to_ir(x)
        _require_float32(name, e)
        return exact(Expr(e))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Halide's fast approximation of {exact.__name__} for float32; here computed "
                  f"with the accurate {exact.__name__}, so results may differ from Halide's in the "
                  f"last bits.")
    return fn


fast_sin = _fast("fast_sin", sin)
fast_cos = _fast("fast_cos", cos)
fast_log = _fast("fast_log", log)
def fast_exp(x) -> Expr:
    """Halide's fast approximation of `exp` for float32 (about 1e-5 relative error):
    `2**k * p(r)` for `x = k*ln(2) + r`, with p a degree-5 polynomial. It is
    plain arithmetic, so it vectorizes (a vector `exp` calls libm once per lane)."""
    e = to_ir(x)
    _require_float32("fast_exp", e)
    t = e.type
    lanes = t.lanes()
    c = lambda v: make_const(t, v)  # noqa: E731
    ln2 = c(math.log(2.0))  # rounded to float32, as logf(2)
    k_real = ir.Variable(t, ir.Symbol("fast_exp.k_real"))
    r = ir.Variable(t, ir.Symbol("fast_exp.r"))
    r2 = ir.Mul(r, r)
    # The polynomial in even and odd halves (shorter dependency chains), highest terms first.
    even, odd = c(0.01314350012789660196), c(0.03668965196652099192)
    even = ir.Add(ir.Mul(even, r2), c(0.16873890085469545053))
    odd = ir.Add(ir.Mul(odd, r2), c(0.49970514590562437052))
    even = ir.Add(ir.Mul(even, r2), c(1.0))
    odd = ir.Add(ir.Mul(odd, r2), c(1.0))
    poly = ir.Add(ir.Mul(even, r), odd)
    # 2**k built in the exponent field, k clamped to the finite range.
    it = ir.Int(32, lanes)
    k = cast_ir(it, k_real)
    biased = ir.Max(ir.Min(ir.Add(k, make_const(it, 127)), make_const(it, 255)), make_const(it, 0))
    two_k = ir.Intrinsic(t, ir.Op.REINTERPRET,
                         (ir.Intrinsic(it, ir.Op.SHIFT_LEFT, (biased, make_const(it, 23))),))
    body = ir.Let(r.sym, ir.Sub(e, ir.Mul(k_real, ln2)), ir.Mul(poly, two_k))
    return Expr(ir.Let(k_real.sym, ir.Intrinsic(t, ir.Op.FLOOR, (ir.Div(e, ln2),)), body))


def fast_pow(x, y) -> Expr:
    """`x ** y` for float32 (0 where x is 0); an integer-constant `y` multiplies exactly."""
    xi, yi = to_ir(x), to_ir(y)
    if as_const_int(yi) is not None:
        return pow(x, y)
    xi = cast_ir(ir.Float(32, xi.type.lanes()), xi)
    yi = cast_ir(ir.Float(32, yi.type.lanes()), yi)
    zero = make_const(xi.type, 0.0)
    return Expr(_select_ir(ir.EQ(xi, zero), zero, pow(Expr(xi), Expr(yi))._to_ir()))


def fast_inverse(x) -> Expr:
    """`1 / x` for float32 or float16 (exact here; Halide may use an approximate reciprocal)."""
    e = to_ir(x)
    _require_float32("fast_inverse", e, also16=True)
    return Expr(ir.Div(make_const(e.type, 1.0), e))


def fast_inverse_sqrt(x) -> Expr:
    """`1 / sqrt(x)` for float32 or float16 (exact here)."""
    e = to_ir(x)
    _require_float32("fast_inverse_sqrt", e, also16=True)
    return Expr(ir.Div(make_const(e.type, 1.0), ir.Intrinsic(e.type, ir.Op.SQRT, (e,))))


# ---------------------------------------------------------------- hints

def likely_if_innermost(e) -> Expr:
    """`likely(e)`, meant only for the innermost loop; here the same hint as `likely`."""
    return likely(e)


def unsafe_promise_clamped(value, min, max) -> Expr:  # noqa: A002  (Halide's names)
    """`value`, with the promise (not checked) that it lies in [min, max]; either
    bound may be None. The bounds must convert to `value`'s type without loss."""
    v = to_ir(value)
    for which, b in (("min", min), ("max", max)):
        if b is None:
            continue
        bi = to_ir(b)
        if lossless_cast(v.type, bi) is None:
            raise CompileError(f"unsafe_promise_clamped {which} argument (type {type_name(bi.type)}) "
                               f"could not be cast losslessly to {type_name(v.type)}")
    return Expr(v)


# ---------------------------------------------------------------- compile-time target queries

def target_has_feature(feature) -> Expr:
    """Whether the target compiled for has `feature`, as a bool constant."""
    from pipelang.target import get_jit_target_from_environment
    return Expr(make_const(ir.Bool(), int(get_jit_target_from_environment().has_feature(feature))))


def target_arch_is(arch) -> Expr:
    from pipelang.target import get_jit_target_from_environment
    return Expr(make_const(ir.Bool(), int(get_jit_target_from_environment().arch == arch)))


def target_os_is(os) -> Expr:
    from pipelang.target import get_jit_target_from_environment
    return Expr(make_const(ir.Bool(), int(get_jit_target_from_environment().os == os)))


def target_bits() -> Expr:
    from pipelang.target import get_jit_target_from_environment
    return Expr(make_const(ir.Int(32), get_jit_target_from_environment().bits))


def target_natural_vector_size(t) -> Expr:
    from pipelang.target import get_jit_target_from_environment
    return Expr(make_const(ir.Int(32), get_jit_target_from_environment().natural_vector_size(t)))


# ---------------------------------------------------------------- random numbers

# A random_* call is a marker Variable until the definition it appears in is
# made; `lower_random` then replaces it by a hash of the call's own number, its
# seed and the definition's variables, so each point (and each call site) gets
# its own value, the same on every run.
_random_markers: dict = {}
_random_counter = itertools.count()


def _random_marker(seed, allowed) -> Expr:
    seed_ir = None
    if seed is not None:
        seed_ir = to_ir(seed)
        if seed_ir.type not in allowed:
            raise CompileError(f"The seed passed to random numbers must have type "
                               f"{' or '.join(map(type_name, allowed))}, but instead is "
                               f"{_show(seed_ir)} of type {type_name(seed_ir.type)}")
    n = next(_random_counter)
    sym = ir.Symbol(f"__random{n}")
    _random_markers[sym] = (n, seed_ir)
    return Expr(ir.Variable(ir.UInt(32), sym))


def random_uint(seed=None) -> Expr:
    """A pseudo-random uint32, a fixed function of the point it is computed at
    (the definition's variables), this call and `seed`. Not Halide's sequence."""
    return _random_marker(seed, (ir.Int(32), ir.UInt(32)))


def random_int(seed=None) -> Expr:
    """`random_uint` reinterpreted as int32."""
    u = random_uint(seed)._to_ir()
    return Expr(ir.Intrinsic(ir.Int(32), ir.Op.REINTERPRET, (u,)))


def random_float(seed=None) -> Expr:
    """A pseudo-random float32, uniform in [0, 1): the top 24 bits of a `random_uint`."""
    u = _random_marker(seed, (ir.Int(32),))._to_ir()
    top = ir.Cast(ir.Float(32), ir.Intrinsic(ir.UInt(32), ir.Op.SHIFT_RIGHT, (u, make_const(ir.UInt(32), 8))))
    return Expr(ir.Mul(top, make_const(ir.Float(32), 1.0 / (1 << 24))))


def _mix(h: ir.Expr) -> ir.Expr:
    """A 32-bit finalizer (MurmurHash3's fmix32): every input bit affects every output bit."""
    u = ir.UInt(32)
    shr = lambda e, k: ir.Intrinsic(u, ir.Op.SHIFT_RIGHT, (e, make_const(u, k)))  # noqa: E731
    xor = lambda a, b: ir.Intrinsic(u, ir.Op.BITWISE_XOR, (a, b))  # noqa: E731
    h = ir.Mul(xor(h, shr(h, 16)), make_const(u, 0x85EBCA6B))
    h = ir.Mul(xor(h, shr(h, 13)), make_const(u, 0xC2B2AE35))
    return xor(h, shr(h, 16))


def lower_random(values: tuple, point: list) -> tuple:
    """Replace the random_* markers in `values` by hashes of `point` (the
    definition's variables, as IR)."""
    from pipelang.ir.visitor import free_symbols, substitute
    used = set()
    for v in values:
        used |= free_symbols(v) & _random_markers.keys()
    if not used:
        return values
    u = ir.UInt(32)
    mapping = {}
    for sym in used:
        n, seed = _random_markers[sym]
        h = _mix(make_const(u, (n * 0x9E3779B9 + 0x7F4A7C15) & 0xFFFFFFFF))
        for e in ([seed] if seed is not None else []) + list(point):
            e = cast_ir(u, e) if e.type != u else e
            h = _mix(ir.Intrinsic(u, ir.Op.BITWISE_XOR, (h, ir.Add(e, make_const(u, 0x9E3779B9)))))
        mapping[sym] = h
    return tuple(substitute(mapping, v) for v in values)
