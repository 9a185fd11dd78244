"""`undef(t)`: an update element, or a select branch of it, that stores
nothing (Halide's semantics), against real Halide where installed."""
import pytest


@pytest.fixture(params=["pipelang", "halide"])
def hl(request):
    return pytest.importorskip(request.param)


def test_undef_values(hl):
    x = hl.Var("x")
    u = hl.undef(hl.Int(32))
    assert u.type() == hl.Int(32)
    f = hl.Func("f")                       # a Tuple element left as it was
    f[x] = (x, x * 10)
    f[x] = (f[x][0] + 1, hl.undef(hl.Int(32)))
    assert [list(b) for b in f.realize([3])] == [[1, 2, 3], [0, 10, 20]]
    g = hl.Func("g")                       # a select branch stores nothing
    g[x] = x
    g[x] = hl.select(x > 0, hl.undef(hl.Int(32)), g[x] + 5)
    assert list(g.realize([3])) == [5, 1, 2]
    h = hl.Func("h")                       # undefined outside a select: no store at all
    h[x] = x
    h[x] = hl.undef(hl.Int(32)) + 1
    assert list(h.realize([3])) == [0, 1, 2]
    r = hl.RDom([(0, 3)])                  # over an RDom
    k = hl.Func("k")
    k[x] = (0, 7)
    k[r.x] = (k[r.x][0] + r.x, hl.undef(hl.Int(32)))
    assert [list(b) for b in k.realize([4])] == [[0, 1, 2, 0], [7, 7, 7, 7]]
    p = hl.Func("p")                       # a pure element defined later by the update
    p[x] = (x, hl.undef(hl.Float(32)))
    p[x] = (p[x][0], hl.f32(x) / 2)
    assert [list(b) for b in p.realize([3])] == [[0, 1, 2], [0.0, 0.5, 1.0]]
