"""The user-facing `Expr` and the operators every expression-like class shares.

`ExprOps` gives Python's operators to any class that can say what IR it reads
as (`_to_ir()`): `Expr` itself, `Var`, `FuncRef`, `RVar`, `Param`. Each
operator follows Halide's Python bindings exactly, which are two layers:

  * how a Python operand becomes IR. A Python int that fits in 32 bits is a
    *literal*: it takes the type of the other operand, and it is an error if
    that changes its value (`u8(x) + 300`). A larger int is an `int64` Expr;
    one beyond int64 becomes a float. A Python float is a `float32` constant,
    with a `RuntimeWarning` when that loses precision (`x + 0.1`).
  * how two Exprs of different types meet (`match_types`): a float wins, the
    wider float wins, two uints give the wider uint, any other pair of ints
    gives the signed int of the wider width; a scalar is broadcast to a vector.

    u8(x) + 3       ->  (uint8(x) + (uint8)3)          uint8
    u8(x) + i16(y)  ->  (int16(uint8(x)) + int16(y))   int16
    x + 2.5         ->  (float32(x) + 2.500000f)       float32

Constants are folded as Halide's `cast` folds them, so `f64(x) + 0.1` carries
the float32-rounded 0.1 (0.10000000149011612) as a float64 constant.
"""
from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np

from pipelang import ir
from pipelang.errors import CompileError

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class ExprTruthError(CompileError, ValueError):
    """An Expr was used where Python needs a bool (`if e:`, `and`, `a < b < c`).

    A ValueError too, as Halide's bindings raise one here.
    """


# ---------------------------------------------------------------- printing helpers

def type_name(t: ir.Type) -> str:
    """A type as C++ Halide streams it into messages: bool is `uint1`."""
    if t.is_handle():
        return "handle"
    base = f"{t.code().value}{t.bits()}"
    return base if t.is_scalar() else f"{base}x{t.lanes()}"


def _repr_type_name(t: ir.Type) -> str:
    """A type as Halide's Python `Expr.__repr__` names it (bool is `bool`)."""
    return "char64" if t.is_handle() else str(t)


def _show(e: ir.Expr) -> str:
    return ir.to_string(e)


# ---------------------------------------------------------------- constants

def make_const(t: ir.Type, value) -> ir.Expr:
    """A constant of type `t` holding `value` converted as C++ would.

    Ints wrap to the width of `t` (`(uint8)300` is 44, a bool keeps the low
    bit); floats truncate toward zero when made ints; a float constant is
    rounded to the precision of `t`.
    """
    if t.is_float():
        v = float(value)
        if t.bits() == 32:
            v = float(np.float32(v))
        elif t.bits() == 16:
            v = float(np.float16(v))
        return ir.make_const(t, v)
    if isinstance(value, float):
        value = 0 if (math.isnan(value) or math.isinf(value)) else int(value)
    return ir.make_const(t, value)


def make_bool(b: bool) -> ir.Expr:
    return ir.UIntImm(ir.Bool(), 1 if b else 0)


def make_zero(t: ir.Type) -> ir.Expr:
    return make_const(t, 0)


def make_one(t: ir.Type) -> ir.Expr:
    return make_const(t, 1)


def as_const_int(e: ir.Expr):
    """The value of a signed-int constant (or a broadcast of one), else None."""
    if isinstance(e, ir.Broadcast):
        e = e.value
    return e.value if isinstance(e, ir.IntImm) else None


def as_const_uint(e: ir.Expr):
    if isinstance(e, ir.Broadcast):
        e = e.value
    return e.value if isinstance(e, ir.UIntImm) else None


def as_const_float(e: ir.Expr):
    if isinstance(e, ir.Broadcast):
        e = e.value
    return e.value if isinstance(e, ir.FloatImm) else None


def can_represent_int(t: ir.Type, value: int) -> bool:
    """Whether the integer `value` survives conversion to `t` unchanged."""
    if t.is_int() or t.is_uint():
        return t.min_value() <= value <= t.max_value()
    if t.is_float():
        if t.bits() == 64:
            return int(float(value)) == value
        narrow = np.float32 if t.bits() == 32 else np.float16
        with np.errstate(over="ignore"):
            f = narrow(value)
        return bool(np.isfinite(f)) and int(f) == value
    return False


def can_represent_float(t: ir.Type, value: float) -> bool:
    """Whether the float `value` survives conversion to `t` unchanged."""
    if t.is_int() or t.is_uint():
        return (math.isfinite(value) and value == int(value)
                and t.min_value() <= value <= t.max_value())
    if t.is_float():
        if t.bits() == 64 or math.isnan(value):
            return True
        narrow = np.float32 if t.bits() == 32 else np.float16
        with np.errstate(over="ignore"):
            return float(narrow(value)) == value
    return False


def check_representable(t: ir.Type, value: int) -> None:
    """Halide's check that an int literal keeps its value in type `t`."""
    if not can_represent_int(t, value):
        raise CompileError(
            f"Integer constant {value} will be implicitly coerced to type {type_name(t)}, "
            f"which changes its value to {_show(make_const(t.element_of(), value))}.")


def _user_frame_stacklevel() -> int:
    """The `stacklevel` that points a warning at the first frame outside pipelang."""
    pkg = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg + os.sep):
        frame = frame.f_back
        level += 1
    return level


def float_literal(value: float) -> ir.Expr:
    """A Python float as Halide reads it: a float32, warning if that loses precision."""
    value = float(value)
    with np.errstate(over="ignore"):
        f = float(np.float32(value))
    if not (math.isnan(value) or f == value):
        warnings.warn(
            f"The floating-point value {value:.17f} will be interpreted as a float32 by Halide "
            f"and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.",
            RuntimeWarning, stacklevel=_user_frame_stacklevel())
    return ir.FloatImm(ir.Float(32), f)


def int_expr(value: int) -> ir.Expr:
    """A Python int as an Expr: int32 when it fits, else int64."""
    if _INT32_MIN <= value <= _INT32_MAX:
        return ir.IntImm(ir.Int(32), value)
    if _INT64_MIN <= value <= _INT64_MAX:
        return ir.IntImm(ir.Int(64), value)
    raise TypeError(f"The Python int {value} does not fit in 64 bits and cannot be an Expr")


# ---------------------------------------------------------------- Python values to IR

def as_python_number(value):
    """numpy scalars as the Python bool/int/float they hold; anything else unchanged."""
    if isinstance(value, np.generic):
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
    return value


def to_ir(value, like: ir.Type | None = None) -> ir.Expr:
    """The IR for `value`: an expression-like object, or a Python bool, int or float.

    With no `like`, a value becomes IR as when passed to a function taking an
    Expr (`hl.min(x, 3)`): int32 or int64 for ints, bool for bools, float32
    (with Halide's precision warning) for floats.

    With `like`, `value` is read as the operand of a binary operator whose other
    side has type `like`: an int that fits in 32 bits becomes a constant of type
    `like` (a CompileError if that changes its value), and a float becomes a
    float32 constant, cast to `like` when `like` is a float type.
    """
    if isinstance(value, ExprOps):
        return value._to_ir()
    if isinstance(value, ir.Expr):
        return value
    if like is None:
        return _arg_ir(value)
    value = as_python_number(value)
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int) and _INT32_MIN <= value <= _INT32_MAX:
        check_representable(like, value)
        return make_const(like, value)
    e = _arg_ir(value)
    if e.type.is_float() and like.is_float():
        return cast_ir(like, e)
    return e


def _arg_ir(value) -> ir.Expr:
    """A value passed where Halide's bindings take an `Expr` argument."""
    if isinstance(value, ExprOps):
        return value._to_ir()
    if isinstance(value, ir.Expr):
        return value
    value = as_python_number(value)
    if isinstance(value, bool):
        return make_bool(value)
    if isinstance(value, int):
        return int_expr(value)
    if isinstance(value, float):
        return float_literal(value)
    raise TypeError(f"Cannot use a {type(value).__name__} ({value!r}) as a pipelang Expr")


def _operand(value, other: ir.Type):
    """The right-hand side of `expr OP value` (or the left of a reflected op).

    Returns (ir, is_literal): `is_literal` when an int literal was coerced to
    `other`'s type. None for a value no operator accepts.
    """
    if isinstance(value, ExprOps):
        return value._to_ir(), False
    if isinstance(value, ir.Expr):
        return value, False
    value = as_python_number(value)
    if isinstance(value, (bool, int)):
        v = int(value)
        if _INT32_MIN <= v <= _INT32_MAX:
            check_representable(other, v)
            return make_const(other, v), True
        if _INT64_MIN <= v <= _INT64_MAX:
            return ir.IntImm(ir.Int(64), v), False
        # Halide's bindings fall through to the float overload here.
        return float_literal(float(v)), False
    if isinstance(value, float):
        return float_literal(value), False
    return None


# ---------------------------------------------------------------- type matching and casts

def match_lanes(a: ir.Expr, b: ir.Expr):
    """Broadcast a scalar to the other's width; differing vector widths are an error."""
    la, lb = a.type.lanes(), b.type.lanes()
    if la == lb:
        return a, b
    if la == 1:
        return ir.Broadcast(a, lb), b
    if lb == 1:
        return a, ir.Broadcast(b, la)
    raise CompileError("Can't match types of differing widths")


def match_types(a: ir.Expr, b: ir.Expr):
    """Halide's implicit promotion of two operands to one type."""
    if a.type == b.type:
        return a, b
    if a.type.is_handle() or b.type.is_handle():
        raise CompileError("Can't do arithmetic on opaque pointer type")
    a, b = match_lanes(a, b)
    ta, tb = a.type, b.type
    if ta == tb:
        return a, b
    if not ta.is_float() and tb.is_float():
        a = cast_ir(tb, a)
    elif ta.is_float() and not tb.is_float():
        b = cast_ir(ta, b)
    elif ta.is_float() and tb.is_float() or ta.is_uint() and tb.is_uint():
        if ta.bits() > tb.bits():
            b = cast_ir(ta, b)
        else:
            a = cast_ir(tb, a)
    else:
        t = ir.Int(max(ta.bits(), tb.bits()), ta.lanes())
        a, b = cast_ir(t, a), cast_ir(t, b)
    return a, b


def cast_ir(t: ir.Type, e: ir.Expr) -> ir.Expr:
    """Halide's `cast`: constants fold, scalars broadcast to vector types."""
    if e.type == t:
        return e
    if t.is_handle() and not e.type.is_handle():
        raise CompileError(
            f'Can\'t cast "{_show(e)}" to a handle. The only legal cast from scalar types to '
            f'a handle is: reinterpret(Handle(), cast<uint64_t>(x));')
    if e.type.is_vector() and t.lanes() != e.type.lanes():
        raise CompileError("Cast may not change vector widths")
    for getter in (as_const_int, as_const_uint, as_const_float):
        v = getter(e)
        if v is not None:
            return make_const(t, v)
    if t.is_vector():
        if e.type.is_scalar():
            return ir.Broadcast(cast_ir(t.element_of(), e), t.lanes())
        if isinstance(e, ir.Broadcast):
            return ir.Broadcast(cast_ir(t.element_of(), e.value), t.lanes())
    return ir.Cast(t, e)


# ---------------------------------------------------------------- operator cores

def _binop(cls, a, b, reflected: bool = False):
    """`a OP b` where `a` is IR and `b` any operand; reflected means `b OP a`."""
    got = _operand(b, a.type)
    if got is None:
        return NotImplemented
    b, _ = got
    if reflected:
        a, b = b, a
    a, b = match_types(a, b)
    return Expr(cls(a, b))


def _div(a, b, reflected: bool, floor: bool):
    e = _binop(ir.Div, a, b, reflected)
    if e is NotImplemented or not floor or not e.type().is_float():
        return e
    from pipelang.operators import floor as floor_
    return floor_(e)


_BITWISE = {ir.Op.BITWISE_AND: ("bitwise and", ir.And),
            ir.Op.BITWISE_OR: ("bitwise or", ir.Or),
            ir.Op.BITWISE_XOR: ("bitwise xor", ir.NE)}


def _check_integer(e: ir.Expr, which: str, op_name: str) -> None:
    if not (e.type.is_int() or e.type.is_uint()):
        raise CompileError(f"The {which} argument to {op_name} must be an integer or "
                           f"unsigned integer")


def bitwise_ir(op: ir.Op, a: ir.Expr, b: ir.Expr) -> ir.Expr:
    """`a & b`, `a | b`, `a ^ b`: logical on bools, bitwise intrinsics on integers."""
    name, logical = _BITWISE[op]
    _check_integer(a, "first", name)
    _check_integer(b, "second", name)
    if a.type.is_int() != b.type.is_int():
        raise CompileError(
            f"Arguments to {name} must be both be signed or both be unsigned.\n"
            f"LHS type: {type_name(a.type)} RHS type: {type_name(b.type)}\n"
            f"LHS value: {_show(a)} RHS value: {_show(b)}")
    a, b = match_lanes(a, b)
    if a.type.bits() < b.type.bits():
        a = cast_ir(b.type, a)
    elif b.type.bits() < a.type.bits():
        b = cast_ir(a.type, b)
    if a.type.is_bool():
        return logical(a, b)
    return ir.Intrinsic(a.type, op, (a, b))


def _bitwise(op: ir.Op, a: ir.Expr, other, reflected: bool):
    got = _operand(other, a.type)
    if got is None:
        return NotImplemented
    b, is_literal = got
    if is_literal:
        _check_integer(a, "first", _BITWISE[op][0])
    if reflected:
        a, b = b, a
    return Expr(bitwise_ir(op, a, b))


def shift_ir(op: ir.Op, a: ir.Expr, b: ir.Expr) -> ir.Expr:
    """`a << b` / `a >> b` of two Exprs: widths matched, each keeping its signedness."""
    verb = "shift left" if op is ir.Op.SHIFT_LEFT else "shift right"
    _check_integer(a, "first", verb)
    _check_integer(b, "second", verb)
    a, b = match_lanes(a, b)
    if a.type.bits() < b.type.bits():
        a = cast_ir(a.type.with_bits(b.type.bits()), a)
    elif b.type.bits() < a.type.bits():
        b = cast_ir(b.type.with_bits(a.type.bits()), b)
    return ir.Intrinsic(a.type, op, (a, b))


def _shift(op: ir.Op, a: ir.Expr, other, reflected: bool):
    if reflected:
        b = _arg_or_none(other)
        if b is None:
            return NotImplemented
        return Expr(shift_ir(op, b, a))
    v = as_python_number(other)
    if isinstance(v, (bool, int)) and _INT32_MIN <= int(v) <= _INT32_MAX:
        # A literal shift amount is unsigned; a negative one shifts the other way.
        v = int(v)
        if v < 0:
            v = -v
            op = ir.Op.SHIFT_RIGHT if op is ir.Op.SHIFT_LEFT else ir.Op.SHIFT_LEFT
        amount_type = ir.UInt(a.type.bits(), a.type.lanes())
        check_representable(amount_type, v)
        return Expr(shift_ir(op, a, make_const(amount_type, v)))
    got = _operand(other, a.type)
    if got is None:
        return NotImplemented
    return Expr(shift_ir(op, a, got[0]))


def _arg_or_none(value):
    try:
        return _arg_ir(value)
    except TypeError:
        return None


# ---------------------------------------------------------------- the mixin

class ExprOps:
    """Python's operators for any class that defines `_to_ir(self) -> ir.Expr`."""
    __slots__ = ()

    def _to_ir(self) -> ir.Expr:
        raise NotImplementedError

    # An Expr-like is a graph node: hashed by identity, never truth-tested.
    __hash__ = object.__hash__

    def __bool__(self):
        raise ExprTruthError(
            f"The pipelang.Expr ({_show(self._to_ir())}) cannot be converted to a bool. "
            f"If this error occurs using the 'and'/'or' keywords, consider using the '&'/'|' "
            f"operators instead; for a chained comparison such as a < b < c, write "
            f"(a < b) & (b < c); to choose between values, use select().")

    # arithmetic
    def __add__(self, other):
        return _binop(ir.Add, self._to_ir(), other)

    def __radd__(self, other):
        return _binop(ir.Add, self._to_ir(), other, reflected=True)

    def __sub__(self, other):
        return _binop(ir.Sub, self._to_ir(), other)

    def __rsub__(self, other):
        return _binop(ir.Sub, self._to_ir(), other, reflected=True)

    def __mul__(self, other):
        return _binop(ir.Mul, self._to_ir(), other)

    def __rmul__(self, other):
        return _binop(ir.Mul, self._to_ir(), other, reflected=True)

    def __truediv__(self, other):
        return _div(self._to_ir(), other, False, floor=False)

    def __rtruediv__(self, other):
        return _div(self._to_ir(), other, True, floor=False)

    def __floordiv__(self, other):
        return _div(self._to_ir(), other, False, floor=True)

    def __rfloordiv__(self, other):
        return _div(self._to_ir(), other, True, floor=True)

    def __mod__(self, other):
        return _binop(ir.Mod, self._to_ir(), other)

    def __rmod__(self, other):
        return _binop(ir.Mod, self._to_ir(), other, reflected=True)

    def __pow__(self, other):
        from pipelang.operators import pow as pow_
        b = _arg_or_none(other)
        return NotImplemented if b is None else pow_(self, Expr(b))

    def __rpow__(self, other):
        from pipelang.operators import pow as pow_
        a = _arg_or_none(other)
        return NotImplemented if a is None else pow_(Expr(a), self)

    def __neg__(self):
        a = self._to_ir()
        return Expr(ir.Sub(make_zero(a.type), a))

    # comparisons (Python reflects `1 < x` into `x > 1` itself)
    def __lt__(self, other):
        return _binop(ir.LT, self._to_ir(), other)

    def __le__(self, other):
        return _binop(ir.LE, self._to_ir(), other)

    def __gt__(self, other):
        return _binop(ir.GT, self._to_ir(), other)

    def __ge__(self, other):
        return _binop(ir.GE, self._to_ir(), other)

    def __eq__(self, other):
        return _binop(ir.EQ, self._to_ir(), other)

    def __ne__(self, other):
        return _binop(ir.NE, self._to_ir(), other)

    # bitwise (logical on bools)
    def __and__(self, other):
        return _bitwise(ir.Op.BITWISE_AND, self._to_ir(), other, False)

    def __rand__(self, other):
        return _bitwise(ir.Op.BITWISE_AND, self._to_ir(), other, True)

    def __or__(self, other):
        return _bitwise(ir.Op.BITWISE_OR, self._to_ir(), other, False)

    def __ror__(self, other):
        return _bitwise(ir.Op.BITWISE_OR, self._to_ir(), other, True)

    def __xor__(self, other):
        return _bitwise(ir.Op.BITWISE_XOR, self._to_ir(), other, False)

    def __rxor__(self, other):
        return _bitwise(ir.Op.BITWISE_XOR, self._to_ir(), other, True)

    def __invert__(self):
        a = self._to_ir()
        if not (a.type.is_int() or a.type.is_uint()):
            raise CompileError("Argument to bitwise not must be an integer or unsigned integer")
        return Expr(ir.Intrinsic(a.type, ir.Op.BITWISE_NOT, (a,)))

    def __lshift__(self, other):
        return _shift(ir.Op.SHIFT_LEFT, self._to_ir(), other, False)

    def __rlshift__(self, other):
        return _shift(ir.Op.SHIFT_LEFT, self._to_ir(), other, True)

    def __rshift__(self, other):
        return _shift(ir.Op.SHIFT_RIGHT, self._to_ir(), other, False)

    def __rrshift__(self, other):
        return _shift(ir.Op.SHIFT_RIGHT, self._to_ir(), other, True)

    def logical_not(self) -> "Expr":
        from pipelang.operators import logical_not
        return logical_not(self)


# ---------------------------------------------------------------- Expr

_UNDEFINED = object()


def _constructor_ir(value) -> ir.Expr:
    """What `hl.Expr(value)` holds, with the quirks of Halide's constructor overloads."""
    if isinstance(value, str):
        return ir.StringImm(ir.Handle(), value)
    plain = as_python_number(value)
    if value is None or (isinstance(plain, int) and not isinstance(plain, bool)
                         and not _INT64_MIN <= plain <= _INT64_MAX):
        # Halide's bindings fall back on the bool constructor for these.
        return make_bool(bool(plain))
    return _arg_ir(value)


class Expr(ExprOps):
    """An expression: `hl.Expr(5)`, `hl.Expr(2.5)`, `hl.Expr(True)`, `hl.Expr(x)`.

    Internally `Expr(node)` wraps an IR node as it is. `Expr()` is undefined.
    """
    __slots__ = ("_node",)

    def __init__(self, value=_UNDEFINED):
        if value is _UNDEFINED:
            self._node = None
        elif isinstance(value, ir.Expr):
            self._node = value
        elif isinstance(value, Expr):
            self._node = value._node
        else:
            self._node = _constructor_ir(value)

    def _to_ir(self) -> ir.Expr:
        if self._node is None:
            raise CompileError("Cannot use an undefined Expr in an expression")
        return self._node

    def defined(self) -> bool:
        return self._node is not None

    def type(self) -> ir.Type:
        if self._node is None:
            raise CompileError("An undefined Expr has no type")
        return self._node.type

    def __repr__(self) -> str:
        if self._node is None:
            return "<undefined halide.Expr>"
        return f"<halide.Expr of type {_repr_type_name(self._node.type)}: {_show(self._node)}>"

    __str__ = __repr__
