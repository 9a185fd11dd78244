"""Expression typing and printing, checked against values taken from Halide 21.

Every expected type, printed form, error message and warning below was
obtained by running the same source with `import halide as hl` (Halide 21's
Python bindings). These tests use only pipelang.

The printed forms follow Halide's IR printer: calls carry their type
(`(float32)sqrt_f32(...)`), bool is `uint1`, and call arguments lose their
outer parentheses (`select(x < 1, ...)`).
"""
from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

from pipelang import ir
from pipelang import operators
from pipelang.errors import CompileError
from pipelang.expr import Expr, ExprOps, ExprTruthError, to_ir


class _Var(ExprOps):
    """A stand-in for `hl.Var`: an int32 variable."""

    def __init__(self, name: str):
        self._sym = ir.Symbol(name)

    def _to_ir(self) -> ir.Expr:
        return ir.Variable(ir.Int(32), self._sym)


hl = types.SimpleNamespace(**{n: getattr(operators, n) for n in operators.__all__})
hl.Expr = Expr
hl.Int, hl.UInt, hl.Float, hl.Bool, hl.Handle = ir.Int, ir.UInt, ir.Float, ir.Bool, ir.Handle


def build(src: str):
    """Evaluate `src` as Halide test code, returning (result, RuntimeWarning messages)."""
    env = {"hl": hl, "np": np, "x": _Var("x"), "y": _Var("y")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = eval(src, env)
    return result, [str(w.message) for w in caught if w.category is RuntimeWarning]


def printed(e: Expr) -> str:
    prefix = f"<halide.Expr of type {e.type()}: "
    text = repr(e)
    assert text.startswith(prefix) and text.endswith(">"), text
    return text[len(prefix):-1]


VALUES = [
    # literals and the Expr constructor
    ('hl.Expr(5)', 'int32', '5'),
    ('hl.Expr(-5)', 'int32', '-5'),
    ('hl.Expr(2.5)', 'float32', '2.500000f'),
    ('hl.Expr(True)', 'bool', '(uint1)1'),
    ('hl.Expr(False)', 'bool', '(uint1)0'),
    ('hl.Expr(2**31)', 'int64', '(int64)2147483648'),
    ('hl.Expr(-2**31)', 'int32', '-2147483648'),
    ('hl.Expr(2**40)', 'int64', '(int64)1099511627776'),
    ('hl.Expr(-2**63)', 'int64', '(int64)-9223372036854775808'),
    ('hl.Expr(2**63)', 'bool', '(uint1)1'),
    ('hl.Expr(x)', 'int32', 'x'),
    ("hl.Expr(float('inf'))", 'float32', 'inff'),
    ("hl.Expr(-float('inf'))", 'float32', '-inff'),
    ("hl.Expr(float('nan'))", 'float32', 'nanf'),
    ('hl.Expr(-0.0)', 'float32', '-0.000000f'),
    ('hl.Expr(1e-10)', 'float32', '1.000000e-10f'),
    ('hl.Expr(1.5e-6)', 'float32', '0.000002f'),
    ('hl.Expr(np.int64(3))', 'int32', '3'),
    ('hl.Expr(np.bool_(True))', 'bool', '(uint1)1'),
    # Python int literals take the Expr's type, if that keeps their value
    ('x + 1', 'int32', '(x + 1)'),
    ('1 + x', 'int32', '(1 + x)'),
    ('2 - x', 'int32', '(2 - x)'),
    ('x - 1', 'int32', '(x - 1)'),
    ('x * 2', 'int32', '(x*2)'),
    ('x - -1', 'int32', '(x - -1)'),
    ('hl.u8(x) + 3', 'uint8', '(uint8(x) + (uint8)3)'),
    ('hl.u8(x) + 255', 'uint8', '(uint8(x) + (uint8)255)'),
    ('hl.u8(x) + True', 'uint8', '(uint8(x) + (uint8)1)'),
    ('x + True', 'int32', '(x + 1)'),
    ('(x < 1) + 1', 'bool', '((x < 1) + (uint1)1)'),
    ('hl.f32(x) + 1', 'float32', '(float32(x) + 1.000000f)'),
    ('hl.f64(x) + 1', 'float64', '(float64(x) + 1.000000)'),
    ('hl.f32(x) + 2**40', 'float32', '(float32(x) + 1099511627776.000000f)'),
    ('hl.cast(hl.Float(16), x) + 1', 'float16', '(float16(x) + 1.000000h)'),
    # ints beyond 32 bits are int64 Exprs; beyond 64 bits, floats
    ('x + 2**31', 'int64', '(int64(x) + (int64)2147483648)'),
    ('x + 2**40', 'int64', '(int64(x) + (int64)1099511627776)'),
    ('hl.u32(x) + 2**31', 'int64', '(int64(uint32(x)) + (int64)2147483648)'),
    ('hl.i64(x) + 2**40', 'int64', '(int64(x) + (int64)1099511627776)'),
    ('hl.u64(x) + 2**63', 'float32', '(float32(uint64(x)) + 9223372036854775808.000000f)'),
    ('x + 2**64', 'float32', '(float32(x) + 18446744073709551616.000000f)'),
    # Python floats are float32 literals
    ('x + 2.5', 'float32', '(float32(x) + 2.500000f)'),
    ('1.5 * x', 'float32', '(1.500000f*float32(x))'),
    ('hl.u8(x) + 2.5', 'float32', '(float32(uint8(x)) + 2.500000f)'),
    ('hl.f64(x) * 0.5', 'float64', '(float64(x)*0.500000)'),
    ('hl.f64(x) + 0.1', 'float64', '(float64(x) + 0.100000)'),
    ('0.1 + hl.f64(x)', 'float64', '(0.100000 + float64(x))'),
    ('hl.cast(hl.Float(16), x) + 0.1', 'float32', '(float32(float16(x)) + 0.100000f)'),
    # numpy scalars act as the Python numbers they hold
    ('x + np.int32(3)', 'int32', '(x + 3)'),
    ('x + np.int64(2**40)', 'int64', '(int64(x) + (int64)1099511627776)'),
    ('x + np.uint8(3)', 'int32', '(x + 3)'),
    ('x + np.float32(2.5)', 'float32', '(float32(x) + 2.500000f)'),
    ('x + np.float64(0.1)', 'float32', '(float32(x) + 0.100000f)'),
    ('x + np.bool_(True)', 'int32', '(x + 1)'),
    ('np.int32(3) + x', 'int32', '(3 + x)'),
    # Expr with Expr: Halide's match_types
    ('hl.u8(x) + hl.u8(y)', 'uint8', '(uint8(x) + uint8(y))'),
    ('hl.u8(x) + hl.i16(y)', 'int16', '(int16(uint8(x)) + int16(y))'),
    ('hl.i8(x) + hl.u8(y)', 'int8', '(int8(x) + int8(uint8(y)))'),
    ('hl.u32(x) + hl.i32(y)', 'int32', '(int32(uint32(x)) + y)'),
    ('hl.u8(x) + hl.f32(y)', 'float32', '(float32(uint8(x)) + float32(y))'),
    ('hl.f32(x) + hl.f64(y)', 'float64', '(float64(float32(x)) + float64(y))'),
    ('hl.i64(x) + hl.f32(y)', 'float32', '(float32(int64(x)) + float32(y))'),
    ('hl.cast(hl.Float(16), x) + hl.f32(x)', 'float32', '(float32(float16(x)) + float32(x))'),
    ('(x < 1) + (y < 1)', 'bool', '((x < 1) + (y < 1))'),
    ('(x < 1) + hl.u8(y)', 'uint8', '(uint8(x < 1) + uint8(y))'),
    ('hl.u8(y) + (x < 1)', 'uint8', '(uint8(y) + uint8(x < 1))'),
    ('(x < 1) + x', 'int32', '(int32(x < 1) + x)'),
    # vectors: scalars broadcast, widths must agree
    ('hl.cast(hl.Int(32, 4), x)', 'int32x4', 'x4(x)'),
    ('hl.cast(hl.Int(32, 4), x) + 1', 'int32x4', '(x4(x) + x4(1))'),
    ('hl.cast(hl.Int(32, 4), x) + y', 'int32x4', '(x4(x) + x4(y))'),
    ('y + hl.cast(hl.Int(32, 4), x)', 'int32x4', '(x4(y) + x4(x))'),
    ('hl.cast(hl.UInt(8, 4), x) + hl.f32(x)', 'float32x4', '(x4(float32(uint8(x))) + x4(float32(x)))'),
    ('hl.cast(hl.Int(32, 4), x) < 1', 'boolx4', '(x4(x) < x4(1))'),
    ('-hl.cast(hl.Int(32, 4), x)', 'int32x4', '(x4(0) - x4(x))'),
    # division, modulo, floor division
    ('x / 2', 'int32', '(x/2)'),
    ('x // 2', 'int32', '(x/2)'),
    ('x / y', 'int32', '(x/y)'),
    ('2 / x', 'int32', '(2/x)'),
    ('x / 0', 'int32', '(x/0)'),
    ('hl.u8(x) / 2', 'uint8', '(uint8(x)/(uint8)2)'),
    ('x % 3', 'int32', '(x % 3)'),
    ('3 % x', 'int32', '(3 % x)'),
    ('x / 2.0', 'float32', '(float32(x)/2.000000f)'),
    ('hl.f32(x) / 2', 'float32', '(float32(x)/2.000000f)'),
    ('hl.f32(x) % 2', 'float32', '(float32(x) % 2.000000f)'),
    # powers
    ('x ** 2', 'int32', '(x*x)'),
    ('x ** 3', 'int32', '((x*x)*x)'),
    ('x ** 4', 'int32', '((x*x)*(x*x))'),
    ('x ** 5', 'int32', '(((x*x)*(x*x))*x)'),
    ('x ** 6', 'int32', '(((x*x)*x)*((x*x)*x))'),
    ('x ** 0', 'int32', '1'),
    ('x ** 1', 'int32', 'x'),
    ('x ** -1', 'int32', '(1/x)'),
    ('x ** -2', 'int32', '(1/(x*x))'),
    ('hl.f32(x) ** 2', 'float32', '(float32(x)*float32(x))'),
    ('hl.u8(x) ** 2', 'uint8', '(uint8(x)*uint8(x))'),
    ('x ** 0.5', 'float32', '(float32)pow_f32(float32(x), 0.500000f)'),
    ('x ** 2.0', 'float32', '(float32)pow_f32(float32(x), 2.000000f)'),
    ('x ** y', 'float32', '(float32)pow_f32(float32(x), float32(y))'),
    ('2 ** x', 'float32', '(float32)pow_f32(2.000000f, float32(x))'),
    ('hl.f64(x) ** 0.5', 'float64', '(float64)pow_f64(float64(x), 0.500000)'),
    ('x ** True', 'float32', '(float32)pow_f32(float32(x), 1.000000f)'),
    # comparisons give bools
    ('x < y', 'bool', '(x < y)'),
    ('x < 1', 'bool', '(x < 1)'),
    ('1 < x', 'bool', '(x > 1)'),
    ('x <= 1', 'bool', '(x <= 1)'),
    ('x > 1', 'bool', '(x > 1)'),
    ('x >= 1', 'bool', '(x >= 1)'),
    ('x == y', 'bool', '(x == y)'),
    ('x != y', 'bool', '(x != y)'),
    ('1 == x', 'bool', '(x == 1)'),
    ('x == 1.5', 'bool', '(float32(x) == 1.500000f)'),
    ('hl.cast(hl.Int(32, 4), x) < 1', 'boolx4', '(x4(x) < x4(1))'),
    # & | ^ ~ : logical on bools, bitwise on integers
    ('(x < 1) & (y < 1)', 'bool', '((x < 1) && (y < 1))'),
    ('(x < 1) | (y < 1)', 'bool', '((x < 1) || (y < 1))'),
    ('(x < 1) ^ (y < 1)', 'bool', '((x < 1) != (y < 1))'),
    ('(x < 1) & True', 'bool', '((x < 1) && (uint1)1)'),
    ('True & (x < 1)', 'bool', '((uint1)1 && (x < 1))'),
    ('(x < 1) & 1', 'bool', '((x < 1) && (uint1)1)'),
    ('hl.logical_not((x < 1) & (y < 2))', 'bool', '!((x < 1) && (y < 2))'),
    # negation
    ('-x', 'int32', '(0 - x)'),
    ('-(x + 1)', 'int32', '(0 - (x + 1))'),
    ('-hl.u8(x)', 'uint8', '((uint8)0 - uint8(x))'),
    ('-hl.f32(x)', 'float32', '(0.000000f - float32(x))'),
    ('-(x < 1)', 'bool', '((uint1)0 - (x < 1))'),
    # logical_not
    ('hl.logical_not(x < 1)', 'bool', '!(x < 1)'),
    ('(x < 1).logical_not()', 'bool', '!(x < 1)'),
    ('hl.logical_not(hl.logical_not(x < 1))', 'bool', '!!(x < 1)'),
    # casts fold constants
    ('hl.cast(hl.UInt(8), 300)', 'uint8', '(uint8)44'),
    ('hl.cast(hl.UInt(8), -1)', 'uint8', '(uint8)255'),
    ('hl.cast(hl.Int(8), 200)', 'int8', '(int8)-56'),
    ('hl.cast(hl.Bool(), 2)', 'bool', '(uint1)0'),
    ('hl.cast(hl.Bool(), 0)', 'bool', '(uint1)0'),
    ('hl.cast(hl.Int(32), 2.5)', 'int32', '2'),
    ('hl.cast(hl.UInt(8), 300.5)', 'uint8', '(uint8)44'),
    ('hl.cast(hl.Float(32), 3)', 'float32', '3.000000f'),
    ('hl.cast(hl.Float(64), 0.5)', 'float64', '0.500000'),
    ('hl.cast(hl.UInt(8), True)', 'uint8', '(uint8)1'),
    ('hl.cast(hl.UInt(64), -1)', 'uint64', '(uint64)18446744073709551615'),
    ('hl.cast(hl.Int(64), 2**40)', 'int64', '(int64)1099511627776'),
    ('hl.cast(hl.Int(32), x)', 'int32', 'x'),
    ('hl.cast(hl.Int(32), x < 1)', 'int32', 'int32(x < 1)'),
    ('hl.cast(hl.UInt(8), hl.cast(hl.UInt(16), x))', 'uint8', 'uint8(uint16(x))'),
    ('hl.cast(hl.Float(16), x)', 'float16', 'float16(x)'),
    ('hl.u8(300)', 'uint8', '(uint8)44'),
    ('hl.u8(-1)', 'uint8', '(uint8)255'),
    ('hl.u8(x)', 'uint8', 'uint8(x)'),
    ('hl.i32(2.5)', 'int32', '2'),
    ('hl.i32(2**40)', 'int32', '0'),
    ('hl.f32(0.1)', 'float32', '0.100000f'),
    ('hl.f64(0.1)', 'float64', '0.100000'),
    ('hl.f64(2**70)', 'float64', '1180591620717411303424.000000'),
    ('hl.u64(2**64 - 1)', 'uint64', '(uint64)18446744073709551615'),
    ('hl.i64(x)', 'int64', 'int64(x)'),
    ('hl.u16(x)', 'uint16', 'uint16(x)'),
    ('hl.f64(x + 0.5)', 'float64', 'float64(float32(x) + 0.500000f)'),
    # select
    ('hl.select(x < 1, x, y)', 'int32', 'select(x < 1, x, y)'),
    ('hl.select(x < 1, 1, 2)', 'int32', 'select(x < 1, 1, 2)'),
    ('hl.select(x < 1, hl.u8(x), 2)', 'uint8', 'select(x < 1, uint8(x), (uint8)2)'),
    ('hl.select(x < 1, 2, hl.u8(x))', 'uint8', 'select(x < 1, (uint8)2, uint8(x))'),
    ('hl.select(x < 1, hl.u8(x), 300)', 'uint8', 'select(x < 1, uint8(x), (uint8)44)'),
    ('hl.select(x < 1, hl.f32(x), 1)', 'float32', 'select(x < 1, float32(x), 1.000000f)'),
    ('hl.select(x < 1, 1.5, 2.5)', 'float32', 'select(x < 1, 1.500000f, 2.500000f)'),
    ('hl.select(x < 1, True, False)', 'bool', 'select(x < 1, (uint1)1, (uint1)0)'),
    ('hl.select(x < 1, x, 2**40)', 'int32', 'select(x < 1, x, 0)'),
    ('hl.select(1, x, y)', 'int32', 'select((uint1)1, x, y)'),
    ('hl.select(2, x, y)', 'int32', 'select((uint1)0, x, y)'),
    ('hl.select(x < 1, hl.cast(hl.Int(32, 4), x), 1)', 'int32x4', 'select(x4(x < 1), x4(x), x4(1))'),
    ('hl.select(x < 1, 1, x < 2, 2, 3)', 'int32', 'select(x < 1, 1, select(x < 2, 2, 3))'),
    ('hl.select((x < 1) & (y < 2), x + 1, y - 1) * 2', 'int32', '(select((x < 1) && (y < 2), x + 1, y - 1)*2)'),
    # min, max: Exprs in, Halide's type matching
    ('hl.min(x, y)', 'int32', 'min(x, y)'),
    ('hl.min(x, 3)', 'int32', 'min(x, 3)'),
    ('hl.min(3, x)', 'int32', 'min(3, x)'),
    ('hl.min(hl.u8(x), 300)', 'int32', 'min(int32(uint8(x)), 300)'),
    ('hl.min(hl.u8(x), hl.i16(y))', 'int16', 'min(int16(uint8(x)), int16(y))'),
    ('hl.min(x, 2.5)', 'float32', 'min(float32(x), 2.500000f)'),
    ('hl.max(x, 1.5)', 'float32', 'max(float32(x), 1.500000f)'),
    ('hl.min(x, y, 3)', 'int32', 'min(x, min(y, 3))'),
    ('hl.max(x, y, 3, 4)', 'int32', 'max(x, max(y, max(3, 4)))'),
    ('hl.min(x, True)', 'int32', 'min(x, 1)'),
    ('hl.min(x, 2**40)', 'int64', 'min(int64(x), (int64)1099511627776)'),
    ('hl.min(x + 1, y * 2)', 'int32', 'min(x + 1, y*2)'),
    ('hl.max(hl.min(x + 1, y), 0) + 1', 'int32', '(max(min(x + 1, y), 0) + 1)'),
    # clamp casts its bounds to the value's type when nothing is lost
    ('hl.clamp(x, 0, 10)', 'int32', 'max(min(x, 10), 0)'),
    ('hl.clamp(hl.u8(x), 0, 255)', 'uint8', 'max(min(uint8(x), (uint8)255), (uint8)0)'),
    ('hl.clamp(hl.f32(x), 0, 1)', 'float32', 'max(min(float32(x), 1.000000f), 0.000000f)'),
    ('hl.clamp(hl.f32(x), 0.5, 1.5)', 'float32', 'max(min(float32(x), 1.500000f), 0.500000f)'),
    ('hl.clamp(hl.f64(x), x, 1)', 'float64', 'max(min(float64(x), 1.000000), float64(x))'),
    ('hl.clamp(x, hl.u8(y), 10)', 'int32', 'max(min(x, 10), int32(uint8(y)))'),
    ('hl.clamp(hl.u8(x), hl.i32(hl.u8(y)), 10)', 'uint8', 'max(min(uint8(x), (uint8)10), uint8(y))'),
    ('hl.clamp(hl.u8(x), 2.0, 10)', 'uint8', 'max(min(uint8(x), (uint8)10), (uint8)2)'),
    ('hl.clamp(hl.i16(x), hl.u8(y), 10)', 'int16', 'max(min(int16(x), (int16)10), int16(uint8(y)))'),
    ('hl.clamp(x, 0, hl.i64(y))', 'int32', 'max(min(x, y), 0)'),
    ('hl.clamp(x, 0, 3.0)', 'int32', 'max(min(x, 3), 0)'),
    ('hl.clamp(hl.u8(x), hl.u8(y), hl.u8(y) + 1)', 'uint8', 'max(min(uint8(x), uint8(y) + (uint8)1), uint8(y))'),
    # abs, absd
    ('hl.abs(hl.f32(x))', 'float32', '(float32)abs(float32(x))'),
    ('hl.abs(hl.f64(x))', 'float64', '(float64)abs(float64(x))'),
    ('hl.abs(hl.u8(x))', 'uint8', 'uint8(x)'),
    ('hl.abs(x < 1)', 'bool', '(x < 1)'),
    ('hl.absd(hl.f32(x), 1)', 'float32', '(float32)abs(float32(x) - 1.000000f)'),
    ('hl.absd(x, 1.5)', 'float32', '(float32)abs(float32(x) - 1.500000f)'),
    # float math, lerp, is_nan, errors
    ('hl.fract(hl.f32(x))', 'float32', '(float32(x) - (float32)trunc_f32(float32(x)))'),
    ('hl.fract(x)', 'float32', '(float32(x) - (float32)trunc_f32(float32(x)))'),
    ('hl.fract(hl.f64(x))', 'float64', '(float64(x) - (float64)trunc_f64(float64(x)))'),
    ('hl.fract(2.5)', 'float32', '(2.500000f - (float32)trunc_f32(2.500000f))'),
    ('hl.pow(x, 2)', 'int32', '(x*x)'),
    ('hl.pow(hl.f32(x), -2)', 'float32', '(1.000000f/(float32(x)*float32(x)))'),
    ('hl.pow(hl.f32(x), 3)', 'float32', '((float32(x)*float32(x))*float32(x))'),
    ('hl.pow(2.0, 3)', 'float32', '((2.000000f*2.000000f)*2.000000f)'),
    ('hl.mux(x, [y])', 'int32', 'y'),
    # bitwise ops and shifts are intrinsics; a literal shift amount is unsigned
    ('x & 3', 'int32', 'bitwise_and(x, 3)'),
    ('x | 3', 'int32', 'bitwise_or(x, 3)'),
    ('x ^ 3', 'int32', 'bitwise_xor(x, 3)'),
    ('3 & x', 'int32', 'bitwise_and(3, x)'),
    ('x & y', 'int32', 'bitwise_and(x, y)'),
    ('x & -1', 'int32', 'bitwise_and(x, -1)'),
    ('x & 2**40', 'int64', '(int64)bitwise_and(int64(x), (int64)1099511627776)'),
    ('hl.i8(x) ^ x', 'int32', 'bitwise_xor(int32(int8(x)), x)'),
    ('~x', 'int32', 'bitwise_not(x)'),
    ('~hl.u8(x)', 'uint8', '(uint8)bitwise_not(uint8(x))'),
    ('~(x < 1)', 'bool', '(uint1)bitwise_not(x < 1)'),
    ('hl.u8(x) & 3', 'uint8', '(uint8)bitwise_and(uint8(x), (uint8)3)'),
    ('hl.u8(x) & hl.u16(y)', 'uint16', '(uint16)bitwise_and(uint16(uint8(x)), uint16(y))'),
    ('(x < 1) & hl.u8(x)', 'uint8', '(uint8)bitwise_and(uint8(x < 1), uint8(x))'),
    ('hl.u8(x) & (x < 1)', 'uint8', '(uint8)bitwise_and(uint8(x), uint8(x < 1))'),
    ('(x < 1) ^ hl.u8(x)', 'uint8', '(uint8)bitwise_xor(uint8(x < 1), uint8(x))'),
    ('hl.cast(hl.Int(32, 4), x) & 1', 'int32x4', '(int32x4)bitwise_and(x4(x), x4(1))'),
    ('x << 2', 'int32', 'shift_left(x, (uint32)2)'),
    ('x >> 2', 'int32', 'shift_right(x, (uint32)2)'),
    ('x << y', 'int32', 'shift_left(x, y)'),
    ('2 << x', 'int32', 'shift_left(2, x)'),
    ('hl.u8(x) << 2', 'uint8', '(uint8)shift_left(uint8(x), (uint8)2)'),
    ('hl.u8(x) << y', 'uint32', '(uint32)shift_left(uint32(uint8(x)), y)'),
    ('x << hl.u8(y)', 'int32', 'shift_left(x, uint32(uint8(y)))'),
    ('hl.u8(x) << hl.u16(y)', 'uint16', '(uint16)shift_left(uint16(uint8(x)), uint16(y))'),
    ('hl.i8(x) << hl.u16(y)', 'int16', '(int16)shift_left(int16(int8(x)), uint16(y))'),
    ('x << -1', 'int32', 'shift_right(x, (uint32)1)'),
    ('hl.u8(x) << -1', 'uint8', '(uint8)shift_right(uint8(x), (uint8)1)'),
    ('x >> -3', 'int32', 'shift_left(x, (uint32)3)'),
    ('x << 40', 'int32', 'shift_left(x, (uint32)40)'),
    ('hl.i8(x) << 200', 'int8', '(int8)shift_left(int8(x), (uint8)200)'),
    ('2 << hl.u8(x)', 'int32', 'shift_left(2, uint32(uint8(x)))'),
    ('(x < 1) << 1', 'bool', '(uint1)shift_left(x < 1, (uint1)1)'),
    ('x << (x < 1)', 'int32', 'shift_left(x, uint32(x < 1))'),
    ('x << 2**31', 'int64', '(int64)shift_left(int64(x), (int64)2147483648)'),
    ('x << hl.u64(y)', 'int64', '(int64)shift_left(int64(x), uint64(y))'),
    ('hl.u64(x) << y', 'uint64', '(uint64)shift_left(uint64(x), int64(y))'),
    ('hl.i64(x) >> hl.u8(y)', 'int64', '(int64)shift_right(int64(x), uint64(uint8(y)))'),
    ('hl.cast(hl.Int(32, 4), x) << 1', 'int32x4', '(int32x4)shift_left(x4(x), x4((uint32)1))'),
    ('y << hl.cast(hl.Int(32, 4), x)', 'int32x4', '(int32x4)shift_left(x4(y), x4(x))'),
    # math functions are calls; non-float arguments become float32
    ('hl.sqrt(x)', 'float32', '(float32)sqrt_f32(float32(x))'),
    ('hl.sqrt(hl.f64(x))', 'float64', '(float64)sqrt_f64(float64(x))'),
    ('hl.sqrt(hl.cast(hl.Float(16), x))', 'float16', '(float16)sqrt_f16(float16(x))'),
    ('hl.floor(hl.u8(x))', 'float32', '(float32)floor_f32(float32(uint8(x)))'),
    ('hl.round(hl.f32(x))', 'float32', '(float32)round(float32(x))'),
    ('hl.trunc(2.5)', 'float32', '(float32)trunc_f32(2.500000f)'),
    ('hl.exp(x) + 1', 'float32', '((float32)exp_f32(float32(x)) + 1.000000f)'),
    ('hl.is_nan(hl.f32(x))', 'bool', '(uint1)is_nan_f32(float32(x))'),
    ('hl.is_inf(hl.f64(x))', 'bool', '(uint1)is_inf_f64(float64(x))'),
    ('hl.abs(x)', 'uint32', '(uint32)abs(x)'),
    ('hl.abs(hl.i8(x))', 'uint8', '(uint8)abs(int8(x))'),
    ('hl.abs(-3)', 'uint32', '(uint32)abs(-3)'),
    ('hl.absd(x, y)', 'uint32', '(uint32)absd(x, y)'),
    ('hl.absd(hl.u8(x), 3)', 'uint32', '(uint32)absd(int32(uint8(x)), 3)'),
    ('hl.absd(hl.i8(x), hl.u8(x))', 'uint8', '(uint8)absd(int8(x), int8(uint8(x)))'),
    ('hl.popcount(hl.u8(x))', 'uint8', '(uint8)popcount(uint8(x))'),
    ('hl.count_leading_zeros(hl.i8(x))', 'int8', '(int8)count_leading_zeros(int8(x))'),
    ('hl.count_trailing_zeros(x)', 'int32', 'count_trailing_zeros(x)'),
    ('hl.likely(x < 1)', 'bool', '(uint1)likely(x < 1)'),
    ('hl.likely(hl.f32(x))', 'float32', '(float32)likely(float32(x))'),
    ('hl.atan2(y, x)', 'float32', '(float32)atan2_f32(float32(y), float32(x))'),
    ('hl.atan2(hl.f32(x), hl.f64(x))', 'float32', '(float32)atan2_f32(float32(x), float32(float64(x)))'),
    ('hl.atan2(x, hl.f64(x))', 'float32', '(float32)atan2_f32(float32(x), float32(float64(x)))'),
    ('hl.pow(x, y)', 'float32', '(float32)pow_f32(float32(x), float32(y))'),
    ('hl.pow(x, hl.f64(y))', 'float32', '(float32)pow_f32(float32(x), float32(float64(y)))'),
    ('hl.pow(hl.f64(x), hl.f32(y))', 'float64', '(float64)pow_f64(float64(x), float64(float32(y)))'),
    ('hl.reinterpret(hl.UInt(32), hl.f32(x))', 'uint32', 'reinterpret<uint32>(float32(x))'),
    ('hl.reinterpret(hl.UInt(32), 1.5)', 'uint32', 'reinterpret<uint32>(1.500000f)'),
    ('hl.sqrt(hl.f32(x) + 1)', 'float32', '(float32)sqrt_f32(float32(x) + 1.000000f)'),
]

ERRORS = [
    # Python int literals take the Expr's type, if that keeps their value
    ('hl.u8(x) + 300', 'CompileError', 'Integer constant 300 will be implicitly coerced to type uint8, which changes its value to (uint8)44.'),
    ('hl.u8(x) + -1', 'CompileError', 'Integer constant -1 will be implicitly coerced to type uint8, which changes its value to (uint8)255.'),
    ('hl.u8(x) + 256', 'CompileError', 'Integer constant 256 will be implicitly coerced to type uint8, which changes its value to (uint8)0.'),
    ('hl.i8(x) + 128', 'CompileError', 'Integer constant 128 will be implicitly coerced to type int8, which changes its value to (int8)-128.'),
    ('hl.i8(x) - 128', 'CompileError', 'Integer constant 128 will be implicitly coerced to type int8, which changes its value to (int8)-128.'),
    ('(x < 1) + 2', 'CompileError', 'Integer constant 2 will be implicitly coerced to type uint1, which changes its value to (uint1)0.'),
    ('hl.f32(x) + (2**24 + 1)', 'CompileError', 'Integer constant 16777217 will be implicitly coerced to type float32, which changes its value to 16777216.000000f.'),
    ('hl.f32(x) == 16777217', 'CompileError', 'Integer constant 16777217 will be implicitly coerced to type float32, which changes its value to 16777216.000000f.'),
    ('hl.cast(hl.Float(16), x) + 2049', 'CompileError', 'Integer constant 2049 will be implicitly coerced to type float16, which changes its value to 2048.000000h.'),
    ('hl.u8(x) < 300', 'CompileError', 'Integer constant 300 will be implicitly coerced to type uint8, which changes its value to (uint8)44.'),
    ('hl.u8(x) == -1', 'CompileError', 'Integer constant -1 will be implicitly coerced to type uint8, which changes its value to (uint8)255.'),
    # numpy scalars act as the Python numbers they hold
    ('hl.u8(x) + np.int32(300)', 'CompileError', 'Integer constant 300 will be implicitly coerced to type uint8, which changes its value to (uint8)44.'),
    # vectors: scalars broadcast, widths must agree
    ('hl.cast(hl.Int(32, 4), x) + hl.cast(hl.Int(32, 8), x)', 'CompileError', "Can't match types of differing widths"),
    ('hl.cast(hl.Float(32, 8), hl.cast(hl.Int(32, 4), x))', 'CompileError', 'Cast may not change vector widths'),
    # & | ^ ~ : logical on bools, bitwise on integers
    ('(x < 1) & 2', 'CompileError', 'Integer constant 2 will be implicitly coerced to type uint1, which changes its value to (uint1)0.'),
    ('(x < 1) | x', 'CompileError', 'Arguments to bitwise or must be both be signed or both be unsigned.\nLHS type: uint1 RHS type: int32\nLHS value: (x < 1) RHS value: x'),
    ('x & (x < 1)', 'CompileError', 'Arguments to bitwise and must be both be signed or both be unsigned.\nLHS type: int32 RHS type: uint1\nLHS value: x RHS value: (x < 1)'),
    ('hl.f32(x) & hl.f32(x)', 'CompileError', 'The first argument to bitwise and must be an integer or unsigned integer'),
    ('hl.f32(x) & x', 'CompileError', 'The first argument to bitwise and must be an integer or unsigned integer'),
    ('x & 1.5', 'CompileError', 'The second argument to bitwise and must be an integer or unsigned integer'),
    ('hl.u8(x) & hl.i16(y)', 'CompileError', 'Arguments to bitwise and must be both be signed or both be unsigned.\nLHS type: uint8 RHS type: int16\nLHS value: uint8(x) RHS value: int16(y)'),
    ('hl.i8(x) & hl.u16(y)', 'CompileError', 'Arguments to bitwise and must be both be signed or both be unsigned.\nLHS type: int8 RHS type: uint16\nLHS value: int8(x) RHS value: uint16(y)'),
    ('hl.u8(x) & 300', 'CompileError', 'Integer constant 300 will be implicitly coerced to type uint8, which changes its value to (uint8)44.'),
    ('hl.u8(x) & -1', 'CompileError', 'Integer constant -1 will be implicitly coerced to type uint8, which changes its value to (uint8)255.'),
    ('~hl.f32(x)', 'CompileError', 'Argument to bitwise not must be an integer or unsigned integer'),
    # logical_not
    ('hl.logical_not(x)', 'CompileError', 'argument of Not is not a bool'),
    # casts fold constants
    ('hl.cast(hl.Handle(), x)', 'CompileError', 'Can\'t cast "x" to a handle. The only legal cast from scalar types to a handle is: reinterpret(Handle(), cast<uint64_t>(x));'),
    # select
    ('hl.select(x < 1, hl.u8(x), hl.i16(y))', 'CompileError', 'The second and third arguments to a select do not have a matching type:\n  uint8(x) has type uint8\n  int16(y) has type int16'),
    ('hl.select(x < 1, x, 1.5)', 'CompileError', 'The second and third arguments to a select do not have a matching type:\n  x has type int32\n  1.500000f has type float32'),
    ('hl.select(x, 1, 2)', 'CompileError', 'The first argument to a select must be a boolean:\n  x has type int32'),
    ('hl.select(x < 1, hl.u8(x), x < 2, 2.5, x)', 'CompileError', 'The second and third arguments to a select do not have a matching type:\n  2.500000f has type float32\n  x has type int32'),
    ('hl.select(hl.cast(hl.Int(32, 4), x) < 1, x, 1)', 'CompileError', 'In Select, vector lanes of condition must be equal to vector lanes of arguments'),
    ('hl.select(x < 1, 1, x < 2, 2)', 'ValueError', 'select() must have an odd number of arguments'),
    ('hl.select(x < 1, 1)', 'ValueError', 'select() must have at least 3 arguments'),
    # min, max: Exprs in, Halide's type matching
    ('hl.min(x)', 'ValueError', 'min() must have at least 2 arguments'),
    # clamp casts its bounds to the value's type when nothing is lost
    ('hl.clamp(hl.u8(x), 0, 300)', 'CompileError', 'Type mismatch in call to clamp. First argument (uint8(x)) has type uint8, but third argument (300) has type int32. Use an explicit cast.'),
    ('hl.clamp(hl.u8(x), -1, 10)', 'CompileError', 'Type mismatch in call to clamp. First argument (uint8(x)) has type uint8, but second argument (-1) has type int32. Use an explicit cast.'),
    ('hl.clamp(hl.u8(x), y, 10)', 'CompileError', 'Type mismatch in call to clamp. First argument (uint8(x)) has type uint8, but second argument (y) has type int32. Use an explicit cast.'),
    ('hl.clamp(x, 0.5, 10.7)', 'CompileError', 'Type mismatch in call to clamp. First argument (x) has type int32, but second argument (0.500000f) has type float32. Use an explicit cast.'),
    ('hl.clamp(hl.f32(x), x, 1)', 'CompileError', 'Type mismatch in call to clamp. First argument (float32(x)) has type float32, but second argument (x) has type int32. Use an explicit cast.'),
    ('hl.clamp(hl.u8(x), 1.5, 10)', 'CompileError', 'Type mismatch in call to clamp. First argument (uint8(x)) has type uint8, but second argument (1.500000f) has type float32. Use an explicit cast.'),
    ('hl.clamp(x, 0, 2**40)', 'CompileError', 'Type mismatch in call to clamp. First argument (x) has type int32, but third argument ((int64)1099511627776) has type int64. Use an explicit cast.'),
    # float math, lerp, is_nan, errors
    ('hl.is_nan(x)', 'CompileError', 'is_nan only works for float'),
    ('hl.is_inf(hl.u8(x))', 'CompileError', 'is_inf only works for float'),
    ('hl.is_finite(3)', 'CompileError', 'is_finite only works for float'),
    ('hl.popcount(hl.f32(x))', 'CompileError', 'Argument to popcount must be an integer'),
    ('hl.count_leading_zeros(2.5)', 'CompileError', 'Argument to count_leading_zeros must be an integer'),
    ('hl.count_trailing_zeros(hl.f64(x))', 'CompileError', 'Argument to count_trailing_zeros must be an integer'),
    ('hl.reinterpret(hl.UInt(16), hl.f32(x))', 'CompileError', 'Reinterpret cast from type float32 which has 32 bits, to type uint16 which has 16 bits'),
    ('hl.lerp(hl.u8(x), hl.u16(x), hl.u8(y))', 'CompileError', "Can't lerp between uint8(x) of type uint8 and uint16(x) of different type uint16"),
    ('hl.lerp(hl.u8(x), hl.u8(x), 1.5)', 'CompileError', 'Floating-point weight for lerp with integer arguments is 1.5, which is not in the range [0.0, 1.0].'),
    ('hl.lerp(hl.u8(x), hl.u8(x), -0.25)', 'CompileError', 'Floating-point weight for lerp with integer arguments is -0.25, which is not in the range [0.0, 1.0].'),
    ('hl.lerp(hl.i64(x), hl.i64(x), hl.u8(y))', 'CompileError', 'Lerping between 64-bit integers is not supported'),
    ('hl.lerp(0.0, hl.u8(x), hl.u8(y))', 'CompileError', "Can't lerp between 0.000000f of type float32 and uint8(x) of different type uint8"),
    ('hl.lerp(hl.f32(x), 1, y)', 'CompileError', 'A lerp weight must be an unsigned integer or a float, but lerp weight y has type int32.'),
    ('hl.mux(x, [hl.u8(x), 2])', 'CompileError', 'mux() requires all the values to have the same type.'),
    ('hl.mux(x, [])', 'CompileError', 'mux() requires a non-empty vector of values'),
    # bitwise ops and shifts are intrinsics; a literal shift amount is unsigned
    ('hl.u8(x) << 300', 'CompileError', 'Integer constant 300 will be implicitly coerced to type uint8, which changes its value to (uint8)44.'),
]

TUPLES = [
    ('hl.select(x < 1, (x, y), (y, x))', (('int32', 'select(x < 1, x, y)'), ('int32', 'select(x < 1, y, x)'))),
    ('hl.select(x < 1, (x, 1), x < 2, (y, 2), (3, hl.u8(x)))', (('int32', 'select(x < 1, x, select(x < 2, y, 3))'), ('uint8', 'select(x < 1, (uint8)1, select(x < 2, (uint8)2, uint8(x)))'))),
]

WARNINGS = {
    'hl.Expr(1e-10)': ['The floating-point value 0.00000000010000000 will be interpreted as a float32 by Halide and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.'],
    'hl.Expr(1.5e-6)': ['The floating-point value 0.00000150000000000 will be interpreted as a float32 by Halide and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.'],
    'hl.f64(x) + 0.1': ['The floating-point value 0.10000000000000001 will be interpreted as a float32 by Halide and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.'],
    '0.1 + hl.f64(x)': ['The floating-point value 0.10000000000000001 will be interpreted as a float32 by Halide and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.'],
    'hl.cast(hl.Float(16), x) + 0.1': ['The floating-point value 0.10000000000000001 will be interpreted as a float32 by Halide and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.'],
    'x + np.float64(0.1)': ['The floating-point value 0.10000000000000001 will be interpreted as a float32 by Halide and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.'],
    'hl.clamp(x, 0.5, 10.7)': ['The floating-point value 10.69999999999999929 will be interpreted as a float32 by Halide and lose precision; add an explicit `f32()` or `f64()`` cast to avoid this warning.'],
}



MATH_ARGS = ['x', 'hl.f32(x)', 'hl.f64(x)', 'hl.cast(hl.Float(16), x)', 'hl.u8(x)', 'hl.i8(x)', 'hl.i64(x)', '(x < 1)', '3', '2.5']
# the result type of each function on each of MATH_ARGS (None: a CompileError)
MATH_TYPES = {
    'sqrt': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'exp': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'log': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'sin': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'cos': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'tan': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'asin': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'acos': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'atan': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'sinh': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'cosh': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'tanh': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'asinh': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'acosh': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'atanh': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'floor': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'ceil': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'round': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'trunc': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'fract': ['float32', 'float32', 'float64', 'float16', 'float32', 'float32', 'float32', 'float32', 'float32', 'float32'],
    'is_nan': [None, 'bool', 'bool', 'bool', None, None, None, None, None, 'bool'],
    'is_inf': [None, 'bool', 'bool', 'bool', None, None, None, None, None, 'bool'],
    'is_finite': [None, 'bool', 'bool', 'bool', None, None, None, None, None, 'bool'],
    'abs': ['uint32', 'float32', 'float64', 'float16', 'uint8', 'uint8', 'uint64', 'bool', 'uint32', 'float32'],
    'popcount': ['int32', None, None, None, 'uint8', 'int8', 'int64', 'bool', 'int32', None],
    'count_leading_zeros': ['int32', None, None, None, 'uint8', 'int8', 'int64', 'bool', 'int32', None],
    'count_trailing_zeros': ['int32', None, None, None, 'uint8', 'int8', 'int64', 'bool', 'int32', None],
    'likely': ['int32', 'float32', 'float64', 'float16', 'uint8', 'int8', 'int64', 'bool', 'int32', 'float32'],
    'logical_not': [None, None, None, None, None, None, None, 'bool', None, None],
}


_EXC = {"CompileError": CompileError, "ValueError": ValueError}


@pytest.mark.parametrize("src, type_, text", VALUES, ids=[v[0] for v in VALUES])
def test_type(src, type_, text):
    e, caught = build(src)
    assert isinstance(e, Expr)
    assert str(e.type()) == type_
    assert caught == WARNINGS.get(src, [])


@pytest.mark.parametrize("src, type_, text", VALUES, ids=[v[0] for v in VALUES])
def test_printed(src, type_, text):
    e, _ = build(src)
    assert printed(e) == text
    assert str(e) == repr(e)


@pytest.mark.parametrize("src, exc, message", ERRORS, ids=[v[0] for v in ERRORS])
def test_error(src, exc, message):
    with pytest.raises(_EXC[exc]) as info:
        build(src)
    assert str(info.value) == message


@pytest.mark.parametrize("src, expected", TUPLES, ids=[v[0] for v in TUPLES])
def test_select_of_tuples(src, expected):
    result, _ = build(src)
    assert isinstance(result, tuple)
    assert tuple((str(e.type()), printed(e)) for e in result) == expected


@pytest.mark.parametrize("src, expected", TUPLES, ids=[v[0] for v in TUPLES])
def test_select_of_tuples_types(src, expected):
    result, _ = build(src)
    assert tuple(str(e.type()) for e in result) == tuple(t for t, _ in expected)


@pytest.mark.parametrize("fn", sorted(MATH_TYPES))
def test_math_result_types(fn):
    for arg, want in zip(MATH_ARGS, MATH_TYPES[fn]):
        src = f"hl.{fn}({arg})"
        if want is None:
            with pytest.raises(CompileError):
                build(src)
        else:
            e, _ = build(src)
            assert str(e.type()) == want, src


# ---------------------------------------------------------------- behaviour beyond the tables

def test_expr_has_no_truth_value():
    x = _Var("x")
    with pytest.raises(ExprTruthError, match=r"\(x < 1\)\) cannot be converted to a bool"):
        if x < 1:
            pass
    with pytest.raises(ValueError):         # what Halide raises, for `except ValueError`
        bool(x + 1)
    with pytest.raises(CompileError):
        _ = 0 < x < 3
    with pytest.raises(CompileError):
        _ = (x < 1) and (x > 0)


def test_equality_builds_an_expr_and_hashing_is_by_identity():
    x = _Var("x")
    e = x == 1
    assert isinstance(e, Expr) and str(e.type()) == "bool"
    a, b = Expr(x + 1), Expr(x + 1)
    assert len({a, b}) == 2 and hash(a) == hash(a)
    assert (x == None) is False                             # noqa: E711  (Python's fallback)


def test_unsupported_operands_raise_type_error():
    x = _Var("x")
    for bad in ("a", None, [1], object()):
        with pytest.raises(TypeError):
            _ = x + bad
        with pytest.raises(TypeError):
            _ = bad * x
    with pytest.raises(TypeError):
        _ = +x                                              # Halide defines no unary +
    with pytest.raises(TypeError):
        abs(x)                                              # use hl.abs
    with pytest.raises(TypeError):
        hl.min(x, 2**64)


def test_undefined_expr():
    e = Expr()
    assert not e.defined()
    assert repr(e) == "<undefined halide.Expr>"
    with pytest.raises(CompileError):
        _ = e + 1


def test_expr_of_expr_copies():
    # Halide's bindings reject Expr(Expr); pipelang accepts it.
    x = _Var("x")
    e = Expr(x + 1)
    assert Expr(e)._to_ir() is e._to_ir()
    assert Expr(x)._to_ir() == x._to_ir()


def test_float_literal_precision_warning_points_at_the_caller():
    x = _Var("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _ = x + 0.1
    (w,) = caught
    assert w.category is RuntimeWarning and w.filename == __file__


def test_double_literal_rounds_through_float32():
    # f64(x) + 0.1 carries float32(0.1) as a float64 constant, as Halide does.
    x = _Var("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = hl.f64(x) + 0.1
    assert e._to_ir().b == ir.FloatImm(ir.Float(64), 0.10000000149011612)
    assert hl.f64(0.1)._to_ir() == ir.FloatImm(ir.Float(64), 0.1)


def test_numpy_float32_is_a_float():
    # Halide turns Expr(np.float32(2.5)) into a bool and rejects it in functions;
    # pipelang reads it as the float it is.
    assert printed(hl.Expr(np.float32(2.5))) == "2.500000f"
    assert str(hl.sqrt(np.float32(2.5)).type()) == "float32"


def test_bitwise_and_shift_of_floats_are_errors():
    # Halide builds these (and fails later); pipelang refuses them at once.
    x = _Var("x")
    f = hl.f32(x)
    for build_ in (lambda: f & 1, lambda: f << 1, lambda: x << 1.5, lambda: x << f):
        with pytest.raises(CompileError, match="must be an integer or unsigned integer"):
            build_()


def test_vector_math_keeps_lanes():
    # Halide fails on math of vectors ("Cast may not change vector widths").
    v = hl.cast(hl.Int(32, 4), _Var("x"))
    assert str(hl.sqrt(v).type()) == "float32x4"
    assert str(hl.is_nan(hl.sqrt(v)).type()) == "boolx4"


def test_lerp_mux_saturating_cast_types():
    x, y = _Var("x"), _Var("y")
    assert str(hl.lerp(hl.u8(x), hl.u8(y), hl.u8(y)).type()) == "uint8"
    assert str(hl.lerp(hl.u8(x), hl.u8(x), 0.5).type()) == "uint8"
    assert str(hl.lerp(x, y, 0.5).type()) == "int32"
    assert str(hl.lerp(hl.u8(x), hl.u8(x), hl.u16(y)).type()) == "uint8"
    assert str(hl.lerp(0, hl.f32(x), 0.5).type()) == "float32"
    assert str(hl.lerp(0, 10, hl.u8(y)).type()) == "int32"
    assert str(hl.lerp(hl.u8(x), 10, hl.u8(y)).type()) == "uint8"
    assert str(hl.lerp(hl.f32(x), hl.f32(x), hl.f64(y)).type()) == "float32"
    assert str(hl.mux(x, [1, 2, 3]).type()) == "int32"
    assert str(hl.mux(hl.u8(x), [hl.f32(x), 1.5]).type()) == "float32"
    for t, want in ((hl.UInt(8), "uint8"), (hl.Int(32), "int32"), (hl.Bool(), "bool"),
                    (hl.Float(32), "float32"), (hl.UInt(64), "uint64")):
        assert str(hl.saturating_cast(t, hl.f64(x)).type()) == want
    assert str(hl.u8_sat(x).type()) == "uint8"
    assert str(hl.i16_sat(hl.f32(x)).type()) == "int16"


def test_to_ir():
    x = _Var("x")
    assert to_ir(5) == ir.IntImm(ir.Int(32), 5)
    assert to_ir(2**40) == ir.IntImm(ir.Int(64), 2**40)
    assert to_ir(True) == ir.UIntImm(ir.Bool(), 1)
    assert to_ir(2.5) == ir.FloatImm(ir.Float(32), 2.5)
    assert to_ir(x) == x._to_ir()
    assert to_ir(x + 1) == (x + 1)._to_ir()
    # With `like`: the operand of a binary operator whose other side has that type.
    assert to_ir(5, ir.UInt(8)) == ir.UIntImm(ir.UInt(8), 5)
    assert to_ir(5, ir.Float(32)) == ir.FloatImm(ir.Float(32), 5.0)
    assert to_ir(2.5, ir.Float(64)) == ir.FloatImm(ir.Float(64), 2.5)
    assert to_ir(2.5, ir.Int(32)) == ir.FloatImm(ir.Float(32), 2.5)
    with pytest.raises(CompileError, match="changes its value to"):
        to_ir(300, ir.UInt(8))
    with pytest.raises(TypeError):
        to_ir("x")
