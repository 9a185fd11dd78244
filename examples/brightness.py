"""A gradient, brightened: the smallest complete pipeline.

    python examples/brightness.py      (add --halide to run the same code on real Halide)

Two Funcs: `gradient` makes an RGB image from nothing but its coordinates,
`brighter` scales it by 1.5 and saturates at 255. Each is a function of
(x, y, c); nothing is computed until `realize` asks for a region.
"""

import numpy as np
from common import hl, print_loop_nest, save_png

width, height = 640, 480
x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")

# A colour gradient: red grows along x, green along y, blue is their mix.
gradient = hl.Func("gradient")
red = x * 200 // width
green = y * 200 // height
gradient[x, y, c] = hl.cast(hl.UInt(8), hl.select(c == 0, red, c == 1, green, (red + green) // 2))

# Brighten by 1.5 in float, clamp to the 8-bit range, and convert back.
# (Halide's rules: uint8 * float -> float; the cast saturates only after the min.)
brighter = hl.Func("brighter")
value = hl.cast(hl.Float(32), gradient[x, y, c]) * hl.f32(1.5)
brighter[x, y, c] = hl.cast(hl.UInt(8), hl.min(value, hl.f32(255)))

# Schedule: by default `gradient` is inlined into `brighter`. Put colour
# channels outermost (planar output), rows in parallel, 16 pixels per vector.
brighter.reorder(x, y, c).parallel(y).vectorize(x, 16)
print_loop_nest(brighter)

planar = np.asarray(brighter.realize([width, height, 3]))  # numpy (3, height, width)
image = np.ascontiguousarray(planar.transpose(1, 2, 0))  # (height, width, 3) for the PNG

# The same in numpy.
xs, ys = np.meshgrid(np.arange(width), np.arange(height))
r, g = xs * 200 // width, ys * 200 // height
expected_gradient = np.stack([r, g, (r + g) // 2], axis=-1).astype(np.uint8)
expected = np.minimum(expected_gradient.astype(np.float32) * np.float32(1.5), 255).astype(np.uint8)
assert np.array_equal(image, expected), "brighter differs from numpy"
print("matches numpy")

save_png("gradient.png", expected_gradient)
save_png("brighter.png", image)
