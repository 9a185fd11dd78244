"""THE lowering pipeline: algorithm + schedule -> a `LoweredFunc`.

Read this first. Each step is one pass module; `run` owns logging (set
`PIPELANG_LOG_LOWERING=1`, or pass `log=print`), timing and the
"(unchanged)" note, so the passes do none of it. Order matters as in
Halide's Lower.cpp; the comments say why.
"""
from __future__ import annotations

import contextlib
import gc
import os
import time

from pipelang import ir
from pipelang._compiled import deep_stack
from pipelang.errors import CompileError
from pipelang.function import registry
from pipelang.lowering.analysis.arguments import find_arguments
from pipelang.lowering.analysis.boxes import boxes_touched
from pipelang.lowering.analysis.environment import find_environment
from pipelang.lowering.bounds_inference import infer_bounds
from pipelang.lowering.compute_with import fuse_compute_with
from pipelang.lowering.fused_groups import check_fused_groups
from pipelang.lowering.embed_buffers import embed_buffer_shapes
from pipelang.lowering.entry_checks import add_entry_checks
from pipelang.lowering.gpu_emulate import emulate_gpu_kernels
from pipelang.lowering.gpu_fuse_thread_loops import fuse_gpu_thread_loops
from pipelang.lowering.gpu_loops import check_gpu_loops
from pipelang.lowering.gpu_offload import offload_gpu_loops
from pipelang.lowering.hoist_prefetches import hoist_prefetches
from pipelang.lowering.hoist_storage import hoist_storage
from pipelang.lowering.interleave import rewrite_interleavings
from pipelang.lowering.memoization import inject_memoization
from pipelang.lowering.partition_loops import partition_loops
from pipelang.lowering.prefetch import inject_prefetch
from pipelang.lowering.schedule_functions import schedule_functions
from pipelang.lowering.simplify import simplify
from pipelang.lowering.simplify_exprs import clear_unscoped_memo
from pipelang.lowering.sliding_window import sliding_window
from pipelang.lowering.storage_flattening import flatten_storage, strip_producer_consumer
from pipelang.lowering.storage_folding import fold_storage
from pipelang.lowering.tracing import inject_tracing
from pipelang.lowering.unroll_loops import unroll_loops
from pipelang.lowering.unswitch_loops import unswitch_loops
from pipelang.lowering.vectorize_loops import vectorize_loops
from pipelang.lowering.wrap_calls import wrap_calls


class _Runner:
    def __init__(self, log):
        self.log = log
        self.timings: list = []

    def __call__(self, name, pass_fn, *args):
        # Processor time: the breakdown stays meaningful on a loaded machine.
        t0 = time.process_time()
        out = pass_fn(*args)
        self.timings.append((name, time.process_time() - t0))
        if self.log:
            text = "(unchanged)\n" if args and out is args[0] else ir.to_string(out)
            self.log(f"-- after {name}:\n{text}")
        return out


@contextlib.contextmanager
def gc_paused():
    """Python's cycle collector paused for the duration: lowering here, and
    the whole compile (code generation and LLVM too) in `Pipeline`.
    Lowering allocates millions of short-lived, acyclic IR nodes (reference
    counting frees them); each few hundred allocations would start a
    collection that walks the young objects, and now and then all of them:
    a tenth of lowering's time, 3-6% of a deep pipeline's whole compile.
    Cycles made meanwhile wait for the next collection after it. (Already
    paused -- by an enclosing compile or another thread's -- it is left
    as it is.)"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@deep_stack
def lower_to_loop_nest(outputs: list, log=None):
    """The first half of lowering: loops placed and bounded, storage still
    multi-dimensional. `print_loop_nest` and `lower` both start here."""
    with gc_paused():
        try:
            return _lower_to_loop_nest(outputs, log)
        finally:
            clear_unscoped_memo()


def _lower_to_loop_nest(outputs: list, log=None):
    run = _Runner(log or (print if os.environ.get("PIPELANG_LOG_LOWERING") else None))
    # First: the rest of lowering sees consumers that call their wrappers.
    outputs, functions = wrap_calls(outputs, registry)
    env, order = find_environment(outputs, functions)
    # compute_with: checked, and each fused group's Funcs made adjacent in
    # the order, so loop synthesis computes them one right after the other.
    order, _ = check_fused_groups(env, outputs, order)
    args = find_arguments(env, outputs)
    s = run("schedule_functions", schedule_functions, outputs, env, order)
    # Bounds inference needs every loop in place, and must precede sliding
    # window, which rewrites the regions it defines.
    s = run("bounds_inference", infer_bounds, s, env, outputs, order)
    return s, env, order, args, run, outputs


def cuda_emulated() -> bool:
    """`PIPELANG_CUDA_EMULATE=1`: run a cuda target's kernels on the CPU (a debugging aid)."""
    return os.environ.get("PIPELANG_CUDA_EMULATE", "") not in ("", "0")


def _uses_gpu(env) -> bool:
    return any(d.kind.is_gpu() for fn in env.values() if fn.defined()
               for st in fn.stages() for d in st.schedule.dims)


@deep_stack
def lower(outputs: list, name: str = "pipeline", log=None, target=None,
          emulate_gpu: bool | None = None) -> tuple:
    """(LoweredFunc, Arguments, output regions, [(pass name, seconds)]).

    For a `cuda` target the GPU passes run too: GPU loops are checked, each
    kernel's thread loops fused (barriers, shared memory), and the kernels
    then either outlined into `KernelLaunch`es for the CUDA runtime or, with
    `PIPELANG_CUDA_EMULATE=1`, turned into CPU loops for the LLVM backend.

    The output regions are, per output, the Intervals it writes in terms of
    its buffer's min and extent: `realize(sizes)` evaluates them to grow an
    output that a RoundUp or ShiftInwards split writes beyond (Halide's
    bounds query)."""
    with gc_paused():
        try:
            return _lower(outputs, name, log, target, emulate_gpu)
        finally:
            clear_unscoped_memo()


def _lower(outputs, name, log, target, emulate_gpu) -> tuple:
    s, env, order, args, run, outputs = _lower_to_loop_nest(outputs, log)
    # One walk of the whole pipeline gives what it touches of the inputs and
    # outputs (and traced Funcs): for the entry checks, and for realize(sizes)'s
    # bounds query and tracing. Only those: boxes of every intermediate Func
    # would cost more than all the rest of lowering.
    wanted = list(args.inputs) + [o.sym for o in outputs] + [
        fn.sym for fn in env.values()
        if fn.schedule.trace_stores or fn.schedule.trace_loads or fn.schedule.trace_realizations]
    t0 = time.process_time()
    regions = boxes_touched(s, wanted, calls=True, provides=True)
    run.timings.append(("regions", time.process_time() - t0))
    # Constraint checks go after the entry checks, as in Halide (bounds first).
    s = run("buffer_constraints", _add_constraint_checks, s, args.inputs, outputs)
    s = run("entry_checks", add_entry_checks, s, regions, outputs, args.input_dims())
    s = run("tracing", inject_tracing, s, env)
    s = run("sliding_window", sliding_window, s, env)
    # Folding reads the region lets that sliding window wrote, before the
    # simplifier inlines the simple ones away.
    s = run("storage_folding", fold_storage, s, env)
    # Where Halide injects prefetches: loops, regions and storage (folded
    # too) are final; before flattening, which addresses them as it does
    # Calls. (The entry checks above are taken without them: a NonFaulting
    # prefetch may reach outside an input, which asks nothing of it.)
    s = run("prefetch", inject_prefetch, s, env, outputs, args.inputs)
    # compute_with merges the loop nests of each fused group; everything
    # before it treats the group's Funcs as computed one after the other.
    s = run("compute_with", fuse_compute_with, s, env, order, outputs)
    s = run("simplify", simplify, s)
    # Memoization keys on the simplified Realize bounds of each memoized Func.
    s = run("memoization", inject_memoization, s, env, outputs)
    s = run("storage_flattening", flatten_storage, s, env, outputs, args.strided_buffers(),
            _constrained_values(args.inputs, outputs))
    # Hoisting moves allocations to loops or produce nodes, so markers must remain.
    s = run("hoist_storage", hoist_storage, s, env)
    s = run("strip_producer_consumer", strip_producer_consumer, s)
    # After flattening, which writes loads' indices from the buffers' fields;
    # before the simplifier that folds the constants it puts there.
    s = run("embed_buffer_shapes", embed_buffer_shapes, s, args.inputs)
    # Vectorization needs constant loop extents, which simplification exposes.
    s = run("simplify", simplify, s)
    gpu = target is not None and target.has_feature("cuda")
    if gpu or _uses_gpu(env):
        # Before vectorization: a vectorized loop inside a kernel is an error
        # that names the user's loop.
        s = run("gpu_check_loops", check_gpu_loops, s, target if target is not None else _host())
    s = run("vectorize_loops", vectorize_loops, s)
    s = run("unroll_loops", unroll_loops, s)
    # After vectorization (which makes the ramps it looks for), before the
    # simplifier that folds each deinterleaved part's `ramp % k` and `ramp / k`.
    s = run("rewrite_interleavings", rewrite_interleavings, s)
    s = run("simplify", simplify, s)
    # Last: partitioning duplicates loop bodies, so it comes after everything
    # that rewrites them.
    s = run("partition_loops", partition_loops, s, *_partition_policies(env))
    if not gpu:
        # After partitioning: tail guards that a loop doesn't change leave it,
        # so the steady state of a register-tiled reduction has no branch.
        s = run("unswitch_loops", unswitch_loops, s)
        # Last of the loop rewrites, as in Halide: the prefetches of unrolled
        # copies go ahead of the copies' work.
        s = run("hoist_prefetches", hoist_prefetches, s)
    if gpu:
        # After every pass that duplicates or rewrites loop bodies: fusion
        # places barriers, which must stay at block level.
        s = run("gpu_fuse_thread_loops", fuse_gpu_thread_loops, s)
        if cuda_emulated() if emulate_gpu is None else emulate_gpu:
            s = run("gpu_emulate", emulate_gpu_kernels, s)
        else:
            s = run("gpu_offload", offload_gpu_loops, s)
    lowered = ir.LoweredFunc(name, args.lowered_arguments(), s)
    _check_closed(lowered)
    return lowered, args, regions, run.timings


def _host():
    from pipelang.target import get_host_target
    return get_host_target()


def _constrained_values(inputs, outputs) -> dict:
    from pipelang.constraints import constrained_values
    return constrained_values(inputs, outputs)


def _add_constraint_checks(s, inputs, outputs):
    """dim(i).set_min/extent/stride of inputs and output buffers, checked on
    entry; past the checks the body uses the constrained values (a constant
    stride or extent is then a constant to vectorization and unrolling)."""
    from pipelang.constraints import constrained_values, constraint_checks
    checks = constraint_checks(inputs, outputs)
    s = ir.substitute(constrained_values(inputs, outputs), s)
    return ir.block(*checks, s) if checks else s


def _check_closed(lowered) -> None:
    unbound = ir.unbound_symbols(lowered.body)
    known = set()
    for a in lowered.args:
        known.add(a.sym)
        if a.kind is ir.ArgKind.BUFFER:
            known.add(ir.buffer_host(a.sym))
            for d in range(a.dimensions):
                known |= {ir.buffer_min(a.sym, d), ir.buffer_extent(a.sym, d), ir.buffer_stride(a.sym, d)}
    free = unbound - known
    if free:
        raise CompileError("Internal error: lowered pipeline uses undefined variables: "
                           + ", ".join(sorted(s.name for s in free)))


def _partition_policies(env) -> tuple:
    """The loop symbols scheduled Partition.Never and Partition.Always."""
    from pipelang.lowering import names
    from pipelang.schedule import Partition
    never, always = set(), set()
    for fn in (env.values() if isinstance(env, dict) else env):
        for k, stage in enumerate(fn.stages()):
            for d in stage.schedule.dims:
                if d.partition is not Partition.Auto:
                    (never if d.partition is Partition.Never else always).add(names.loop(fn, k, d.var))
    return frozenset(never), frozenset(always)
