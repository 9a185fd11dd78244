"""Differential testing of schedules: every schedule of an algorithm must give
the same bits as the default schedule, which is checked against numpy.

Three algorithms (a stencil chain, a pointwise chain across types, and a
downsample/upsample pair), each under many schedules that exercise every CPU
directive and their combinations, at sizes that no split factor divides and
at 1x1.
"""
import numpy as np
import pytest

import pipelang as hl

TS = hl.TailStrategy
SIZES = [(37, 23), (1, 1), (64, 8)]


def V(name):
    return hl.Var(name)


# ---------------------------------------------------------------- algorithms

def stencil_chain(inp):
    """Three 3-tap blurs in alternating directions, uint16."""
    x, y = V("x"), V("y")
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    a, b, c = hl.Func("sc_a"), hl.Func("sc_b"), hl.Func("sc_c")
    a[x, y] = (hl.u16(clamped[x - 1, y]) + clamped[x, y] * 2 + clamped[x + 1, y]) / 4
    b[x, y] = (a[x, y - 1] + a[x, y] * 2 + a[x, y + 1]) / 4
    c[x, y] = (b[x - 1, y] + b[x + 1, y]) / 2 + b[x, y - 2]
    return [a, b], c, x, y


def pointwise_chain(inp):
    """Casts and math across types: uint8 -> float -> int16 -> uint8."""
    x, y = V("x"), V("y")
    # Bounded, because splits of a 1x1 output read past it (as in Halide).
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    f, g, h = hl.Func("pw_f"), hl.Func("pw_g"), hl.Func("pw_h")
    f[x, y] = hl.f32(clamped[x, y]) * 0.75 + hl.f32(x % 5)
    g[x, y] = hl.i16(hl.floor(f[x, y])) - hl.i16(y)
    h[x, y] = hl.u8(hl.clamp(g[x, y] * 3 + 7, 0, 255))
    return [f, g], h, x, y


def resample(inp):
    """Downsample by 2 with a [1 2 1] filter, then upsample back by linear interpolation."""
    x, y = V("x"), V("y")
    clamped = hl.BoundaryConditions.mirror_interior(inp)
    down_x, down, up_x, up = hl.Func("rs_dx"), hl.Func("rs_d"), hl.Func("rs_ux"), hl.Func("rs_u")
    down_x[x, y] = hl.u16(clamped[2 * x - 1, y]) + clamped[2 * x, y] * 2 + clamped[2 * x + 1, y]
    down[x, y] = (down_x[x, 2 * y - 1] + down_x[x, 2 * y] * 2 + down_x[x, 2 * y + 1]) / 16
    up_x[x, y] = (down[x / 2, y] + down[(x + 1) / 2, y]) / 2
    up[x, y] = hl.u8((up_x[x, y / 2] + up_x[x, (y + 1) / 2]) / 2)
    return [down_x, down, up_x], up, x, y


ALGORITHMS = {"stencil": stencil_chain, "pointwise": pointwise_chain, "resample": resample}


# ---------------------------------------------------------------- schedules

SCHEDULES = {
    "default": lambda p, o, x, y: None,
    "all_root": lambda p, o, x, y: [f.compute_root() for f in p],
    "split_x": lambda p, o, x, y: o.split(x, V("xo"), V("xi"), 4),
    "split_round_up": lambda p, o, x, y: (p[-1].compute_root().split(x, V("xo"), V("xi"), 5, TS.RoundUp)),
    "split_guard": lambda p, o, x, y: o.split(y, V("yo"), V("yi"), 3, TS.GuardWithIf),
    "split_shift": lambda p, o, x, y: o.split(x, V("xo"), V("xi"), 6, TS.ShiftInwards),
    "reorder": lambda p, o, x, y: o.reorder(y, x),
    "fuse": lambda p, o, x, y: o.fuse(x, y, V("t")),
    "fuse_parallel": lambda p, o, x, y: o.fuse(x, y, V("t")).parallel(V("t")),
    "tile": lambda p, o, x, y: o.tile(x, y, V("xo"), V("yo"), V("xi"), V("yi"), 8, 4),
    "tile_guard_vector": lambda p, o, x, y: o.tile(x, y, V("xo"), V("yo"), V("xi"), V("yi"), 8, 4,
                                                   TS.GuardWithIf).vectorize(V("xi")),
    "vectorize_8": lambda p, o, x, y: o.vectorize(x, 8),
    "vectorize_16_all": lambda p, o, x, y: [f.compute_root().vectorize(x, 16) for f in p + [o]],
    "unroll": lambda p, o, x, y: o.unroll(x, 3),
    "unroll_vector": lambda p, o, x, y: o.split(x, V("xo"), V("xi"), 8).vectorize(V("xi"), 4).unroll(V("xi")),
    "parallel_y": lambda p, o, x, y: o.parallel(y),
    "parallel_task": lambda p, o, x, y: o.parallel(y, 4),
    "compute_at_y": lambda p, o, x, y: [f.compute_at(o, y) for f in p],
    "compute_at_x": lambda p, o, x, y: p[-1].compute_at(o, x),
    "store_root_compute_y": lambda p, o, x, y: [f.store_root().compute_at(o, y) for f in p],
    "sliding_strips": lambda p, o, x, y: (o.split(y, y, V("yi"), 8).parallel(y).vectorize(x, 8),
                                          [f.store_at(o, y).compute_at(o, V("yi")).vectorize(x, 8) for f in p]),
    "tile_compute_at_tile": lambda p, o, x, y: (
        o.tile(x, y, V("xo"), V("yo"), V("xi"), V("yi"), 16, 8).parallel(V("yo")).vectorize(V("xi"), 4),
        [f.compute_at(o, V("xo")).vectorize(x, 4) for f in p]),
    "nested_compute_at": lambda p, o, x, y: ([p[i].compute_at(p[i + 1], y) for i in range(len(p) - 1)],
                                             p[-1].compute_at(o, y)),
    "producer_split_reorder": lambda p, o, x, y: [f.compute_root().split(y, V("yo"), V("yi"), 2).reorder(
        V("yi"), x, V("yo")) for f in p],
    "unroll_y": lambda p, o, x, y: o.unroll(y, 2),
    "parallel_vector_root": lambda p, o, x, y: [f.compute_root().parallel(y).vectorize(x, 8) for f in p + [o]],
    "reorder_storage": lambda p, o, x, y: [f.compute_root().reorder_storage(y, x) for f in p],
}


def _inputs(w, h):
    arr = np.random.default_rng(w * 100 + h).integers(0, 256, (h + 2, w + 2)).astype(np.uint8)
    return hl.Buffer(arr)


def _realize_all(algo, sched) -> list:
    """The output at every size in SIZES, from one compiled pipeline."""
    inp = hl.ImageParam(hl.UInt(8), 2, "diff_in")
    producers, out, x, y = ALGORITHMS[algo](inp)
    SCHEDULES[sched](producers, out, x, y)
    results = []
    for w, h in SIZES:
        inp.set(_inputs(w, h))
        results.append(np.asarray(out.realize([w, h])).copy())
    return results


_reference_cache = {}


def _reference(algo) -> list:
    if algo not in _reference_cache:
        _reference_cache[algo] = _realize_all(algo, "default")
    return _reference_cache[algo]


@pytest.mark.parametrize("algo", list(ALGORITHMS))
@pytest.mark.parametrize("sched", [s for s in SCHEDULES if s != "default"])
def test_schedule_matches_default(algo, sched):
    for (w, h), got, want in zip(SIZES, _realize_all(algo, sched), _reference(algo)):
        np.testing.assert_array_equal(got, want, err_msg=f"{algo}/{sched} at {w}x{h}")


def test_pointwise_default_matches_numpy():
    arr = np.random.default_rng(7).integers(0, 256, (13, 17)).astype(np.uint8)
    inp = hl.Buffer(arr)
    _, out, _, _ = pointwise_chain(inp)
    got = np.asarray(out.realize([17, 13]))
    yy, xx = np.mgrid[0:13, 0:17]
    f = arr.astype(np.float32) * np.float32(0.75) + (xx % 5).astype(np.float32)
    g = np.floor(f).astype(np.int16) - yy.astype(np.int16)
    want = np.clip(g.astype(np.int32) * 3 + 7, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(got, want)


def test_stencil_default_matches_numpy():
    arr = np.random.default_rng(8).integers(0, 256, (11, 19)).astype(np.uint8)
    inp = hl.Buffer(arr)
    _, out, _, _ = stencil_chain(inp)
    got = np.asarray(out.realize([19, 11]))
    p = np.pad(arr, 4, mode="edge").astype(np.uint16)      # p[i + 4] is input row/col i

    def a(yy, xx):   # clamped[x, y] * 2 is uint8 arithmetic: it wraps
        return (p[yy + 4, xx + 3] + (p[yy + 4, xx + 4] * 2) % 256 + p[yy + 4, xx + 5]) // 4

    def b(yy, xx):
        return (a(yy - 1, xx) + a(yy, xx) * 2 + a(yy + 1, xx)) // 4
    yy, xx = np.mgrid[0:11, 0:19]
    want = ((b(yy, xx - 1) + b(yy, xx + 1)) // 2 + b(yy - 2, xx)).astype(np.uint16)
    np.testing.assert_array_equal(got, want)
