"""wrap_calls (consumers call their wrappers, on copies) and hoist_storage
(the allocation leaves the loop), checked on the IR."""
import pipelang as hl
from pipelang import ir
from pipelang.function import registry
from pipelang.lowering.analysis.environment import direct_callees
from pipelang.lowering.hoist_storage import hoist_storage
from pipelang.lowering.wrap_calls import wrap_calls

from ir_builders import find_all


def test_consumers_call_their_wrappers_on_copies():
    x = hl.Var("x")
    f, g, h, k = hl.Func("wc_f"), hl.Func("wc_g"), hl.Func("wc_h"), hl.Func("wc_k")
    f[x] = x
    g[x] = f[x] + 1
    h[x] = f[x] * 2
    k[x] = g[x] + h[x] + f[x]
    wg = f.in_(g)
    wall = f.in_()
    outputs, functions = wrap_calls([k.function], registry)
    assert outputs[0] is not k.function                      # k calls the global wrapper: a copy
    assert direct_callees(outputs[0]) == [g.function.sym, h.function.sym, wall.function.sym]
    assert direct_callees(functions[g.function.sym]) == [wg.function.sym]
    assert direct_callees(functions[h.function.sym]) == [wall.function.sym]
    assert direct_callees(functions[wall.function.sym]) == [f.function.sym]
    # The user's Funcs are untouched.
    assert direct_callees(g.function) == [f.function.sym]
    assert direct_callees(k.function) == [g.function.sym, h.function.sym, f.function.sym]


def test_chained_wrappers_merge():
    x = hl.Var("x")
    f, g = hl.Func("ch_f"), hl.Func("ch_g")
    f[x] = x
    g[x] = f[x]
    a = f.in_(g)
    b = a.in_(g)
    _, functions = wrap_calls([g.function], registry)
    assert direct_callees(functions[g.function.sym]) == [b.function.sym]
    assert direct_callees(functions[b.function.sym]) == [a.function.sym]
    assert direct_callees(functions[a.function.sym]) == [f.function.sym]


def test_hoisted_allocation_is_bounded_over_the_loop():
    buf, c = ir.Symbol("hp"), ir.Symbol("hc")
    ext = ir.Symbol("hp.extent")
    store = ir.Store(buf, ir.i32(0), ir.i32(0))
    inner = ir.LetStmt(ext, ir.Add(ir.Variable(ir.Int(32), c), ir.i32(2)),
                       ir.Allocate(buf, ir.Int(32), ir.Variable(ir.Int(32), ext),
                                   ir.MemoryType.AUTO, store))
    loop = ir.For(c, ir.i32(0), ir.i32(4), ir.ForKind.SERIAL, inner)

    class _Fn:
        name, sym, output_types = "hp", buf, (ir.Int(32),)
        schedule = type("S", (), {"hoist_storage_level": hl.LoopLevel.root()})()
    out = hoist_storage(loop, {buf: _Fn})
    assert isinstance(out, ir.Allocate) and out.buf is buf
    assert out.size == ir.i32(5)                     # c + 2 for c in [0, 3]
    assert not find_all(out.body, ir.Allocate)
