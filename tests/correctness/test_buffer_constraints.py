"""dim(i).set_min/extent/stride/bounds on ImageParams and output buffers, and
infer_input_bounds, against real Halide 21 (the same code runs under both)."""
import numpy as np
import pytest

import pipelang


def _multipass(hl):
    inp = hl.ImageParam(hl.Float(32), 2, "mp_input")
    f = hl.Func("mp_f")
    x, y = hl.Var("x"), hl.Var("y")
    f[x, y] = inp[x + 1, y + 1] + inp[x - 1, y - 1]
    f[x, y] += 3.0
    xi = hl.Var("xi")
    f.update().split(x, x, xi, 4).vectorize(xi)
    o = f.output_buffer()
    inp.dim(0).set_bounds(min=inp.dim(1).min() - 5, extent=inp.dim(1).extent() + o.dim(0).extent())
    o.dim(0).set_bounds(min=0, extent=hl.select(o.dim(0).extent() < 22, o.dim(0).extent() + 1,
                                                o.dim(0).extent()))
    q = hl.Buffer.make_bounds_query(type=hl.Float(32), sizes=[7, 8])
    q.set_min([2, 2])
    f.infer_input_bounds(q)
    b = inp.get()
    shapes = [(b.dim(d).min(), b.dim(d).extent()) for d in range(2)]
    shapes += [(q.dim(d).min(), q.dim(d).extent()) for d in range(2)]
    out = hl.Buffer(hl.Float(32), [q.dim(0).extent(), q.dim(1).extent()])
    out.set_min([q.dim(0).min(), q.dim(1).min()])
    f.realize(out)
    return shapes, np.asarray(out).shape


def _blur_inference(hl):
    inp = hl.ImageParam(hl.Int(16), 2, "bi_input")
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("bi_f")
    f[x, y] = inp[x - 1, y] + inp[x + 2, y * 2]
    f.infer_input_bounds([10, 5])
    b = inp.get()
    return [(b.dim(d).min(), b.dim(d).extent()) for d in range(2)]


@pytest.mark.parametrize("build", [_multipass, _blur_inference], ids=["multipass", "blur"])
def test_inferred_shapes_match_halide(build):
    halide = pytest.importorskip("halide")
    assert build(pipelang) == build(halide)


def test_multipass_numbers():
    shapes, out_shape = _multipass(pipelang)
    assert shapes == [(-4, 34), (1, 10), (0, 24), (2, 8)]
    assert out_shape == (8, 24)


def _violation(hl, which):
    inp = hl.ImageParam(hl.Int(32), 1, "cv_input")
    x = hl.Var("x")
    f = hl.Func("cv_f")
    f[x] = inp[x] * 2
    if which == "input_min":
        inp.dim(0).set_min(0)
        b = hl.Buffer(hl.Int(32), [20])
        b.set_min([3])
        inp.set(b)
        size = [10]
    elif which == "input_stride":
        inp.dim(0).set_stride(1)
        inp.set(hl.Buffer(np.arange(20, dtype=np.int32)))
        size = [10]
    else:
        f.output_buffer().dim(0).set_extent(8)
        inp.set(hl.Buffer(np.arange(20, dtype=np.int32)))
        size = [7]
    try:
        out = f.realize(size)
        return "ok " + str(np.asarray(out).tolist())
    except hl.HalideError as e:
        return str(e).strip()


@pytest.mark.parametrize("which", ["input_min", "input_stride", "output_extent"])
def test_constraint_checks_match_halide(which):
    halide = pytest.importorskip("halide")
    ours, theirs = _violation(pipelang, which), _violation(halide, which)
    assert ours in theirs, (ours, theirs)


def test_output_buffer_errors():
    hl = pipelang
    x = hl.Var("x")
    t = hl.Func("ob_t")
    t[x] = (x, x + 1)
    with pytest.raises(hl.HalideError, match="returns a Tuple"):
        t.output_buffer()
    assert [b.dimensions() for b in t.output_buffers()] == [1, 1]
    u = hl.Func("ob_u")
    with pytest.raises(hl.HalideError, match="undefined"):
        u.output_buffer()
    img = hl.ImageParam(hl.Int(32), 1, "ob_img")
    with pytest.raises(hl.HalideError, match="integer"):
        img.dim(0).set_min(1.5)
