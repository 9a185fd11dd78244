"""Loop partitioning leaves a clamp of (or against) a value read from memory
-- a lookup table's index -- alone without expanding the lets it reads: the
index moves with the data, not linearly with the loop, so no steady state
exists. A clamp of the loop variable in the same loop still partitions it."""
from pipelang import ir
from pipelang.ir import Add, For, ForKind, Int, LetStmt, Load, Min, Mul, Store, Symbol, i32, var
from pipelang.lowering import partition_loops as P

x, t, n, src, lut, out = (Symbol(s) for s in ("x", "t", "n", "src", "lut", "out"))
X, T, N = var(x), var(t), var(n)


def _expanded(monkeypatch):
    asked = []
    expand = P._FindClamp._expand

    def spy(self, e):
        asked.append(e)
        return expand(self, e)
    monkeypatch.setattr(P._FindClamp, "_expand", spy)
    return asked


def test_a_clamped_table_index_is_neither_partitioned_nor_expanded(monkeypatch):
    asked = _expanded(monkeypatch)
    index = Add(Load(Int(32), src, X), T)               # moves with the data read
    clamp = Min(index, i32(255))
    loop = For(x, i32(0), N, ForKind.SERIAL,
               LetStmt(t, Mul(X, i32(2)), Store(out, Load(Int(32), lut, clamp), X)))
    assert P.partition_loops(loop) is loop
    assert not any(e is index for e in asked)


def test_a_clamp_of_the_loop_variable_beside_it_still_partitions(monkeypatch):
    asked = _expanded(monkeypatch)
    table = Load(Int(32), lut, Min(Add(Load(Int(32), src, X), i32(1)), i32(255)))
    loop = For(x, i32(0), N, ForKind.SERIAL,
               Store(out, Add(table, Load(Int(32), src, Min(X, i32(99)))), X))
    text = ir.to_string(P.partition_loops(loop))
    assert "steady_max" in text                          # x < 100: the steady state
    assert "min(x, 99)" in text                          # kept in the epilogue only
    assert text.count("min(x, 99)") == 1
    assert asked                                         # the linear clamp was expanded
