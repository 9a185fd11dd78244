"""Autotuning: compile and time candidates for real, keep the fastest measured.

Within `autotune_budget_s`: first the search's best states and the baseline,
then mutations of the fastest so far (one Func's choice redrawn from its legal
options, the rest repaired), each compiled and run on inputs of the estimated
sizes (random data for unbound ImageParams, Params at their estimates). A
candidate that fails to compile or run is dropped. Progress goes to stderr on
a terminal (or with verbose).
"""
from __future__ import annotations

import random
import sys
import time

import numpy as np

from autoscheduler.plan import apply_source, render, reset_schedules


def _bind_inputs(dag):
    """Bind unbound ImageParams to random buffers at their estimates; returns an undo."""
    from pipelang.buffer import Buffer
    undo = []
    rng = np.random.default_rng(0)
    for sym, owner in dag.inputs.items():
        if isinstance(owner, Buffer) or owner.get() is not None:
            continue
        est = owner.estimates()
        shape = [e for _, e in est]
        t = owner.type()
        arr = rng.integers(0, 100, size=tuple(reversed(shape))).astype(t.numpy_dtype()) \
            if not t.is_float() else rng.random(tuple(reversed(shape))).astype(t.numpy_dtype())
        buf = Buffer(arr)
        buf.set_min([lo for lo, _ in est])
        owner.set(buf)
        undo.append(owner)
    return lambda: [o.reset() for o in undo]


def _outputs(dag):
    from pipelang.buffer import Buffer
    bufs = []
    for fn in dag.output_fns:
        node = dag.by_sym[fn.sym]
        for t in fn.output_types:
            b = Buffer(t, [e for _, e in node.region])
            b.set_min([lo for lo, _ in node.region])
            bufs.append(b)
    return bufs


def measure(pipeline, dag, source: str | None, budget_s: float = 0.3) -> float:
    """Best-of-runs milliseconds of `source` applied to `pipeline` (None: the schedule
    already applied); raises if it fails."""
    if source is not None:
        apply_source(source, pipeline)
    outs = _outputs(dag)
    pipeline.realize(outs)                    # compiles, warms up
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget_s and len(times) < 20):
        t0 = time.perf_counter()
        pipeline.realize(outs)
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def autotune(pipeline, dag, params, candidates, report) -> list:
    """[("autotuned", state, predicted cost)] for the fastest measured state (or [])."""
    from autoscheduler.cost_model import CostModel, load_model
    from autoscheduler.search import complete, options
    from autoscheduler.space import build_plan
    start = time.perf_counter()
    deadline = start + params.autotune_budget_s
    # The last part of the budget re-times the fastest few (`_confirm`).
    explore_until = start + 0.85 * params.autotune_budget_s
    show = params.verbose or sys.stderr.isatty()
    rng = random.Random(params.seed)
    model = CostModel(dag, load_model(params.weights), params)
    from autoscheduler.validate import check, probes
    probe_dags = probes(pipeline, dag)
    undo = _bind_inputs(dag)
    measured: dict = {}                        # plan key -> (ms, state)
    title = ", ".join(fn.name for fn in dag.output_fns)

    def try_state(state, label):
        try:
            plans = [build_plan(dag, state, safe) for safe in (False, True)]
        except Exception:                      # noqa: BLE001 - an illegal mutation
            return
        key = plans[0].key()
        if key in measured:
            return
        try:
            for plan in plans:                 # fast tails, unless they read past an input
                problem = check(pipeline, dag, render(plan, title), params, probe_dags)
                if problem is None:
                    break
            if problem is not None:
                raise RuntimeError(problem)
            ms = measure(pipeline, dag, None)
        except Exception as e:                 # noqa: BLE001 - a failing candidate is dropped
            measured[key] = (float("inf"), state)
            if show:
                print(f"autotune: {label}: failed ({type(e).__name__})", file=sys.stderr)
            return
        measured[key] = (ms, state)
        if show:
            best = min(v[0] for v in measured.values())
            print(f"autotune: {len(measured):3d} {label:14s} {ms:9.3f} ms  "
                  f"(predicted {model.cost(state):.3g}; best {best:.3f} ms)", file=sys.stderr)

    try:
        for label, state, _ in candidates:
            if time.perf_counter() > explore_until:
                break
            try_state(state, label)
        default = candidates[-1][1]
        while time.perf_counter() < explore_until and measured:
            ranked = sorted((v for v in measured.values() if v[0] < float("inf")),
                            key=lambda v: v[0])
            if not ranked:
                break
            base = ranked[0][1] if rng.random() < 0.8 or len(ranked) == 1 else \
                ranked[rng.randrange(1, min(4, len(ranked)))][1]
            node = rng.choice(dag.nodes)
            decided = {n.name: base[n.name] for n in reversed(dag.nodes)
                       if n is not node and _decided_before(dag, n, node)}
            opts = options(dag, decided, node)
            if not opts:
                continue
            decided[node.name] = rng.choice(opts)
            rest = {n.name: base[n.name] for n in dag.nodes if n.name not in decided}
            try_state(complete(dag, decided, {**default, **rest}), "mutation")
        _confirm(pipeline, dag, params, measured, title, check, probe_dags, deadline)
    finally:
        undo()
        reset_schedules(pipeline)
    ok = sorted((v for v in measured.values() if v[0] < float("inf")), key=lambda v: v[0])
    report["autotune_measured"] = len(measured)
    if not ok:
        return []
    report["measured_ms"] = ok[0][0]
    return [("autotuned", st, model.cost(st)) for _, st in ok[:3]]


def _confirm(pipeline, dag, params, measured, title, check, probe_dags, deadline) -> None:
    """Timing on a shared machine is noisy: time the four fastest twice more in
    alternating rounds (while the budget lasts) and rank them by their median, so
    one lucky run doesn't win."""
    from autoscheduler.space import build_plan
    top = sorted(((k, v) for k, v in measured.items() if v[0] < float("inf")),
                 key=lambda kv: kv[1][0])[:4]
    if len(top) < 2:
        return
    sources, times = {}, {}
    for key, (ms, state) in top:
        for safe in (False, True):
            src = render(build_plan(dag, state, safe), title)
            if check(pipeline, dag, src, params, probe_dags) is None:
                sources[key], times[key] = src, [ms]
                break
    for _ in range(2):
        for key, src in sources.items():
            if time.perf_counter() > deadline:
                break
            try:
                times[key].append(measure(pipeline, dag, src))
            except Exception:              # noqa: BLE001 - it ran before; keep its times
                pass
    for key, ts in times.items():
        measured[key] = (sorted(ts)[(len(ts) - 1) // 2], measured[key][1])


def _decided_before(dag, n, node) -> bool:
    """Consumers are decided first: `n` comes before `node` in that order."""
    order = [x.name for x in reversed(dag.nodes)]
    return order.index(n.name) < order.index(node.name)
