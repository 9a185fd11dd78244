"""pipelang's autoscheduler: schedules a pipeline from its algorithm and the
estimated sizes of its outputs and inputs.

    out.set_estimates([hl.Range(0, 1536), hl.Range(0, 2560)])
    result = hl.Pipeline(out).apply_autoscheduler(
        hl.get_host_target(), hl.AutoschedulerParams("Adams2019", {"parallelism": 2}))
    print(result.schedule_source)          # a module defining apply_schedule(pipeline)

It never fails on a valid algorithm: every candidate is compiled and checked
before it is applied; a failing one falls back to the next, then to the greedy
baseline, then to the default schedule, each with a warning.
"""
from __future__ import annotations

import time
import warnings

from autoscheduler.params import AutoschedulerError, Params, parse_params
from autoscheduler.plan import apply_source, funcs_by_name, render, reset_schedules

__all__ = ["apply_autoscheduler", "autoschedule", "funcs_by_name", "AutoschedulerError", "Params"]


class AutoscheduleWarning(UserWarning):
    """A candidate schedule was rejected and a fallback used."""


def _has_search() -> bool:
    import importlib.util
    return importlib.util.find_spec("autoscheduler.search") is not None


def _title(pipeline) -> str:
    return ", ".join(f.name() for f in pipeline.outputs())


def autoschedule(pipeline, target=None, params=None):
    """Search for a schedule; returns (source, report). The pipeline is left
    with the chosen schedule applied."""
    from autoscheduler.dag import DAG
    from autoscheduler.heuristic import heuristic_state
    from autoscheduler.space import build_plan
    from autoscheduler.validate import check
    p = parse_params(params)
    t0 = time.perf_counter()
    reset_schedules(pipeline)
    dag = DAG.build(pipeline, target, p.parallelism)          # user errors (estimates) raise
    if p.verbose:
        print(f"autoscheduler: {p.describe()}")
    report = {"params": p.describe(), "fallbacks": []}
    title = _title(pipeline)
    candidates = []          # (label, state, notes)
    if p.search == "beam" and _has_search():
        try:
            from autoscheduler.search import beam_search
            for state, cost in beam_search(dag, p, report):
                unrolled = _short_loops_unrolled(dag, state)
                if unrolled is not None:        # first: the search's answer, its short loops
                    candidates.append(("beam search", unrolled, cost))     # unrolled
                candidates.append(("beam search" + (" (short loops rolled)" if unrolled else ""),
                                   state, cost))
        except Exception as e:   # noqa: BLE001 - a search bug must not cost the user a schedule
            report["fallbacks"].append(f"beam search failed: {type(e).__name__}: {e}")
            warnings.warn(f"autoscheduler: beam search failed ({type(e).__name__}: {e}); "
                          f"using the greedy baseline", AutoscheduleWarning, stacklevel=2)
    try:
        candidates.append(("greedy baseline", heuristic_state(dag), None))
    except Exception as e:       # noqa: BLE001
        report["fallbacks"].append(f"baseline failed: {type(e).__name__}: {e}")
    if p.autotune_budget_s > 0 and candidates:
        from autoscheduler.autotune import autotune
        candidates = autotune(pipeline, dag, p, candidates, report) + candidates
    report["search_s"] = time.perf_counter() - t0
    seen = set()
    from autoscheduler.autotune import plan_for
    from autoscheduler.validate import probes
    probe_dags = probes(pipeline, dag)
    # Each state with fast tails, then with GuardWithIf everywhere (see space.Tails).
    tries = [(label + (" (GuardWithIf tails)" if safe else ""), state, cost, safe)
             for label, state, cost in candidates for safe in (False, True)]
    for label, state, cost, safe in tries:
        try:
            plan = plan_for(dag, state, safe)       # build_plan, plus an autotuned state's edits
            if plan.key() in seen:
                continue
            seen.add(plan.key())
            plan.notes = _notes(p, label, cost, report) + [
                "Tails: GuardWithIf (valid at any output size)." if safe else
                "Tails: ShiftInwards/RoundUp (valid for outputs at least as large as each split "
                "factor, as Halide's autoschedulers assume)."]
            source = render(plan, title)
            problem = _over_memory(dag, state, p) or check(pipeline, dag, source, p, probe_dags)
        except Exception as e:   # noqa: BLE001 - a bad candidate falls back
            problem = f"{type(e).__name__}: {e}"
            source = None
        if problem is None:                  # the winner stays applied
            report["chosen"] = label
            report["total_s"] = time.perf_counter() - t0
            return source, report
        report["fallbacks"].append(f"{label}: {problem}")
        warnings.warn(f"autoscheduler: the {label} schedule was rejected ({problem}); "
                      f"trying the next candidate", AutoscheduleWarning, stacklevel=2)
    reset_schedules(pipeline)
    report["chosen"] = "default"
    report["total_s"] = time.perf_counter() - t0
    from autoscheduler.plan import Plan
    warnings.warn("autoscheduler: every candidate was rejected; keeping the default schedule",
                  AutoscheduleWarning, stacklevel=2)
    return render(Plan(notes=["Every candidate failed its checks: the default schedule."]),
                  title), report


def _short_loops_unrolled(dag, state):
    """`state` with its short pure loops unrolled outside the vector
    (`autotune.short_loops_unrolled`), or None if it has none."""
    from autoscheduler.autotune import Tuned, plan_for, short_loops_unrolled
    try:
        edits = short_loops_unrolled(plan_for(dag, state), dag)
    except Exception:        # noqa: BLE001 - an unbuildable state is the checks' to reject
        return None
    return Tuned(state, tuple(edits)) if edits else None


def _over_memory(dag, state, p: Params) -> str | None:
    if p.memory_limit < 0:
        return None
    from autoscheduler.cost_model import CostModel
    need = CostModel(dag).allocated_bytes(state)
    if need > p.memory_limit:
        return f"allocates about {need:.0f} bytes, over memory_limit {p.memory_limit}"
    return None


def _notes(p: Params, label: str, cost, report) -> list:
    notes = [f"Chosen by: {label} ({p.name}; parallelism {p.parallelism})."]
    if cost is not None:
        notes.append(f"Predicted cost: {cost:.4g} (model units).")
    if "measured_ms" in report and label.startswith("autotun"):
        notes.append(f"Measured: {report['measured_ms']:.3f} ms.")
    return notes


def apply_autoscheduler(pipeline, target=None, params=None):
    """`Pipeline.apply_autoscheduler`: schedule, apply, return the results."""
    from pipelang.pipeline import AutoSchedulerResults, Pipeline
    if not isinstance(pipeline, Pipeline):
        pipeline = Pipeline(pipeline)
    p = parse_params(params)
    source, report = autoschedule(pipeline, target, p)
    if p.verbose:
        print(f"autoscheduler: chose {report['chosen']} in {report['total_s']:.2f} s")
    return AutoSchedulerResults(source, params if params is not None else p, target,
                                report=report)
