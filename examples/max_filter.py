"""A max filter (grey-scale dilation): each pixel becomes the brightest in its 11x11 window.

    python examples/max_filter.py      (add --halide to run the same code on real Halide)

The `max_filter` benchmark. The 2-D maximum separates into a horizontal and
a vertical pass, 22 comparisons per pixel instead of 121.
"""

import functools

import numpy as np
from common import hl, print_loop_nest, save_png, scene

radius = 5
taps = range(2 * radius + 1)
width, height = 1024, 768
# An 8-bit image, padded by the radius on every side so no boundary condition is needed.
image = (scene(width + 2 * radius, height + 2 * radius) * 255).astype(np.uint8)
input = hl.Buffer(image)

x, y = hl.Var("x"), hl.Var("y")
max_x, max_y = hl.Func("max_x"), hl.Func("max_y")
max_x[x, y] = functools.reduce(hl.max, [input[x + i, y] for i in taps])  # max(max(a, b), c) ...
max_y[x, y] = functools.reduce(hl.max, [max_x[x, y + i] for i in taps])

# Schedule: as the box blur, strips of rows in parallel, with max_x computed
# row by row down each strip and kept while max_y needs it.
yi = hl.Var("yi")
vec = hl.get_host_target().natural_vector_size(hl.UInt(8))
max_y.split(y, y, yi, 64).parallel(y).vectorize(x, vec)
max_x.store_at(max_y, y).compute_at(max_y, yi).vectorize(x, vec)
print_loop_nest(max_y)

output = np.asarray(max_y.realize([width, height]))
windows = np.lib.stride_tricks.sliding_window_view(image, (2 * radius + 1, 2 * radius + 1))
assert np.array_equal(output, windows.max(axis=(2, 3))), "differs from numpy"
print("matches numpy")

save_png("max_filter_input.png", image[radius:-radius, radius:-radius])
save_png("max_filter_output.png", output)
