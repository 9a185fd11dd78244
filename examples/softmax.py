"""Softmax over the channels of every pixel (NHWC), numerically stable.

    python examples/softmax.py       (add --halide to run the same code on real Halide)

Three reductions over the channel RDom: the maximum (for stability), the sum
of exponentials, then the normalized output.
"""

import numpy as np
from common import hl, print_loop_nest

pixels, channels = 4096, 16
rng = np.random.default_rng(2)
logits_np = rng.normal(0, 3, size=(pixels, channels)).astype(np.float32)
logits = hl.Buffer(logits_np)                   # buffer [c, p]

c, p = hl.Var("c"), hl.Var("p")
r = hl.RDom([(0, channels)])
peak, exps, total, softmax = hl.Func("peak"), hl.Func("exps"), hl.Func("total"), hl.Func("softmax")
peak[p] = hl.maximum(logits[r, p])
exps[c, p] = hl.exp(logits[c, p] - peak[p])
total[p] = hl.f32(0)
total[p] += exps[r, p]
softmax[c, p] = exps[c, p] / total[p]

# Schedule: blocks of 64 pixels in parallel; within a block the maximum and
# the exponentials are computed once per pixel and kept for the normalization.
po, pi = hl.Var("po"), hl.Var("pi")
softmax.split(p, po, pi, 64).parallel(po).vectorize(c, 16)
peak.compute_at(softmax, po)
exps.compute_at(softmax, po).vectorize(c, 16)
total.compute_at(softmax, po)
print_loop_nest(softmax)

out = np.asarray(softmax.realize([channels, pixels]))     # (p, c)
shifted = np.exp(logits_np - logits_np.max(axis=1, keepdims=True))
expected = shifted / shifted.sum(axis=1, keepdims=True)
error = np.max(np.abs(out - expected))
assert error <= 1e-6, f"differs from numpy by {error}"
assert np.allclose(out.sum(axis=1), 1, atol=1e-5)
print(f"matches numpy (max difference {error:.2g})")
