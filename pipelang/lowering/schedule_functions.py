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

import functools

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering import names as L
from pipelang.lowering.analysis.mentions import Mentions as _Mentions
from pipelang.lowering.simplify import simplify as simplify_expr
from pipelang.schedule import LoopLevel, SplitKind, TailStrategy, stems_from_inner
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


def _tail(split, fn, k: int, is_rvar: bool, is_output: bool, prior=()) -> TailStrategy:
    """The tail strategy a split of stage `k` gets; `prior` are the stage's
    splits before this one."""
    t = split.tail
    if t in (TailStrategy.Predicate, TailStrategy.PredicateLoads, TailStrategy.PredicateStores,
             TailStrategy.RoundUpAndBlend, TailStrategy.ShiftInwardsAndBlend):
        # Same values as Halide's predicated and blended tails: only the points
        # of the region are written.
        return TailStrategy.GuardWithIf
    if is_rvar:
        return TailStrategy.GuardWithIf     # extra reduction steps would change the result
    if k > 0:
        # A pure var of an update may round up (Halide's Auto): bounds inference
        # makes the earlier stages cover the rounded-up region too. Recomputing
        # points (ShiftInwards) would apply the update twice, and so would
        # rounding up a var that stems from an earlier split's inner var.
        if t in (TailStrategy.Auto, TailStrategy.RoundUp) and not stems_from_inner(split.old, prior):
            return TailStrategy.RoundUp
        return TailStrategy.GuardWithIf
    if t is TailStrategy.Auto:
        return TailStrategy.ShiftInwards
    return t


def build_stage(fn, k: int, inliner, is_output: bool) -> ir.Stmt:
    """The loop nest of stage `k` of `fn`, with its loop bounds defined by lets;
    with specializations, an if/else chain over a whole loop nest for each."""
    return _build_specialized(fn, k, fn.stages()[k], inliner, is_output, {})


def _facts(cond: ir.Expr, holds: bool) -> dict:
    """Param values implied by a specialization condition being true (or false):
    `p == 3` gives p = 3; a boolean `b` gives b = true (b = false)."""
    if isinstance(cond, ir.Variable) and cond.type.is_bool():
        return {cond.sym: ir.make_const(cond.type, int(holds))}
    if isinstance(cond, ir.EQ) and isinstance(cond.a, ir.Variable) and ir.is_const(cond.b):
        if holds:
            return {cond.a.sym: cond.b}
        if cond.b.type.is_bool():
            return {cond.a.sym: ir.make_const(cond.b.type, 1 - int(ir.const_value(cond.b)))}
    return {}


def _build_specialized(fn, k: int, d, inliner, is_output: bool, known: dict) -> ir.Stmt:
    """Halide's lowering of specializations: conditions simplified under what
    the enclosing ones imply; a false one is dropped, a true one ends the chain
    (and replaces the general definition unless it is specialize_fail); a
    branch identical to what follows it is merged into it."""
    specs = []
    for sp in d.specializations:
        c = simplify_expr(ir.substitute(known, sp.condition)) if known else simplify_expr(sp.condition)
        if ir.is_const(c, 0):
            continue
        specs.append((c, sp))
        if ir.is_const(c, 1):
            break
    default = d
    else_known = dict(known)
    for c, _ in specs:
        else_known.update(_facts(c, False))
    if specs and ir.is_const(specs[-1][0], 1) and specs[-1][1].failure_message is None:
        default = specs.pop()[1].definition
        stmt = _build_specialized(fn, k, default, inliner, is_output, else_known)
    else:
        stmt = _build_definition(fn, k, default, inliner, is_output, else_known)
    for i in reversed(range(len(specs))):
        c, sp = specs[i]
        if sp.failure_message is not None:
            message = "A schedule specialized with specialize_fail() was chosen: " + sp.failure_message
            then = ir.AssertStmt(ir.make_const(ir.Bool(), 0), message.replace("{", "{{").replace("}", "}}"))
            if ir.is_const(c, 1):
                stmt = then
                continue
        else:
            here = dict(known)
            for c_before, _ in specs[:i]:
                here.update(_facts(c_before, False))
            here.update(_facts(c, True))
            then = _build_specialized(fn, k, sp.definition, inliner, is_output, here)
        if then != stmt:
            stmt = ir.IfThenElse(c, then, stmt)
    return stmt


def _build_definition(fn, k: int, d, inliner, is_output: bool, known: dict) -> ir.Stmt:
    """The loop nest of one definition (or specialization) of stage `k`."""
    sched = d.schedule
    rvar_names = {r.name for r in d.rvars}
    mapping = dict(known)
    mapping.update({var_symbol(a): L.v(L.loop(fn, k, a)) for a in fn.args})
    mapping.update({r.sym: L.v(L.loop(fn, k, r.name)) for r in d.rvars})
    args = tuple(inliner.mutate(ir.substitute(mapping, a)) for a in d.args)
    values = tuple(inliner.mutate(ir.substitute(mapping, val)) for val in d.values)
    body: ir.Stmt = ir.Provide(fn.sym, values, args)
    if sched.atomic:
        body = ir.Atomic(fn.sym, body)
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
    for dim in sched.dims:
        if dim.var.startswith("__"):         # gpu_single_thread's one block of one thread
            bound_lets += [(L.loop_min(fn, k, dim.var), ir.i32(0)), (L.loop_extent(fn, k, dim.var), ir.i32(1))]
    for r in d.rvars:
        bound_lets.append((L.loop_min(fn, k, r.name), ir.substitute(mapping, r.min)))
        bound_lets.append((L.loop_extent(fn, k, r.name), ir.substitute(mapping, r.extent)))

    # Each split defines its old var from the new loop vars, innermost.
    defs = []
    for si, s in enumerate(sched.splits):
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
            tail = _tail(s, fn, k, is_rvar, is_output, sched.splits[:si])
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

    def __init__(self, target, mentions=None):
        self.target = target
        self.mentions = mentions    # a _Mentions: subtrees without the target are skipped
        self.stack: list = []
        self.common: list | None = None
        self.users: list = []
        self.kinds: dict = {}

    def _skip(self, node) -> bool:
        return self.mentions is not None and self.target not in self.mentions.of(node)

    def visit_For(self, node):
        if self._skip(node):
            return
        self.kinds[node.sym] = node.kind
        self.stack.append(node.sym)
        self.generic_visit(node)
        self.stack.pop()

    def visit_LetStmt(self, node):
        if not self._skip(node):
            self.generic_visit(node)

    visit_IfThenElse = visit_Realize = visit_LetStmt

    def visit_ProducerConsumer(self, node):
        if self._skip(node):
            return
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


def _candidates(level: LoopLevel, env) -> list:
    """Every loop a LoopLevel can mean: the loop over its var in each stage of
    its Func (Halide matches by Func and var name, whatever the stage), or the
    produce node of the Func for `Var.outermost()`."""
    fn = level.func
    if fn.sym not in env or not fn.defined():
        return []
    if level.var == "__outermost":
        return [("outermost", fn.sym)]
    stages = range(len(fn.stages())) if level.stage_index < 0 else [level.stage_index]
    out = []
    for k in stages:
        for d in _with_specializations(fn.stages()[k]):
            for dim in d.schedule.dims:
                if dim.var == level.var or dim.var.endswith("." + level.var):
                    sym = L.loop(fn, k, dim.var)
                    if sym not in out:
                        out.append(sym)
    return out


def _with_specializations(d) -> list:
    out = [d]
    for sp in d.specializations:
        out += _with_specializations(sp.definition)
    return out


def _level_of(loop_sym, env) -> LoopLevel:
    """The LoopLevel naming the loop `loop_sym` (a stage loop of some Func)."""
    for fn in env.values():
        for k, stage in enumerate(fn.stages()):
            for d in _with_specializations(stage):
                for dim in d.schedule.dims:
                    if L.loop(fn, k, dim.var) is loop_sym:
                        return LoopLevel(fn, dim.var, k)
    raise AssertionError(loop_sym)


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


def _is_site(node, targets) -> bool:
    if isinstance(node, ir.For):
        return any(t is node.sym for t in targets)
    if isinstance(node, ir.ProducerConsumer) and node.is_producer:
        return any(isinstance(t, tuple) and t[1] is node.fn for t in targets)
    return False


def _with_body(node, body):
    if isinstance(node, ir.For):
        return ir.For(node.sym, node.min, node.extent, node.kind, body)
    return ir.ProducerConsumer(node.fn, node.is_producer, body)


class _InjectAt(ir.IRMutator):
    """Wrap the body of each target loop that `wanted(body)` accepts."""

    def __init__(self, targets, wrap, wanted, inside_vector=False, sym=None, mentions=None):
        self.targets = targets
        self.wrap = wrap
        self.wanted = wanted
        self.count = 0
        self.inside_vector = inside_vector
        # With `mentions`, statements that don't name Func `sym` are left as
        # they are: `wanted` accepts only bodies that do.
        self.sym = sym
        self.mentions = mentions

    def generic_mutate(self, node):
        if isinstance(node, ir.Expr):
            return node             # (no statement lies inside an expression)
        if self.mentions is not None and self.sym not in self.mentions.of(node):
            return node
        if _is_site(node, self.targets) and self.wanted(node.body):
            self.count += 1
            if (isinstance(node, ir.For) and node.kind is ir.ForKind.VECTORIZED
                    and not self.inside_vector):
                # The whole vectorized loop is one vector iteration: "inside" it
                # is once around it, over the region of all its lanes.
                return self.wrap(node)
            return _with_body(node, self.wrap(node.body))
        return super().generic_mutate(node)


class _Count(ir.IRVisitor):
    """Calls of one Func, and how many are outside its consume blocks."""

    def __init__(self, sym, mentions=None):
        self.sym = sym
        self.mentions = mentions    # a _Mentions: subtrees without sym are skipped
        self.calls = 0
        self.outside = 0
        self.depth = 0
        self.produces_outside_realize = 0
        self.realize_depth = 0

    def _skip(self, node) -> bool:
        return self.mentions is not None and self.sym not in self.mentions.of(node)

    def visit_For(self, node):
        if not self._skip(node):
            self.generic_visit(node)

    # (A statement's expressions are walked only where they call sym: this
    # count runs two to four times per Func over the whole pipeline.)
    visit_LetStmt = visit_IfThenElse = visit_Provide = visit_Evaluate = visit_For

    def visit_ProducerConsumer(self, node):
        if self._skip(node):
            return
        if node.fn is self.sym and not node.is_producer:
            self.depth += 1
            self.generic_visit(node)
            self.depth -= 1
            return
        if node.fn is self.sym and node.is_producer:
            # Its own update stages read it: those reads are not uses by consumers.
            self.produces_outside_realize += not self.realize_depth
            return
        self.generic_visit(node)

    def visit_Realize(self, node):
        if self._skip(node):
            return
        mine = node.fn is self.sym
        self.realize_depth += mine
        self.generic_visit(node)
        self.realize_depth -= mine

    def visit_Call(self, node):
        if node.fn is self.sym:
            self.calls += 1
            self.outside += not self.depth
        if not self._skip(node):
            self.generic_visit(node)


def _count(s, sym, mentions=None) -> _Count:
    c = _Count(sym, mentions)
    c.visit(s)
    return c


def _inject(s: ir.Stmt, fn, env, inliner, mentions=None) -> ir.Stmt:
    sched = fn.schedule
    compute, store = sched.compute_level, sched.store_level
    if mentions is not None:
        # Its own produce and Realize are not placed yet: a mention is a call.
        if fn.sym not in mentions.of(s):
            return s                  # nothing uses it
    elif _count(s, fn.sym).calls == 0:
        return s                      # nothing uses it
    if compute.is_root():
        # Around the whole pipeline: no walk for the loops around its uses,
        # which matter only to a Func placed among them (and to the message
        # when it can't be): two fifths of loop synthesis on local_laplacian.
        _check_hoist(fn, compute if store.is_inlined() else store, env)
        produce = ir.ProducerConsumer(fn.sym, True, build_produce(fn, inliner, False))
        return _realized(fn, _computed(produce, fn.sym, s))
    sites = _Sites(fn.sym, mentions)
    sites.visit(s)
    inside_vector = False
    if compute.is_inlined():
        # A Func with updates cannot be inlined; as in Halide it is computed
        # (and stored) at the innermost loop enclosing all its uses. When that
        # is a vectorized loop (or a loop inside one), it is within the
        # vectorized loop's body, so vectorization widens the Func to one
        # vector per element (a vector of partial sums for an inline `sum`)
        # rather than a scalar loop over the lanes before it.
        loops = [c for c in sites.common or [] if not isinstance(c, ir.ProducerConsumer)]
        inside_vector = any(sites.kinds.get(c) is ir.ForKind.VECTORIZED for c in loops)
        compute = store = _level_of(loops[-1], env) if loops else LoopLevel.root()
    if store.is_inlined():
        store = compute
    _check_hoist(fn, store, env)

    def directive():
        parts = []
        if store != compute:
            parts.append(f"store_at({_level_source(fn, store)})" if not store.is_root() else "store_root()")
        parts.append(f"compute_at({_level_source(fn, compute)})" if not compute.is_root() else "compute_root()")
        return fn.name + "." + ".".join(parts) + ";"

    produce = ir.ProducerConsumer(fn.sym, True, build_produce(fn, inliner, False))

    def uses(body):
        return _count(body, fn.sym, mentions).calls > 0

    # Partials, not closures: compiled, closures that call each other share
    # one scope that holds them, a cycle that would keep `mentions` (and the
    # statements its memo holds) alive until the cycle collector's next pass.
    computed = functools.partial(_computed, produce, fn.sym)
    realized = functools.partial(_realized, fn)

    if compute.is_root():
        return realized(computed(s))
    same = store == compute
    inject = _InjectAt(_candidates(compute, env),
                       functools.partial(_realized_computed, fn, produce) if same else computed,
                       uses, inside_vector, fn.sym, mentions)
    out = inject.mutate(s)
    if inject.count == 0 or _count(out, fn.sym, mentions).outside:
        raise ScheduleError(_legal_message(fn, sites, env, directive()))
    if same:
        return out
    if store.is_root():
        return realized(out)

    def holds_produce(body):
        return bool(_count(body, fn.sym, mentions).produces_outside_realize)
    out = _InjectAt(_candidates(store, env), realized, holds_produce, False,
                    fn.sym, mentions).mutate(out)
    if _count(out, fn.sym, mentions).produces_outside_realize:
        raise ScheduleError(f'Func "{fn.name}" is stored inside the loop where it is computed '
                            f'({directive()}): store_at must be at or outside compute_at.\n'
                            + _legal_message(fn, sites, env, directive()))
    return out


def _computed(produce, sym, body) -> ir.Stmt:
    """`body` as the consumer of `produce`."""
    return ir.block(produce, ir.ProducerConsumer(sym, False, body))


def _realized(fn, body) -> ir.Stmt:
    """`body` inside Func `fn`'s Realize over its realized bounds."""
    bounds = tuple(ir.Range(L.v(L.realized_min(fn, a)), L.v(L.realized_extent(fn, a)))
                   for a in fn.args)
    return ir.Realize(fn.sym, fn.output_types, bounds, body)


def _realized_computed(fn, produce, body) -> ir.Stmt:
    return _realized(fn, _computed(produce, fn.sym, body))


def _check_hoist(fn, store: LoopLevel, env) -> None:
    """hoist_storage must name a loop of the pipeline (or root); ring_buffer
    needs a hoist level distinct from the store level (Halide's rules)."""
    hoist = fn.schedule.hoist_storage_level
    if not hoist.is_inlined() and not hoist.is_root() and not _candidates(hoist, env):
        raise ScheduleError(f'Func "{fn.name}" is scheduled hoist_storage({_level_source(fn, hoist)}), '
                            f'but that is not a loop of this pipeline')
    if fn.schedule.ring_buffer is not None and (hoist.is_inlined() or hoist == store):
        raise ScheduleError(f'Func "{fn.name}" is scheduled with ring_buffer(), but has matching '
                            f'store_at and hoist_storage levels. Add an explicit hoist_storage '
                            f'directive to the schedule to fix the issue.')


def schedule_functions(outputs: list, env: dict, order: list) -> ir.Stmt:
    inliner = _Inliner(env, outputs)
    s = ir.block(*[ir.ProducerConsumer(out.sym, True, build_produce(out, inliner, True))
                   for out in outputs])
    mentions = _Mentions()
    for fn in reversed(order):
        if fn in outputs or is_inlined(fn, outputs):
            continue
        s = _inject(s, fn, env, inliner, mentions)
    return s
