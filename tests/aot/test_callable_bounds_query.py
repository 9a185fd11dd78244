"""A Callable called with `Buffer.make_bounds_query` buffers runs Halide's
bounds query: nothing is computed, and each query buffer gets the region the
pipeline reads (inputs) or writes (outputs). Halide's own
test/correctness/callable.py `test_callable()` (both halves) runs as written,
and the regions of a stencil with a RoundUp split match real Halide's."""
import os

import numpy as np
import pytest

import pipelang as hl

HALIDE = os.environ.get("HALIDE_SRC", "/work/halide-v21")
CALLABLE_TEST = os.path.join(HALIDE, "python_bindings/test/correctness/callable.py")


@pytest.mark.skipif(not os.path.exists(CALLABLE_TEST), reason="Halide's sources are not checked out")
def test_halide_callable_test_callable():
    """Halide's test_callable() (which Halide itself leaves commented out in its
    __main__): running, then the bounds-query half."""
    text = open(CALLABLE_TEST).read()
    source = text[text.index("def test_callable():"):text.index("def test_simple(")]
    scope = {"hl": hl}
    exec(compile(source, CALLABLE_TEST, "exec"), scope)
    scope["test_callable"]()


def _stencil(hl_mod):
    x, y = hl_mod.Var("x"), hl_mod.Var("y")
    inp = hl_mod.ImageParam(hl_mod.Int(16), 2, "inp")
    k = hl_mod.Param(hl_mod.Int(32), "k", 1)
    f = hl_mod.Func("blur_q")
    f[x, y] = inp[x - 1, y] + inp[x + 2, y + k] * 2
    xo, xi = hl_mod.Var("xo"), hl_mod.Var("xi")
    f.split(x, xo, xi, 8, hl_mod.TailStrategy.RoundUp)
    return f.compile_to_callable([inp, k])


def _shape(b):
    return [(b.dim(d).min(), b.dim(d).extent(), b.dim(d).stride()) for d in range(b.dimensions())]


def _query(hl_mod, k, out_min, out_size):
    c = _stencil(hl_mod)
    q_in = hl_mod.Buffer.make_bounds_query(hl_mod.Int(16), [1, 1])
    q_out = hl_mod.Buffer.make_bounds_query(hl_mod.Int(16), out_size)
    q_out.set_min(out_min)
    c(q_in, k, q_out)
    return _shape(q_in), _shape(q_out)


def test_stencil_regions_match_numbers():
    q_in, q_out = _query(hl, 3, [5, -2], [13, 4])
    assert q_out == [(5, 16, 1), (-2, 4, 16)]          # rounded up to 2 vectors of 8
    assert q_in == [(4, 19, 1), (-2, 7, 19)]           # x - 1 .. x + 2, y .. y + 3


def test_stencil_regions_match_halide():
    halide = pytest.importorskip("halide")
    for k, mn, size in ((3, [5, -2], [13, 4]), (-2, [0, 0], [8, 1])):
        assert _query(hl, k, mn, size) == _query(halide, k, mn, size)


def test_query_with_a_real_input_sizes_only_the_output():
    c = _stencil(hl)
    inp = hl.Buffer(hl.Int(16), [30, 30])
    q_out = hl.Buffer.make_bounds_query(hl.Int(16), [3, 3])
    c(inp, 1, q_out)
    assert _shape(q_out) == [(0, 8, 1), (0, 3, 8)]
    assert _shape(inp) == [(0, 30, 1), (0, 30, 30)]


def test_real_buffers_still_run_and_check():
    c = _stencil(hl)
    a = np.arange(12 * 20, dtype=np.int16).reshape(12, 20)
    inp = hl.Buffer(a)
    inp.set_min([-1, 0])
    out = np.zeros((10, 16), np.int16)
    c(inp, 1, hl.Buffer(out))
    # out(x, y) = in(x - 1, y) + 2 * in(x + 2, y + 1), with in(i, j) = a[j, i + 1].
    np.testing.assert_array_equal(out, a[0:10, 0:16] + 2 * a[1:11, 3:19])
    with pytest.raises(hl.HalideError, match="Input buffer inp has type int16 but type of the "
                                             "buffer passed in is uint8"):
        c(hl.Buffer.make_bounds_query(hl.UInt(8), [1, 1]), 1,
          hl.Buffer.make_bounds_query(hl.Int(16), [8, 8]))

