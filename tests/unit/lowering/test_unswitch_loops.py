from pipelang import ir
from pipelang.lowering.unswitch_loops import unswitch_loops

from ir_builders import assert_same, var


N, M = var("n"), var("m")


def _loop(v, body, kind=ir.ForKind.SERIAL):
    return ir.For(v.sym, ir.i32(0), N, kind, body)


def test_invariant_guard_leaves_the_loops_it_does_not_depend_on():
    # for xo { for r { if (xo*16 <= m) A else B } }  =>  for xo { if (..) for r A else for r B }
    xo, r, m = var("xo"), var("r"), M
    f = ir.Symbol("f")
    cond = ir.LE(ir.Mul(xo, ir.i32(16)), m)
    a, b = ir.Store(f, r, xo), ir.Store(f, xo, r)
    s = _loop(xo, _loop(r, ir.IfThenElse(cond, a, b)))
    want = _loop(xo, ir.IfThenElse(cond, _loop(r, a), _loop(r, b)))
    assert_same(unswitch_loops(s), want)


def test_several_guards_version_the_loop_once():
    xo, yo, r = var("xo"), var("yo"), var("r")
    f = ir.Symbol("f")
    c1, c2 = ir.LT(xo, M), ir.LT(yo, M)
    a1, a2 = ir.Store(f, r, xo), ir.Store(f, r, yo)
    body = ir.Block((ir.IfThenElse(c1, a1), ir.IfThenElse(c2, a2)))
    s = _loop(r, body)
    want = ir.IfThenElse(ir.And(c1, c2), _loop(r, ir.Block((a1, a2))), s)
    assert_same(unswitch_loops(s), want)


def test_guards_that_vary_or_read_memory_stay():
    r, f = var("r"), ir.Symbol("f")
    varying = _loop(r, ir.IfThenElse(ir.LT(r, M), ir.Store(f, r, r)))
    assert unswitch_loops(varying) is varying
    load = ir.Load(ir.Int(32), ir.Symbol("g"), ir.i32(0))
    reads = _loop(r, ir.IfThenElse(ir.LT(load, M), ir.Store(f, r, r)))
    assert unswitch_loops(reads) is reads
    # A condition on a let bound inside the loop varies with it.
    t = var("t")
    inner = _loop(r, ir.LetStmt(t.sym, r, ir.IfThenElse(ir.LT(t, M), ir.Store(f, r, r))))
    assert unswitch_loops(inner) is inner


def test_a_loop_too_large_to_copy_is_left_alone():
    from pipelang.lowering import unswitch_loops as U
    xo, r, f = var("xo"), var("r"), ir.Symbol("f")
    big = ir.Block(tuple(ir.Store(f, ir.i32(k), r) for k in range(U._MAX_STMTS)))
    s = _loop(r, ir.IfThenElse(ir.LT(xo, M), big))
    assert unswitch_loops(s) is s


def test_guards_in_both_branches_of_a_varying_if_leave_the_loop():
    # A loop partitioned at both ends is one loop whose body branches on the
    # loop variable to its steady state or its clamped copy: a tail guard in
    # either branch still leaves the loop.
    #   for r { if (lo <= r) { if (c) A else B } else { if (c) A2 } }
    # =>
    #   if (c) { for r { if (lo <= r) A else A2 } } else { for r { if (lo <= r) B } }
    r, xo, f = var("r"), var("xo"), ir.Symbol("f")
    c, split = ir.LT(xo, M), ir.LE(M, r)
    a, b, a2 = ir.Store(f, r, xo), ir.Store(f, xo, r), ir.Store(f, r, r)
    s = _loop(r, ir.IfThenElse(split, ir.IfThenElse(c, a, b), ir.IfThenElse(c, a2)))
    want = ir.IfThenElse(c, _loop(r, ir.IfThenElse(split, a, a2)), _loop(r, ir.IfThenElse(split, b)))
    assert_same(unswitch_loops(s), want)
