"""`CPrinter`: lowered scalar IR as C-family source text (see the package docstring)."""
from __future__ import annotations

import math
import re

import numpy as np

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.ir import nodes as N


class CodeGenError(CompileError):
    """The IR uses something this C dialect cannot express."""


def c_identifier(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not s or s[0].isdigit():
        s = "_" + s
    return s


_C_KEYWORDS = {"int", "float", "double", "char", "short", "long", "if", "else", "for", "while",
               "return", "const", "auto", "bool", "true", "false", "do", "switch", "case", "default",
               "break", "continue", "void", "unsigned", "signed", "static", "struct", "union",
               "register", "restrict", "inline", "goto", "sizeof", "new", "delete", "this"}

_MATH = {ir.Op.SQRT: "sqrt", ir.Op.EXP: "exp", ir.Op.LOG: "log", ir.Op.POW: "pow", ir.Op.SIN: "sin",
         ir.Op.COS: "cos", ir.Op.TAN: "tan", ir.Op.ASIN: "asin", ir.Op.ACOS: "acos",
         ir.Op.ATAN: "atan", ir.Op.ATAN2: "atan2", ir.Op.SINH: "sinh", ir.Op.COSH: "cosh",
         ir.Op.TANH: "tanh", ir.Op.ASINH: "asinh", ir.Op.ACOSH: "acosh", ir.Op.ATANH: "atanh",
         ir.Op.FLOOR: "floor", ir.Op.CEIL: "ceil", ir.Op.ROUND: "rint", ir.Op.TRUNC: "trunc"}

_CMP = {N.EQ: "==", N.NE: "!=", N.LT: "<", N.LE: "<=", N.GT: ">", N.GE: ">="}
_ARITH = {N.Add: "+", N.Sub: "-", N.Mul: "*"}
_BITWISE = {ir.Op.BITWISE_AND: "&", ir.Op.BITWISE_OR: "|", ir.Op.BITWISE_XOR: "^"}


class CPrinter:
    """Print scalar lowered IR as C. Subclasses set the dialect."""

    qualifier = "static inline"
    indent_unit = "    "

    def __init__(self):
        self.helpers: dict = {}            # name -> definition text, in first-use order
        self.lines: list = []
        self.depth = 0
        self.scope: dict = {}              # Symbol -> C name of its current binding
        self.used_names: set = set()

    # ---------------------------------------------------------------- names and types

    def fresh(self, sym: ir.Symbol) -> str:
        base = c_identifier(sym.name)
        if base in _C_KEYWORDS:
            base += "_"
        name, n = base, 1
        while name in self.used_names:
            name = f"{base}_{n}"
            n += 1
        self.used_names.add(name)
        return name

    def bind(self, sym: ir.Symbol, name: str | None = None) -> tuple:
        old = self.scope.get(sym)
        self.scope[sym] = name or self.fresh(sym)
        return sym, old

    def unbind(self, token) -> None:
        sym, old = token
        if old is None:
            self.scope.pop(sym, None)
        else:
            self.scope[sym] = old

    def name_of(self, sym: ir.Symbol) -> str:
        name = self.scope.get(sym)
        if name is None:
            raise CodeGenError(f"Internal error: {sym.name} is used outside its scope in emitted C")
        return name

    def type_name(self, t: ir.Type) -> str:
        if t.is_vector():
            raise CodeGenError(f"Vector type {t} cannot be printed as scalar C: pipelang's C-family "
                               f"emitters take one lane per thread (do not vectorize inside a kernel)")
        if t.is_bool():
            return "bool"
        if t.is_float():
            if t.bits() == 16:
                raise CodeGenError("float16 is not supported by the C-family emitters")
            return "float" if t.bits() == 32 else "double"
        if t.is_handle():
            return "void *"
        return f"{'u' if t.is_uint() else ''}int{t.bits()}_t"

    # ---------------------------------------------------------------- output

    def line(self, text: str) -> None:
        self.lines.append(self.indent_unit * self.depth + text)

    def helper(self, name: str, text: str) -> str:
        if name not in self.helpers:
            self.helpers[name] = text.replace("QUAL", self.qualifier)
        return name

    def helpers_text(self) -> str:
        return "\n".join(self.helpers.values())

    # ---------------------------------------------------------------- constants

    def int_const(self, t: ir.Type, v: int) -> str:
        if t.is_bool():
            return "true" if v else "false"
        bits = t.bits()
        if t.is_uint():
            suffix = "u" if bits == 32 else "ull" if bits == 64 else ""
            text = f"{v}{suffix}"
            return text if bits >= 32 else f"(({self.type_name(t)}){text})"
        if bits == 64:
            return f"((int64_t){v}ll)" if v != -(1 << 63) else "(-9223372036854775807ll - 1)"
        if bits == 32:
            return str(v) if v != -(1 << 31) else "(-2147483647 - 1)"
        return f"(({self.type_name(t)}){v})"

    def float_special(self, v: float, bits: int) -> str:
        """inf or nan, which C spells with macros and CUDA with intrinsics."""
        if math.isnan(v):
            return "NAN" if bits == 32 else "((double)NAN)"
        return ("INFINITY" if v > 0 else "(-INFINITY)") if bits == 32 else \
            ("((double)INFINITY)" if v > 0 else "((double)-INFINITY)")

    def float_const(self, t: ir.Type, v: float) -> str:
        bits = t.bits()
        if math.isnan(v) or math.isinf(v):
            return self.float_special(v, bits)
        if bits == 32:
            f = np.float32(v)
            if v != 0 and (abs(v) >= 1e16 or abs(v) < 1e-6):
                return np.format_float_scientific(f, unique=True, trim="0") + "f"
            return np.format_float_positional(f, unique=True, trim="0") + "f"
        text = repr(float(v))
        return text if ("e" in text or "." in text) else text + ".0"

    # ---------------------------------------------------------------- expressions

    def expr(self, e) -> str:
        method = getattr(self, "_" + type(e).__name__, None)
        if method is None:
            raise CodeGenError(f"{type(e).__name__} cannot be printed as C")
        return method(e)

    def _IntImm(self, e):
        return self.int_const(e.type, e.value)

    _UIntImm = _IntImm

    def _FloatImm(self, e):
        return self.float_const(e.type, e.value)

    def _StringImm(self, e):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def _Variable(self, e):
        return self.name_of(e.sym)

    def _Cast(self, e):
        v = self.expr(e.value)
        if e.type.is_bool():
            return f"({v} != 0)"
        return f"(({self.type_name(e.type)}){v})"

    def _narrow(self, t: ir.Type) -> str | None:
        """The type narrow integer arithmetic is done in (C promotes, so results are cast back)."""
        if (t.is_int() or t.is_uint()) and not t.is_bool() and t.bits() < 32:
            return "uint32_t" if t.is_uint() else "int32_t"
        return None

    def _arith(self, e, op):
        a, b = self.expr(e.a), self.expr(e.b)
        wide = self._narrow(e.type)
        if wide:
            return f"(({self.type_name(e.type)})(({wide}){a} {op} ({wide}){b}))"
        return f"({a} {op} {b})"

    def _Add(self, e):
        return self._arith(e, "+")

    def _Sub(self, e):
        return self._arith(e, "-")

    def _Mul(self, e):
        return self._arith(e, "*")

    def _int_helper(self, kind: str, t: ir.Type) -> str:
        tn = self.type_name(t)
        name = f"pl_{kind}_{c_identifier(tn.replace('_t', ''))}"
        if t.is_uint():
            body = {"div": "return b == 0 ? (T)0 : (T)(a / b);",
                    "mod": "return b == 0 ? (T)0 : (T)(a % b);"}[kind]
        else:
            # Euclidean division and modulo (Halide's), x / 0 == x % 0 == 0.
            body = {"div": "if (b == 0) return (T)0; T q = (T)(a / b); T r = (T)(a - q * b); "
                           "return r < 0 ? (b > 0 ? (T)(q - 1) : (T)(q + 1)) : q;",
                    "mod": "if (b == 0) return (T)0; T r = (T)(a % b); "
                           "return r < 0 ? (b > 0 ? (T)(r + b) : (T)(r - b)) : r;"}[kind]
        return self.helper(name, f"QUAL {tn} {name}({tn} a, {tn} b) {{ "
                                 + body.replace("(T)", f"({tn})").replace("T q", f"{tn} q")
                                 .replace("T r", f"{tn} r") + " }")

    def _Div(self, e):
        if e.type.is_float():
            return f"({self.expr(e.a)} / {self.expr(e.b)})"
        return f"{self._int_helper('div', e.type)}({self.expr(e.a)}, {self.expr(e.b)})"

    def _Mod(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        if e.type.is_float():
            fl = "floorf" if e.type.bits() == 32 else "floor"
            name = self.helper(f"pl_fmod_{e.type.bits()}",
                               f"QUAL {self.type_name(e.type)} pl_fmod_{e.type.bits()}("
                               f"{self.type_name(e.type)} a, {self.type_name(e.type)} b) "
                               f"{{ return a - b * {fl}(a / b); }}")
            return f"{name}({a}, {b})"
        return f"{self._int_helper('mod', e.type)}({a}, {b})"

    def _min_max(self, e, which):
        a, b = self.expr(e.a), self.expr(e.b)
        # Halide's definition for every type, floats included: min is
        # select(a < b, a, b), so b when either is NaN (fminf would return the
        # other operand), matching the JIT's code bit for bit.
        tn = self.type_name(e.type)
        name = f"pl_{which}_{c_identifier(tn.replace('_t', ''))}"
        op = "<" if which == "min" else ">"
        self.helper(name, f"QUAL {tn} {name}({tn} a, {tn} b) {{ return a {op} b ? a : b; }}")
        return f"{name}({a}, {b})"

    def _Min(self, e):
        return self._min_max(e, "min")

    def _Max(self, e):
        return self._min_max(e, "max")

    def _cmp(self, e):
        return f"({self.expr(e.a)} {_CMP[type(e)]} {self.expr(e.b)})"

    _EQ = _NE = _LT = _LE = _GT = _GE = _cmp

    def _And(self, e):
        return f"({self.expr(e.a)} && {self.expr(e.b)})"

    def _Or(self, e):
        return f"({self.expr(e.a)} || {self.expr(e.b)})"

    def _Not(self, e):
        return f"(!{self.expr(e.a)})"

    def _Select(self, e):
        return f"({self.expr(e.condition)} ? {self.expr(e.true_value)} : {self.expr(e.false_value)})"

    def _Load(self, e):
        return f"{self.name_of(e.buf)}[{self.expr(e.index)}]"

    def _Let(self, e):
        raise CodeGenError("a let inside an expression has no C spelling in this dialect")

    def _Ramp(self, e):
        raise CodeGenError("vector code (ramp) reached the C-family emitter; do not vectorize "
                           "inside a GPU kernel")

    _Broadcast = _Shuffle = _Ramp

    def _Call(self, e):
        raise CodeGenError(f"Internal error: call to {e.fn.name} survived storage flattening")

    def _Intrinsic(self, e):
        op, args = e.op, e.args
        t = e.type
        if op is ir.Op.LIKELY:
            return self.expr(args[0])
        if op in _MATH:
            src = args[0].type
            suffix = "f" if src.bits() == 32 else ""
            return f"{_MATH[op]}{suffix}({', '.join(self.expr(a) for a in args)})"
        if op in _BITWISE:
            a, b = self.expr(args[0]), self.expr(args[1])
            if t.is_bool():
                return f"({a} {_BITWISE[op]} {b})"
            return f"(({self.type_name(t)})({a} {_BITWISE[op]} {b}))"
        if op is ir.Op.BITWISE_NOT:
            return f"(({self.type_name(t)})(~{self.expr(args[0])}))" if not t.is_bool() \
                else f"(!{self.expr(args[0])})"
        if op in (ir.Op.SHIFT_LEFT, ir.Op.SHIFT_RIGHT):
            return self._shift(e)
        if op is ir.Op.ABS:
            src = args[0].type
            a = self.expr(args[0])
            if src.is_float():
                return f"fabs{'f' if src.bits() == 32 else ''}({a})"
            if src.is_uint():
                return a
            tn, un = self.type_name(src), self.type_name(t)
            name = self.helper(f"pl_abs_{c_identifier(tn)}",
                               f"QUAL {un} pl_abs_{c_identifier(tn)}({tn} a) "
                               f"{{ return a < 0 ? ({un})(0 - ({un})a) : ({un})a; }}")
            return f"{name}({a})"
        if op is ir.Op.ABSD:
            src = args[0].type
            a, b = self.expr(args[0]), self.expr(args[1])
            if src.is_float():
                return f"fabs{'f' if src.bits() == 32 else ''}({a} - {b})"
            tn, un = self.type_name(src), self.type_name(t)
            name = self.helper(f"pl_absd_{c_identifier(tn)}",
                               f"QUAL {un} pl_absd_{c_identifier(tn)}({tn} a, {tn} b) "
                               f"{{ return a < b ? ({un})(({un})b - ({un})a) : ({un})(({un})a - ({un})b); }}")
            return f"{name}({a}, {b})"
        if op in (ir.Op.IS_NAN, ir.Op.IS_INF, ir.Op.IS_FINITE):
            fn = {ir.Op.IS_NAN: "isnan", ir.Op.IS_INF: "isinf", ir.Op.IS_FINITE: "isfinite"}[op]
            return f"({fn}({self.expr(args[0])}) != 0)"
        if op is ir.Op.REINTERPRET:
            return self.reinterpret(t, args[0].type, self.expr(args[0]))
        if op in (ir.Op.POPCOUNT, ir.Op.COUNT_LEADING_ZEROS, ir.Op.COUNT_TRAILING_ZEROS):
            return self.bit_count(op, t, args[0].type, self.expr(args[0]))
        if op is ir.Op.GPU_BARRIER:
            return self.barrier_expr()
        raise CodeGenError(f"{op.value}() is not supported by the {type(self).__name__} emitter")

    def _shift(self, e):
        a, b = e.args
        amount = ir.const_value(b)
        left = e.op is ir.Op.SHIFT_LEFT
        if b.type.is_int() and (amount is None or amount < 0):
            if amount is None:
                raise CodeGenError("a shift by a signed amount that may be negative is not supported "
                                   "by the C-family emitters; cast the amount to unsigned")
            left, amount = not left, -amount
        sa = self.expr(a)
        sb = str(amount) if amount is not None else self.expr(b)
        wide = self._narrow(e.type)
        if wide:
            sa = f"(({wide}){sa})"
        return f"(({self.type_name(e.type)})({sa} {'<<' if left else '>>'} {sb}))"

    def reinterpret(self, to: ir.Type, frm: ir.Type, value: str) -> str:
        tn, fn = self.type_name(to), self.type_name(frm)
        name = f"pl_reinterpret_{c_identifier(fn)}_{c_identifier(tn)}"
        self.helper(name, f"QUAL {tn} {name}({fn} a) {{ union {{ {fn} f; {tn} t; }} u; u.f = a; "
                          f"return u.t; }}")
        return f"{name}({value})"

    def bit_count(self, op, t, src, value) -> str:
        raise CodeGenError(f"{op.value}() is not supported by the {type(self).__name__} emitter")

    def barrier_expr(self) -> str:
        raise CodeGenError("a GPU barrier outside a GPU kernel")

    # ---------------------------------------------------------------- statements

    def stmt(self, s) -> None:
        method = getattr(self, "_s_" + type(s).__name__, None)
        if method is None:
            raise CodeGenError(f"{type(s).__name__} cannot be printed as C")
        method(s)

    def _s_Block(self, s):
        for sub in s.stmts:
            self.stmt(sub)

    def _s_LetStmt(self, s):
        value = self.expr(s.value)
        token = self.bind(s.sym)
        self.line(f"const {self.type_name(s.value.type)} {self.scope[s.sym]} = {value};")
        self.stmt(s.body)
        self.unbind(token)

    def _s_For(self, s):
        lo, ext = self.expr(s.min), self.expr(s.extent)
        token = self.bind(s.sym)
        v = self.scope[s.sym]
        if s.kind not in (ir.ForKind.SERIAL, ir.ForKind.UNROLLED):
            raise CodeGenError(f"a {s.kind.value} loop over {s.sym.name} cannot be printed as C here")
        if ir.is_const(s.min, 0):
            self.line(f"for (int32_t {v} = 0; {v} < {ext}; {v}++) {{")
        else:
            self.line(f"for (int32_t {v} = {lo}, {v}_end = {lo} + {ext}; {v} < {v}_end; {v}++) {{")
        self.depth += 1
        self.stmt(s.body)
        self.depth -= 1
        self.line("}")
        self.unbind(token)

    def _s_Store(self, s):
        self.line(f"{self.name_of(s.buf)}[{self.expr(s.index)}] = {self.expr(s.value)};")

    def _s_IfThenElse(self, s):
        self.line(f"if ({self.expr(s.condition)}) {{")
        self.depth += 1
        self.stmt(s.then_case)
        self.depth -= 1
        if s.else_case is not None:
            self.line("} else {")
            self.depth += 1
            self.stmt(s.else_case)
            self.depth -= 1
        self.line("}")

    def _s_Allocate(self, s):
        n = ir.const_value(s.size)
        if n is None:
            raise CodeGenError(f"{s.buf.name} needs {ir.to_string(s.size)} elements, not a constant: "
                               f"this emitter places per-thread storage in registers, which needs a "
                               f"constant size")
        token = self.bind(s.buf)
        self.line(f"{self.type_name(s.type)} {self.scope[s.buf]}[{max(int(n), 1)}];")
        self.stmt(s.body)
        self.unbind(token)

    def _s_Evaluate(self, s):
        self.line(self.expr(s.value) + ";")

    def _s_AssertStmt(self, s):
        raise CodeGenError(f"an assertion ({s.message.splitlines()[0]}) inside device code")
