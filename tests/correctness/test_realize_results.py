"""What realize(sizes) hands back, as Halide's binding does: one Buffer for one
output, a tuple of Buffers for several outputs or Tuple elements."""
import pytest


@pytest.fixture(params=["pipelang", "halide"])
def hl(request):
    return pytest.importorskip(request.param)


def test_realize_of_several_outputs_is_a_tuple(hl):
    x = hl.Var("x")
    f, g, t = hl.Func("f"), hl.Func("g"), hl.Func("t")
    f[x] = x
    g[x] = x * 2.0
    t[x] = (x, x * 3.0)
    one = f.realize([3])
    assert isinstance(one, hl.Buffer) and list(one) == [0, 1, 2]
    both = hl.Pipeline([f, g]).realize([3])
    assert isinstance(both, tuple) and [list(b) for b in both] == [[0, 1, 2], [0.0, 2.0, 4.0]]
    elems = t.realize([2])
    assert isinstance(elems, tuple) and [list(b) for b in elems] == [[0, 1], [0.0, 3.0]]
    mixed = hl.Pipeline([t, f]).realize([2])
    assert isinstance(mixed, tuple) and len(mixed) == 3
