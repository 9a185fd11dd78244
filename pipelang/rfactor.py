"""`rfactor`: split an associative reduction in two, as Halide's `Stage::rfactor`.

Each preserved RVar becomes a pure Var of a new intermediate Func, which
reduces over the other RVars into the identity of the operator; the update
then only merges the intermediate over a domain of the preserved RVars.
RVar splits, fuses and renames of the stage are baked into the new domains
first, a split's tail kept exact by an RDom predicate.

    f[()] = 0                                 f_intm[u] = 0
    f[()] += inp[r]        # r in [0, 100)    f_intm[u] += inp[min(u*16 + rxi, 99)]
    f.update().split(r, rxo, rxi, 16)   =>        where u*16 + rxi <= 99           # rxi in [0, 16)
    f.update().rfactor(rxo, u)                f[()] = 0
                                              f[()] = f[()] + f_intm[rxo]             # rxo in [0, 7)

The intermediate keeps the stage's loop order (the preserved dims become
loops over the new Vars) and its pure-Var splits; the merging update keeps
the preserved dims and the pure dims. The clamp in the index changes nothing
the predicate lets through; it tells bounds inference not to read past r.
"""
from __future__ import annotations

import math

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.function import Definition, ReductionVar, touch
from pipelang.schedule import Dim, SplitKind, StageSchedule
from pipelang.var import Var, var_symbol

_OPS = (ir.Add, ir.Mul, ir.Min, ir.Max)


def rfactor(stage, preserved):
    """The intermediate Func of `stage` (an update) with `preserved`, a list of
    (RVar, Var) pairs, a single pair, or the two of one pair."""
    from pipelang.func import Func
    from pipelang.stage import _var_name
    fn, d = stage.function, stage._definition
    where = f"In schedule for {stage.name()}"
    if stage.index == 0:
        raise ScheduleError(f"{where}: rfactor() applies to an update definition, "
                            f"not the pure definition of {fn.name}")
    merge_of = _associative_tuple(fn, d, where)
    live, subst, guards, pure_splits = _bake_rvar_splits(d, where)
    dims = d.schedule.dims

    # Which loop dim each preserved RVar is, and the Var it becomes.
    to_var = {}
    used = {n.rsplit(".", 1)[-1] for n in [dm.var for dm in dims] + list(fn.args)}
    for rv, v in _pairs(preserved, where):
        if not isinstance(v, (Var, str)):
            raise ScheduleError(f"{where}: rfactor() replaces each preserved RVar by a pure Var, "
                                f"not {v!r}")
        name, vname = _var_name(rv), _var_name(v)
        found = [dm.var for dm in dims if dm.var in live and
                 (dm.var == name or dm.var.endswith("." + name))]
        if len(found) != 1 or found[0] in to_var:
            raise ScheduleError(f"{where}: can't perform rfactor() on {name} since either it "
                                f"is not in the reduction domain, or has already been consumed "
                                f"by another scheduling directive.\n{stage.dump_argument_list()}")
        if vname in used:
            raise ScheduleError(f"{where}: can't perform rfactor() on {name} because the name "
                                f"{vname} is already used elsewhere in the Func's schedule (the "
                                f"preserved RVar needs a new pure Var).\n{stage.dump_argument_list()}")
        used.add(vname)
        to_var[found[0]] = vname

    u_of = {live[dim].sym: ir.Variable(ir.Int(32), var_symbol(u)) for dim, u in to_var.items()}

    def rewrite(e):
        return ir.substitute(u_of, ir.substitute(subst, e))

    # The intermediate: the old update over the remaining RVars, one result per new Var.
    types = fn.output_types
    intm = Func(fn.name + "_intm")
    ifn = intm.function
    ifn.define_pure(list(fn.args) + list(to_var.values()), tuple(merge_of.identities))
    lhs = tuple(rewrite(a) for a in d.args) + tuple(u_of[live[dim].sym] for dim in to_var)
    values = tuple(_retarget(rewrite(v), fn.sym, ifn.sym, lhs) for v in d.values)
    conds = ([rewrite(d.predicate)] if d.predicate is not None else []) + guards
    intm_dims = [Dim(to_var[dm.var], dm.kind) if dm.var in to_var else
                 Dim(live[dm.var].name, dm.kind, True) if dm.var in live else dm for dm in dims]
    ifn.updates.append(Definition(
        lhs, values, StageSchedule(intm_dims, list(pure_splits), touched=True),
        tuple(live[dm.var] for dm in dims if dm.var in live and dm.var not in to_var),
        _conjunction(rewrite(c) for c in conds)))

    # The update now merges the intermediate over the preserved RVars.
    pure = tuple(ir.Variable(ir.Int(32), var_symbol(a)) for a in fn.args)
    merged = tuple(live[dim] for dim in to_var)
    at = pure + tuple(ir.Variable(ir.Int(32), r.sym) for r in merged)
    mine = [ir.Call(t, fn.sym, pure, ir.CallKind.FUNC, i) for i, t in enumerate(types)]
    theirs = [ir.Call(t, ifn.sym, at, ir.CallKind.FUNC, i) for i, t in enumerate(types)]
    merge_dims = [Dim(live[dm.var].name, dm.kind, True) if dm.var in to_var else dm
                  for dm in dims if dm.var in to_var or dm.var not in live]
    on_lhs = {a.sym.name for a in d.args if isinstance(a, ir.Variable)}
    merge_dims += [Dim(a) for a in fn.args if a not in on_lhs]
    fn.updates[stage.index - 1] = Definition(
        pure, tuple(merge_of.merge(mine, theirs)),
        StageSchedule(merge_dims, list(pure_splits), touched=True),
        tuple(live[dm.var] for dm in dims if dm.var in to_var), None)
    touch()
    return intm


def _pairs(preserved, where) -> list:
    """Halide's overloads: rfactor([(r, v), ...]), rfactor((r, v)) and rfactor(r, v)."""
    if len(preserved) == 2 and not any(isinstance(p, (list, tuple)) for p in preserved):
        return [tuple(preserved)]
    if len(preserved) == 1 and isinstance(preserved[0], (list, tuple)):
        items = preserved[0]
        if len(items) == 2 and not any(isinstance(p, (list, tuple)) for p in items):
            return [tuple(items)]
        if all(isinstance(p, (list, tuple)) and len(p) == 2 for p in items):
            return [tuple(p) for p in items]
    raise ScheduleError(f"{where}: rfactor() takes a list of (RVar, Var) pairs, or an RVar and "
                        f"a Var; got {preserved!r}")


class _Merge:
    """What rfactor needs of an associative Tuple update: each element's
    identity, and how to combine two partial results (x, the Func's own,
    and y, the intermediate's) element by element."""

    def __init__(self, n):
        self.identities = [None] * n
        self._parts = []      # (elements, combine(xs, ys) -> {element: Expr})

    def merge(self, xs, ys) -> list:
        out = [None] * len(xs)
        for _, combine in self._parts:
            for i, e in combine(xs, ys).items():
                out[i] = e
        return out


def _associative_tuple(fn, d, where) -> _Merge:
    """Halide's associativity proof, for the patterns its table holds: each
    Tuple element that reads only its own previous value is `op(x, y)` with
    op one of +, *, min, max (a chain of one op counts); two elements that
    read each other must be argmin/argmax: `(min(x0, y0), select(x0 < y0,
    x1, y1))` or `(max(x0, y0), select(y0 < x0, x1, y1))`."""
    n = len(d.values)
    m = _Merge(n)
    deps = [_self_reads(fn, d, v, where) for v in d.values]
    done = set()
    for i in range(n):
        if i in done:
            continue
        if deps[i] <= {i}:
            partner = [k for k in range(n) if k != i and i in deps[k]]
            if not partner:
                op, self_first, _ = _associative_one(fn, d, i, where)
                t = fn.output_types[i]
                m.identities[i] = _identity(op, t)
                m._parts.append(((i,), lambda xs, ys, i=i, op=op, f=self_first:
                                 {i: op(xs[i], ys[i]) if f else op(ys[i], xs[i])}))
                done.add(i)
                continue
            # Each element that reads x_i pairs with it (Halide's subgraphs of
            # size 2): argmin/argmax over a multi-dimensional RDom has several.
            if all(deps[k] <= {i, k} for k in partner):
                for k in partner:
                    m._parts.append(_arg_pair(fn, d, i, k, m, where))
                done.update([i] + partner)
                continue
        _refuse(fn, d, where)
    return m


def _self_reads(fn, d, v, where) -> set:
    """Which elements of its own previous value `v` reads (all at the LHS)."""
    found = _SelfCalls(fn.sym)
    found.visit(v)
    for c in found.calls:
        if c.args != tuple(d.args):
            _refuse(fn, d, where)
    return {c.value_index for c in found.calls}


class _SelfCalls(ir.IRVisitor):
    def __init__(self, sym):
        self.sym, self.calls = sym, []

    def visit_Call(self, node):
        if node.fn is self.sym:
            self.calls.append(node)
        self.generic_visit(node)


def _arg_pair(fn, d, i, k, m, where):
    """Element i is min/max(x_i, y_i), element k selects x_k or y_k by the
    same comparison: Halide's argmin/argmax patterns."""
    vi, vk = d.values[i], d.values[k]
    xi = ir.Call(fn.output_types[i], fn.sym, tuple(d.args), ir.CallKind.FUNC, i)
    xk = ir.Call(fn.output_types[k], fn.sym, tuple(d.args), ir.CallKind.FUNC, k)
    if type(vi) not in (ir.Min, ir.Max) or xi not in (vi.a, vi.b) or not isinstance(vk, ir.Select):
        _refuse(fn, d, where)
    yi = vi.b if vi.a == xi else vi.a
    is_min = type(vi) is ir.Min
    c = vk.condition
    # Normalize the condition to lo < hi.
    if isinstance(c, ir.LT):
        lo, hi = c.a, c.b
    elif isinstance(c, ir.GT):
        lo, hi = c.b, c.a
    else:
        _refuse(fn, d, where)
    want = (xi, yi) if is_min else (yi, xi)      # x0 < y0 for min, y0 < x0 for max
    if (lo, hi) != want or vk.true_value != xk or _calls(vk.false_value, fn.sym) or _calls(yi, fn.sym):
        _refuse(fn, d, where)
    ti, tk = fn.output_types[i], fn.output_types[k]
    m.identities[i] = _identity(ir.Min if is_min else ir.Max, ti)
    m.identities[k] = ir.make_const(tk, 0)

    def combine(xs, ys):
        cond = ir.LT(xs[i], ys[i]) if is_min else ir.LT(ys[i], xs[i])
        return {i: type(vi)(xs[i], ys[i]), k: ir.Select(cond, xs[k], ys[k])}
    return (i, k), combine


def _refuse(fn, d, where):
    lhs = ", ".join(ir.to_string(a) for a in d.args)
    vals = ", ".join(ir.to_string(v) for v in d.values)
    raise ScheduleError(
        f"{where}: can't perform rfactor() because we can't prove associativity of the "
        f"operator in\n  {fn.name}({lhs}) = ({vals})\n"
        f"rfactor() needs each Tuple element to be op({fn.name}(args)[i], e) with op one of "
        f"+, *, min, max and e not calling {fn.name}, or a pair (min(x0, y0), select(x0 < y0, "
        f"x1, y1)) / (max(x0, y0), select(y0 < x0, x1, y1)) as argmin/argmax build.")


def _retarget(e, old, new, args):
    """`e` with every call of Func `old` made a call of `new` at `args`."""
    class _R(ir.IRMutator):
        def mutate_Call(self, node):
            node = self.generic_mutate(node)
            if node.fn is old:
                return ir.Call(node.type, new, tuple(args), node.kind, node.value_index)
            return node
    return _R().mutate(e)


def _associative_one(fn, d, i, where):
    """(op, whether the accumulator comes first, the other operand) of element
    i, `f[args][i] = op(f[args][i], e)`. A chain of one operator,
    `f[args] + a + b`, counts with `e = a + b`."""
    v = d.values[i]
    op = type(v)
    if op in _OPS:
        operands = _flatten(v, op)
        me = ir.Call(v.type, fn.sym, tuple(d.args), ir.CallKind.FUNC, i)
        mine = [j for j, e in enumerate(operands) if e == me]
        if len(mine) == 1:
            others = operands[:mine[0]] + operands[mine[0] + 1:]
            if not any(_calls(e, fn.sym) for e in others):
                term = others[0]
                for e in others[1:]:
                    term = op(term, e)
                return op, mine[0] == 0, term
    _refuse(fn, d, where)


def _flatten(e, op) -> list:
    return _flatten(e.a, op) + _flatten(e.b, op) if type(e) is op else [e]


class _CallsFinder(ir.IRVisitor):
    def __init__(self, sym):
        self.sym, self.found = sym, False

    def visit_Call(self, node):
        self.found |= node.fn is self.sym
        self.generic_visit(node)


def _calls(e, sym) -> bool:
    v = _CallsFinder(sym)
    v.visit(e)
    return v.found


def _identity(op, t: ir.Type) -> ir.Expr:
    if op is ir.Add or op is ir.Mul:
        return ir.make_const(t, 0 if op is ir.Add else 1)
    if t.is_float():
        return ir.make_const(t, math.inf if op is ir.Min else -math.inf)
    # (Type.max()/min() give user Exprs; a Definition holds IR.)
    return ir.make_const(t, t.max_value() if op is ir.Min else t.min_value())


def _bake_rvar_splits(d, where):
    """Apply the stage's RVar splits to its domain, as Halide's rfactor does.

    Returns the RVar of each loop dim by its dotted name, the value of each
    replaced RVar in terms of the new ones, the guards of inexact splits,
    and the splits of pure Vars (kept as schedule)."""
    live = {r.name: r for r in d.rvars}
    subst, guards, pure_splits = {}, [], []

    def replace(old, value):
        m = {old.sym: value}
        for k in list(subst):
            subst[k] = ir.substitute(m, subst[k])
        subst[old.sym] = value
        guards[:] = [ir.substitute(m, g) for g in guards]

    def rvar(dotted, mn, extent):
        return ReductionVar(dotted.rsplit(".", 1)[-1], ir.Symbol(dotted.rsplit(".", 1)[-1]), mn, extent)

    for s in d.schedule.splits:
        names = (s.inner, s.outer) if s.kind is SplitKind.FUSE else (s.old,)
        if not any(n in live for n in names):
            pure_splits.append(s)
        elif not all(n in live for n in names):
            raise ScheduleError(f"{where}: rfactor() can't handle the fuse of RVar and pure Var "
                                f"into {s.old}")
        elif s.kind is SplitKind.SPLIT:
            old, f = live.pop(s.old), s.factor
            outer = live[s.outer] = rvar(s.outer, ir.i32(0),
                                         ir.Div(ir.Add(old.extent, ir.Sub(f, ir.i32(1))), f))
            inner = live[s.inner] = rvar(s.inner, ir.i32(0), f)
            index = ir.Add(ir.Mul(ir.Variable(ir.Int(32), outer.sym), f),
                           ir.Variable(ir.Int(32), inner.sym))
            e, fv = ir.const_value(old.extent), ir.const_value(f)
            if e is None or fv is None or e % fv:
                last = ir.Sub(old.extent, ir.i32(1))
                guards.append(ir.LE(index, last))
                index = ir.Min(index, last)
            replace(old, ir.Add(index, old.min))
        elif s.kind is SplitKind.FUSE:
            inner, outer = live.pop(s.inner), live.pop(s.outer)
            fused = live[s.old] = rvar(s.old, ir.i32(0), ir.Mul(inner.extent, outer.extent))
            fv = ir.Variable(ir.Int(32), fused.sym)
            replace(inner, ir.Add(ir.Mod(fv, inner.extent), inner.min))
            replace(outer, ir.Add(ir.Div(fv, inner.extent), outer.min))
        else:
            old = live.pop(s.old)
            new = live[s.outer] = rvar(s.outer, old.min, old.extent)
            replace(old, ir.Variable(ir.Int(32), new.sym))
    return live, subst, guards, pure_splits


def _conjunction(conds):
    out = None
    for c in conds:
        out = c if out is None else ir.And(out, c)
    return out
