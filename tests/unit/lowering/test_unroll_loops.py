import pytest

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering.unroll_loops import unroll_loops

from ir_builders import assert_same, var


def test_unrolled_loop_becomes_copies():
    y = var("y")
    buf = ir.Symbol("f")
    body = ir.Store(buf, y, y)
    s = ir.For(y.sym, ir.i32(3), ir.i32(2), ir.ForKind.UNROLLED, body)
    want = ir.Block((ir.LetStmt(y.sym, ir.Add(ir.i32(3), ir.i32(0)), body),
                     ir.LetStmt(y.sym, ir.Add(ir.i32(3), ir.i32(1)), body)))
    assert_same(unroll_loops(s), want)


def test_serial_loop_is_untouched():
    y = var("y")
    s = ir.For(y.sym, ir.i32(0), var("n"), ir.ForKind.SERIAL, ir.Store(ir.Symbol("f"), y, y))
    assert unroll_loops(s) is s


def test_non_constant_extent_is_an_error():
    y = var("y")
    s = ir.For(y.sym, ir.i32(0), var("n"), ir.ForKind.UNROLLED, ir.Store(ir.Symbol("f"), y, y))
    with pytest.raises(ScheduleError, match="constant extent"):
        unroll_loops(s)
