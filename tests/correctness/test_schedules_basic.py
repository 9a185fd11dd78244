"""The same algorithms under many schedules: every schedule must give bit-identical results.

Each algorithm is built fresh per schedule (schedules mutate Funcs), realized, and compared
both with its default-schedule (everything inlined) output and with an independent numpy
reference. Output sizes (17x13, and 1x1) are deliberately not multiples of split factors.
Inputs go through repeat_edge so schedules that compute extra (RoundUp) stay in bounds.
"""

import functools

import numpy as np
import pytest

import pipelang as hl

W, H, C = 17, 13, 3
TS = hl.TailStrategy


def V(name):
    return hl.Var(name)


# ---------------------------------------------------------------- algorithm 1: separable 3x3 blur

def _blur_input():
    return np.random.default_rng(7).integers(0, 65536, size=(H + 4, W + 4)).astype(np.uint16)


class Blur:
    """blur_x[x, y] = (in[x-1] + in[x] + in[x+1]) / 3; blur_y likewise over y; uint16, wrapping."""

    def __init__(self, a):
        self.x, self.y = hl.Var("x"), hl.Var("y")
        x, y = self.x, self.y
        self.input = a  # keep the array alive: the Buffer shares its memory
        clamped = hl.BoundaryConditions.repeat_edge(hl.Buffer(a))
        self.producer = hl.Func("blur_x")
        self.producer[x, y] = (clamped[x - 1, y] + clamped[x, y] + clamped[x + 1, y]) / 3
        self.consumer = hl.Func("blur_y")
        self.consumer[x, y] = (self.producer[x, y - 1] + self.producer[x, y] + self.producer[x, y + 1]) / 3

    @staticmethod
    def reference(a, w, h):
        p = np.pad(a, 1, mode="edge").astype(np.int64)
        bx = ((p[:, :-2] + p[:, 1:-1] + p[:, 2:]) % 65536) // 3
        by = ((bx[:-2] + bx[1:-1] + bx[2:]) % 65536) // 3
        return by[:h, :w].astype(np.uint16)


# schedule name -> function(producer, consumer, x, y)
BLUR_SCHEDULES = {
    "default": lambda p, c, x, y: None,
    "compute_root": lambda p, c, x, y: p.compute_root(),
    "compute_inline_explicit": lambda p, c, x, y: p.compute_root().compute_inline(),
    "split_GuardWithIf": lambda p, c, x, y: c.split(x, V("xo"), V("xi"), 4, TS.GuardWithIf),
    "split_ShiftInwards": lambda p, c, x, y: c.split(x, V("xo"), V("xi"), 4, TS.ShiftInwards),
    "split_Auto": lambda p, c, x, y: c.split(x, V("xo"), V("xi"), 4, TS.Auto),
    "split_default_tail": lambda p, c, x, y: c.split(y, V("yo"), V("yi"), 5),
    "split_RoundUp_on_producer": lambda p, c, x, y: p.compute_root().split(x, V("xo"), V("xi"), 5, TS.RoundUp),
    "split_factor_larger_than_extent": lambda p, c, x, y: c.split(y, V("yo"), V("yi"), 32, TS.GuardWithIf),
    "split_twice": lambda p, c, x, y: _split_twice(c, x),
    "reorder_yx": lambda p, c, x, y: c.reorder(y, x),
    "reorder_yx_producer_root": lambda p, c, x, y: (p.compute_root().reorder(y, x), c.reorder(y, x)),
    "fuse": lambda p, c, x, y: c.fuse(x, y, V("xy")),
    "fuse_then_split": lambda p, c, x, y: _fuse_then_split(c, x, y),
    "tile": lambda p, c, x, y: c.tile(x, y, V("xo"), V("yo"), V("xi"), V("yi"), 4, 3),
    "tile_GuardWithIf": lambda p, c, x, y: c.tile(x, y, V("xo"), V("yo"), V("xi"), V("yi"), 8, 8, TS.GuardWithIf),
    "tile_in_place": lambda p, c, x, y: c.tile(x, y, V("xi"), V("yi"), 5, 2),
    "unroll_factor": lambda p, c, x, y: c.unroll(x, 3),
    "unroll_inner_of_split": lambda p, c, x, y: _unroll_inner(c, y),
    "vectorize_factor_8": lambda p, c, x, y: c.vectorize(x, 8),
    "vectorize_factor_16_wider_than_half": lambda p, c, x, y: c.vectorize(x, 16),
    "vectorize_inner_of_split": lambda p, c, x, y: _vectorize_inner(c, x),
    "vectorize_GuardWithIf": lambda p, c, x, y: c.vectorize(x, 8, TS.GuardWithIf),
    "parallel_y": lambda p, c, x, y: c.parallel(y),
    "parallel_y_vectorize_x": lambda p, c, x, y: c.parallel(y).vectorize(x, 4),
    "parallel_with_task_size": lambda p, c, x, y: c.parallel(y, 4),
    "serial": lambda p, c, x, y: c.serial(y),
    "compute_at_y": lambda p, c, x, y: p.compute_at(c, y),
    "compute_at_x": lambda p, c, x, y: p.compute_at(c, x),
    "compute_at_y_vectorized": lambda p, c, x, y: (p.compute_at(c, y).vectorize(x, 4), c.vectorize(x, 4)),
    "store_root_compute_at_y": lambda p, c, x, y: p.store_root().compute_at(c, y),
    "store_at_y_compute_at_x": lambda p, c, x, y: p.store_at(c, y).compute_at(c, x),
    "store_root_compute_at_x": lambda p, c, x, y: p.store_root().compute_at(c, x),
    "fold_storage": lambda p, c, x, y: p.store_root().compute_at(c, y).fold_storage(y, 4),
    "loop_level_object": lambda p, c, x, y: p.compute_at(hl.LoopLevel(c, y)),
    "loop_level_root": lambda p, c, x, y: p.compute_at(hl.LoopLevel.root()),
    "loop_level_inlined": lambda p, c, x, y: p.compute_root().compute_at(hl.LoopLevel.inlined()),
    "tile_compute_at_tile": lambda p, c, x, y: _tile_compute_at(p, c, x, y),
    "tile_vectorize_parallel_compute_at": lambda p, c, x, y: _full_schedule(p, c, x, y),
    "producer_split_consumer_reorder": lambda p, c, x, y: _producer_split(p, c, x, y),
    "reorder_storage": lambda p, c, x, y: p.compute_root().reorder_storage(y, x),
    "bound_output": lambda p, c, x, y: c.bound(x, 0, W).bound(y, 0, H),
    "bound_extent_then_unroll": lambda p, c, x, y: _bound_extent_unroll(c, y),
}


def _split_twice(c, x):
    xo, xi, xio, xii = V("xo"), V("xi"), V("xio"), V("xii")
    c.split(x, xo, xi, 8, TS.GuardWithIf).split(xi, xio, xii, 3, TS.GuardWithIf)


def _fuse_then_split(c, x, y):
    xy, o, i = V("xy"), V("o"), V("i")
    c.fuse(x, y, xy).split(xy, o, i, 7, TS.GuardWithIf)


def _unroll_inner(c, y):
    yo, yi = V("yo"), V("yi")
    c.split(y, yo, yi, 4, TS.GuardWithIf).unroll(yi)


def _vectorize_inner(c, x):
    xo, xi = V("xo"), V("xi")
    c.split(x, xo, xi, 4).vectorize(xi)


def _tile_compute_at(p, c, x, y):
    xo, yo, xi, yi = V("xo"), V("yo"), V("xi"), V("yi")
    c.tile(x, y, xo, yo, xi, yi, 8, 4)
    p.compute_at(c, xo)


def _full_schedule(p, c, x, y):
    xo, yo, xi, yi = V("xo"), V("yo"), V("xi"), V("yi")
    c.tile(x, y, xo, yo, xi, yi, 8, 4).vectorize(xi, 4).unroll(yi, 2).parallel(yo)
    p.compute_at(c, xo).vectorize(x, 4)


def _producer_split(p, c, x, y):
    yo, yi = V("yo"), V("yi")
    p.compute_root().split(y, yo, yi, 2).parallel(yo).vectorize(x, 8)
    c.reorder(y, x)


def _bound_extent_unroll(c, y):
    c.bound_extent(y, H).unroll(y)


@functools.lru_cache(maxsize=None)
def _blur_default(w, h):
    alg = Blur(_blur_input())  # keep alg (and its input array) alive while realizing
    return np.asarray(alg.consumer.realize([w, h])).copy()


@pytest.mark.parametrize("schedule", list(BLUR_SCHEDULES))
def test_blur_schedule(schedule):
    a = _blur_input()
    alg = Blur(a)
    BLUR_SCHEDULES[schedule](alg.producer, alg.consumer, alg.x, alg.y)
    got = np.asarray(alg.consumer.realize([W, H]))
    want = Blur.reference(a, W, H)
    np.testing.assert_array_equal(got, want, err_msg=f"schedule {schedule} vs numpy")
    np.testing.assert_array_equal(got, _blur_default(W, H), err_msg=f"schedule {schedule} vs default")


@pytest.mark.parametrize("schedule", ["default", "compute_root", "split_GuardWithIf", "tile_GuardWithIf",
                                      "vectorize_GuardWithIf", "compute_at_x", "store_root_compute_at_y",
                                      "parallel_y"])
def test_blur_one_by_one_output(schedule):
    a = _blur_input()
    alg = Blur(a)
    BLUR_SCHEDULES[schedule](alg.producer, alg.consumer, alg.x, alg.y)
    got = np.asarray(alg.consumer.realize([1, 1]))
    np.testing.assert_array_equal(got, Blur.reference(a, 1, 1))


@pytest.mark.parametrize("schedule", ["default", "split_ShiftInwards", "vectorize_factor_8", "tile", "fold_storage"])
def test_blur_into_shifted_output(schedule):
    """Schedules must respect an output whose min is not zero."""
    a = _blur_input()
    alg = Blur(a)
    BLUR_SCHEDULES[schedule](alg.producer, alg.consumer, alg.x, alg.y)
    out = hl.Buffer(hl.UInt(16), [W - 4, H - 3])
    out.set_min([2, 1])
    alg.consumer.realize(out)
    np.testing.assert_array_equal(np.asarray(out), Blur.reference(a, W, H)[1:H - 2, 2:W - 2])


# ---------------------------------------------------------------- algorithm 2: 3-D, three stages

def _color_input():
    return np.random.default_rng(8).integers(-1000, 1000, size=(C, H, W)).astype(np.int32)  # planar (C, H, W)


class Color:
    """scaled[x, y, c] = in * (c + 1) + x; diff[x, y, c] = scaled(x+1) - scaled(x-1); out = diff + scaled(x, y-1) * 2."""

    def __init__(self, a):
        self.x, self.y, self.c = hl.Var("x"), hl.Var("y"), hl.Var("c")
        x, y, c = self.x, self.y, self.c
        self.input = a  # keep the array alive: the Buffer shares its memory
        clamped = hl.BoundaryConditions.repeat_edge(hl.Buffer(a))
        self.scaled, self.diff, self.out = hl.Func("scaled"), hl.Func("diff"), hl.Func("out")
        self.scaled[x, y, c] = clamped[x, y, c] * (c + 1) + x
        self.diff[x, y, c] = self.scaled[x + 1, y, c] - self.scaled[x - 1, y, c]
        self.out[x, y, c] = self.diff[x, y, c] + self.scaled[x, y - 1, c] * 2

    @staticmethod
    def reference(a):
        cc, hh, ww = a.shape
        p = np.pad(a, ((0, 0), (1, 1), (1, 1)), mode="edge").astype(np.int64)
        xs = np.arange(-1, ww + 1)[None, None, :]
        scaled = p * (np.arange(cc)[:, None, None] + 1) + xs  # covers x in [-1, W+1), y in [-1, H+1)
        diff = scaled[:, 1:-1, 2:] - scaled[:, 1:-1, :-2]
        return (diff + scaled[:, :-2, 1:-1] * 2).astype(np.int32)


COLOR_SCHEDULES = {
    "default": lambda s, d, o, x, y, c: None,
    "all_root": lambda s, d, o, x, y, c: (s.compute_root(), d.compute_root()),
    "reorder_c_innermost": lambda s, d, o, x, y, c: o.reorder(c, x, y),
    "bound_c_unroll": lambda s, d, o, x, y, c: o.bound(c, 0, C).reorder(c, x, y).unroll(c),
    "reorder_storage_interleaved": lambda s, d, o, x, y, c: s.compute_root().reorder_storage(c, x, y).reorder(c, x, y),
    "compute_at_c": lambda s, d, o, x, y, c: (s.compute_at(o, c), d.compute_at(o, c)),
    "compute_at_y_store_at_c": lambda s, d, o, x, y, c: s.store_at(o, c).compute_at(o, y),
    "compute_at_y_and_x": lambda s, d, o, x, y, c: (s.compute_at(o, y), d.compute_at(o, x)),
    "mixed_levels": lambda s, d, o, x, y, c: (s.compute_root(), d.compute_at(o, y).vectorize(x, 8)),
    "fuse_yc_parallel": lambda s, d, o, x, y, c: _fuse_parallel(o, y, c),
    "tile_vectorize_compute_at": lambda s, d, o, x, y, c: _color_tile(s, d, o, x, y, c),
    "split_all_tails": lambda s, d, o, x, y, c: _color_split_all(s, d, o, x, y),
    "vectorize_unroll_parallel": lambda s, d, o, x, y, c: o.vectorize(x, 4).unroll(y, 2).parallel(c),
}


def _fuse_parallel(o, y, c):
    yc = V("yc")
    o.fuse(y, c, yc).parallel(yc)


def _color_tile(s, d, o, x, y, c):
    xo, yo, xi, yi = V("xo"), V("yo"), V("xi"), V("yi")
    o.tile(x, y, xo, yo, xi, yi, 8, 8, TS.GuardWithIf).vectorize(xi, 4)
    d.compute_at(o, xo)
    s.compute_at(o, yo).vectorize(x, 8)


def _color_split_all(s, d, o, x, y):
    s.compute_root().split(x, V("xo"), V("xi"), 6, TS.RoundUp)
    d.compute_root().split(y, V("yo"), V("yi"), 4, TS.ShiftInwards)
    o.split(x, V("xo"), V("xi"), 5, TS.GuardWithIf)


@functools.lru_cache(maxsize=None)
def _color_default():
    alg = Color(_color_input())  # keep alg (and its input array) alive while realizing
    return np.asarray(alg.out.realize([W, H, C])).copy()


@pytest.mark.parametrize("schedule", list(COLOR_SCHEDULES))
def test_color_schedule(schedule):
    a = _color_input()
    alg = Color(a)
    COLOR_SCHEDULES[schedule](alg.scaled, alg.diff, alg.out, alg.x, alg.y, alg.c)
    got = np.asarray(alg.out.realize([W, H, C]))
    np.testing.assert_array_equal(got, Color.reference(a), err_msg=f"schedule {schedule} vs numpy")
    np.testing.assert_array_equal(got, _color_default(), err_msg=f"schedule {schedule} vs default")


# ---------------------------------------------------------------- algorithm 3: 1-D pointwise chain

@pytest.mark.parametrize("factor", [1, 3, 4, 8, 37, 64])
@pytest.mark.parametrize("tail", ["GuardWithIf", "ShiftInwards", "Auto", "RoundUp_intermediate"])
def test_1d_split_and_vectorize_every_factor(factor, tail):
    """A 37-element 1-D output, split and vectorized by many factors (some larger than the extent)."""
    n = 37
    x, xo, xi = hl.Var("x"), hl.Var("xo"), hl.Var("xi")
    g, f = hl.Func("g"), hl.Func("f")
    g[x] = x * x - 5
    f[x] = g[x] + g[x + 1] * 3
    if tail == "RoundUp_intermediate":
        g.compute_root().split(x, xo, xi, factor, TS.RoundUp).vectorize(xi)
    else:
        f.split(x, xo, xi, factor, getattr(TS, tail)).vectorize(xi)
    got = np.asarray(f.realize([n]))
    xs = np.arange(n)
    np.testing.assert_array_equal(got, (xs * xs - 5) + ((xs + 1) ** 2 - 5) * 3)


def test_print_loop_nest_runs(capsys):
    a = _blur_input()
    alg = Blur(a)
    BLUR_SCHEDULES["tile_vectorize_parallel_compute_at"](alg.producer, alg.consumer, alg.x, alg.y)
    alg.consumer.print_loop_nest()
    np.testing.assert_array_equal(np.asarray(alg.consumer.realize([W, H])), Blur.reference(a, W, H))


# ---------------------------------------------------------------- realize(sizes) vs. schedules that over-compute

@pytest.mark.parametrize("case", ["RoundUp_on_output", "ShiftInwards_factor_exceeds_extent", "vectorize_width_1"])
def test_realize_sizes_absorbs_overcompute_of_the_output(case):
    """Func.realize(sizes) bounds-queries the pipeline, allocates the region the schedule writes,
    and hands back a buffer cropped to exactly the requested sizes (as Halide's Pipeline::realize)."""
    x, xo, xi = hl.Var("x"), hl.Var("xo"), hl.Var("xi")
    f = hl.Func("f")
    f[x] = x * 3 - 1
    n = 10
    if case == "RoundUp_on_output":
        f.split(x, xo, xi, 4, TS.RoundUp)
    elif case == "ShiftInwards_factor_exceeds_extent":
        f.split(x, xo, xi, 16, TS.ShiftInwards).vectorize(xi)
    else:
        f.vectorize(x, 8)
        n = 1
    out = f.realize([n])
    assert out.dim(0).min() == 0 and out.dim(0).extent() == n
    np.testing.assert_array_equal(np.asarray(out), np.arange(n) * 3 - 1)


TAIL_STRATEGIES = ["RoundUp", "GuardWithIf", "Predicate", "PredicateLoads", "PredicateStores",
                   "ShiftInwards", "Auto", "RoundUpAndBlend", "ShiftInwardsAndBlend"]


@pytest.mark.parametrize("where", ["output", "compute_root_producer"])
@pytest.mark.parametrize("tail", TAIL_STRATEGIES)
def test_every_tail_strategy_with_vectorized_inner_loop(tail, where):
    """split by 4 (17 is not a multiple) + vectorize the inner var, under each TailStrategy."""
    a = _blur_input()
    alg = Blur(a)
    xo, xi = hl.Var("xo"), hl.Var("xi")
    f = alg.consumer if where == "output" else alg.producer.compute_root()
    f.split(alg.x, xo, xi, 4, getattr(TS, tail)).vectorize(xi)
    got = np.asarray(alg.consumer.realize([W, H]))
    np.testing.assert_array_equal(got, Blur.reference(a, W, H))
