"""Shapes that broke Halide's autoschedulers (#8246, #8252, #8256, #8000, #7606):
size-1 outputs, scalar reductions, several outputs, long 1-D inputs, Tuples,
data-dependent reads. The autoscheduled result equals numpy's."""
import warnings

import numpy as np

import pipelang as hl

PARAMS = {"parallelism": 2, "time_budget_s": 0.3}


def _auto(outputs, sizes):
    outs = outputs if isinstance(outputs, list) else [outputs]
    for f in outs:
        f.set_estimates([hl.Range(0, s) for s in sizes])
    p = hl.Pipeline(outs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = p.apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams("Adams2019", PARAMS))
    assert r.report["chosen"] != "default", r.report["fallbacks"]
    return p, r


def test_size_one_output():
    x, y = hl.Var("x"), hl.Var("y")
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = hl.Buffer(a)[x, y] * 2
    g[x, y] = f[x, y] + f[x + 1, y]
    p, r = _auto(g, [1, 1])
    assert r.report["chosen"] != "default"
    assert np.asarray(p.realize([1, 1]))[0, 0] == a[0, 0] * 2 + a[0, 1] * 2


def test_scalar_reduction_over_a_long_1d_input():
    n = 199_993
    a = (np.arange(n) % 7).astype(np.int32)
    r = hl.RDom([(0, n)])
    total, out = hl.Func("total"), hl.Func("out")
    total[()] = 0
    total[()] += hl.Buffer(a)[r.x]
    x = hl.Var("x")
    out[x] = total[()] + x
    p, res = _auto(out, [5])
    np.testing.assert_array_equal(np.asarray(p.realize([5])), a.sum() + np.arange(5))


def test_two_outputs_and_a_histogram():
    x, y, i = hl.Var("x"), hl.Var("y"), hl.Var("i")
    img = np.random.default_rng(0).integers(0, 16, size=(40, 50)).astype(np.uint8)
    b = hl.Buffer(img)
    r = hl.RDom([(0, 50), (0, 40)])
    hist, blur, bright = hl.Func("hist"), hl.Func("blur"), hl.Func("bright")
    hist[i] = 0
    hist[hl.cast(hl.Int(32), b[r.x, r.y])] += 1
    clamped = hl.BoundaryConditions.repeat_edge(b)
    blur[x, y] = (hl.cast(hl.UInt(16), clamped[x - 1, y]) + clamped[x, y] + clamped[x + 1, y])
    bright[x, y] = blur[x, y] + hl.cast(hl.UInt(16), hist[hl.cast(hl.Int(32), b[x, y])])
    p, res = _auto([blur, bright], [50, 40])
    got_blur, got_bright = p.realize([50, 40])
    pad = np.pad(img.astype(np.uint16), ((0, 0), (1, 1)), mode="edge")
    ref_blur = pad[:, :-2] + pad[:, 1:-1] + pad[:, 2:]
    counts = np.bincount(img.ravel(), minlength=16)
    np.testing.assert_array_equal(np.asarray(got_blur), ref_blur)
    np.testing.assert_array_equal(np.asarray(got_bright), ref_blur + counts[img])


def test_tuple_valued_argmax_and_a_scan():
    x = hl.Var("x")
    a = np.random.default_rng(3).standard_normal(300).astype(np.float32)
    b = hl.Buffer(a)
    r = hl.RDom([(0, 300)])
    scan, am, out = hl.Func("scan"), hl.Func("am"), hl.Func("out")
    scan[x] = 0.0
    scan[r.x] = hl.select(r.x > 0, scan[r.x - 1], 0.0) + b[r.x]
    am[()] = hl.argmax(b[r.x])
    out[x] = scan[x] + hl.cast(hl.Float(32), am[()][0])
    p, res = _auto(out, [300])
    ref = np.cumsum(a, dtype=np.float32) + np.float32(np.argmax(a))
    np.testing.assert_allclose(np.asarray(p.realize([300])), ref, rtol=1e-4, atol=1e-3)
