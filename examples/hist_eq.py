"""Histogram equalization: spread a dull image's grey levels over the full range.

    python examples/hist_eq.py         (add --halide to run the same code on real Halide)

The `hist_eq` benchmark. Reductions (RDom) count the histogram and scan it
into a cumulative distribution; the output looks each pixel up in a table
built from it (OpenCV's equalizeHist formula).
"""

import numpy as np
from common import hl, print_loop_nest, save_png, scene

from pipelang.bench.suite import reference_hist_eq

width, height = 1024, 768
# A low-contrast 8-bit image: the scene squeezed into grey levels 70..160.
image = (70 + 90 * scene(width, height)).astype(np.uint8)
input = hl.Buffer(image)
n_pixels = width * height
rows = 64  # rows per partial histogram
strips = height // rows

x, y, i, s = hl.Var("x"), hl.Var("y"), hl.Var("i"), hl.Var("s")

# Count each strip of rows into its own histogram, so that strips can be
# counted in parallel without racing on the same bins ...
partial = hl.Func("partial_hist")
partial[i, s] = hl.u32(0)  # the pure definition: every bin starts at 0
r = hl.RDom([(0, width), (0, rows)])  # r.x, r.y walk the pixels of one strip
partial[hl.cast(hl.Int(32), input[r.x, s * rows + r.y]), s] += hl.u32(1)

# ... then add the strips' histograms up.
hist = hl.Func("hist")
hist[i] = hl.u32(0)
rs = hl.RDom([(0, strips)])
hist[i] += partial[i, rs.x]

# The cumulative histogram: a scan, each bin adding the one before (cdf[-1] is 0).
cdf = hl.Func("cdf")
cdf[i] = hl.u32(0)
rv = hl.RDom([(0, 256)])
cdf[rv.x] = cdf[rv.x - 1] + hist[rv.x]

# The lookup table: the darkest grey present maps to 0, the brightest to 255.
cdf_min = hl.minimum(hl.select(cdf[rv.x] > 0, cdf[rv.x], hl.u32(n_pixels)))  # an inline reduction
scale = hl.f32(255) / hl.cast(hl.Float(32), hl.u32(n_pixels) - cdf_min)
level = hl.cast(hl.Float(32), hl.cast(hl.Int(32), cdf[i]) - hl.cast(hl.Int(32), cdf_min))
lut = hl.Func("lut")
lut[i] = hl.cast(hl.UInt(8), hl.clamp(hl.round(level * scale), 0.0, 255.0))

equalized = hl.Func("equalized")
equalized[x, y] = lut[hl.cast(hl.Int(32), input[x, y])]

# Schedule: the histograms and the table are computed once, in full
# (compute_root), the partial histograms one strip per thread; the output in
# parallel strips, 64 pixels per vector (a vector gather from the table).
partial.compute_root().update().parallel(s)
hist.compute_root()
cdf.compute_root()
lut.compute_root()
yi = hl.Var("yi")
equalized.split(y, y, yi, 64).parallel(y).vectorize(x, hl.get_host_target().natural_vector_size(hl.UInt(8)))
print_loop_nest(equalized)

output = np.asarray(equalized.realize([width, height]))
assert np.array_equal(output, reference_hist_eq({"input": image})), "differs from numpy"
print(f"matches numpy; grey levels {image.min()}..{image.max()} became {output.min()}..{output.max()}")

save_png("hist_eq_input.png", image)
save_png("hist_eq_output.png", output)
