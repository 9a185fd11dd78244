"""lower()'s closing check: every symbol the lowered body uses is an
argument's or bound in it (by a LetStmt, a For, or a Let inside an
expression). The body is walked as a DAG: a subtree shared by several
statements is walked once, and what it uses is still found."""
import pytest

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.ir import unbound_symbols
from pipelang.lowering.lower import _check_closed
from tests.unit.lowering.ir_builders import var

I32 = ir.Int(32)


def _func(body, *scalars):
    args = tuple(ir.Argument(v.sym, ir.ArgKind.SCALAR, I32) for v in scalars)
    return ir.LoweredFunc("f", args, body)


def _nest(inner):
    """n (argument) -> for x in [0, n): let t = x + 1 in inner(x, t)."""
    n, x, t = var("n"), var("x"), var("t")
    body = ir.LetStmt(t.sym, ir.Add(x, ir.IntImm(I32, 1)), inner(x, t))
    return _func(ir.For(x.sym, ir.IntImm(I32, 0), n, ir.ForKind.SERIAL, body), n)


def test_bound_by_statements_and_arguments():
    _check_closed(_nest(lambda x, t: ir.Evaluate(ir.Add(x, t))))


def test_bound_by_a_let_inside_an_expression():
    u = var("u")
    _check_closed(_nest(lambda x, t: ir.Evaluate(
        ir.Let(u.sym, ir.Mul(t, t), ir.Add(u, x)))))


def test_unbound_symbol_is_named():
    y = var("y")
    with pytest.raises(CompileError, match=r"undefined variables: y$"):
        _check_closed(_nest(lambda x, t: ir.Evaluate(ir.Add(x, y))))


def test_unbound_next_to_an_expression_let_is_named():
    u, y = var("u"), var("y")
    with pytest.raises(CompileError, match=r"undefined variables: y$"):
        _check_closed(_nest(lambda x, t: ir.Block((
            ir.Evaluate(ir.Let(u.sym, t, ir.Add(u, x))),
            ir.Evaluate(ir.Add(y, x))))))


def test_a_shared_subtree_is_walked_once_and_its_symbols_found():
    x, y, z = var("x"), var("y"), var("z")
    shared = ir.Add(ir.Mul(x, y), ir.IntImm(I32, 3))
    body = ir.Block((
        ir.LetStmt(x.sym, ir.IntImm(I32, 0), ir.Evaluate(shared)),
        ir.Evaluate(ir.Add(shared, z)),
        ir.Evaluate(ir.Sub(shared, shared))))
    # x is bound (by the first use's let); y and z are not, wherever they appear.
    assert unbound_symbols(body) == {y.sym, z.sym}
    with pytest.raises(CompileError, match=r"undefined variables: y, z$"):
        _check_closed(_func(body))
