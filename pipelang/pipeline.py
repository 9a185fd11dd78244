"""`Pipeline`: compile (lower + LLVM JIT) and run one or more output Funcs.

The compiled code is cached on the Pipeline and reused until any Func's
definition or schedule changes. `realize` checks every buffer on the way
in (types, dimensions, that inputs are bound) and the compiled code checks
the regions read and written before it writes anything.
"""
from __future__ import annotations

import enum
import functools
import json
import os
import sys
import time

import numpy as np

from pipelang import ir
from pipelang._compiled import deep_stack
from pipelang.buffer import Buffer
from pipelang.errors import ArgumentTypeError, BufferError_, CompileError, HalideError, PipelineRuntimeError
from pipelang.function import _generation, generation


class StmtOutputFormat(enum.Enum):
    Text = "text"
    HTML = "html"


def _warn_unscheduled(fns) -> None:
    """Halide's warning for an update left unscheduled when others are scheduled."""
    for fn in fns:
        stages = fn.stages()
        if not any(d.schedule.touched for d in stages):
            continue
        for i, d in enumerate(stages[1:]):
            if not d.schedule.touched and not d.schedule.unscheduled:
                print(f"Warning: Update definition {i} of function {fn.name} has not been "
                      f"scheduled, even though some other definitions have been. You may have "
                      f"forgotten to schedule it. If this was intentional, call "
                      f"{fn.name}.update({i}).unscheduled() to suppress this warning.")


def _dlpack_outputs(args: tuple) -> tuple:
    """realize() into tensors: any DLPack object (a PyTorch tensor...) becomes a
    Buffer sharing its memory, alone or in a list."""
    def conv(a):
        if hasattr(a, "__dlpack__") and not isinstance(a, (Buffer, np.ndarray)):
            return Buffer(a)
        if isinstance(a, list) and any(hasattr(b, "__dlpack__") and not isinstance(b, (Buffer, np.ndarray))
                                       for b in a):
            return [conv(b) for b in a]
        return a
    return tuple(conv(a) for a in args)


def _warn_inlined_schedules(fns, outputs) -> None:
    """Halide's warnings for schedule directives that mean nothing on a Func
    computed inline (splits, renames, fuses, bounds). Halide checks an inlined
    Func's schedule twice in a compile: when it validates the schedule and
    again when it inlines the Func, so each warning prints twice."""
    from pipelang.schedule import SplitKind
    lines = []
    # By name: wrap_calls hands the environment copies of the outputs whose
    # calls it redirected to in_() wrappers.
    output_names = {o.name for o in outputs}
    for fn in fns:
        sched = fn.schedule
        if (fn.name in output_names or fn.updates or not sched.compute_level.is_inlined()
                or not sched.store_level.is_inlined()):
            continue
        for sp in fn.init.schedule.splits:
            if sp.kind is SplitKind.RENAME:
                lines.append(f"It is meaningless to rename variable {sp.old} of function {fn.name} "
                             f"to {sp.outer} because {fn.name} is scheduled inline.")
            elif sp.kind is SplitKind.FUSE:
                lines.append(f"It is meaningless to fuse variables {sp.inner} and {sp.outer} "
                             f"because {fn.name} is scheduled inline.")
            else:
                lines.append(f"It is meaningless to split variable {sp.old} of function {fn.name} "
                             f"into {sp.outer} * {ir.to_string(sp.factor)} + {sp.inner} because "
                             f"{fn.name} is scheduled inline.")
        for b in sched.bounds:
            if b.min is not None:
                lines.append(f"It is meaningless to bound dimension {b.var} of function {fn.name} "
                             f"to be within [{ir.to_string(b.min)}, {ir.to_string(b.extent)}] "
                             f"because the function is scheduled inline.")
    for _ in range(2):
        for line in lines:
            print(f"Warning: {line}")


def _check_output_bounds(c, outs) -> None:
    """Halide's check that an output Func's `bound()` covers the output
    buffers it is realized into. (realize(sizes) makes its buffers from the
    bounds query, so Halide never fails it there; nor does this.)"""
    from pipelang.lowering.analysis.evaluate import evaluate_expr
    env = Pipeline._query_env(c, outs)
    i = 0
    for fn in c.outputs:
        buf = outs[i]
        for b in fn.schedule.bounds:
            if b.extent is None:
                continue
            d = fn.args.index(b.var)
            if d >= buf.dimensions():
                continue
            need_min, need_max = buf.dim(d).min(), buf.dim(d).max()
            lo = need_min if b.min is None else int(evaluate_expr(b.min, env))
            hi = lo + int(evaluate_expr(b.extent, env)) - 1
            if lo > need_min or hi < need_max:
                raise PipelineRuntimeError(   # Halide's text, "Error: " included
                    f"Error: Bounds given for {fn.name} in {b.var} (from {lo} to {hi}) do not cover "
                    f"required region (from {need_min} to {need_max})")
        i += len(fn.output_types)


def _functions(outputs) -> list:
    from pipelang.func import Func
    if isinstance(outputs, Func):
        outputs = [outputs]
    fns = []
    for f in outputs:
        if not isinstance(f, Func):
            raise TypeError(f"Pipeline outputs must be Funcs, not {type(f).__name__}")
        if not f.defined():
            raise CompileError(f'Func "{f.name()}" is undefined: it can\'t be realized')
        fns.append(f.function)
    if len({id(fn) for fn in fns}) != len(fns):
        raise CompileError("A Func appears twice among the outputs of a Pipeline")
    return fns


class _PrintFinder(ir.IRVisitor):
    found = False

    def visit_Intrinsic(self, node):
        if node.op is ir.Op.PRINT:
            self.found = True
        self.generic_visit(node)


def _uses_print(fn) -> bool:
    """Whether a Function's definitions call hl.print / print_when."""
    v = _PrintFinder()
    for d in fn.stages():
        for e in tuple(d.values) + tuple(d.args):
            v.visit(e)
    return v.found


def _identity_of(env_functions, outputs, arguments, name, fp=None):
    """What a pipeline's compiled code stands for: the fingerprint of its
    algorithm and schedule (`pipelang.fingerprint`, which numbers symbols
    canonically) together with the very Functions, inputs and Params it binds.
    None when the pipeline can't be fingerprinted."""
    from pipelang import fingerprint
    try:
        if fp is None:
            fp = fingerprint.pipeline(env_functions, outputs, arguments, name)
    except fingerprint.Unkeyable:
        return None
    return (fp.digest(), tuple(fn.sym for fn in env_functions),
            tuple((sym, id(owner)) for sym, owner in arguments.inputs.items()),
            tuple((sym, id(p)) for sym, p in arguments.params.items()))


def _environment_of(outputs):
    """(env, the Functions the outputs reach, their Arguments), as lowering
    sees them: consumers of in_() wrappers are seen calling them."""
    from pipelang.function import registry
    from pipelang.lowering.analysis.arguments import find_arguments
    from pipelang.lowering.analysis.environment import find_environment
    from pipelang.lowering.wrap_calls import wrap_calls
    wrapped, functions = wrap_calls(outputs, registry)
    env, env_functions = find_environment(wrapped, functions)
    return env, env_functions, find_arguments(env, wrapped)


def _identity(outputs, name):
    """`_identity_of` the pipeline of `outputs` as its Functions are now."""
    _, env_functions, arguments = _environment_of(outputs)
    return _identity_of(env_functions, outputs, arguments, name)


class _Compiled:
    """A pipeline's compiled code and what calling it needs.

    With the compile cache on (see `pipelang.cache`), the code is looked up
    first by a fingerprint of the algorithm and schedule, which needs no
    lowering; a hit loads the object code and the few lowering results
    `realize` uses (the output regions). The lowered statement itself is
    then only made if asked for."""

    requirements: tuple = ()     # Pipeline.add_requirement conditions, checked in Python
    output_bounds: bool = False  # an output Func has a bound(): checked in Python on given buffers

    def __init__(self, outputs, name, target=None):
        from pipelang.lowering.schedule_functions import is_inlined
        from pipelang.backends.llvm.jit import pack_scalar
        self.pack_scalar = pack_scalar
        self.outputs = outputs
        self.name = name
        self.target = target
        self.device = None              # a cuda target run on a device (pipelang.backends.cuda.host)
        self.query_cache: dict = {}     # realize(sizes)'s bounds query, by its inputs
        start = time.process_time()
        env, self.env_functions, self.arguments = _environment_of(outputs)
        self.traced = [fn for fn in self.env_functions
                       if (fn.schedule.trace_stores or fn.schedule.trace_loads
                           or fn.schedule.trace_realizations)
                       and (fn in outputs or not is_inlined(fn, outputs))]
        self._lowered = None
        self._regions = None
        self.timings: list = []
        self.cache_hit = False
        found = time.process_time()
        cache, fp, key = self._cache_key(env)
        keyed = time.process_time()
        self.identity = _identity_of(self.env_functions, outputs, self.arguments, name, fp)
        if key is None or not self._load(cache, fp, key):
            from pipelang.lowering.lower import gc_paused
            with gc_paused():
                self._compile(cache, fp, key)
        else:
            # (step, processor seconds) of a hit, as lowering's steps for a compile.
            self.timings = [("environment", found - start), ("cache_key", keyed - found),
                            ("cache_load", time.process_time() - keyed)]
        self.generation = generation()
        # Where each argument's slots go, in argv order.
        self.plan = []
        out_index = 0
        args = self.jit.args if self.device is None else self._lowered.args
        offsets = self.jit.arg_offsets if self.device is None else [None] * len(args)
        for a, off in zip(args, offsets):
            if a.kind is ir.ArgKind.SCALAR:
                self.plan.append(("param", off, self.arguments.params[a.sym], a))
            elif a.sym in self.arguments.inputs:
                self.plan.append(("input", off, self.arguments.inputs[a.sym], a))
            else:
                self.plan.append(("output", off, out_index, a))
                out_index += 1
        if self.device is None:
            self._setup_calls()
        else:
            self.n_outputs = sum(len(fn.output_types) for fn in outputs)
            self.fixed_region = False

    @functools.cached_property
    def prints(self) -> bool:
        """Whether any Func prints (its output is then routed to sys.stdout)."""
        return any(_uses_print(fn) for fn in self.env_functions)

    def _setup_calls(self) -> None:
        """The argument packer `realize` calls through, and how it finds each value."""
        from pipelang.calling import ArgPacker, Role, Slot
        self.outputs_by_index = [fn for fn in self.outputs for _ in fn.output_types]
        self.output_names = [fn.name if len(fn.output_types) == 1 else f"{fn.name}.{i}"
                             for fn in self.outputs for i in range(len(fn.output_types))]
        slots, self.getters, sources = [], [], []
        for kind, off, what, a in self.plan:
            if kind == "output":
                slots.append(Slot(Role.OUTPUT, off, a, self.output_names[what],
                                  self.outputs_by_index[what]))
            elif kind == "input":
                slots.append(Slot(Role.INPUT, off, a, what.name(), what))
                self.getters.append(what if isinstance(what, Buffer) else what.get)
                sources.append(("buffer" if isinstance(what, Buffer) else "image", what))
            else:
                slots.append(Slot(Role.SCALAR, off, a, what.name(), what))
                self.getters.append(what.get)
                sources.append(("param", what))
        self.n_outputs = len(self.outputs_by_index)
        # Embedded Buffers are passed as themselves.
        self.getters = tuple((lambda b=g: b) if isinstance(g, Buffer) else g for g in self.getters)
        self.packer = ArgPacker(self.jit, slots, _realize_buffer, _realize_scalar)
        self._sources = sources
        self.fixed_region = self._stored_fixed if self.cache_hit else _fixed_region(self)

    fast_buffer = fast_buffers = fast_sizes = fast_grow = False

    # realize(buffer) (realize([buffers]) for several outputs) and
    # realize(sizes), generated for these arguments (see `calling`) on first
    # use: made at compile time, they would cost a cache hit a millisecond.
    def run_buffer(self, out):
        self._make_runners()
        return self.run_buffer(out)

    def run_sizes(self, sizes):
        self._make_runners()
        return self.run_sizes(sizes)

    def _make_runners(self) -> None:
        self.run_buffer, self.run_sizes = self.packer.realize_runners(self._sources)

    def update_fast_paths(self) -> None:
        """Which calls `realize` may take its short paths for: run on the
        CPU, untraced, with no requirement or output bound to check in Python
        (`fast_buffer`: realize(buffer) of one output; `fast_buffers`:
        realize([buffers]) of several, Func outputs or Tuple elements);
        `fast_sizes` (realize(sizes)) also needs outputs that never grow;
        `fast_grow`, realize(sizes) of outputs that may grow, is taken for
        sizes they were seen not to grow at."""
        simple = not self.traced and self.device is None and not self.requirements
        one = self.n_outputs == 1
        self.fast_buffer = simple and one and not self.output_bounds
        self.fast_buffers = simple and not one and not self.output_bounds
        self.fast_sizes = simple and self.fixed_region
        self.fast_grow = simple and not self.fixed_region

    @functools.cached_property
    def growth_by_sizes(self):
        """For realize(sizes) of outputs that may grow: whether they grow,
        by sizes, filled in as realize finds out (a dict); or None when the
        region an output writes depends on more than the outputs' own sizes
        (inputs, Params), so that sizes alone don't tell. (realize(sizes)
        gives every output, and every Tuple element, the same sizes.)"""
        from pipelang.lowering.names import buffer as buffer_of
        own = {f(buffer_of(fn, k), d) for fn in self.outputs for k in range(len(fn.output_types))
               for d in range(len(fn.args))
               for f in (ir.buffer_min, ir.buffer_extent, ir.buffer_stride)}
        for fn in self.outputs:
            box = self.regions.get(fn.sym)
            if fn.output_constraints or box is None:
                return None
            for iv in box:
                for e in (iv.min, iv.max):
                    if e is None or not _free_symbols(e) <= own:
                        return None
        return {}

    def values(self, outs) -> list:
        """The value of every argument, in argv order, for output buffers `outs`."""
        vals = list(outs)
        for g in self.getters:
            vals.append(g())
        return vals

    def _cache_key(self, env):
        from pipelang.cache import default_cache, make_key, toolchain_key
        from pipelang import fingerprint
        cache = default_cache()
        if cache is None or os.environ.get("PIPELANG_LOG_LOWERING") or _runs_on_device(self.target):
            return cache, None, None
        try:
            fp = fingerprint.pipeline(self.env_functions, self.outputs, self.arguments, self.name)
        except fingerprint.Unkeyable:
            return cache, None, None
        target = _target_key(self.target)
        return cache, fp, make_key(toolchain_key(), "pipeline", target, fp.digest())

    @deep_stack
    def _compile(self, cache, fp, key) -> None:
        # Lowering and code generation share one big-stack thread (see
        # `deep_stack`): a thread for each would cost local_laplacian's
        # compile about 1.5 ms more.
        from pipelang.backends.llvm import compile_lowered
        from pipelang.lowering.lower import lower
        self._lowered, self.arguments, self.regions, self.timings = lower(
            self.outputs, self.name, target=self.target)
        from pipelang.lowering.gpu_offload import kernels_of
        if kernels_of(self._lowered.body):
            # Host code is interpreted by the CUDA runtime; kernels are compiled
            # on the first run (nothing CUDA is imported before).
            from pipelang.backends.cuda.host import DevicePipeline
            self.device = DevicePipeline(self._lowered, self.name, self.target)
            self.jit = None
            return
        self.jit = compile_lowered(self._lowered, cache=cache, loop_opt=_llvm_loop_opt(self.target))
        if key is not None and self.jit.object_key is not None:
            self._store(cache, fp, key)

    def _store(self, cache, fp, key) -> None:
        """Record the code's object key, calling data and the regions
        `realize` (and the autoscheduler's check) read: those of the outputs,
        traced Funcs and inputs."""
        from pipelang import fingerprint
        syms = [fn.sym for fn in self.outputs] + [fn.sym for fn in self.traced]
        syms += list(self.arguments.inputs)
        regions = []
        try:
            for sym in dict.fromkeys(syms):
                box = self.regions.get(sym)
                if box is not None and sym in fp.index:
                    flat = [e for iv in box for e in (iv.min, iv.max)]
                    regions.append([fp.index[sym], fp.encode_exprs(flat)])
        except fingerprint.Unkeyable:
            return
        # The regions follow the record, after a newline (which compact JSON
        # never holds), parsed only if asked for: in a deep pipeline they are
        # most of the entry (local_laplacian: 150 of 160 KB; parsing them was
        # 110 ms of a 150 ms hit, and unescaping them as one JSON string in
        # the record half a millisecond).
        record = {"object": self.jit.object_key, "code": self.jit.info.to_json(),
                  "fixed_region": _fixed_region(self)}
        cache.put(key, json.dumps(record).encode() + b"\n" + json.dumps(regions).encode())

    def _load(self, cache, fp, key) -> bool:
        """Set up from the cache; False on a miss (or an entry that doesn't fit)."""
        from pipelang.backends.llvm.jit import CodeInfo, JITFunction
        raw = cache.get(key)
        if raw is None:
            return False
        try:
            head, stored = raw.split(b"\n", 1)
            record = json.loads(head)
            info = CodeInfo.from_json(record["code"], self.arguments.lowered_arguments())
            fixed = bool(record["fixed_region"])
            data = cache.get(record["object"])
        except (ValueError, KeyError, TypeError, IndexError):
            return False
        if data is None:
            return False
        self.jit = JITFunction.from_object(data, info)
        # Decoded only if asked for (realize(sizes) of an output that can grow,
        # tracing, the autoscheduler's check).
        self._stored_regions = (fp, stored)
        self._regions = None
        self._stored_fixed = fixed
        self.cache_hit = True
        return True

    @property
    def regions(self) -> dict:
        if self._regions is None:
            from pipelang.lowering.analysis.intervals import Interval
            fp, stored = self._stored_regions
            regions = {}
            try:
                for index, flat in json.loads(stored):
                    es = fp.decode_exprs(flat)
                    regions[fp.symbols[index]] = [Interval(es[i], es[i + 1])
                                                  for i in range(0, len(es), 2)]
            except (ValueError, KeyError, TypeError, IndexError):
                # A record that doesn't decode (its checksum held): lower again.
                from pipelang.lowering.lower import lower
                self._lowered, _, regions, self.timings = lower(self.outputs, self.name,
                                                                target=self.target)
            self._regions = regions
        return self._regions

    @regions.setter
    def regions(self, value) -> None:
        self._regions = value

    @property
    def lowered(self):
        """The lowered statement (made now if the code came from the cache)."""
        if self._lowered is None:
            from pipelang.lowering.lower import lower
            self._lowered, _, _, self.timings = lower(self.outputs, self.name, target=self.target)
        return self._lowered

    def llvm_ir(self) -> str:
        if self.jit.llvm_ir is None:
            # Loaded from the cache, which keeps object code only: compile again
            # (the same code) to have the IR.
            from pipelang.backends.llvm import compile_lowered
            self.jit = compile_lowered(self.lowered, loop_opt=_llvm_loop_opt(self.target))
        return self.jit.llvm_ir


def _known_not_to_grow(c, sizes) -> bool:
    """Whether outputs of these sizes were seen not to grow (their regions
    depending on their sizes alone): realize(sizes) may then run on outputs
    of exactly these sizes, as for outputs that never grow."""
    grows = c.growth_by_sizes
    if grows is None:
        return False
    try:
        return grows.get(tuple(sizes)) is False
    except TypeError:                   # not sizes: realize's general path says why
        return False


def _free_symbols(e) -> set:
    """The symbols `e` reads that no Let inside it binds."""
    from pipelang.ir.visitor import IRVisitor

    class Uses(IRVisitor):
        def __init__(self):
            self.read, self.bound = set(), set()

        def visit_Variable(self, node):
            self.read.add(node.sym)

        def visit_Let(self, node):
            self.bound.add(node.sym)
            self.generic_visit(node)
    v = Uses()
    v.visit(e)
    return v.read - v.bound


def _llvm_loop_opt(target) -> bool:
    """Whether LLVM's loop vectorizer, interleaver and unroller run: as in
    Halide, only with the target feature `enable_llvm_loop_opt`. Lowering
    vectorizes and unrolls what the schedule asks; the rest stays as written
    (LLVM's loop passes were most of the compile time of deep pipelines)."""
    return target is not None and target.has_feature("enable_llvm_loop_opt")


def _target_key(target) -> str:
    """What of the target the compiled code depends on (its string, and emulation)."""
    from pipelang.lowering.lower import cuda_emulated
    if target is None:
        return os.environ.get("HL_JIT_TARGET", "host")
    return target.to_string() + ("-emulated" if target.has_feature("cuda") and cuda_emulated() else "")


def _runs_on_device(target) -> bool:
    from pipelang.lowering.lower import cuda_emulated
    return target is not None and target.has_feature("cuda") and not cuda_emulated()


def _realize_buffer(slot, buf) -> Buffer:
    """Checks of a buffer `realize` passes for the first time (see `calling`)."""
    from pipelang.calling import Role
    if slot.role is Role.OUTPUT:
        Pipeline._check_output(slot.owner, buf, slot.type, buf, slot.dense_x)
        return buf
    if buf is None:
        name = slot.owner.name()
        raise BufferError_(f"ImageParam {name} is not bound to a buffer: call "
                           f"{name}.set(buffer) before realize()")
    arr = buf._array
    if slot.dense_x and arr.ndim and arr.shape[-1] > 1 and arr.strides[-1] != arr.itemsize:
        raise BufferError_(f"Input buffer {slot.name} has stride {arr.strides[-1] // arr.itemsize} "
                           f"in dimension 0, but it must be 1 (pass np.ascontiguousarray(a), "
                           f"or use a Buffer directly in the algorithm)")
    return buf


def _realize_scalar(slot, value) -> int:
    from pipelang.backends.llvm.jit import pack_scalar
    return pack_scalar(value, slot.type)


def _fixed_region(c) -> bool:
    """Whether every output writes exactly its buffer's region, so that
    `realize(sizes)` never needs to grow one (no bounds query per call)."""
    from pipelang.lowering.names import buffer as buffer_of
    from pipelang.lowering.simplify import simplify
    for fn in c.outputs:
        box = c.regions.get(fn.sym)
        if box is None:
            continue
        # A Tuple's box is its first element's buffer's (the elements must
        # cover one region).
        sym = buffer_of(fn, 0)
        for d, iv in enumerate(box):
            lo = ir.Variable(ir.Int(32), ir.buffer_min(sym, d))
            hi = ir.Sub(ir.Add(lo, ir.Variable(ir.Int(32), ir.buffer_extent(sym, d))), ir.i32(1))
            if iv.min is None or iv.max is None or iv.min.type != ir.Int(32) \
                    or iv.max.type != ir.Int(32):
                return False
            if not (ir.is_const(simplify(ir.Sub(iv.min, lo)), 0)
                    and ir.is_const(simplify(ir.Sub(iv.max, hi)), 0)):
                return False
    return True


class AutoschedulerParams:
    """Which autoscheduler to run and its parameters, as Halide spells them:
    `hl.AutoschedulerParams("Adams2019", {"parallelism": 2})`. Values may be
    strings (Halide passes strings); the autoscheduler checks and converts them."""

    def __init__(self, name: str = "", extra: dict | None = None):
        self.name = name
        self.extra = dict(extra or {})

    def __repr__(self) -> str:
        return f"AutoschedulerParams({self.name!r}, {self.extra!r})"


class AutoSchedulerResults:
    """What `Pipeline.apply_autoscheduler` returns: the schedule as Python source
    (a module defining `apply_schedule(pipeline)`), the parameters used, the
    target, and the search's features and statistics."""

    def __init__(self, schedule_source: str, autoscheduler_params, target, featurization=b"",
                 report=None):
        self.schedule_source = schedule_source
        self.autoscheduler_params = autoscheduler_params
        self.target = target
        self.featurization = featurization
        self.report = report

    def __repr__(self) -> str:
        return f"<AutoSchedulerResults {self.autoscheduler_params!r}>"


_NO_ARG = object()     # realize() given no positional argument


class Pipeline:
    def __init__(self, outputs=None):
        from pipelang.func import Func
        if outputs is None:
            outputs = []
        self._funcs = [outputs] if isinstance(outputs, Func) else list(outputs)
        self._compiled: _Compiled | None = None
        self._target = None          # set by compile_jit(target) or realize(target=...)
        for f in self._funcs:       # as Halide's Pipeline does: outputs get no new definitions
            if isinstance(f, Func) and f.function.frozen_by is None:
                f.function.frozen_by = "a Pipeline outputs it"

    def outputs(self) -> list:
        return list(self._funcs)

    def __repr__(self) -> str:
        if not self._funcs:
            return "<halide.Pipeline Pipeline()>"
        return "<halide.Pipeline [" + ",".join(f"'{f.name()}'" for f in self._funcs) + "]>"

    def _repr_html_(self):
        """Jupyter shows a Pipeline as its loop nest."""
        if not self.defined():
            return None
        from pipelang.notebook import loop_nest_html
        return loop_nest_html(_functions(self._funcs))

    def defined(self) -> bool:
        return bool(self._funcs)

    # ---------------------------------------------------------------- compiling

    def _compile(self) -> _Compiled:
        c = self._compiled
        # The JIT target from the environment, as the environment now says:
        # the code compiled for it is still right when that is unchanged
        # (making the Target and its key cost every call 50 us).
        environment = (os.environ.get("HL_JIT_TARGET"), os.environ.get("PIPELANG_CUDA_EMULATE"))
        if (c is not None and self._target is None and c.generation == generation()
                and c.__dict__.get("environment") == environment):
            return c
        from pipelang.target import get_jit_target_from_environment
        target = self._target or get_jit_target_from_environment()
        key = _target_key(target)
        if c is not None and c.generation != generation() and c.target_key == key:
            # Some Func or schedule changed since this was compiled: it may be
            # one this pipeline doesn't use (Halide recompiles only a pipeline
            # whose own Funcs changed), so keep the code when the pipeline's
            # algorithm, schedule and arguments are as they were.
            fns = _functions(self._funcs)
            if c.identity is not None and _identity(fns, fns[0].name) == c.identity:
                c.generation = generation()
        if c is None or c.generation != generation() or c.target_key != key:
            fns = _functions(self._funcs)
            c = _Compiled(fns, fns[0].name, target)
            c.requirements = tuple(self.__dict__.get("_requirements", ()))
            c.output_bounds = any(b.extent is not None for fn in fns for b in fn.schedule.bounds)
            c.target_key = key
            c.update_fast_paths()
            # Published whole: another thread's realize may read it at once.
            self._compiled = c
            _warn_unscheduled(c.env_functions)
            _warn_inlined_schedules(c.env_functions, fns)
        if self._target is None:
            c.environment = environment
        return c

    def compile_jit(self, target=None) -> None:
        if target is not None:
            self._target = target
        self._compile()

    def cuda_source(self, target=None) -> str:
        """The CUDA C translation unit of this pipeline's kernels, for `target`
        (default: the JIT target, with the `cuda` feature added if missing)."""
        from pipelang.backends.cuda import cuda_source
        from pipelang.lowering.gpu_offload import kernels_of
        from pipelang.lowering.lower import lower
        from pipelang.target import get_jit_target_from_environment
        target = target or self._target or get_jit_target_from_environment()
        if not target.has_feature("cuda"):
            target = target.with_feature("cuda")
        fns = _functions(self._funcs)
        lowered = lower(fns, fns[0].name, target=target, emulate_gpu=False)[0]
        return cuda_source(kernels_of(lowered.body), fns[0].name)

    def apply_autoscheduler(self, target=None, autoscheduler_params=None) -> AutoSchedulerResults:
        """Schedule every Func of this pipeline automatically (see autoscheduler/)."""
        from autoscheduler import apply_autoscheduler
        return apply_autoscheduler(self, target, autoscheduler_params)

    def compile_to_lowered_stmt(self, filename, arguments=(), fmt=None, target=None) -> None:
        """Write the lowered statement as text, or as a small HTML page for
        `hl.StmtOutputFormat.HTML`."""
        if fmt is StmtOutputFormat.HTML:
            from pipelang.ir.html_printer import to_html
            text = to_html(self._compile().lowered, f"{self._funcs[0].name()}: lowered statement")
        else:
            text = self.lowered_stmt()
        with open(filename, "w") as f:
            f.write(text)

    def lowered_stmt(self) -> str:
        return ir.to_string(self._compile().lowered)

    def llvm_ir(self) -> str:
        return self._compile().llvm_ir()

    def assembly(self) -> str:
        c = self._compile()
        c.llvm_ir()
        return c.jit.assembly()

    # ---------------------------------------------------------------- AOT (pipelang.aot)

    def compile_to(self, outputs, arguments=(), fn_name="", target=None) -> None:
        from pipelang.aot import outputs as aot
        aot.compile_to(self, outputs, arguments, fn_name, target)

    def _compile_one(self, kind, filename, arguments, fn_name, target) -> None:
        from pipelang.aot.outputs import OutputFileType
        self.compile_to({getattr(OutputFileType, kind): filename}, arguments, fn_name, target)

    def compile_to_object(self, filename, arguments=(), fn_name="", target=None) -> None:
        self._compile_one("object", filename, arguments, fn_name, target)

    def compile_to_header(self, filename, arguments=(), fn_name="", target=None) -> None:
        self._compile_one("c_header", filename, arguments, fn_name, target)

    def compile_to_assembly(self, filename, arguments=(), fn_name="", target=None) -> None:
        self._compile_one("assembly", filename, arguments, fn_name, target)

    def compile_to_bitcode(self, filename, arguments=(), fn_name="", target=None) -> None:
        self._compile_one("bitcode", filename, arguments, fn_name, target)

    def compile_to_llvm_assembly(self, filename, arguments=(), fn_name="", target=None) -> None:
        self._compile_one("llvm_assembly", filename, arguments, fn_name, target)

    def compile_to_c(self, filename, arguments=(), fn_name="", target=None) -> None:
        self._compile_one("c_source", filename, arguments, fn_name, target)

    def compile_to_python_extension(self, filename, arguments=(), fn_name="", target=None) -> None:
        self._compile_one("python_extension", filename, arguments, fn_name, target)

    def compile_to_file(self, filename_prefix, arguments=(), fn_name="", target=None) -> None:
        from pipelang.aot import outputs as aot
        aot.compile_to_file(self, filename_prefix, arguments, fn_name, target)

    def compile_to_static_library(self, filename_prefix, arguments=(), fn_name="",
                                  target=None) -> None:
        from pipelang.aot import outputs as aot
        aot.compile_to_static_library(self, filename_prefix, arguments, fn_name, target)

    def infer_arguments(self) -> list:
        """The ImageParams and Params the pipeline reads, as `Argument`s
        (Buffers used in the algorithm are not arguments)."""
        from pipelang.calling import Argument, ArgumentKind
        from pipelang.param import ImageParam
        args = self._compile().arguments
        out = [Argument(p.name(), ArgumentKind.InputBuffer, p.type(), p.dimensions(), p)
               for p in args.inputs.values() if isinstance(p, ImageParam)]
        out += [Argument(p.name(), ArgumentKind.InputScalar, p.type(), 0, p)
                for p in args.params.values()]
        return out

    def compile_to_callable(self, arguments, target=None):
        """A `Callable` taking `arguments` (Params, ImageParams or Arguments)
        in order, then the output buffers; later schedule changes don't affect it."""
        from pipelang.calling import Callable
        if target is not None:
            self._target = target
        c = self._compile()
        if c.device is not None:
            raise CompileError("compile_to_callable() of a pipeline run on a CUDA device is not "
                               "supported yet: call realize() (or set PIPELANG_CUDA_EMULATE=1)")
        return Callable(c, list(arguments))

    def compile_to_module(self, arguments, fn_name="", target=None):
        """The lowered pipeline as a module for the target (Halide's
        `compile_to_module`): `object_bytes()`, `assembly()`, `bitcode()`,
        `llvm_assembly()`, `header()`."""
        from pipelang.aot.module import AotModule
        from pipelang.aot.outputs import resolve_target
        fns = _functions(self._funcs)
        return AotModule(fns, list(arguments), fn_name or fns[0].name, resolve_target(target))

    def invalidate_cache(self) -> None:
        """Drop the compiled code: the next realize compiles again (the
        on-disk compile cache, if on, still makes that a quick load)."""
        self._compiled = None

    def print_loop_nest(self) -> None:
        from pipelang.loop_nest import loop_nest_text
        fns = _functions(self._funcs)
        # Lowering for the loop nest warns as compiling does.
        _warn_unscheduled(_environment_of(fns)[1])
        # Halide prints the loop nest to stderr.
        print(loop_nest_text(fns), end="", file=sys.stderr)

    # ---------------------------------------------------------------- running

    def _output_buffers(self, fns, args) -> list:
        types = [t for fn in fns for t in fn.output_types]
        if len(args) == 1 and isinstance(args[0], (list, tuple)) and all(
                isinstance(a, (int, np.integer)) for a in args[0]):
            sizes = [int(s) for s in args[0]]
        elif args and all(isinstance(a, (int, np.integer)) for a in args):
            sizes = [int(s) for s in args]
        elif len(args) == 0:
            sizes = []
        else:
            bufs = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
            bad = [b for b in bufs if isinstance(b, (float, bool, np.floating, str))]
            if bad:
                raise ArgumentTypeError(f"realize() takes a list of integer sizes or a list of output "
                                   f"buffers; got the non-integer size {bad[0]!r}")
            bufs = [b if isinstance(b, Buffer) else Buffer(b) for b in bufs]
            if len(bufs) != len(types):
                raise BufferError_(f"realize() was given {len(bufs)} output buffers, but the "
                                   f"pipeline has {len(types)} outputs")
            from pipelang.constraints import dense_dim0
            i = 0
            for fn in fns:
                # As in Halide, each output Func has its own region (its
                # buffers); a Tuple's elements share their Func's.
                first = bufs[i]
                for k, t in enumerate(fn.output_types):
                    self._check_output(fn, bufs[i], t, first,
                                       dense_dim0(fn.output_constraints.get(k)))
                    i += 1
            return bufs
        for fn in fns:
            if len(sizes) != len(fn.args):
                raise BufferError_(f"Func {fn.name} is defined with {len(fn.args)} dimensions, but "
                                   f"realize() is requesting a realization with {len(sizes)} dimensions.")
        for d, s in enumerate(sizes):
            if s < 0:
                raise BufferError_(f"realize() size {s} in dimension {d} is negative")
        total = 1
        for s in sizes:
            total *= s
        if total * max(t.bytes() for t in types) > (1 << 40):
            raise BufferError_(f"realize() of sizes {sizes} would allocate more than 1 TiB")
        return [Buffer(t, sizes) for t in types]

    @staticmethod
    def _check_output(fn, buf: Buffer, t, first: Buffer, dense: bool = True) -> None:
        if not buf.defined():
            raise BufferError_(f"Output buffer for Func {fn.name} is undefined")
        if buf.type() != t:
            # Halide's text (its errors all begin "Error: ").
            raise BufferError_(f"Error: Output buffer {fn.name} has type {t} but type of the buffer "
                               f"passed in is {buf.type()}")
        if buf.dimensions() != len(fn.args):
            raise BufferError_(f"Output buffer {buf.name()} has {buf.dimensions()} dimensions but "
                               f"Func {fn.name} has {len(fn.args)}")
        arr = buf._array
        if not arr.flags.writeable:
            raise BufferError_(f"Output buffer {buf.name()} for Func {fn.name} is read-only")
        if dense and arr.ndim and arr.shape[-1] > 1 and arr.strides[-1] != arr.itemsize:
            raise BufferError_(f"Output buffer {buf.name()} for Func {fn.name} has stride "
                               f"{arr.strides[-1] // arr.itemsize} in dimension 0, but it must be 1")
        for d in range(buf.dimensions() if buf is not first else 0):
            if (buf.dim(d).min(), buf.dim(d).extent()) != (first.dim(d).min(), first.dim(d).extent()):
                raise BufferError_(f"The output buffers of Tuple Func {fn.name} must all cover the "
                                   f"same region; {buf.name()} differs from {first.name()} in "
                                   f"dimension {d}")

    def add_requirement(self, condition, *args) -> None:
        """Fail a run unless `condition` (of Params and buffer fields) holds, with
        `args` (strings and Exprs) as the message."""
        from pipelang.constraints import requirement
        self.__dict__.setdefault("_requirements", []).append(requirement(condition, args))
        if self._compiled is not None:
            self._compiled.requirements = tuple(self._requirements)   # off the fast paths
            self._compiled.update_fast_paths()

    def infer_input_bounds(self, *args, target=None) -> None:
        """Bind every unbound ImageParam to a buffer of the shape needed to
        produce outputs of these sizes (or these Buffers), within its constraints."""
        from pipelang.constraints import infer_input_bounds
        fns = _functions(self._funcs)
        infer_input_bounds(self, self._output_buffers(fns, args))

    def realize(self, arg=_NO_ARG, *rest, target=None):
        try:    # (costs nothing until something is raised)
            c = self._compiled
            if not rest and target is None and c is not None and c.generation == _generation[0]:
                # The common cases, kept short: one output, code compiled.
                if type(arg) is Buffer and c.fast_buffer:
                    c.run_buffer(arg)
                    return None     # as Halide: the results are in the caller's buffer
                if type(arg) is list:
                    if c.fast_sizes or c.fast_grow and _known_not_to_grow(c, arg):
                        buf = c.run_sizes(arg)
                        if buf is not None:
                            return buf
                    if c.fast_buffers and c.run_buffer(arg):
                        return None
                elif type(arg) is tuple and c.fast_buffers and c.run_buffer(arg):
                    return None
            args = rest if arg is _NO_ARG else (arg,) + rest
            args = _dlpack_outputs(args)
            if args and not isinstance(args[-1], (int, np.integer, list, tuple, Buffer, np.ndarray)):
                target, args = args[-1], args[:-1]
            if target is not None:
                self._target = target
            fns = _functions(self._funcs)
            if self.__dict__.get("_requirements"):
                from pipelang.constraints import check_requirements
                check_requirements(self._requirements)
            outs = self._output_buffers(fns, args)
            given = any(isinstance(a, (Buffer, np.ndarray)) for a in args) or (
                len(args) == 1 and isinstance(args[0], (list, tuple))
                and any(isinstance(a, (Buffer, np.ndarray)) for a in args[0]))
            if given and self._compile().output_bounds:
                _check_output_bounds(self._compile(), outs)
            if not given and any(fn.output_constraints for fn in fns):
                from pipelang.constraints import constrained_outputs
                run_on = constrained_outputs(self._compile(), outs)
            else:
                run_on = outs if given or self._compile().fixed_region else self._grown(outs)
            self._run(run_on)
            if not given and self._compiled.device is not None:
                for b in run_on:              # realize(sizes) hands back host data (Halide)
                    b.copy_to_host()
            if given:
                return None         # the results are in the caller's buffers (Halide returns None)
            if len(outs) == 1:
                return outs[0]
            return tuple(outs)      # several outputs or Tuple elements: a tuple, as Halide's binding
        except HalideError as e:
            # Errors at the user's line (pipelang/user_frames.py): notes, trimmed traceback.
            from pipelang import user_frames
            if user_frames._called_by_user(1):
                user_frames.surface(e, self._funcs, user_frames._describe_call(
                    self, "realize", rest if arg is _NO_ARG else (arg,) + rest))
            raise

    def _grown(self, outs: list) -> list:
        """Output buffers enlarged to what the schedule writes (Halide's bounds
        query for realize(sizes)); `outs` become views of their middle."""
        from pipelang.lowering.analysis.evaluate import evaluate_expr
        c = self._compile()
        env = self._query_env(c, outs)
        key = tuple(sorted((id(k), v) for k, v in env.items()))
        want_cache = c.query_cache
        result = list(outs)
        i = 0
        for fn in c.outputs:
            box = c.regions.get(fn.sym)
            n = len(fn.output_types)
            if box is not None and outs[i].dimensions():
                if (key, i) not in want_cache:
                    if len(want_cache) > 256:
                        want_cache.clear()
                    try:
                        want_cache[key, i] = [(int(evaluate_expr(iv.min, env)),
                                               int(evaluate_expr(iv.max, env))) for iv in box]
                    except Exception:        # a bound that depends on data: no growth
                        want_cache[key, i] = None
                want = want_cache[key, i]
                first = outs[i]
                if want is not None:
                    lo = [min(w[0], first.dim(d).min()) for d, w in enumerate(want)]
                    hi = [max(w[1], first.dim(d).max()) for d, w in enumerate(want)]
                    if any(l < first.dim(d).min() or h > first.dim(d).max()
                           for d, (l, h) in enumerate(zip(lo, hi))):
                        for k in range(i, i + n):
                            big = Buffer(outs[k].type(), [h - l + 1 for l, h in zip(lo, hi)])
                            big.set_min(lo)
                            view = tuple(slice(first.dim(d).min() - lo[d],
                                               first.dim(d).max() - lo[d] + 1)
                                         for d in reversed(range(len(lo))))
                            outs[k]._array = big._array[view]
                            result[k] = big
            i += n
        grows = c.growth_by_sizes if c.fast_grow else None
        if grows is not None:
            # realize(sizes) of these sizes can take the short path from now on
            # if no output grew (see `_known_not_to_grow`).
            if len(grows) > 256:
                grows.clear()
            grows[tuple(outs[0].dim(d).extent() for d in range(outs[0].dimensions()))] = \
                any(r is not o for r, o in zip(result, outs))
        return result

    @staticmethod
    def _query_env(c, outs) -> dict:
        from pipelang.lowering.names import buffer as buffer_of
        env = {}

        def add(sym, buf):
            # (Buffer.dim(d)'s figures, read without making a Dimension each.)
            arr, mins = buf._array, buf._mins
            if arr is None:
                return
            n, size = arr.ndim, arr.itemsize
            for d in range(n):
                env[ir.buffer_min(sym, d)] = mins[d]
                env[ir.buffer_extent(sym, d)] = arr.shape[n - 1 - d]
                env[ir.buffer_stride(sym, d)] = arr.strides[n - 1 - d] // size
        i = 0
        for fn in c.outputs:
            for k in range(len(fn.output_types)):
                add(buffer_of(fn, k), outs[i])
                i += 1
        for sym, owner in c.arguments.inputs.items():
            buf = owner if isinstance(owner, Buffer) else owner.get()
            if buf is not None:
                add(sym, buf)
        for sym, p in c.arguments.params.items():
            env[sym] = p.get()
        return env

    def _run(self, outs: list) -> None:
        c = self._compile()
        if c.device is not None:
            c.device.run(c, outs)
            return
        address = c.packer.pack(c.values(outs))
        if (c.traced or c.prints) and sys.stdout is not sys.__stdout__:
            from pipelang.backends.llvm.printing import c_stdout_to_python
            with c_stdout_to_python():
                self._call(c, address, outs)
        else:
            self._call(c, address, outs)

    def _call(self, c, address, outs) -> None:
        if c.traced:
            self._traced_call(c, address, outs)
        else:
            c.jit.call_ptr(address)

    def _traced_call(self, c, address, outs) -> None:
        """Halide's pipeline trace lines around a call whose Funcs print their stores."""
        from pipelang.lowering.analysis.evaluate import evaluate_expr
        name = c.outputs[0].name.replace("$", "_")
        print(f"Begin pipeline {name}.0()")
        env = self._query_env(c, outs)
        codes = {"int": 0, "uint": 1, "float": 2, "handle": 3}
        for fn in c.traced:
            types = " ".join(f"{codes[t.code().value]} {t.bits()} {t.lanes()}" for t in fn.output_types)
            box = c.regions.get(fn.sym) or []
            try:
                dims = " ".join(f"{int(evaluate_expr(iv.min, env))} "
                                f"{int(evaluate_expr(iv.max, env)) - int(evaluate_expr(iv.min, env)) + 1}"
                                for iv in box)
            except Exception:
                dims = ""
            tag = f"{len(fn.output_types)} {types} {len(fn.args)}" + (f" {dims}" if dims else "")
            print(f'Tag {fn.name}.0() tag = "func_type_and_dim: {tag}"')
        sys.stdout.flush()
        try:
            c.jit.call_ptr(address)
        finally:
            print(f"End pipeline {name}.0()", flush=True)


def _instrument() -> None:
    # Errors at the user's line (pipelang/user_frames.py): notes naming where the
    # Funcs were defined and scheduled, tracebacks trimmed; nothing on success.
    # (realize has the try inline: no extra call on its fast path.)
    from pipelang import user_frames
    names = [n for n in vars(Pipeline) if n.startswith("compile_to")] + [
        "compile_jit", "infer_input_bounds", "infer_arguments", "print_loop_nest",
        "apply_autoscheduler", "lowered_stmt"]
    user_frames.instrument(Pipeline, (), names, roots=lambda p: p._funcs)


_instrument()
