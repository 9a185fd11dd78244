"""`propagate_adjoints`: the reverse-mode (adjoint) pipeline of a Func.

Reverse accumulation over the pipeline, consumers before producers, and
within a Func from its last update back to its pure definition (Halide's
Derivative.cpp and Li et al., SIGGRAPH 2018). Every Func `f` gets one adjoint
Func per stage; the adjoint of its final value collects, as update
definitions, what every consumer's expression sends to it.

What a consumer stage at pure vars X and RVars R sends to a call `g(C)` is
`adj_g(C) += seed(X, R) * d value / d g(C)`, a scatter. Where an argument is
`X_j + c` it is solved (`X_j = x' - c`), so the adjoint is a gather along that
dimension (the paper's scatter-to-gather); every unsolved pure var becomes an
RVar over the consumer's region, so what remains is a scatter over an RDom,
still correct under any schedule because it is an update definition.

    g(x) = f(x - 1) + f(x + 1)  ->  adj_f(x) += adj_g(x + 1);  adj_f(x) += adj_g(x - 1)
    h() = sum(g(r))             ->  adj_g(r) += adj_h()        (r over h's RDom)

Updates: an overwrite zeroes the adjoint of the points it overwrites; an
additive update (`f(L) = f(L) + e`) passes the adjoint through; an update with
no RVars reads the previous stage, so its derivative reads a copy of `f` up to
that stage; a causal scan (`f(r) = a * f(r - 1) + e`) becomes a scan of the
adjoint in reverse order. Anything else is refused, as Halide refuses it.
"""
from __future__ import annotations

import itertools

from pipelang import ir
from pipelang.autodiff.errors import NotDifferentiableError
from pipelang.autodiff.expr_adjoints import expr_adjoints
from pipelang.autodiff.regions import infer_regions
from pipelang.buffer import field_owner
from pipelang.expr import Expr
from pipelang.function import registry
from pipelang.lowering.analysis.environment import find_environment
from pipelang.lowering.analysis.intervals import Interval
from pipelang.lowering.simplify import simplify
from pipelang.param import param_owner
from pipelang.var import Var, var_symbol

_serial = itertools.count()


class _SelfCalls(ir.IRVisitor):
    def __init__(self, sym):
        self.sym = sym
        self.count = 0

    def visit_Call(self, node):
        if node.fn is self.sym:
            self.count += 1
        self.generic_visit(node)


def _count_calls(e, sym) -> int:
    v = _SelfCalls(sym)
    v.visit(e)
    return v.count


class _Retarget(ir.IRMutator):
    def __init__(self, old, new):
        self.old, self.new = old, new

    def mutate_Call(self, node):
        node = self.generic_mutate(node)
        if node.fn is self.old:
            return ir.Call(node.type, self.new, node.args, node.kind, node.value_index)
        return node


def _offset_of(arg, xsym):
    """c when `arg` is `xsym + c` with c free of `xsym`, else None."""
    c = simplify(ir.Sub(arg, ir.Variable(ir.Int(32), xsym)))
    return None if xsym in ir.free_symbols(c) else c


def _always_within(e, scope, lo, hi) -> bool:
    """Whether `e` provably stays in [lo, hi] while `scope`'s symbols range over theirs."""
    from pipelang.lowering.analysis.intervals import bounds_of_expr
    b = bounds_of_expr(e, scope)
    if not b.is_bounded():
        return False
    return (ir.is_const(simplify(ir.LE(lo, b.min)), 1)
            and ir.is_const(simplify(ir.LE(b.max, hi)), 1))


def _tuple(values):
    values = tuple(values)
    return values[0] if len(values) == 1 else values


def _elements_at(func, args):
    """`func[args]` as the value of a definition: an Expr, or a Tuple's elements."""
    ref = func[args] if args else func[()]
    return Expr(ref._to_ir()) if func.outputs() == 1 else tuple(ref[k] for k in range(func.outputs()))


class _Builder:
    def __init__(self, output_fn, order, regions):
        self.output_fn = output_fn
        self.order = order
        self.regions = regions
        self.final = {}        # Function symbol -> adjoint Func of its final value
        self.targets = {}      # buffer/param symbol -> adjoint Func
        self.result = {}       # (name, update_id) -> Func
        self.created = []      # every Func built, for the default schedule
        self._staged = {}      # (buffer symbol, dimension) -> transposed copy
        self.extents = {}      # Func name -> [(min, extent)] of constants, where known

    # ------------------------------------------------------------ Funcs

    def _new(self, name: str, arg_names: list, types):
        """A Func of zeros: one element per Tuple element (float ones keep their type)."""
        from pipelang.func import Func
        types = [types] if isinstance(types, ir.Type) else list(types)
        zeros = [Expr(ir.make_const(t if t.is_float() else ir.Float(32), 0)) for t in types]
        f = Func(f"{name}_{next(_serial)}")
        f[tuple(Var(a) for a in arg_names)] = zeros[0] if len(zeros) == 1 else tuple(zeros)
        self.created.append(f)
        return f

    def _copy(self, name, source, fn):
        """A new adjoint Func whose pure definition is `source` (a Func) at the same point."""
        from pipelang.func import Func
        f = Func(f"{name}_{next(_serial)}")
        args = tuple(Var(a) for a in fn.args)
        f[args] = _elements_at(source, args)
        self.created.append(f)
        return f

    def final_adjoint(self, fn):
        if fn.sym not in self.final:
            self.final[fn.sym] = self._new(f"{fn.name}_{len(fn.updates) - 1}_d_def__", fn.args,
                                           fn.output_types)
            self._record_extents(self.final[fn.sym], self.regions.get(fn.sym))
        return self.final[fn.sym]

    def _record_extents(self, f, region) -> None:
        """Remember `f`'s region where it is constant (the default schedule tiles it)."""
        if region is None:
            return
        box = []
        for iv in region:
            lo, hi = ir.const_value(simplify(iv.min)), ir.const_value(simplify(iv.max))
            box.append((lo, hi - lo + 1) if lo is not None and hi is not None else (None, None))
        self.extents[f.name()] = box

    def _target_region(self, leaf):
        """[Interval] over which the adjoint of a leaf is realized, where known."""
        if isinstance(leaf, ir.Variable):
            return []
        if leaf.kind is ir.CallKind.IMAGE:
            owner = field_owner[ir.buffer_host(leaf.fn)]
            if hasattr(owner, "dim") and not hasattr(owner, "set"):
                return [Interval(ir.i32(owner.dim(d).min()),
                                 ir.i32(owner.dim(d).min() + owner.dim(d).extent() - 1))
                        for d in range(owner.dimensions())]
            return None
        return self.regions.get(leaf.fn)

    def _target(self, leaf):
        """(adjoint Func, its region or None) that a leaf's gradient goes to, or None."""
        if isinstance(leaf, ir.Variable):
            p = param_owner[leaf.sym]
            if leaf.sym not in self.targets:
                self.targets[leaf.sym] = (self._new(f"{p.name()}_d__", [], leaf.type), p.name())
            return self.targets[leaf.sym][0]
        if leaf.kind is ir.CallKind.IMAGE:
            owner = field_owner[ir.buffer_host(leaf.fn)]
            if leaf.fn not in self.targets:
                names = [f"i{d}" for d in range(len(leaf.args))]
                self.targets[leaf.fn] = (self._new(f"{owner.name()}_d__", names, leaf.type),
                                         owner.name())
                self._record_extents(self.targets[leaf.fn][0], self._target_region(leaf))
            return self.targets[leaf.fn][0]
        return self.final_adjoint(registry[leaf.fn])

    # ------------------------------------------------------------ scatter / gather

    def contribute(self, target, call_args, contrib, fn, stage, target_region=None, index=0):
        """target(call_args) += contrib, for every point of `fn`'s stage.

        Each argument `X + c` (X a pure var, c free of pure vars) or `r + c`
        (r an RVar used by no other argument, c free of RVars and pure vars) is
        solved for its variable, so that dimension becomes a gather; the
        variable is read back clamped into its range, and the contribution is
        masked to zero outside it, so nothing is read that the forward
        pipeline did not read. Every other pure var, and every RVar not
        solved, becomes a dimension of a new RDom: a scatter along it.
        """
        from pipelang.rdom import RDom
        region = self.regions[fn.sym]
        xsyms = [var_symbol(a) for a in fn.args]
        rvars = list(stage.rvars)
        rsyms = {r.sym for r in rvars}
        target_args = target.args()
        solved = {}     # Symbol -> (its value in terms of the target's vars, low, high, dim)
        lhs = []
        arg_syms = [ir.free_symbols(a) for a in call_args]
        for i, a in enumerate(call_args):
            free = arg_syms[i]
            xs = [s for s in xsyms if s in free]
            rs = [s for s in rsyms if s in free]
            v = target_args[i]
            if len(xs) == 1 and xs[0] not in solved:
                # conv: adj_in(x') += adj_out(x' - r) * w(r), the RDom inside.
                c = _offset_of(a, xs[0])
                if c is not None and not (ir.free_symbols(c) & set(xsyms)):
                    d = xsyms.index(xs[0])
                    solved[xs[0]] = (simplify(ir.Sub(v._to_ir(), c)), region[d].min, region[d].max, i)
                    lhs.append(v)
                    continue
            if not xs and len(rs) == 1 and rs[0] not in solved and not any(
                    rs[0] in other for k, other in enumerate(arg_syms) if k != i):
                c = _offset_of(a, rs[0])
                if c is not None and not (ir.free_symbols(c) & rsyms):
                    r = next(r for r in rvars if r.sym is rs[0])
                    hi = simplify(ir.Sub(ir.Add(r.min, r.extent), ir.i32(1)))
                    solved[rs[0]] = (simplify(ir.Sub(v._to_ir(), c)), r.min, hi, i)
                    lhs.append(v)
                    continue
            lhs.append(None)
        used = ir.free_symbols(contrib)
        for free in arg_syms:
            used |= free
        unsolved = [(d, s) for d, s in enumerate(xsyms) if s not in solved and s in used]
        loops = [r for r in rvars if r.sym not in solved]
        mapping = {}
        if unsolved or len(loops) != len(rvars):
            # The unsolved pure vars and RVars become one new RDom (or none).
            ranges = [(Expr(region[d].min),
                       Expr(simplify(ir.Add(ir.Sub(region[d].max, region[d].min), ir.i32(1)))))
                      for d, _ in unsolved]
            ranges += [(Expr(r.min), Expr(r.extent)) for r in loops]
            if ranges:
                rdom = RDom(ranges, f"{fn.name}_r{next(_serial)}")
                for k, (_, s) in enumerate(unsolved):
                    mapping[s] = rdom[k]._to_ir()
                for k, r in enumerate(loops):
                    mapping[r.sym] = rdom[len(unsolved) + k]._to_ir()
        # Solved variables: clamped into their range, zero outside it.
        loop_map = dict(mapping)
        inside = None
        scope = {}
        if target_region is not None:
            scope = {target_args[i]._to_ir().sym: target_region[i] for _, _, _, i in solved.values()}
        for r in loops:
            scope[r.sym] = Interval(r.min, simplify(ir.Sub(ir.Add(r.min, r.extent), ir.i32(1))))
        for s, (e, lo, hi, i) in solved.items():
            inside_always = target_region is not None and _always_within(e, scope, lo, hi)
            e = ir.substitute(loop_map, e)
            if inside_always:
                mapping[s] = e
                continue
            mapping[s] = ir.Max(ir.Min(e, hi), lo)
            cond = ir.And(ir.GE(e, lo), ir.LE(e, hi))
            inside = cond if inside is None else ir.And(inside, cond)
        if stage.predicate is not None and mapping:
            p = ir.substitute(mapping, stage.predicate)
            inside = p if inside is None else ir.And(inside, p)
        lhs = tuple(v if v is not None else Expr(simplify(ir.substitute(mapping, a)))
                    for v, a in zip(lhs, call_args))
        value = ir.substitute(mapping, contrib)
        t = target.types()[index]
        if value.type != t:
            value = ir.Cast(t, value)
        if inside is not None:
            value = ir.Select(inside, value, ir.make_const(t, 0))
        value = simplify(value)
        if lhs and lhs[0] is target_args[0]:
            value = self._restage(value, target_args[0]._to_ir().sym)
        if target.outputs() == 1:
            target[lhs] = target[lhs] + Expr(value)
        else:
            old = target[lhs]
            target[lhs] = tuple(old[k] + Expr(value) if k == index else old[k]
                                for k in range(target.outputs()))

    def _restage(self, value, v0):
        """Reads of an input along `v0` (which the default schedule vectorizes)
        from any dimension but its innermost go through a transposed copy, so
        they are dense vector loads: d_input of a conv reads w(k, rx, ry, c)
        along c."""
        builder = self

        class _Restage(ir.IRMutator):
            def mutate_Call(self, node):
                node = self.generic_mutate(node)
                if node.kind is not ir.CallKind.IMAGE:
                    return node
                dims = [p for p, a in enumerate(node.args) if v0 in ir.free_symbols(a)]
                if len(dims) != 1 or dims[0] == 0 or _offset_of(node.args[dims[0]], v0) is None:
                    return node
                staged = builder._transposed(node, dims[0])
                return staged[tuple(Expr(a) for a in node.args)]._to_ir()
        return _Restage().mutate(value)

    def _transposed(self, call, dim):
        from pipelang.func import Func
        key = (call.fn, dim)
        if key not in self._staged:
            owner = field_owner[ir.buffer_host(call.fn)]
            names = [f"i{d}" for d in range(len(call.args))]
            f = Func(f"{owner.name()}_transposed_{next(_serial)}")
            args = tuple(Var(n) for n in names)
            f[args] = owner[args]
            f.reorder_storage(*[args[dim]] + [a for d, a in enumerate(args) if d != dim])
            self.created.append(f)
            self._staged[key] = f
        return self._staged[key]

    def send(self, leaves, fn, stage, skip=None):
        for leaf, adj in leaves:
            if skip is not None and isinstance(leaf, ir.Call) and leaf.fn is skip:
                continue
            target = self._target(leaf)
            args = () if isinstance(leaf, ir.Variable) else leaf.args
            index = 0 if isinstance(leaf, ir.Variable) else leaf.value_index
            self.contribute(target, args, adj, fn, stage, self._target_region(leaf), index)

    # ------------------------------------------------------------ stages

    def _seed(self, adj, fn, args, k=0):
        # An adjoint is zero outside its Func's region (every contribution is
        # masked or ranges over a region), and `contribute` reads it only there.
        ref = adj[tuple(Expr(a) for a in args)]
        return (ref if adj.outputs() == 1 else ref[k])._to_ir()

    def _leaves(self, stage, adj, fn, args):
        """[(leaf, adjoint)] of every Tuple element of a stage, and the seeds."""
        seeds = [self._seed(adj, fn, args, k) for k in range(len(stage.values))]
        leaves = []
        for v, seed in zip(stage.values, seeds):
            leaves += expr_adjoints(v, seed)
        return leaves, seeds

    def pure_stage(self, fn, adj):
        stage = fn.init
        xs = [ir.Variable(ir.Int(32), var_symbol(a)) for a in fn.args]
        self.send(self._leaves(stage, adj, fn, xs)[0], fn, stage)

    def update_stage(self, fn, j, adj):
        """Sends update j's gradients on; returns the adjoint of the stage before it."""
        stage = fn.updates[j]
        name = f"{fn.name}_{j - 1}_d_def__" if j > 0 else f"{fn.name}_d_def__"
        leaves, seeds = self._leaves(stage, adj, fn, stage.args)
        self_leaves = [(c, a) for c, a in leaves if isinstance(c, ir.Call) and c.fn is fn.sym]
        n_self = sum(_count_calls(e, fn.sym) for e in list(stage.values) + list(stage.args))
        # Per Tuple element: additive (f(L)[k] + e, the adjoint passes through),
        # overwritten (no call to f: the adjoint of the old value is zero), or neither.
        kinds = []
        for k, v in enumerate(stage.values):
            mine = [(c, a) for c, a in expr_adjoints(v, seeds[k])
                    if isinstance(c, ir.Call) and c.fn is fn.sym]
            calls = _count_calls(v, fn.sym)
            if calls == 0:
                kinds.append("overwritten")
            elif (calls == 1 and len(mine) == 1 and mine[0][0].args == stage.args
                  and mine[0][0].value_index == k and mine[0][1] == seeds[k]):
                kinds.append("additive")
            else:
                kinds.append("other")
        if any(_count_calls(a, fn.sym) for a in stage.args):
            kinds.append("other")
        if all(k == "additive" for k in kinds):
            self.send(leaves, fn, stage, skip=fn.sym)
            return adj
        prev = self._copy(name, adj, fn)
        if "other" not in kinds:
            self._check_single_writes(fn, j, stage)
            self._zero(prev, stage, [k for k, kind in enumerate(kinds) if kind == "overwritten"])
            self.send(leaves, fn, stage, skip=fn.sym)
        elif not stage.rvars:
            # Each point is written once, from values of the stage before: the
            # derivative reads those through a copy of f up to that stage.
            before = self._clone_until(fn, j)
            retarget = _Retarget(fn.sym, before.function.sym)
            leaves = [(retarget.mutate(c), retarget.mutate(a)) for c, a in leaves]
            self._zero(prev, stage)
            for c, a in leaves:
                if isinstance(c, ir.Call) and c.fn is before.function.sym:
                    self.contribute(prev, c.args, a, fn, stage, index=c.value_index)
            self.send(leaves, fn, stage, skip=before.function.sym)
        elif len(stage.values) == 1 and self._is_causal_scan(fn, stage, self_leaves, n_self):
            prev = self._scan(fn, j, stage, adj, name)
        else:
            raise NotDifferentiableError(
                f"Can't take the gradients of {fn.name}, which depend on intermediate values. "
                f"Use a scan (which saves intermediate results) instead.")
        return prev

    def _zero(self, prev, stage, elements=None):
        """prev(L) = 0 over the stage's domain (for the given Tuple elements, or all):
        the old values there are overwritten."""
        lhs = tuple(Expr(a) for a in stage.args)
        types = prev.types()
        zero = [k in elements if elements is not None else True for k in range(len(types))]
        old = prev[lhs]
        values = [Expr(ir.make_const(t, 0)) if z else (old if len(types) == 1 else old[k])
                  for k, (t, z) in enumerate(zip(types, zero))]
        prev[lhs] = values[0] if len(values) == 1 else tuple(values)

    def _check_single_writes(self, fn, j, stage):
        if not stage.rvars:
            return
        rsyms = [r.sym for r in stage.rvars]
        seen = set()
        for a in stage.args:
            rs = [s for s in rsyms if s in ir.free_symbols(a)]
            if len(rs) > 1:
                break
            if rs:
                if rs[0] in seen or _offset_of(a, rs[0]) is None:
                    break
                seen.add(rs[0])
        if seen == set(rsyms):
            return
        raise NotDifferentiableError(
            f"Can't take the gradients of update {j} of {fn.name}: it overwrites some points "
            f"more than once, so the values it overwrites are lost")

    def _is_causal_scan(self, fn, stage, self_leaves, n_self) -> bool:
        """One RVar, one call to f, reading a point the scan wrote earlier."""
        if len(stage.rvars) != 1 or not self_leaves or n_self != len(self_leaves):
            return False
        call = self_leaves[0][0]
        if any(c.args != call.args for c, _ in self_leaves):
            return False
        r = stage.rvars[0].sym
        moved = False
        for lhs, arg in zip(stage.args, call.args):
            d = simplify(ir.Sub(lhs, arg))
            if ir.free_symbols(d):
                return False
            step = ir.const_value(d)
            if step is None:
                return False
            if step != 0:
                if moved or r not in ir.free_symbols(lhs) or _offset_of(lhs, r) is None or step < 0:
                    return False
                moved = True
        return moved

    def _scan(self, fn, j, stage, adj, name):
        """The adjoint of a causal scan: the same scan over the adjoint, backwards."""
        from pipelang.rdom import RDom
        rv = stage.rvars[0]
        t = self._copy(f"{fn.name}_{j}_scan_d__", adj, fn)
        back = RDom([(Expr(rv.min), Expr(rv.extent))], f"{fn.name}_rev{next(_serial)}")
        flipped = {rv.sym: simplify(ir.Sub(ir.Add(ir.Add(rv.min, rv.min), ir.Sub(rv.extent, ir.i32(1))),
                                           back[0]._to_ir()))}
        seed = t[tuple(Expr(a) for a in stage.args)]._to_ir()
        leaves = expr_adjoints(stage.values[0], seed)
        mine = [(c, a) for c, a in leaves if isinstance(c, ir.Call) and c.fn is fn.sym]
        call = mine[0][0]
        total = mine[0][1]
        for _, a in mine[1:]:
            total = ir.Add(total, a)
        lhs = tuple(Expr(simplify(ir.substitute(flipped, x))) for x in call.args)
        value = simplify(ir.substitute(flipped, total))
        if stage.predicate is not None:
            back.where(Expr(ir.substitute(flipped, stage.predicate)))
        t[lhs] = t[lhs] + Expr(value)
        self.send(leaves, fn, stage, skip=fn.sym)
        prev = self._copy(name, t, fn)
        self._zero(prev, stage)
        return prev

    def _clone_until(self, fn, j):
        """A Func computing `fn`'s pure definition and its updates before update j."""
        from pipelang.func import Func
        g = Func(f"{fn.name}_update_{j - 1}_copy{next(_serial)}")
        retarget = _Retarget(fn.sym, g.function.sym)
        g[tuple(Var(a) for a in fn.args)] = _tuple(Expr(v) for v in fn.init.values)
        for u in fn.updates[:j]:
            lhs = tuple(Expr(retarget.mutate(a)) for a in u.args)
            g[lhs] = _tuple(Expr(retarget.mutate(v)) for v in u.values)
        self.created.append(g)
        return g

    # ------------------------------------------------------------ the whole pipeline

    def run(self, output_adjoint):
        self.final[self.output_fn.sym] = output_adjoint
        for fn in reversed(self.order):
            if fn.sym not in self.regions:
                continue
            adj = self.final_adjoint(fn)
            n = len(fn.updates)
            self.result[(fn.name, n - 1)] = adj
            for j in reversed(range(n)):
                adj = self.update_stage(fn, j, adj)
                self.result[(fn.name, j - 1)] = adj
            self.pure_stage(fn, adj)
        for sym, (f, name) in self.targets.items():
            self.result[(name, -1)] = f


def _region_from(output_bounds):
    out = []
    for b in output_bounds:
        mn, ext = (b.min, b.extent) if hasattr(b, "extent") and not callable(b.extent) else tuple(b)
        mn_ir = Expr(mn)._to_ir() if not isinstance(mn, ir.Expr) else mn
        ext_ir = Expr(ext)._to_ir() if not isinstance(ext, ir.Expr) else ext
        out.append(Interval(simplify(mn_ir), simplify(ir.Sub(ir.Add(mn_ir, ext_ir), ir.i32(1)))))
    return out


def build(output, adjoint=None, output_bounds=None) -> dict:
    """{(name, update_id): Func} for every Func, buffer and Param `output` depends on."""
    from pipelang.boundary_conditions import constant_exterior
    from pipelang.func import Func
    fn = output.function
    if not fn.defined():
        raise NotDifferentiableError(f'Can\'t differentiate Func "{fn.name}": it is undefined')
    if len(fn.output_types) != 1 or not fn.output_types[0].is_float():
        raise NotDifferentiableError(
            f'Can\'t differentiate Func "{fn.name}": its value must be a single float, '
            f'not {", ".join(map(str, fn.output_types))}')
    t = fn.output_types[0]
    dims = fn.dimensions()
    args = tuple(Var(a) for a in fn.args)
    if adjoint is None:
        region = [Interval(ir.i32(0), ir.i32(0)) for _ in range(dims)]
        seed = Func(f"{fn.name}_adjoint_{next(_serial)}")
        inside = None
        for a in args:
            c = a == 0
            inside = c if inside is None else inside & c
        one = Expr(ir.make_const(t, 1))
        from pipelang import operators as op
        seed[args] = one if inside is None else op.select(inside, one, Expr(ir.make_const(t, 0)))
    elif output_bounds is None:
        if not hasattr(adjoint, "dimensions") or isinstance(adjoint, Func):
            raise NotDifferentiableError(
                "propagate_adjoints(output, adjoint Func) also needs the output bounds: "
                "propagate_adjoints(output, adjoint, [(min, extent), ...])")
        if adjoint.dimensions() != dims:
            raise NotDifferentiableError(
                f'The adjoint buffer {adjoint.name()} has {adjoint.dimensions()} dimensions, but '
                f'Func "{fn.name}" has {dims}')
        region = [Interval(ir.i32(adjoint.dim(d).min()),
                           ir.i32(adjoint.dim(d).min() + adjoint.dim(d).extent() - 1))
                  for d in range(dims)]
        seed = constant_exterior(adjoint, Expr(ir.make_const(adjoint.type(), 0)))
    else:
        if len(output_bounds) != dims:
            raise NotDifferentiableError(
                f'propagate_adjoints got {len(output_bounds)} output bounds for Func "{fn.name}" '
                f'of {dims} dimensions')
        region = _region_from(output_bounds)
        bounds = [(Expr(i.min), Expr(simplify(ir.Add(ir.Sub(i.max, i.min), ir.i32(1)))))
                  for i in region]
        seed = constant_exterior(adjoint, Expr(ir.make_const(adjoint.type(), 0)), bounds)
    env, order = find_environment([fn], registry)
    regions = infer_regions(fn, region, order)
    b = _Builder(fn, order, regions)
    out_adj = Func(f"{fn.name}_{len(fn.updates) - 1}_d_def__{next(_serial)}")
    value = Expr((seed[args] if args else seed[()])._to_ir())
    if value.type() != t:
        from pipelang import operators as op
        value = op.cast(t, value)
    out_adj[args] = value
    b.created.append(out_adj)
    b.run(out_adj)
    from pipelang.autodiff.default_schedule import schedule_adjoints
    schedule_adjoints(b.created, b.extents)
    return b.result
