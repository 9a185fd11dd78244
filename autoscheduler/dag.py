"""The pipeline as the autoscheduler sees it, analysed once: every Func with
its stages (dims, RVars, calls, operation counts), the consumers of each
Func, and the region of each Func the outputs' estimates require.

Regions come from the compiler's own interval analysis
(`pipelang.lowering.analysis.bounds_of_expr`): for each call a consumer stage
makes, the bounds of its arguments are computed once, symbolically in the
ends of the consumer's box; a query then only evaluates those ends. So the
region a producer needs for any tile of a consumer costs a few evaluations,
and no candidate is ever lowered to be priced.

    dag = DAG.build(pipeline, parallelism=2)
    dag.region("blur_x")                    # [(0, 1026), (0, 1024)] at the estimates
    dag.footprint("blur_x", consumer_stage, {"x": (0, 15), "y": (0, 0)})
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipelang import ir
from pipelang.lowering.analysis import Interval, bounds_of_expr, evaluate_expr
from pipelang.lowering.analysis.environment import find_environment

from autoscheduler.params import AutoschedulerError


class _CallsAndOps(ir.IRVisitor):
    """Calls made (by symbol, with their args) and a count of arithmetic nodes."""

    def __init__(self):
        self.calls: list = []
        self.ops = 0                # every arithmetic node
        self.value_ops = 0          # outside call arguments (index math is excluded)
        self.data_dependent = False
        self._in_args = 0

    def visit_Call(self, node):
        self.calls.append(node)
        self._in_args += 1
        for a in node.args:
            if self._in_args > 1 or _has_call(a):
                self.data_dependent = True
            self.visit(a)
        self._in_args -= 1

    def generic_visit(self, node):
        if isinstance(node, ir.Expr) and not isinstance(node, (ir.Variable,)) and \
                type(node).__name__ not in ("IntImm", "UIntImm", "FloatImm"):
            self.ops += 1
            if not self._in_args:
                self.value_ops += 1
        super().generic_visit(node)


def _has_call(e) -> bool:
    v = _CallsAndOps()
    ir.IRVisitor.visit(v, e)
    return bool(v.calls)


@dataclass
class StageInfo:
    func: "FuncNode"
    index: int                      # 0 = the pure definition, k = update k - 1
    dims: list                      # loop names, innermost first (the default order)
    pure: list                      # pure var names among dims
    rvars: list                     # (name, min, extent) at the estimates
    calls: dict                     # producer Symbol -> [Call]
    ops: int
    value_ops: int = 0              # arithmetic on values (not in call arguments)
    loads: int = 0
    # Pure vars whose iterations are independent (free to reorder, vectorize, parallelize).
    free_pure: list = field(default_factory=list)
    lhs_pointwise: bool = True      # an update writing f[x, y] at its own pure vars
    # An update `f(lhs) = f(lhs) op e` with op in +, *, min, max and e not reading f:
    # associative and commutative, so rfactor may split it.
    associative: bool = False

    @property
    def is_update(self) -> bool:
        return self.index > 0

    @property
    def handle(self) -> str:
        return self.func.name if self.index == 0 else f"{self.func.name}.update({self.index - 1})"


@dataclass
class FuncNode:
    name: str
    fn: object                      # pipelang.function.Function
    args: list
    types: tuple
    is_output: bool
    stages: list = field(default_factory=list)
    consumers: list = field(default_factory=list)    # StageInfo of other Funcs calling this one
    region: list = field(default_factory=list)       # (min, extent) per dim at the estimates

    @property
    def sym(self):
        return self.fn.sym

    @property
    def has_updates(self) -> bool:
        return len(self.stages) > 1

    @property
    def bytes_per_point(self) -> int:
        return sum(t.bytes() for t in self.types)

    def points(self) -> int:
        n = 1
        for _, e in self.region:
            n *= max(e, 0)
        return n

    def extent(self, var: str) -> int:
        return self.region[self.args.index(var)][1]


class DAG:
    def __init__(self, outputs: list, target, parallelism: int, grow: int = 0):
        from pipelang.function import registry
        self.target = target
        self.parallelism = parallelism
        self.output_fns = outputs
        self.grow = grow                 # added to every output estimate (the region check's probes)
        _, order = find_environment(outputs, registry)
        self.nodes: list = []            # producers before consumers
        self.by_name: dict = {}
        self.by_sym: dict = {}
        self.env: dict = {}              # Param and buffer-field symbols -> estimate values
        self.inputs: dict = {}           # buffer Symbol -> owner (Buffer or ImageParam)
        for fn in order:
            node = FuncNode(fn.name, fn, list(fn.args), tuple(fn.output_types), fn in outputs)
            self.nodes.append(node)
            self.by_name[fn.name] = node
            self.by_sym[fn.sym] = node
        for node in self.nodes:
            self._bind_free_symbols(node)
        for node in self.nodes:
            node.stages = [self._stage(node, i, d) for i, d in enumerate(node.fn.stages())]
        for node in self.nodes:
            for s in node.stages:
                for sym in s.calls:
                    if sym in self.by_sym and sym is not node.sym:
                        self.by_sym[sym].consumers.append(s)
        self._bounds_cache: dict = {}
        self._footprint_cache: dict = {}
        self._vector_width: dict = {}
        self.memo: dict = {}             # the search's analyses of this DAG, by key
        self._infer_regions()

    @classmethod
    def build(cls, pipeline, target=None, parallelism: int = 1, grow: int = 0) -> "DAG":
        from pipelang.pipeline import _functions
        return cls(_functions(pipeline.outputs()), target, parallelism, grow)

    # ---------------------------------------------------------------- analysis

    def _bind_free_symbols(self, node) -> None:
        """Values, at the estimates, of the Params and buffer fields the algorithm reads."""
        from pipelang.buffer import Buffer, field_owner
        from pipelang.param import param_owner
        exprs = []
        for d in node.fn.stages():
            exprs += list(d.args) + list(d.values) + [e for r in d.rvars for e in (r.min, r.extent)]
            if d.predicate is not None:
                exprs.append(d.predicate)
        for e in exprs:
            for sym in ir.free_symbols(e):
                if sym in self.env:
                    continue
                if sym in param_owner:
                    p = param_owner[sym]
                    self.env[sym] = p.estimate() if hasattr(p, "estimate") else p.get()
                elif sym in field_owner:
                    self._bind_buffer(field_owner[sym])
            for call in _calls_of(e):
                if call.kind is ir.CallKind.IMAGE and call.fn not in self.inputs:
                    owner = field_owner.get(ir.buffer_host(call.fn))
                    if owner is not None:
                        self._bind_buffer(owner)

    def _bind_buffer(self, owner) -> None:
        from pipelang.buffer import Buffer
        sym = owner._sym
        self.inputs[sym] = owner
        for d in range(owner.dimensions()):
            if isinstance(owner, Buffer):
                lo, ext, stride = owner.dim(d).min(), owner.dim(d).extent(), owner.dim(d).stride()
            else:
                est = owner.estimates()[d]
                if est is None:
                    raise AutoschedulerError(
                        f"ImageParam {owner.name()} has no estimate for dimension {d}: call "
                        f"{owner.name()}.dim({d}).set_estimate(min, extent) (or "
                        f"{owner.name()}.set_estimates([...])) before autoscheduling")
                lo, ext = est
                stride = 1
                for k in range(d):
                    stride *= max(owner.estimates()[k][1], 1)
            self.env[ir.buffer_min(sym, d)] = lo
            self.env[ir.buffer_extent(sym, d)] = ext
            self.env[ir.buffer_stride(sym, d)] = stride

    def _eval(self, e, extra=None) -> int:
        env = self.env if not extra else {**self.env, **extra}
        return int(evaluate_expr(e, env))

    def _stage(self, node, index, d) -> StageInfo:
        dims = [dm.var for dm in d.schedule.dims] if not d.schedule.touched else \
            ([r.name for r in d.rvars] + [a.sym.name for a in d.args
                                          if isinstance(a, ir.Variable) and a.sym.name in node.args]
             if index else list(node.args))
        pure = [v for v in dims if v in node.args]
        rvars = []
        for r in d.rvars:
            try:
                rvars.append((r.name, self._eval(r.min), self._eval(r.extent), r.sym))
            except Exception as e:      # noqa: BLE001 - a bound reading data: assume small
                raise AutoschedulerError(f"The RDom bounds of {node.name} depend on something "
                                         f"without an estimate ({e})") from None
        v = _CallsAndOps()
        for e in list(d.values) + ([d.predicate] if d.predicate is not None else []) + \
                (list(d.args) if index else []):
            v.visit(e)
        calls: dict = {}
        for c in v.calls:
            calls.setdefault(c.fn, []).append(c)
        s = StageInfo(node, index, dims, pure, rvars, calls, v.ops, v.value_ops, len(v.calls))
        if index:
            s.associative = len(d.values) == 1 and _self_reduction(d.values[0], node.sym, d.args)
            positions = {a.sym.name: i for i, a in enumerate(d.args) if isinstance(a, ir.Variable)}
            s.lhs_pointwise = all(positions.get(a) == i for i, a in enumerate(node.args))
            free = []
            for p in pure:
                pos = positions.get(p)
                if pos is None:
                    continue
                ok = all(len(c.args) > pos and isinstance(c.args[pos], ir.Variable)
                         and c.args[pos].sym.name == p for c in calls.get(node.sym, []))
                if ok:
                    free.append(p)
            s.free_pure = free
        else:
            s.free_pure = list(pure)
        return s

    def _call_bounds(self, stage: StageInfo, producer_sym):
        """Per call to the producer: per dim (min Expr, max Expr) in the ends of the
        consumer's box (Variables `<var>.lo`, `<var>.hi`), or None where unbounded."""
        key = (id(stage), producer_sym)
        hit = self._bounds_cache.get(key)
        if hit is not None:
            return hit
        from pipelang.var import var_symbol
        scope = {}
        for p in stage.func.args:
            sym = var_symbol(p)
            scope[sym] = Interval(ir.Variable(ir.Int(32), sym.field("as.lo")),
                                  ir.Variable(ir.Int(32), sym.field("as.hi")))
        for name, lo, ext, sym in stage.rvars:
            scope[sym] = Interval(ir.make_const(ir.Int(32), lo), ir.make_const(ir.Int(32), lo + ext - 1))
        out = []
        for call in stage.calls.get(producer_sym, []):
            dims = []
            for a in call.args:
                iv = bounds_of_expr(a, scope)
                dims.append((iv.min, iv.max) if iv.is_bounded() else None)
            out.append(dims)
        self._bounds_cache[key] = out
        return out

    def footprint(self, producer: str | object, stage: StageInfo, box: dict):
        """The region [(lo, hi)] of the producer (a Func name or buffer Symbol) that
        `stage` reads over `box` ({pure var: (lo, hi)}); None in a dim read at
        data-dependent places."""
        sym = self.by_name[producer].sym if isinstance(producer, str) else producer
        # Memoized by (producer, stage, box): a search asks the same boxes of the
        # same edges again and again (every state with the same leader tiling).
        key = (sym, id(stage), tuple(box[p] for p in stage.func.args))
        hit = self._footprint_cache.get(key, False)
        if hit is not False:
            return None if hit is None else list(hit)
        result = self._footprint(sym, stage, box)
        self._footprint_cache[key] = None if result is None else tuple(result)
        return result

    def _footprint(self, sym, stage: StageInfo, box: dict):
        from pipelang.var import var_symbol
        extra = {}
        for p in stage.func.args:
            lo, hi = box[p]
            s = var_symbol(p)
            extra[s.field("as.lo")] = lo
            extra[s.field("as.hi")] = hi
        result = None
        for dims in self._call_bounds(stage, sym):
            got = []
            for d in dims:
                if d is None:
                    got.append(None)
                    continue
                try:
                    got.append((self._eval(d[0], extra), self._eval(d[1], extra)))
                except Exception:   # noqa: BLE001 - an end the evaluator can't fold (reads data)
                    got.append(None)
            if result is None:
                result = got
            else:
                result = [None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
                          for a, b in zip(result, got)]
        return result

    def _infer_regions(self) -> None:
        for node in reversed(self.nodes):
            if node.is_output:
                node.region = self._output_region(node)
                continue
            region = None
            for s in node.consumers:
                cbox = {a: (lo, lo + ext - 1) for a, (lo, ext) in zip(s.func.args, s.func.region)}
                fp = self.footprint(node.sym, s, cbox)
                if fp is None:
                    continue
                region = fp if region is None else [
                    None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
                    for a, b in zip(region, fp)]
            if region is None:
                region = [(0, 1)] * len(node.args)
            # A dim read at data-dependent places: assume the consumer's size (bounded
            # by the clamp the algorithm must have), at least 256.
            node.region = [(lo, hi - lo + 1) if r is not None and (lo := r[0]) is not None
                           and (hi := r[1]) is not None else (0, 256) for r in region]

    def _output_region(self, node) -> list:
        out = []
        for a in node.args:
            est = node.fn.estimates.get(a)
            if est is None:
                raise AutoschedulerError(
                    f"Output Func {node.name} has no estimate for dimension {a}: call "
                    f"{node.name}.set_estimate({a}, min, extent) (or set_estimates([...])) "
                    f"before autoscheduling")
            out.append((self._eval(est[0]), self._eval(est[1]) + self.grow))
        return out

    # ---------------------------------------------------------------- queries

    def node(self, name: str) -> FuncNode:
        return self.by_name[name]

    def region(self, name: str) -> list:
        return self.by_name[name].region

    def vector_width(self, node: FuncNode) -> int:
        """The natural vector width of the narrowest type the Func stores."""
        hit = self._vector_width.get(node.name)
        if hit is None:
            from pipelang.target import get_host_target
            t = self.target if hasattr(self.target, "natural_vector_size") else get_host_target()
            hit = self._vector_width[node.name] = max(1, min(t.natural_vector_size(ty)
                                                             for ty in node.types))
        return hit

    def is_pointwise_edge(self, producer: FuncNode, stage: StageInfo) -> bool:
        """Every call of `stage` to `producer` is at the stage's own pure vars, in order."""
        for c in stage.calls.get(producer.sym, []):
            if len(c.args) != len(stage.func.args):
                return False
            for a, v in zip(c.args, stage.func.args):
                if not (isinstance(a, ir.Variable) and a.sym.name == v):
                    return False
        return True


def _self_reduction(value, sym, lhs) -> bool:
    """`value` is `f(lhs) op e`, op in +, *, min, max, e not reading f."""
    if not isinstance(value, (ir.Add, ir.Mul, ir.Min, ir.Max)):
        return False
    for mine, other in ((value.a, value.b), (value.b, value.a)):
        if isinstance(mine, ir.Call) and mine.fn == sym and tuple(mine.args) == tuple(lhs) and \
                not any(c.fn == sym for c in _calls_of(other)):
            return True
    return False


def _calls_of(e) -> list:
    v = _CallsAndOps()
    v.visit(e)
    return v.calls
