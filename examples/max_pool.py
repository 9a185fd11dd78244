"""2x2 max-pooling with stride 2 of a batch of feature maps (NHWC).

    python examples/max_pool.py       (add --halide to run the same code on real Halide)

`hl.maximum` over a 2x2 RDom, channels innermost and vectorized, rows of all
images in parallel.
"""

import numpy as np
from common import hl, print_loop_nest

batch, size, channels = 2, 64, 32
rng = np.random.default_rng(1)
input_np = rng.uniform(-1, 1, size=(batch, size, size, channels)).astype(np.float32)
input = hl.Buffer(input_np)                     # buffer [c, x, y, n]

c, x, y, n = hl.Var("c"), hl.Var("x"), hl.Var("y"), hl.Var("n")
r = hl.RDom([(0, 2), (0, 2)])
pool = hl.Func("max_pool")
pool[c, x, y, n] = hl.maximum(input[c, 2 * x + r.x, 2 * y + r.y, n])

# Schedule: vectors of channels; the 2x2 window is unrolled into registers
# (the inline reduction is computed per vector, not stored); rows in parallel.
vec = hl.get_host_target().natural_vector_size(hl.Float(32))
ny = hl.Var("ny")
pool.vectorize(c, vec).fuse(y, n, ny).parallel(ny)
print_loop_nest(pool)

out = np.asarray(pool.realize([channels, size // 2, size // 2, batch]))   # (n, y, x, c)
expected = input_np.reshape(batch, size // 2, 2, size // 2, 2, channels).max(axis=(2, 4))
assert np.array_equal(out, expected), "differs from numpy"
print("matches numpy")
