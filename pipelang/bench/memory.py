"""``python -m pipelang.bench.memory``: memory kept across many compiles.

Compiles and runs N distinct small pipelines (each a few Funcs with its own
constants and schedule, as an autotuner would), drops every reference to
each, and reports how much the process's resident memory grew after a
warm-up: what a pipeline nobody references still costs. Run with
`--module halide` for Halide's figure. The compile cache is off (each
compile is a real one) unless `--cache` is given.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import os
import time


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def compile_one(hl, i: int):
    """A distinct pipeline for each i: the constants and the schedule vary."""
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.Func(f"in{i}")
    blur = hl.Func(f"blur{i}")
    out = hl.Func(f"out{i}")
    inp[x, y] = hl.cast(hl.Float(32), x * (i % 7 + 1) + y)
    blur[x, y] = (inp[x - 1, y] + inp[x, y] + inp[x + 1, y]) * hl.f32(1.0 / (3 + i % 5))
    out[x, y] = blur[x, y - 1] + blur[x, y + (1 + i % 3)]
    if i % 2:
        out.vectorize(x, 8)
    if i % 3 == 0:
        blur.compute_root()
    p = hl.Pipeline(out)
    p.compile_jit()
    return float(p.realize([16, 16])[3, 3])


def measure(module: str, n: int, warmup: int = 20) -> dict:
    hl = importlib.import_module(module)
    for i in range(warmup):
        compile_one(hl, 10**6 + i)
    gc.collect()
    start, t0 = rss_mb(), time.perf_counter()
    for i in range(n):
        compile_one(hl, i)
    gc.collect()
    end = rss_mb()
    return {"module": module, "compiles": n, "rss_start_mb": start, "rss_end_mb": end,
            "growth_mb": end - start, "per_compile_kb": (end - start) * 1024 / n,
            "seconds": time.perf_counter() - t0}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="compiles (default 1000)")
    ap.add_argument("--module", default="pipelang", help="pipelang or halide")
    ap.add_argument("--cache", action="store_true", help="leave the compile cache on")
    args = ap.parse_args(argv)
    if not args.cache:
        os.environ["PIPELANG_CACHE"] = "0"
    r = measure(args.module, args.n)
    print(f"{r['module']}: {r['compiles']} compiles in {r['seconds']:.1f} s, resident memory "
          f"{r['rss_start_mb']:.1f} -> {r['rss_end_mb']:.1f} MB: grew {r['growth_mb']:.1f} MB "
          f"({r['per_compile_kb']:.1f} KB per compile)")


if __name__ == "__main__":
    main()
