"""How Buffers, Funcs and Pipelines show themselves in Jupyter.

A Buffer that looks like an image (2-D, or 3-D with 1, 3 or 4 channels in
Halide's planar [x, y, c] order) shows as a PNG: 8-bit data as it is, 16-bit
data by its high byte, floats clipped to [0, 1] when they lie within it
(else scaled from their min to their max), other integers scaled likewise.
A Func or Pipeline shows its loop nest (`print_loop_nest`'s text).
"""
from __future__ import annotations

import html

import numpy as np

_MAX_SIDE = 8192          # beyond this a notebook would stall on the PNG


def _to_8bit(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return (a >> 8).astype(np.uint8)
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    f = a.astype(np.float64)
    finite = f[np.isfinite(f)]
    if finite.size == 0:
        return np.zeros(a.shape, np.uint8)
    lo, hi = float(finite.min()), float(finite.max())
    if a.dtype.kind == "f" and lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip(np.nan_to_num((f - lo) * scale), 0, 255).round().astype(np.uint8)


def buffer_png(buf) -> bytes | None:
    """PNG bytes of an image-like Buffer, or None (Jupyter then shows its repr)."""
    from pipelang.bench.png import encode_png
    if not buf.defined():
        return None
    a = np.asarray(buf)                       # numpy order: (h, w) or (c, h, w)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)              # planar [x, y, c] -> (h, w, c)
        if a.shape[2] == 1:
            a = a[:, :, 0]
    elif a.ndim != 2:
        return None
    if min(a.shape[:2]) == 0 or max(a.shape[:2]) > _MAX_SIDE:
        return None
    return encode_png(np.ascontiguousarray(_to_8bit(a)))


def loop_nest_html(fns) -> str:
    from pipelang.loop_nest import loop_nest_text
    return f"<pre>{html.escape(loop_nest_text(fns))}</pre>"
