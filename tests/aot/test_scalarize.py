"""The C output's scalarization of vector code, on hand-built IR: shuffles
resolve to the right lane, vector lets bind one scalar per lane, every lane's
value is computed before any lane is stored, and no vector type is left."""
from pipelang import ir
from pipelang.aot.scalarize import scalarize_vectors
from pipelang.ir import nodes as N

I32 = ir.Int(32)
A, B, OUT = ir.Symbol("a"), ir.Symbol("b"), ir.Symbol("out")
X = ir.Symbol("x")


def ramp(base, stride, lanes):
    return N.Ramp(base, N.i32(stride), lanes)


class _Vectors(ir.IRVisitor):
    def __init__(self):
        self.found = []

    def visit(self, node):
        t = getattr(node, "type", None)
        if isinstance(t, ir.Type) and t.is_vector():
            self.found.append(node)
        return super().visit(node)


def _flatten_lets(s):
    """[(symbol, value)] of a LetStmt chain, and the statement under it."""
    lets = []
    while isinstance(s, N.LetStmt):
        lets.append((s.sym, s.value))
        s = s.body
    return lets, s


def test_interleaving_shuffle_store():
    x = N.Variable(I32, X)
    a = N.Load(I32.with_lanes(2), A, ramp(x, 1, 2))
    b = N.Load(I32.with_lanes(2), B, ramp(x, 1, 2))
    value = N.Shuffle((a, b), (0, 2, 1, 3))                  # a0 b0 a1 b1
    s = N.Store(OUT, value, ramp(N.Mul(x, N.i32(2)), 1, 4))
    before = _Vectors()
    before.visit(s)
    assert before.found                    # the check below can see vectors
    out = scalarize_vectors(s)
    v = _Vectors()
    v.visit(out)
    assert v.found == []
    lets, stores = _flatten_lets(out)
    values = [e for sym, e in lets if "value" in sym.name]
    assert [(e.buf.name, ir.to_string(e.index)) for e in values] == [
        ("a", "x"), ("b", "x"), ("a", "(x + 1)"), ("b", "(x + 1)")]
    # All four values and indices are bound before the first store.
    assert len(lets) == 8 and isinstance(stores, N.Block)
    assert all(isinstance(st, N.Store) and isinstance(st.value, N.Variable) for st in stores.stmts)


def test_vector_let_and_select_per_lane():
    x = N.Variable(I32, X)
    t = ir.Symbol("t")
    tv = N.Variable(I32.with_lanes(4), t)
    body = N.Store(OUT, N.Select(N.LT(tv, N.Broadcast(N.i32(2), 4)), tv,
                                 N.Broadcast(N.i32(7), 4)), ramp(x, 1, 4))
    s = N.LetStmt(t, N.Add(ramp(x, 3, 4), N.Broadcast(N.i32(1), 4)), body)
    out = scalarize_vectors(s)
    v = _Vectors()
    v.visit(out)
    assert v.found == []
    lets, _ = _flatten_lets(out)
    lanes = [(sym.name, ir.to_string(e)) for sym, e in lets[:4]]
    assert lanes == [("t.lane0", "(x + 1)"), ("t.lane1", "((x + 3) + 1)"),
                     ("t.lane2", "((x + 6) + 1)"), ("t.lane3", "((x + 9) + 1)")]


def test_vectorized_loop_becomes_serial():
    s = N.For(X, N.i32(0), N.i32(8), N.ForKind.VECTORIZED,
              N.Store(OUT, N.Variable(I32, X), N.Variable(I32, X)))
    assert scalarize_vectors(s).kind is N.ForKind.SERIAL
