"""compute_with: fuse the loop nests of stages computed at the same level.

`g.compute_with(f, y)` makes g's stage share f's loops from the outermost
one down to the loop over `y`, g's work running after f's in the innermost
shared loop (Halide's fused groups). Loop synthesis, bounds inference,
sliding window and storage folding treat the Funcs of a group as if each
were computed on its own at their common level, one after the other
(`check_fused_groups` orders them so, with nothing between them);
`fuse_compute_with` then merges their stage loop nests (the groups and
their rules are in `fused_groups.py`). Each shared loop
runs over the union of the stages' ranges (in the parent's coordinates,
after the child's is shifted by its LoopAlignStrategy), and each stage's
own work is guarded to its own range:

    produce f { for f.s0.y in [fy0, fy1]: A }; consume f { produce g { for g.s0.y in [gy0, gy1]: B }; .. }
  =>
    produce f { produce g { for f.s0.fused.y in [min(fy0, gy0), max(fy1, gy1)]:
        let f.s0.y = f.s0.fused.y; let g.s0.y = f.s0.fused.y
        if (fy0 <= f.s0.y <= fy1) A; if (gy0 <= g.s0.y <= gy1) B } }
    consume f { consume g { .. } }

With AlignStart (AlignEnd) the child's loop var is the parent's plus the
difference of their mins (maxes), so their first (last) iterations meet.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import CompileError, ScheduleError
from pipelang.lowering import names as L
from pipelang.lowering.fused_groups import (
    FusedStage, check_pair, fused_groups, fused_stages, parents_first, reaches, tree_root, user_name,
)
from pipelang.lowering.simplify import simplify as simplify_expr
from pipelang.schedule import LoopAlignStrategy

__all__ = ["fuse_compute_with"]


class _Nest:
    """The loop nest of one stage, taken apart: the lets above its loops,
    its loops outermost first (with the lets between each loop and the next),
    down to `depth` loops."""

    def __init__(self, st: FusedStage, stmt: ir.Stmt, depth: int):
        self.st = st
        self.top: list = []
        self.conds: list = []       # conditions on the whole stage (sliding window skips a
        while True:                 # Func that does not slide on a rewound loop's warm-up)
            if isinstance(stmt, ir.LetStmt):
                self.top.append((stmt.sym, stmt.value))
                stmt = stmt.body
            elif isinstance(stmt, ir.IfThenElse) and stmt.else_case is None:
                self.conds.append(stmt.condition)
                stmt = stmt.then_case
            else:
                break
        self.loops: list = []       # For nodes
        self.between: list = []     # lets inside loop i, above loop i + 1
        self.hints: list = []       # prefetches inside loop i, above loop i + 1
        dims = st.dims_outer_first()
        for i in range(depth):
            want = L.loop(st.fn, st.k, dims[i].var)
            if isinstance(stmt, ir.For) and stmt.sym is not want and i > 0:
                raise ScheduleError(
                    f"compute_with: the loops of {st} are not those of its schedule down to the "
                    f"fused loop: loop {L.dim_name(st.fn, stmt.sym)} is where {dims[i].var} is "
                    f"fused (does a specialization of {user_name(st.fn)} split or reorder a fused "
                    f"loop? It may change only the loops inside them)")
            if not (isinstance(stmt, ir.For) and stmt.sym is want):
                raise ScheduleError(
                    f"compute_with: something is computed inside loop {dims[i - 1].var} of {st}, "
                    f"which is fused with other stages but is not the innermost fused loop; "
                    f"pipelang fuses only loops that hold nothing but the next fused loop. "
                    f"Compute it at the innermost fused loop ({dims[depth - 1].var}) or outside "
                    f"the fused loops" if i > 0 else
                    f"compute_with: the loop nest of {st} does not start with its loop {dims[i].var}")
            self.loops.append(stmt)
            lets, hints = [], []
            stmt = stmt.body
            while i + 1 < depth:
                if isinstance(stmt, ir.LetStmt):
                    lets.append((stmt.sym, stmt.value))
                    stmt = stmt.body
                elif (isinstance(stmt, ir.Block) and len(stmt.stmts) > 1
                      and all(_is_hint(x) for x in stmt.stmts[:-1])):
                    # A prefetch placed at a fused loop: a hint, which may be
                    # issued in the shared loop as it is (it changes no value).
                    hints += stmt.stmts[:-1]
                    stmt = stmt.stmts[-1]
                else:
                    break
            self.between.append(lets)
            self.hints.append(hints)
        self.rest = stmt            # what is left: the stmt the loops below `depth` start at

    def lo(self, i):
        return self.loops[i].min

    def hi(self, i):
        f = self.loops[i]
        return ir.Sub(ir.Add(f.min, f.extent), ir.i32(1))


def _is_hint(s) -> bool:
    """Whether `s` only prefetches (with the loops and guards of a prefetch)."""
    if isinstance(s, ir.Prefetch):
        return True
    if isinstance(s, (ir.For, ir.LetStmt)):
        return _is_hint(s.body)
    if isinstance(s, ir.IfThenElse):
        return _is_hint(s.then_case) and (s.else_case is None or _is_hint(s.else_case))
    if isinstance(s, ir.Block):
        return all(_is_hint(x) for x in s.stmts)
    return False


def _likely(c):
    if isinstance(c, ir.Intrinsic) and c.op is ir.Op.LIKELY:
        return c
    return ir.Intrinsic(ir.Bool(), ir.Op.LIKELY, (c,))


def _wrap_lets(lets, s):
    for sym, value in reversed(lets):
        s = ir.LetStmt(sym, value, s)
    return s


class _Fuser:
    """Builds the fused loop nest of one fused tree (a root stage and the
    stages computed with it, recursively)."""

    def __init__(self, nests: dict, order: dict):
        self.nests = nests          # FusedStage -> _Nest
        self.order = order          # FusedStage -> position in stage order (children's order)

    def subtree(self, st):
        out = [st]
        for c in sorted(st.children, key=self.order.__getitem__):
            out += self.subtree(c)
        return out

    def emit(self, owner: FusedStage, i: int, eff: dict, shifts: dict, guards: dict) -> ir.Stmt:
        """Owner's loops from level i in, with the stages sharing them. `eff`:
        how many of the owner's loops each member shares; `shifts[m]`: m's
        var minus the owner's at each shared level so far; `guards[m]`: m's
        range conditions so far."""
        nest = self.nests[owner]
        members = [m for m in eff if eff[m] > i]
        if members == [owner] or not members:
            body = self._rest(owner, i)
            return _guarded(guards.get(owner, []), body)
        own = nest.loops[i]
        shifts = dict(shifts)
        guards = {m: list(g) for m, g in guards.items()}
        los, his = [], []
        for m in members:
            mn = self.nests[m]
            if m is owner:
                t = ir.i32(0)
            else:
                p = m.parent
                how = m.sched.fuse_level.strategy(m.dims_outer_first()[i].var)
                pn = self.nests[p]
                if how is LoopAlignStrategy.AlignStart:
                    s = ir.Sub(mn.lo(i), pn.lo(i))
                elif how is LoopAlignStrategy.AlignEnd:
                    s = ir.Sub(mn.hi(i), pn.hi(i))
                else:
                    s = ir.i32(0)
                t = simplify_expr(s if p is owner else ir.Add(s, shifts[p][i]))
            shifts.setdefault(m, [])
            shifts[m] = shifts[m][:i] + [t]
            los.append(ir.Sub(mn.lo(i), t))
            his.append(ir.Sub(mn.hi(i), t))
        lo, hi = los[0], his[0]
        for a, b in zip(los[1:], his[1:]):
            lo, hi = ir.Min(lo, a), ir.Max(hi, b)
        lo, hi = simplify_expr(lo), simplify_expr(hi)
        # The shared loop gets Halide's fused name (`f.s0.fused.y`); each
        # member's own loop var is a let of it.
        dim = owner.dims_outer_first()[i].var
        head, _, last = dim.rpartition(".")
        fused_sym = L.loop(owner.fn, owner.k, f"{head}.fused.{last}" if head else f"fused.{last}")
        ov = ir.Variable(ir.Int(32), fused_sym)
        lets = [(own.sym, ov)]
        for m in members:
            if m is not owner:
                lets.append((self.nests[m].loops[i].sym, simplify_expr(ir.Add(ov, shifts[m][i]))))
        for m in members:
            mv = ir.Variable(ir.Int(32), self.nests[m].loops[i].sym)
            guards.setdefault(m, []).append(ir.And(ir.LE(self.nests[m].lo(i), mv),
                                                   ir.LE(mv, self.nests[m].hi(i))))
        for m in members:
            if eff[m] > i + 1:
                lets += self.nests[m].between[i]
        stmts = [h for m in members if eff[m] > i + 1 for h in self.nests[m].hints[i]]
        stmts.append(self.emit(owner, i + 1, eff, shifts, guards))
        for m in members:
            # A member whose own fusion ends here goes after the shared work,
            # with the stages fused deeper into its loops (those whose
            # parent's fusion ends here go with their parent).
            if m is not owner and eff[m] == i + 1 and m.depth == i + 1:
                sub = {c: len(self.nests[c].loops) if c is m else None for c in self.subtree(m)}
                for c in self.subtree(m)[1:]:
                    sub[c] = min(c.depth, sub[c.parent])
                sub = {c: e for c, e in sub.items() if c is m or e > i + 1}
                # m's own lets between its loop i and i+1 belong to it alone now.
                body = self.emit(m, i + 1, sub, {c: [ir.i32(0)] * (i + 1) if c is m else shifts[c]
                                                 for c in sub}, guards)
                stmts.append(_wrap_lets(self.nests[m].between[i],
                                        ir.block(*self.nests[m].hints[i], body)))
        body = _wrap_lets(lets, ir.block(*stmts))
        extent = ir.Add(ir.Sub(hi, lo), ir.i32(1))
        return ir.For(fused_sym, lo, simplify_expr(extent), own.kind, body)

    def _rest(self, owner, i):
        nest = self.nests[owner]
        if i < len(nest.loops):
            return nest.loops[i]
        return nest.rest


def _guarded(conds: list, body: ir.Stmt, likely: bool = True) -> ir.Stmt:
    for c in reversed(conds):
        body = ir.IfThenElse(_likely(c) if likely else c, body)
    return body


def _split_stages(fn, body: ir.Stmt) -> list:
    n = len(fn.stages())
    if n == 1:
        return [body]
    if isinstance(body, ir.Block) and len(body.stmts) == n:
        return list(body.stmts)
    raise CompileError(f"compute_with: the produce of {user_name(fn)} does not have one loop nest per stage")


def _peel_produce(x):
    """(lets, produce node) where `x` is a produce node under LetStmts (sliding
    window defines its window there), else (None, None)."""
    lets = []
    while isinstance(x, ir.LetStmt):
        lets.append(x)
        x = x.body
    if isinstance(x, ir.ProducerConsumer) and x.is_producer:
        return lets, x
    return None, None


class _GroupFuser(ir.IRMutator):
    """Fuse each place where the Funcs of one group are computed (once per
    specialization branch of their consumer, or once for a group of outputs)."""

    def __init__(self, group, stages, env, outputs):
        self.group = group
        self.stages = stages
        self.env = env
        self.outputs = outputs
        self.count = 0

    def mutate_Block(self, node):
        node = self.generic_mutate(node)
        if not isinstance(node, ir.Block):
            return node
        stmts = list(node.stmts)
        first = self.group[0]
        if first in self.outputs:
            return self._fuse_outputs(stmts, node)
        for j, sub in enumerate(stmts[:-1]):
            lets0, pc = _peel_produce(sub)
            nxt = stmts[j + 1]
            if (pc is not None and pc.fn is first.sym and isinstance(nxt, ir.ProducerConsumer)
                    and nxt.fn is first.sym and not nxt.is_producer):
                stmts[j:j + 2] = [self._fuse_here(lets0, pc, nxt)]
                self.count += 1
                return ir.block(*stmts)
        return node

    def _fuse_here(self, lets0, produce, consume) -> ir.Stmt:
        group = self.group
        bodies = {group[0].sym: produce.body}
        wrappers = [("let", let) for let in lets0]   # to go above produce F1, outermost first
        inner = consume.body
        members = {fn.sym for fn in group}
        # Conditions met on the way down (sliding window skips the Funcs
        # after a slid one on a rewound loop's warm-up iterations): they guard
        # the stages of the Funcs below them and the consumers, not the loops.
        pending: list = []
        for fn in group[1:]:
            while True:
                if isinstance(inner, ir.IfThenElse) and inner.else_case is None:
                    pending.append(inner.condition)
                    inner = inner.then_case
                elif isinstance(inner, ir.LetStmt):
                    wrappers.append(("let", inner))
                    inner = inner.body
                elif isinstance(inner, ir.Realize) and inner.fn in members:
                    wrappers.append(("realize", inner))
                    inner = inner.body
                elif isinstance(inner, ir.Block):
                    k = next((i for i, x in enumerate(inner.stmts) if _peel_produce(x)[1] is not None), None)
                    if (k is None or _peel_produce(inner.stmts[k])[1].fn is not fn.sym
                            or len(inner.stmts) != k + 2
                            or not all(isinstance(x, ir.AssertStmt) for x in inner.stmts[:k])):
                        raise CompileError(_shape_error(group, fn))
                    wrappers.append(("stmts", [_guarded(pending, a) for a in inner.stmts[:k]]))
                    lets_k, pc = _peel_produce(inner.stmts[k])
                    wrappers += [("let", let) for let in lets_k]
                    bodies[fn.sym] = _guarded(pending, pc.body) if len(fn.stages()) == 1 else \
                        ir.block(*[_guarded(pending, x) for x in _split_stages(fn, pc.body)])
                    nxt = inner.stmts[k + 1]
                    if not (isinstance(nxt, ir.ProducerConsumer) and nxt.fn is fn.sym
                            and not nxt.is_producer):
                        raise CompileError(_shape_error(group, fn))
                    inner = nxt.body
                    break
                else:
                    raise CompileError(_shape_error(group, fn))
        fused = _fuse_stages(group, bodies, self.stages)
        for fn in reversed(group):
            fused = ir.ProducerConsumer(fn.sym, True, fused)
        inner = _guarded(pending, inner, likely=False)
        for fn in reversed(group):
            inner = ir.ProducerConsumer(fn.sym, False, inner)
        body = ir.block(fused, inner)
        for kind, w in reversed(wrappers):
            if kind == "let":
                body = ir.LetStmt(w.sym, w.value, body)
            elif kind == "realize":
                body = ir.Realize(w.fn, w.types, w.bounds, body)
            else:
                body = ir.block(*w, body)
        return body

    def _fuse_outputs(self, stmts, node):
        """Outputs are produced one after the other with no consume: the
        group's produce nodes, siblings here, become one at the first's place."""
        at = {}
        for j, sub in enumerate(stmts):
            if isinstance(sub, ir.ProducerConsumer) and sub.is_producer:
                at[sub.fn] = j
        if not all(fn.sym in at for fn in self.group):
            return node
        positions = sorted(at[fn.sym] for fn in self.group)
        members = {fn.sym for fn in self.group}
        between = [stmts[j].fn for j in range(positions[0] + 1, positions[-1])
                   if isinstance(stmts[j], ir.ProducerConsumer) and stmts[j].fn not in members]
        for fn in self.group:
            if at[fn.sym] == positions[0]:
                continue
            path = reaches(self.env, fn, set(between))
            if path is not None:
                raise ScheduleError(
                    f"Invalid compute_with: output {user_name(fn)} is computed with "
                    f"{', '.join(user_name(f) for f in self.group if f is not fn)}, but it reads output "
                    f"{user_name(path[-1])}, which the pipeline computes between them")
        bodies = {fn.sym: stmts[at[fn.sym]].body for fn in self.group}
        fused = _fuse_stages(self.group, bodies, self.stages)
        for fn in reversed(self.group):
            fused = ir.ProducerConsumer(fn.sym, True, fused)
        out = [fused if j == positions[0] else x for j, x in enumerate(stmts) if j not in positions[1:]]
        self.count += 1
        return ir.block(*out)


def fuse_compute_with(s: ir.Stmt, env: dict, order: list, outputs=()) -> ir.Stmt:
    """Merge the loop nests of each fused group (see the module docstring)."""
    stages = fused_stages(env)
    if not stages:
        return s
    for st in stages.values():
        if st.parent is not None:
            check_pair(st, outputs)     # (checked before; this sets each child's depth)
    index = {fn.sym: i for i, fn in enumerate(order)}
    for group in fused_groups(stages):
        group = parents_first(group, index)
        s = _GroupFuser(group, stages, env, list(outputs)).mutate(s)
    return s


def _shape_error(group, fn) -> str:
    return (f"compute_with: {user_name(fn)} is not computed right after "
            f"{', '.join(user_name(f) for f in group[:group.index(fn)])} at their loop level, so their "
            f"loops can't be fused (is another Func computed between them?)")


def _fuse_stages(group, bodies, stages) -> ir.Stmt:
    stmts = {}
    for fn in group:
        for k, st in enumerate(_split_stages(fn, bodies[fn.sym])):
            stmts[(fn.sym, k)] = st
    # The trees of fused stages, and the stages on their own.
    roots = []
    tree_of = {}
    for fn in group:
        for k in range(len(fn.stages())):
            st = stages.get((fn.sym, k))
            root = tree_root(st) if st is not None else (fn.sym, k)
            tree_of[(fn.sym, k)] = root
            if root not in roots and (st is None or st.parent is None):
                roots.append(root)
    # Stage order: each Func's stages in order; a tree goes once all stages
    # before each of its stages have gone.
    placed: set = set()
    seq = []
    remaining = list(roots)
    while remaining:
        for r in remaining:
            keys = [k for k, t in tree_of.items() if t is r]
            if all(tree_of[(sym, i)] in placed or tree_of[(sym, i)] is r
                   for sym, k in keys for i in range(k)):
                break
        else:
            raise ScheduleError("Invalid compute_with: there is a cycle inside of the fused group "
                                + ", ".join(user_name(f) for f in group))
        remaining.remove(r)
        placed.add(r)
        seq.append(r)
    # Stages computed with one parent go in the group's order (parents first).
    position = {key: n for n, key in enumerate((fn.sym, k) for fn in group
                                                for k in range(len(fn.stages())))}
    out = []
    for r in seq:
        if isinstance(r, tuple):
            out.append(stmts[r])
            continue
        out.append(_fuse_tree(r, stmts, position))
    return ir.block(*out)


def _fuse_tree(root: FusedStage, stmts: dict, position: dict) -> ir.Stmt:
    # A specialized root: an if/else over its whole loop nests, each branch
    # fused with the stages computed with it (Halide's fused groups follow
    # the parent's specializations). Conditions and lets above the chain
    # belong to the root's work: they go into each branch.
    key = (root.fn.sym, root.k)
    s, wrap = stmts[key], []
    while isinstance(s, ir.LetStmt) or (isinstance(s, ir.IfThenElse) and s.else_case is None):
        wrap.append(s)
        s = s.body if isinstance(s, ir.LetStmt) else s.then_case
    if isinstance(s, ir.IfThenElse):
        branches = []
        for b in (s.then_case, s.else_case):
            for w in reversed(wrap):
                b = (ir.LetStmt(w.sym, w.value, b) if isinstance(w, ir.LetStmt)
                     else ir.IfThenElse(w.condition, b))
            inner = b
            while isinstance(inner, (ir.LetStmt, ir.IfThenElse)) and not (
                    isinstance(inner, ir.IfThenElse) and inner.else_case is not None):
                inner = inner.body if isinstance(inner, ir.LetStmt) else inner.then_case
            if isinstance(inner, ir.AssertStmt):
                branches.append(b)          # specialize_fail(): the pipeline stops here
            else:
                branches.append(_fuse_tree(root, {**stmts, key: b}, position))
        return ir.IfThenElse(s.condition, *branches)
    members = []

    def collect(st):
        members.append(st)
        for c in sorted(st.children, key=lambda c: position[(c.fn.sym, c.k)]):
            collect(c)
    collect(root)
    nests = {}
    for st in members:
        depth = max([st.depth] + [c.depth for c in st.children])
        nests[st] = _Nest(st, stmts[(st.fn.sym, st.k)], depth)
    order = {st: position[(st.fn.sym, st.k)] for st in members}
    eff = {root: len(nests[root].loops)}
    for st in members[1:]:
        eff[st] = min(st.depth, eff[st.parent])
    # A stage's own conditions guard its work, not the loops it shares.
    guards = {st: list(nests[st].conds) for st in members if nests[st].conds}
    body = _Fuser(nests, order).emit(root, 0, eff, {}, guards)
    top = []
    for st in members:
        top += nests[st].top
    return _wrap_lets(top, body)
