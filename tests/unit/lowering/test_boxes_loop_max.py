"""boxes_touched over a loop whose extent is a large let (`f.max - f.min + 1`,
as schedule_functions writes a loop over a Func's region): the loop's last
value is `f.max`, found by putting the extent's let back before expanding.
Expanded first, the extent is named as a whole and bounded on its own, and
`min + extent - 1` comes out as wide as max_hi + (max_hi - min_lo)."""
from pipelang import ir
from pipelang.lowering.analysis.boxes import boxes_touched
from pipelang.lowering.simplify import simplify

Y, LO, HI, EXT, X = (ir.Symbol(n) for n in ("y", "f.min", "f.max", "f.loop_extent", "x"))
G = ir.Symbol("g")


def _big(y, scale, k0):
    """A monotone expression in y, too large to be expanded into its users unnamed."""
    e = ir.Mul(y, ir.i32(scale))
    for k in range(k0, k0 + 10):
        e = ir.Add(e, ir.Max(y, ir.i32(k)))
    return e


def _nest():
    y = ir.var(Y)
    lo, hi = _big(y, 3, 1), _big(y, 5, 20)
    ext = ir.Add(ir.Sub(ir.var(HI), ir.var(LO)), ir.i32(1))
    body = ir.Evaluate(ir.Call(ir.Int(32), G, (ir.var(X),)))
    loop = ir.For(X, ir.var(LO), ir.var(EXT), ir.ForKind.SERIAL, body)
    inner = ir.LetStmt(LO, lo, ir.LetStmt(HI, hi, ir.LetStmt(EXT, ext, loop)))
    return ir.For(Y, ir.i32(0), ir.i32(16), ir.ForKind.SERIAL, inner), lo, hi


def test_last_value_of_a_region_loop_is_the_region_max():
    stmt, lo, hi = _nest()
    box = boxes_touched(stmt, [G])[G][0]   # (without the let put back: max 415, not 320)

    def at(e, v):
        return ir.const_value(simplify(ir.substitute({Y: ir.i32(v)}, e)))
    assert ir.const_value(simplify(box.min)) == at(lo, 0)
    assert ir.const_value(simplify(box.max)) == at(hi, 15)
