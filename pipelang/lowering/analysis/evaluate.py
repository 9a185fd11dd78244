"""A pure-Python reference interpreter of scalar and vector IR Exprs.

It defines what an Expr means, with Halide's semantics: integer `Div` is
Euclidean (`-7 / 3 == -3`, `7 / -3 == -2`) and `Mod` is always non-negative
(`-7 % 3 == 2`); `x / 0` and `x % 0` are 0; narrow and unsigned integers wrap;
float32 arithmetic rounds to float32; a float-to-int cast truncates toward
zero and then wraps. The simplifier folds constants with the scalar helpers
here, so the two can never disagree.

    >>> x = Symbol("x")
    >>> evaluate_expr(Div(var(x), i32(3)), {x: -7})
    -3

Values: Python `int` for integers, `bool` for `Bool()`, `float` for floats,
and a tuple of lanes for vector types. `env` maps a variable's Symbol to its
value, a buffer's Symbol to something indexable by the flat index (`Load`) and
a Func's Symbol to a callable or an array indexed by the arguments (`Call`).
"""
from __future__ import annotations

import math

import numpy as np

from pipelang.ir import nodes as N
from pipelang.ir.types import Type, TypeCode


def evaluate_expr(expr: N.Expr, env: dict, *, check_overflow: bool = False):
    """The value of `expr` with the free symbols bound by `env`.

    With `check_overflow`, a signed 32- or 64-bit operation whose exact result
    does not fit raises `OverflowError` (Halide assumes those never overflow,
    so expressions that do have no defined value to compare against).

        >>> evaluate_expr(Add(UIntImm(UInt(8), 200), UIntImm(UInt(8), 100)), {})
        44
    """
    lanes = _Evaluator(env, check_overflow).eval(expr)
    return lanes[0] if expr.type.is_scalar() else tuple(lanes)


# ---------------------------------------------------------------- scalar semantics

def wrap(t: Type, value):
    """`value` as a value of the element type of `t`: ints wrap, float32 rounds."""
    if t.is_float():
        if t.bits() == 32:
            return float(np.float32(value))
        return float(value)
    if t.is_bool():
        return bool(value)
    value = int(value)
    bits = t.bits()
    value &= (1 << bits) - 1
    if t.is_int() and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


_INT = TypeCode.INT


def no_overflow(t: Type) -> bool:
    """Whether Halide assumes arithmetic of type `t` never overflows (Int(32), Int(64))."""
    return t._code is _INT and t.nbits >= 32     # (the simplifier asks this per node)


def int_div(a: int, b: int) -> int:
    """Halide's integer division: Euclidean, and 0 when `b` is 0."""
    if b == 0:
        return 0
    return (a - a % abs(b)) // b


def int_mod(a: int, b: int) -> int:
    """Halide's integer modulo: in [0, |b|), and 0 when `b` is 0."""
    if b == 0:
        return 0
    return a % abs(b)


def _float_op(t: Type, fn, *args):
    dtype = np.float32 if t.bits() == 32 else np.float64
    with np.errstate(all="ignore"):
        return float(fn(*(dtype(a) for a in args)))


def _float_mod(a, b):
    return a - b * np.floor(a / b)


_FLOAT_ARITH = {
    N.Add: lambda a, b: a + b,
    N.Sub: lambda a, b: a - b,
    N.Mul: lambda a, b: a * b,
    N.Div: lambda a, b: a / b,
    N.Mod: _float_mod,
    N.Min: np.minimum,
    N.Max: np.maximum,
}

_INT_ARITH = {
    N.Add: lambda a, b: a + b,
    N.Sub: lambda a, b: a - b,
    N.Mul: lambda a, b: a * b,
    N.Div: int_div,
    N.Mod: int_mod,
    N.Min: min,
    N.Max: max,
}

_COMPARE = {
    N.EQ: lambda a, b: a == b,
    N.NE: lambda a, b: a != b,
    N.LT: lambda a, b: a < b,
    N.LE: lambda a, b: a <= b,
    N.GT: lambda a, b: a > b,
    N.GE: lambda a, b: a >= b,
}


def fold_binary(cls, t: Type, a, b, *, check_overflow: bool = False):
    """`a cls b` for two scalar values of element type `t` (an arithmetic node class)."""
    if t.is_float():
        return wrap(t, _float_op(t, _FLOAT_ARITH[cls], a, b))
    exact = _INT_ARITH[cls](int(a), int(b))
    if check_overflow and no_overflow(t) and exact != wrap(t, exact):
        raise OverflowError(f"{cls.__name__} of {t} overflows: {a}, {b}")
    return wrap(t, exact)


def fold_compare(cls, a, b) -> bool:
    return bool(_COMPARE[cls](a, b))


def fold_cast(to: Type, frm: Type, value):
    """Cast a scalar `value` of type `frm` to `to`."""
    if to.is_bool():
        # As in Halide (a Bool is a 1-bit UInt): the low bit of the value,
        # truncated toward zero first when it is a float. 2 and 2.0 are false.
        if frm.is_float():
            return bool(math.trunc(value) & 1) if math.isfinite(value) else False
        return bool(int(value) & 1)
    if to.is_float():
        return wrap(to, float(value) if not frm.is_float() else value)
    if frm.is_float():
        if not math.isfinite(value):
            return 0    # undefined in Halide; pick something deterministic
        return wrap(to, math.trunc(value))
    return wrap(to, int(value))


def is_lossless_cast(outer: Type, inner: Type) -> bool:
    """Whether every value of `inner` is exactly representable in `outer`."""
    if inner.is_bool():
        return True
    if outer.is_float():
        if inner.is_float():
            return outer.bits() >= inner.bits()
        return inner.bits() < (24 if outer.bits() == 32 else 53)
    if inner.is_float():
        return False
    if outer.is_int():
        return outer.bits() >= inner.bits() + (1 if inner.is_uint() else 0)
    return inner.is_uint() and outer.bits() >= inner.bits()


# ---------------------------------------------------------------- the interpreter

class _Evaluator:
    """Evaluates every node to a list of lane values."""

    def __init__(self, env: dict, check_overflow: bool):
        self.env = dict(env)
        self.check = check_overflow

    def eval(self, e: N.Expr) -> list:
        method = getattr(self, "eval_" + type(e).__name__, None)
        if method is None:
            raise TypeError(f"evaluate_expr: cannot evaluate {type(e).__name__}")
        return method(e)

    # -- leaves
    def eval_IntImm(self, e):
        return [e.value]

    eval_UIntImm = eval_IntImm

    def eval_FloatImm(self, e):
        return [wrap(e.type, e.value)]

    def eval_StringImm(self, e):
        return [e.value]

    def eval_Variable(self, e):
        if e.sym not in self.env:
            raise KeyError(f"evaluate_expr: no value for {e.sym.name}")
        v = self.env[e.sym]
        lanes = list(v) if isinstance(v, (tuple, list, np.ndarray)) else [v]
        if len(lanes) == 1 and e.type.lanes() > 1:
            lanes = lanes * e.type.lanes()
        return [wrap(e.type, x) for x in lanes]

    # -- arithmetic
    def _arith(self, e):
        t = e.type
        return [fold_binary(type(e), t, a, b, check_overflow=self.check)
                for a, b in zip(self.eval(e.a), self.eval(e.b))]

    eval_Add = eval_Sub = eval_Mul = eval_Div = eval_Mod = eval_Min = eval_Max = _arith

    def _compare(self, e):
        return [fold_compare(type(e), a, b) for a, b in zip(self.eval(e.a), self.eval(e.b))]

    eval_EQ = eval_NE = eval_LT = eval_LE = eval_GT = eval_GE = _compare

    def eval_And(self, e):
        return [bool(a and b) for a, b in zip(self.eval(e.a), self.eval(e.b))]

    def eval_Or(self, e):
        return [bool(a or b) for a, b in zip(self.eval(e.a), self.eval(e.b))]

    def eval_Not(self, e):
        return [not a for a in self.eval(e.a)]

    def eval_Select(self, e):
        c = self.eval(e.condition)
        t = self.eval(e.true_value)
        f = self.eval(e.false_value)
        if len(c) == 1:
            c = c * len(t)
        return [x if cc else y for cc, x, y in zip(c, t, f)]

    def eval_Cast(self, e):
        frm = e.value.type
        return [fold_cast(e.type, frm, v) for v in self.eval(e.value)]

    # -- vectors
    def eval_Ramp(self, e):
        t = e.base.type
        base = self.eval(e.base)[0]
        stride = self.eval(e.stride)[0]
        out = []
        v = base
        for _ in range(e.lanes):
            out.append(v)
            v = fold_binary(N.Add, t, v, stride)
        return out

    def eval_Broadcast(self, e):
        return self.eval(e.value) * e.lanes

    def eval_Shuffle(self, e):
        concat = []
        for v in e.vectors:
            concat.extend(self.eval(v))
        return [concat[i] for i in e.indices]

    # -- memory and calls
    def eval_Load(self, e):
        buf = self.env[e.buf]
        return [wrap(e.type, buf[i]) for i in self.eval(e.index)]

    def eval_Call(self, e):
        fn = self.env[e.fn]
        args = [self.eval(a)[0] for a in e.args]
        v = fn(*args) if callable(fn) else fn[tuple(args)]
        return [wrap(e.type, v)]

    def eval_Let(self, e):
        value = self.eval(e.value)
        saved = self.env.get(e.sym, _MISSING)
        self.env[e.sym] = tuple(value) if e.value.type.is_vector() else value[0]
        try:
            return self.eval(e.body)
        finally:
            if saved is _MISSING:
                del self.env[e.sym]
            else:
                self.env[e.sym] = saved

    def eval_Intrinsic(self, e):
        args = [self.eval(a) for a in e.args]
        n = e.type.lanes()
        args = [a * n if len(a) == 1 and n > 1 else a for a in args]
        arg_types = [a.type.element_of() for a in e.args]
        t = e.type.element_of()
        return [fold_intrinsic(e.op, t, arg_types, [a[i] for a in args]) for i in range(n)]


_MISSING = object()


def _shift(t: Type, a: int, b: int, left: bool) -> int:
    if b < 0:
        left, b = not left, -b
    return wrap(t, a << b if left else a >> b)


def _count_leading_zeros(t: Type, a: int) -> int:
    bits = t.bits()
    a &= (1 << bits) - 1
    return bits - a.bit_length()


def _count_trailing_zeros(t: Type, a: int) -> int:
    bits = t.bits()
    a &= (1 << bits) - 1
    return bits if a == 0 else (a & -a).bit_length() - 1


_FLOAT_MATH = {
    N.Op.SQRT: np.sqrt, N.Op.EXP: np.exp, N.Op.LOG: np.log, N.Op.POW: np.power,
    N.Op.SIN: np.sin, N.Op.COS: np.cos, N.Op.TAN: np.tan, N.Op.ASIN: np.arcsin,
    N.Op.ACOS: np.arccos, N.Op.ATAN: np.arctan, N.Op.ATAN2: np.arctan2,
    N.Op.SINH: np.sinh, N.Op.COSH: np.cosh, N.Op.TANH: np.tanh,
    N.Op.ASINH: np.arcsinh, N.Op.ACOSH: np.arccosh, N.Op.ATANH: np.arctanh,
    N.Op.FLOOR: np.floor, N.Op.CEIL: np.ceil, N.Op.ROUND: np.rint, N.Op.TRUNC: np.trunc,
}


def fold_intrinsic(op: N.Op, t: Type, arg_types: list, args: list):
    """One lane of an intrinsic: `t` is the result's element type."""
    Op = N.Op
    if op is Op.LIKELY or op is Op.STRICT_FLOAT:
        return args[0]
    if op in _FLOAT_MATH:
        return wrap(t, _float_op(t, _FLOAT_MATH[op], *args))
    if op is Op.IS_NAN:
        return math.isnan(args[0])
    if op is Op.IS_INF:
        return math.isinf(args[0])
    if op is Op.IS_FINITE:
        return math.isfinite(args[0])
    if op is Op.ABS:
        if arg_types[0].is_float():
            return wrap(t, abs(args[0]))
        return wrap(t, abs(args[0]))
    if op is Op.ABSD:
        if arg_types[0].is_float():
            return wrap(t, _float_op(t, lambda a, b: abs(a - b), *args))
        return wrap(t, abs(args[0] - args[1]))
    if op is Op.BITWISE_AND:
        return wrap(t, int(args[0]) & int(args[1]))
    if op is Op.BITWISE_OR:
        return wrap(t, int(args[0]) | int(args[1]))
    if op is Op.BITWISE_XOR:
        return wrap(t, int(args[0]) ^ int(args[1]))
    if op is Op.BITWISE_NOT:
        return wrap(t, ~int(args[0]))
    if op is Op.SHIFT_LEFT:
        return _shift(t, int(args[0]), int(args[1]), left=True)
    if op is Op.SHIFT_RIGHT:
        return _shift(t, int(args[0]), int(args[1]), left=False)
    if op is Op.POPCOUNT:
        return wrap(t, bin(int(args[0]) & ((1 << arg_types[0].bits()) - 1)).count("1"))
    if op is Op.COUNT_LEADING_ZEROS:
        return wrap(t, _count_leading_zeros(arg_types[0], int(args[0])))
    if op is Op.COUNT_TRAILING_ZEROS:
        return wrap(t, _count_trailing_zeros(arg_types[0], int(args[0])))
    if op is Op.REINTERPRET:
        src = np.array([args[0]], dtype=arg_types[0].numpy_dtype())
        out = src.view(t.numpy_dtype())[0]
        return wrap(t, out.item())
    raise TypeError(f"evaluate_expr: cannot evaluate intrinsic {op.value}")
