"""`print_loop_nest`: the loop structure of a pipeline, in Halide's format.

    produce g:
      parallel y.yo:
        for x.xo:
          produce f:
            ...
          consume f:
            vectorized x.xi in [0, 7]:
              g(...) = ...
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.analysis.constant_extent import LetScope
from pipelang.lowering.simplify import simplify

_KIND = {ir.ForKind.SERIAL: "for", ir.ForKind.PARALLEL: "parallel",
         ir.ForKind.VECTORIZED: "vectorized", ir.ForKind.UNROLLED: "unrolled",
         ir.ForKind.GPU_BLOCK: "gpu_block", ir.ForKind.GPU_THREAD: "gpu_thread",
         ir.ForKind.GPU_LANE: "gpu_lane"}


class _Printer:
    def __init__(self, env):
        self.env = env
        self.lines: list = []
        self.lets = LetScope()

    def emit(self, depth, text):
        self.lines.append("  " * depth + text)

    def const(self, e):
        return self.lets.constant(simplify(e))

    def stmt(self, s, depth):
        if isinstance(s, ir.Block):
            for sub in s.stmts:
                self.stmt(sub, depth)
        elif isinstance(s, ir.LetStmt):
            token = self.lets.push(s.sym, s.value)
            self.stmt(s.body, depth)
            self.lets.pop(token)
        elif isinstance(s, ir.ProducerConsumer):
            word = "produce" if s.is_producer else "consume"
            self.emit(depth, f"{word} {_trim(s.fn.name)}:")
            self.stmt(s.body, depth + 1)
        elif isinstance(s, ir.Realize):
            body = s.body
            inner = body.stmts[0] if isinstance(body, ir.Block) else body
            while isinstance(inner, (ir.LetStmt, ir.Realize)):   # (a fused group's Realizes nest)
                inner = inner.body
            if isinstance(inner, ir.Block):
                inner = inner.stmts[0]
            if isinstance(inner, ir.ProducerConsumer) and s.fn in _produced(inner):
                self.stmt(body, depth)
            else:
                self.emit(depth, f"store {_trim(s.fn.name)}:")
                self.stmt(body, depth + 1)
        elif isinstance(s, ir.For):
            fn = self.env.get(_owner_sym(s.sym, self.env))
            name = L.dim_name(fn, s.sym) if fn is not None else s.sym.name
            name = ".".join(_trim(part) for part in name.split("."))
            lo, ext = self.const(s.min), self.const(s.extent)
            if ext == 1 and not s.kind.is_gpu():     # simplified away, as in Halide
                self.stmt(s.body, depth)
                return
            bounds = f" in [{lo}, {lo + ext - 1}]" if lo is not None and ext is not None else ""
            api = "<Default_GPU>" if s.kind.is_gpu() else ""
            self.emit(depth, f"{_KIND[s.kind]} {_trim(name)}{bounds}{api}:")
            self.stmt(s.body, depth + 1)
        elif isinstance(s, ir.IfThenElse):
            self.stmt(s.then_case, depth)
            if s.else_case is not None:
                self.stmt(s.else_case, depth)
        elif isinstance(s, ir.Atomic):
            self.stmt(s.body, depth)
        elif isinstance(s, ir.Provide):
            self.emit(depth, f"{_trim(s.fn.name)}(...) = ...")


def _trim(name: str) -> str:
    """As Halide prints names in a loop nest: without uniqueness suffixes
    (`f$2` -> `f`, `f_in_g$0` -> `f_in_g`, `r$x` -> `r`, `x.r$y.ri` -> `x.r.ri`)."""
    return ".".join(part.split("$", 1)[0] for part in name.split("."))


def _owner_sym(loop_sym, env):
    for sym, fn in env.items():
        if loop_sym.name.startswith(fn.name + ".s"):
            return sym
    return None


def _produced(s) -> set:
    """The Funcs of the produce nodes nested directly in `s` (one, or a fused group's)."""
    out = set()
    while isinstance(s, ir.ProducerConsumer) and s.is_producer:
        out.add(s.fn)
        s = s.body
    return out


def loop_nest_text(outputs: list) -> str:
    from pipelang.lowering.lower import lower_to_loop_nest
    from pipelang.lowering.sliding_window import sliding_window
    from pipelang.lowering.compute_with import fuse_compute_with
    s, env, order, _, _, wrapped = lower_to_loop_nest(outputs)
    s = sliding_window(s, env)     # as Halide's: rewound loops print as `y.`
    s = fuse_compute_with(s, env, order, wrapped)
    p = _Printer(env)
    p.stmt(s, 0)
    return "\n".join(p.lines) + "\n"
