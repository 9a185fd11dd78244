"""A schedule as plain data (`Plan`), printed as a Python module and applied by
running that module: what the autoscheduler applies is exactly what a user
pastes.

    plan.funcs["blur_y"].stages[0] = [("split", "y", "yo", "yi", 32), ("parallel", "yo"),
                                       ("vectorize", "x", 16)]
    print(render(plan, "blur"))       # a module defining apply_schedule(pipeline)
    apply_source(render(plan), pipeline)

The printed module looks like a hand-written schedule: the Funcs found by
name, Vars declared once, one chain per stage.
"""
from __future__ import annotations

import copy
import keyword
import weakref
from dataclasses import dataclass, field

from pipelang.schedule import FuncSchedule, StageSchedule, Dim

INLINE, ROOT = ("inline",), ("root",)


@dataclass
class FuncPlan:
    name: str
    compute: tuple = INLINE          # INLINE, ROOT or ("at", consumer name, var name)
    store: tuple | None = None       # None: where computed
    stages: dict = field(default_factory=dict)   # stage index -> [directive tuples]
    # stage index -> (handle, pure directives, update directives) of the Func an
    # ("rfactor", pairs, handle) directive ending that stage's chain creates.
    intermediates: dict = field(default_factory=dict)

    def stage(self, i: int) -> list:
        return self.stages.setdefault(i, [])


@dataclass
class Plan:
    funcs: dict = field(default_factory=dict)    # name -> FuncPlan, in printing order
    notes: list = field(default_factory=list)    # comment lines for the module docstring

    def func(self, name: str) -> FuncPlan:
        if name not in self.funcs:
            self.funcs[name] = FuncPlan(name)
        return self.funcs[name]

    def copy(self) -> "Plan":
        return copy.deepcopy(self)

    def key(self) -> tuple:
        """A hashable identity (for de-duplicating candidates)."""
        return tuple((f.name, f.compute, f.store, tuple((i, tuple(map(_freeze, ds)))
                                                        for i, ds in sorted(f.stages.items())),
                      repr(sorted(f.intermediates.items())))
                     for f in self.funcs.values())


def _freeze(d):
    return tuple(tuple(x) if isinstance(x, list) else x for x in d)


def _ident(name: str) -> str:
    """A Python identifier for a Func or Var name (Func names may hold `$`)."""
    s = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if not s or s[0].isdigit() or keyword.iskeyword(s) or s in ("hl", "pipeline", "funcs"):
        s = "f_" + s
    return s


def _is_ident(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name not in ("hl", "pipeline")


def _tail(t) -> str:
    return f"hl.TailStrategy.{t}"


def render(plan: Plan, title: str = "pipeline") -> str:
    """The schedule as a Python module defining `apply_schedule(pipeline)`."""
    handles = {}
    for name in plan.funcs:
        h = _ident(name)
        while h in handles.values():
            h += "_"
        handles[name] = h
    var_names: list = []

    def var(n: str) -> str:
        if _is_ident(n) and n not in handles.values():
            if n not in var_names:
                var_names.append(n)
            return n
        return repr(n)

    body: list = []
    for fp in plan.funcs.values():
        h = handles[fp.name]
        placement = _placement(fp, handles, var)
        body.append(h + _chain(fp.stages.get(0, []), var) + placement)
        for i in sorted(fp.stages):
            chain = _chain(fp.stages[i], var)
            if i and chain and i in fp.intermediates:
                ih, pure, update = fp.intermediates[i]
                ih = _ident(ih)
                body.append(f"{ih} = {h}.update({i - 1}){chain}")
                body.append(f"{ih}.compute_root(){_chain(pure, var)}")
                body.append(f"{ih}.update(0){_chain(update, var)}")
            elif i and chain:
                body.append(f"{h}.update({i - 1}){chain}")
    lines = [f'"""Schedule for {title}, written by pipelang\'s autoscheduler.']
    lines += [f"{n}" for n in plan.notes]
    lines += ['"""', "import pipelang as hl", "from autoscheduler import funcs_by_name", "", "",
              "def apply_schedule(pipeline):"]
    names = ", ".join(handles[n] for n in plan.funcs)
    lookups = ", ".join(f"funcs[{_portable_name(n, plan.funcs)!r}]" for n in plan.funcs)
    lines.append("    funcs = funcs_by_name(pipeline)")
    if plan.funcs:
        lines.append(f"    {names} = {lookups}")
    idents = [v for v in var_names]
    if idents:
        decl = ", ".join(f'hl.Var("{v}")' for v in idents)
        lines.append(f"    {', '.join(idents)} = {decl}")
    lines += ["    " + b for b in body]
    return "\n".join(lines) + "\n"


def _chain(directives: list, var) -> str:
    out = []
    for d in directives:
        op = d[0]
        if op == "split":
            _, old, outer, inner, factor, tail = d
            out.append(f".split({var(old)}, {var(outer)}, {var(inner)}, {factor}, {_tail(tail)})")
        elif op == "reorder":
            out.append(f".reorder({', '.join(var(v) for v in d[1])})")
        elif op == "fuse":
            out.append(f".fuse({var(d[1])}, {var(d[2])}, {var(d[3])})")
        elif op in ("vectorize", "unroll") and len(d) == 4:
            out.append(f".{op}({var(d[1])}, {d[2]}, {_tail(d[3])})")
        elif op in ("vectorize", "unroll", "parallel", "serial"):
            out.append(f".{op}({var(d[1])})")
        elif op == "rfactor":
            out.append(".rfactor([" + ", ".join(f"({var(a)}, {var(b)})" for a, b in d[1]) + "])")
        elif op == "unscheduled":
            out.append(".unscheduled()")
        else:
            raise AssertionError(f"unknown directive {d!r}")
    return "".join(out)


def _placement(fp: FuncPlan, handles: dict, var) -> str:
    def level(where):
        if where == ROOT:
            return "root", ""
        return "at", f"{handles[where[1]]}, {var(where[2])}"
    text = ""
    if fp.store is not None and fp.store != fp.compute:
        kind, args = level(fp.store)
        text += ".store_root()" if kind == "root" else f".store_at({args})"
    if fp.compute == INLINE:
        return text + ".compute_inline()"
    kind, args = level(fp.compute)
    return text + (".compute_root()" if kind == "root" else f".compute_at({args})")


# ---------------------------------------------------------------- applying

def _base_name(name: str) -> str:
    """A Func's name without the `$n` a name used before in the process gets."""
    return name.split("$", 1)[0]


def _portable_name(name: str, names) -> str:
    """The name a written schedule looks a Func up by: its base name when no
    other Func of the pipeline shares it, so the schedule applies in another
    process, where the same Func may get another (or no) `$n`."""
    base = _base_name(name)
    return base if sum(_base_name(n) == base for n in names) == 1 else name


def funcs_by_name(pipeline) -> dict:
    """Every Func a Pipeline (or Func, or list of Funcs) computes, by name,
    and by its name without a `$n` suffix where that is unambiguous."""
    from pipelang.func import Func
    from pipelang.function import registry
    from pipelang.lowering.analysis.environment import find_environment
    from pipelang.pipeline import Pipeline, _functions
    outs = pipeline.outputs() if isinstance(pipeline, Pipeline) else pipeline
    _, order = find_environment(_functions(outs), registry)
    funcs = {fn.name: Func._of(fn) for fn in order}
    for name in list(funcs):
        portable = _portable_name(name, funcs)
        funcs.setdefault(portable, funcs[name])
    return funcs


# Each Function's update definitions as the autoscheduler first saw them:
# `rfactor` replaces an update by one merging its intermediate, so a candidate
# tried and rejected must not leave its rfactor behind for the next one.
_ORIGINAL_UPDATES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def reset_schedules(pipeline) -> None:
    """Every Func back to Halide's default schedule (inlined, loops in definition
    order), and its update definitions as they were before any schedule this
    module applied (undoing an rfactor)."""
    from pipelang.function import touch
    for f in {id(f): f for f in funcs_by_name(pipeline).values()}.values():
        fn = f.function
        original = _ORIGINAL_UPDATES.get(fn)
        if original is None:
            _ORIGINAL_UPDATES[fn] = tuple(fn.updates)
        elif len(fn.updates) != len(original) or any(
                a is not b for a, b in zip(fn.updates, original)):
            fn.updates[:] = list(original)
    for f in {id(f): f for f in funcs_by_name(pipeline).values()}.values():
        fn = f.function
        fn.schedule = FuncSchedule(storage_dims=list(fn.args))
        for i, d in enumerate(fn.stages()):
            if i == 0:
                dims = [Dim(a) for a in fn.args]
            else:
                from pipelang import ir
                pure = [a.sym.name for a in d.args if isinstance(a, ir.Variable) and a.sym.name in fn.args]
                dims = [Dim(r.name, is_rvar=True) for r in d.rvars] + [Dim(p) for p in pure]
            d.schedule = StageSchedule(dims=dims)
    touch()


def apply_source(source: str, pipeline) -> None:
    """Run a schedule module's `apply_schedule` on `pipeline` (after a reset)."""
    ns: dict = {"__name__": "pipelang_schedule"}
    exec(compile(source, "<autoschedule>", "exec"), ns)
    reset_schedules(pipeline)
    ns["apply_schedule"](pipeline)
