from pipelang import ir
from pipelang.func import Func
from pipelang.lowering.storage_flattening import flatten_storage
from pipelang.var import Var

from ir_builders import assert_same, find_all, var


def _func():
    x, y = Var("x"), Var("y")
    f = Func("flat_f")
    f[x, y] = x + y
    return f.function


def test_realize_provide_call_become_allocate_store_load():
    fn = _func()
    m0, e0, m1, e1 = var("m0"), var("e0"), var("m1"), var("e1")
    a, b = var("a"), var("b")
    bounds = (ir.Range(m0, e0), ir.Range(m1, e1))
    call = ir.Call(ir.Int(32), fn.sym, (a, b))
    body = ir.Provide(fn.sym, (ir.Add(call, ir.i32(1)),), (a, b))
    s = ir.Realize(fn.sym, (ir.Int(32),), bounds, body)
    got = flatten_storage(s, {fn.sym: fn}, [])
    index = ir.Add(ir.Sub(a, m0), ir.Mul(ir.Sub(b, m1), ir.Mul(ir.i32(1), e0)))
    want = ir.Allocate(fn.sym, ir.Int(32), ir.Mul(ir.Mul(ir.i32(1), e0), e1), ir.MemoryType.AUTO,
                       ir.Store(fn.sym, ir.Add(ir.Load(ir.Int(32), fn.sym, index), ir.i32(1)), index))
    assert_same(got, want)


def test_reorder_storage_changes_strides():
    fn = _func()
    fn.schedule.storage_dims = ["y", "x"]
    e0, e1 = var("e0"), var("e1")
    a, b = var("a"), var("b")
    s = ir.Realize(fn.sym, (ir.Int(32),), (ir.Range(ir.i32(0), e0), ir.Range(ir.i32(0), e1)),
                   ir.Provide(fn.sym, (ir.i32(0),), (a, b)))
    store = find_all(flatten_storage(s, {fn.sym: fn}, []), ir.Store)[0]
    # y is now innermost: stride 1 for y, e1 for x.
    assert store.index == ir.Add(ir.Mul(ir.Sub(a, ir.i32(0)), ir.Mul(ir.i32(1), e1)),
                                 ir.Sub(b, ir.i32(0)))


def test_input_image_uses_its_descriptor():
    img = ir.Symbol("img")
    a, b = var("a"), var("b")
    s = ir.Evaluate(ir.Call(ir.UInt(8), img, (a, b), ir.CallKind.IMAGE))
    load = find_all(flatten_storage(s, {}, []), ir.Load)[0]
    mn0 = ir.Variable(ir.Int(32), ir.buffer_min(img, 0))
    mn1 = ir.Variable(ir.Int(32), ir.buffer_min(img, 1))
    st1 = ir.Variable(ir.Int(32), ir.buffer_stride(img, 1))
    assert load.index == ir.Add(ir.Sub(a, mn0), ir.Mul(ir.Sub(b, mn1), st1))


def test_dimension_of_extent_one_adds_no_index_term():
    # A staging Func realized one row at a time: y's only coordinate is its min,
    # so the index is x's term alone (the simplifier cannot see b == m1).
    fn = _func()
    m0, e0, m1 = var("m0"), var("e0"), var("m1")
    a, b = var("a"), var("b")
    s = ir.Realize(fn.sym, (ir.Int(32),), (ir.Range(m0, e0), ir.Range(m1, ir.i32(1))),
                   ir.Provide(fn.sym, (ir.i32(0),), (a, b)))
    got = flatten_storage(s, {fn.sym: fn}, [])
    assert find_all(got, ir.Store)[0].index == ir.Sub(a, m0)
    assert find_all(got, ir.Allocate)[0].size == ir.Mul(ir.Mul(ir.i32(1), e0), ir.i32(1))
