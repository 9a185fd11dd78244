"""Unsharp mask: sharpen a colour image by boosting what a blur removes.

    python examples/unsharp.py         (add --halide to run the same code on real Halide)

The `unsharp` benchmark, after Halide's apps/unsharp. Luminance is blurred with
a 7-tap Gaussian; sharpen = 2 * gray - blurred; every channel is scaled by
sharpen / gray, which sharpens without shifting colours.
"""

import math

import numpy as np
from common import colour_scene, hl, print_loop_nest, save_png, to_8bit


width, height = 1024, 768
input_np = colour_scene(width, height)  # planar float32 (3, H, W): buffer [x, y, c]

# Edges: pixels outside the image repeat the nearest edge pixel.
input = hl.BoundaryConditions.repeat_edge(hl.Buffer(input_np))

sigma = 1.5
taps = [math.exp(-(i * i) / (2 * sigma * sigma)) for i in range(4)]
taps = [hl.f32(t / (taps[0] + 2 * sum(taps[1:]))) for t in taps]  # normalised; f32 literals

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
gray, blur_y, blur_x = hl.Func("gray"), hl.Func("blur_y"), hl.Func("blur_x")
sharpen, ratio, unsharp = hl.Func("sharpen"), hl.Func("ratio"), hl.Func("unsharp")

gray[x, y] = hl.f32(0.299) * input[x, y, 0] + hl.f32(0.587) * input[x, y, 1] + hl.f32(0.114) * input[x, y, 2]
# A Python loop builds the expression tree: the compiled code has no loop over taps.
blur_y[x, y] = taps[0] * gray[x, y] + sum(taps[i] * (gray[x, y - i] + gray[x, y + i]) for i in range(1, 4))
blur_x[x, y] = taps[0] * blur_y[x, y] + sum(taps[i] * (blur_y[x - i, y] + blur_y[x + i, y]) for i in range(1, 4))
sharpen[x, y] = 2 * gray[x, y] - blur_x[x, y]
ratio[x, y] = sharpen[x, y] / gray[x, y]
unsharp[x, y, c] = ratio[x, y] * input[x, y, c]

# Schedule: strips of 32 rows in parallel, channels inside rows. Down a
# strip, gray is computed one new row at a time and kept (a sliding window:
# blur_y reads 7 rows of it); for each output row, the blur_y and ratio rows
# are computed just before use; sharpen and blur_x are inlined into ratio.
vec = hl.get_host_target().natural_vector_size(hl.Float(32))
yi = hl.Var("yi")
unsharp.split(y, y, yi, 32).reorder(x, c, yi, y).parallel(y).vectorize(x, vec)
gray.store_at(unsharp, y).compute_at(unsharp, yi).vectorize(x, vec)
blur_y.compute_at(unsharp, yi).vectorize(x, vec)
ratio.compute_at(unsharp, yi).vectorize(x, vec)
print_loop_nest(unsharp)



def reference_unsharp(img, k):
    """The same unsharp mask in numpy (float32, edges repeated)."""
    _, h, w = img.shape
    g = np.float32(0.299) * img[0] + np.float32(0.587) * img[1] + np.float32(0.114) * img[2]
    gp = np.pad(g, 3, mode="edge")
    by = k[0] * gp[3:3 + h] + sum(k[i] * (gp[3 - i:3 - i + h] + gp[3 + i:3 + i + h]) for i in range(1, 4))
    bx = k[0] * by[:, 3:3 + w] + sum(k[i] * (by[:, 3 - i:3 - i + w] + by[:, 3 + i:3 + i + w]) for i in range(1, 4))
    return (((2 * g - bx) / g)[None] * img).astype(np.float32)


output = np.asarray(unsharp.realize([width, height, 3]))  # (3, H, W)
weights = [math.exp(-(i * i) / (2 * sigma * sigma)) for i in range(4)]
expected = reference_unsharp(input_np, [np.float32(t / (weights[0] + 2 * sum(weights[1:]))) for t in weights])
error = np.max(np.abs(output - expected))
assert error <= 1e-4 * np.max(np.abs(expected)), f"differs from numpy by {error}"
print(f"matches numpy (max difference {error:.2g})")

save_png("unsharp_input.png", to_8bit(input_np.transpose(1, 2, 0), 0, 1))
save_png("unsharp_output.png", to_8bit(output.transpose(1, 2, 0), 0, 1))
