"""Whether a let's value reads memory is worked out once per node for the
whole lowering (shared by every simplifier, as the unscoped results are),
not once per `simplify` call, and emptied with them when lowering ends."""
from pipelang import ir
from pipelang.ir import Add, Let, Load, Max, Mul, Sub, Symbol, i32, var
from pipelang.lowering import simplify_exprs
from pipelang.lowering.simplify import simplify

a, b, n, m, buf = (Symbol(s) for s in ("a", "b", "n", "m", "buf"))
N, M = var(n), var(m)


def _twice(value):
    """`let a = value in let b = value + 1 in max(a*m, b*m) - a`: the second let
    is written as the first plus one (`b = a + 1`, then inlined) only where
    the value reads no memory."""
    plus = Add(value, i32(1))
    return Let(a, value, Let(b, plus, Sub(Max(Mul(var(a), M), Mul(var(b), M)), var(a))))


def test_purity_is_kept_across_simplify_calls_and_cleared_with_the_unscoped_memo():
    simplify_exprs.clear_unscoped_memo()
    try:
        pure = Max(Mul(N, i32(3)), Add(M, i32(7)))
        first = simplify(_twice(pure))
        assert simplify_exprs._PURITY[id(pure)] == (pure, True)
        # A second call (a fresh simplifier) finds the same answer, and the
        # same statement, as the first.
        assert ir.to_string(simplify(_twice(pure))) == ir.to_string(first)
        assert "(a + 1)*m" in ir.to_string(first)     # b became a + 1
    finally:
        simplify_exprs.clear_unscoped_memo()
    assert not simplify_exprs._PURITY


def test_a_value_that_reads_memory_is_not_reused_in_a_later_call_either():
    simplify_exprs.clear_unscoped_memo()
    try:
        loaded = Add(Load(ir.Int(32), buf, N), i32(2))
        for _ in range(2):
            out = ir.to_string(simplify(_twice(loaded)))
            assert simplify_exprs._PURITY[id(loaded)] == (loaded, False)
            assert "(a + 1)" not in out         # b keeps its own Load
    finally:
        simplify_exprs.clear_unscoped_memo()
