"""Text form of the IR, in Halide's notation: `(x + 1)`, `uint8(x)`, `f(x, y)`."""
from __future__ import annotations

import math

from pipelang.ir import nodes as N
from pipelang.ir.types import Int

_INFIX = {N.Add: " + ", N.Sub: " - ", N.Mul: "*", N.Div: "/", N.Mod: " % ",
          N.EQ: " == ", N.NE: " != ", N.LT: " < ", N.LE: " <= ", N.GT: " > ",
          N.GE: " >= ", N.And: " && ", N.Or: " || "}


# Halide's math functions are extern calls named for their float width.
_EXTERN_MATH = {"sqrt", "exp", "log", "pow", "sin", "cos", "tan", "asin", "acos", "atan",
                "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "floor", "ceil",
                "trunc", "is_nan", "is_inf", "is_finite"}


def _ctype(t) -> str:
    """A type as Halide's IR printer writes it: bool is uint1."""
    if t.is_handle():
        return "handle"
    base = f"{t.code().value}{t.bits()}"
    return base if t.is_scalar() else f"{base}x{t.lanes()}"


def _float(v: float, bits: int) -> str:
    if math.isnan(v):
        s = "-nan" if math.copysign(1.0, v) < 0 else "nan"
    elif math.isinf(v):
        s = "-inf" if v < 0 else "inf"
    elif v != 0 and math.log10(abs(v)) < -6:
        s = f"{v:e}"
    else:
        s = f"{v:f}"
    return s + {64: "", 32: "f", 16: "h"}[bits]


def expr_to_string(e, implicit: bool = False) -> str:
    """Halide's text for `e`; `implicit` drops the outer parentheses of an
    operator (as Halide does for call arguments)."""
    p = expr_to_string
    cls = type(e)
    if cls is N.IntImm:
        return str(e.value) if e.type.bits() == 32 else f"({_ctype(e.type)}){e.value}"
    if cls is N.UIntImm:
        return f"({_ctype(e.type)}){e.value}"
    if cls is N.FloatImm:
        return _float(e.value, e.type.bits())
    if cls is N.StringImm:
        return '"' + e.value + '"'
    if cls is N.Variable:
        return e.sym.name
    if cls in _INFIX:
        text = f"{p(e.a)}{_INFIX[cls]}{p(e.b)}"
        return text if implicit else f"({text})"
    if cls is N.Min or cls is N.Max:
        return f"{cls.__name__.lower()}({p(e.a, True)}, {p(e.b, True)})"
    if cls is N.Not:
        return "!" + p(e.a)
    if cls is N.Cast:
        return f"{_ctype(e.type)}({p(e.value, True)})"
    if cls is N.Select:
        return (f"select({p(e.condition, True)}, {p(e.true_value, True)}, "
                f"{p(e.false_value, True)})")
    if cls is N.Ramp:
        return f"ramp({p(e.base, True)}, {p(e.stride, True)}, {e.lanes})"
    if cls is N.Broadcast:
        return f"x{e.lanes}({p(e.value, True)})"
    if cls is N.Shuffle:
        vs = ", ".join(p(v, True) for v in e.vectors)
        return f"shuffle({vs}; {', '.join(map(str, e.indices))})"
    if cls is N.Call:
        args = ", ".join(p(a, True) for a in e.args)
        pre = "" if e.type == Int(32) else f"({_ctype(e.type)})"
        suffix = f".{e.value_index}" if e.value_index else ""
        return f"{pre}{e.fn.name}({args}){suffix}"
    if cls is N.Intrinsic:
        name = e.op.value
        if name == "reinterpret":
            return f"reinterpret<{_ctype(e.type)}>({p(e.args[0], True)})"
        if name in _EXTERN_MATH:
            name = f"{name}_f{e.args[0].type.bits()}"
        pre = "" if e.type == Int(32) else f"({_ctype(e.type)})"
        return f"{pre}{name}({', '.join(p(a, True) for a in e.args)})"
    if cls is N.Load:
        return f"{e.buf.name}[{p(e.index, True)}]"
    if cls is N.Let:
        return f"(let {e.sym.name} = {p(e.value, True)} in {p(e.body, True)})"
    raise TypeError(f"cannot print {cls.__name__}")


def stmt_to_string(s, indent: int = 0) -> str:
    out: list[str] = []
    _stmt(s, indent, out)
    return "".join(out)


def _stmt(s, ind: int, out: list) -> None:
    pad = "  " * ind
    cls = type(s)
    e = expr_to_string
    if cls is N.LetStmt:
        out.append(f"{pad}let {s.sym.name} = {e(s.value)}\n")
        _stmt(s.body, ind, out)
    elif cls is N.AssertStmt:
        out.append(f"{pad}assert({e(s.condition)}, {s.message!r})\n")
    elif cls is N.For:
        out.append(f"{pad}{s.kind.value} ({s.sym.name}, {e(s.min)}, {e(s.extent)}) {{\n")
        _stmt(s.body, ind + 1, out)
        out.append(f"{pad}}}\n")
    elif cls is N.Provide:
        vals = ", ".join(e(v) for v in s.values)
        if len(s.values) > 1:
            vals = "{" + vals + "}"
        out.append(f"{pad}{s.fn.name}({', '.join(e(a) for a in s.args)}) = {vals}\n")
    elif cls is N.Store:
        out.append(f"{pad}{s.buf.name}[{e(s.index)}] = {e(s.value)}\n")
    elif cls is N.Realize:
        bounds = ", ".join(f"[{e(r.min)}, {e(r.extent)}]" for r in s.bounds)
        out.append(f"{pad}realize {s.fn.name}({bounds}) {{\n")
        _stmt(s.body, ind + 1, out)
        out.append(f"{pad}}}\n")
    elif cls is N.Allocate:
        out.append(f"{pad}allocate {s.buf.name}[{s.type} * {e(s.size)}] in {s.memory.value}\n")
        _stmt(s.body, ind, out)
        out.append(f"{pad}free {s.buf.name}\n")
    elif cls is N.ProducerConsumer:
        word = "produce" if s.is_producer else "consume"
        out.append(f"{pad}{word} {s.fn.name} {{\n")
        _stmt(s.body, ind + 1, out)
        out.append(f"{pad}}}\n")
    elif cls is N.Block:
        for sub in s.stmts:
            _stmt(sub, ind, out)
    elif cls is N.IfThenElse:
        out.append(f"{pad}if ({e(s.condition)}) {{\n")
        _stmt(s.then_case, ind + 1, out)
        if s.else_case is not None:
            out.append(f"{pad}}} else {{\n")
            _stmt(s.else_case, ind + 1, out)
        out.append(f"{pad}}}\n")
    elif cls is N.Evaluate:
        out.append(f"{pad}{e(s.value)}\n")
    elif cls is N.Prefetch:
        suffix = f".{s.value_index}" if s.value_index else ""
        out.append(f"{pad}prefetch {s.fn.name}({', '.join(e(a) for a in s.args)}){suffix}\n")
    elif cls is N.PrefetchAddress:
        # Halide's text: (type)prefetch(buffer, offset, extent 1, elements per cache line).
        pre = "" if s.type == Int(32) else f"({_ctype(s.type)})"
        per_line = max(1, 64 // max(1, s.type.bytes()))
        out.append(f"{pad}{pre}prefetch({s.buf.name}, {e(s.index, True)}, 1, {per_line})\n")
    elif hasattr(s, "print_lines"):         # a statement a later pass defines (a GPU launch)
        out.extend(f"{pad}{line}\n" for line in s.print_lines())
    elif cls is N.Atomic:
        out.append(f"{pad}atomic ({s.fn.name}) {{\n")
        _stmt(s.body, ind + 1, out)
        out.append(f"{pad}}}\n")
    elif cls is N.Memoized:
        key = ", ".join(e(k) for k in s.key)
        out.append(f"{pad}memoized {s.fn.name}({key}) {{\n")
        _stmt(s.body, ind + 1, out)
        out.append(f"{pad}}}\n")
    else:
        raise TypeError(f"cannot print {cls.__name__}")


def to_string(node) -> str:
    if isinstance(node, N.Expr):
        return expr_to_string(node)
    if isinstance(node, N.LoweredFunc):
        args = ", ".join(a.sym.name for a in node.args)
        return f"func {node.name}({args}) {{\n{stmt_to_string(node.body, 1)}}}\n"
    return stmt_to_string(node)
