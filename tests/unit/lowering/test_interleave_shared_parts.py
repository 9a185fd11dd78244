"""rewrite_interleavings deinterleaves a shared part of a stored value once:
the value is a DAG (a demosaic reads each neighbour in several formulas), and
each lane set's copy keeps the sharing, for the simplifier after."""
from pipelang import ir
from pipelang.ir import Add, Broadcast, EQ, Int, Load, Mod, Mul, Ramp, Select, Store, Symbol, i32, var
from pipelang.lowering.interleave import rewrite_interleavings
from pipelang.lowering.simplify import simplify

b, f, out = Symbol("b"), Symbol("f"), Symbol("out")
B = var(b)


def _nodes(e, cls, found):
    if isinstance(e, cls):
        found.append(e)
    for name in ("a", "b", "condition", "true_value", "false_value", "value", "index", "base"):
        child = getattr(e, name, None)
        if isinstance(child, ir.Expr):
            _nodes(child, cls, found)
    for child in getattr(e, "vectors", ()):
        _nodes(child, cls, found)
    return found


def test_a_shared_load_is_deinterleaved_once_per_lane_set():
    ramp = Ramp(Mul(B, i32(2)), i32(1), 8)
    shared = Load(Int(32, 8), f, ramp)
    even = EQ(Mod(ramp, Broadcast(i32(2), 8)), Broadcast(i32(0), 8))
    value = Select(even, Add(shared, Broadcast(i32(1), 8)), Mul(shared, Broadcast(i32(3), 8)))
    s = rewrite_interleavings(Store(out, value, ramp))
    assert isinstance(s.value, ir.Shuffle) and len(s.value.vectors) == 2
    for part in s.value.vectors:
        loads = _nodes(part, ir.Load, [])
        assert len(loads) == 2 and loads[0] is loads[1]      # one copy, met twice
        assert loads[0].type == Int(32, 4)
    # The lanes still say what they did: even lanes add 1, odd ones multiply by 3.
    even_part, odd_part = (simplify(p) for p in s.value.vectors)
    assert ir.to_string(even_part) == ir.to_string(
        simplify(Add(Load(Int(32, 4), f, Ramp(Mul(B, i32(2)), i32(2), 4)), Broadcast(i32(1), 4))))
    assert ir.to_string(odd_part) == ir.to_string(
        simplify(Mul(Load(Int(32, 4), f, Ramp(Add(Mul(B, i32(2)), i32(1)), i32(2), 4)),
                     Broadcast(i32(3), 4))))
