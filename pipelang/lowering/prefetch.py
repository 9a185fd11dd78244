"""Prefetching: each stage's `prefetch` directives become prefetches of
cache lines at the top of the loop they name.

Runs after storage folding (Halide's place: loops, regions and storage are
final), before storage flattening, which makes each `Prefetch` a
`PrefetchAddress` as it makes each Call a Load.

For `f.prefetch(g, at, from_, offset, strategy)`, the top of the body of
f's loop over `at` prefetches the box of g that the body touches when the
loop variable of `from_` (`at` itself or a loop outside it) is `offset`
steps further on: what a later iteration will read or write. The strategy
says what happens where that box leaves g's storage (its realization, or
the input or output buffer):
  GuardWithIf  nothing is prefetched unless the whole box is inside;
  Clamp        the part inside is prefetched;
  NonFaulting  the box is prefetched as it is (a prefetch never faults).
The box is fetched one cache line at a time, as Halide's target lowering
does (its reduce_prefetch_dimension and SplitPrefetch): a loop over each
outer storage dimension and, along the innermost, one prefetch per 64
bytes. A prefetch reads nothing and changes no value.

    for f.s0.y:                        for f.s0.y:
      for f.s0.x:                 =>     if (g.min.1 <= f.s0.y + 2 <= g.max.1) {
        f(x, y) = g(x, y)                  for prefetch_split_g.0 in [0, (w + 15)/16):
                                             prefetch g(x0 + prefetch_split_g.0*16, f.s0.y + 2) }
                                         for f.s0.x: f(x, y) = g(x, y)
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering import names as L
from pipelang.lowering.analysis.boxes import boxes_touched
from pipelang.lowering.schedule_functions import is_inlined
from pipelang.lowering.simplify import simplify
from pipelang.schedule import PrefetchBoundStrategy

CACHE_LINE_BYTES = 64      # x86 and most ARM cores; Halide's choice for every CPU but Hexagon


def _names(dim: str, var: str) -> bool:
    """Whether loop dim `dim` (`y` or, after splits, `y.yo`) is the one the
    schedule calls `var` (Halide matches the end of the loop's name)."""
    return dim == var or dim.endswith("." + var)


def _definitions(d) -> list:
    out = [d]
    for sp in d.specializations:
        out += _definitions(sp.definition)
    return out


def _stage_name(fn, k: int) -> str:
    return fn.name if k == 0 else f"{fn.name}.update({k - 1})"


OUTERMOST = "__outermost"      # Var.outermost(): a loop around the stage's loops


def _sites(env: dict, outputs) -> tuple:
    """({loop symbol of `at`: [(Func, directive, loop symbol of `from`)]},
    and the same for prefetches at `Var.outermost()`, keyed by the stage's
    outermost loop, before which they go); the directives' vars checked
    against the stage's loops. `from` is None for Var.outermost(), whose
    iterations (one) nothing reads. A later prefetch of the same Func or
    buffer at the same loop replaces an earlier one (as in Halide).
    Specializations share their loops' symbols, so a loop gets the
    prefetches of every definition of its stage that has it."""
    sites: dict = {}
    before: dict = {}
    output_syms = {o.sym for o in outputs}
    for fn in env.values():
        if not fn.defined() or (is_inlined(fn, outputs) and fn.sym not in output_syms):
            continue
        for k, stage in enumerate(fn.stages()):
            for d in _definitions(stage):
                dims = d.schedule.dims
                loops = ", ".join(dim.var for dim in reversed(dims))
                for p in reversed(d.schedule.prefetches):
                    call = f"{_stage_name(fn, k)}.prefetch({p.name}, {p.at}, {p.from_}, ...)"
                    if p.at == OUTERMOST and dims:
                        if p.from_ != OUTERMOST:
                            raise ScheduleError(
                                f"In schedule for {_stage_name(fn, k)}: {call}: the 'from' loop "
                                f"'{p.from_}' is inside the 'at' loop Var.outermost() (are 'at' and "
                                f"'from' swapped?)")
                        here = before.setdefault(L.loop(fn, k, dims[-1].var), [])
                        if all(q.fn is not p.fn for _, q, _ in here):
                            here.append((fn, p, None))
                        continue
                    ats = [i for i, dim in enumerate(dims) if _names(dim.var, p.at)]
                    if not ats:
                        raise ScheduleError(
                            f"In schedule for {_stage_name(fn, k)}: {call} names loop '{p.at}', "
                            f"which {fn.name} does not have. Its loops, outermost first: {loops}")
                    for i in ats:
                        j = next((j for j in range(i, len(dims)) if _names(dims[j].var, p.from_)), None)
                        if p.from_ == OUTERMOST:
                            j = -1
                        if j is None:
                            where = ("is inside it" if any(_names(dim.var, p.from_) for dim in dims[:i])
                                     else "is not a loop of it")
                            raise ScheduleError(
                                f"In schedule for {_stage_name(fn, k)}: {call}: the 'from' loop "
                                f"'{p.from_}' must be the 'at' loop '{dims[i].var}' or a loop "
                                f"outside it, but it {where} (are 'at' and 'from' swapped?). "
                                f"Loops of {fn.name}, outermost first: {loops}")
                        at = L.loop(fn, k, dims[i].var)
                        here = sites.setdefault(at, [])
                        if all(q.fn is not p.fn for _, q, _ in here):
                            here.append((fn, p, None if j < 0 else L.loop(fn, k, dims[j].var)))
    for here in list(sites.values()) + list(before.values()):
        here.reverse()                  # in the order given
    return sites, before


_REWINDS = 4


def _renamed(sym) -> list:
    """`sym` and the names sliding window gives the loop when it rewinds it
    (`y.$n`, a field of the old symbol; once per Func sliding along it)."""
    out = [sym]
    for _ in range(_REWINDS):
        out.append(out[-1].field("$n"))
    return out


class _Inject(ir.IRMutator):
    def __init__(self, sites, before, env, outputs, inputs):
        self.sites = {alias: here for sym, here in sites.items() for alias in _renamed(sym)}
        self.before = {alias: here for sym, here in before.items() for alias in _renamed(sym)}
        self.origin = {alias: sym for here in sites.values() for _, _, sym in here
                       if sym is not None for alias in _renamed(sym)}
        self.env = env
        self.outputs = {o.sym for o in outputs}
        self.inputs = inputs
        self.storage: dict = {}         # Func symbol -> its enclosing Realize's bounds
        self.context: list = []         # the enclosing loops and lets, outermost first

    def mutate_Realize(self, node):
        outer = self.storage.get(node.fn)
        self.storage[node.fn] = node.bounds
        body = self.mutate(node.body)
        if outer is None:
            del self.storage[node.fn]
        else:
            self.storage[node.fn] = outer
        return node if body is node.body else ir.Realize(node.fn, node.types, node.bounds, body)

    def mutate_LetStmt(self, node):
        self.context.append(node)
        body = self.mutate(node.body)
        self.context.pop()
        return node if body is node.body else ir.LetStmt(node.sym, node.value, body)

    def mutate_For(self, node):
        self.context.append(node)
        body = self.mutate(node.body)
        self.context.pop()
        sites = self.sites.get(node.sym)
        if sites:
            fetches = [f for site in sites for f in [self._prefetch(node, body, *site)] if f is not None]
            if fetches:
                body = ir.block(*fetches, body)
        loop = node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        before = self.before.get(node.sym)
        if before:
            # At Var.outermost(): all the stage's loops touch, ahead of them.
            fetches = [f for fn, p, _ in before for f in [self._prefetch(node, loop, fn, p, None, True)]
                       if f is not None]
            if fetches:
                return ir.block(*fetches, loop)
        return loop

    def _storage(self, fn, p, node) -> tuple:
        """(element types, [(min, extent)] per dimension, storage order of the
        dimensions (innermost first)) of what `p` prefetches; None if there
        is nothing to prefetch."""
        if p.kind is ir.CallKind.IMAGE:
            owner = self.inputs.get(p.fn)
            if owner is None:
                return None
            n = owner.dimensions()
            bounds = [(ir.Variable(ir.Int(32), ir.buffer_min(p.fn, d)),
                       ir.Variable(ir.Int(32), ir.buffer_extent(p.fn, d))) for d in range(n)]
            return [owner.type()], bounds, list(range(n))
        if p.fn is fn.sym:
            raise ScheduleError(f"{fn.name}.prefetch({p.name}, {p.at}, {p.from_}, ...): {fn.name} "
                                f"can't prefetch itself; prefetch the Funcs and buffers it reads")
        target = self.env.get(p.fn)
        if target is None:
            raise ScheduleError(f"{fn.name}.prefetch({p.name}, {p.at}, {p.from_}, ...): {p.name} is "
                                f"not used by this pipeline, so there is nothing of it to prefetch")
        if is_inlined(target, ()) and p.fn not in self.outputs:
            return None
        order = [target.args.index(a) for a in target.schedule.storage_dims]
        realized = self.storage.get(p.fn)
        if realized is not None:
            return list(target.output_types), [(r.min, r.extent) for r in realized], order
        if p.fn in self.outputs:
            buf = L.buffer(target, 0)
            bounds = [(ir.Variable(ir.Int(32), ir.buffer_min(buf, d)),
                       ir.Variable(ir.Int(32), ir.buffer_extent(buf, d))) for d in range(len(target.args))]
            return list(target.output_types), bounds, order
        raise ScheduleError(
            f"{fn.name}.prefetch({p.name}, {p.at}, {p.from_}, ...): {p.name} is stored inside the loop "
            f"{node.sym.name} (its realization is not allocated where the prefetch goes); store it "
            f"outside that loop (store_at or compute_at an outer loop) or prefetch at an inner loop")

    def _vector_context(self, node) -> list:
        """The vectorized loops around (or at) the prefetch, and the lets
        between that depend on their lanes, outermost first."""
        lanes, out = set(), []
        for n in self.context + ([node] if node is not None else []):
            if type(n) is ir.For and n.kind is ir.ForKind.VECTORIZED:
                out.append(n)
                lanes.add(n.sym)
            elif type(n) is ir.LetStmt and lanes and not lanes.isdisjoint(ir.free_symbols(n.value)):
                out.append(n)
                lanes.add(n.sym)
        return out

    def _touched(self, node, body, p, from_sym, outside: bool = False):
        """The box of `p.fn` that `body` (of loop `node`) touches `p.offset`
        iterations on along loop `from_sym`. In a vectorized loop (Halide
        prefetches for each lane), over all its lanes: the prefetch stays
        one scalar statement, which vectorization leaves as it is."""
        around = self._vector_context(None if outside else node)
        shifted_loop = next((n for n in around if type(n) is ir.For and n.sym is from_sym), None)
        stmt = body
        for n in reversed(around):
            if type(n) is ir.LetStmt:
                stmt = ir.LetStmt(n.sym, n.value, stmt)
            else:
                lo = ir.Add(n.min, p.offset) if n is shifted_loop else n.min
                stmt = ir.For(n.sym, lo, n.extent, ir.ForKind.SERIAL, stmt)
        if shifted_loop is None and from_sym is not None:
            stmt = ir.substitute({from_sym: ir.Add(L.v(from_sym), p.offset)}, stmt)
        return boxes_touched(stmt, [p.fn], calls=True, provides=True).get(p.fn)

    def _prefetch(self, node, body, fn, p, from_sym, outside: bool = False):
        """The prefetches at the top of `body`, the body of loop `node` (or,
        `outside`, just before `node`, then `body`)."""
        if (node.kind.is_gpu() and not outside) or any(type(n) is ir.For and n.kind.is_gpu()
                                                       for n in self.context):
            raise ScheduleError(f"{fn.name}.prefetch({p.name}, {p.at}, {p.from_}, ...): the loop "
                                f"{node.sym.name} is a GPU loop or inside one; pipelang prefetches "
                                f"only in CPU loops")
        found = self._storage(fn, p, node)
        # The loop `from` names, as it is now (maybe rewound): this one or an enclosing one.
        if from_sym is not None:
            loops = [n.sym for n in self.context if type(n) is ir.For]
            from_sym = next(s for s in [node.sym] + loops[::-1] if self.origin.get(s) is from_sym)
        box = self._touched(node, body, p, from_sym, outside) if found else None
        if box is None:
            # Halide's warning, printed where Halide's bindings print theirs.
            print(f"Warning: Removing prefetch of {p.name} at loop nest of "
                  f"{OUTERMOST if outside else node.sym.name} from location "
                  f"{OUTERMOST if from_sym is None else from_sym.name} + offset "
                  f"{ir.to_string(p.offset)} since the prefetched area will always be empty.")
            return None
        types, storage, order = found
        lows, highs, conditions = [], [], []
        for iv, (smin, sext) in zip(box, storage):
            smax = ir.Sub(ir.Add(smin, sext), ir.i32(1))
            lo = smin if iv.min is None else iv.min       # unbounded: all of the storage
            hi = smax if iv.max is None else iv.max
            if p.strategy is PrefetchBoundStrategy.Clamp:
                lo, hi = ir.Max(lo, smin), ir.Min(hi, smax)
            elif p.strategy is PrefetchBoundStrategy.GuardWithIf:
                conditions += [ir.GE(lo, smin), ir.LE(hi, smax)]
            lows.append(simplify(lo))
            highs.append(simplify(hi))
        nests = [self._lines(p, t, i, lows, highs, order) for i, t in enumerate(types)]
        stmt = ir.block(*nests)
        if conditions:
            cond = conditions[0]
            for c in conditions[1:]:
                cond = ir.And(cond, c)
            stmt = ir.IfThenElse(simplify(cond), stmt)
        return stmt

    def _lines(self, p, t, value_index: int, lows, highs, order) -> ir.Stmt:
        """Prefetches of the box's cache lines of Tuple element `value_index`."""
        if not order:                   # a zero-dimensional Func: its one element
            return ir.Prefetch(p.fn, t, (), p.kind, value_index)
        inner = order[0]
        step = max(1, CACHE_LINE_BYTES // max(1, t.bytes()))
        line = ir.Symbol(f"prefetch_split_{p.name}.{inner}")
        args = [None] * len(lows)
        args[inner] = simplify(ir.Add(lows[inner], ir.Mul(L.v(line), ir.i32(step))))
        loops = []
        for d in order[1:]:
            sym = ir.Symbol(f"prefetch_reduce_{p.name}.{d}")
            args[d] = L.v(sym)
            loops.append((sym, lows[d], simplify(ir.Add(ir.Sub(highs[d], lows[d]), ir.i32(1)))))
        extent = simplify(ir.Add(ir.Sub(highs[inner], lows[inner]), ir.i32(1)))
        stmt: ir.Stmt = ir.Prefetch(p.fn, t, tuple(args), p.kind, value_index)
        stmt = ir.For(line, ir.i32(0), simplify(ir.Div(ir.Add(extent, ir.i32(step - 1)), ir.i32(step))),
                      ir.ForKind.SERIAL, stmt)
        for sym, lo, ext in loops:
            stmt = ir.For(sym, lo, ext, ir.ForKind.SERIAL, stmt)
        return stmt


def inject_prefetch(s: ir.Stmt, env: dict, outputs: list, inputs: dict) -> ir.Stmt:
    """`inputs`: {symbol: Buffer or ImageParam} of the pipeline's input buffers."""
    sites, before = _sites(env, outputs)
    if not sites and not before:
        return s
    return _Inject(sites, before, env, outputs, inputs).mutate(s)
