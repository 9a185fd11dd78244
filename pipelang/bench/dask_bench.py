"""Benchmark: a stencil over a chunked image, three ways, one run.

    python -m pipelang.bench.dask_bench [--size 4096] [--chunk 1024] [--workers 2]

The 3x3 box blur with a clamped edge (uint16) over a size x size image:
one in-memory `realize`; `pipelang.dask.realize` on a dask.distributed
LocalCluster of worker processes; and `dask.array.map_overlap` running the
same stencil written in numpy, on the same cluster. All three results are
checked to be identical before timing (best of --reps, warm).
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def _build(hl):
    img = hl.ImageParam(hl.UInt(16), 2, "img")
    x, y = hl.Var("x"), hl.Var("y")
    e = hl.BoundaryConditions.repeat_edge(img)
    bx, by = hl.Func("bx"), hl.Func("by")
    bx[x, y] = (hl.cast(hl.UInt(32), e[x - 1, y]) + e[x, y] + e[x + 1, y]) / 3
    by[x, y] = hl.cast(hl.UInt(16), (bx[x, y - 1] + bx[x, y] + bx[x, y + 1]) / 3)
    by.vectorize(x, 16).parallel(y, 16)
    bx.compute_at(by, y).vectorize(x, 16)
    return img, by


def _numpy_blur(a):
    """The stencil on a block that already carries a 1-pixel halo (map_overlap's depth)."""
    a = a.astype(np.uint32)
    bx = (a[:, :-2] + a[:, 1:-1] + a[:, 2:]) // 3
    out = (bx[:-2] + bx[1:-1] + bx[2:]) // 3
    return np.pad(out.astype(np.uint16), 1)        # map_overlap trims the depth off again


def _best(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(size=4096, chunk=1024, workers=2, reps=3, log=print):
    import dask.array as da
    from distributed import Client, LocalCluster

    import pipelang as hl
    import pipelang.dask as pdask
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 16, (size, size), dtype=np.uint16)
    img, by = _build(hl)
    img.set(hl.Buffer(a))
    want = np.asarray(by.realize([size, size])).copy()
    t_mem = _best(lambda: by.realize([size, size]), reps)
    rows = [("in-memory realize", t_mem)]
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        d = da.from_array(a, chunks=chunk).persist()        # the input already on the workers
        out = pdask.realize(by, [size, size], inputs={img: d})
        got = out.compute()
        assert np.array_equal(got, want), "pipelang.dask differs from one realize"
        rows.append((f"pipelang.dask ({out.npartitions} chunks)", _best(lambda: out.compute(), reps)))
        overlap = d.map_overlap(_numpy_blur, depth=1, boundary="nearest", dtype=np.uint16)
        assert np.array_equal(overlap.compute(), want), "map_overlap differs"
        rows.append(("dask map_overlap + numpy", _best(lambda: overlap.compute(), reps)))
        del client
    log(f"3x3 blur, uint16 {size}x{size}, chunks of {chunk}, {workers} worker processes: "
        f"s (ratio to pipelang.dask)")
    base = rows[1][1]
    for name, t in rows:
        log(f"  {name:34s} {t:8.3f}  ({t / base:5.2f}x)")
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--chunk", type=int, default=1024)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args(argv)
    run(a.size, a.chunk, a.workers, a.reps)


if __name__ == "__main__":
    main()
