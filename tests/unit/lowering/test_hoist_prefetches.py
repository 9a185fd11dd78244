"""hoist_prefetches: a block's prefetches go ahead of its other work."""
from pipelang import ir
from pipelang.lowering.hoist_prefetches import hoist_prefetches

from ir_builders import assert_same, var

BUF, OUT = ir.Symbol("buf"), ir.Symbol("out")
U8 = ir.UInt(8)


def _fetch(i):
    return ir.PrefetchAddress(BUF, U8, i if isinstance(i, ir.Expr) else ir.i32(i))


def _store(i):
    return ir.Store(OUT, ir.make_const(U8, 1), ir.i32(i))


def test_unrolled_copies():
    """Each copy is a let (the unrolled var) around its prefetch and its work."""
    x = var("x")
    guard = ir.IfThenElse(ir.LT(x, ir.i32(8)), _fetch(x))
    copies = [ir.LetStmt(x.sym, ir.i32(k), ir.block(guard, _store(k))) for k in range(2)]
    got = hoist_prefetches(ir.Block(tuple(copies)))
    assert_same(got, ir.block(ir.LetStmt(x.sym, ir.i32(0), guard), ir.LetStmt(x.sym, ir.i32(1), guard),
                              ir.LetStmt(x.sym, ir.i32(0), _store(0)), ir.LetStmt(x.sym, ir.i32(1), _store(1))))


def test_loops_of_prefetches_move_and_order_is_kept():
    i = var("i")
    lines = ir.For(i.sym, ir.i32(0), ir.i32(4), ir.ForKind.SERIAL, _fetch(ir.Mul(i, ir.i32(64))))
    got = hoist_prefetches(ir.block(_store(0), _fetch(1), _store(1), lines))
    assert_same(got, ir.block(_fetch(1), lines, _store(0), _store(1)))


def test_left_alone():
    first = ir.block(_fetch(0), _store(0), _store(1))
    assert hoist_prefetches(first) is first                 # already in front
    x = var("x")
    reads = ir.LetStmt(x.sym, ir.Load(ir.Int(32), BUF, ir.i32(0)), ir.block(_fetch(x), _store(0)))
    s = ir.block(_store(1), reads)
    assert hoist_prefetches(s) is s                         # its let reads memory
    none = ir.block(_store(0), _store(1))
    assert hoist_prefetches(none) is none


def test_not_past_a_loop():
    """Another stage's loop nest before it (the markers are gone): the prefetch stays after it."""
    i = var("i")
    other = ir.For(i.sym, ir.i32(0), ir.i32(4), ir.ForKind.SERIAL, _store(0))
    s = ir.block(other, _fetch(0), ir.For(i.sym, ir.i32(0), ir.i32(4), ir.ForKind.SERIAL, _store(1)))
    assert hoist_prefetches(s) is s
    moved = hoist_prefetches(ir.block(other, _store(2), _fetch(0)))
    assert_same(moved, ir.block(other, _fetch(0), _store(2)))
