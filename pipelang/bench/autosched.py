"""Autoscheduled vs hand-scheduled, side by side, in one run.

For every benchmark of the suite: pipelang with the suite's hand schedule;
pipelang autoscheduled (the algorithm with its schedule removed, estimates at
the benchmark's size); and, where real Halide is installed, Halide's own
Adams2019 and Mullapudi2016 on the same algorithm (each in a child process,
with a time limit, since Adams2019 can search for minutes).

    python -m pipelang.bench.autosched --size small
    python -m pipelang.bench.autosched --size small --autotune 300 --benchmarks matmul

The autotuning table (hand, autoscheduled without tuning, autotuned; one record
per benchmark) runs resumably, in chunks across sessions: each finished
benchmark is appended to FILE at once, and benchmarks already in FILE (same
size and budget) are skipped:

    nice python -m pipelang.bench.autosched --size full --autotune 300 \
        --resume pipelang/bench/results/autotune_full_300.json --benchmarks hist,iir_blur
    python -m pipelang.bench.autosched --summary pipelang/bench/results/autotune_full_300.json
    python -m pipelang.bench.autosched --retime pipelang/bench/results/autotune_full_300.json

`--redo` (with `--resume`) runs the named benchmarks again even if FILE has
them, replacing their records (e.g. one recorded before a fix):

    nice python -m pipelang.bench.autosched --size full --autotune 300 \
        --resume pipelang/bench/results/autotune_full_300.json --redo --benchmarks local_laplacian

A record holds the benchmark, size, budget, hand / auto / tuned ms (timed in
alternating rounds in one process), the candidates the tuner timed, the
machine's load average before and after, the commit, and the tuned schedule's
source (`--retime` applies it to the bare algorithm again and times it beside
the hand schedule).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import multiprocessing as mp
import os
import time
import warnings

import numpy as np

from . import suite
from .runner import _agreement, time_runs

HALIDE_AUTOSCHEDULERS = ("Adams2019", "Mullapudi2016")


class _Sink:
    """Swallows a chain of scheduling calls (Stage.split(...).parallel(...))."""

    def __getattr__(self, name):
        return lambda *a, **k: self


_SCHEDULING = ("split fuse tile reorder vectorize unroll parallel compute_at store_at compute_root "
               "store_root compute_inline update rename serial bound bound_extent reorder_storage "
               "fold_storage hoist_storage_root in_ clone_in").split()


def unscheduled_module(hl, ignore_schedules: bool = True):
    """`hl` whose Funcs ignore scheduling directives, so a suite build gives the bare
    algorithm, and whose ImageParams take estimates from the buffer bound to them (the
    autoschedulers need estimates on every input, as a user would set them)."""
    class Func(hl.Func):
        pass
    if ignore_schedules:
        for m in _SCHEDULING:
            setattr(Func, m, lambda self, *a, **k: _Sink())

    class ImageParam(hl.ImageParam):
        def set(self, buf):
            super().set(buf)
            self.set_estimates([hl.Range(buf.dim(d).min(), buf.dim(d).extent())
                                for d in range(buf.dimensions())])

    class Module:
        def __getattr__(self, name):
            return {"Func": Func, "ImageParam": ImageParam}.get(name) or getattr(hl, name)
    return Module()


def _estimate(hl, out, shape):
    out.set_estimates([hl.Range(0, int(s)) for s in shape])


def _time(pipeline, hl, ref, tolerance, reps, budget):
    out = np.empty_like(ref)
    buf = hl.Buffer(out)
    pipeline.realize(buf)
    err, tol = _agreement(out, ref, tolerance)
    if not err <= tol:
        return None, f"mismatch: max |out - ref| = {err:.3g} > {tol:.3g}"
    times = time_runs(lambda: pipeline.realize(buf), reps, budget)
    return min(times) * 1e3, ""


def _interleaved(runs: dict, rounds: int, reps: int, budget: float) -> dict:
    """Best ms of each run, timed in alternating rounds (a shared machine's load
    then weighs on every column alike)."""
    best = {k: float("inf") for k in runs}
    for _ in range(rounds):
        for k, run in runs.items():
            best[k] = min(best[k], min(time_runs(run, reps, budget)) * 1e3)
    return best


def run_pipelang(bench, size, params, reps, budget, hand: bool):
    import pipelang as hl
    from autoscheduler.plan import reset_schedules
    inputs = bench.inputs(size)
    ref = bench.reference(inputs)
    out = bench.build(hl if hand else unscheduled_module(hl), inputs)   # the bare algorithm, as Halide gets it
    p = hl.Pipeline(out)
    row = {}
    if not hand:
        reset_schedules(p)
        _estimate(hl, out, ref.shape[::-1])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = p.apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams("pipelang", params))
        row["search_s"] = time.perf_counter() - t0
        row["beam_search_s"] = r.report.get("search_time_s")     # the search alone
        row["chosen"] = r.report.get("chosen")
        row["fallbacks"] = r.report.get("fallbacks")
        row["source"] = r.schedule_source
        row["report"] = {k: r.report.get(k) for k in (
            "autotune_measured", "autotune_rejected", "autotune_by_kind", "autotune_s",
            "measured_ms", "autotune_edits") if k in r.report}
    t0 = time.perf_counter()
    p.compile_jit()
    row["compile_s"] = time.perf_counter() - t0
    row["ms"], row["message"] = _time(p, hl, ref, bench.tolerance, 1, 0.0)
    out = np.empty_like(ref)
    buf = hl.Buffer(out)
    row["run"] = lambda: p.realize(buf)
    return row


def _halide_child(name, size, which, parallelism, reps, budget, q):
    try:
        import halide as hl
        lib = os.path.join(os.path.dirname(hl.__file__), "lib64", f"libautoschedule_{which.lower()}.so")
        if not os.path.exists(lib):
            lib = lib.replace("lib64", "lib")
        hl.load_plugin(lib)
        bench = suite.BENCHMARKS[name]
        inputs = bench.inputs(size)
        ref = bench.reference(inputs)
        out = bench.build(unscheduled_module(hl), inputs)
        _estimate(hl, out, ref.shape[::-1])
        p = hl.Pipeline([out])
        t0 = time.perf_counter()
        p.apply_autoscheduler(hl.get_host_target(),
                              hl.AutoschedulerParams(which, {"parallelism": str(parallelism)}))
        search = time.perf_counter() - t0
        p.compile_jit()
        ms, msg = _time(p, hl, ref, bench.tolerance, reps, budget)
        if ms is not None:
            out = np.empty_like(ref)
            buf = hl.Buffer(out)
            ms = min(ms, _interleaved({"x": lambda: p.realize(buf)}, 2, reps, budget)["x"])
        q.put({"ms": ms, "search_s": search, "message": msg})
    except Exception as e:  # noqa: BLE001 - recorded in the table
        q.put({"ms": None, "message": f"{type(e).__name__}: {str(e).strip()[:200]}"})


def run_halide(name, size, which, parallelism, reps, budget, timeout):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_halide_child, args=(name, size, which, parallelism, reps, budget, q))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return {"ms": None, "message": f"timed out after {timeout} s"}
    return q.get() if not q.empty() else {"ms": None, "message": "crashed"}


def geomean(xs):
    xs = [x for x in xs if x and x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


# ---------------------------------------------------------------- the resumable autotuning table

def load_records(path: str) -> list:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        text = f.read().strip()
    return json.loads(text) if text else []


def save_records(path: str, records: list) -> None:
    """A JSON list, one record per line (compact, and diffs stay readable);
    written to a temporary file and renamed, so an interrupted run loses nothing."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(r, separators=(",", ":"), default=str)
                                    for r in records) + "\n]\n")
    os.replace(tmp, path)


@functools.lru_cache(maxsize=None)
def _commit() -> str:
    """The checkout's commit (asked once: a run keeps the code it started with)."""
    import subprocess
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=os.path.dirname(__file__), timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001 - not a checkout
        return ""


def tune_record(name: str, size: str, params: dict, reps: int, budget: float) -> dict:
    """One benchmark's record: hand, auto (no tuning) and tuned, timed side by side."""
    bench = suite.BENCHMARKS[name]
    load0 = os.getloadavg()
    rec = {"benchmark": name, "size": size, "budget_s": params["autotune_budget_s"],
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": _commit()}
    rows = {"hand": run_pipelang(bench, size, params, reps, budget, hand=True),
            "auto": run_pipelang(bench, size, {**params, "autotune_budget_s": 0.0}, reps, budget,
                                 hand=False),
            "tuned": run_pipelang(bench, size, params, reps, budget, hand=False)}
    ok = {k: r.pop("run") for k, r in rows.items() if r["ms"] is not None}
    for k, ms in _interleaved(ok, 3, reps, budget).items():
        rows[k]["ms"] = ms
    for k, r in rows.items():
        r.pop("run", None)
        rec[f"{k}_ms"] = r["ms"]
        if r.get("message"):
            rec[f"{k}_message"] = r["message"]
    hand = rec["hand_ms"]
    for k in ("auto", "tuned"):
        rec[f"{k}_ratio"] = rec[f"{k}_ms"] / hand if hand and rec[f"{k}_ms"] else None
    rep = rows["tuned"].get("report", {})
    rec.update(candidates=rep.get("autotune_measured"), rejected=rep.get("autotune_rejected"),
               by_kind=rep.get("autotune_by_kind"), tuner_best_ms=rep.get("measured_ms"),
               edits=rep.get("autotune_edits"), search_s=rows["auto"].get("search_s"),
               tune_total_s=rows["tuned"].get("search_s"), chosen=rows["tuned"].get("chosen"),
               load=[round(load0[0], 2), round(os.getloadavg()[0], 2)],
               auto_source=rows["auto"].get("source"), schedule_source=rows["tuned"].get("source"))
    return rec


def summarize(records: list) -> str:
    lines = [f"{'benchmark':24s} {'size':6s} {'budget':>6s} {'hand ms':>10s} {'auto':>7s} "
             f"{'tuned':>7s} {'cands':>6s} {'load':>11s}"]
    for r in records:
        def x(v):
            return f"{v:7.2f}" if v else f"{'FAIL':>7s}"
        lines.append(f"{r['benchmark']:24s} {r['size']:6s} {r['budget_s']:6.0f} "
                     f"{r['hand_ms'] or float('nan'):10.3f} {x(r['auto_ratio'])} "
                     f"{x(r['tuned_ratio'])} {r.get('candidates') or 0:6d} "
                     f"{'/'.join(str(v) for v in r.get('load', [])):>11s}")
    missing = [b for b in suite.BENCHMARKS if b not in {r["benchmark"] for r in records}]
    if missing:
        lines.append(f"not in the table yet ({len(missing)} of {len(suite.BENCHMARKS)}): "
                     f"{', '.join(missing)}")
    for k in ("auto", "tuned"):
        ratios = [r[f"{k}_ratio"] for r in records if r.get(f"{k}_ratio")]
        fails = sum(1 for r in records if not r.get(f"{k}_ratio"))
        lines.append(f"geomean {k} / hand: {geomean(ratios):.3f}x over {len(ratios)} benchmarks, "
                     f"max {max(ratios, default=float('nan')):.2f}x, {fails} failures")
    return "\n".join(lines)


def retime(records: list, reps: int, budget: float) -> None:
    """Apply each record's tuned schedule to the bare algorithm again; time it
    beside hand. Each record runs in a fresh process that builds the
    benchmark as `tune_record` did (hand, then the bare algorithm twice):
    a schedule names anonymous Funcs (`f139`) by a process-wide count."""
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    for r in records:
        child = ctx.Process(target=_retime_one, args=(r, reps, budget))
        child.start()
        child.join()
        if child.exitcode:
            print(f"{r['benchmark']}: re-timing failed (exit status {child.exitcode})", flush=True)


def _retime_one(r: dict, reps: int, budget: float) -> None:
    import pipelang as hl
    from autoscheduler.plan import apply_source, reset_schedules
    bench = suite.BENCHMARKS[r["benchmark"]]
    inputs = bench.inputs(r["size"])
    ref = bench.reference(inputs)
    runs = {}
    for k in ("hand", "auto", "tuned"):
        out = bench.build(hl if k == "hand" else unscheduled_module(hl), inputs)
        if k == "auto":
            continue                  # built only to number the Funcs as the record did
        p = hl.Pipeline(out)
        if k == "tuned":
            reset_schedules(p)
            try:
                apply_source(r["schedule_source"], p)
            except KeyError as e:
                print(f"{r['benchmark']}: the recorded schedule names Func {e} that this build "
                      f"numbers otherwise (recorded after other benchmarks in one process)",
                      flush=True)
                return
        p.compile_jit()
        ms, msg = _time(p, hl, ref, bench.tolerance, 1, 0.0)
        if ms is None:
            print(f"{r['benchmark']}: {k}: {msg}", flush=True)
            return
        buf = hl.Buffer(np.empty_like(ref))
        runs[k] = (lambda p=p, buf=buf: p.realize(buf))
    best = _interleaved(runs, 3, reps, budget)
    print(f"{r['benchmark']:24s} hand {best['hand']:10.3f} ms  tuned {best['tuned']:10.3f} ms  "
          f"({best['tuned'] / best['hand']:.2f}x; recorded {r['tuned_ratio'] or float('nan'):.2f}x)",
          flush=True)


def replace_record(records: list, rec: dict) -> list:
    """`records` with `rec` in place of any record of the same benchmark, size and
    budget (in its position), or appended."""
    key = (rec["benchmark"], rec["size"], rec["budget_s"])
    same = [i for i, r in enumerate(records) if (r["benchmark"], r["size"], r["budget_s"]) == key]
    if not same:
        return records + [rec]
    return [rec if i == same[0] else r for i, r in enumerate(records) if i == same[0] or i not in same]


def main_resume(a, params) -> int:
    _commit()
    records = load_records(a.resume)
    done = {(r["benchmark"], r["size"], r["budget_s"]) for r in records}
    for name in a.benchmarks.split(","):
        key = (name, a.size, a.autotune)
        if key in done and not a.redo:
            print(f"{name}: already in {a.resume}, skipped", flush=True)
            continue
        rec = tune_record(name, a.size, params, a.reps, a.budget)
        records = replace_record(load_records(a.resume), rec)   # another run may have appended
        save_records(a.resume, records)
        print(summarize([rec]).splitlines()[1], flush=True)
    print(summarize(records))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small", choices=suite.SIZE_LEVELS)
    ap.add_argument("--benchmarks", default=",".join(suite.BENCHMARKS))
    ap.add_argument("--time-budget", type=float, default=10.0)
    ap.add_argument("--autotune", type=float, default=0.0, help="autotuning budget, seconds")
    ap.add_argument("--parallelism", type=int, default=0)
    ap.add_argument("--halide", action="store_true", help="also real Halide's autoschedulers")
    ap.add_argument("--halide-timeout", type=float, default=240.0)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--budget", type=float, default=1.0, help="timing budget per entry, seconds")
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--show-schedules", action="store_true")
    ap.add_argument("--resume", metavar="FILE",
                    help="the autotuning table (needs --autotune): hand, auto and tuned per "
                         "benchmark, each appended to FILE; benchmarks already there are skipped")
    ap.add_argument("--redo", action="store_true",
                    help="with --resume: run the named benchmarks again, replacing their records")
    ap.add_argument("--summary", metavar="FILE", help="print the autotuning table in FILE")
    ap.add_argument("--retime", metavar="FILE",
                    help="re-time the tuned schedules recorded in FILE beside the hand ones")
    a = ap.parse_args(argv)
    if a.summary:
        print(summarize(load_records(a.summary)))
        return 0
    if a.retime:
        names = set(a.benchmarks.split(","))
        retime([r for r in load_records(a.retime) if r["benchmark"] in names], a.reps, a.budget)
        return 0
    from autoscheduler.params import Params
    par = a.parallelism or Params().parallelism
    params = {"parallelism": par, "time_budget_s": a.time_budget, "autotune_budget_s": a.autotune}
    if a.resume:
        if a.autotune <= 0:
            ap.error("--resume needs an --autotune budget")
        return main_resume(a, params)
    if a.redo:
        ap.error("--redo needs --resume FILE")
    rows = []
    cols = ["hand", "auto"] + (list(HALIDE_AUTOSCHEDULERS) if a.halide else [])
    print(f"size {a.size}, parallelism {par}; times in ms (ratio to pipelang's hand schedule)")
    print(f"{'benchmark':12s} " + " ".join(f"{c:>22s}" for c in cols) +
          f" {'search s':>9s} {'+check s':>9s}")
    for name in a.benchmarks.split(","):
        bench = suite.BENCHMARKS[name]
        row = {"benchmark": name}
        row["hand"] = run_pipelang(bench, a.size, params, a.reps, a.budget, hand=True)
        row["auto"] = run_pipelang(bench, a.size, params, a.reps, a.budget, hand=False)
        ok = {k: row[k].pop("run") for k in ("hand", "auto") if row[k]["ms"] is not None}
        for k, ms in _interleaved(ok, 3, a.reps, a.budget).items():
            row[k]["ms"] = ms
        for k in ("hand", "auto"):
            row[k].pop("run", None)
        for which in (HALIDE_AUTOSCHEDULERS if a.halide else ()):
            row[which] = run_halide(name, a.size, which, par, a.reps, a.budget, a.halide_timeout)
        hand = row["hand"]["ms"]
        cells = []
        for c in cols:
            ms = row[c].get("ms")
            if ms is None:
                cells.append(f"{'FAIL':>22s}")
            else:
                ratio = f"({ms / hand:.2f}x)" if hand else ""
                cells.append(f"{ms:12.3f} {ratio:>9s}")
        total = row["auto"].get("search_s") or 0
        beam = row["auto"].get("beam_search_s") or 0
        print(f"{name:12s} " + " ".join(cells) + f" {beam:9.2f} {total - beam:9.2f}", flush=True)
        for c in cols:
            if row[c].get("message"):
                print(f"    {c}: {row[c]['message']}")
        if a.show_schedules:
            print(row["auto"]["source"])
        rows.append(row)
    for c in cols[1:]:
        ratios = [r[c]["ms"] / r["hand"]["ms"] for r in rows if r[c].get("ms") and r["hand"].get("ms")]
        fails = sum(1 for r in rows if not r[c].get("ms"))
        print(f"geomean {c} / hand: {geomean(ratios):.3f}x over {len(ratios)} benchmarks, "
              f"max {max(ratios, default=float('nan')):.2f}x, {fails} failures")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
