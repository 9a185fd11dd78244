"""Differential testing: generated pipeline x generated schedules, compiled by
the module under test, against the reference evaluator (and against real
Halide when it is installed).  Failures are minimized by greedy delta
debugging of the description and the schedule, then written out as a
regression test under tests/fuzz/regressions/.

Tolerance: integer outputs must be bit-exact.  Float outputs must be
bit-exact where the description's analysis proves every float operation
exact; otherwise |got - ref| <= 4 * err + 1e-6 * |ref|, with err the
analysis' propagated absolute error bound for the output.

    failures = run(hl, seeds=range(50), schedules_per_program=3)
"""
from __future__ import annotations

import os
import random
import re
import time
from dataclasses import dataclass, replace

import numpy as np

from . import desc as D
from .analysis import analyze_pipeline
from .printer import build, pipeline_source, realize
from .random_pipeline import prune, random_pipeline
from .random_schedule import (
    ComputeAt, ComputeWith, Fuse, LoopKind, Reorder, Schedule, Split, StoreAt, Tile, random_schedule,
    schedule_source,
)
from .reference import ReferenceError, evaluate


@dataclass
class Failure:
    kind: str  # "mismatch", "error", or "reference" (real Halide disagrees with it too)
    detail: str
    desc: D.PipelineDesc
    schedule: Schedule
    seed: int = -1

    @property
    def signature(self) -> tuple:
        """What a minimized variant must still show: the exception type and
        message with names and numbers blotted out, or just "mismatch"."""
        if self.kind != "error":
            return (self.kind, "")
        first = (self.detail.splitlines() or [""])[0]
        return (self.kind, re.sub(r"[\w$.]*\d[\w$.]*|\"[^\"]*\"", "#", first)[:80])


def tolerance(desc: D.PipelineDesc) -> float:
    ok, env = analyze_pipeline(desc)
    return env[desc.output.name].err


def outputs_match(got: np.ndarray, ref: np.ndarray, err: float) -> bool:
    if got.shape != ref.shape or got.dtype != ref.dtype:
        return False
    if ref.dtype.kind != "f":
        return np.array_equal(got, ref)
    if err == 0:
        return np.array_equal(got, ref, equal_nan=True)
    return bool(np.all(np.abs(got.astype(np.float64) - ref) <= 4 * err + 1e-6 * np.abs(ref)))


def run_one(hl, desc, schedule, ref=None) -> Failure | None:
    """Compiles and runs one program under one schedule with module hl."""
    if ref is None:
        ref = evaluate(desc)
    try:
        got = realize(hl, desc, build(desc, hl, schedule_source(schedule)))
    except Exception as e:  # the module under test raised: record its message
        return Failure("error", f"{type(e).__name__}: {str(e).strip()[:500]}", desc, schedule)
    if not outputs_match(got, ref, tolerance(desc)):
        bad = np.argwhere(got != ref) if got.shape == ref.shape else []
        where = ""
        if len(bad):
            i = tuple(bad[0])
            pt = (int(i[0]) + desc.out_min[0], int(i[1]) + desc.out_min[1])
            where = f" at (x, y) = {pt}: got {got[i].item()!r}, expected {ref[i].item()!r}"
        return Failure("mismatch", f"{got.dtype} vs {ref.dtype}{where}", desc, schedule)
    return None


def run(hl, seeds, schedules_per_program: int = 3, minimize_failures: bool = True,
        regression_dir: str | None = None, oracle=None, minimize_budget_s: float = 120.0) -> list:
    """Runs every seed's program under its default schedule plus
    `schedules_per_program - 1` random ones; returns the failures, minimized
    while `minimize_budget_s` (for the whole call) lasts."""
    failures = []
    deadline = time.monotonic() + minimize_budget_s
    for seed in seeds:
        desc = random_pipeline(seed)
        ref = evaluate(desc)
        for k in range(schedules_per_program):
            sched = Schedule(()) if k == 0 else random_schedule(desc, seed * 1000 + k)
            f = run_one(hl, desc, sched, ref)
            if f is None:
                continue
            f.seed = seed
            if oracle is not None:
                o = run_one(oracle, desc, sched, ref)
                if o is not None:  # real Halide disagrees too: suspect the reference
                    f.kind = "reference"
                    f.detail += f" [real Halide also fails: {o.kind}: {o.detail[:200]}]"
                    failures.append(f)
                    break
            left = deadline - time.monotonic()
            if minimize_failures and left > 0:
                f = minimize(hl, f, oracle=oracle, time_budget_s=min(30.0, left))
            if regression_dir is not None:
                write_regression(f, regression_dir, hl.__name__)
            failures.append(f)
            break  # one failure per program is enough
    return failures


# ---------------------------------------------------------------- minimizer


def _still_valid(desc) -> bool:
    try:
        ok, _ = analyze_pipeline(desc)
        if not ok:
            return False
        evaluate(desc)
        return True
    except (ReferenceError, KeyError):  # a cut left a dangling or ill-formed program
        return False


def _restrict_schedule(sched: Schedule, desc) -> Schedule:
    names = {s.name for s in desc.stages}
    nstages = {s.name: len(s.updates) + 1 for s in desc.stages if isinstance(s, D.Stage)}
    keep = []
    for d in sched.directives:
        if d.func not in names:
            continue
        if getattr(d, "stage", 0) and isinstance(d, (Split, Reorder, Fuse, Tile, LoopKind)) \
                and d.stage >= nstages.get(d.func, 1):
            continue
        if isinstance(d, (ComputeAt, StoreAt)) and (d.at not in names or d.stage >= nstages.get(d.at, 1)):
            continue
        if isinstance(d, ComputeWith) and d.parent not in names:
            continue
        keep.append(d)
    return Schedule(tuple(keep))


def _pipeline_candidates(desc: D.PipelineDesc):
    """Smaller variants of desc, roughly biggest cuts first."""
    stages = desc.stages
    for k in range(len(stages) - 1):  # make an earlier Stage the output
        if isinstance(stages[k], D.Stage) and not stages[k].is_tuple \
                and all(u.lhs == (D.Var("x"), D.Var("y")) for u in stages[k].updates):
            yield prune(replace(desc, stages=stages[:k + 1]))
    for i, s in enumerate(stages):
        if isinstance(s, D.Stage) and s.updates:
            yield replace(desc, stages=stages[:i] + (replace(s, updates=s.updates[:-1]),) + stages[i + 1:])
    for i, s in enumerate(stages):
        if not isinstance(s, D.Stage):
            continue
        for field in ["value"] + [f"u{k}" for k in range(len(s.updates))]:
            root = s.value if field == "value" else s.updates[int(field[1:])].term
            for node in D.walk(root):
                for new in _simpler(node):
                    e = D.substitute(root, node, new)
                    if field == "value":
                        ns = replace(s, value=e)
                    else:
                        k = int(field[1:])
                        ups = list(s.updates)
                        ups[k] = replace(ups[k], term=e)
                        ns = replace(s, updates=tuple(ups))
                    yield prune(replace(desc, stages=stages[:i] + (ns,) + stages[i + 1:]))
    w, h = desc.out_size
    for size in [(1, 1), (max(w // 2, 1), h), (w, max(h // 2, 1))]:
        if size != (w, h):
            yield replace(desc, out_size=size)
    if desc.out_min != (0, 0):
        yield replace(desc, out_min=(0, 0))


def _simpler(node):
    if isinstance(node, D.Const):
        return
    t = node.ty
    if not t.is_bool:
        yield D.Const(t, 0.0 if t.is_float else 0)
    for c in D.children(node):
        if c.ty == t and not isinstance(node, D.Call):
            yield c


def _size(desc, sched) -> int:
    return sum(sum(1 for e in D.stage_exprs(s) for _ in D.walk(e)) + 1 for s in desc.stages) \
        + 3 * len(sched.directives) + desc.out_size[0] * desc.out_size[1] // 8 \
        + (desc.out_min != (0, 0))


def minimize(hl, failure: Failure, oracle=None, budget: int = 300,
             time_budget_s: float = 30.0) -> Failure:
    """Greedy delta debugging.  A candidate counts when it fails with the same
    signature under `hl` and, if an `oracle` module is given (real Halide),
    passes under the oracle, so the minimized program stays legal."""
    best = failure
    tries = 0
    deadline = time.monotonic() + time_budget_s

    def reproduces(desc, sched):
        nonlocal tries
        tries += 1
        if not _still_valid(desc):
            return None
        ref = evaluate(desc)
        if oracle is not None and run_one(oracle, desc, sched, ref) is not None:
            return None
        f = run_one(hl, desc, sched, ref)
        if f is not None and f.signature == failure.signature:
            return f
        return None

    improved = True
    while improved and tries < budget and time.monotonic() < deadline:
        improved = False
        # Schedule: drop directives one at a time.
        for i in range(len(best.schedule.directives)):
            ds = best.schedule.directives
            if i >= len(ds) or tries >= budget or time.monotonic() > deadline:
                break
            cand = Schedule(ds[:i] + ds[i + 1:])
            f = reproduces(best.desc, cand)
            if f is not None:
                best, improved = replace(f, seed=failure.seed), True
        for cand_desc in _pipeline_candidates(best.desc):
            if tries >= budget or time.monotonic() > deadline:
                break
            sched = _restrict_schedule(best.schedule, cand_desc)
            if _size(cand_desc, sched) >= _size(best.desc, best.schedule):
                continue
            f = reproduces(cand_desc, sched)
            if f is not None:
                best, improved = replace(f, seed=failure.seed), True
                break
    return best


# ------------------------------------------------------------- regressions


def regression_source(f: Failure) -> str:
    """A standalone pytest file: the minimized program with the reference's
    output as EXPECTED, run for every module under test (hl_module)."""
    ref = evaluate(f.desc)
    body = pipeline_source(f.desc) + schedule_source(f.schedule) + [
        f"out = hl.Buffer({f.desc.output.ty.type_source()}, {list(f.desc.out_size)})",
        f"out.set_min({list(f.desc.out_min)})",
        f"{f.desc.output.name}.realize(out)",
        "return np.asarray(out).T",
    ]
    detail = (f.detail.splitlines() or [""])[0][:200].replace("\\", "/").replace('"', "'")
    lines = [
        f'"""Minimized by pipelang.testing.differential from program seed {f.seed}.',
        f"Failure: {f.kind}: {detail}",
        "EXPECTED is the reference evaluator's output, indexed [x, y].",
        '"""',
        "import numpy as np",
        "",
        f"EXPECTED = np.array({ref.tolist()!r}, dtype=np.{ref.dtype.name})",
        f"TOLERANCE = {tolerance(f.desc)!r}",
        "",
        "",
        "def run(hl):",
        *("    " + line for line in body),
        "",
        "",
        "def test_regression(hl_module):",
        "    got = run(hl_module)",
        "    if TOLERANCE == 0:",
        "        np.testing.assert_array_equal(got, EXPECTED)",
        "    else:",
        "        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)",
        "",
    ]
    return "\n".join(lines)


def write_regression(f: Failure, directory: str, module_name: str) -> str:
    os.makedirs(directory, exist_ok=True)
    tag = f"{module_name}_{f.kind}_seed{f.seed}_{random.Random(repr(f.desc)).randrange(1 << 16):04x}"
    path = os.path.join(directory, f"test_{tag}.py")
    with open(path, "w") as fh:
        fh.write(regression_source(f))
    return path
