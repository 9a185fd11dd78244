"""The simplifier leaves a branch that a constant condition discards unwalked:
a Select's other value, the second operand of an And/Or that the first decides.
(An unrolled copy's `select(c == 0, .., select(c == 1, .., ..))` keeps one
branch of several; each copy used to simplify them all.)"""
from pipelang.ir import (And, EQ, LetStmt, Mul, Or, Select, Store, Symbol, Add, i32, make_const,
                         Bool, var)
from pipelang.lowering.simplify import simplify
from pipelang.lowering.simplify_stmts import Simplifier

x, y, z, t = (Symbol(n) for n in ("x", "y", "z", "t"))
X, Y, Z, T = (var(s) for s in (x, y, z, t))
buf = Symbol("buf")


class _Spy(Simplifier):
    """Records every expression node it is asked to simplify."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def expr(self, e):
        self.seen.append(e)
        return super().expr(e)


def _walked(stmt, node):
    spy = _Spy()
    out = spy.stmt(stmt)
    return out, any(e is node for e in spy.seen)


def test_select_on_a_decided_condition_walks_only_the_branch_taken():
    dead = Add(Z, i32(1))
    s = LetStmt(x, i32(0), Store(buf, Select(EQ(X, i32(0)), Y, dead), i32(0)))
    out, walked = _walked(s, dead)
    assert out == Store(buf, Y, i32(0))
    assert not walked
    live = Add(Z, i32(2))
    s = LetStmt(x, i32(1), Store(buf, Select(EQ(X, i32(0)), dead, live), i32(0)))
    out, walked = _walked(s, dead)
    assert out == Store(buf, Add(Z, i32(2)), i32(0))
    assert not walked


def test_and_or_decided_by_the_first_operand_skip_the_second():
    dead = EQ(Add(Z, i32(1)), Y)
    for cls, value, expected in ((And, 1, 0), (Or, 0, 1)):
        # x == 1 is false under x = 0: And is false, Or is what its first operand says.
        cond = cls(EQ(X, i32(1)), dead) if cls is And else cls(EQ(X, i32(0)), dead)
        s = LetStmt(x, i32(0), Store(buf, Select(cond, Y, Z), i32(0)))
        out, walked = _walked(s, dead)
        assert out == Store(buf, Y if cls is Or else Z, i32(0))
        assert not walked
    # An undecided first operand: both are simplified, as before.
    cond = And(EQ(X, Y), EQ(Add(Z, i32(0)), Y))
    assert simplify(cond) == And(EQ(X, Y), EQ(Z, Y))


def test_a_let_used_only_in_a_discarded_branch_goes():
    s = LetStmt(t, Mul(Y, Z),
                LetStmt(x, i32(0), Store(buf, Select(EQ(X, i32(0)), Y, T), i32(0))))
    assert simplify(s) == Store(buf, Y, i32(0))


def test_results_unchanged_where_the_condition_is_not_constant():
    sel = Select(EQ(X, i32(0)), Add(Y, i32(0)), Mul(Z, i32(1)))
    assert simplify(sel) == Select(EQ(X, i32(0)), Y, Z)
    assert simplify(And(make_const(Bool(), 1), EQ(Add(X, i32(0)), Y))) == EQ(X, Y)
