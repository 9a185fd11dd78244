import pytest

import pipelang as hl
from pipelang import ir
from pipelang.function import registry
from pipelang.lowering.analysis.environment import find_environment
from pipelang.lowering.schedule_functions import schedule_functions

from ir_builders import find_all


def _lowered(out):
    env, order = find_environment([out.function], registry)
    return schedule_functions([out.function], env, order)


def _pipeline():
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("sf_f"), hl.Func("sf_g")
    f[x, y] = x + y
    g[x, y] = f[x - 1, y] + f[x + 1, y]
    return f, g, x, y


def test_default_schedule_inlines_the_producer():
    f, g, x, y = _pipeline()
    s = _lowered(g)
    assert not find_all(s, ir.Realize)
    assert {c.fn.name for c in find_all(s, ir.Call)} == set()
    loops = [l.sym.name for l in find_all(s, ir.For)]
    assert loops == [f"{g.name()}.s0.y", f"{g.name()}.s0.x"]


def test_compute_at_places_produce_inside_the_consumer_loop():
    f, g, x, y = _pipeline()
    f.compute_at(g, y)
    s = _lowered(g)
    outer = find_all(s, ir.For)[0]
    assert outer.sym.name == f"{g.name()}.s0.y"
    realize = find_all(outer.body, ir.Realize)
    assert realize and realize[0].fn is f.function.sym
    pcs = find_all(realize[0], ir.ProducerConsumer)
    assert [(p.fn, p.is_producer) for p in pcs][:2] == [(f.function.sym, True), (f.function.sym, False)]


def test_store_at_outside_compute_at():
    f, g, x, y = _pipeline()
    xo, xi = hl.Var("xo"), hl.Var("xi")
    g.split(x, xo, xi, 4)
    f.store_at(g, y).compute_at(g, xo)
    s = _lowered(g)
    y_loop = find_all(s, ir.For)[0]
    assert isinstance(find_all(y_loop.body, ir.Realize)[0].body, ir.Stmt)
    xo_loop = [l for l in find_all(s, ir.For) if l.sym.name == f"{g.name()}.s0.x.xo"][0]
    assert not find_all(xo_loop, ir.Realize)             # storage is outside the xo loop
    assert find_all(xo_loop, ir.ProducerConsumer)[0].is_producer


def test_split_defines_the_old_var_and_loop_kinds():
    f, g, x, y = _pipeline()
    xo, xi = hl.Var("xo"), hl.Var("xi")
    g.split(x, xo, xi, 8).vectorize(xi).parallel(y)
    s = _lowered(g)
    n = g.name()
    kinds = {l.sym.name: l.kind for l in find_all(s, ir.For)}
    assert kinds == {f"{n}.s0.y": ir.ForKind.PARALLEL, f"{n}.s0.x.xo": ir.ForKind.SERIAL,
                     f"{n}.s0.x.xi": ir.ForKind.VECTORIZED}
    lets = {l.sym.name for l in find_all(s, ir.LetStmt)}
    assert f"{n}.s0.x" in lets


def test_illegal_compute_at_lists_legal_locations():
    f, g, x, y = _pipeline()
    other = hl.Func("sf_other")
    other[x] = x
    f.compute_at(other, x)
    with pytest.raises(hl.HalideError, match=r"(?s)invalid location.*compute_at\(sf_g\S*, y\)"):
        _lowered(g)


def test_store_inside_compute_is_an_error():
    f, g, x, y = _pipeline()
    f.store_at(g, x).compute_at(g, y)
    with pytest.raises(hl.HalideError, match="store_at must be at or outside compute_at"):
        _lowered(g)


def _cyclic_garbage(work) -> list:
    """The objects `work()` leaves that only the cycle collector would free."""
    import gc
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        work()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()


@pytest.mark.parametrize("level", ["inline", "root", "at", "store_root"])
def test_loop_synthesis_leaves_no_cycles(level):
    # Compiled, closures that refer to each other (or to themselves) share a
    # scope that holds them: a cycle that kept the injection's Mentions memo,
    # and every statement it holds, alive until the collector's next pass.
    f, g, x, y = _pipeline()
    if level == "root":
        f.compute_root()
    elif level == "at":
        f.compute_at(g, y)
    elif level == "store_root":
        f.store_root().compute_at(g, x)
    garbage = _cyclic_garbage(lambda: _lowered(g))
    assert not [t for t in garbage if "scope" in t or "Mentions" in t or "closure" in t], garbage
