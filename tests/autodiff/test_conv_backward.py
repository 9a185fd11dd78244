"""The conv layer's backward pass as the benchmark runs it: the three gradients
realized as one Pipeline (sharing the forward conv and the ReLU mask), the
register-blocked default schedule, and the fallbacks where a tile does not
divide the extents. Each checked against numpy."""
import re

import numpy as np
import pytest

import pipelang as hl
from pipelang.bench import autodiff as bench


def _register_blocked(f) -> bool:
    """Whether the default schedule rfactored `f`'s reduction into a per-tile intermediate."""
    from pipelang import ir
    found = []

    class _Calls(ir.IRVisitor):
        def visit_Call(self, node):
            found.append(node.fn.name)
            self.generic_visit(node)
    for v in f.function.updates[-1].values:
        _Calls().visit(v)
    return any(name.endswith("_intm") for name in found)


@pytest.mark.parametrize("dims", [dict(N=1, C=16, K=16, W=12), dict(N=2, C=32, K=48, W=4)])
def test_gradients_as_one_pipeline(dims):
    inputs = bench.make_inputs(**dims)
    want = bench.reference(inputs)
    outs = bench.build(hl, inputs)
    p = hl.Pipeline([f for f, _ in outs])
    bufs = [hl.Buffer(hl.Float(32), e) for _, e in outs]
    p.realize(bufs)
    for b, w, what in zip(bufs, want, ("input", "weights", "bias")):
        np.testing.assert_allclose(np.asarray(b), w, rtol=1e-4, atol=1e-4 * np.abs(w).max(),
                                   err_msg=f"gradient of the {what}")
    text = p.lowered_stmt()
    # The forward conv is computed once for the three gradients.
    assert len(re.findall(r"allocate conv(\$\d+)?\[", text)) == 1
    # Each gradient reduction is register-blocked: an rfactor intermediate per tile.
    for f, _ in outs:
        assert _register_blocked(f), f"{f.name()} is not register-blocked"


def test_extents_no_tile_divides_fall_back():
    # 12 channels: not a multiple of the vector width, so the old guarded
    # schedule is used; the gradients are still right.
    inputs = bench.make_inputs(N=1, C=12, K=12, W=5)
    want = bench.reference(inputs)
    outs = bench.build(hl, inputs)
    got = [hl.Buffer(hl.Float(32), e) for _, e in outs]
    hl.Pipeline([f for f, _ in outs]).realize(got)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-4, atol=1e-4 * np.abs(w).max())
    lanes = hl.get_host_target().natural_vector_size(hl.Float(32))
    if 12 % lanes:
        assert not any(_register_blocked(f) for f, _ in outs)


def test_register_blocked_gradient_can_be_rescheduled_after():
    # The default schedule's rfactor leaves an ordinary Func: a user can still
    # schedule the gradient's pure definition by hand.
    inputs = bench.make_inputs(N=1, C=16, K=16, W=6)
    want = bench.reference(inputs)
    f, e = bench.build(hl, inputs)[1]
    f.parallel(f.args()[1])
    np.testing.assert_allclose(np.asarray(f.realize(e)), want[1], rtol=1e-4,
                               atol=1e-4 * np.abs(want[1]).max())
