"""Region lets of a Func computed where it is stored go up to the top of its
loop level, so the Funcs it reads are bounded in terms of its region by name
(Halide's BoundsInference); a Func stored outside its compute loop keeps
its lets next to its produce, for sliding window and storage folding."""
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
    # f computed where it is stored (per row of g): f's lets go up, g's stay.
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
