"""Harris corner detection: where the image changes in two directions at once.

    python examples/harris.py          (add --halide to run the same code on real Halide)

The `harris` benchmark, after Halide's apps/harris: Sobel derivatives of the
luminance, the 3x3 sums of their products (the structure tensor), and the
response det - 0.04 * trace^2, which is large at corners.
"""

import numpy as np
from common import colour_scene, hl, print_loop_nest, save_png, to_8bit

from pipelang.bench.apps.stencils import reference_harris

width, height = 1024, 768
input_np = colour_scene(width, height)  # planar float32 (3, H, W)
input = hl.BoundaryConditions.repeat_edge(hl.Buffer(input_np))

x, y = hl.Var("x"), hl.Var("y")
gray, Ix, Iy = hl.Func("gray"), hl.Func("Ix"), hl.Func("Iy")
harris = hl.Func("harris")

gray[x, y] = hl.f32(0.299) * input[x, y, 0] + hl.f32(0.587) * input[x, y, 1] + hl.f32(0.114) * input[x, y, 2]


def g(dx, dy):
    return gray[x + dx, y + dy]


# Sobel filters, scaled by 1/12.
Iy[x, y] = (g(-1, 1) - g(-1, -1) + 2 * (g(0, 1) - g(0, -1)) + g(1, 1) - g(1, -1)) * hl.f32(1 / 12)
Ix[x, y] = (g(1, -1) - g(-1, -1) + 2 * (g(1, 0) - g(-1, 0)) + g(1, 1) - g(-1, 1)) * hl.f32(1 / 12)


def box3(e):
    """Sum of the expression-builder e(x, y) over the 3x3 neighbourhood."""
    return sum(e(x + dx, y + dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


Sxx = box3(lambda u, v: Ix[u, v] * Ix[u, v])
Syy = box3(lambda u, v: Iy[u, v] * Iy[u, v])
Sxy = box3(lambda u, v: Ix[u, v] * Iy[u, v])
trace = Sxx + Syy
harris[x, y] = Sxx * Syy - Sxy * Sxy - hl.f32(0.04) * trace * trace

# Schedule: strips of 32 rows in parallel. gray, Ix and Iy are stored for the
# strip and computed one row at a time as the output needs it (a sliding
# window); everything else is inlined into the output.
yi = hl.Var("yi")
vec = hl.get_host_target().natural_vector_size(hl.Float(32))
harris.split(y, y, yi, 32).parallel(y).vectorize(x, vec)
for f in (gray, Iy, Ix):
    f.store_at(harris, y).compute_at(harris, yi).vectorize(x, vec)
print_loop_nest(harris)

output = np.asarray(harris.realize([width, height]))
expected = reference_harris({"input": input_np})
error = np.max(np.abs(output - expected))
assert error <= 1e-4 * np.max(np.abs(expected)), f"differs from numpy by {error}"
print(f"matches numpy (max difference {error:.2g})")
corners = np.argwhere(output > 0.1 * output.max())
print(f"{len(corners)} pixels with a strong corner response")

save_png("harris_input.png", to_8bit(input_np.transpose(1, 2, 0), 0, 1))
save_png("harris_response.png", to_8bit(np.sqrt(np.maximum(output, 0)), 0, np.sqrt(output.max())))
