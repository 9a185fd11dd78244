"""Seeded random pipelines at realistic sizes, for the cost model's training
data (`collect`) and its held-out evaluation (`evaluate`).

They differ from `pipelang.testing.random_pipeline` (small, UB-hunting programs
for correctness): these are built from the stage kinds image pipelines are
made of, at 256 to 2048 pixels a side, so their schedules' run times mean
something. Kinds: pointwise math, separable and square stencils, down- and
upsampling, transposes, small RDom reductions (convolution-like), serial
scans, histograms with a data-dependent lookup. The benchmark suite's
pipelines are never among them.

    pipeline, text = random_perf_pipeline(seed=7)
    print(text)                 # one line per stage, for logs
"""
from __future__ import annotations

import random

import numpy as np

KINDS = ("point", "point", "stencil_x", "stencil_y", "box", "down", "up", "transpose",
         "reduce", "reduce", "scan", "hist", "mix")


def random_perf_pipeline(seed: int):
    """(Pipeline with estimates set, a one-line-per-stage description)."""
    import pipelang as hl
    rng = random.Random(seed)
    x, y = hl.Var("x"), hl.Var("y")
    w = 1 << rng.randint(8, 11)
    h = max(64, min(2048, int(2 ** rng.uniform(8, 11)) // 16 * 16))
    if w * h > (1 << 21):
        h = max(64, (1 << 21) // w)
    data = np.random.default_rng(seed).random((h + 64, w + 64), dtype=np.float32)
    inp = hl.Buffer(data)
    inp.set_min([-32, -32])
    src = hl.Func("in_b")
    src[x, y] = hl.BoundaryConditions.repeat_edge(inp)[x, y]
    funcs = [src]
    lines = [f"input {w + 64}x{h + 64} f32 (output {w}x{h})"]
    n = rng.randint(3, 9)
    scale = {src.name(): 1.0}             # size of each Func relative to the output
    for i in range(n):
        kind = rng.choice(KINDS)
        g = funcs[-1] if rng.random() < 0.7 else rng.choice(funcs[-3:])
        f = hl.Func(f"s{i}_{kind}")
        s = scale[g.name()]
        if kind == "point":
            other = rng.choice(funcs[-4:])
            if scale[other.name()] != s:
                other = g
            op = rng.randrange(4)
            if op == 0:
                f[x, y] = g[x, y] * 0.75 + other[x, y] * 0.25
            elif op == 1:
                f[x, y] = hl.sqrt(hl.abs(g[x, y]) + 1.0) * other[x, y]
            elif op == 2:
                f[x, y] = hl.select(g[x, y] > other[x, y], g[x, y] - other[x, y], g[x, y] * 0.5)
            else:
                f[x, y] = hl.max(g[x, y], other[x, y]) + hl.min(g[x, y], 0.5)
        elif kind in ("stencil_x", "stencil_y"):
            r = rng.randint(1, 3)
            taps = [g[x + k, y] if kind == "stencil_x" else g[x, y + k] for k in range(-r, r + 1)]
            f[x, y] = sum(taps[1:], taps[0]) * hl.f32(1.0 / len(taps))
        elif kind == "box":
            f[x, y] = (g[x - 1, y - 1] + g[x, y - 1] + g[x + 1, y - 1] + g[x - 1, y] + g[x, y] * 2.0
                       + g[x + 1, y] + g[x - 1, y + 1] + g[x, y + 1] + g[x + 1, y + 1]) * 0.1
        elif kind == "down":
            if s > 4:
                f[x, y] = g[x, y] * 1.5
            else:
                f[x, y] = (g[2 * x, 2 * y] + g[2 * x + 1, 2 * y] + g[2 * x, 2 * y + 1]
                           + g[2 * x + 1, 2 * y + 1]) * 0.25
                s = s * 2            # its consumers read it at half the resolution
        elif kind == "up":
            f[x, y] = (g[x // 2, y // 2] + g[(x + 1) // 2, (y + 1) // 2]) * 0.5
            s = max(1.0, s / 2)
        elif kind == "transpose":
            f[x, y] = g[y, x] + 1.0
        elif kind == "reduce":
            k = rng.choice((3, 5, 8, 16))
            r = hl.RDom([(0, k)], f"r{i}") if rng.random() < 0.5 else hl.RDom([(0, 3), (0, k)], f"r{i}")
            f[x, y] = 0.0
            if r.dimensions() == 1:
                f[x, y] += g[x + r.x, y] * hl.f32(1.0 / k)
            else:
                f[x, y] += g[x + r.x - 1, y + r.y] * hl.f32(1.0 / (3 * k))
        elif kind == "scan":
            r = hl.RDom([(1, max(8, int(w / max(s, 1))) - 1)], f"r{i}")
            f[x, y] = g[x, y]
            if rng.random() < 0.5:
                f[r.x, y] = f[r.x - 1, y] * 0.5 + f[r.x, y] * 0.5
            else:
                r = hl.RDom([(1, max(8, int(h / max(s, 1))) - 1)], f"r{i}")
                f[x, r.x] = f[x, r.x - 1] * 0.5 + f[x, r.x] * 0.5
        elif kind == "hist":
            hist = hl.Func(f"s{i}_counts")
            r = hl.RDom([(0, max(8, w // 4)), (0, max(8, h // 4))], f"r{i}")
            hist[x] = 0
            bucket = hl.clamp(hl.cast(hl.Int(32), g[r.x, r.y] * 64.0), 0, 63)
            hist[bucket] += 1
            f[x, y] = g[x, y] * hl.cast(hl.Float(32), hist[hl.clamp(hl.cast(hl.Int(32),
                                                                           g[x, y] * 64.0), 0, 63)])
            scale[hist.name()] = 1.0
        else:     # mix: an unrolled-looking pointwise combination of three producers
            a, b = rng.choice(funcs), rng.choice(funcs)
            if scale[a.name()] != s:
                a = g
            if scale[b.name()] != s:
                b = g
            f[x, y] = g[x, y] * a[x, y] + b[x, y] * 0.3 - hl.min(a[x, y], b[x, y])
        scale[f.name()] = s
        funcs.append(f)
        lines.append(f"{f.name()} <- {g.name()}")
    out = funcs[-1]
    if out.name() == src.name() or any(out.name() == k for k in scale if k.endswith("_counts")):
        final = hl.Func("output")
        final[x, y] = out[x, y] + 0.0
        out = final
    out.set_estimates([hl.Range(0, w), hl.Range(0, h)])
    return hl.Pipeline(out), "; ".join(lines)


def split_of(seed: int) -> str:
    """'train' or 'test', by a hash of the seed (never by sample), so the
    evaluation's pipelines are never trained on."""
    return "test" if (seed * 2654435761) % 2**32 % 8 == 0 else "train"
