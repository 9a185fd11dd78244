"""``python -m pipelang.bench.compile_time``: where compile time goes.

For each benchmark of the suite (or `--only a,b`), in one process:
  * pipelang's compile with the on-disk cache off, split into its lowering
    passes (as `lowering/lower.py` runs them, `regions` being the
    whole-pipeline boxes for the entry checks), LLVM IR generation and LLVM
    (optimizer and machine code);
  * real Halide's `compile_jit` for the same algorithm and schedule, in a
    fresh process after a warm-up compile of another pipeline (Halide
    compiles its runtime on its first compile_jit in a process; pipelang's
    is built before timing), with the part of it its lowering passes take
    (Halide's own HL_TIME_LOWERING_PASSES report, wall clock): the split
    "lowering / the rest (IR generation and LLVM)" is printed for both;
  * with `--cache-hit`, compiles in `--hit-reps` fresh processes that find
    the code in a (temporary) cache filled by a first process: the figure a
    second run of a program sees (the fastest and slowest, wall and CPU
    time, and the hit's steps in processor time: finding the environment
    and arguments, the key, reading and loading the code).
Times are processor seconds of the compiling process (LLVM's threads included), the
minimum over `--reps` compiles of a fresh Pipeline each: a shared machine
inflates wall time far more. Still compare ratios within one run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

_HIT_SCRIPT = """
import json, sys, time
import pipelang as hl
import pipelang.backends.llvm, pipelang.lowering.lower, pipelang.fingerprint, pipelang.calling
import pipelang.cache, pipelang.constraints, pipelang.definition   # (imported by a first compile)
from pipelang.bench import suite
b = suite.BENCHMARKS[sys.argv[1]]
p = hl.Pipeline(b.build(hl, b.inputs(sys.argv[2])))
t, cpu = time.perf_counter(), time.process_time()
p.compile_jit()
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu,
                  "hit": p._compiled.cache_hit, "steps": dict(p._compiled.timings)}))
"""


def pipelang_breakdown(name: str, size: str, reps: int = 1) -> dict:
    """{step: seconds} of an uncached pipelang compile, and its total: the
    fastest of `reps` compiles (processor time)."""
    os.environ["PIPELANG_CACHE"] = "0"
    import pipelang as hl
    from pipelang.backends.llvm.runtime import ensure_runtime
    from pipelang.bench import suite
    ensure_runtime()                      # once per process: not the pipeline's cost
    _warm_up(hl)
    bench = suite.BENCHMARKS[name]
    best = None
    for _ in range(reps):
        p = hl.Pipeline(bench.build(hl, bench.inputs(size)))
        start = time.process_time()
        p.compile_jit()
        total = time.process_time() - start
        if best is not None and total >= best["total"]:
            continue
        c = p._compiled
        steps: dict = {}
        for step, seconds in list(c.timings) + list(getattr(c.jit, "timings", [])):
            steps[step] = steps.get(step, 0.0) + seconds
        steps["other"] = max(0.0, total - sum(steps.values()))
        best = {"total": total, "steps": steps}
    return best


_HALIDE_SCRIPT = """
import json, sys, time
import halide as hl
from pipelang.bench import suite
from pipelang.bench.compile_time import _warm_up
_warm_up(hl)
b = suite.BENCHMARKS[sys.argv[1]]
times = []
for _ in range(int(sys.argv[3])):
    p = hl.Pipeline(b.build(hl, b.inputs(sys.argv[2])))
    start = time.process_time()
    p.compile_jit()
    times.append(time.process_time() - start)
print(json.dumps(times))
"""


def halide_compile(name: str, size: str, reps: int = 1) -> dict | None:
    """Real Halide's compile_jit of the same benchmark, in a fresh process:
    {"total": processor seconds, the fastest of `reps`; "lowering": its
    lowering passes' seconds (wall clock, as Halide's HL_TIME_LOWERING_PASSES
    reports them) in that compile}. None without Halide."""
    try:
        import halide  # noqa: F401
    except ImportError:
        return None
    env = dict(os.environ, HL_TIME_LOWERING_PASSES="1")
    out = subprocess.run([sys.executable, "-c", _HALIDE_SCRIPT, name, size, str(reps)], env=env,
                         capture_output=True, text=True, check=True)
    times = json.loads(out.stdout.strip().splitlines()[-1])
    # One "N ms in total" line per lowering, the warm-up's first.
    lowerings = [float(m) / 1e3 for m in re.findall(r"([0-9.]+) ms in total", out.stderr)][1:]
    best = min(range(len(times)), key=times.__getitem__)
    return {"total": times[best], "lowering": lowerings[best] if len(lowerings) == len(times) else None}


def _warm_up(hl) -> None:
    """Compile a small other pipeline first: Halide JIT-compiles its runtime
    modules on its first compile_jit in a process (most of a second), as
    pipelang's `ensure_runtime` does before its timed compile."""
    x = hl.Var("x")
    f = hl.Func("warm_up")
    f[x] = x * 2
    f.vectorize(x, 8)
    hl.Pipeline(f).compile_jit()


def cache_hit(name: str, size: str, reps: int = 1) -> dict:
    """Compile in a fresh process that fills a new cache, then in `reps`
    more fresh processes that find it: the fastest of these hits, wall and
    CPU each ("hit_s", "hit_cpu_s"), the slowest ("hit_max_s",
    "hit_cpu_max_s"), and each step's fastest ("hit_steps")."""
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PIPELANG_CACHE="1", PIPELANG_CACHE_DIR=os.path.join(d, "c"))
        runs = []
        for _ in range(1 + max(1, reps)):
            out = subprocess.run([sys.executable, "-c", _HIT_SCRIPT, name, size], env=env,
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    hits = runs[1:]
    hit = all(r["hit"] for r in hits)
    return {"miss_s": runs[0]["seconds"], "hit": hit, "hit_reps": len(hits),
            "hit_s": min(r["seconds"] for r in hits), "hit_max_s": max(r["seconds"] for r in hits),
            "hit_cpu_s": min(r["cpu"] for r in hits), "hit_cpu_max_s": max(r["cpu"] for r in hits),
            "hit_steps": {k: min(r["steps"][k] for r in hits) for k in hits[0]["steps"]} if hit else {}}


# Steps of a compile that are not lowering passes: IR generation, LLVM, the rest.
_NOT_LOWERING = ("codegen", "llvm", "other")


def main(argv=None) -> None:
    from pipelang.bench import suite
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated benchmarks (default: all)")
    ap.add_argument("--size", default="small", help="input size level (does not change code)")
    ap.add_argument("--cache-hit", action="store_true", help="also time a cache hit in a new process")
    ap.add_argument("--hit-reps", type=int, default=5,
                    help="fresh processes that hit the cache (with --cache-hit); the fastest counts")
    ap.add_argument("--json", default="", help="write the figures here")
    ap.add_argument("--reps", type=int, default=1, help="compiles per compiler; the fastest counts")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(suite.BENCHMARKS)
    results = {}
    build = None
    for name in names:
        try:
            r = pipelang_breakdown(name, args.size, args.reps)
        except Exception as e:            # noqa: BLE001 - one broken benchmark must not stop the run
            print(f"{name}: pipelang failed: {type(e).__name__}: {e}")
            continue
        h = halide_compile(name, args.size, args.reps)
        r["halide_s"] = h and h["total"]
        r["halide_lowering_s"] = h and h["lowering"]
        r["lowering_s"] = sum(v for k, v in r["steps"].items() if k not in _NOT_LOWERING)
        if args.cache_hit:
            r.update(cache_hit(name, args.size, args.hit_reps))
        results[name] = r
        if build is None:
            from pipelang import _compiled
            build = _compiled.summary()
            print(build)
        steps = "  ".join(f"{k} {v * 1e3:.0f}" for k, v in r["steps"].items() if v >= 0.0005)
        ratio = f"{r['total'] / r['halide_s']:.2f}" if r["halide_s"] else "-"
        halide = f"{r['halide_s']:.3f}" if r["halide_s"] else "-"
        hit = (f"  cache hit {r['hit_s'] * 1e3:.1f} ms ({r['hit_cpu_s'] * 1e3:.1f} ms CPU;"
               f" {r['hit_reps']} processes: wall {r['hit_s'] * 1e3:.1f}-{r['hit_max_s'] * 1e3:.1f},"
               f" CPU {r['hit_cpu_s'] * 1e3:.1f}-{r['hit_cpu_max_s'] * 1e3:.1f})"
               if "hit_s" in r else "")
        print(f"{name}: pipelang {r['total']:.3f} s, Halide {halide} s, ratio {ratio}{hit}")
        print(f"    ms: {steps}")
        if r["halide_lowering_s"] is not None:
            rest, h_rest = r["total"] - r["lowering_s"], r["halide_s"] - r["halide_lowering_s"]
            print(f"    lowering {r['lowering_s'] * 1e3:.0f} ms (Halide {r['halide_lowering_s'] * 1e3:.0f}),"
                  f" the rest {rest * 1e3:.0f} ms (Halide {h_rest * 1e3:.0f})")
        if r.get("hit_steps"):
            print("    hit ms (each step's fastest): "
                  + "  ".join(f"{k} {v * 1e3:.1f}" for k, v in r["hit_steps"].items()))
        elif "hit" in r and not r["hit"]:
            print("    the cache was missed in a process meant to hit it")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
