import numpy as np
import pytest

from pipelang import ir
import pipelang as hl
from pipelang.lowering import names as L
from pipelang.lowering.lower import lower, lower_to_loop_nest
from pipelang.lowering.simplify import simplify
from pipelang.lowering.sliding_window import sliding_window
from pipelang.lowering.storage_folding import fold_storage

from ir_builders import find_all


def _blur():
    x, y, yi = hl.Var("x"), hl.Var("y"), hl.Var("yi")
    img = hl.ImageParam(hl.UInt(16), 2, "sw_in")
    bx, by = hl.Func("sw_bx"), hl.Func("sw_by")
    bx[x, y] = img[x, y] + img[x + 1, y]
    by[x, y] = bx[x, y] + bx[x, y + 1] + bx[x, y + 2]
    by.split(y, y, yi, 16)
    bx.store_at(by, y).compute_at(by, yi)
    return bx, by


def test_sliding_window_rewinds_the_loop():
    # As Halide: the loop over yi starts early (renamed yi.$n) to warm the
    # window up; the region then starts one past the previous iteration's max.
    bx, by = _blur()
    s, env, *_ = lower_to_loop_nest([by.function])
    slid = sliding_window(s, env)
    loops = [f for f in find_all(slid, ir.For) if f.sym.name.endswith("yi.$n")]
    assert len(loops) == 1
    mins = [l for l in find_all(slid, ir.LetStmt) if l.sym is L.region_min(bx.function, 0, "y")]
    assert len(mins) == 1 and not isinstance(mins[0].value, ir.Select)
    guards = [i for i in find_all(slid, ir.IfThenElse) if ir.uses_symbol(i.condition, loops[0].sym)]
    assert guards       # the consumer skips the warm-up iterations


def test_folding_stores_only_the_window():
    bx, by = _blur()
    s, env, *_ = lower_to_loop_nest([by.function])
    folded = simplify(fold_storage(sliding_window(s, env), env))
    realize = [r for r in find_all(folded, ir.Realize) if r.fn is bx.function.sym][0]
    assert realize.bounds[1] == ir.Range(ir.i32(0), ir.i32(4))   # 3 rows, rounded to 4
    calls = [c for c in find_all(folded, ir.Call) if c.fn is bx.function.sym]
    assert calls and all(isinstance(c.args[1], ir.Mod) for c in calls)


def test_lowering_leaves_no_cycles_holding_statements():
    # Compiled, a function's closures (a class made per call, a recursive
    # closure) share a scope that holds them: a cycle only the cycle
    # collector frees, which kept storage folding's Mentions memo -- and the
    # statements it holds -- alive until its next pass.
    import gc
    bx, by = _blur()
    by.vectorize(hl.Var("x"), 8)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        lower([by.function])
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    held = [t for t in garbage if t == "Mentions" or any(
        f in t for f in ("_window", "_inject", "find_environment", "_moves_inner_loops", "_has_vectors"))]
    assert not held, held


def test_explicit_fold_storage_factor():
    bx, by = _blur()
    bx.fold_storage(hl.Var("y"), 8)
    lowered, *_ = lower([by.function])
    alloc = [a for a in find_all(lowered.body, ir.Allocate) if a.buf is bx.function.sym][0]
    assert "8" in ir.to_string(alloc.size)


def _fold_blur(schedule):
    x, y = hl.Var("x"), hl.Var("y")
    img = hl.ImageParam(hl.UInt(16), 2, "fold_in")
    bx, by = hl.Func("fold_bx"), hl.Func("fold_by")
    bx[x, y] = img[x, y] + img[x + 1, y]
    by[x, y] = bx[x, y] + bx[x, y + 1] + bx[x, y + 2]
    schedule(bx, by, y)
    a = np.random.default_rng(3).integers(0, 1000, (40, 33)).astype(np.uint16)
    img.set(hl.Buffer(a))
    return by, a


def _fold_reference(a):
    bx = a[:, :-1].astype(np.uint32) + a[:, 1:]
    return (bx[:-2] + bx[1:-1] + bx[2:]).astype(np.uint16)


def test_explicit_fold_that_holds_the_window_is_applied():
    by, a = _fold_blur(lambda bx, by, y: bx.store_root().compute_at(by, y).fold_storage(y, 4))
    np.testing.assert_array_equal(np.asarray(by.realize([32, 38])), _fold_reference(a))


def test_explicit_fold_too_small_for_the_window_is_a_compile_error():
    # Three rows are live at once: folding them into two would overwrite
    # values before they are read.
    by, _ = _fold_blur(lambda bx, by, y: bx.store_root().compute_at(by, y).fold_storage(y, 2))
    with pytest.raises(hl.ScheduleError, match="fold factor is too small.*needs 3 values"):
        by.realize([32, 38])


def test_explicit_fold_of_a_symbolic_region_is_checked_at_run_time():
    # Computed all at once, the region's extent depends on the output size:
    # a fold that holds it works, one that doesn't fails when run.
    by, a = _fold_blur(lambda bx, by, y: bx.compute_root().fold_storage(y, 64))
    np.testing.assert_array_equal(np.asarray(by.realize([32, 38])), _fold_reference(a))
    by, _ = _fold_blur(lambda bx, by, y: bx.compute_root().fold_storage(y, 4))
    with pytest.raises(hl.HalideError, match=r"fold factor \(4\) of dimension y of fold_bx.* too small"):
        by.realize([32, 38])
