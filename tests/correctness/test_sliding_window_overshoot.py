"""Sliding window and storage folding of dimensions split with a ShiftInwards
or RoundUp tail (Halide slides them; fuzz seed 11431 wrote before the
storage's start when pipelang first did).

Each schedule is run against the same algorithm unscheduled (every stage
inlined), bit for bit. While they run, every store to an intermediate Func
is checked against that Func's storage (an assertion inserted right after
sliding window, before folding makes every index in range), so a write
outside the allocation fails loudly instead of corrupting the heap.
"""
import random

import numpy as np
import pytest

import pipelang as hl
from pipelang import ir
from pipelang.testing import store_checks

TAILS = {"ShiftInwards": hl.TailStrategy.ShiftInwards, "RoundUp": hl.TailStrategy.RoundUp,
         "Auto": hl.TailStrategy.Auto, "GuardWithIf": hl.TailStrategy.GuardWithIf,
         "Predicate": hl.TailStrategy.Predicate}


@pytest.fixture
def checked_stores():
    with store_checks.checked_stores():
        yield


# A wide margin: pipelang's entry checks bound a ShiftInwards split inside a
# GuardWithIf-split consumer loosely (by up to the consumer's rounded-up extent).
IMG = np.random.default_rng(11431).integers(0, 1 << 12, (128, 112)).astype(np.int32)
OUT_MIN, OUT_SIZE = (3, 5), (23, 29)   # odd sizes: the splits' tails are exercised


def _pipeline():
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.Buffer(IMG, "ov_in")
    f, g, out = hl.Func("ov_f"), hl.Func("ov_g"), hl.Func("ov_out")
    f[x, y] = inp[x + 40, y + 40] * 3 + inp[x + 41, y + 40]
    g[x, y] = f[x, y - 1] + 2 * f[x, y + 2] - f[x + 1, y]
    out[x, y] = g[x, y] + g[x, y + 1] * 5 - g[x - 2, y + 3]
    return x, y, f, g, out


def _realize(out):
    buf = hl.Buffer(hl.Int(32), list(OUT_SIZE))
    buf.set_min(list(OUT_MIN))
    out.realize(buf)
    return np.asarray(buf).copy()


@pytest.fixture(scope="module")
def expected():
    return _realize(_pipeline()[-1])


def _random_schedule(seed: int):
    """A schedule (as text, for the failure message) and a function applying it."""
    rnd = random.Random(seed)
    steps = []

    def split_producer(name, var):
        factor, tail = rnd.choice((2, 3, 4, 5)), rnd.choice(tuple(TAILS))
        if rnd.random() < 0.3:
            steps.append(f"{name}.tile(x, y, x, y, xi, yi, {rnd.choice((4, 8))}, {factor}, {tail})")
        else:
            steps.append(f"{name}.split({var}, {var}o, {var}i, {factor}, {tail})")

    out_split = rnd.random() < 0.5
    if out_split:
        steps.append(f"out.split(y, yo, yi, {rnd.choice((4, 8))}, {rnd.choice(('ShiftInwards', 'GuardWithIf'))})")
    # out's loops, outermost first; g is computed at one, f at the same or an outer one.
    loops = ["root", "yo", "yi", "x"] if out_split else ["root", "y", "x"]
    g_at = rnd.choice(loops[-2:])
    f_at = None if rnd.random() < 0.2 else rnd.choice(loops[1:loops.index(g_at) + 1])
    for name, at in (("g", g_at), ("f", f_at)):
        if at is None:
            continue                                 # inlined
        store = rnd.choice(loops[:loops.index(at)])
        steps.append(f"{name}.compute_at(out, {at}).store_at(out, {store})")
        var = "x" if at == "x" else "y"              # the dimension that moves with the loop
        split_producer(name, var)
        if var == "y" and rnd.random() < 0.3:
            steps.append(f"{name}.vectorize(x, 4, {rnd.choice(('RoundUp', 'GuardWithIf'))})")
    return steps


def _apply(steps):
    x, y, f, g, out = _pipeline()
    names = dict(x=x, y=y, f=f, g=g, out=out, root=None)
    for n in ("xo", "yo", "xi", "yi", "yii"):
        names[n] = hl.Var(n)
    names.update({k: v for k, v in TAILS.items()})
    for step in steps:
        step = step.replace(".store_at(out, root)", ".store_root()")
        eval(step, {}, names)    # the steps are this module's own text
    return out


@pytest.mark.parametrize("seed", range(10))
def test_random_overshooting_splits_slide_correctly(seed, expected, checked_stores):
    steps = _random_schedule(seed)
    got = _realize(_apply(steps))
    assert np.array_equal(got, expected), "schedule:\n  " + "\n  ".join(steps)


CASES = {
    # camera_pipe's shape: strips of rows in parallel, two rows per iteration
    # (RoundUp), producers slid down the strip with 2-row tiles.
    "camera_strips": ["out.split(y, y, yii, 2, ShiftInwards)", "out.split(y, yo, yi, 4)",
                      "f.compute_at(out, yi).store_at(out, yo)", "f.tile(x, y, x, y, xi, yi, 8, 2)",
                      "g.compute_at(out, yi).store_at(out, yo)", "g.tile(x, y, x, y, xi, yi, 8, 2, RoundUp)",
                      "g.vectorize(xi)"],
    "shift_inwards_larger_than_window": ["g.compute_at(out, y).store_root()", "g.split(y, yo, yi, 5, ShiftInwards)"],
    "round_up_larger_than_window": ["g.compute_at(out, y).store_root()", "g.split(y, yo, yi, 5, RoundUp)"],
    "seed_11431_along_x": ["g.compute_at(out, x).store_at(out, y)",
                           "g.tile(x, y, x, y, xi, yi, 5, 3, Auto)"],
    "chain_both_slid": ["f.compute_at(out, y).store_root()", "f.split(y, yo, yi, 3, ShiftInwards)",
                        "g.compute_at(out, y).store_root()", "g.split(y, yo, yi, 2, RoundUp)"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_overshooting_split_cases(name, expected, checked_stores):
    got = _realize(_apply(CASES[name]))
    assert np.array_equal(got, expected), "schedule:\n  " + "\n  ".join(CASES[name])


def _count_stores(out, func_name, capfd):
    capfd.readouterr()
    _realize(out)
    return sum(1 for line in capfd.readouterr().out.splitlines() if line.startswith(f"Store {func_name}"))


def test_overshooting_split_still_slides(capfd):
    # g slides down y: each iteration computes the new rows, a whole split
    # factor of 2 of them (ShiftInwards), not g's four-row window again.
    x, y, f, g, out = _pipeline()
    g.compute_at(out, y).store_root().split(y, hl.Var("yo"), hl.Var("yi"), 2, hl.TailStrategy.ShiftInwards)
    g.trace_stores()
    stores = _count_stores(out, "ov_g", capfd)
    width = OUT_SIZE[0] + 2
    assert stores <= width * 2 * (OUT_SIZE[1] + 3), stores   # unslid: 4 rows per output row


def test_folded_storage_holds_the_overshoot():
    # A slid dimension with a RoundUp split of 2 and a 4-row window: the fold
    # holds the window plus the row rounding up may write past it (8, not 4).
    from pipelang.lowering.lower import lower
    x, y, f, g, out = _pipeline()
    g.compute_at(out, y).store_root().split(y, hl.Var("yo"), hl.Var("yi"), 2, hl.TailStrategy.RoundUp)
    lowered, *_ = lower([out.function])
    sizes = [a.size for a in _find(lowered.body, ir.Allocate) if a.buf.name.startswith("ov_g")]
    assert len(sizes) == 1 and "*8" in ir.to_string(sizes[0]).replace(" ", ""), sizes


def _strip_pipeline(scheduled: bool):
    """out = g[y-1] + g[y] + 3 g[y+1], two rows of out per iteration (RoundUp);
    g slid down them in 2-row RoundUp tiles (camera_pipe's `curved`)."""
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.Buffer(IMG, "st_in")
    g, out = hl.Func("st_g"), hl.Func("st_out")
    g[x, y] = inp[x + 40, y + 40] * 2 + 1
    out[x, y] = g[x, y - 1] + g[x, y] + 3 * g[x, y + 1]
    if scheduled:
        yo, yi, yii, xi, gyi = (hl.Var(n) for n in ("yo", "yi", "yii", "xi", "gyi"))
        out.split(y, yi, yii, 2, hl.TailStrategy.RoundUp).split(yi, yo, yi, 5)
        g.compute_at(out, yi).store_at(out, yo).tile(x, y, x, y, xi, gyi, 8, 2, hl.TailStrategy.RoundUp)
        out.bound(x, 0, 24).bound(y, 0, 30)
    return out


def test_round_up_tiles_sliding_by_whole_tiles_fold_to_the_window(checked_stores):
    # Every iteration computes a multiple of the split's 2 rows (4 at first,
    # then 2): rounding up writes nothing past the window, so the fold is the
    # 4-row window (was 8, with a row of overshoot; Halide's is 4).
    from pipelang.lowering.lower import lower
    out = _strip_pipeline(True)
    lowered, *_ = lower([out.function])
    sizes = [a.size for a in _find(lowered.body, ir.Allocate) if a.buf.name.startswith("st_g")]
    assert len(sizes) == 1 and ir.const_value(sizes[0]) == 24 * 4, sizes   # 24 columns, 4 rows
    got, want = (np.asarray(_strip_pipeline(s).realize([24, 30])) for s in (True, False))
    assert np.array_equal(got, want)


def test_explicit_fold_must_hold_the_overshoot():
    x, y, f, g, out = _pipeline()
    g.compute_at(out, y).store_root().split(y, hl.Var("yo"), hl.Var("yi"), 2, hl.TailStrategy.RoundUp)
    g.fold_storage(y, 4)
    with pytest.raises(hl.ScheduleError, match=r"fold_storage\(y, 4\).*needs 5 values.*4 computed at once"):
        _realize(out)


def test_explicit_fold_that_holds_the_overshoot(expected, checked_stores):
    x, y, f, g, out = _pipeline()
    g.compute_at(out, y).store_root().split(y, hl.Var("yo"), hl.Var("yi"), 3, hl.TailStrategy.ShiftInwards)
    g.fold_storage(y, 4)
    assert np.array_equal(_realize(out), expected)


def _find(s, cls):
    found = []

    class _V(ir.IRVisitor):
        def visit(self, node):
            if isinstance(node, cls):
                found.append(node)
            return super().visit(node)
    _V().visit(s)
    return found
