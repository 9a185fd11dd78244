"""Boxes touched: the region of each Func or buffer that a statement reads
or writes, as one `Interval` per dimension.

Loops and lets inside the statement are replaced by the ranges they take,
so the result is in terms of the variables free in the statement (outer
loop variables and bounds defined outside). Guards of the form
`likely(v <= e)` (and `<`, `>=`, `>`, `&&`) narrow `v` in their then-branch,
so a GuardWithIf tail does not widen the box.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.ir.visitor import reads_memory, tree_size_over  # noqa: F401  (reads_memory: bounds_inference's too)
from pipelang.lowering.analysis.linear import same_expr
from pipelang.lowering.analysis.intervals import (NAME_ABOVE, Interval, bounds_of_expr, fresh_symbol,
                                                  interval_union, wrap_lets)
from pipelang.lowering.simplify import simplify
from pipelang.lowering.simplify_exprs import ExprSimplifier


def box_union(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return [interval_union(x, y) for x, y in zip(a, b)]


def _union_of(boxes: list, simp):
    """The union of several boxes at once. Bounds that differ only by a
    constant (`x - 1`, `x`, `x + 1`: a stencil's taps) are merged before
    any simplification, and the rest simplified once, instead of a union
    per box, each simplifying the growing min/max of all before it.
    `simp` is the query's memo-mode simplifier, which made the boxes' ends:
    it simplifies only the Min and Max put over them, not each end again."""
    if len(boxes) == 1:
        return boxes[0]
    out = []
    for d in range(len(boxes[0])):
        lows = [b[d].min for b in boxes]
        highs = [b[d].max for b in boxes]
        out.append(Interval(_extreme(lows, ir.Min, simp), _extreme(highs, ir.Max, simp)))
    return out


def _offset(e):
    """(rest, c) with `e` == rest + c for an int32 constant c (rest None: e is c)."""
    if isinstance(e, ir.IntImm):
        return None, e.value
    if isinstance(e, (ir.Add, ir.Sub)) and isinstance(e.b, ir.IntImm):
        return e.a, e.b.value if isinstance(e, ir.Add) else -e.b.value
    return e, 0


def _extreme(exprs: list, op, simp):
    """`op` (Min or Max) of `exprs` (None if any is unbounded), simplified."""
    if any(e is None for e in exprs):
        return None
    if any(e.type != ir.Int(32) for e in exprs):
        result = exprs[0]
        for e in exprs[1:]:
            result = op(result, e)
        return simp.expr(result)
    pick = min if op is ir.Min else max
    groups: list = []                   # [rest, constant]
    for e in exprs:
        rest, c = _offset(e)
        for g in groups:
            if g[0] is rest or (g[0] is not None and rest is not None and same_expr(g[0], rest)):
                g[1] = pick(g[1], c)
                break
        else:
            groups.append([rest, c])
    result = None
    for rest, c in groups:
        term = ir.i32(c) if rest is None else rest if c == 0 else ir.Add(rest, ir.i32(c))
        result = term if result is None else op(result, term)
    return simp.expr(result)



def _symbol_name(sym) -> str:
    return sym.name

class _Accessed(ir.IRVisitor):
    """The Funcs and buffers called, and those provided to, inside each
    loop, let and if statement, and in each let's value: {id(node): (node,
    called, provided)}. Kept apart, so a query for what is written skips
    the consumers, which only read.

    `found` may be kept from an earlier walk (see `boxes_touched`'s `memo`):
    a statement met again is not walked again, its entries being there."""

    def __init__(self, found: dict | None = None):
        self.found: dict = {} if found is None else found
        self.called: set = set()
        self.provided: set = set()

    def visit_Call(self, node):
        self.called.add(node.fn)
        self.generic_visit(node)

    def visit_Provide(self, node):
        self.provided.add(node.fn)
        self.generic_visit(node)

    def _scope(self, node, walk=None):
        hit = self.found.get(id(node))
        if hit is not None and hit[0] is node:
            self.called |= hit[1]
            self.provided |= hit[2]
            return
        outer_called, outer_provided = self.called, self.provided
        self.called, self.provided = set(), set()
        (walk or self.generic_visit)(node)
        self.found[id(node)] = (node, self.called, self.provided)
        outer_called |= self.called
        outer_provided |= self.provided
        self.called, self.provided = outer_called, outer_provided

    visit_For = visit_IfThenElse = _scope

    def visit_LetStmt(self, node):
        self._scope(node, self._let_stmt)

    def _let_stmt(self, node):
        self._scope(node.value)
        self.visit(node.body)


class _BoxesTouched(ir.IRVisitor):
    """Let-bound variables are expanded into the expressions that use them (and
    simplified) before intervals are taken, so correlated bounds cancel:
    `loop_min + loop_extent - 1` becomes `f.s0.x.max`, not a wider range.
    Only loop variables (and narrowed lets) are intervals.

    A let whose expansion is large (`NAME_ABOVE` nodes) is named instead, as
    Halide names intermediate intervals: by a new symbol standing for its
    value where no loop here changes it, else by one ranging over new
    symbols for its bounds. The boxes then come wrapped in Lets defining
    the names they use."""

    def __init__(self, syms, calls: bool, provides: bool, lets: dict | None, simplifier=None):
        self.syms = syms            # None means every Func and buffer
        # With `consumed` (see `boxes_touched`): the Funcs whose consume node
        # the walk is in, the only ones whose calls count; else None.
        self.active: set | None = None
        self.entered: set = set()       # the Funcs whose consume node the walk entered
        self._bound_depth = 0           # lets, loops and branches the walk is inside
        self.calls = calls
        self.provides = provides
        self.lets = dict(lets or {})    # as written: in terms of outer lets
        self.expanded: dict = {}        # let -> its value with outer lets expanded
        self.scope: dict = {}
        self.boxes: dict = {}          # symbol -> [box], one per access (see `unions`)
        simplify(ir.i32(0))                     # (raises the recursion limit for deep IR)
        # One walk's expansions share subtrees (a pass's walks, with `simplifier`).
        self.simp = simplifier or ExprSimplifier(memo=True)
        self.named: dict = {}           # new symbol -> its value, in order of naming
        self.accessed: dict = {}        # see `_Accessed`; empty: look everywhere
        # Intervals of the index expressions met while the scope, lets and
        # expansions stay as they are: {structural hash: [(expr, Interval)]}.
        # A stencil's taps repeat each index (`f(x - 1, y)`, `f(x - 1, y + 1)`
        # ...), each working out the same expansion and interval again.
        self._intervals: dict = {}
        self._bounds_memo: dict = {}    # bounds_of_expr's, as long as `_intervals`

    def _relevant(self, node) -> bool:
        """Whether `node` may touch a wanted Func or buffer. Loops, lets and ifs
        that don't are skipped whole: their ranges would only be worked out
        for nothing (most of a pipeline, for one Func's box)."""
        hit = self.accessed.get(id(node))
        if hit is None or hit[0] is not node:
            return True
        syms = self.syms
        for found, asked in ((hit[1], self.calls), (hit[2], self.provides)):
            if asked and found and (syms is None or not found.isdisjoint(syms)):
                return True
        return False

    def _wanted(self, sym) -> bool:
        if self.active is not None:
            return sym in self.active
        return self.syms is None or sym in self.syms

    def expand(self, e):
        """`e` with the lets it uses expanded (and simplified). A let's value
        is expanded only when a box first needs it, then kept: most lets of
        a pipeline (other Funcs' bounds) are never needed for a given box.

        Let expressions in `e` (names of an earlier analysis) are lifted out
        into the lets known here, so a name used by several bounds is
        expanded (or named again) once, never copied into each."""
        if _has_let(e):
            e = _LiftLets(self.lets).mutate(e)
        used = ir.free_symbols(e) & self.lets.keys() if self.lets else ()
        if not used:
            return self.simp.expr(e)
        # Expanded in name order: naming a big one makes fresh symbols, and a
        # set of Symbols iterates in memory-address order (lens_blur's entry
        # checks came out with differently numbered lets in each process).
        return self.simp.expr(ir.substitute({s: self._expanded(s) for s in
                                             sorted(used, key=_symbol_name)}, e))

    def _expanded(self, sym):
        v = self.expanded.get(sym)
        if v is None:
            v = self.expand(self.lets[sym])
            if tree_size_over(v, NAME_ABOVE):
                v = self._name(sym, v)
            self.expanded[sym] = v
        return v

    def _name(self, sym, v):
        """A variable standing for the (large) expanded value `v` of let `sym`."""
        if not (v.type.is_scalar() and v.type.is_int()) or reads_memory(v):
            return v
        alias = fresh_symbol(sym.name)
        if not (ir.free_symbols(v) & self.scope.keys()):
            self.named[alias] = v                  # the same value all over the statement
            return ir.Variable(v.type, alias)
        iv = bounds_of_expr(v, self.scope, self.simp)
        if iv.min is None or iv.max is None:
            return v
        lo, hi = fresh_symbol(sym.name + ".min"), fresh_symbol(sym.name + ".max")
        self.named[lo] = self.simp.expr(iv.min)
        self.named[hi] = self.simp.expr(iv.max)
        self.scope[alias] = Interval(ir.Variable(v.type, lo), ir.Variable(v.type, hi))
        self._intervals = {}
        self._bounds_memo = {}
        return ir.Variable(v.type, alias)

    def interval(self, e) -> Interval:
        cached = self._intervals.get(e.__hash__())
        if cached is not None:
            for x, iv in cached:
                if same_expr(x, e):
                    return iv
        iv = self._interval(e)
        self._intervals.setdefault(e.__hash__(), []).append((e, iv))
        return iv

    def _interval(self, e) -> Interval:
        e = self.expand(e)
        if not (ir.free_symbols(e) & self.scope.keys()) and not reads_memory(e):
            return Interval(e, e)        # depends on nothing that varies here: exact
        return bounds_of_expr(e, self.scope, self.simp, self._bounds_memo)

    def _record(self, sym, args):
        self.boxes.setdefault(sym, []).append([self.interval(a) for a in args])

    def _with(self, table, sym, value, body):
        old = table.get(sym, _MISSING)
        old_expanded = self.expanded.pop(sym, None)
        table[sym] = value
        self._intervals = {}
        self._bounds_memo = {}
        self._bound_depth += 1
        self.visit(body)
        self._bound_depth -= 1
        self._intervals = {}
        self._bounds_memo = {}
        self.expanded.pop(sym, None)
        if old is _MISSING:
            del table[sym]
        else:
            table[sym] = old
            if old_expanded is not None:
                self.expanded[sym] = old_expanded

    # ---- expressions

    def visit_Call(self, node):
        if self.calls and self._wanted(node.fn):
            self._record(node.fn, node.args)
        self.generic_visit(node)

    def visit_Let(self, node):
        self.visit(node.value)
        self._with(self.lets, node.sym, node.value, node.body)

    # ---- statements

    def visit_ProducerConsumer(self, node):
        fn = node.fn
        if (self.active is None or node.is_producer or fn not in self.syms or fn in self.active
                or self._bound_depth):
            # (A consume inside a let, loop or branch here: its Func's box would be
            # taken over them, not as asked of its own consume body; left out.)
            self.generic_visit(node)
            return
        self.entered.add(fn)
        self.active.add(fn)
        self.visit(node.body)
        self.active.discard(fn)

    def visit_Provide(self, node):
        if self.provides and self._wanted(node.fn):
            self._record(node.fn, node.args)
        self.generic_visit(node)

    def visit_LetStmt(self, node):
        if not self._relevant(node):
            return
        if self._relevant(node.value):
            self.visit(node.value)
        self._with(self.lets, node.sym, node.value, node.body)

    def visit_For(self, node):
        if not self._relevant(node):
            return
        self.visit(node.min)
        self.visit(node.extent)
        lo = self.interval(node.min)
        hi = self.interval(self._loop_max(node))
        self._with(self.scope, node.sym, _simplified(Interval(lo.min, hi.max)), node.body)

    def _loop_max(self, node):
        """`min + extent - 1`, with a let-bound extent put back as written first:
        a loop over a Func's region has extent `f.max - f.min + 1`, so its last
        value is `f.max` -- a name. Expanded first instead, a large extent is
        named as a whole (an interval over the outer loops), and min + extent
        no longer cancels: a pyramid level's region came out up to twice as
        tall as the level (interpolate's downsampled_2 computed 323 rows of 163)."""
        last = ir.Sub(ir.Add(node.min, node.extent), ir.i32(1))
        ext = node.extent
        if isinstance(ext, ir.Variable) and ext.sym in self.lets:
            peeled = simplify(ir.substitute({ext.sym: self.lets[ext.sym]}, last))
            if not tree_size_over(peeled, 12):      # it cancelled: a name or two, not the value
                return peeled
        return last

    def visit_IfThenElse(self, node):
        if not self._relevant(node):
            return
        self.visit(node.condition)
        cond = self.expand(node.condition)
        if (node.else_case is not None and not (ir.free_symbols(cond) & self.scope.keys())
                and not reads_memory(cond)):
            self._select_boxes(cond, node)
            return
        saved_scope, saved_lets = dict(self.scope), dict(self.lets)
        saved_expanded = dict(self.expanded)
        self._bound_depth += 1
        self._narrow(node.condition)
        self._intervals = {}
        self._bounds_memo = {}
        self.visit(node.then_case)
        self._intervals = {}
        self._bounds_memo = {}
        self.scope.clear()
        self.scope.update(saved_scope)
        self.lets.clear()
        self.lets.update(saved_lets)
        self.expanded.clear()
        self.expanded.update(saved_expanded)
        if node.else_case is not None:
            self.visit(node.else_case)
        self._bound_depth -= 1

    def _select_boxes(self, cond, node) -> None:
        """A condition that no loop here varies (a specialization's): each box is
        the then-branch's where it holds, the else-branch's where not (Halide's
        select of the two), not their union."""
        outer = self.boxes
        self.boxes = {}
        self._bound_depth += 1
        self.visit(node.then_case)
        then_boxes = self.unions()
        self.boxes = {}
        self.visit(node.else_case)
        self._bound_depth -= 1
        else_boxes = self.unions()
        self.boxes = outer
        for sym in list(then_boxes) + [s for s in else_boxes if s not in then_boxes]:
            a, b = then_boxes.get(sym), else_boxes.get(sym)
            if a is None or b is None:
                box = a or b
            else:
                box = [Interval(_select(cond, x.min, y.min), _select(cond, x.max, y.max))
                       for x, y in zip(a, b)]
            self.boxes.setdefault(sym, []).append(box)

    def unions(self) -> dict:
        """{symbol: box}: the union of the boxes recorded for each."""
        return {sym: _union_of(boxes, self.simp) for sym, boxes in self.boxes.items()}

    def _narrow(self, cond) -> None:
        """Tighten the range of a variable that `cond` bounds (a tail guard)."""
        if isinstance(cond, ir.Intrinsic) and cond.op is ir.Op.LIKELY:
            cond = cond.args[0]
        if isinstance(cond, ir.And):
            self._narrow(cond.a)
            self._narrow(cond.b)
            return
        if not isinstance(cond, (ir.LE, ir.LT, ir.GE, ir.GT)) or not isinstance(cond.a, ir.Variable):
            return
        sym = cond.a.sym
        if cond.a.type != ir.Int(32) or (sym not in self.lets and sym not in self.scope):
            return
        cur = self.interval(cond.a)
        other = self.interval(cond.b)
        self.lets.pop(sym, None)
        # Lets expanded through `sym` would ignore the narrowing: expand again.
        self.expanded.clear()
        if isinstance(cond, (ir.LE, ir.LT)) and other.max is not None:
            hi = other.max if isinstance(cond, ir.LE) else ir.Sub(other.max, ir.i32(1))
            cur = Interval(cur.min, simplify(hi if cur.max is None else ir.Min(cur.max, hi)))
        elif isinstance(cond, (ir.GE, ir.GT)) and other.min is not None:
            lo = other.min if isinstance(cond, ir.GE) else ir.Add(other.min, ir.i32(1))
            cur = Interval(simplify(lo if cur.min is None else ir.Max(cur.min, lo)), cur.max)
        self.scope[sym] = cur


_MISSING = object()


class _FindLet(ir.IRVisitor):
    found = False

    def visit_Let(self, node):
        self.found = True

    def generic_visit(self, node):
        if not self.found:
            super().generic_visit(node)


def _has_let(e) -> bool:
    v = _FindLet()
    v.visit(e)
    return v.found


class _LiftLets(ir.IRMutator):
    """Replace each Let by its body, adding its binding to `lets` (names are
    unique symbols, and a Let's value uses only what is free outside it)."""

    def __init__(self, lets: dict):
        self.lets = lets

    def mutate_Let(self, node):
        self.lets[node.sym] = self.mutate(node.value)
        return self.mutate(node.body)


def _select(cond, a, b):
    if a is None or b is None:
        return None
    return a if a == b else simplify(ir.Select(cond, a, b))


def _simplified(i: Interval) -> Interval:
    """`i` with its ends simplified. An end made here is simplified already
    (by the query's simplifier, or by `simplify` in a union); only one that
    `wrap_lets` put inside Lets naming its big parts is new to the
    simplifier. (Simplified again, each end was walked whole a second time:
    a sixth of bounds inference.)"""
    lo, hi = i.min, i.max
    if type(lo) is ir.Let:
        lo = simplify(lo)
    if type(hi) is ir.Let:
        hi = simplify(hi)
    return i if lo is i.min and hi is i.max else Interval(lo, hi)


def boxes_touched(stmt, syms=None, *, calls: bool = True, provides: bool = False,
                  lets: dict | None = None, memo: dict | None = None,
                  simplifier: ExprSimplifier | None = None, consumed=None) -> dict:
    """{symbol: [Interval per dimension]} of the Calls (and/or Provides) in `stmt`.

    `lets` gives values for variables defined outside `stmt` that should be
    expanded (as if `stmt` were wrapped in those LetStmts). `memo`, a dict
    the caller keeps over several calls (and drops after), remembers which
    Funcs each statement touches: a pass asking about one Func after another
    over a pipeline that changes little then walks each statement once.
    `simplifier`, a memo-mode `ExprSimplifier` kept over such calls, lets
    them share what they simplified (the same lets expand in each).

    `consumed`, a set of Funcs among `syms` whose consume node `stmt` is in,
    asks for the box of each Func of `syms` as if asked of its own consume
    body alone (the calls there): one walk for the Funcs computed at one
    level, whose consumers share their loops and lets. The result then
    holds each Func whose consume node the walk entered (outside any let,
    loop or branch of `stmt`, where a query of its own would start), with
    None where nothing calls it; one not entered is left out."""
    v = _BoxesTouched(None if syms is None else set(syms), calls, provides, lets, simplifier)
    if consumed is not None:
        v.active = set(consumed)
        v.entered = set(consumed)
    if isinstance(stmt, ir.Stmt):
        accessed = _Accessed(memo)
        accessed.visit(stmt)
        v.accessed = accessed.found
    v.visit(stmt)
    boxes = v.unions()
    if v.named:
        out = {k: _box_simplified([Interval(wrap_lets(i.min, v.named), wrap_lets(i.max, v.named))
                                   for i in b]) for k, b in boxes.items()}
    else:
        out = {k: _box_simplified(b) for k, b in boxes.items()}
    if consumed is not None:
        return {k: out.get(k) for k in v.entered}
    return out


def _box_simplified(box):
    return [_simplified(i) for i in box]
