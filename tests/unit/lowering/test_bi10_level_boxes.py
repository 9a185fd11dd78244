"""The Funcs computed at the root are bounded in one walk of their consumers
(`bounds_inference._level_boxes`), not one query each: the same boxes as
separate queries of each consume body, where the regions of the Funcs
bounded first are taken out of those bodies; each asked alone where they
are not."""
import re

import numpy as np

import pipelang as hl
from pipelang import ir
from pipelang.lowering import bounds_inference
from pipelang.lowering.analysis.boxes import boxes_touched
from pipelang.lowering.lower import lower_to_loop_nest


def _unnumbered(text):
    return re.sub(r"\bb\d+\b", "b", re.sub(r"\$\d+", "", text))


def _root_pyramid(n):
    """n root levels, each reading the one before (plus one) at 2x - 1 .. 2x + 1, all of
    them read again by the output inside its own loops (as local_laplacian's
    pyramids are)."""
    x, y = hl.Var("x"), hl.Var("y")
    inp = (np.arange(64 * 80, dtype=np.int32).reshape(64, 80) * 7919) % 1000
    levels = [hl.BoundaryConditions.repeat_edge(hl.Buffer(inp))]
    for i in range(n):
        f, p = hl.Func(f"bi10_level{i}"), hl.Func(f"bi10_inlined{i}")
        p[x, y] = levels[-1][x, y] + 1      # (inlined Funcs between the root ones in the order)
        f[x, y] = p[2 * x - 1, y] + p[2 * x, y] * 2 + p[2 * x + 1, y]
        levels.append(f)
    out = hl.Func("bi10_out")
    out[x, y] = sum((levels[i + 1][x // (2 ** (i + 1)), y] for i in range(n)), hl.i32(0))
    for f in levels[1:]:
        f.compute_root()
    yo, yi = hl.Var("yo"), hl.Var("yi")
    out.split(y, yo, yi, 4)
    return out, levels[1:], inp


def _numpy_pyramid(inp, n, w, h):
    rows = inp[:h].astype(np.int64)

    def level(i, xs):
        if i == 0:
            return rows[:, np.clip(xs, 0, rows.shape[1] - 1)]
        return level(i - 1, 2 * xs - 1) + level(i - 1, 2 * xs) * 2 + level(i - 1, 2 * xs + 1) + 4
    xs = np.arange(w)
    return sum(level(i + 1, xs // (2 ** (i + 1))) for i in range(n))


def _queries(monkeypatch) -> list:
    asked = []
    original = bounds_inference.boxes_touched

    def counted(stmt, syms=None, **kw):
        asked.append((frozenset(syms), kw.get("consumed") is not None, kw.get("provides", False)))
        return original(stmt, syms, **kw)
    monkeypatch.setattr(bounds_inference, "boxes_touched", counted)
    return asked


def _unbatched(monkeypatch):
    monkeypatch.setattr(bounds_inference, "_level_boxes", lambda *a: {})


def test_root_funcs_are_bounded_in_one_walk(monkeypatch):
    asked = _queries(monkeypatch)
    out, levels, _ = _root_pyramid(4)
    lower_to_loop_nest([out.function])
    walks = [syms for syms, consumed, _ in asked if consumed]
    assert walks == [frozenset(f.function.sym for f in levels)]
    # No Func's consumers are asked about on their own: the queries left
    # are those of what each Realize holds.
    assert [provides for _, consumed, provides in asked if not consumed] == [True] * len(levels)


def test_one_walk_gives_the_statement_of_one_query_each(monkeypatch):
    out, _, _ = _root_pyramid(4)
    together = ir.to_string(lower_to_loop_nest([out.function])[0])
    _unbatched(monkeypatch)
    out, _, _ = _root_pyramid(4)
    alone = ir.to_string(lower_to_loop_nest([out.function])[0])
    # (Func names get a suffix when an earlier Func has the same name, and
    # buffers are numbered.)
    assert _unnumbered(together) == _unnumbered(alone)


def test_root_pyramid_computes_right():
    out, _, inp = _root_pyramid(4)
    got = np.asarray(out.realize([48, 20]))
    np.testing.assert_array_equal(got, _numpy_pyramid(inp, 4, 48, 20))


def test_a_walk_gives_each_func_the_box_of_its_consume_body():
    """Hand-built: produce g; consume g { produce f (reads g); consume f
    (reads f and g) }: g's box from the whole consume g body, f's from its
    consume body alone."""
    F, G, X, Y, N = (ir.Symbol(n) for n in ("f", "g", "x", "y", "n"))
    x, y, n = ir.var(X), ir.var(Y), ir.var(N)

    def call(sym, e):
        return ir.Call(ir.Int(32), sym, (e,))
    produce_f = ir.ProducerConsumer(F, True, ir.For(
        X, ir.i32(0), n, ir.ForKind.SERIAL, ir.Provide(F, (call(G, ir.Add(x, ir.i32(3))),), (x,))))
    consume_f = ir.ProducerConsumer(F, False, ir.For(
        Y, ir.i32(1), ir.Sub(n, ir.i32(2)), ir.ForKind.SERIAL,
        ir.Provide(ir.Symbol("h"), (ir.Add(call(F, ir.Sub(y, ir.i32(1))), call(G, y)),), (y,))))
    body = ir.Block((produce_f, consume_f))
    both = boxes_touched(body, {F, G}, memo={}, consumed={G})
    assert set(both) == {F, G}
    for sym, stmt in ((G, body), (F, consume_f.body)):
        alone = boxes_touched(stmt, [sym], memo={})[sym]
        assert both[sym] == alone, (sym, both[sym], alone)


def test_a_func_nothing_calls_is_found_with_no_box():
    F, G, X = ir.Symbol("f"), ir.Symbol("g"), ir.Symbol("x")
    consume_f = ir.ProducerConsumer(F, False, ir.For(
        X, ir.i32(0), ir.i32(4), ir.ForKind.SERIAL,
        ir.Provide(ir.Symbol("h"), (ir.Call(ir.Int(32), G, (ir.var(X),)),), (ir.var(X),))))
    got = boxes_touched(consume_f, {F, G}, memo={}, consumed={G})
    assert got[F] is None and got[G][0].max == ir.i32(3)


def test_regions_left_by_their_produce_are_asked_alone(monkeypatch):
    """A region that reads memory stays by its produce (`_RegionLifter`),
    inside the consume bodies of the Funcs bounded after it: their boxes
    are then asked alone, and the statement is that of one query each.
    (Made so here by taking every region over the output's for one that
    reads memory.)"""
    def lowered(unbatched=False):
        x = hl.Var("x")
        g, f, out = hl.Func("bi10_g"), hl.Func("bi10_f"), hl.Func("bi10_o")
        g[x] = x * 3
        f[x] = g[x - 1] + g[x + 1]
        out[x] = f[x + 3] + g[x]
        g.compute_root()
        f.compute_root()
        if unbatched:
            _unbatched(monkeypatch)
        return out, g, ir.to_string(lower_to_loop_nest([out.function])[0])
    monkeypatch.setattr(bounds_inference, "reads_memory", lambda e: any(
        s.name.startswith("bi10_o") for s in ir.free_symbols(e)))
    asked = _queries(monkeypatch)
    out, g, together = lowered()
    assert (frozenset({g.function.sym}), False, False) in asked     # g's consumers, after f's
    got = np.asarray(out.realize([10]))
    xs = np.arange(10)
    np.testing.assert_array_equal(got, (xs + 2) * 3 + (xs + 4) * 3 + xs * 3)
    assert _unnumbered(lowered(unbatched=True)[2]) == _unnumbered(together)
