"""Matrix multiplication, float32, blocked for registers and run on every core.

    python examples/matmul.py          (add --halide to run the same code on real Halide)

The `matmul` benchmark: C = A @ B. The algorithm is two lines; the schedule
is what makes it fast: tiles of C are computed in parallel, and within a tile
a small block of accumulators stays in vector registers while k runs.
"""

import time

import numpy as np
from common import hl, print_loop_nest

n = 512
rng = np.random.default_rng(0)
a_np = rng.uniform(-1, 1, size=(n, n)).astype(np.float32)
b_np = rng.uniform(-1, 1, size=(n, n)).astype(np.float32)
A, B = hl.Buffer(a_np), hl.Buffer(b_np)  # numpy a[row, col] is A[col, row]

x, y = hl.Var("x"), hl.Var("y")  # x: column of C, y: row of C
k = hl.RDom([(0, n)])  # the reduction over the shared dimension
prod = hl.Func("prod")
prod[x, y] = hl.f32(0)
prod[x, y] += A[k.x, y] * B[x, k.x]  # C[y, x] = sum_k a[y, k] * b[k, x]
C = hl.Func("C")
C[x, y] = prod[x, y]

# Schedule: C in tiles of (3 vectors) x 32, tiles spread over the cores; each
# tile in blocks of 8 rows. prod, the accumulator, is computed per block:
# 3 vectors x 8 rows of registers, updated for every k (k outermost in prod).
vec = hl.get_host_target().natural_vector_size(hl.Float(32))
xi, yi, yii, xy = hl.Var("xi"), hl.Var("yi"), hl.Var("yii"), hl.Var("xy")
C.tile(x, y, xi, yi, 3 * vec, 32).fuse(x, y, xy).parallel(xy)
C.split(yi, yi, yii, 8).vectorize(xi, vec).unroll(xi).unroll(yii)
prod.compute_at(C, yi).vectorize(x, vec).unroll(x).unroll(y)
prod.update().reorder(x, y, k.x).vectorize(x, vec).unroll(x).unroll(y)
print_loop_nest(C)

C.compile_jit()
out = np.empty((n, n), np.float32)
out_buffer = hl.Buffer(out)  # realize straight into a numpy array
C.realize(out_buffer)  # warm-up
start = time.perf_counter()
C.realize(out_buffer)
seconds = time.perf_counter() - start
print(f"{n}x{n} matmul: {seconds * 1e3:.2f} ms, {2 * n**3 / seconds / 1e9:.1f} GFLOP/s")

expected = a_np @ b_np
error = np.max(np.abs(out - expected))
assert error <= 1e-5 * np.max(np.abs(expected)), f"differs from numpy by {error}"
print(f"matches numpy (max difference {error:.2g})")
