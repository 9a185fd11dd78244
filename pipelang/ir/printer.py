"""Text form of the IR, in Halide's notation: `(x + 1)`, `uint8(x)`, `f(x, y)`."""
from __future__ import annotations

from pipelang.ir import nodes as N

_INFIX = {N.Add: " + ", N.Sub: " - ", N.Mul: "*", N.Div: "/", N.Mod: " % ",
          N.EQ: " == ", N.NE: " != ", N.LT: " < ", N.LE: " <= ", N.GT: " > ",
          N.GE: " >= ", N.And: " && ", N.Or: " || "}


def _const(e) -> str:
    t = e.type
    if isinstance(e, N.FloatImm):
        s = f"{e.value:f}"
        return s + "f" if t.bits() == 32 else (f"(float16){s}" if t.bits() == 16 else s)
    if isinstance(e, N.IntImm) and t.bits() == 32:
        return str(e.value)
    if t.is_bool():
        return "(uint1)" + str(e.value)
    return f"({t}){e.value}"


def expr_to_string(e) -> str:
    cls = type(e)
    if cls in (N.IntImm, N.UIntImm, N.FloatImm):
        return _const(e)
    if cls is N.StringImm:
        return repr(e.value)
    if cls is N.Variable:
        return e.sym.name
    if cls in _INFIX:
        return f"({expr_to_string(e.a)}{_INFIX[cls]}{expr_to_string(e.b)})"
    if cls is N.Min or cls is N.Max:
        return f"{cls.__name__.lower()}({expr_to_string(e.a)}, {expr_to_string(e.b)})"
    if cls is N.Not:
        return "!" + expr_to_string(e.a)
    if cls is N.Cast:
        return f"{e.type}({expr_to_string(e.value)})"
    if cls is N.Select:
        return (f"select({expr_to_string(e.condition)}, {expr_to_string(e.true_value)}, "
                f"{expr_to_string(e.false_value)})")
    if cls is N.Ramp:
        return f"ramp({expr_to_string(e.base)}, {expr_to_string(e.stride)}, {e.lanes})"
    if cls is N.Broadcast:
        return f"x{e.lanes}({expr_to_string(e.value)})"
    if cls is N.Shuffle:
        vs = ", ".join(expr_to_string(v) for v in e.vectors)
        return f"shuffle({vs}; {', '.join(map(str, e.indices))})"
    if cls is N.Call:
        args = ", ".join(expr_to_string(a) for a in e.args)
        suffix = f".{e.value_index}" if e.value_index else ""
        return f"{e.fn.name}({args}){suffix}"
    if cls is N.Intrinsic:
        return f"{e.op.value}({', '.join(expr_to_string(a) for a in e.args)})"
    if cls is N.Load:
        return f"{e.buf.name}[{expr_to_string(e.index)}]"
    if cls is N.Let:
        return f"(let {e.sym.name} = {expr_to_string(e.value)} in {expr_to_string(e.body)})"
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
    else:
        raise TypeError(f"cannot print {cls.__name__}")


def to_string(node) -> str:
    if isinstance(node, N.Expr):
        return expr_to_string(node)
    if isinstance(node, N.LoweredFunc):
        args = ", ".join(a.sym.name for a in node.args)
        return f"func {node.name}({args}) {{\n{stmt_to_string(node.body, 1)}}}\n"
    return stmt_to_string(node)
