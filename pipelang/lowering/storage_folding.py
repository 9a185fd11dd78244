"""Storage folding: keep only the window of a slid producer, as a circular buffer.

Runs after sliding window and simplification. When a Func's region slides
along a serial loop (its min is `select(first iteration, min, previous max + 1)`)
and the window it covers per iteration has a constant extent `c`, the
dimension is stored modulo the next power of two `n >= c`: the allocation
holds `n` rows instead of the image, and every access indexes `y % n`.
`f.fold_storage(y, n)` asks for a fold factor explicitly.

    realize f([0, w], [y0, h]) { .. f(x, y) .. }
  =>
    realize f([0, w], [0, 4]) { .. f(x, y % 4) .. }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.analysis.mentions import Mentions
from pipelang.lowering.simplify import simplify
from pipelang.lowering.sliding_window import slid_window, slid_window_max, split_overshoot


def _terms(e, sign, out):
    if isinstance(e, ir.Add):
        _terms(e.a, sign, out)
        _terms(e.b, sign, out)
    elif isinstance(e, ir.Sub):
        _terms(e.a, sign, out)
        _terms(e.b, -sign, out)
    else:
        out.append((sign, e))
    return out


def _constant_upper_bound(e):
    """A constant c >= e, found by distributing the rest of a sum into one of
    its min() terms: min(a, b) + r <= a + r and <= b + r."""
    terms = _terms(e, 1, [])
    for i, (sign, t) in enumerate(terms):
        if sign > 0 and isinstance(t, ir.Min):
            rest = ir.i32(0)
            for j, (sg, u) in enumerate(terms):
                if j != i:
                    rest = ir.Add(rest, u) if sg > 0 else ir.Sub(rest, u)
            bounds = [ir.const_value(simplify(ir.Add(op, rest))) for op in (t.a, t.b)]
            bounds = [b for b in bounds if b is not None]
            if bounds:
                return min(bounds)
    return None


def _let_chain(node):
    """({symbol: value} of a chain of LetStmts, the statement under them)."""
    lets = {}
    while isinstance(node, ir.LetStmt):
        lets[node.sym] = node.value
        node = node.body
    return lets, node


def _region_lets(fn, dim: str, lets: dict):
    """(min, max) that a compute site of `fn` binds for `dim` among `lets`
    (sliding window's select and max, in terms of the loops, where it slid),
    or None."""
    lo = lets.get(slid_window(fn, dim), lets.get(L.region_min(fn, 0, dim)))
    hi = lets.get(slid_window_max(fn, dim), lets.get(L.region_max(fn, 0, dim)))
    return None if lo is None or hi is None else (lo, hi)


def _extent_at_once(lo, hi):
    """Values computed at once for a region (min, max): from the first
    iteration's min where sliding window made the min a select."""
    if isinstance(lo, ir.Select):
        lo = lo.true_value
    return ir.Add(ir.Sub(hi, lo), ir.i32(1))


def _known(extent, consts: dict):
    """`extent` simplified with the constant lets around the storage substituted
    (a loop extent bound by `bound()`, say)."""
    return simplify(ir.substitute(consts, extent)) if consts else simplify(extent)


def _window(fn, body, consts: dict, steps: dict | None = None, mentions: Mentions | None = None):
    """{dim index: window extent} for the dimension slid along the outermost
    serial loop inside the storage. (A dimension slid along an inner loop
    cannot fold: the next iteration of the outer loop reads what it computed
    long before.) With `steps`, also {dim index: the extent computed by the
    later iterations} where that is a constant. `mentions`, where given,
    skips the statements that don't name fn: fn's region lets lie above its
    produce, within the loop they slide along (the consumers below a deep
    pipeline's storage were walked once per Func stored above them)."""
    find = _FindSlid(fn, consts, mentions)
    find.visit(body)
    order, slid = find.order, find.slid
    for sym in order:
        if sym in slid:
            i, c, later = slid[sym]
            if steps is not None and later is not None:
                steps[i] = int(later)
            return {i: c}
    return {}


class _FindSlid(ir.IRVisitor):
    """`_window`'s walk: the serial loops in order (`order`) and, by loop
    symbol, the dimension of `fn` slid along it (`slid`). (A class of its
    own: made per call inside `_window`, it cost its creation, and its
    methods' shared scope was a cycle holding `mentions` that only the
    cycle collector frees.)"""

    def __init__(self, fn, consts: dict, mentions):
        self.fn, self.consts, self.mentions = fn, consts, mentions
        self.order: list = []
        self.slid: dict = {}          # loop symbol -> (dim index, window extent, later extent)

    def skip(self, node) -> bool:
        return self.mentions is not None and self.fn.sym not in self.mentions.of(node)

    def visit_For(self, node):
        if self.skip(node):
            return
        if node.kind is ir.ForKind.SERIAL and node.sym not in self.order:
            self.order.append(node.sym)
        self.generic_visit(node)

    def visit_Block(self, node):
        if not self.skip(node):
            self.generic_visit(node)

    visit_IfThenElse = visit_Realize = visit_ProducerConsumer = visit_Block

    def visit_LetStmt(self, node):
        if self.skip(node):
            return
        lets, s = _let_chain(node)
        for i, a in enumerate(self.fn.args):
            region = _region_lets(self.fn, a, lets)
            if region is None or not isinstance(region[0], ir.Select):
                continue
            cond = region[0].condition
            if not (isinstance(cond, ir.LE) and isinstance(cond.a, ir.Variable)):
                continue
            extent = _known(_extent_at_once(*region), self.consts)
            c = ir.const_value(extent)
            if c is None:       # e.g. min(y, y.max) + 2 - y: at most 3
                c = _constant_upper_bound(extent)
            if c is not None and c > 0:
                later_min = _AssumeFalse(cond).mutate(region[0].false_value)
                later = ir.const_value(_known(ir.Add(ir.Sub(region[1], later_min), ir.i32(1)),
                                              self.consts))
                self.slid[cond.a.sym] = (i, int(c), later)
        self.visit(s)


class _AssumeFalse(ir.IRMutator):
    """An expression where `cond` is known false: selects on it take their
    false value (sliding window nests the first iteration's select)."""

    def __init__(self, cond):
        self.cond = cond

    def mutate_Select(self, node):
        if node.condition == self.cond:
            return self.mutate(node.false_value)
        return self.generic_mutate(node)


def _exact_round_up(overshoot, window: int, later) -> tuple:
    """`overshoot` less a RoundUp tail's when every iteration computes a
    multiple of the split's span: the first one `window` values, the later
    ones `later` (camera_pipe's `curved`, 2-row tiles sliding by 2 rows:
    its fold was 8 rows for a 4-row window, Halide's 4)."""
    before, after = overshoot
    span = after + 1
    if after and not before and later is not None and window % span == 0 and later % span == 0:
        return (0, 0)
    return overshoot


def _overshoot(fn) -> dict:
    """{dim: (before, after) points its splits may write outside the region
    computed, or None where unbounded}: a ShiftInwards tail shifts back over
    earlier points, a RoundUp one rounds up past the end. Those writes land in
    the fold too, so it must hold them with the window."""
    return {a: split_overshoot(fn, a) for a in fn.args}


def _needed(window: int, overshoot) -> int:
    """Values of a dimension touched at once: `window` computed or still
    live, with a ShiftInwards tail (before only) at least a whole split
    factor ending at the window's end, with RoundUp past its end."""
    before, after = overshoot
    if not after:
        return max(window, before + 1)
    return window + before + after


def _check_explicit_fold(fn, dim: str, factor: int, window, overshoot) -> None:
    """An explicit `fold_storage(dim, factor)` must keep every value until
    its last use: the values of `dim` computed at once (`window`: one
    iteration's window of a slid region, else one compute site's extent),
    plus what a split writes outside them (`overshoot`), must fit in the
    fold. A constant window is checked here; a symbolic one by `_AssertFits`
    at run time, as Halide does."""
    from pipelang.errors import ScheduleError
    where = f"Func {fn.name}: fold_storage({dim}, {factor})"
    if overshoot is None:
        raise ScheduleError(f"{where}: a split of {dim} by a non-constant factor with a RoundUp or "
                            f"ShiftInwards tail writes an unknown distance outside the region computed "
                            f"per iteration, so the storage can't be folded; use TailStrategy.GuardWithIf "
                            f"or a constant factor for that split")
    if window is not None and factor < _needed(window, overshoot):
        need = _needed(window, overshoot)
        extra = (f" ({window} computed at once, and a RoundUp or ShiftInwards split writes "
                 f"{need - window} more)" if need > window else "")
        raise ScheduleError(f"{where}: the fold factor is too small: one iteration of the loop "
                            f"{fn.name} slides along needs {need} values of dimension "
                            f"{dim} at once{extra}")


def _footprint(fn, body, consts: dict) -> dict:
    """{dim index: the most values of it computed at one compute site} over
    every place `fn` is computed in `body`, where that is a constant."""
    out: dict = {}

    class _Find(ir.IRVisitor):
        def visit_LetStmt(self, node):
            lets, s = _let_chain(node)
            for i, a in enumerate(fn.args):
                region = _region_lets(fn, a, lets)
                if region is None:
                    continue
                extent = _known(_extent_at_once(*region), consts)
                c = ir.const_value(extent)
                if c is None:
                    c = _constant_upper_bound(extent)
                if c is None or (i in out and out[i] is None):
                    out[i] = None       # unknown at one site: unknown
                else:
                    out[i] = max(out.get(i, 0), int(c))
            self.visit(s)

    _Find().visit(body)
    return out


class _AssertFits(ir.IRMutator):
    """Where the values of a folded dimension computed at once are not a
    constant, check at run time that they fit the fold (as Halide does)."""

    def __init__(self, fn, factors: dict, overshoot: dict):
        self.fn = fn
        self.factors = factors
        self.overshoot = overshoot      # {dim index: (before, after) a split writes outside}

    def mutate_LetStmt(self, node):
        lets, s = _let_chain(node)
        checks = []
        for i, factor in self.factors.items():
            a = self.fn.args[i]
            region = _region_lets(self.fn, a, lets)
            if region is None:
                continue
            extent = _extent_at_once(*region)
            before, after = self.overshoot[i]
            extent = (ir.Max(extent, ir.i32(before + 1)) if not after
                      else ir.Add(extent, ir.i32(before + after)))
            checks.append(ir.AssertStmt(
                ir.LE(extent, ir.i32(factor)),
                f"The fold factor ({factor}) of dimension {a} of {self.fn.name} is too small "
                f"to store the required region ({{0}} values)", (extent,)))
        inner = self.mutate(s)
        if checks:
            inner = ir.block(*checks, inner)
        if inner is s:
            return node
        chain = []
        while node is not s:
            chain.append(node)
            node = node.body
        for let in reversed(chain):
            inner = ir.LetStmt(let.sym, let.value, inner)
        return inner


class _FoldAccesses(ir.IRMutator):
    def __init__(self, sym, folds: dict, mentions=None):
        self.sym = sym
        self.folds = folds
        self.mentions = mentions    # a Mentions: statements not naming sym are left alone

    def _statement(self, node):
        if self.mentions is not None and self.sym not in self.mentions.of(node):
            return node
        return self.generic_mutate(node)

    mutate_For = mutate_LetStmt = mutate_IfThenElse = mutate_Realize = _statement
    mutate_ProducerConsumer = mutate_Block = _statement

    def _args(self, args):
        return tuple(ir.Mod(a, ir.i32(self.folds[i])) if i in self.folds else a
                     for i, a in enumerate(args))

    def mutate_Provide(self, node):
        node = self.generic_mutate(node)
        if node.fn is self.sym:
            return ir.Provide(node.fn, node.values, self._args(node.args))
        return node

    def mutate_Call(self, node):
        node = self.generic_mutate(node)
        if node.fn is self.sym and node.kind is ir.CallKind.FUNC:
            return ir.Call(node.type, node.fn, self._args(node.args), node.kind, node.value_index)
        return node


class _ConstantLets(dict):
    """The lets around the current point, {symbol: value as written}, read
    (by `ir.substitute`, through `get`) as {symbol: constant value} of those
    whose value is a constant once the constant lets outside it are put in.
    Whether a let is constant is worked out when a substitution first meets
    its symbol: most lets (a deep pipeline's large storage bounds) never
    are, and simplifying each to find out cost a third of the pass."""

    def __init__(self):
        super().__init__()
        self._constant: dict = {}   # symbol -> (value as written, its constant value or None)

    def get(self, sym, default=None):
        value = dict.get(self, sym, _ABSENT)
        if value is _ABSENT:
            return default
        hit = self._constant.get(sym)
        if hit is None or hit[0] is not value:
            hit = self._constant[sym] = (value, self._constant_value(value))
        return default if hit[1] is None else hit[1]

    def _constant_value(self, value):
        value = ir.substitute(self, value)
        c = ir.const_value(value) if ir.is_const(value) else None
        if c is None and isinstance(value, (ir.Add, ir.Sub, ir.Mul, ir.Div, ir.Min, ir.Max)):
            value = simplify(value)
            c = ir.const_value(value) if ir.is_const(value) else None
        return None if c is None else value


_ABSENT = object()


class _Fold(ir.IRMutator):
    def __init__(self, env):
        self.env = env
        self.consts = _ConstantLets()   # lets around the current point (constant ones, as read)
        self.mentions = Mentions()  # over the whole pass (each fold walks its Realize)

    def mutate_LetStmt(self, node):
        self.consts[node.sym] = node.value
        try:
            return self.generic_mutate(node)
        finally:
            del self.consts[node.sym]

    def mutate_Realize(self, node):
        body = self.mutate(node.body)
        fn = self.env[node.fn]
        folds = {}
        overshoot = _overshoot(fn)
        steps: dict = {}
        window = _window(fn, body, self.consts, steps, self.mentions)
        for i, c in window.items():
            if overshoot[fn.args[i]] is None:
                continue
            n = 1
            while n < _needed(c, _exact_round_up(overshoot[fn.args[i]], c, steps.get(i))):
                n *= 2
            folds[i] = n
        checked_at_run_time = {}
        for name, (factor, _forward) in fn.schedule.fold_factors.items():
            i = fn.args.index(name)
            need = window.get(i)
            if need is None:        # not slid: each compute site reads only what it computed
                need = _footprint(fn, body, self.consts).get(i)
            _check_explicit_fold(fn, name, factor, need, overshoot[name])
            if need is None:
                checked_at_run_time[i] = factor
            folds[i] = factor
        if checked_at_run_time:
            body = _AssertFits(fn, checked_at_run_time,
                               {i: overshoot[fn.args[i]] for i in checked_at_run_time}).mutate(body)
        if not folds:
            return node if body is node.body else ir.Realize(node.fn, node.types, node.bounds, body)
        body = _FoldAccesses(node.fn, folds, self.mentions).mutate(body)
        bounds = tuple(ir.Range(ir.i32(0), ir.i32(folds[i])) if i in folds else r
                       for i, r in enumerate(node.bounds))
        return ir.Realize(node.fn, node.types, bounds, body)


def fold_storage(s: ir.Stmt, env: dict) -> ir.Stmt:
    return _Fold(env).mutate(s)
