"""Sliding window down an upsampling pyramid (Halide's apps/interpolate): each
level's region per row is bounded through the named extent of the level
above (`min + extent - 1`), a let the monotonicity check now sees through.
Every level computed per output row is then computed once per point.

The input is exactly as large as the pyramid reads, as in Halide. (Both
mechanisms are tested directly in tests/unit/lowering/test_intervals.py and
test_boxes_loop_max.py: since the simplifier folds min(x/2, (x + 1)/2), this
pyramid's region lets stay small enough not to be named.)"""
import collections
import re

import numpy as np
import pytest

import pipelang as hl

LEVELS = 6
W, H = 64, 64


def _pyramid(hl=hl):
    img = np.random.default_rng(3).integers(0, 100, (H // 2 ** (LEVELS - 1) + 2, W // 2 ** (LEVELS - 1) + 2))
    img = img.astype(np.int32)
    x, y = hl.Var("x"), hl.Var("y")
    g = [hl.Func(f"swl_g{i}") for i in range(LEVELS)]
    g[LEVELS - 1][x, y] = hl.Buffer(img)[x, y]
    for i in range(LEVELS - 2, -1, -1):
        up = g[i + 1]
        g[i][x, y] = up[x // 2, y // 2] + 2 * up[(x + 1) // 2, (y + 1) // 2] + i
    out = g[0]
    yo, yi = hl.Var("yo"), hl.Var("yi")
    out.split(y, yo, yi, 16)
    for i in range(1, LEVELS - 1):
        g[i].store_at(out, yo).compute_at(out, yi)
    return img, g


def _numpy(img):
    a = img
    for i in range(LEVELS - 2, -1, -1):
        h, w = (a.shape[0] - 1) * 2, (a.shape[1] - 1) * 2
        ys, xs = np.arange(h)[:, None], np.arange(w)[None, :]
        a = a[ys // 2, xs // 2] + 2 * a[(ys + 1) // 2, (xs + 1) // 2] + i
    return a


def _rows_read(rows, level):
    for _ in range(level):
        rows = {r // 2 for r in rows} | {(r + 1) // 2 for r in rows}
    return rows


def test_each_level_is_computed_once_per_point(capfd):
    img, g = _pyramid()
    for f in g[1:LEVELS - 1]:
        f.trace_stores()
    out = np.asarray(g[0].realize([W, H]))
    np.testing.assert_array_equal(out, _numpy(img)[:H, :W])
    text = capfd.readouterr().out
    for i in range(1, LEVELS - 1):
        stores = re.findall(rf"Store swl_g{i}[^.]*\.0\((-?\d+), (-?\d+)\)", text)
        columns = len({c for c, _ in stores})
        # Each strip of 16 output rows (its own storage) computes the rows of
        # level i it reads, each once: no row again for the next output row.
        expected = sum(len(_rows_read(range(16 * s, 16 * s + 16), i)) for s in range(H // 16)) * columns
        assert len(stores) == expected, f"level {i}: {len(stores)} points computed, {expected} needed"

def test_matches_numpy_vectorized():
    img, g = _pyramid()
    out = g[0]
    out.vectorize(hl.Var("x"), 8)
    got = np.asarray(out.realize([W, H]))
    np.testing.assert_array_equal(got, _numpy(img)[:H, :W])


def test_same_input_and_output_as_halide():
    halide = pytest.importorskip("halide")
    img, g = _pyramid(halide)
    want = np.asarray(g[0].realize([W, H]))
    img2, g2 = _pyramid()
    np.testing.assert_array_equal(np.asarray(g2[0].realize([W, H])), want)
