"""The lowered statement as a self-contained HTML page
(`compile_to_lowered_stmt(..., StmtOutputFormat.HTML)`).

The page has a navigation pane listing every Func's produce and consume
blocks and every loop (indented as they nest, each a link), and the statement
itself in Halide's notation with each loop, produce/consume, realize,
allocate and if a collapsible block. Func names link to their produce block,
loop kinds are coloured (parallel, vectorized, unrolled), and a summary table
gives each Func's allocations and loops. No script or network is needed to
read it; a few lines of script add "expand all / collapse all".
"""
from __future__ import annotations

import html

from pipelang.ir import nodes as N
from pipelang.ir.printer import expr_to_string, stmt_to_string

_CSS = """
body { font-family: sans-serif; margin: 0; display: flex; height: 100vh; }
nav { width: 24em; overflow: auto; border-right: 1px solid #ccc; padding: 0.5em; background: #fafafa;
      font-size: 0.85em; }
nav ul { list-style: none; padding-left: 1em; margin: 0; }
nav a { text-decoration: none; color: #036; }
main { flex: 1; overflow: auto; padding: 0.5em 1em; }
pre, .code { font-family: monospace; font-size: 0.9em; }
details { margin-left: 1.2em; border-left: 1px dotted #bbb; padding-left: 0.4em; }
summary { cursor: pointer; font-family: monospace; font-size: 0.9em; }
.line { font-family: monospace; font-size: 0.9em; margin-left: 1.6em; white-space: pre-wrap; }
.kw { color: #708; font-weight: bold; }
.fn { color: #05a; }
.for-parallel > summary .kw { color: #b60; }
.for-vectorized > summary .kw { color: #080; }
.for-unrolled > summary .kw { color: #a50; }
.produce > summary { background: #eef6ff; }
.consume > summary { background: #f4fff0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
"""

_SCRIPT = """
function setAll(open) { document.querySelectorAll('main details').forEach(d => d.open = open); }
"""


def _esc(s: str) -> str:
    return html.escape(s, quote=False)


class _Page:
    def __init__(self):
        self.body: list[str] = []
        self.nav: list[str] = []
        self.ids = 0
        self.produce_anchor: dict = {}     # Func name -> anchor of its first produce (or allocate) block
        self.funcs: dict = {}              # Func name -> {"allocs": [...], "loops": [...]}

    def anchor(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}{self.ids}"

    def expr(self, e) -> str:
        return _esc(expr_to_string(e))

    def line(self, text: str) -> None:
        self.body.append(f'<div class="line">{text}</div>')

    def block(self, cls: str, anchor: str, head: str, nav_label: str | None, inner) -> None:
        self.body.append(f'<details open class="{cls}" id="{anchor}"><summary>{head}</summary>')
        if nav_label is not None:
            self.nav.append(f'<li><a href="#{anchor}">{nav_label}</a><ul>')
        inner()
        if nav_label is not None:
            self.nav.append("</ul></li>")
        self.body.append("</details>")

    def stmt(self, s, func: str | None = None) -> None:
        cls = type(s)
        kw = lambda w: f'<span class="kw">{w}</span>'  # noqa: E731
        if cls is N.LetStmt:
            self.line(f"{kw('let')} {_esc(s.sym.name)} = {self.expr(s.value)}")
            self.stmt(s.body, func)
        elif cls is N.AssertStmt:
            self.line(f"{kw('assert')}({self.expr(s.condition)}, {_esc(repr(s.message))})")
        elif cls is N.For:
            kind = s.kind.value
            a = self.anchor("loop")
            head = f"{kw(kind)} ({_esc(s.sym.name)}, {self.expr(s.min)}, {self.expr(s.extent)})"
            # Loops are named func.sN.var: attribute them to their Func.
            owner = func if func is not None else s.sym.name.split(".")[0]
            self.funcs.setdefault(owner, {"allocs": [], "loops": []})["loops"].append(f"{kind} {s.sym.name}")
            self.block(f"for for-{kind}", a, head, f"{_esc(kind)} {_esc(s.sym.name)}",
                       lambda: self.stmt(s.body, func))
        elif cls is N.ProducerConsumer:
            word = "produce" if s.is_producer else "consume"
            name = s.fn.name
            a = self.anchor(word)
            if s.is_producer:
                self.produce_anchor.setdefault(name, a)
                self.funcs.setdefault(name, {"allocs": [], "loops": []})
            head = f'{kw(word)} <span class="fn">{_esc(name)}</span>'
            self.block(word, a, head, f"{word} {_esc(name)}",
                       lambda: self.stmt(s.body, name if s.is_producer else func))
        elif cls is N.Realize:
            bounds = ", ".join(f"[{self.expr(r.min)}, {self.expr(r.extent)}]" for r in s.bounds)
            a = self.anchor("realize")
            self.block("realize", a, f'{kw("realize")} <span class="fn">{_esc(s.fn.name)}</span>({bounds})',
                       None, lambda: self.stmt(s.body, func))
        elif cls is N.Allocate:
            a = self.anchor("alloc")
            size = expr_to_string(s.size)
            self.funcs.setdefault(s.buf.name, {"allocs": [], "loops": []})["allocs"].append(
                f"{s.type} * {size} in {s.memory.value}")
            head = (f'{kw("allocate")} <span class="fn">{_esc(s.buf.name)}</span>'
                    f"[{_esc(str(s.type))} * {_esc(size)}] in {_esc(s.memory.value)}")
            self.produce_anchor.setdefault(s.buf.name, a)
            self.block("allocate", a, head, f"allocate {_esc(s.buf.name)}", lambda: self.stmt(s.body, func))
        elif cls is N.Block:
            for sub in s.stmts:
                self.stmt(sub, func)
        elif cls is N.IfThenElse:
            a = self.anchor("if")
            self.block("if", a, f"{kw('if')} ({self.expr(s.condition)})", None,
                       lambda: self.stmt(s.then_case, func))
            if s.else_case is not None:
                self.block("else", self.anchor("else"), kw("else"), None, lambda: self.stmt(s.else_case, func))
        elif cls is N.Provide:
            vals = ", ".join(self.expr(v) for v in s.values)
            if len(s.values) > 1:
                vals = "{" + vals + "}"
            args = ", ".join(self.expr(x) for x in s.args)
            self.line(f'<span class="fn">{_esc(s.fn.name)}</span>({args}) = {vals}')
        elif cls is N.Store:
            self.line(f'<span class="fn">{_esc(s.buf.name)}</span>[{self.expr(s.index)}] = {self.expr(s.value)}')
        elif cls is N.Evaluate:
            self.line(self.expr(s.value))
        elif cls is N.Prefetch or cls is N.PrefetchAddress:
            self.line(_esc(stmt_to_string(s).strip()))
        else:
            self.line(_esc(f"<{cls.__name__}>"))


def _fn_span(name: str) -> str:
    return f'<span class="fn">{_esc(name)}</span>'


def _link_funcs(text: str, anchors: dict) -> str:
    """Make each `<span class="fn">name</span>` a link to that Func's produce block."""
    for name, a in anchors.items():
        span = f'<span class="fn">{_esc(name)}</span>'
        text = text.replace(span, f'<a href="#{a}">{span}</a>')
    return text


def to_html(node, title: str = "lowered statement") -> str:
    """A complete HTML page for a LoweredFunc (or any Stmt)."""
    page = _Page()
    if isinstance(node, N.LoweredFunc):
        args = ", ".join(_esc(a.sym.name) for a in node.args)
        heading = f"func {_esc(node.name)}({args})"
        body = node.body
    else:
        heading, body = _esc(title), node
    page.stmt(body)
    rows = "".join(
        f"<tr><td>{_link_funcs(_fn_span(name), page.produce_anchor)}</td>"
        f"<td>{'<br>'.join(map(_esc, info['allocs'])) or '-'}</td>"
        f"<td>{'<br>'.join(map(_esc, info['loops'])) or '-'}</td></tr>"
        for name, info in page.funcs.items())
    main = _link_funcs("\n".join(page.body), page.produce_anchor)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{_esc(title)}</title>"
            f"<style>{_CSS}</style><script>{_SCRIPT}</script></head>\n<body>\n"
            f"<nav><b>{heading}</b><ul>{''.join(page.nav)}</ul></nav>\n"
            f"<main><h3 class=\"code\">{heading}</h3>"
            f"<button onclick=\"setAll(true)\">expand all</button> "
            f"<button onclick=\"setAll(false)\">collapse all</button>\n"
            f"<table><tr><th>Func / buffer</th><th>allocations</th><th>loops</th></tr>{rows}</table>\n"
            f"{main}\n</main>\n</body></html>\n")
