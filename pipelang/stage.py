"""`Stage`: the scheduling directives of one definition of a Func.

`Func.split(...)` is `Stage(f, 0).split(...)`; `f.update(i)` returns the
Stage of update `i`. Each directive edits the stage's `StageSchedule`
(see `pipelang.schedule`) and checks its arguments, raising a
`ScheduleError` that names the Func, the directive and the known vars.
"""
from __future__ import annotations

import dataclasses

from pipelang import ir
from pipelang.errors import ArgumentTypeError, ScheduleError
from pipelang.expr import to_ir
from pipelang.function import touch
from pipelang.schedule import DeviceAPI, Dim, Partition, Split, SplitKind, TailStrategy, stems_from_inner
from pipelang.var import Var, unique_name


def _flat_vars(vars_) -> list:
    """The vars of never_partition([x, y]) / never_partition(x, y)."""
    out = []
    for v in vars_:
        out.extend(v if isinstance(v, (list, tuple)) else (v,))
    return out


def _var_name(v) -> str:
    if isinstance(v, str):
        return v
    from pipelang.rdom import RDom
    if isinstance(v, RDom):          # a one-dimensional RDom stands for its RVar
        if v.dimensions() != 1:
            raise ScheduleError(f"Can't treat the {v.dimensions()}-dimensional RDom {v.name()} as "
                                f"an RVar: only one-dimensional RDoms can be")
        return v[0].name()
    name = getattr(v, "name", None)
    if callable(name):
        return name()
    raise ScheduleError(f"Expected a Var or RVar in a schedule, got {v!r}")


class Stage:
    def __init__(self, function, index: int, definition=None):
        self.function = function
        self.index = index
        self._specialized = definition     # a specialization's Definition, or None

    # ---------------------------------------------------------------- helpers

    @property
    def _definition(self):
        if self._specialized is not None:
            return self._specialized
        return self.function.stages()[self.index]

    @property
    def _sched(self):
        return self._definition.schedule

    def _stage_name(self) -> str:
        return self.function.name if self.index == 0 else f"{self.function.name}.update({self.index - 1})"

    def _vars_listing(self) -> str:
        return "Vars: " + " ".join(d.var for d in self._sched.dims) + " __outermost"

    def _find_dim(self, name: str, directive: str) -> int:
        """Index in dims of the var `name` (a full dotted name or its last part)."""
        dims = self._sched.dims
        for i, d in enumerate(dims):
            if d.var == name:
                return i
        matches = [i for i, d in enumerate(dims) if d.var.endswith("." + name)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ScheduleError(
                f"In schedule for {self._stage_name()}, {directive}: var {name} is ambiguous "
                f"({', '.join(dims[i].var for i in matches)}).\n{self._vars_listing()}")
        raise ScheduleError(
            f"In schedule for {self._stage_name()}, could not find var {name} to {directive}.\n"
            f"{self._vars_listing()}")

    def _check_new_name(self, name: str, directive: str, allowed: str | None = None) -> None:
        for d in self._sched.dims:
            last = d.var.rsplit(".", 1)[-1]
            if (d.var == name or last == name) and name != allowed:
                raise ScheduleError(
                    f"In schedule for {self._stage_name()}, can't create var {name} using a "
                    f"{directive}, because {name} is already used in this Func's schedule "
                    f"elsewhere.\n{self._vars_listing()}")

    def _set_kind(self, var, kind: ir.ForKind, directive: str):
        i = self._find_dim(_var_name(var), directive)
        dims = self._sched.dims
        # (atomic() makes CPU parallel/vector updates race-free; GPU loops are not covered.)
        if dims[i].is_rvar and ((kind in (ir.ForKind.PARALLEL, ir.ForKind.VECTORIZED)
                                 and not self._sched.atomic) or kind.is_gpu()):
            self._check_no_race(dims[i].var, directive)
        dims[i] = dataclasses.replace(dims[i], kind=kind)
        self._sched.touched = True
        touch()
        return self

    def partition(self, var, policy):
        """Set the loop partitioning policy of the loop over `var` (hl.Partition)."""
        if not isinstance(policy, Partition):
            raise ScheduleError(f"partition() of {self._stage_name()} takes an hl.Partition policy, "
                                f"not {policy!r}")
        i = self._find_dim(_var_name(var), "set its partition policy")
        dims = self._sched.dims
        dims[i] = dataclasses.replace(dims[i], partition=policy)
        self._sched.touched = True
        touch()
        return self

    def never_partition(self, *vars_):
        """Keep the loops over `vars_` whole (Partition.Never on each). Halide's
        Python API takes one list of vars; a bare var or several are accepted too."""
        for v in _flat_vars(vars_):
            self.partition(v, Partition.Never)
        return self

    def always_partition(self, *vars_):
        """Require that the loops over `vars_` be partitioned (Partition.Always on each)."""
        for v in _flat_vars(vars_):
            self.partition(v, Partition.Always)
        return self

    def never_partition_all(self):
        """Partition.Never on every loop this stage has now (later splits start at Auto, as Halide's)."""
        return self._partition_all(Partition.Never)

    def always_partition_all(self):
        """Partition.Always on every loop this stage has now."""
        return self._partition_all(Partition.Always)

    def _partition_all(self, policy):
        dims = self._sched.dims
        dims[:] = [dataclasses.replace(d, partition=policy) for d in dims]
        self._sched.touched = True
        touch()
        return self

    def _check_no_race(self, dim: str, directive: str) -> None:
        """Running iterations of an RVar at once is safe only if each writes its
        own point: the RVar is itself a coordinate of the left-hand side, and
        every read of this Func is of that same point."""
        d = self._definition
        root = dim.split(".")[0]
        rvar = next((r for r in d.rvars if r.name == root), None)
        var = ir.Variable(ir.Int(32), rvar.sym) if rvar else None
        reads = []

        class _Reads(ir.IRVisitor):
            def visit_Call(inner, node):
                if node.fn is self.function.sym:
                    reads.append(node.args)
                inner.generic_visit(node)
        for v in d.values:
            _Reads().visit(v)
        if var is not None and var in d.args and all(r == d.args for r in reads):
            return
        raise ScheduleError(
            f"In schedule for {self._stage_name()}: can't {directive} {dim}, because "
            f"iterations of the RVar {root} may write the same point of {self.function.name} "
            f"(a race, or a broken scan dependence). Use rfactor() to parallelize a reduction.")

    # ---------------------------------------------------------------- domain order

    def _check_tail(self, full: str, is_rvar: bool, tail: TailStrategy) -> None:
        """Halide's rules: an RVar split must not compute extra points; an update
        must not recompute points (ShiftInwards), nor round up the inner var of an
        earlier split (its factor need not divide the outer one)."""
        where = f"When splitting Var {full} (in {self._stage_name()})"
        if self.index > 0 and tail is TailStrategy.ShiftInwards:
            raise ScheduleError(f"{where}: ShiftInwards is not a legal tail strategy for update "
                                f"definitions, as it may change the meaning of the algorithm")
        if is_rvar and tail not in (TailStrategy.Auto, TailStrategy.GuardWithIf, TailStrategy.Predicate):
            raise ScheduleError(f"{where}: the tail strategy must be GuardWithIf, Predicate, or Auto. "
                                f"Anything else may change the meaning of the algorithm")
        if self.index > 0 and tail is TailStrategy.RoundUp:
            if stems_from_inner(full, self._sched.splits):
                raise ScheduleError(f"{where}: can't use TailStrategy.RoundUp for splitting {full} "
                                    f"in an update definition, because it stems from the inner "
                                    f"var of a prior split: it may redundantly recompute some "
                                    f"values, which could change the meaning of the algorithm. "
                                    f"Use TailStrategy.GuardWithIf instead.")

    def split(self, old, outer, inner, factor, tail=TailStrategy.Auto):
        old_n, outer_n, inner_n = _var_name(old), _var_name(outer), _var_name(inner)
        i = self._find_dim(old_n, "split")
        dims = self._sched.dims
        full = dims[i].var
        self._check_new_name(outer_n, "split or tile", allowed=old_n)
        self._check_new_name(inner_n, "split or tile", allowed=old_n if outer_n != old_n else None)
        factor_ir = to_ir(factor)
        if not factor_ir.type.is_int() and not factor_ir.type.is_uint():
            raise ScheduleError(f"In schedule for {self._stage_name()}, split factor {factor!r} "
                                f"of {old_n} must be an integer")
        factor_ir = ir.Cast(ir.Int(32), factor_ir) if factor_ir.type != ir.Int(32) else factor_ir
        value = ir.const_value(factor_ir)
        if value is not None and value <= 0:
            raise ScheduleError(f"In schedule for {self._stage_name()}, split factor of {old_n} "
                                f"must be positive, not {value}")
        if not isinstance(tail, TailStrategy):
            raise ScheduleError(f"split tail must be an hl.TailStrategy, not {tail!r}")
        self._check_tail(full, dims[i].is_rvar, tail)
        outer_full, inner_full = f"{full}.{outer_n}", f"{full}.{inner_n}"
        is_r = dims[i].is_rvar
        dims[i:i + 1] = [Dim(inner_full, dims[i].kind, is_r), Dim(outer_full, ir.ForKind.SERIAL, is_r)]
        self._sched.splits.append(Split(full, outer_full, inner_full, factor_ir, SplitKind.SPLIT, tail))
        self._sched.touched = True
        touch()
        return self

    def fuse(self, inner, outer, fused):
        inner_n, outer_n, fused_n = _var_name(inner), _var_name(outer), _var_name(fused)
        ii = self._find_dim(inner_n, "fuse")
        oi = self._find_dim(outer_n, "fuse")
        dims = self._sched.dims
        inner_full, outer_full = dims[ii].var, dims[oi].var
        fused_full = f"{inner_full}.{fused_n}"
        dims[oi] = Dim(fused_full, ir.ForKind.SERIAL, dims[ii].is_rvar and dims[oi].is_rvar)
        del dims[ii]
        self._sched.splits.append(Split(fused_full, outer_full, inner_full, None, SplitKind.FUSE))
        self._sched.touched = True
        touch()
        return self

    def rename(self, old, new):
        old_n, new_n = _var_name(old), _var_name(new)
        i = self._find_dim(old_n, "rename")
        dims = self._sched.dims
        full = dims[i].var
        new_full = full.rsplit(".", 1)[0] + "." + new_n if "." in full else new_n
        dims[i] = Dim(new_full, dims[i].kind, dims[i].is_rvar)
        self._sched.splits.append(Split(full, new_full, "", None, SplitKind.RENAME))
        self._sched.touched = True
        touch()
        return self

    def reorder(self, *vars_):
        if len(vars_) == 1 and isinstance(vars_[0], (list, tuple)):
            vars_ = tuple(vars_[0])
        names = [_var_name(v) for v in vars_]
        idx = [self._find_dim(n, "reorder") for n in names]
        if len(set(idx)) != len(idx):
            raise ScheduleError(f"In schedule for {self._stage_name()}, reorder names a var "
                                f"more than once: {', '.join(names)}")
        dims = self._sched.dims
        picked = [dims[i] for i in idx]
        for slot, d in zip(sorted(idx), picked):
            dims[slot] = d
        self._sched.touched = True
        touch()
        return self

    def tile(self, x, y, *args):
        """tile(x, y, xo, yo, xi, yi, xf, yf[, tail]) or tile(x, y, xi, yi, xf, yf[, tail]),
        or with lists: tile([vars], [outers], [inners], [factors][, tail])."""
        if isinstance(x, (list, tuple)):
            return self._tile_lists(x, y, *args)
        tail = TailStrategy.Auto
        if args and isinstance(args[-1], TailStrategy):
            tail, args = args[-1], args[:-1]
        if len(args) == 6:
            xo, yo, xi, yi, xf, yf = args
        elif len(args) == 4:
            xi, yi, xf, yf = args
            xo, yo = x, y
        else:
            raise ScheduleError(f"tile() of {self._stage_name()} takes (x, y, xo, yo, xi, yi, "
                                f"xfactor, yfactor[, tail]) or (x, y, xi, yi, xfactor, yfactor[, tail])")
        self.split(x, xo, xi, xf, tail)
        self.split(y, yo, yi, yf, tail)
        return self.reorder(xi, yi, xo, yo)

    def _tile_lists(self, vars_, outers, inners, factors, tail=TailStrategy.Auto):
        if not len(vars_) == len(outers) == len(inners) == len(factors):
            raise ScheduleError(f"tile() of {self._stage_name()} needs as many outer vars, inner vars "
                                f"and factors as vars ({len(vars_)})")
        for v, o, i, f in zip(vars_, outers, inners, factors):
            self.split(v, o, i, f, tail)
        return self.reorder(*inners, *outers)

    def vectorize(self, var, factor=None, tail=TailStrategy.Auto):
        if factor is not None:
            name = _var_name(var)
            self._find_dim(name, "mark as vectorized")
            inner = unique_name("v")
            self.split(name, name, inner, factor, tail)
            var = inner
        return self._set_kind(var, ir.ForKind.VECTORIZED, "mark as vectorized")

    def unroll(self, var, factor=None, tail=TailStrategy.Auto):
        if factor is not None:
            name = _var_name(var)
            self._find_dim(name, "mark as unrolled")
            inner = unique_name("v")
            self.split(name, name, inner, factor, tail)
            var = inner
        return self._set_kind(var, ir.ForKind.UNROLLED, "mark as unrolled")

    def parallel(self, var, task_size=None, tail=TailStrategy.Auto):
        if task_size is not None:
            name = _var_name(var)
            self._find_dim(name, "mark as parallel")
            inner = unique_name("v")
            self.split(name, name, inner, task_size, tail)
        return self._set_kind(var, ir.ForKind.PARALLEL, "mark as parallel")

    def serial(self, var):
        return self._set_kind(var, ir.ForKind.SERIAL, "mark as serial")

    # ---------------------------------------------------------------- GPU loops (Halide's names)

    def _gpu_kind(self, vars_, kind: ir.ForKind, directive: str):
        device_api = DeviceAPI.Default_GPU
        if vars_ and isinstance(vars_[-1], DeviceAPI):
            device_api, vars_ = vars_[-1], vars_[:-1]
        if device_api not in (DeviceAPI.Default_GPU, DeviceAPI.CUDA):
            raise ScheduleError(f"In schedule for {self._stage_name()}, {directive}: pipelang runs "
                                f"GPU loops with CUDA only, not DeviceAPI.{device_api.value}")
        if not 1 <= len(vars_) <= 3:
            raise ScheduleError(f"In schedule for {self._stage_name()}, {directive} takes one to "
                                f"three vars, got {len(vars_)}")
        for v in vars_:
            self._set_kind(v, kind, directive)
        return self

    def gpu_blocks(self, *vars_):
        """Mark vars as GPU block indices (innermost is blockIdx.x)."""
        return self._gpu_kind(vars_, ir.ForKind.GPU_BLOCK, "gpu_blocks")

    def gpu_threads(self, *vars_):
        """Mark vars as GPU thread indices within a block (innermost is threadIdx.x)."""
        return self._gpu_kind(vars_, ir.ForKind.GPU_THREAD, "gpu_threads")

    def gpu_lanes(self, var, device_api=DeviceAPI.Default_GPU):
        """Mark a var of constant extent <= 32 as the lanes of a warp."""
        return self._gpu_kind((var, device_api), ir.ForKind.GPU_LANE, "gpu_lanes")

    def gpu(self, *args):
        """gpu(bx, tx), gpu(bx, by, tx, ty) or gpu(bx, by, bz, tx, ty, tz)."""
        api = (args[-1],) if args and isinstance(args[-1], DeviceAPI) else ()
        vars_ = args[:len(args) - len(api)]
        if len(vars_) not in (2, 4, 6):
            raise ScheduleError(f"In schedule for {self._stage_name()}, gpu() takes block vars then "
                                f"as many thread vars (2, 4 or 6 vars), got {len(vars_)}")
        n = len(vars_) // 2
        self.gpu_blocks(*vars_[:n], *api)
        return self.gpu_threads(*vars_[n:], *api)

    def gpu_single_thread(self, device_api=DeviceAPI.Default_GPU):
        """Run the whole stage in one thread of one GPU block."""
        dims = self._sched.dims
        if any(d.var in ("__block_id_x", "__thread_id_x") for d in dims):
            return self
        dims.extend([Dim("__thread_id_x", ir.ForKind.GPU_THREAD), Dim("__block_id_x", ir.ForKind.GPU_BLOCK)])
        return self._gpu_kind(("__block_id_x", device_api), ir.ForKind.GPU_BLOCK, "gpu_single_thread")

    def gpu_tile(self, *args, **kwargs):
        """Halide's six overloads: (x, [bx,] tx, size), (x, y, [bx, by,] tx, ty, xs, ys),
        (x, y, z, [bx, by, bz,] tx, ty, tz, xs, ys, zs), then tail and device_api:
        a split per var whose outer loop is a GPU block and inner a GPU thread."""
        tail = kwargs.pop("tail", TailStrategy.Auto)
        device_api = kwargs.pop("device_api", DeviceAPI.Default_GPU)
        args = list(args)
        while args and isinstance(args[-1], (TailStrategy, DeviceAPI)):
            if isinstance(args[-1], DeviceAPI):
                device_api = args.pop()
            else:
                tail = args.pop()
        if kwargs:
            order = ["x", "y", "z", "bx", "by", "bz", "tx", "ty", "tz", "x_size", "y_size", "z_size"]
            names = [k for k in order if k in kwargs]
            unknown = set(kwargs) - set(order)
            if unknown:
                raise ScheduleError(f"gpu_tile() got unexpected keywords {sorted(unknown)}")
            args += [kwargs[k] for k in names]
        n = len(args)
        shapes = {3: (1, False), 4: (1, True), 6: (2, False), 8: (2, True), 9: (3, False), 12: (3, True)}
        if n not in shapes:
            raise ScheduleError(f"In schedule for {self._stage_name()}, gpu_tile takes (x, [bx,] tx, "
                                f"size), (x, y, [bx, by,] tx, ty, xs, ys) or the 3-D form; got {n} arguments")
        d, explicit = shapes[n]
        vs = args[:d]
        bs = args[d:2 * d] if explicit else vs
        ts = args[2 * d if explicit else d:(3 if explicit else 2) * d]
        sizes = args[-d:]
        for v, b, t, size in zip(vs, bs, ts, sizes):
            self.split(v, b, t, size, tail)
        if d > 1:
            self.reorder(*ts, *bs)
        self.gpu_blocks(*bs, device_api)
        return self.gpu_threads(*ts, device_api)

    def rfactor(self, *preserved):
        """Split an associative reduction into an intermediate Func that reduces
        over the RVars not named, with each named RVar turned into a pure Var
        (`[(r.y, u), ...]`), and this stage merging it. Returns the intermediate."""
        from pipelang.rfactor import rfactor
        return rfactor(self, preserved)

    # ---------------------------------------------------------------- atomic

    def atomic(self, override_associativity_test: bool = False) -> "Stage":
        """Make this update's stores atomic, so its RVars may be parallelized or
        vectorized although iterations write the same points (a histogram). Each
        update must read this Func only at the point it writes."""
        d = self._definition
        if not d.is_update():
            raise ScheduleError(f"In schedule for {self._stage_name()}: atomic() applies to "
                                f"update definitions; the pure definition writes each point once")
        if not override_associativity_test:
            self._check_atomic_reads()
        self._sched.atomic = True
        self._sched.touched = True
        touch()
        return self

    def _check_atomic_reads(self) -> None:
        d = self._definition
        reads = []

        class _Reads(ir.IRVisitor):
            def visit_Call(inner, node):
                if node.fn is self.function.sym:
                    reads.append(node.args)
                inner.generic_visit(node)
        for v in d.values:
            _Reads().visit(v)
        for args in reads:
            if args != tuple(d.args):
                raise ScheduleError(
                    f"Func {self.function.name} cannot be given an atomic() schedule: update "
                    f"{self.index - 1} reads {self.function.name}("
                    f"{', '.join(ir.to_string(a) for a in args)}), not only the point it writes "
                    f"({', '.join(ir.to_string(a) for a in d.args)})")

    # ---------------------------------------------------------------- compute_with

    def compute_with(self, stage=None, var=None, align=None, *, loop_level=None):
        """Fuse the loops of this stage with those of `stage` (a Stage or a
        Func's pure definition) from the outermost down to the loop over
        `var`, this stage running after `stage` in the innermost of them;
        or `compute_with(LoopLevel(f, x, stage_index), align)`. `align` is a
        LoopAlignStrategy for `var`, or a list of (var, LoopAlignStrategy)
        pairs. What may be fused is checked at lowering, as Halide does."""
        from pipelang.schedule import FuseLevel, LoopAlignStrategy, LoopLevel
        me = _user(self._stage_name())
        if loop_level is not None:                       # Halide's keyword for the LoopLevel form
            stage, var = loop_level, (var if align is None else align)
            align = None
        if isinstance(stage, LoopLevel):
            if align is None and var is not None:
                align, var = var, None
            if stage.is_inlined() or stage.is_root():
                raise ScheduleError(f"Undefined loop level to compute with (in schedule for "
                                    f"{me}): give a Func's loop, not {stage!r}")
            if var is not None:
                raise ScheduleError(f"compute_with of {me} takes a LoopLevel and "
                                    f"an alignment, or a Stage and a var")
            if stage.stage_index < 0:
                # (Halide fails here too, at lowering, with no message.)
                raise ScheduleError(f"compute_with of {me} needs the LoopLevel's stage: "
                                    f"LoopLevel({_user(stage.func.name)}, {stage.var}, stage_index)")
            parent, index, name = stage.func, stage.stage_index, stage.var
        else:
            if var is None:
                raise ScheduleError(f"compute_with of {me} needs the var of the "
                                    f"loop to fuse down to")
            if isinstance(stage, Stage):
                parent, index = stage.function, stage.index
                if stage._specialized is not None:
                    raise ScheduleError(f"{me} can't be computed with a "
                                        f"specialization of {_user(stage._stage_name())}")
            elif hasattr(stage, "function") and hasattr(stage, "update"):     # a Func: its pure definition
                stage._require_defined("compute_with")
                parent, index = stage.function, 0
            else:
                raise ScheduleError(f"compute_with of {me} takes a Stage or a "
                                    f"Func, and a var; got {stage!r}")
            name = _var_name(var)
        if parent is self.function:
            raise ScheduleError(f"Cannot schedule {me} to be computed with {_user(parent.name)}"
                                f".s{index}.{name}: a Func's stages are not fused with each other")
        if self._specialized is not None or self._definition.specializations:
            raise ScheduleError(f"Func {me} is scheduled to be computed with "
                                f"{_user(parent.name)}, so it must not have any specializations.")
        if align is None:
            align = LoopAlignStrategy.Auto
        if isinstance(align, LoopAlignStrategy):
            pairs = ((name, align),)
        else:
            try:
                pairs = tuple((_var_name(v), how) for v, how in align)
            except (TypeError, ValueError):
                raise ScheduleError(f"compute_with of {me}: align is a "
                                    f"LoopAlignStrategy or a list of (var, LoopAlignStrategy) "
                                    f"pairs, not {align!r}") from None
            for v, how in pairs:
                if not isinstance(how, LoopAlignStrategy):
                    raise ScheduleError(f"compute_with of {me}: the alignment of "
                                        f"{v} must be a LoopAlignStrategy, not {how!r}")
        if self._sched.fuse_level is not None:
            import warnings
            old = self._sched.fuse_level
            warnings.warn(f"{me} already has a compute_with at {_user(old.func.name)}.s"
                          f"{old.stage_index}.{old.var}. Replacing it with a new compute_with at "
                          f"{_user(parent.name)}.s{index}.{name}", stacklevel=2)
        self._sched.fuse_level = FuseLevel(parent, index, name, pairs)
        self._sched.touched = True
        touch()
        return self

    # ---------------------------------------------------------------- prefetch

    def prefetch(self, *args, **kwargs) -> "Stage":
        """`prefetch(func, at, from, offset=1, strategy=PrefetchBoundStrategy.GuardWithIf)`
        (Halide's arguments; `from` is a Python keyword, so `from_=` is taken
        too): at the top of each iteration of this stage's loop over `at`,
        prefetch the box of `func` (a Func, ImageParam or Buffer) that the
        iteration `offset` steps further along the loop over `from` will read
        or write. `from` is `at` or a loop outside it. Returns this Stage."""
        target, at, from_, offset, strategy = _prefetch_arguments(args, kwargs)
        from pipelang.schedule import Prefetch, PrefetchBoundStrategy
        fn, name, kind = _prefetch_target(target)
        at_n, from_n = _var_name(at), _var_name(from_)
        off = to_ir(offset)
        if not (off.type.is_int() or off.type.is_uint()) or not off.type.is_scalar():
            raise ScheduleError(f"In schedule for {self._stage_name()}: the offset of "
                                f"prefetch({name}, {at_n}, {from_n}, ...) must be an integer, "
                                f"not {ir.to_string(off)} ({off.type})")
        offending = _free_var(off)
        if offending is not None:
            raise ScheduleError(f"In schedule for {self._stage_name()}: the offset of "
                                f"prefetch({name}, {at_n}, {from_n}, ...) depends on Var or RVar "
                                f"{offending}; it may use constants and Params only")
        if off.type != ir.Int(32):
            off = ir.Cast(ir.Int(32), off)
        if not isinstance(strategy, PrefetchBoundStrategy):
            raise ArgumentTypeError(f"prefetch(): strategy must be an hl.PrefetchBoundStrategy, "
                                    f"not {strategy!r}")
        self._sched.prefetches.append(Prefetch(fn, name, kind, at_n, from_n, off, strategy))
        self._sched.touched = True
        touch()
        return self

    # ---------------------------------------------------------------- specialization

    def specialize(self, condition) -> "Stage":
        """A Stage for the copy of this definition used where `condition` (a
        boolean of Params and buffer properties) holds; schedule it independently.
        The same condition again returns the same Stage."""
        cond = to_ir(condition)
        if not cond.type.is_bool():
            raise ScheduleError(f"Argument passed to specialize must be of type bool "
                                f"(in schedule for {self._stage_name()}, got {cond.type})")
        offending = _free_var(cond)
        if offending is not None:
            raise ScheduleError(
                f"Specialization condition {ir.to_string(cond)} for {self._stage_name()} depends "
                f"on Var or RVar {offending}. Specialization conditions may not depend on any "
                f"Vars or RVars.")
        d = self._definition
        d.schedule.touched = True
        for s in d.specializations:
            if s.condition == cond:
                return Stage(self.function, self.index, s.definition)
        if d.specializations and d.specializations[-1].failure_message is not None:
            raise ScheduleError(f"Cannot add new specializations after specialize_fail() "
                                f"(in schedule for {self._stage_name()}).")
        return Stage(self.function, self.index, d.add_specialization(cond).definition)

    def specialize_fail(self, message: str) -> None:
        """Fail at run time with `message` where none of the specializations so far applies."""
        if not message:
            raise ScheduleError("Argument passed to specialize_fail() must not be empty.")
        d = self._definition
        if d.specializations and d.specializations[-1].failure_message is not None:
            raise ScheduleError(f"Only one specialize_fail() may be defined per Stage "
                                f"({self._stage_name()}).")
        d.schedule.touched = True
        d.add_specialization(ir.make_const(ir.Bool(), 1), message)

    def unscheduled(self):
        """Say that this update is left unscheduled on purpose (silences Halide's
        warning); as in Halide, only once, and only on a stage not scheduled."""
        if self._sched.touched or self._sched.unscheduled:
            raise ScheduleError("Stage::unscheduled called on an update definition with a schedule")
        self._sched.unscheduled = True
        return self

    def dump_argument_list(self) -> str:
        return self._vars_listing()

    def name(self) -> str:
        return self._stage_name()

    def __repr__(self) -> str:
        return f"<halide.Stage '{self._stage_name()}'>"


_PREFETCH_PARAMETERS = ("func", "at", "from", "offset", "strategy")


def _prefetch_arguments(args: tuple, kwargs: dict) -> tuple:
    """(target, at, from, offset, strategy) of a prefetch() call, by position
    or by Halide's keyword names (`image` for an ImageParam; `from_` too)."""
    kwargs = dict(kwargs)
    for alias, name in (("image", "func"), ("from_", "from")):
        if alias in kwargs:
            if name in kwargs:
                raise ArgumentTypeError(f"prefetch(): got both {name}= and {alias}=")
            kwargs[name] = kwargs.pop(alias)
    if len(args) > len(_PREFETCH_PARAMETERS):
        raise ArgumentTypeError(f"prefetch() takes at most {len(_PREFETCH_PARAMETERS)} arguments "
                                f"(func, at, from, offset, strategy), got {len(args)}")
    values = dict(zip(_PREFETCH_PARAMETERS, args))
    for k, v in kwargs.items():
        if k not in _PREFETCH_PARAMETERS:
            raise ArgumentTypeError(f"prefetch() got an unexpected keyword argument {k!r}")
        if k in values:
            raise ArgumentTypeError(f"prefetch() got multiple values for argument {k!r}")
        values[k] = v
    missing = [k for k in _PREFETCH_PARAMETERS[:3] if k not in values]
    if missing:
        raise ArgumentTypeError(f"prefetch() is missing {', '.join(missing)}: it takes "
                                f"(func, at, from, offset=1, strategy=PrefetchBoundStrategy.GuardWithIf)")
    from pipelang.schedule import PrefetchBoundStrategy
    return (values["func"], values["at"], values["from"], values.get("offset", 1),
            values.get("strategy", PrefetchBoundStrategy.GuardWithIf))


def _prefetch_target(target) -> tuple:
    """(symbol, name, CallKind) of what prefetch() fetches: a Func, an
    ImageParam or a Buffer (Halide's C++ takes a Buffer too)."""
    from pipelang.buffer import Buffer
    from pipelang.param import ImageParam
    if isinstance(target, ImageParam):
        return target._sym, target.name(), ir.CallKind.IMAGE
    if isinstance(target, Buffer):
        return target._sym, target.name(), ir.CallKind.IMAGE
    function = getattr(target, "function", None)
    if function is not None and hasattr(function, "sym"):
        return function.sym, function.name, ir.CallKind.FUNC
    raise ArgumentTypeError(f"prefetch(): the first argument must be a Func, ImageParam or "
                            f"Buffer, not {type(target).__name__}")


def _user(name: str) -> str:
    """A Func or stage name as the user wrote it (without a uniqueness suffix), for messages."""
    return name.split("$", 1)[0]


def _free_var(e: ir.Expr) -> str | None:
    """The name of a pure Var or RVar that `e` uses, if any."""
    from pipelang.rdom import rvar_info
    from pipelang.var import var_symbol
    found = []

    class _Find(ir.IRVisitor):
        def visit_Variable(self, node):
            if rvar_info(node.sym) is not None or node.sym is var_symbol(node.sym.name):
                found.append(node.sym.name)
    _Find().visit(e)
    return found[0] if found else None


__all__ = ["Stage", "Var"]
