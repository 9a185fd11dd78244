"""Region lets of a Func go up to the top of its loop level, so the Funcs it
reads are bounded in terms of its region by name (Halide's BoundsInference);
that of a Func stored outside its compute loop too: sliding window expands
them where it needs them in the loops' terms."""
import numpy as np

import pipelang as hl
from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.lower import lower_to_loop_nest

from ir_builders import find_all


def _lets(s):
    return {l.sym: l.value for l in find_all(s, ir.LetStmt)}


def _root_chain(n):
    x, y = hl.Var("x"), hl.Var("y")
    inp = (np.arange(70 * 90, dtype=np.int32).reshape(70, 90) * 7919) % 1000
    funcs = [hl.Func(f"rl_root{i}") for i in range(n)]
    prev = hl.BoundaryConditions.repeat_edge(hl.Buffer(inp))
    for f in funcs:
        f[x, y] = prev[x - 1, y] + prev[x + 1, y] * 2 + prev[x, y + 1]
        prev = f
    for f in funcs[:-1]:
        f.compute_root().vectorize(x, 8)
    funcs[-1].vectorize(x, 8)
    return funcs, inp


def _numpy_chain(inp, n, w, h):
    """Each stage reads x - 1, x + 1 and y + 1 of the one before; only the
    input has a boundary condition."""
    xs, ys = np.arange(-n, w + n), np.arange(0, h + n)
    a = inp[np.clip(ys, 0, inp.shape[0] - 1)][:, np.clip(xs, 0, inp.shape[1] - 1)].astype(np.int64)
    for _ in range(n):
        a = a[:-1, :-2] + a[:-1, 2:] * 2 + a[1:, 1:-1]
    return a


def test_producer_region_names_its_consumers():
    funcs, _ = _root_chain(4)
    s = lower_to_loop_nest([funcs[-1].function])[0]
    lets = _lets(s)
    for prod, cons in zip(funcs[:-1], funcs[1:]):
        lo = lets[L.region_min(prod.function, 0, "x")]
        hi = lets[L.region_max(prod.function, 0, "x")]
        # The consumer's region by name, not its loops expanded once more.
        names = {L.region_min(cons.function, 0, "x"), L.region_max(cons.function, 0, "x")}
        for e in (lo, hi):
            assert ir.free_symbols(e) and ir.free_symbols(e) <= names, ir.to_string(e)
            assert len(ir.to_string(e)) < 80, ir.to_string(e)


def test_lifted_regions_compute_right():
    funcs, inp = _root_chain(6)
    got = np.asarray(funcs[-1].realize([61, 47]))
    np.testing.assert_array_equal(got, _numpy_chain(inp, 6, 61, 47))


def _chain_above(s, fn):
    """The symbols of the LetStmt chain right above `produce fn`."""
    out = []

    class _Find(ir.IRVisitor):
        def visit_LetStmt(self, node):
            chain, body = [], node
            while isinstance(body, ir.LetStmt):
                chain.append(body.sym)
                body = body.body
            first = body.stmts[0] if isinstance(body, ir.Block) else body
            if isinstance(first, ir.ProducerConsumer) and first.is_producer and first.fn is fn.sym:
                out.extend(chain)
            self.visit(body)
    _Find().visit(s)
    return set(out)


def test_func_computed_inside_a_sliding_func_warms_up():
    # g slides down each strip (stored at the strip, computed per row), fed by
    # f computed where it is stored (per row of g): f's lets go up to the top
    # of g's row loop, g's to the top of out's (right above g's produce).
    # On the rewound loop's warm-up iterations g's produce must run whole:
    # its stores sit inside f's consume, which was skipped as a consumer
    # (rows 0 and 1 of every strip were uninitialized; real Halide agrees
    # with the reference).
    x, y, yo, yi = hl.Var("x"), hl.Var("y"), hl.Var("yo"), hl.Var("yi")
    inp = (np.arange(40 * 64, dtype=np.int32).reshape(40, 64) * 31) % 500
    src = hl.BoundaryConditions.repeat_edge(hl.Buffer(inp))
    f, g, out = hl.Func("rl_f"), hl.Func("rl_g"), hl.Func("rl_out")
    f[x, y] = src[x, y] * 3 + src[x + 1, y]
    g[x, y] = f[x, y] + f[x, y + 1]
    out[x, y] = g[x, y - 1] + g[x, y + 1]
    out.split(y, yo, yi, 8).parallel(yo).vectorize(x, 8)
    g.store_at(out, yo).compute_at(out, yi).vectorize(x, 8)
    f.compute_at(g, y).vectorize(x, 8)
    s = lower_to_loop_nest([out.function])[0]
    assert L.region_min(g.function, 0, "y") in _chain_above(s, g.function)
    assert L.region_min(f.function, 0, "y") not in _chain_above(s, f.function)
    got = np.asarray(out.realize([48, 30]))

    def at(xs, ys):     # repeat_edge(inp)[x, y]
        return inp[np.clip(ys, 0, 39)][:, np.clip(xs, 0, 63)].astype(np.int64)
    xs, ys = np.arange(48), np.arange(30)

    def g_at(ys):
        fy = lambda yy: at(xs, yy) * 3 + at(xs + 1, yy)
        return fy(ys) + fy(ys + 1)
    np.testing.assert_array_equal(got, g_at(ys - 1) + g_at(ys + 1))


def _strip_chain(n):
    """`n` stencils stored per parallel tile and computed per row of it
    (stencil_chain's schedule), and a numpy reference."""
    x, y, xo, yo, xi, yi, t = (hl.Var(v) for v in ("x", "y", "xo", "yo", "xi", "yi", "t"))
    inp = (np.arange(50 * 70, dtype=np.int32).reshape(50, 70) * 7919) % 1000
    stages = [hl.BoundaryConditions.repeat_edge(hl.Buffer(inp))]
    for i in range(n):
        f = hl.Func(f"rl_st{i}")
        f[x, y] = stages[-1][x - 1, y - 1] + stages[-1][x + 1, y + 1] * 2
        stages.append(f)
    out = hl.Func("rl_stout")
    out[x, y] = stages[-1][x, y]
    out.compute_root().tile(x, y, xo, yo, xi, yi, 24, 16).fuse(xo, yo, t).parallel(t).vectorize(xi, 8)
    for f in stages[1:]:
        f.store_at(out, t).compute_at(out, yi).vectorize(x, 8)

    def reference(w, h):
        xs, ys = np.arange(-n, w + n), np.arange(-n, h + n)
        a = inp[np.clip(ys, 0, 49)][:, np.clip(xs, 0, 69)].astype(np.int64)
        for _ in range(n):
            a = a[:-2, :-2] + a[2:, 2:] * 2
        return a
    return stages[1:], out, reference


def test_sliding_producers_name_their_consumers_regions():
    # Stored per tile, computed per row: each stage's region names the next
    # one's (it was the tile's loops expanded once more per stage, a let
    # chain growing with the depth), and every stage but the last still
    # slides down the tile and is folded to a few rows.
    from pipelang.lowering.sliding_window import sliding_window
    from pipelang.lowering.storage_folding import fold_storage
    stages, out, reference = _strip_chain(4)
    s, env, *_ = lower_to_loop_nest([out.function])
    lets = _lets(s)
    for prod, cons in zip(stages[:-1], stages[1:]):
        names = {L.region_min(cons.function, 0, d) for d in "xy"} | {
            L.region_max(cons.function, 0, d) for d in "xy"}
        for d in "xy":
            for e in (lets[L.region_min(prod.function, 0, d)], lets[L.region_max(prod.function, 0, d)]):
                assert ir.free_symbols(e) <= names, ir.to_string(e)
                assert len(ir.to_string(e)) < 80, ir.to_string(e)
    s = fold_storage(sliding_window(s, env), env)
    folded = {r.fn: r.bounds for r in find_all(s, ir.Realize)}
    for f in stages[:-1]:
        y_range = folded[f.function.sym][1]
        assert ir.is_const(y_range.min, 0) and ir.const_value(y_range.extent) in (4, 8), f.name()
    got = np.asarray(out.realize([53, 37]))
    np.testing.assert_array_equal(got, reference(53, 37))


def test_lets_lifted_inside_a_loop_below_a_block():
    # g and h are computed per row of out, inside the consume of a root Func
    # (a Block above the loop): h's region names g's. (The lift inside the
    # loop was dropped when no let came up past the Block.)
    x, y = hl.Var("x"), hl.Var("y")
    inp = (np.arange(30 * 40, dtype=np.int32).reshape(30, 40) * 31) % 700
    src = hl.BoundaryConditions.repeat_edge(hl.Buffer(inp))
    f, g, h, out = (hl.Func(n) for n in ("rl_bf", "rl_bg", "rl_bh", "rl_bout"))
    f[x, y] = src[x, y] + 1
    h[x, y] = f[x - 1, y] + f[x + 1, y]
    g[x, y] = h[x, y] * 3 + h[x + 2, y]
    out[x, y] = g[x, y] + g[x - 1, y]
    f.compute_root()
    h.compute_at(out, y)
    g.compute_at(out, y)
    s = lower_to_loop_nest([out.function])[0]
    lets = _lets(s)
    names = {L.region_min(g.function, 0, "x"), L.region_max(g.function, 0, "x")}
    for e in (lets[L.region_min(h.function, 0, "x")], lets[L.region_max(h.function, 0, "x")]):
        assert ir.free_symbols(e) <= names, ir.to_string(e)
    got = np.asarray(out.realize([25, 20]))
    a = inp[np.clip(np.arange(20), 0, 29)][:, np.clip(np.arange(-4, 29), 0, 39)].astype(np.int64) + 1
    hh = a[:, :-2] + a[:, 2:]           # x from -3
    gg = hh[:, :-2] * 3 + hh[:, 2:]     # x from -3
    np.testing.assert_array_equal(got, gg[:, 3:28] + gg[:, 2:27])
