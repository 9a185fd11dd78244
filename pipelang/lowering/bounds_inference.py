"""Bounds inference: how much of each Func to compute and to store.

Runs right after loop synthesis. For each Func, consumers first, it finds
the `produce`/`consume` pair placed by loop synthesis and defines, just
above it, the region each stage computes (`f.s0.x.min`, `f.s0.x.max`): the
box the consumers read inside that loop iteration, grown by what the Func's
own later stages read or write. Each `Realize` gets the box its body
writes (`f.x.min_realized`, `f.x.extent_realized`). Outputs compute exactly
their output buffer. (`entry_checks` then asserts that the buffers passed
in cover all of this.)

A Func computed where it is stored has its region lets taken up to the top
of the loop level it is computed at (as Halide defines the regions of a
level's Funcs there), so the Funcs it reads are bounded in terms of its
region by name rather than by its consumers' loops expanded once more per
Func: the expressions stay small however deep the pipeline. So does a Func
stored outside the loop it is computed in (sliding window expands the lets
in scope to see how its region moves with the loop, as Halide's does),
except one with an explicit `fold_storage`: its lets stay next to its
produce, written in its consumers' loop variables, where storage folding
reads its footprint.

The Funcs computed at the root are bounded in one walk of their consumers
(`_level_boxes`), each as if asked of its own consume body: their queries
would each walk the same consumers' loops, expanding the same lets of the
loop nests inside once more per Func (local_laplacian's pyramid levels,
all read inside the output's loops). The boxes then share the intervals
the walk named, as the two ends of one box do.

    produce f {..}; consume f {.. f(x - 1) .. f(x + 1) ..}
  =>
    let f.s0.x.min = g.s0.x.loop_min - 1
    let f.s0.x.max = g.s0.x.loop_max + 1
    produce f {..}; consume f {..}
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.lowering import names as L
from pipelang.lowering.analysis.boxes import reads_memory, box_union, boxes_touched
from pipelang.lowering.analysis.intervals import Interval
from pipelang.lowering.analysis.mentions import producers_in
from pipelang.lowering.schedule_functions import is_inlined
from pipelang.lowering.simplify import simplify
from pipelang.lowering.simplify_exprs import ExprSimplifier

_ASK = object()     # no box worked out yet: `_DefineRegions` asks for one


def _buffer_box(sym, dims):
    box = []
    for d in range(dims):
        mn = ir.Variable(ir.Int(32), ir.buffer_min(sym, d))
        ext = ir.Variable(ir.Int(32), ir.buffer_extent(sym, d))
        box.append(Interval(mn, ir.Sub(ir.Add(mn, ext), ir.i32(1))))
    return box


def _stage_regions(fn, consumer_box, stages_stmts, memo=None, outer=None, simp=None) -> list:
    """The box each stage of `fn` computes, last stage first, then reversed."""
    n = len(fn.stages())
    regions = [None] * n
    needed = consumer_box
    for k in range(n - 1, 0, -1):
        regions[k] = needed
        # What update k reads and writes of fn must have been computed by the
        # stages before it.
        lets = dict(outer or {})
        for x, iv in zip(fn.args, regions[k]):
            if iv.min is not None and iv.max is not None:
                lets[L.region_min(fn, k, x)] = iv.min
                lets[L.region_max(fn, k, x)] = iv.max
        touched = boxes_touched(stages_stmts[k], [fn.sym], calls=True, provides=True, lets=lets,
                                memo=memo, simplifier=simp)
        needed = box_union(needed, touched.get(fn.sym))
    # Stage 0 computes all that the updates and consumers need; no stage
    # comes before it, so what it reads of fn itself bounds nothing (and a
    # pure definition reads none): no query for it (one per Func, a tenth
    # of bounds inference on the pyramids).
    regions[0] = needed
    return regions


def _apply_bounds(fn, box):
    out = list(box)
    for b in fn.schedule.bounds:
        i = fn.args.index(b.var)
        mn = b.min if b.min is not None else out[i].min
        out[i] = Interval(mn, ir.Sub(ir.Add(mn, b.extent), ir.i32(1)))
    return out


def _bound_checks(fn, required) -> list:
    """Asserts that each `bound()` of fn covers the region its consumers need
    (Halide: "Bounds given for f in x ... do not cover required region")."""
    out = []
    for b in fn.schedule.bounds:
        i = fn.args.index(b.var)
        need = required[i]
        if need.min is None or need.max is None:
            continue
        mn = b.min if b.min is not None else need.min
        mx = ir.Sub(ir.Add(mn, b.extent), ir.i32(1))
        cond = simplify(ir.And(ir.LE(mn, need.min), ir.LE(need.max, mx)))
        if ir.is_const(cond, 1):
            continue
        out.append(ir.AssertStmt(
            cond, f"Bounds given for {fn.name} in {b.var} (from {{0}} to {{1}}) do not cover "
                  f"required region (from {{2}} to {{3}})",
            tuple(simplify(e) for e in (mn, mx, need.min, need.max))))
    return out


def _region_lets(fn, regions, body):
    for k in range(len(regions) - 1, -1, -1):
        for x, iv in reversed(list(zip(fn.args, regions[k]))):
            if iv.min is None or iv.max is None:
                raise CompileError(
                    f'Can\'t infer the bounds of Func "{fn.name}" in dimension {x}: it is '
                    f'accessed at an unbounded location (clamp the index, or use f.bound())')
            body = ir.LetStmt(L.region_max(fn, k, x), simplify(iv.max), body)
            body = ir.LetStmt(L.region_min(fn, k, x), simplify(iv.min), body)
    return body


class _DefineRegions(ir.IRMutator):
    """Put the region lets of one Func above its produce/consume pair.

    The consumers' region lets that `_RegionLifter` took up to the top of
    their loop level are names here: the box is in terms of them. For a Func
    with an explicit fold stored outside the loop it is computed in
    (`expand`), those inside its Realize are expanded instead, as if still in
    place: storage folding reads its footprint in the loops' terms."""

    def __init__(self, fn, memo=None, expand: set | None = None, producers: dict | None = None,
                 simp=None, box=_ASK):
        self.fn = fn
        self.box = box              # the box worked out already (see `_level_boxes`), or _ASK
        self.memo = memo
        self.simp = simp            # the pass's memo-mode simplifier, shared by its box queries
        self.producers = producers  # see producers_in
        self.expand = expand        # symbols of lifted lets to expand, or None
        self.inside = False         # within fn's Realize
        self.scope: dict = {}       # lifted lets in scope within it

    def _untouched(self, node) -> bool:
        """Whether the produce of this Func is not inside `node`: the walk
        need not go in (the statement is walked once per Func of the
        pipeline, and changes only along the path to each Func's produce)."""
        return self.producers is not None and self.fn.sym not in producers_in(node, self.producers)

    def mutate_For(self, node):
        return node if self._untouched(node) else self.generic_mutate(node)

    mutate_IfThenElse = mutate_For

    def mutate_Realize(self, node):
        if self.expand is None or node.fn is not self.fn.sym:
            return self.generic_mutate(node)
        self.inside = True
        try:
            return self.generic_mutate(node)
        finally:
            self.inside = False

    def mutate_LetStmt(self, node):
        if self._untouched(node):
            return node
        if not (self.inside and node.sym in self.expand):
            return self.generic_mutate(node)
        self.scope[node.sym] = node.value
        try:
            body = self.mutate(node.body)
        finally:
            del self.scope[node.sym]
        return node if body is node.body else ir.LetStmt(node.sym, node.value, body)

    def mutate_Block(self, node):
        stmts = list(node.stmts)
        for i, s in enumerate(stmts[:-1]):
            nxt = stmts[i + 1]
            if (isinstance(s, ir.ProducerConsumer) and s.is_producer and s.fn is self.fn.sym
                    and isinstance(nxt, ir.ProducerConsumer) and nxt.fn is self.fn.sym):
                outer = dict(self.scope) or None
                box = self.box
                if box is _ASK:
                    box = boxes_touched(nxt.body, [self.fn.sym], lets=outer,
                                        memo=self.memo, simplifier=self.simp).get(self.fn.sym)
                if box is None:
                    box = [Interval(ir.i32(0), ir.i32(-1))] * len(self.fn.args)
                checks = _bound_checks(self.fn, box)
                box = _apply_bounds(self.fn, box)
                produce = s.body
                stage_stmts = list(produce.stmts) if isinstance(produce, ir.Block) else [produce]
                assert len(stage_stmts) == len(self.fn.stages()), self.fn.name
                regions = _stage_regions(self.fn, box, stage_stmts, self.memo, outer, self.simp)
                pair = ir.block(*checks, s, nxt)
                stmts[i:i + 2] = [_region_lets(self.fn, regions, pair)]
                return ir.block(*stmts)
        return self.generic_mutate(node)


class _RealizeBounds(ir.IRMutator):
    def __init__(self, env, memo=None, simp=None):
        self.env = env
        self.memo = memo
        self.simp = simp

    def mutate_Realize(self, node):
        body = self.mutate(node.body)
        fn = self.env[node.fn]
        region, body = _own_region_lets(fn, body)
        box = boxes_touched(body, [fn.sym], calls=False, provides=True, memo=self.memo,
                            simplifier=self.simp).get(fn.sym)
        if box is None:
            box = [Interval(ir.i32(0), ir.i32(0))] * len(fn.args)
        out = ir.Realize(node.fn, node.types, node.bounds, body)
        for x, iv in reversed(list(zip(fn.args, box))):
            if iv.min is None or iv.max is None:
                raise CompileError(f'Can\'t infer how much of Func "{fn.name}" to store in '
                                   f'dimension {x}: it is written at an unbounded location')
            ext = simplify(ir.Add(ir.Sub(iv.max, iv.min), ir.i32(1)))
            out = ir.LetStmt(L.realized_extent(fn, x), ext, out)
            out = ir.LetStmt(L.realized_min(fn, x), iv.min, out)
        for let in reversed(region):
            out = ir.LetStmt(let.sym, let.value, out)
        return out


def _own_region_lets(fn, body):
    """([LetStmt], rest): the lets of `fn`'s own region at the top of its
    Realize's body, where it is computed right where it is stored, taken out
    of it. Defined above the Realize instead, they are names to the box of
    what the body writes (`f.s0.x.max - f.s0.x.min + 1` where the split has
    no tail), not expressions in the consumers' loops expanded again for
    the storage of every Func of a deep pipeline. (A Func stored outside the
    loop it is computed in keeps them next to its produce, for sliding
    window and storage folding; so does one with an explicit fold, whose
    footprint folding reads there.)"""
    if fn.schedule.fold_factors:
        return [], body
    own = {sym for k in range(len(fn.stages())) for x in fn.args
           for sym in (L.region_min(fn, k, x), L.region_max(fn, k, x))}
    lets = []
    while isinstance(body, ir.LetStmt) and body.sym in own:
        lets.append(body)
        body = body.body
    return lets, body


def infer_bounds(s: ir.Stmt, env: dict, outputs: list, order: list) -> ir.Stmt:
    # Which Funcs each statement touches, over all the walks below: each
    # Func's walk changes only the statements above its own produce.
    memo: dict = {}
    producers: dict = {}        # see producers_in
    # One memo-mode simplifier for all the box queries: the same lets are
    # expanded (and their bounds simplified) in the query of every Func.
    simp = ExprSimplifier(memo=True)
    in_loop = _stored_outside_compute_loop(s)
    lifted: set = set()         # the region let symbols taken to their loop level's top
    todo = [fn for fn in reversed(order) if fn not in outputs and fn.sym in env]
    ready: dict = {}            # Func symbol -> its box, worked out with others (`_level_boxes`)
    walked: set = set()         # the Funcs of the last such walk
    for i, fn in enumerate(todo):
        if fn.sym not in walked and _at_root(fn):
            run = _root_run(todo, i, outputs)
            walked = {f.sym for f in run}
            ready = _level_boxes(s, run, memo, simp)
        # A Func with an explicit fold keeps its lets by its produce, in terms
        # of the loops (the lifted lets expanded): folding reads its footprint there.
        folded = fn.schedule.fold_factors and fn.sym in in_loop
        box = ready.pop(fn.sym, _ASK)
        s = _DefineRegions(fn, memo, lifted if folded else None, producers, simp, box).mutate(s)
        if not fn.schedule.fold_factors:
            s = _RegionLifter(fn, lifted, producers).lift_to_top(s)
        if ready and fn.sym in walked and not _own_region_symbols(fn) <= lifted:
            # Its lets stayed by its produce, inside the consume bodies of the
            # Funcs after it: their boxes, worked out before, would not see
            # them. The Funcs left are walked again.
            ready, walked = {}, set()
    s = _RealizeBounds(env, memo, simp).mutate(s)
    for out in reversed(outputs):
        regions = [_apply_bounds(out, _buffer_box(L.buffer(out), len(out.args)))] * len(out.stages())
        s = _region_lets(out, regions, s)
    return s


def _at_root(fn) -> bool:
    """Whether `fn` is computed and stored at the root, its region lets then
    taken to the top of the pipeline (`_RegionLifter`)."""
    sched = fn.schedule
    return (sched.compute_level.is_root() and (sched.store_level.is_root() or
                                                sched.store_level.is_inlined())
            and not sched.fold_factors)


def _root_run(todo: list, i: int, outputs: list) -> list:
    """The Funcs computed at the root from `todo[i]` on, up to the first
    that is placed elsewhere (Funcs inlined away have no produce: passed over)."""
    run = []
    for fn in todo[i:]:
        if _at_root(fn):
            run.append(fn)
        elif not is_inlined(fn, outputs):
            break
    return run


def _level_boxes(s, run: list, memo: dict, simp) -> dict:
    """{Func symbol: box} for the Funcs of `run`, computed at the root, as
    bounds inference would ask each of its consume body in turn, but in one
    walk. Each later Func's consume node lies inside the earlier ones' (loop
    synthesis wraps the pipeline in each root Func's produce and consume,
    consumers first), and their queries would each walk the same consumers'
    loops, expanding the same lets of the loop nests inside (a pyramid's
    levels, all read inside the output's loops, expanded each level's
    consumers' lets once more per level). The regions of the Funcs among
    them are taken to the top of the pipeline, outside all those bodies,
    as each is bounded (no let, loop or branch lies between the top and a
    root Func's Realize there), so a later Func's box asked alone would not
    see them either; where one's are not (a region that reads memory),
    `infer_bounds` drops the boxes left. The named intervals of the walk
    are shared by the boxes, as the two ends of one box share them.
    A Func this walk did not enter the consume node of is asked alone."""
    if len(run) < 2:
        return {}
    syms = {fn.sym for fn in run}
    consume = _first_consume(s, syms)
    if consume is None:
        return {}
    return boxes_touched(consume.body, syms, memo=memo, simplifier=simp, consumed={consume.fn})


def _first_consume(s, syms):
    """The consume node of one of `syms` outermost in `s`, found through the
    lets, Realizes, blocks and produce/consume nodes of the pipeline's top."""
    work = [s]
    while work:
        node = work.pop()
        cls = type(node)
        if cls is ir.ProducerConsumer:
            if not node.is_producer and node.fn in syms:
                return node
            work.append(node.body)
        elif cls is ir.Block:
            work.extend(reversed(node.stmts))
        elif cls is ir.LetStmt or cls is ir.Realize:
            work.append(node.body)
    return None


def _own_region_symbols(fn) -> set:
    return {sym for k in range(len(fn.stages())) for x in fn.args
            for sym in (L.region_min(fn, k, x), L.region_max(fn, k, x))}


class _LoopBetween(ir.IRVisitor):
    """The Funcs with a loop between their Realize and their produce."""

    def __init__(self):
        self.realized: dict = {}    # fn symbol -> loop depth at its Realize
        self.depth = 0
        self.found: set = set()

    def visit_Realize(self, node):
        self.realized[node.fn] = self.depth
        self.visit(node.body)

    def visit_For(self, node):
        self.depth += 1
        self.visit(node.body)
        self.depth -= 1

    def visit_ProducerConsumer(self, node):
        if node.is_producer and self.depth > self.realized.get(node.fn, self.depth):
            self.found.add(node.fn)
        self.visit(node.body)

    def visit_Provide(self, node):
        pass

    def visit_Evaluate(self, node):
        pass


def _stored_outside_compute_loop(s) -> set:
    v = _LoopBetween()
    v.visit(s)
    return v.found


class _RegionLifter:
    """Take the region lets of a Func, which `_DefineRegions` put above its
    produce (the top of its Realize's body where it is computed where it is
    stored), up to the top of the loop body, specialization branch or
    pipeline it is computed in, past
    the Realizes, produce/consume markers and other lets there, as Halide
    defines the regions of all the Funcs of a loop level at its top. The
    Funcs it feeds, bounded after it, then read its region by name instead
    of expanding its consumers' loops once more per Func of the pipeline.
    A let stops below a let it uses, and at a loop or branch."""

    def __init__(self, fn, lifted: set, producers: dict):
        self.fn = fn
        self.own = _own_region_symbols(fn)
        self.lifted = lifted
        self.producers = producers      # see producers_in

    def lift_to_top(self, s):
        lets, s = self.lift(s)
        return _wrap(lets, s)

    def lift(self, s):
        """([(LetStmt, its free symbols)] to define above `s`, `s` without them)."""
        # The lets to lift sit by fn's produce (in its Realize, or just above
        # it): a statement without it has none, however many of fn's
        # consumers it holds (the walk from the top, once per Func, went
        # through every consumer of each).
        if self.fn.sym not in producers_in(s, self.producers):
            return [], s
        cls = type(s)
        if cls is ir.Realize:
            if s.fn is self.fn.sym:
                lets, body = [], s.body
                while isinstance(body, ir.LetStmt) and body.sym in self.own:
                    lets.append((body, ir.free_symbols(body.value)))
                    body = body.body
                if lets:
                    if any(reads_memory(let.value) for let, _ in lets):
                        return [], s
                    self.lifted.update(let.sym for let, _ in lets)
                    return lets, ir.Realize(s.fn, s.types, s.bounds, body)
            lets, body = self.lift(s.body)
            return lets, (s if body is s.body else ir.Realize(s.fn, s.types, s.bounds, body))
        if cls is ir.ProducerConsumer:
            lets, body = self.lift(s.body)
            return lets, (s if body is s.body else ir.ProducerConsumer(s.fn, s.is_producer, body))
        if cls is ir.Block:
            out, stmts = [], []
            for sub in s.stmts:
                lets, new = self.lift(sub)
                out.extend(lets)
                stmts.append(new)
            if not out and all(a is b for a, b in zip(stmts, s.stmts)):
                return [], s
            return out, ir.Block(tuple(stmts))
        if cls is ir.LetStmt:
            if s.sym in self.own:
                # A Func stored outside its compute loop: its lets sit by its produce.
                lets, body = [], s
                while isinstance(body, ir.LetStmt) and body.sym in self.own:
                    lets.append((body, ir.free_symbols(body.value)))
                    body = body.body
                if any(reads_memory(let.value) for let, _ in lets):
                    return [], s
                self.lifted.update(let.sym for let, _ in lets)
                return lets, body
            lets, body = self.lift(s.body)
            if lets and any(s.sym in syms for _, syms in lets):
                body, lets = _wrap(lets, body), []
            return lets, (s if body is s.body else ir.LetStmt(s.sym, s.value, body))
        if cls is ir.For:
            body = self.lift_to_top(s.body)
            return [], (s if body is s.body else ir.For(s.sym, s.min, s.extent, s.kind, body))
        if cls is ir.IfThenElse:
            then_case = self.lift_to_top(s.then_case)
            else_case = None if s.else_case is None else self.lift_to_top(s.else_case)
            if then_case is s.then_case and else_case is s.else_case:
                return [], s
            return [], ir.IfThenElse(s.condition, then_case, else_case)
        return [], s


def _wrap(lets: list, s):
    for let, _ in reversed(lets):
        s = ir.LetStmt(let.sym, let.value, s)
    return s
