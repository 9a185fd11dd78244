"""A 3x3 box blur of a 16-bit image: the first program to read.

    python examples/blur.py            (add --halide to run the same code on real Halide)

It shows the two halves of every pipelang program: the algorithm (what each
pixel is) and the schedule (in what order, and where, pixels are computed).
"""

import time

import numpy as np
from common import hl, print_loop_nest, save_png, scene

# The input: a synthetic 12-bit image, 2 pixels wider and taller than the
# output so that the blur needs no boundary condition.
width, height = 2048, 1536
input_np = (scene(width + 2, height + 2) * 4095).astype(np.uint16)
input = hl.Buffer(input_np)  # wraps the numpy array; numpy [row, col] is input[x, y]

# The algorithm: blur horizontally, then vertically. Integer // is floor division.
x, y = hl.Var("x"), hl.Var("y")
blur_x, blur_y = hl.Func("blur_x"), hl.Func("blur_y")
blur_x[x, y] = (input[x, y] + input[x + 1, y] + input[x + 2, y]) // 3
blur_y[x, y] = (blur_x[x, y] + blur_x[x, y + 1] + blur_x[x, y + 2]) // 3

# The schedule (Halide's classic one): split the rows into strips of 32 that
# run in parallel; vectorize along x; compute blur_x one row at a time just
# before blur_y needs it, keeping the rows of a strip so each is computed once.
yi = hl.Var("yi")
blur_y.split(y, y, yi, 32).parallel(y).vectorize(x, 8)
blur_x.store_at(blur_y, y).compute_at(blur_y, yi).vectorize(x, 8)
print_loop_nest(blur_y)

start = time.perf_counter()
blur_y.compile_jit()
print(f"\ncompiled in {time.perf_counter() - start:.2f} s")
start = time.perf_counter()
output = np.asarray(blur_y.realize([width, height]))  # numpy shape (height, width)
print(f"ran in {(time.perf_counter() - start) * 1e3:.1f} ms")

# Check against the same arithmetic in numpy.
a = input_np
expected_x = (a[:, :-2] + a[:, 1:-1] + a[:, 2:]) // 3
expected = (expected_x[:-2] + expected_x[1:-1] + expected_x[2:]) // 3
assert np.array_equal(output, expected), "blur differs from numpy"
print("matches numpy")

save_png("blur_input.png", input_np * 16)  # 12-bit values, shown at full 16-bit range
save_png("blur_output.png", output * 16)
