"""The IR walks that session 10's ctsx10 made cheaper give what the walks
they replace gave.

* `visitor._field_visitor` / `_field_mutator`, the walks a compiled build
  uses (no interpreted frame per node), meet the same children in the same
  order and rebuild the same nodes as the generated walks an interpreted
  build uses; they run here, interpreted, on every kind of node they meet.
* `ir.contains` / `reads_memory` stop at the first match, walk shared nodes
  once, and match classes exactly (as a visitor's `visit_<Class>` does).
"""
import dataclasses

from pipelang import ir
from pipelang.ir import (Add, Block, Broadcast, Call, Evaluate, For, ForKind, IfThenElse, Int,
                         Let, LetStmt, Load, Min, Ramp, Select, Shuffle, Store, Symbol, i32, var)
from pipelang.ir import nodes as N
from pipelang.ir import visitor as V

x, y, t, buf, out = (Symbol(s) for s in ("x", "y", "t", "buf", "out"))
X, Y = var(x), var(y)


def _sample():
    ramp = Ramp(Add(X, i32(1)), i32(1), 4)
    load = Load(Int(32, 4), buf, ramp)
    value = Shuffle((Add(load, Broadcast(Y, 4)), load), (0, 4, 1, 5))
    inner = LetStmt(t, Min(X, Y), Store(out, Select(ir.LT(var(t), i32(3)), X, Y), var(t)))
    return For(x, i32(0), i32(8), ForKind.SERIAL, Block((
        IfThenElse(ir.LT(X, Y), Store(out, Let(t, X, Add(var(t), i32(2))), X), None),
        IfThenElse(ir.LT(Y, X), Evaluate(i32(0)), inner),
        Store(out, Add(Call(Int(32), out, (X, Y)), i32(0)), i32(0)),
        Store(out, Load(Int(32), buf, X), Y),
        Store(out, value, Ramp(X, i32(1), 4)))))


class _Order(V.IRVisitor):
    def __init__(self, walks):
        self.walks, self.seen = walks, []

    def visit(self, node):
        self.seen.append(node)
        self.walks(type(node))(self, node)


class _Rename(V.IRMutator):
    """x -> y everywhere, by the given walks."""

    def __init__(self, walks):
        self.walks = walks

    def mutate(self, node):
        if type(node) is ir.Variable:
            return Y if node.sym is x else node
        return self.walks(type(node))(self, node)


def _kinds(cls):
    return tuple((name, ("one", "opt", "seq").index(kind)) for name, kind in V._field_kinds(cls))


def _generated_visit(cls):
    return V._VISIT_WALKERS.get(cls) or V._visit_walker(cls)


def _compiled_visit(cls):
    return V._field_visitor(_kinds(cls))


def _generated_mutate(cls):
    return V._MUTATE_WALKERS.get(cls) or V._mutate_walker(cls)


def _compiled_mutate(cls):
    index = {name: i for i, (name, _) in enumerate(V._field_kinds(cls))}
    sources = tuple(index.get(f.name, f.name) for f in dataclasses.fields(cls) if f.init)
    return V._field_mutator(cls, _kinds(cls), sources)


def test_the_compiled_walk_meets_the_children_the_generated_one_meets():
    s = _sample()
    a, b = _Order(_generated_visit), _Order(_compiled_visit)
    a.visit(s)
    b.visit(s)
    assert len(a.seen) > 30
    assert [id(n) for n in a.seen] == [id(n) for n in b.seen]


def test_the_compiled_rebuild_makes_what_the_generated_one_makes():
    s = _sample()
    a = _Rename(_generated_mutate).mutate(s)
    b = _Rename(_compiled_mutate).mutate(s)
    assert a == b and a is not s
    assert x not in ir.free_symbols(b.body) and y in ir.free_symbols(b.body)


def test_the_compiled_rebuild_keeps_an_unchanged_node():
    s = _sample()
    keep = _Rename(_compiled_mutate)
    keep.mutate = lambda node: node if type(node) is ir.Variable else \
        _compiled_mutate(type(node))(keep, node)
    assert keep.mutate(s) is s


def test_contains_matches_exact_classes_and_skips_expressions_for_statements():
    s = _sample()
    assert ir.contains(s, Load) and ir.contains(s, Shuffle) and ir.contains(s, Let)
    assert not ir.contains(s, N.BinOp)          # no node is of the base class itself
    assert ir.contains(s, IfThenElse) and not ir.contains(Store(out, X, X), IfThenElse)
    assert V.reads_memory(Add(Load(Int(32), buf, X), i32(1)))
    assert not V.reads_memory(Add(X, i32(1)))


def test_contains_walks_a_shared_node_once():
    # A chain where each level uses the one below twice: 2**40 paths.
    e = X
    for _ in range(40):
        e = Add(e, e)
    assert not ir.contains(e, Load)
    assert ir.contains(Add(e, Load(Int(32), buf, X)), Load)
