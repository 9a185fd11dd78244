"""Checks a candidate schedule before it is applied: it compiles, and at the
estimates it reads no input outside the region the algorithm itself needs (so
a tile's tail never reads past an image: Halide's harris failure, #5949).

The region check reads the compiled pipeline's per-buffer boxes (the ones its
entry checks assert) at the estimated output size, through the compiled
Pipeline's `lowered` (pipelang.ir), `regions` and `arguments` (no lowering
internals are imported).
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering.analysis import evaluate_expr

from autoscheduler.plan import apply_source, reset_schedules


def input_regions(dag) -> dict:
    """buffer Symbol -> [(lo, hi)] the algorithm reads at the estimates."""
    out: dict = {}
    for node in dag.nodes:
        for s in node.stages:
            box = {a: (lo, lo + e - 1) for a, (lo, e) in zip(node.args, node.region)}
            for sym in s.calls:
                if sym not in dag.inputs:
                    continue
                fp = dag.footprint(sym, s, box)
                if fp is None:
                    continue
                old = out.get(sym)
                out[sym] = fp if old is None else [
                    None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
                    for a, b in zip(old, fp)]
    return out


# The region check also runs at outputs this much larger than the estimates: an odd
# size no split factor divides, where a RoundUp tail would read past an input.
PROBE_GROW = 13


def probes(pipeline, dag) -> list:
    from autoscheduler.dag import DAG
    try:
        return [dag, DAG.build(pipeline, dag.target, dag.parallelism, grow=PROBE_GROW)]
    except Exception:                        # noqa: BLE001 - e.g. a bound that can't grow
        return [dag]


def check(pipeline, dag, source: str, params, probe_dags=None) -> str | None:
    """None if the schedule is good (it is left applied); otherwise why not."""
    try:
        apply_source(source, pipeline)
        compiled = pipeline._compile()       # the compiler's legality checks and codegen
    except Exception as e:                   # noqa: BLE001 - any failure rejects the candidate
        reset_schedules(pipeline)
        return f"does not compile: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    problem = None
    for d in probe_dags or [dag]:
        problem = problem or _regions_ok(d, compiled)
    if problem is not None:
        reset_schedules(pipeline)
    return problem


def _output_buffers(compiled) -> list:
    """The lowered pipeline's output buffer symbols, in order (buffer arguments that
    are not inputs), paired with their Funcs."""
    syms = [a.sym for a in compiled.lowered.args
            if a.kind is ir.ArgKind.BUFFER and a.sym not in compiled.arguments.inputs]
    fns = [fn for fn in compiled.outputs for _ in fn.output_types]
    return list(zip(fns, syms))


def _regions_ok(dag, compiled) -> str | None:
    """None if, at `dag`'s estimates, the compiled pipeline reads no input outside
    what the algorithm needs and writes each output only within its buffer."""
    env = dict(dag.env)
    need = input_regions(dag)
    for fn, b in _output_buffers(compiled):
        stride = 1
        need[b] = []
        for d, (lo, e) in enumerate(dag.by_sym[fn.sym].region):
            env[ir.buffer_min(b, d)] = lo
            env[ir.buffer_extent(b, d)] = e
            env[ir.buffer_stride(b, d)] = stride
            stride *= max(e, 1)
            need[b].append((lo, lo + e - 1))
    outputs = {b for _, b in _output_buffers(compiled)}
    for sym, box in compiled.regions.items():
        if sym not in need or box is None:
            continue
        for d, (iv, want) in enumerate(zip(box, need[sym])):
            if want is None or iv.min is None or iv.max is None:
                continue
            try:
                lo, hi = int(evaluate_expr(iv.min, env)), int(evaluate_expr(iv.max, env))
            except Exception:                # noqa: BLE001 - a bound reading data: can't check
                continue
            if lo < want[0] or hi > want[1]:
                size = "x".join(str(e) for _, e in dag.by_sym[compiled.outputs[0].sym].region)
                if sym in outputs:         # (a split's tail shifted past the output's min)
                    return (f"at output size {size} it writes output {sym.name} over [{lo}, {hi}] "
                            f"in dimension {d}, outside its buffer's [{want[0]}, {want[1]}]")
                return (f"at output size {size} it reads input {sym.name} over [{lo}, {hi}] in "
                        f"dimension {d}, outside the [{want[0]}, {want[1]}] the algorithm needs")
    return None
