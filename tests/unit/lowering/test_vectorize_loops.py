import pytest

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering.simplify import simplify
from pipelang.lowering.vectorize_loops import vectorize_loops

from ir_builders import assert_same, find_all, var


def test_dense_store_becomes_one_vector_store():
    x, y = var("x"), var("y")
    f, g = ir.Symbol("f"), ir.Symbol("g")
    index = ir.Add(x, ir.Mul(y, ir.i32(8)))
    body = ir.Store(f, ir.Mul(ir.Load(ir.Int(32), g, x), ir.i32(2)), index)
    s = ir.For(x.sym, ir.i32(0), ir.i32(8), ir.ForKind.VECTORIZED, body)
    got = simplify(vectorize_loops(s))
    ramp = ir.Ramp(ir.i32(0), ir.i32(1), 8)
    want = ir.Store(f, ir.Mul(ir.Load(ir.Int(32, 8), g, ramp), ir.Broadcast(ir.i32(2), 8)),
                    ir.Ramp(ir.Mul(y, ir.i32(8)), ir.i32(1), 8))
    assert_same(got, simplify(want))


def test_let_of_the_loop_var_becomes_a_vector_let():
    x = var("x")
    t = ir.Symbol("t")
    body = ir.LetStmt(t, ir.Add(x, ir.i32(1)), ir.Store(ir.Symbol("f"), ir.Variable(ir.Int(32), t), x))
    s = ir.For(x.sym, ir.i32(0), ir.i32(4), ir.ForKind.VECTORIZED, body)
    got = vectorize_loops(s)
    let = find_all(got, ir.LetStmt)[0]
    assert let.value.type == ir.Int(32, 4)
    store = find_all(got, ir.Store)[0]
    assert store.value.type == ir.Int(32, 4)


def test_monotonic_guard_is_partitioned():
    x, n = var("x"), var("n")
    guard = ir.IfThenElse(ir.LE(x, n), ir.Store(ir.Symbol("f"), x, x))
    s = ir.For(x.sym, ir.i32(0), ir.i32(8), ir.ForKind.VECTORIZED, guard)
    got = vectorize_loops(s)
    assert isinstance(got, ir.IfThenElse)
    # The fast path is a vector store, the slow path a scalar loop with the guard.
    assert find_all(got.then_case, ir.Store)[0].index.type.lanes() == 8
    assert isinstance(got.else_case, ir.For) and got.else_case.kind is ir.ForKind.SERIAL


def test_non_constant_extent_is_an_error():
    x = var("x")
    s = ir.For(x.sym, ir.i32(0), var("n"), ir.ForKind.VECTORIZED, ir.Store(ir.Symbol("f"), x, x))
    with pytest.raises(ScheduleError, match="constant extent"):
        vectorize_loops(s)


def test_integer_arithmetic_of_the_ramp_and_scalars_stays_one_ramp():
    """`x + s`, `s - x`, `x * k` of the loop's ramp and scalars widen to one
    Ramp with a scalar base, as the simplifier would fold the broadcast form;
    floats and divisions keep the broadcast (the simplifier folds neither)."""
    x, y, n = var("x"), var("y"), var("n")
    f = ir.Symbol("f")
    index = ir.Sub(ir.Add(ir.Mul(x, ir.i32(2)), y), n)          # x*2 + y - n
    value = ir.Sub(y, x)
    s = ir.For(x.sym, ir.i32(0), ir.i32(8), ir.ForKind.VECTORIZED, ir.Store(f, value, index))
    store = find_all(vectorize_loops(s), ir.Store)[0]
    ramp = ir.Ramp(ir.i32(0), ir.i32(1), 8)
    assert_same(store.index, ir.Ramp(ir.Sub(ir.Add(ir.Mul(ir.i32(0), ir.i32(2)), y), n),
                                     ir.Mul(ir.i32(1), ir.i32(2)), 8))
    assert_same(store.value, ir.Ramp(ir.Sub(y, ir.i32(0)), ir.Sub(ir.i32(0), ir.i32(1)), 8))
    # The same values as the broadcast form, once simplified.
    lanes = lambda e: ir.Broadcast(e, 8)
    assert_same(simplify(store.index),
                simplify(ir.Sub(ir.Add(ir.Mul(ramp, lanes(ir.i32(2))), lanes(y)), lanes(n))))
    assert_same(simplify(store.value), simplify(ir.Sub(lanes(y), ramp)))
    fx = ir.Cast(ir.Float(32), x)
    s = ir.For(x.sym, ir.i32(0), ir.i32(8), ir.ForKind.VECTORIZED,
               ir.Store(f, ir.Add(fx, ir.Cast(ir.Float(32), y)), ir.Div(x, ir.i32(2))))
    store = find_all(vectorize_loops(s), ir.Store)[0]
    assert isinstance(store.value, ir.Add) and isinstance(store.value.b, ir.Broadcast)
    assert isinstance(store.index, ir.Div)
