import pipelang as hl
from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.lower import lower, lower_to_loop_nest
from pipelang.lowering.simplify import simplify

from ir_builders import find_all


def _lets(s):
    return {l.sym: l.value for l in find_all(s, ir.LetStmt)}


def test_stencil_region_is_exact_per_consumer_row():
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("bi_f"), hl.Func("bi_g")
    f[x, y] = x * y
    g[x, y] = f[x, y - 1] + f[x, y + 1] + f[x - 2, y]
    f.compute_at(g, y)
    s, env, *_ = lower_to_loop_nest([g.function])
    lets = _lets(s)
    fn = f.function
    gy = ir.Variable(ir.Int(32), L.loop(g.function, 0, "y"))
    # One row of g needs rows y-1 .. y+1 of f.
    assert simplify(ir.Sub(lets[L.region_min(fn, 0, "y")], gy)) == ir.i32(-1)
    assert simplify(ir.Sub(lets[L.region_max(fn, 0, "y")], gy)) == ir.i32(1)
    width = simplify(ir.Sub(lets[L.region_max(fn, 0, "x")], lets[L.region_min(fn, 0, "x")]))
    # f's row is g's row widened by 2 (x - 2 .. x): two more than g's extent - 1.
    g_ext = ir.Variable(ir.Int(32), L.loop_extent(g.function, 0, "x"))
    assert simplify(ir.Sub(width, g_ext)) == ir.i32(1)


def test_entry_asserts_check_the_input_region():
    x = hl.Var("x")
    img = hl.ImageParam(hl.UInt(8), 1, "bi_img")
    f = hl.Func("bi_out")
    f[x] = img[x + 3]
    lowered, *_ = lower([f.function])
    asserts = find_all(lowered.body, ir.AssertStmt)
    assert any("bi_img" in a.message and "beyond the max" in a.message for a in asserts)
    assert any("bi_img" in a.message and "before the min" in a.message for a in asserts)
