"""Loop synthesis: build each Func's loop nest from its schedule and place it.

Runs first. For every stage of every non-inlined Func it builds the loops
its `StageSchedule` asks for, in terms of the region the stage must cover
(`f.s0.x.min` .. `f.s0.x.max`, defined later by bounds inference); then it
injects each producer's `produce`/`consume` at its compute level and its
`Realize` at its store level, consumers first. Calls to inlined Funcs are
replaced by their definitions.

    f.compute_at(g, y)        realize f {
                        =>      for g.s0.y: produce f { for f.s0.y: for f.s0.x: f(..) = .. }
                                            consume f { for g.s0.x: g(..) = f(..) } }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering import names as L
from pipelang.schedule import LoopLevel, SplitKind, TailStrategy
from pipelang.var import var_symbol


def is_inlined(fn, outputs) -> bool:
    """Whether calls to `fn` are replaced by its definition. An output left
    inlined is both computed into its buffer and inlined into its consumers,
    as in Halide."""
    return fn.schedule.compute_level.is_inlined() and not fn.updates


class _Inliner(ir.IRMutator):
    """Replace calls to inlined Funcs by their (recursively inlined) values."""

    def __init__(self, env, outputs):
        self.env = env
        self.outputs = outputs

    def mutate_Call(self, node):
        node = self.generic_mutate(node)
        if node.kind is not ir.CallKind.FUNC:
            return node
        fn = self.env[node.fn]
        if not is_inlined(fn, self.outputs):
            return node
        mapping = {var_symbol(a): arg for a, arg in zip(fn.args, node.args)}
        return self.mutate(ir.substitute(mapping, fn.init.values[node.value_index]))


def _tail(split, fn, k: int, is_rvar: bool, is_output: bool) -> TailStrategy:
    t = split.tail
    if t in (TailStrategy.Predicate, TailStrategy.PredicateLoads, TailStrategy.PredicateStores):
        return TailStrategy.GuardWithIf
    if is_rvar or k > 0:
        # Recomputing (ShiftInwards) or overcomputing (RoundUp) an update is wrong.
        return TailStrategy.GuardWithIf if (is_rvar or t is not TailStrategy.RoundUp or is_output) \
            else TailStrategy.RoundUp
    if t is TailStrategy.Auto:
        return TailStrategy.ShiftInwards
    return t


def build_stage(fn, k: int, inliner, is_output: bool) -> ir.Stmt:
    """The loop nest of stage `k` of `fn`, with its loop bounds defined by lets."""
    d = fn.stages()[k]
    sched = d.schedule
    rvar_names = {r.name for r in d.rvars}
    mapping = {var_symbol(a): L.v(L.loop(fn, k, a)) for a in fn.args}
    mapping.update({r.sym: L.v(L.loop(fn, k, r.name)) for r in d.rvars})
    args = tuple(inliner.mutate(ir.substitute(mapping, a)) for a in d.args)
    values = tuple(inliner.mutate(ir.substitute(mapping, val)) for val in d.values)
    body: ir.Stmt = ir.Provide(fn.sym, values, args)
    if d.predicate is not None:
        body = ir.IfThenElse(inliner.mutate(ir.substitute(mapping, d.predicate)), body)

    def var(name):
        return L.v(L.loop(fn, k, name))

    # Loop bounds, outermost definitions first.
    bound_lets = []
    for a in fn.args:
        if a in {dim.var for dim in sched.dims} or any(
                a in (s.old, s.inner, s.outer) for s in sched.splits):
            mn = L.v(L.region_min(fn, k, a))
            bound_lets.append((L.loop_min(fn, k, a), mn))
            bound_lets.append((L.loop_extent(fn, k, a),
                               ir.Add(ir.Sub(L.v(L.region_max(fn, k, a)), mn), ir.i32(1))))
    for r in d.rvars:
        bound_lets.append((L.loop_min(fn, k, r.name), ir.substitute(mapping, r.min)))
        bound_lets.append((L.loop_extent(fn, k, r.name), ir.substitute(mapping, r.extent)))

    # Each split defines its old var from the new loop vars, innermost.
    defs = []
    for s in sched.splits:
        root = s.old.split(".")[0] if s.kind is not SplitKind.FUSE else s.inner.split(".")[0]
        is_rvar = root in rvar_names
        if s.kind is SplitKind.SPLIT:
            f = s.factor
            old_ext = L.v(L.loop_extent(fn, k, s.old))
            bound_lets += [
                (L.loop_min(fn, k, s.outer), ir.i32(0)),
                (L.loop_extent(fn, k, s.outer),
                 ir.Div(ir.Add(old_ext, ir.Sub(f, ir.i32(1))), f)),
                (L.loop_min(fn, k, s.inner), ir.i32(0)),
                (L.loop_extent(fn, k, s.inner), f),
            ]
            tail = _tail(s, fn, k, is_rvar, is_output)
            base = ir.Mul(var(s.outer), f)
            if tail is TailStrategy.ShiftInwards:
                # The last iteration shifts back to end at the max; if the extent is
                # less than the factor this reaches below the min, and bounds
                # inference grows the region (realize() grows an output to match).
                base = ir.Min(base, ir.Sub(old_ext, f))
            value = ir.Add(ir.Add(base, var(s.inner)), L.v(L.loop_min(fn, k, s.old)))
            guard = tail is TailStrategy.GuardWithIf
            if guard:
                bound_lets.append((L.loop_max(fn, k, s.old),
                                   ir.Sub(ir.Add(L.v(L.loop_min(fn, k, s.old)), old_ext), ir.i32(1))))
            defs.append((L.loop(fn, k, s.old), value, guard))
        elif s.kind is SplitKind.FUSE:
            # max(.., 1) changes nothing at run time (an empty loop never runs the
            # body) but tells bounds inference the divisor is positive.
            inner_ext = ir.Max(L.v(L.loop_extent(fn, k, s.inner)), ir.i32(1))
            bound_lets += [
                (L.loop_min(fn, k, s.old), ir.i32(0)),
                (L.loop_extent(fn, k, s.old),
                 ir.Mul(L.v(L.loop_extent(fn, k, s.outer)), L.v(L.loop_extent(fn, k, s.inner)))),
            ]
            defs.append((L.loop(fn, k, s.inner),
                         ir.Add(ir.Mod(var(s.old), inner_ext), L.v(L.loop_min(fn, k, s.inner))), False))
            defs.append((L.loop(fn, k, s.outer),
                         ir.Add(ir.Div(var(s.old), inner_ext), L.v(L.loop_min(fn, k, s.outer))), False))
        else:
            bound_lets += [(L.loop_min(fn, k, s.outer), L.v(L.loop_min(fn, k, s.old))),
                           (L.loop_extent(fn, k, s.outer), L.v(L.loop_extent(fn, k, s.old)))]
            defs.append((L.loop(fn, k, s.old), var(s.outer), False))

    # Later splits refine earlier ones' vars, so the first split's let is innermost.
    for sym, value, guard in defs:
        if guard:
            body = ir.IfThenElse(ir.Intrinsic(ir.Bool(), ir.Op.LIKELY,
                                              (ir.LE(ir.Variable(ir.Int(32), sym),
                                                     L.v(sym.field("loop_max"))),)), body)
        body = ir.LetStmt(sym, value, body)

    for dim in sched.dims:
        body = ir.For(L.loop(fn, k, dim.var), L.v(L.loop_min(fn, k, dim.var)),
                      L.v(L.loop_extent(fn, k, dim.var)), dim.kind, body)
    for sym, value in reversed(bound_lets):
        body = ir.LetStmt(sym, value, body)
    return body


def build_produce(fn, inliner, is_output: bool) -> ir.Stmt:
    return ir.block(*[build_stage(fn, k, inliner, is_output) for k in range(len(fn.stages()))])


# ---------------------------------------------------------------- placing producers

class _Sites(ir.IRVisitor):
    """The loops enclosing each use of one Func, to find where it may be computed."""

    def __init__(self, target):
        self.target = target
        self.stack: list = []
        self.common: list | None = None
        self.users: list = []

    def visit_For(self, node):
        self.stack.append(node.sym)
        self.generic_visit(node)
        self.stack.pop()

    def visit_ProducerConsumer(self, node):
        if node.is_producer:
            self.stack.append(node)
            self.generic_visit(node)
            self.stack.pop()
        else:
            self.generic_visit(node)

    def visit_Call(self, node):
        if node.fn is self.target:
            here = list(self.stack)
            if self.common is None:
                self.common = here
            else:
                n = 0
                while n < min(len(here), len(self.common)) and here[n] is self.common[n]:
                    n += 1
                self.common = self.common[:n]
            producer = next((p for p in reversed(here) if isinstance(p, ir.ProducerConsumer)), None)
            if producer is not None and producer.fn not in self.users:
                self.users.append(producer.fn)
        self.generic_visit(node)


def _resolve(level: LoopLevel, env):
    """The loop symbol a LoopLevel names, the produce node's Func symbol for
    `Var.outermost()`, or None if the Func has no such var."""
    fn = level.func
    if fn.sym not in env or not fn.defined():
        return None
    k = level.stage_index if level.stage_index >= 0 else len(fn.stages()) - 1
    if level.var == "__outermost":
        return ("outermost", fn.sym)
    for dim in fn.stages()[k].schedule.dims:
        if dim.var == level.var or dim.var.endswith("." + level.var):
            return L.loop(fn, k, dim.var)
    return None


def _level_source(fn, level: LoopLevel) -> str:
    if level.is_root():
        return "root"
    var = level.var if level.var != "__outermost" else "Var::outermost()"
    return f"{level.func.name}, {var}"


def _legal_message(fn, sites: _Sites, env, directive: str) -> str:
    lines = [f'Func "{fn.name}" is computed at the following invalid location:',
             f"  {directive}", "Legal locations for this function are:",
             f"  {fn.name}.compute_root();"]
    for item in sites.common or []:
        if isinstance(item, ir.ProducerConsumer):
            lines.append(f"  {fn.name}.compute_at({item.fn.name}, Var::outermost());")
        else:
            owner = item.name.split(".s", 1)[0]
            lines.append(f"  {fn.name}.compute_at({owner}, {item.name.split('.')[-1]});")
    users = ", ".join(u.name for u in sites.users) or "nothing"
    lines.append(f'"{fn.name}" is used by: {users}')
    return "\n".join(lines)


class _InjectAt(ir.IRMutator):
    def __init__(self, target, wrap):
        self.target = target
        self.wrap = wrap
        self.found = False

    def mutate_For(self, node):
        if node.sym is self.target:
            self.found = True
            return ir.For(node.sym, node.min, node.extent, node.kind, self.wrap(node.body))
        return self.generic_mutate(node)

    def mutate_ProducerConsumer(self, node):
        if isinstance(self.target, tuple) and node.is_producer and node.fn is self.target[1]:
            self.found = True
            return ir.ProducerConsumer(node.fn, True, self.wrap(node.body))
        return self.generic_mutate(node)


def _inject_at(s, target, wrap):
    m = _InjectAt(target, wrap)
    out = m.mutate(s)
    assert m.found, target
    return out


def _inject(s: ir.Stmt, fn, env, inliner) -> ir.Stmt:
    sched = fn.schedule
    compute, store = sched.compute_level, sched.store_level
    if compute.is_inlined():          # a Func with updates cannot be inlined: compute it at root
        compute = store = LoopLevel.root()
    if store.is_inlined():
        store = compute
    sites = _Sites(fn.sym)
    sites.visit(s)
    if sites.common is None:
        return s                      # nothing uses it (e.g. only an unused branch)
    common = sites.common

    def directive():
        parts = []
        if store != compute:
            parts.append(f"store_at({_level_source(fn, store)})" if not store.is_root() else "store_root()")
        parts.append(f"compute_at({_level_source(fn, compute)})" if not compute.is_root() else "compute_root()")
        return fn.name + "." + ".".join(parts) + ";"

    def resolve(level):
        if level.is_root():
            return None
        t = _resolve(level, env)
        ok = t is not None and any(
            (isinstance(t, tuple) and isinstance(c, ir.ProducerConsumer) and c.fn is t[1]) or c is t
            for c in common)
        if not ok:
            raise ScheduleError(_legal_message(fn, sites, env, directive()))
        return t

    c_target, s_target = resolve(compute), resolve(store)

    def position(t):
        if t is None:
            return -1
        for i, c in enumerate(common):
            if c is t or (isinstance(t, tuple) and isinstance(c, ir.ProducerConsumer) and c.fn is t[1]):
                return i
        return -1

    if position(s_target) > position(c_target):
        raise ScheduleError(f'Func "{fn.name}" is stored inside the loop where it is computed '
                            f'({directive()}): store_at must be at or outside compute_at.\n'
                            + _legal_message(fn, sites, env, directive()))

    produce = ir.ProducerConsumer(fn.sym, True, build_produce(fn, inliner, False))

    def computed(body):
        return ir.block(produce, ir.ProducerConsumer(fn.sym, False, body))

    def realized(body):
        bounds = tuple(ir.Range(L.v(L.realized_min(fn, a)), L.v(L.realized_extent(fn, a)))
                       for a in fn.args)
        return ir.Realize(fn.sym, fn.output_types, bounds, body)

    if c_target is None:
        return realized(computed(s))
    if s_target is c_target:
        return _inject_at(s, c_target, lambda b: realized(computed(b)))
    s = _inject_at(s, c_target, computed)
    if s_target is None:
        return realized(s)
    return _inject_at(s, s_target, realized)


def schedule_functions(outputs: list, env: dict, order: list) -> ir.Stmt:
    inliner = _Inliner(env, outputs)
    s = ir.block(*[ir.ProducerConsumer(out.sym, True, build_produce(out, inliner, True))
                   for out in outputs])
    for fn in reversed(order):
        if fn in outputs or is_inlined(fn, outputs):
            continue
        s = _inject(s, fn, env, inliner)
    return s
