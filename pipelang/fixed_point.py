"""Halide's fixed-point and bit-level intrinsics: widening, saturating,
halving and rounding arithmetic, `mul_shift_right`, `div_round_to_zero`,
`extract_bits`/`concat_bits`.

Each checks and matches its operands with Halide's rules, gives Halide's
result type, and builds its value from plain IR the way Halide lowers the
intrinsic for a target without a native instruction, so the results are
bit-identical to Halide's:

    widening_add(u8(a), u8(b))           ->  uint16(a) + uint16(b)
    saturating_add(i8(a), i8(b))         ->  clamped in unsigned arithmetic, no overflow
    rounding_shift_right(a, 3)           ->  (a >> 3) + ((a >> 2) & 1)
    mul_shift_right(a, b, q)             ->  saturating_cast(T, widening_mul(a, b) >> q)

Widening a 64-bit value would need a 128-bit type, which pipelang (like
Halide's CPU backends) does not have: those raise a CompileError.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.expr import (Expr, bitwise_ir, cast_ir, check_representable, make_const, match_lanes,
                           match_types, shift_ir, to_ir, type_name)

__all__ = [
    "widening_add", "widening_sub", "widening_mul", "widening_shift_left", "widening_shift_right",
    "widen_right_add", "widen_right_sub", "widen_right_mul", "rounding_shift_left",
    "rounding_shift_right", "saturating_add", "saturating_sub", "halving_add", "halving_sub",
    "rounding_halving_add", "mul_shift_right", "rounding_mul_shift_right", "div_round_to_zero",
    "mod_round_to_zero", "extract_bits", "concat_bits",
]


def _show(e: ir.Expr) -> str:
    return ir.to_string(e)


def _defined(name: str, *values) -> list:
    out = []
    for v in values:
        if isinstance(v, Expr) and not v.defined():
            raise CompileError(f"{name} of undefined Expr")
        out.append(to_ir(v))
    return out


def _require_integer(name: str, *es: ir.Expr) -> None:
    for e in es:
        if not (e.type.is_int() or e.type.is_uint()):
            raise CompileError(f"{name} is only defined for integer types, received {_show(e)} "
                               f"of type {type_name(e.type)}")


def _widen(name: str, t: ir.Type) -> ir.Type:
    if t.bits() >= 64:
        raise CompileError(f"{name} of {type_name(t)} would need a {2 * t.bits()}-bit type, "
                           f"which does not exist")
    return t.with_bits(2 * t.bits())


def _match_bits(a: ir.Expr, b: ir.Expr):
    """Widen the narrower operand to the other's bit width, keeping its signedness."""
    if a.type.bits() < b.type.bits():
        a = cast_ir(a.type.with_bits(b.type.bits()), a)
    elif b.type.bits() < a.type.bits():
        b = cast_ir(b.type.with_bits(a.type.bits()), b)
    return a, b


def _shift_amount(name: str, a: ir.Expr, b: int) -> tuple[ir.Expr, bool]:
    """A Python int shift amount as an unsigned constant of `a`'s width, and
    whether it was negative (so the shift goes the other way)."""
    bt = a.type.with_code(ir.TypeCode.UINT)
    check_representable(bt, builtins_abs(b))
    return make_const(bt, builtins_abs(b)), b < 0


def _one(t: ir.Type) -> ir.Expr:
    return make_const(t, 1)


def _zero(t: ir.Type) -> ir.Expr:
    return make_const(t, 0)


def _and(a, b):
    return bitwise_ir(ir.Op.BITWISE_AND, a, b)


def _xor(a, b):
    return bitwise_ir(ir.Op.BITWISE_XOR, a, b)


def _not(a):
    return ir.Intrinsic(a.type, ir.Op.BITWISE_NOT, (a,))


def _shl(a, b):
    return shift_ir(ir.Op.SHIFT_LEFT, a, b)


def _shr(a, b):
    return shift_ir(ir.Op.SHIFT_RIGHT, a, b)


def _select(c, a, b):
    from pipelang.operators import _select_ir
    return _select_ir(c, a, b)


# ---------------------------------------------------------------- widening

def widening_add(a, b) -> Expr:
    """`a + b` in the type twice as wide, so it cannot overflow."""
    a, b = match_types(*_defined("widening_add", a, b))
    w = _widen("widening_add", a.type)
    return Expr(ir.Add(cast_ir(w, a), cast_ir(w, b)))


def widening_sub(a, b) -> Expr:
    """`a - b` in the signed type twice as wide."""
    a, b = match_types(*_defined("widening_sub", a, b))
    w = _widen("widening_sub", a.type)
    if w.is_uint():
        w = w.with_code(ir.TypeCode.INT)
    return Expr(ir.Sub(cast_ir(w, a), cast_ir(w, b)))


def widening_mul(a, b) -> Expr:
    """The exact product in the type twice as wide (signed if either operand is)."""
    a, b = _defined("widening_mul", a, b)
    a, b = _match_bits(a, b)
    a, b = match_lanes(a, b)
    w = _widen("widening_mul", a.type)
    if w.is_uint() and b.type.is_int():
        w = w.with_code(ir.TypeCode.INT)
    return Expr(ir.Mul(cast_ir(w, a), cast_ir(w, b)))


def _widening_shift(name: str, left: bool, a, b) -> Expr:
    a = _defined(name, a)[0]
    if isinstance(b, int) and not isinstance(b, bool):
        amount, negative = _shift_amount(name, a, b)
        return _widening_shift(name, left != negative, Expr(a), Expr(amount))
    b = _defined(name, b)[0]
    a, b = match_lanes(a, b)
    a, b = _match_bits(a, b)
    wide = cast_ir(_widen(name, a.type), a)
    return Expr(_shl(wide, b) if left else _shr(wide, b))


def widening_shift_left(a, b) -> Expr:
    """`a << b` in the type twice as wide (a negative `b` shifts right)."""
    return _widening_shift("widening_shift_left", True, a, b)


def widening_shift_right(a, b) -> Expr:
    """`a >> b` in the type twice as wide (a negative `b` shifts left)."""
    return _widening_shift("widening_shift_right", False, a, b)


def _widen_right(name: str, cls, a, b) -> Expr:
    a, b = _defined(name, a, b)
    _require_integer(name, a, b)
    if b.type.bits() > 32:
        raise CompileError(f"{name} of large Expr {_show(a)}, {_show(b)}")
    a, b = match_lanes(a, b)
    wide = b.type.with_bits(2 * b.type.bits())
    if wide != a.type:
        raise CompileError(f"{name} type mismatch: the first argument must have type {type_name(wide)} "
                           f"(twice as wide as the second), not {type_name(a.type)}")
    return Expr(cls(a, cast_ir(wide, b)))


def widen_right_add(a, b) -> Expr:
    """`a + widen(b)`, where `a` is already twice as wide as `b`."""
    return _widen_right("widen_right_add", ir.Add, a, b)


def widen_right_sub(a, b) -> Expr:
    """`a - widen(b)`, where `a` is already twice as wide as `b`."""
    return _widen_right("widen_right_sub", ir.Sub, a, b)


def widen_right_mul(a, b) -> Expr:
    """`a * widen(b)`, where `a` is already twice as wide as `b`."""
    return _widen_right("widen_right_mul", ir.Mul, a, b)


# ---------------------------------------------------------------- rounding shifts

def _saturating_add_ir(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    t = a.type
    if t.is_float():
        return ir.Add(a, b)
    if t.is_uint():
        s = ir.Add(a, b)
        return _select(ir.LT(s, a), make_const(t, t.max_value()), s)
    # Signed: add in unsigned (no overflow), then pick the saturated side by the true sign.
    u = t.with_code(ir.TypeCode.UINT)
    ua, ub = cast_ir(u, a), cast_ir(u, b)
    upper = make_const(u, (1 << (t.bits() - 1)) - 1)
    lower = make_const(u, 1 << (t.bits() - 1))
    s = ir.Add(ua, ub)
    return cast_ir(t, _select(ir.LT(_not(b), a), ir.Min(s, upper), ir.Max(s, lower)))


def _saturating_sub_ir(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    t = a.type
    if t.is_float():
        return ir.Sub(a, b)
    if t.is_uint():
        return _select(ir.LT(b, a), ir.Sub(a, b), _zero(t))
    u = t.with_code(ir.TypeCode.UINT)
    ua, ub = cast_ir(u, a), cast_ir(u, b)
    upper = make_const(u, (1 << (t.bits() - 1)) - 1)
    lower = make_const(u, 1 << (t.bits() - 1))
    d = ir.Sub(ua, ub)
    return cast_ir(t, _select(ir.LE(b, a), ir.Min(upper, d), ir.Max(lower, d)))


def _rounding_shift(name: str, right: bool, a, b) -> Expr:
    a = _defined(name, a)[0]
    if isinstance(b, int) and not isinstance(b, bool):
        amount, negative = _shift_amount(name, a, b)
        return _rounding_shift(name, right != negative, Expr(a), Expr(amount))
    b = _defined(name, b)[0]
    _require_integer(name, a, b)
    a, b = match_lanes(a, b)
    a, b = _match_bits(a, b)
    one_b = _one(b.type)
    if right:
        # Add one when bits were dropped (b > 0) and the highest dropped bit was set.
        dropped = _select(ir.GT(b, _zero(b.type)), _one(a.type), _zero(a.type))
        return Expr(ir.Add(_shr(a, b), _and(dropped, _shr(a, _saturating_sub_ir(b, one_b)))))
    if b.type.is_uint():
        return Expr(_shl(a, b))
    dropped = _select(ir.LT(b, _zero(b.type)), _one(a.type), _zero(a.type))
    return Expr(ir.Add(_shl(a, b), _and(dropped, _shl(a, _saturating_add_ir(b, one_b)))))


def rounding_shift_right(a, b) -> Expr:
    """`a >> b`, rounding to nearest (ties up) instead of down."""
    return _rounding_shift("rounding_shift_right", True, a, b)


def rounding_shift_left(a, b) -> Expr:
    """`a << b`; where `b` is negative, a rounding right shift."""
    return _rounding_shift("rounding_shift_left", False, a, b)


# ---------------------------------------------------------------- saturating, halving

def saturating_add(a, b) -> Expr:
    """`a + b` clamped to the type's range instead of wrapping."""
    a, b = match_types(*_defined("saturating_add", a, b))
    _require_integer("saturating_add", a)
    return Expr(_saturating_add_ir(a, b))


def saturating_sub(a, b) -> Expr:
    """`a - b` clamped to the type's range instead of wrapping."""
    a, b = match_types(*_defined("saturating_sub", a, b))
    _require_integer("saturating_sub", a)
    return Expr(_saturating_sub_ir(a, b))


def _halving_add_ir(a, b):
    return ir.Add(_and(a, b), _shr(_xor(a, b), _one(a.type.with_code(ir.TypeCode.UINT))))


def _rounding_halving_add_ir(a, b):
    return ir.Add(_halving_add_ir(a, b), _and(_xor(a, b), _one(a.type)))


def halving_add(a, b) -> Expr:
    """`(a + b) >> 1` without overflow (rounds down)."""
    a, b = match_types(*_defined("halving_add", a, b))
    _require_integer("halving_add", a)
    return Expr(_halving_add_ir(a, b))


def rounding_halving_add(a, b) -> Expr:
    """`(a + b + 1) >> 1` without overflow."""
    a, b = match_types(*_defined("rounding_halving_add", a, b))
    _require_integer("rounding_halving_add", a)
    return Expr(_rounding_halving_add_ir(a, b))


def halving_sub(a, b) -> Expr:
    """`(a - b) >> 1` without overflow (wrapping for unsigned types, as Halide)."""
    a, b = match_types(*_defined("halving_sub", a, b))
    _require_integer("halving_sub", a)
    e = _rounding_halving_add_ir(a, _not(b))
    if a.type.is_uint():
        e = ir.Add(e, make_const(e.type, 1 << (a.type.bits() - 1)))
    return Expr(e)


# ---------------------------------------------------------------- multiply and shift

def _mul_shift(name: str, rounding: bool, a, b, q) -> Expr:
    from pipelang.operators import _sat_ir
    a, b = _defined(name, a, b)
    if isinstance(q, int) and not isinstance(q, bool):
        qt = a.type.with_code(ir.TypeCode.UINT)
        check_representable(qt, q)
        q = make_const(qt, q)
    else:
        q = _defined(name, q)[0]
    if not q.type.is_uint():
        raise CompileError(f"{name} shift must be unsigned")
    a, b = match_types(a, b)
    a, q = match_lanes(a, q)
    a, q = _match_bits(a, q)
    a, b = match_types(a, b)
    _require_integer(name, a)
    product = widening_mul(Expr(a), Expr(b))._to_ir()
    shifted = _rounding_shift(name, True, Expr(product), Expr(q))._to_ir() if rounding else _shr(product, q)
    return Expr(_sat_ir(a.type, shifted))


def mul_shift_right(a, b, q) -> Expr:
    """`(a * b) >> q` computed exactly in the wider type, saturated back to `a`'s type."""
    return _mul_shift("mul_shift_right", False, a, b, q)


def rounding_mul_shift_right(a, b, q) -> Expr:
    """`mul_shift_right` with the shift rounding to nearest."""
    return _mul_shift("rounding_mul_shift_right", True, a, b, q)


# ---------------------------------------------------------------- C-style division

def _round_to_zero(name: str, a, b, want_div: bool) -> Expr:
    a, b = match_types(*_defined(name, a, b))
    if a.type.is_uint():
        return Expr(ir.Div(a, b) if want_div else ir.Mod(a, b))
    if not a.type.is_int():
        raise CompileError(f"First argument to {name} is not an integer: {_show(a)}")
    # Halide's / and % are Euclidean (remainder >= 0); C's round the quotient
    # toward zero, which differs when a is negative and the division is inexact.
    t = a.type
    q, r = ir.Div(a, b), ir.Mod(a, b)
    adjust = ir.And(ir.LT(a, _zero(t)), ir.NE(r, _zero(t)))
    b_pos = ir.GT(b, _zero(t))
    if want_div:
        return Expr(_select(adjust, _select(b_pos, ir.Add(q, _one(t)), ir.Sub(q, _one(t))), q))
    return Expr(_select(adjust, _select(b_pos, ir.Sub(r, b), ir.Add(r, b)), r))


def div_round_to_zero(a, b) -> Expr:
    """Integer division rounding toward zero (C's `/`), unlike Halide's `/`."""
    return _round_to_zero("div_round_to_zero", a, b, True)


def mod_round_to_zero(a, b) -> Expr:
    """The remainder of `div_round_to_zero` (C's `%`: the sign of `a`)."""
    return _round_to_zero("mod_round_to_zero", a, b, False)


# ---------------------------------------------------------------- bit fields

def extract_bits(t: ir.Type, e, lsb) -> Expr:
    """The `t.bits()` bits of `e` starting at bit `lsb`, as a `t` (zero-filled past the top)."""
    if not isinstance(t, ir.Type):
        raise TypeError(f"extract_bits() takes a Type first, not {type(t).__name__}")
    e, lsb = _defined("extract_bits", e, lsb)
    if not e.type.is_uint():
        e = ir.Intrinsic(e.type.with_code(ir.TypeCode.UINT), ir.Op.REINTERPRET, (e,))
    e = _shr(e, lsb) if lsb.type.is_uint() or lsb.type.is_int() else e
    ut = t.with_code(ir.TypeCode.UINT).with_lanes(e.type.lanes())
    e = cast_ir(ut, e)
    if ut != t.with_lanes(e.type.lanes()):
        e = ir.Intrinsic(t.with_lanes(e.type.lanes()), ir.Op.REINTERPRET, (e,))
    return Expr(e)


def concat_bits(values) -> Expr:
    """One integer holding the bits of `values` side by side, the first the
    least significant; there must be a power of two of them, all one type."""
    es = _defined("concat_bits", *values)
    if not es:
        raise CompileError("concat_bits requires at least one argument")
    if len(es) & (len(es) - 1):
        raise CompileError(f"concat_bits received {len(es)} arguments, which is not a power of two.")
    t = es[0].type
    if any(e.type != t for e in es[1:]):
        raise CompileError("All arguments to concat_bits must have the same type")
    _require_integer("concat_bits", es[0])
    rt = t.with_bits(t.bits() * len(es))
    if rt.bits() > 64:
        raise CompileError(f"concat_bits of {len(es)} {type_name(t)} values needs a {rt.bits()}-bit type")
    # The pieces' bits side by side: each zero-extended (as unsigned), shifted, OR-ed.
    ut, rut = t.with_code(ir.TypeCode.UINT), rt.with_code(ir.TypeCode.UINT)
    result = _zero(rut)
    shift = 0
    for e in es:
        piece = cast_ir(rut, e if e.type == ut else ir.Intrinsic(ut, ir.Op.REINTERPRET, (e,)))
        if shift:
            piece = _shl(piece, make_const(rut, shift))
        result = bitwise_ir(ir.Op.BITWISE_OR, result, piece)
        shift += t.bits()
    return Expr(result if rt == rut else ir.Intrinsic(rt, ir.Op.REINTERPRET, (result,)))


builtins_abs = abs
