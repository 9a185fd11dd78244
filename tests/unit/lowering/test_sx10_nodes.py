"""The binary nodes' constructors (closures compiled with nodes.py, no
longer functions made by `exec`) check their operands and give the result
type as the dataclass constructor and `__post_init__` did."""
import pytest

from pipelang.ir import nodes as N
from pipelang.ir import Bool, Float, Int, Symbol

A = N.Variable(Int(32, 4), Symbol("a"))
F = N.Variable(Float(32, 4), Symbol("f"))
B = N.Variable(Bool(4), Symbol("b"))


@pytest.mark.parametrize("cls", [N.Add, N.Sub, N.Mul, N.Div, N.Mod, N.Min, N.Max])
def test_arithmetic_keeps_its_operands_type_and_refuses_mixed_ones(cls):
    e = cls(A, A)
    assert (e.a, e.b, e.type) == (A, A, Int(32, 4))
    with pytest.raises(AssertionError):
        cls(A, F)


@pytest.mark.parametrize("cls", [N.EQ, N.NE, N.LT, N.LE, N.GT, N.GE])
def test_comparisons_give_a_boolean_per_lane(cls):
    assert cls(F, F).type == Bool(4)
    with pytest.raises(AssertionError):
        cls(A, F)


@pytest.mark.parametrize("cls", [N.And, N.Or])
def test_logic_takes_booleans_only(cls):
    assert cls(B, B).type == Bool(4)
    with pytest.raises(AssertionError):
        cls(A, A)


def test_the_constructors_are_named_for_their_class():
    assert N.Add.__init__.__qualname__ == "Add.__init__"
    assert N.Add(A, A) == N.Add(A, A) and hash(N.Add(A, A)) == hash(N.Add(A, A))


def test_the_hash_is_cached_and_agrees_with_equality():
    from pipelang.ir import nodes as N2
    x = N.Add(A, A)
    assert hash(x) == hash(N.Add(A, A)) and x.__hash__() is x.__hash__()
    assert hash(N2.FloatImm(Float(32), 0.0)) == hash(N2.FloatImm(Float(32), -0.0))
    assert hash(N2.FloatImm(Float(32), float("nan"))) == hash(N2.FloatImm(Float(32), float("nan")))
    assert N.Add(A, A) != N.Sub(A, A)
