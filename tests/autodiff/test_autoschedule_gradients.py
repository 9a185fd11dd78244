"""Gradient pipelines scheduled by the autoscheduler give the gradients the
default schedule gives."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.autodiff import autoschedule_gradients


def _gradients(arr, w_arr):
    x, y = hl.Var("x"), hl.Var("y")
    inp, w = hl.Buffer(arr, "inp"), hl.Buffer(w_arr, "w")
    r = hl.RDom([(0, 3)], "r")
    blur = hl.Func("blur")
    blur[x, y] = 0.0
    blur[x, y] += w[r.x] * inp[x + r.x, y]
    sq = hl.Func("sq")
    sq[x, y] = blur[x, y] * blur[x, y]
    s = hl.RDom([(0, arr.shape[1] - 2), (0, arr.shape[0])], "s")
    loss = hl.Func("loss")
    loss[()] = 0.0
    loss[()] += sq[s.x, s.y]
    d = hl.propagate_adjoints(loss)
    return [(d[inp], [arr.shape[1], arr.shape[0]]), (d[w], [3])]


def test_autoscheduled_gradients_equal_default_ones():
    rng = np.random.default_rng(5)
    arr = rng.standard_normal((16, 32)).astype(np.float32)
    w_arr = rng.standard_normal(3).astype(np.float32)
    want = [np.asarray(f.realize(e)) for f, e in _gradients(arr, w_arr)]
    outs = _gradients(arr, w_arr)
    # The default schedule register-blocked the input's gradient (32 x 16
    # divides into tiles); the autoscheduler gets the plain reduction back.
    d_inp = outs[0][0].function
    reads_intm = any(c.fn.name.endswith("_intm") for c in _calls(d_inp.updates[-1].values))
    p = autoschedule_gradients(outs)
    assert not any(c.fn.name.endswith("_intm") for c in _calls(d_inp.updates[-1].values))
    got = [hl.Buffer(hl.Float(32), e) for _, e in outs]
    p.realize(got)
    for g, wv in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), wv, rtol=1e-5, atol=1e-5)
    lanes = hl.get_host_target().natural_vector_size(hl.Float(32))
    assert reads_intm or 32 % lanes


def _calls(values):
    from pipelang import ir
    out = []

    class _C(ir.IRVisitor):
        def visit_Call(self, node):
            out.append(node)
            self.generic_visit(node)
    for v in values:
        _C().visit(v)
    return out


@pytest.mark.slow
def test_autoscheduled_conv_backward_equals_default():
    from pipelang.bench import autodiff as bench
    inputs = bench.make_inputs(**bench.SIZES["tiny"])
    want = bench.reference(inputs)
    outs = bench.build(hl, inputs, schedule_forward=False)
    p = autoschedule_gradients(outs)
    got = [hl.Buffer(hl.Float(32), e) for _, e in outs]
    p.realize(got)
    for g, wv in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), wv, rtol=1e-4, atol=1e-4 * np.abs(wv).max())
