"""What bounds inference's box queries leave out, and the invariants that lets
them: a query for what is written doesn't walk the consumers, which only
read; stage 0 gets no query of its own (no stage before it needs what it
reads of itself); the ends a query makes are simplified already, so they
are not simplified again; a sum is known canonical without rebuilding it
when a term is a product of non-constants."""
import pipelang as hl
from pipelang import ir
from pipelang.lowering import bounds_inference
from pipelang.lowering.analysis import boxes
from pipelang.lowering.analysis.boxes import boxes_touched
from pipelang.lowering.analysis.linear import is_canonical_sum, linear_form, same_shape
from pipelang.lowering.lower import lower_to_loop_nest
from pipelang.lowering.simplify import simplify

from ir_builders import var

F, G = ir.Symbol("f"), ir.Symbol("g")
X, Y, N = (ir.Symbol(n) for n in ("x", "y", "n"))


def _produce_then_consume():
    """for x: f(x) = x; for y: g(y) = f(y - 1) + f(y + 1)"""
    x, y = ir.var(X), ir.var(Y)
    produce = ir.For(X, ir.i32(0), ir.var(N), ir.ForKind.SERIAL,
                     ir.Provide(F, (x,), (x,)))
    reads = ir.Add(ir.Call(ir.Int(32), F, (ir.Sub(y, ir.i32(1)),)),
                   ir.Call(ir.Int(32), F, (ir.Add(y, ir.i32(1)),)))
    consume = ir.For(Y, ir.i32(1), ir.Sub(ir.var(N), ir.i32(2)), ir.ForKind.SERIAL,
                     ir.Provide(G, (reads,), (y,)))
    return ir.Block((produce, consume))


def _loops_walked(monkeypatch) -> list:
    """The loops a query goes into (those it skips are never put in its scope)."""
    walked = []
    original = boxes._BoxesTouched._with

    def _with(self, table, sym, value, body):
        if table is self.scope:
            walked.append(sym)
        return original(self, table, sym, value, body)
    monkeypatch.setattr(boxes._BoxesTouched, "_with", _with)
    return walked


def test_a_query_for_what_is_written_skips_the_loops_that_only_read(monkeypatch):
    walked = _loops_walked(monkeypatch)
    box = boxes_touched(_produce_then_consume(), [F], calls=False, provides=True, memo={})[F]
    assert walked == [X]
    assert box[0].min == ir.i32(0)
    assert simplify(box[0].max) == simplify(ir.Sub(ir.var(N), ir.i32(1)))


def test_a_query_for_what_is_read_walks_the_readers(monkeypatch):
    walked = _loops_walked(monkeypatch)
    box = boxes_touched(_produce_then_consume(), [F], calls=True, provides=False, memo={})[F]
    assert walked == [Y]
    assert box[0].min == ir.i32(0)
    assert simplify(box[0].max) == simplify(ir.Sub(ir.var(N), ir.i32(1)))


def test_the_memo_tells_reads_from_writes():
    memo: dict = {}
    stmt = _produce_then_consume()
    boxes_touched(stmt, [F], memo=memo)
    produce, consume = stmt.stmts
    assert memo[id(produce)][1:] == (set(), {F})
    assert memo[id(consume)][1:] == ({F}, {G})


def _scheduled(updates: int):
    x = hl.Var("x")
    inp = hl.Func("inp")
    inp[x] = x * 2
    f = hl.Func("f")
    f[x] = inp[x]
    for k in range(updates):
        f[x] = f[x] + inp[x + k + 1]
    out = hl.Func("out")
    out[x] = f[x - 1] + f[x + 1]
    f.compute_root()
    inp.compute_root()
    return out, f


def _stage_queries(monkeypatch) -> list:
    asked = []
    original = bounds_inference.boxes_touched

    def counted(stmt, syms=None, **kw):
        asked.append((tuple(syms), kw.get("provides", False)))
        return original(stmt, syms, **kw)
    monkeypatch.setattr(bounds_inference, "boxes_touched", counted)
    return asked


def test_stage_zero_gets_no_query_of_its_own(monkeypatch):
    asked = _stage_queries(monkeypatch)
    out, f = _scheduled(updates=2)
    lower_to_loop_nest([out.function])
    # (Matched by symbol: a Func's name gets a suffix when others share it.)
    f_queries = sorted(provides for syms, provides in asked if f.function.sym in syms)
    # What f's consumers read (asked with inp's, both computed at the root),
    # what each of its two updates reads and writes of f, and what f's
    # Realize holds: none for its pure definition.
    assert f_queries == [False, True, True, True]


def test_updates_still_grow_the_region_of_stage_zero():
    got = _scheduled(updates=2)[0].realize([16])

    def f(v):
        return 2 * v + 2 * (v + 1) + 2 * (v + 2)
    assert [got[i] for i in range(16)] == [f(i - 1) + f(i + 1) for i in range(16)]


def test_box_ends_are_simplified_already():
    """The invariant that lets boxes_touched skip simplifying the ends it returns."""
    stmt = _produce_then_consume()
    wrapped = ir.LetStmt(N, ir.Add(ir.Mul(var("w"), ir.i32(4)), ir.i32(3)), stmt)
    for kw in (dict(calls=True), dict(calls=False, provides=True)):
        for box in boxes_touched(wrapped, [F, G], **kw).values():
            for iv in box:
                for end in (iv.min, iv.max):
                    assert simplify(end) is end, ir.to_string(end)


def test_a_sum_with_a_product_term_is_known_canonical():
    a, b, c = var("a"), var("b"), var("c")
    sums = [ir.Add(a, ir.Mul(b, c)),
            ir.Sub(ir.Add(ir.Mul(a, b), c), ir.i32(1)),
            ir.Sub(ir.Mul(a, b), ir.Mul(b, ir.i32(3))),
            ir.Add(ir.Mul(ir.Mul(a, b), ir.i32(2)), c)]
    for e in sums:
        assert is_canonical_sum(e), ir.to_string(e)
        assert same_shape(linear_form(e).build(), e)
    # Not canonical: what linear_form rebuilds differently.
    for e in (ir.Add(ir.Mul(ir.i32(2), a), b),        # the constant goes on the right
              ir.Add(ir.Mul(a, b), ir.Mul(a, b)),     # like terms: a*b*2
              ir.Add(ir.Mul(a, ir.i32(1)), b)):       # *1 goes
        assert not is_canonical_sum(e), ir.to_string(e)
        assert not same_shape(linear_form(e).build(), e)
