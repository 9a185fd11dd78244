"""`Func`: a pure function over an integer domain, defined once and then
optionally updated; and `FuncRef`, a call `f[x, y]` used as an expression or
as the left-hand side of a definition.
"""
from __future__ import annotations

import itertools

from pipelang import ir
from pipelang.errors import ArgumentTypeError, CompileError, HalideError, ScheduleError
from pipelang.expr import Expr, ExprOps, to_ir
from pipelang.function import Function, touch
from pipelang.schedule import Bound, LoopLevel, MemoryType
from pipelang.stage import Stage, _var_name
from pipelang.rdom import RVar
from pipelang.var import Var, expand_definition_args, expand_placeholder, is_placeholder

_func_counter = itertools.count()
_memoize_ids = itertools.count(1)
_names_used: dict = {}


def _unique(name: str) -> str:
    """Halide keeps Func names unique: a second Func called "f" is "f$1". A name
    that looks generated (a letter and digits, "f2") always gets a suffix, "f2$0"."""
    key = name.replace("$", "_")
    n = _names_used.get(key, 0)
    _names_used[key] = n + 1
    generated = len(name) > 1 and name[1:].isdigit()
    return name if n == 0 and not generated else f"{key}${n}"


def _as_tuple(key) -> tuple:
    if isinstance(key, list):
        return tuple(key)
    return key if isinstance(key, tuple) else (key,)


class FuncRef(ExprOps):
    """`f[args]`: a call of `f` in an expression, or the target of a definition.

    `placeholder_pos`/`implicit_count`: where the placeholder `_` stood in the
    arguments and how many implicit vars replaced it (see `pipelang.var`)."""
    __slots__ = ("func", "args", "index", "placeholder_pos", "implicit_count")

    def __init__(self, func: "Func", args: tuple, index: int | None = None,
                 placeholder_pos: int = -1, implicit_count: int = 0):
        self.func = func
        self.args = args
        self.index = index
        self.placeholder_pos = placeholder_pos
        self.implicit_count = implicit_count

    def definition_args(self, values) -> tuple:
        """The left-hand side for defining this call as `values` (IR)."""
        fn = self.func.function
        return expand_definition_args(fn.name, self.args, self.placeholder_pos, self.implicit_count,
                                      fn.defined(), values)

    def _to_ir(self) -> ir.Expr:
        fn = self.func.function
        if not fn.defined():
            raise CompileError(f'Error: Can\'t call Func "{fn.name}" because it has not yet been defined.')
        if len(self.args) != fn.dimensions():
            raise CompileError(f'Func "{fn.name}" was called with {len(self.args)} arguments, '
                               f'but was defined with {fn.dimensions()}')
        if len(fn.output_types) > 1 and self.index is None:
            raise CompileError(f'Func "{fn.name}" returns a Tuple of {len(fn.output_types)} '
                               f'values: index the call, as in {fn.name}[...][0]')
        i = self.index or 0
        args = tuple(_index_ir(a, fn.name, i) for i, a in enumerate(self.args))
        return ir.Call(fn.output_types[i], fn.sym, args, ir.CallKind.FUNC, i)

    def __getitem__(self, i: int) -> "FuncTupleElementRef":
        return FuncTupleElementRef(self.func, self.args, i)

    def __len__(self):
        return len(self.func.function.output_types)

    def _update(self, op, other):
        """`f[x] += e` and friends: an update. On an undefined Func this first
        gives it Halide's implicit pure definition, the identity of the operator
        (0 or 1) over the left-hand side's Vars (fresh Vars where an argument is
        not a pure Var)."""
        from pipelang.definition import implicit_pure_definition
        fn = self.func.function
        items = tuple(other) if isinstance(other, (tuple, list)) else (other,)
        values = [to_ir(v) for v in items]
        ref = self
        if not fn.defined():
            args = self.definition_args(tuple(values))
            implicit_pure_definition(self.func, args, values, 1 if op in ("mul", "div") else 0)
            ref = FuncRef(self.func, args, self.index)
        if len(values) == 1:
            current = [Expr(ref._to_ir())] if len(fn.output_types) == 1 else None
        else:
            current = [Expr(ref[i]._to_ir()) for i in range(len(values))]
        if current is None or len(current) != len(fn.output_types):
            raise CompileError(f'Func "{fn.name}" has {len(fn.output_types)} values, but '
                               f'its update gives {len(values)}')
        out = []
        for cur, v in zip(current, values):
            v = Expr(v)
            out.append(cur + v if op == "add" else cur - v if op == "sub"
                       else cur * v if op == "mul" else cur / v)
        return _UpdateValue(out[0] if len(out) == 1 else tuple(out))

    # `f[x] += e` is `f[x] = f[x] + e` in Python. As in Halide's bindings, `+ - * /`
    # on a call of a Func with no pure definition yet (or with a Tuple, which
    # pipelang also accepts) give an _UnevaluatedFuncRefExpr, which only
    # `Func.__setitem__` at the same place can use: it defines the update (and the
    # implicit pure definition). On a defined Func they are ordinary Exprs.
    def _arith(self, op, other, method):
        if isinstance(other, (tuple, list)) or not self.func.function.defined():
            return _UnevaluatedFuncRefExpr(self, other, op)
        return method(self, other)

    def __add__(self, other):
        return self._arith("add", other, ExprOps.__add__)

    def __sub__(self, other):
        return self._arith("sub", other, ExprOps.__sub__)

    def __mul__(self, other):
        return self._arith("mul", other, ExprOps.__mul__)

    def __truediv__(self, other):
        return self._arith("div", other, ExprOps.__truediv__)

    def same_place(self, other: "FuncRef") -> bool:
        """Whether `other` calls the same Func at the same arguments."""
        if other.func.function is not self.func.function or len(other.args) != len(self.args):
            return False
        for a, b in zip(self.args, other.args):
            if a is b:
                continue
            try:
                if to_ir(a) != to_ir(b):
                    return False
            except (TypeError, HalideError):
                return False
        return True

    def __repr__(self) -> str:
        return f"<halide.FuncRef {self.func.name()}[{', '.join(map(str, self.args))}]>"


class FuncTupleElementRef(FuncRef):
    """`f[x][i]`: one element of a call to a Tuple-valued Func."""
    __slots__ = ()


class _UnevaluatedFuncRefExpr:
    """`f[x] + e` while `f` has no pure definition: not an Expr (it has no
    operators), only the right-hand side of `f[x] = ...` at the same place,
    which then defines `f[x] += e` (Halide's bindings behave the same way)."""
    __slots__ = ("lhs", "rhs", "op")

    def __init__(self, lhs: FuncRef, rhs, op: str):
        self.lhs, self.rhs, self.op = lhs, rhs, op

    def define_update(self, actual: FuncRef) -> "_UpdateValue":
        name = self.lhs.func.function.name
        if not self.lhs.same_place(actual):
            raise CompileError(f"Cannot use an unevaluated reference to '{name}' to define an "
                               f"update at a different location.")
        if actual.func.function.defined() and not isinstance(self.rhs, (tuple, list)):
            raise CompileError(f"Cannot use an unevaluated reference to '{name}' to define an "
                               f"update when a pure definition already exists.")
        return self.lhs._update(self.op, self.rhs)

    def __repr__(self) -> str:
        return f"<halide._UnevaluatedFuncRefExpr {self.lhs.func.name()}[...] {self.op} ...>"


# Python names a class by its __name__ in "unsupported operand type(s)" errors;
# programs written for Halide match on the name its bindings give this type.
_UnevaluatedFuncRefExpr.__name__ = "halide.halide_._UnevaluatedFuncRefExpr"


class _UpdateValue:
    """What `f[x] += e` hands to `Func.__setitem__`: the new value, already typed."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _index_ir(a, fname: str, index: int = 0) -> ir.Expr:
    e = to_ir(a)
    if e.type.is_float():
        raise CompileError(f'Implicit cast from {e.type} to int in argument {index + 1} in call to '
                           f'"{fname}" is not allowed. Use an explicit cast.')
    if e.type != ir.Int(32):
        e = ir.Cast(ir.Int(32), e)
    return e


class Func:
    """A Halide Func: `f = hl.Func("f"); f[x, y] = x + y`."""

    def __init__(self, *args):
        name = None
        req_types = None
        req_dims = None
        if len(args) == 1 and isinstance(args[0], str):
            name = args[0]
        elif len(args) == 1 and args[0] is not None and not isinstance(args[0], str):
            value = args[0]
            name = _fresh_name()
            self.function = Function(name, ir.Symbol(name))
            self._pipeline = None
            self[()] = value
            return
        elif len(args) in (2, 3) and isinstance(args[0], (ir.Type, list, tuple)):
            req_types = tuple(args[0]) if isinstance(args[0], (list, tuple)) else (args[0],)
            req_dims = int(args[1])
            name = args[2] if len(args) == 3 else None
        elif args:
            raise TypeError(f"Func() takes a name, an Expr, or (type, dimensions, name); got {args!r}")
        name = _unique(name) if name else _fresh_name()
        self.function = Function(name, ir.Symbol(name), required_types=req_types,
                                 required_dims=req_dims)
        self._pipeline = None

    # ---------------------------------------------------------------- introspection

    def name(self) -> str:
        return self.function.name

    def defined(self) -> bool:
        return self.function.defined()

    def dimensions(self) -> int:
        fn = self.function
        if not fn.defined() and fn.required_dims is None:
            raise CompileError(f'Can\'t call Func::dimensions on Func "{fn.name}" because it is '
                               f'undefined or has no dimension requirements.')
        return fn.dimensions()

    def args(self) -> list:
        return [Var(a) for a in self.function.args]

    def _require_defined(self, what: str):
        if not self.function.defined():
            raise CompileError(f'Can\'t {what} of Func "{self.name()}" because it is undefined.')

    def _types_or_requirement(self, method: str) -> tuple:
        """The value types, from the definition or else from Func(type, dims)."""
        fn = self.function
        if fn.defined():
            return tuple(fn.output_types)
        if fn.required_types:
            return tuple(fn.required_types)
        raise CompileError(f'Can\'t call Func::{method} on Func "{fn.name}" because it is undefined '
                           f'or has no type requirements.')

    def type(self) -> ir.Type:
        types = self._types_or_requirement("type")
        if len(types) > 1:
            raise CompileError(f'Can\'t call Func::type on Func "{self.name()}" because it returns a Tuple.')
        return types[0]

    def types(self) -> list:
        return list(self._types_or_requirement("types"))

    def output_types(self) -> list:
        return self.types()

    def outputs(self) -> int:
        return len(self._types_or_requirement("outputs"))

    def value(self) -> Expr:
        self._require_defined("get the value")
        return Expr(self.function.init.values[0])

    def values(self):
        self._require_defined("get the values")
        return tuple(Expr(v) for v in self.function.init.values)

    def num_update_definitions(self) -> int:
        return len(self.function.updates)

    def has_update_definition(self) -> bool:
        return bool(self.function.updates)

    def __repr__(self) -> str:
        return f"<halide.Func '{self.name()}'>"

    def _repr_html_(self):
        """Jupyter shows a defined Func as its loop nest."""
        if not self.defined():
            return None
        from pipelang.notebook import loop_nest_html
        return loop_nest_html([self.function])

    # ---------------------------------------------------------------- definitions

    def __getitem__(self, key) -> FuncRef:
        fn = self.function
        args, pos, count = expand_placeholder(_as_tuple(key), fn.dimensions() if fn.defined() else 0)
        for i, a in enumerate(args):
            if isinstance(a, float) or (isinstance(a, ExprOps) and not isinstance(a, (Var, RVar))):
                _index_ir(a, fn.name, i)        # Halide refuses float arguments right here
        if fn.defined() and len(args) != fn.dimensions():
            raise CompileError(f'Func "{fn.name}" was called with {len(args)} arguments, '
                               f'but was defined with {fn.dimensions()}')
        return FuncRef(self, args, None, pos, count)

    def __setitem__(self, key, value):
        from pipelang.definition import definition_values
        args = _as_tuple(key)
        ref = self[args] if any(is_placeholder(a) for a in args) else FuncRef(self, args)
        if isinstance(value, _UnevaluatedFuncRefExpr):
            value = value.define_update(ref)
            if ref.placeholder_pos >= 0:    # the implicit vars of the new pure definition
                ref = self[args]
        args = ref.definition_args(definition_values(self.function, value))
        self._define(args, value)

    def _define(self, args: tuple, value):
        from pipelang.definition import define
        define(self, args, value)
        self._pipeline = None

    def update(self, i: int = 0) -> Stage:
        if i < 0 or i >= len(self.function.updates):
            raise ScheduleError(f'Func "{self.name()}" has {len(self.function.updates)} update '
                                f'definitions; update({i}) does not exist')
        return Stage(self.function, i + 1)

    # ---------------------------------------------------------------- domain order (stage 0)

    def _stage0(self) -> Stage:
        self._require_defined("schedule")
        return Stage(self.function, 0)

    def specialize(self, condition) -> Stage:
        """The pure definition's Stage for where `condition` holds (see `Stage.specialize`)."""
        self._pipeline = None
        return self._stage0().specialize(condition)

    def specialize_fail(self, message: str) -> None:
        self._pipeline = None
        self._stage0().specialize_fail(message)

    def compute_with(self, stage=None, var=None, align=None, *, loop_level=None):
        """Fuse the pure definition's loops with `stage`'s (see `Stage.compute_with`)."""
        self._pipeline = None
        self._stage0().compute_with(stage, var, align, loop_level=loop_level)
        return self

    def split(self, old, outer, inner, factor, tail=None):
        args = (old, outer, inner, factor) + ((tail,) if tail is not None else ())
        self._stage0().split(*args)
        return self

    def fuse(self, inner, outer, fused):
        self._stage0().fuse(inner, outer, fused)
        return self

    def rename(self, old, new):
        self._stage0().rename(old, new)
        return self

    def reorder(self, *vars_):
        self._stage0().reorder(*vars_)
        return self

    def tile(self, *args):
        self._stage0().tile(*args)
        return self

    def vectorize(self, var, factor=None, tail=None):
        self._stage0().vectorize(var, factor, *(() if tail is None else (tail,)))
        return self

    def unroll(self, var, factor=None, tail=None):
        self._stage0().unroll(var, factor, *(() if tail is None else (tail,)))
        return self

    def parallel(self, var, task_size=None, tail=None):
        self._stage0().parallel(var, task_size, *(() if tail is None else (tail,)))
        return self

    def partition(self, var, policy):
        self._stage0().partition(var, policy)
        return self

    def never_partition(self, *vars_):
        self._stage0().never_partition(*vars_)
        return self

    def always_partition(self, *vars_):
        self._stage0().always_partition(*vars_)
        return self

    def never_partition_all(self):
        self._stage0().never_partition_all()
        return self

    def always_partition_all(self):
        self._stage0().always_partition_all()
        return self

    def serial(self, var):
        self._stage0().serial(var)
        return self

    def gpu_blocks(self, *vars_):
        self._stage0().gpu_blocks(*vars_)
        return self

    def gpu_threads(self, *vars_):
        self._stage0().gpu_threads(*vars_)
        return self

    def gpu_lanes(self, var, *device_api):
        self._stage0().gpu_lanes(var, *device_api)
        return self

    def gpu(self, *args):
        self._stage0().gpu(*args)
        return self

    def gpu_single_thread(self, *device_api):
        self._stage0().gpu_single_thread(*device_api)
        return self

    def gpu_tile(self, *args, **kwargs):
        self._stage0().gpu_tile(*args, **kwargs)
        return self

    def prefetch(self, *args, **kwargs) -> "Func":
        """Prefetch, in the pure definition (see `Stage.prefetch`). Returns this Func."""
        self._stage0().prefetch(*args, **kwargs)
        return self

    def bound(self, var, min_, extent):
        name = _var_name(var)
        if name not in self.function.args:
            raise ScheduleError(f'Can\'t bound variable {name} of Func "{self.name()}" because '
                                f'{name} is not one of its pure variables '
                                f'({", ".join(self.function.args)})')
        self.function.schedule.bounds.append(
            Bound(name, None if min_ is None else _int_ir(min_), _int_ir(extent)))
        touch()
        return self

    def bound_extent(self, var, extent):
        return self.bound(var, None, extent)

    # ---------------------------------------------------------------- autoscheduler estimates
    # Estimates only guide the autoscheduler (see autoscheduler/README); they
    # never change what is computed.

    def set_estimate(self, var, min_, extent):
        """The expected range of pure var `var`: [min, min + extent)."""
        name = _var_name(var)
        if self.function.defined() and name not in self.function.args:
            raise ScheduleError(f'Can\'t set an estimate on {name} of Func "{self.name()}": it is '
                                f'not one of its pure variables ({", ".join(self.function.args)})')
        self.function.estimates[name] = (_int_ir(min_), _int_ir(extent))
        return self

    def set_estimates(self, estimates):
        """One `hl.Range(min, extent)` (or (min, extent) pair) per dimension, in order."""
        self._require_defined("set estimates")
        if len(estimates) != self.dimensions():
            raise ScheduleError(f'Func "{self.name()}" has {self.dimensions()} dimensions but '
                                f'set_estimates was given {len(estimates)} ranges')
        for a, r in zip(self.function.args, estimates):
            lo, ext = (r.min, r.extent) if hasattr(r, "extent") else r
            self.set_estimate(a, lo, ext)
        return self

    @classmethod
    def _of(cls, function) -> "Func":
        """A handle on an existing Function (how a schedule finds a Func by name)."""
        f = cls.__new__(cls)
        f.function, f._pipeline = function, None
        return f

    def reorder_storage(self, *vars_):
        if len(vars_) == 1 and isinstance(vars_[0], (list, tuple)):
            vars_ = tuple(vars_[0])
        names = [_var_name(v) for v in vars_]
        for n in names:
            if n not in self.function.args:
                raise ScheduleError(f'In schedule for {self.name()}, reorder_storage: {n} is not '
                                    f'a pure variable ({", ".join(self.function.args)})')
        dims = self.function.schedule.storage_dims
        idx = sorted(dims.index(n) for n in names)
        for slot, n in zip(idx, names):
            dims[slot] = n
        touch()
        return self

    def fold_storage(self, var, factor, fold_forward: bool = True):
        name = _var_name(var)
        if name not in self.function.args:
            raise ScheduleError(f'In schedule for {self.name()}, fold_storage: {name} is not a '
                                f'pure variable')
        self.function.schedule.fold_factors[name] = (int(factor), fold_forward)
        touch()
        return self

    # ---------------------------------------------------------------- call schedule

    def _level(self, f, var) -> LoopLevel:
        if isinstance(f, LoopLevel):
            return f
        if not isinstance(f, Func):
            raise ScheduleError(f"compute_at/store_at of {self.name()} takes a Func and a Var, "
                                f"or a LoopLevel; got {f!r}")
        return LoopLevel(f, _var_name(var))

    def compute_at(self, f, var=None):
        # A store level left inlined means "where it is computed", resolved at
        # lowering (as Halide does), so a later compute_at moves storage too.
        self.function.schedule.compute_level = self._level(f, var)
        touch()
        return self

    def store_at(self, f, var=None):
        self.function.schedule.store_level = self._level(f, var)
        touch()
        return self

    def compute_root(self):
        return self.compute_at(LoopLevel.root())

    def store_root(self):
        return self.store_at(LoopLevel.root())

    def compute_inline(self):
        self.function.schedule.compute_level = LoopLevel.inlined()
        self.function.schedule.store_level = LoopLevel.inlined()
        touch()
        return self

    def hoist_storage(self, f, var=None):
        """Allocate this Func's storage once at an outer level (at or outside its
        store level), as large as the store level ever needs; each store-level
        iteration still computes its whole region."""
        self.function.schedule.hoist_storage_level = self._level(f, var)
        touch()
        return self

    def hoist_storage_root(self):
        return self.hoist_storage(LoopLevel.root())

    def store_in(self, memory_type) -> "Func":
        """Where this Func's storage lives: an `hl.MemoryType` (`Heap`,
        `Stack`, `Register`, ...; see `pipelang.schedule.MemoryType`)."""
        if not isinstance(memory_type, MemoryType):
            raise ArgumentTypeError(f'store_in() of Func "{self.name()}" needs an hl.MemoryType, '
                                f'not {memory_type!r}')
        self.function.schedule.memory_type = memory_type
        touch()
        self._pipeline = None
        return self

    # ---------------------------------------------------------------- wrappers

    @classmethod
    def _of(cls, function) -> "Func":
        """A handle on an existing Function (a wrapper, for instance)."""
        f = cls.__new__(cls)
        f.function = function
        f._pipeline = None
        return f

    def in_(self, f=None) -> "Func":
        """A wrapper Func that replaces calls to this Func in `f` (a Func or a
        list of Funcs), or in every consumer without its own wrapper if `f` is
        omitted; schedule it like any Func."""
        from pipelang.wrappers import wrapper_of
        self._pipeline = None
        return Func._of(wrapper_of(self.function, f, clone=False))

    def clone_in(self, f) -> "Func":
        """A copy of this Func (definitions and schedule so far) used in place of
        it by `f` (a Func or a list of Funcs), scheduled independently."""
        from pipelang.wrappers import wrapper_of
        self._pipeline = None
        return Func._of(wrapper_of(self.function, f, clone=True))

    # ---------------------------------------------------------------- memoize, atomic, async, storage

    def memoize(self, eviction_key=None) -> "Func":
        """Cache this Func's realizations across runs of the pipeline, keyed on the
        region computed and the values of the Params it depends on (Halide's
        semantics: a later run that needs the same region with the same Param
        values copies the cached values instead of computing them)."""
        if eviction_key is not None:
            raise ScheduleError(f"memoize() of {self.name()}: eviction keys are not supported")
        self.function.schedule.memoized = True
        self.function.schedule.memoize_id = next(_memoize_ids)
        touch()
        self._pipeline = None
        return self

    def async_(self) -> "Func":
        """Halide: compute this producer in its own thread, concurrently with its
        consumer. pipelang records it and computes the producer before its
        consumer in the same thread (the same results; no overlap)."""
        self.function.schedule.async_ = True
        touch()
        self._pipeline = None
        return self

    def ring_buffer(self, extent) -> "Func":
        """Keep `extent` copies of the storage hoisted by hoist_storage (for async
        producers). Checked; as producers run synchronously, one copy is used."""
        e = _int_ir(extent)
        v = ir.const_value(e)
        if v is not None and v <= 0:
            raise ScheduleError(f'ring_buffer() of Func "{self.name()}" needs a positive extent, '
                                f'not {v}')
        self.function.schedule.ring_buffer = e
        touch()
        self._pipeline = None
        return self

    # ---------------------------------------------------------------- output buffers

    def output_buffer(self):
        """The buffer this Func is realized into, to read or constrain its shape."""
        from pipelang.constraints import output_buffers
        self._require_defined("get the output buffer")
        if len(self.function.output_types) > 1:
            raise CompileError(f'Can\'t call Func::output_buffer on Func "{self.name()}" because '
                               f'it returns a Tuple.')
        return output_buffers(self.function)[0]

    def output_buffers(self) -> list:
        from pipelang.constraints import output_buffers
        self._require_defined("get the output buffers")
        return output_buffers(self.function)

    def infer_input_bounds(self, *args, **kwargs):
        self._get_pipeline().infer_input_bounds(*args, **kwargs)

    # ---------------------------------------------------------------- debugging

    def trace_stores(self):
        self.function.schedule.trace_stores = True
        touch()
        return self

    def trace_loads(self):
        self.function.schedule.trace_loads = True
        touch()
        return self

    def trace_realizations(self):
        self.function.schedule.trace_realizations = True
        touch()
        return self

    # ---------------------------------------------------------------- running

    def _get_pipeline(self):
        p = self._pipeline
        if p is None:
            # (Imported here only: an import statement costs a repeat realize a microsecond.)
            from pipelang.pipeline import Pipeline
            p = self._pipeline = Pipeline(self)
        return p

    def realize(self, *args, **kwargs):
        try:    # (a try costs nothing until something is raised)
            p = self._pipeline
            if p is None:
                p = self._get_pipeline()
            if len(args) == 1 and not kwargs:
                return _pipeline_realize(p, args[0])
            return _pipeline_realize(p, *args, **kwargs)
        except HalideError as e:
            _surface_realize(self, e, args)
            raise

    def compile_jit(self, target=None):
        self._get_pipeline().compile_jit(target)

    def print_loop_nest(self):
        self._get_pipeline().print_loop_nest()

    def compile_to_lowered_stmt(self, filename, arguments=(), fmt=None, target=None):
        self._get_pipeline().compile_to_lowered_stmt(filename, arguments, fmt, target)

    def infer_arguments(self):
        return self._get_pipeline().infer_arguments()

    def __getattr__(self, name):
        # compile_to, compile_to_object, compile_to_static_library, ...: the Pipeline's.
        if name.startswith("compile_to"):
            return getattr(self._get_pipeline(), name)
        raise AttributeError(f"'Func' object has no attribute {name!r}")


def _int_ir(v) -> ir.Expr:
    e = to_ir(v)
    return e if e.type == ir.Int(32) else ir.Cast(ir.Int(32), e)


def _fresh_name() -> str:
    return f"f{next(_func_counter)}"


def _pipeline_realize(pipeline, *args, **kwargs):
    from pipelang.pipeline import Pipeline
    global _pipeline_realize
    _pipeline_realize = getattr(Pipeline.realize, "__wrapped__", Pipeline.realize)
    return _pipeline_realize(pipeline, *args, **kwargs)


def _surface_realize(func, e, args) -> None:
    from pipelang import user_frames
    if user_frames._called_by_user(2):
        user_frames.surface(e, (func,), user_frames._describe_call(func, "realize", args))


def _instrument() -> None:
    # Errors at the user's line (pipelang/user_frames.py): record where each
    # definition and directive was written; trim tracebacks at the API boundary.
    from pipelang import user_frames
    Func.__setitem__ = user_frames.definition(Func.__setitem__)
    user_frames.instrument(Func, user_frames.DIRECTIVES, (
        "__getitem__", "compile_jit", "compile_to_lowered_stmt", "infer_arguments", "print_loop_nest"))
    user_frames.instrument(Stage, user_frames.DIRECTIVES)
    user_frames.instrument(FuncRef, (), user_frames.OPERATORS, roots=lambda r: (r.func,),
                           inherited=True, describe=user_frames.describe_ref)


_instrument()
