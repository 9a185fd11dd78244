"""The per-scope caches of the simplifier and of box queries keep a result
only while what it depends on is unchanged: a subtree shared by an unrolled
loop's copies (one let each, the same body object) is re-simplified where it
names the rebound let and reused where it doesn't, and a stencil's repeated
index is bounded once per loop body, not once per scope."""
from pipelang import ir
from pipelang.ir import (Add, Block, For, ForKind, LetStmt, Max, Min, Mul, Provide, Store, Sub, Symbol,
                         i32, var)
from pipelang.lowering.analysis.boxes import boxes_touched
from pipelang.lowering.analysis.intervals import Interval, bounds_of_expr
from pipelang.lowering.simplify import simplify
from pipelang.lowering.simplify_stmts import Simplifier



x, xmin, y, n, f, g, buf = (Symbol(s) for s in ("x", "x.min", "y", "n", "f", "g", "buf"))
X, XMIN, Y, N = var(x), var(xmin), var(y), var(n)


def _unrolled(copies: int, body):
    """`let x = x.min + k; body` for k in 0..copies-1, the same body object each time."""
    return Block(tuple(LetStmt(x, Add(XMIN, i32(k)), body) for k in range(copies)))


def test_unrolled_copies_share_a_body_and_differ_where_it_names_the_let():
    shared = Mul(Add(Y, i32(2)), i32(3))                   # names no rebound let
    body = Store(buf, Add(shared, X), Sub(Add(X, i32(1)), XMIN))
    simp = Simplifier()
    out = simp.stmt(For(xmin, i32(0), N, ForKind.SERIAL, _unrolled(4, body)))
    stores = out.body.stmts
    assert [ir.to_string(s.index).strip() for s in stores] == ["1", "2", "3", "4"]
    # Each copy's value names its own offset of x.min ...
    assert [ir.to_string(s.value) for s in stores] == [
        ir.to_string(simplify(Add(Add(Mul(Add(Y, i32(2)), i32(3)), XMIN), i32(k))))
        for k in range(4)]
    # ... and the part that doesn't name x was simplified once, in the first copy:
    # its result is still the one made before x was rebound three times.
    e, _, made = simp._scoped[id(shared)]
    assert e is shared and made < simp._stamps[x]
    # The value, which names x, was simplified again in each copy: last in the fourth.
    assert simp._scoped[id(body.value)][2] > made


def test_a_result_is_not_reused_after_its_variable_is_rebound_or_its_bounds_change():
    s = Simplifier()
    e = Min(X, i32(10))
    s.var_bounds[x] = (0, 5)
    s._touch(x)
    assert ir.to_string(s.expr(e)) == "x"                  # x <= 5 < 10
    s.var_bounds[x] = (0, 20)
    s._touch(x)
    assert ir.to_string(s.expr(e)) == "min(x, 10)"         # no longer provable
    del s.var_bounds[x]
    s._touch(x)
    s.bindings[x] = (i32(3), set())
    s._touch(x)
    assert ir.to_string(s.expr(e)) == "3"


def test_box_of_repeated_taps_matches_each_tap_bounded_alone():
    taps = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    value = None
    for dx, dy in taps:
        call = ir.Call(ir.Int(32), f, (Add(X, i32(dx)), Add(Y, i32(dy))), ir.CallKind.FUNC)
        value = call if value is None else Add(value, call)
    loop_y = For(y, i32(0), i32(8), ForKind.SERIAL,
                 For(x, Max(N, i32(0)), i32(16), ForKind.SERIAL, Provide(g, (value,), (X, Y))))
    box = boxes_touched(loop_y, [f])[f]
    want = [bounds_of_expr(Add(X, i32(-1)), {x: Interval(Max(N, i32(0)), Add(Max(N, i32(0)), i32(15)))}),
            Interval(i32(-1), i32(8))]
    assert ir.to_string(box[0].min) == ir.to_string(simplify(want[0].min))
    assert ir.to_string(box[0].max) == ir.to_string(simplify(Add(Max(N, i32(0)), i32(16))))
    assert (ir.to_string(box[1].min), ir.to_string(box[1].max)) == ("-1", "8")


def _count_rule_calls(monkeypatch) -> list:
    """Every simplifier rule made to record the node it is called on, in
    the list returned."""
    from pipelang.lowering import simplify_exprs
    seen = []
    for cls, rule in list(simplify_exprs._RULES.items()):
        def counted(self, node, rule=rule):
            seen.append(node)
            return rule(self, node)
        monkeypatch.setitem(simplify_exprs._RULES, cls, counted)
    return seen


def test_a_result_outside_any_scope_is_not_simplified_again(monkeypatch):
    """What `simplify` returns outside any let or loop is itself simplified:
    an expression built over it later (a let expanded into its users, a
    loop's last value) walks only its own new nodes."""
    from pipelang.lowering import simplify_exprs
    simplify_exprs.clear_unscoped_memo()
    try:
        e = Sub(Add(Mul(Add(Y, i32(3)), i32(2)), Min(N, Add(N, i32(1)))), i32(1))
        r = simplify(e)
        assert ir.to_string(r) == "(((y*2) + n) + 5)"
        seen = _count_rule_calls(monkeypatch)
        built = Max(r, X)
        assert simplify(built) is built
        assert seen == [built]               # r is not walked again (nor X, a leaf)
        assert simplify(r) is r
    finally:
        simplify_exprs.clear_unscoped_memo()


def test_a_result_inside_a_scope_is_not_simplified_again_while_its_symbols_stay(monkeypatch):
    """Inside lets and loops too a result counts as simplified (as outside
    any scope, and in memo mode): a rule that builds a new node over its
    operands' results -- `ramp(a, 1, 16) + x16(b)` becomes `ramp(a + b, 1,
    16)`, each level of an unrolled copy's vector index -- walks only the
    new node. Once a symbol of the result changes, it is walked again."""
    s = Simplifier()
    s.var_bounds[x] = (0, 5)
    s._touch(x)
    e = Sub(Add(Mul(Add(Y, i32(3)), i32(2)), Min(X, i32(10))), i32(1))
    r = s.expr(e)
    assert ir.to_string(r) == "(((y*2) + x) + 5)"          # min(x, 10) is x where x <= 5
    seen = _count_rule_calls(monkeypatch)
    built = Max(r, N)
    assert s.expr(built) is built
    assert seen == [built]                   # r is not walked again
    s.var_bounds[x] = (0, 20)
    s._touch(x)
    seen.clear()
    assert s.expr(r) is r
    assert r in seen                         # x changed: r is walked again
