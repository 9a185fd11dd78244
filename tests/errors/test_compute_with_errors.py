"""compute_with schedules Halide rejects are rejected with a ScheduleError
that names the stages (checked against real Halide where installed)."""
import pytest

import pipelang
from pipelang.errors import ScheduleError


def _program(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
    f[x, y] = x + y
    g[x, y] = x * y
    h[x, y] = f[x, y] + g[x + 1, y]
    return x, y, f, g, h


def _dependent(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
    f[x, y] = x + y
    g[x, y] = f[x, y] * 2
    h[x, y] = f[x, y] + g[x, y]
    return x, y, f, g, h


def _levels_differ(hl, x, y, f, g, h):
    f.compute_root()
    g.compute_at(h, y)
    g.compute_with(f, x)


def _inline(hl, x, y, f, g, h):
    f.compute_root()
    g.compute_with(f, x)


def _unknown_var(hl, x, y, f, g, h):
    f.compute_root()
    g.compute_root()
    g.compute_with(f, hl.Var("z"))


def _dims_differ(hl, x, y, f, g, h):
    f.compute_root().reorder(y, x)
    g.compute_root()
    g.compute_with(f, y)


def _kinds_differ(hl, x, y, f, g, h):
    f.compute_root().parallel(y)
    g.compute_root()
    g.compute_with(f, x)


def _specialized_child(hl, x, y, f, g, h):
    p = hl.Param(hl.Bool(), "p")
    f.compute_root()
    g.compute_root()
    g.compute_with(f, x)
    g.specialize(p).vectorize(x, 4)


def _specialized_first(hl, x, y, f, g, h):
    p = hl.Param(hl.Bool(), "p")
    f.compute_root()
    g.compute_root()
    g.specialize(p).vectorize(x, 4)
    g.compute_with(f, x)


def _itself(hl, x, y, f, g, h):
    f.compute_root()
    f.update  # (no update: fuse the Func with its own pure stage)
    f.compute_with(f, x)


CASES = [
    (_program, _levels_differ, "compute levels of f.s0 .* and g.s0 .* do not match"),
    (_program, _inline, "g.s0 is scheduled inline"),
    (_program, _unknown_var, "cannot find z in f.s0"),
    (_program, _dims_differ, "# of fused dims of f.s0 and g.s0 do not match"),
    (_program, _kinds_differ, "for types of dim 1 of f.s0\\(y is parallel\\) and g.s0\\(y is serial\\)"),
    (_program, _specialized_child, "Func g is scheduled to be computed with f, so it must not have any specializations"),
    (_program, _specialized_first, "Func g is scheduled to be computed with f, so it must not have any specializations"),
    (_program, _itself, "Cannot schedule f to be computed with f"),
    (_dependent, lambda hl, x, y, f, g, h: (f.compute_root(), g.compute_root(), g.compute_with(f, x)),
     "must not depend on each other, but g calls f"),
]


@pytest.mark.parametrize("build, schedule, message", CASES, ids=[c[1].__name__.strip("_") for c in CASES])
def test_rejected_as_halide_does(build, schedule, message):
    x, y, f, g, h = build(pipelang)
    with pytest.raises(ScheduleError, match=message):
        schedule(pipelang, x, y, f, g, h)
        h.realize([8, 8])
    try:
        import halide
    except ImportError:
        return
    x, y, f, g, h = build(halide)
    with pytest.raises(Exception):
        schedule(halide, x, y, f, g, h)
        h.realize([8, 8])


def _computed_inside(hl, x, y, f, g, h):
    inp = hl.Func("inp")
    inp[x, y] = x - y
    f2, g2 = hl.Func("f2"), hl.Func("g2")
    f2[x, y] = inp[x, y] + f[x, y]
    g2[x, y] = inp[x + 1, y] * g[x, y]
    h2 = hl.Func("h2")
    h2[x, y] = f2[x, y] + g2[x, y]
    for fn in (f, g, f2, g2):
        fn.compute_root()
    g2.compute_with(f2, x)
    inp.compute_at(f2, y)
    h2.realize([8, 8])


def test_no_func_inside_fused_loops():
    """Halide computes a Func inside the parent's fused loops; pipelang says it does not."""
    x, y, f, g, h = _program(pipelang)
    with pytest.raises(ScheduleError, match="inp is computed at f2.y, a loop that f2.s0 shares"):
        _computed_inside(pipelang, x, y, f, g, h)


def test_memoized_member():
    x, y, f, g, h = _program(pipelang)
    f.compute_root().memoize()
    g.compute_root()
    g.compute_with(f, x)
    with pytest.raises(ScheduleError, match="f.s0 is memoized"):
        h.realize([8, 8])


def test_output_with_non_output():
    x, y, f, g, h = _program(pipelang)
    f.compute_root()
    h.compute_with(f, y)
    with pytest.raises(ScheduleError, match="f.s0 and h.s0 must both be outputs"):
        pipelang.Pipeline([h]).realize([8, 8])


def test_output_reading_an_output_computed_between():
    x, y = pipelang.Var("x"), pipelang.Var("y")
    a, b, c = pipelang.Func("a"), pipelang.Func("b"), pipelang.Func("c")
    a[x, y] = x + y
    b[x, y] = x * 2
    c[x, y] = b[x, y] + 1
    c.compute_with(a, y)
    with pytest.raises(ScheduleError, match="output c is computed with a, but it reads output b"):
        pipelang.Pipeline([a, b, c]).realize([8, 8])


def test_align_must_be_a_strategy():
    x, y, f, g, h = _program(pipelang)
    with pytest.raises(ScheduleError, match="alignment of x must be a LoopAlignStrategy"):
        g.compute_with(f, y, [(x, "start")])


def test_looplevel_needs_its_stage():
    x, y, f, g, h = _program(pipelang)
    with pytest.raises(ScheduleError, match=r"needs the LoopLevel's stage"):
        g.compute_with(pipelang.LoopLevel(f, x))


def test_cyclic_compute_with():
    x, y = pipelang.Var("x"), pipelang.Var("y")
    f, g, h = pipelang.Func("f"), pipelang.Func("g"), pipelang.Func("h")
    f[x, y] = x + y
    f[x, y] += 1
    g[x, y] = x * y
    g[x, y] += 2
    h[x, y] = f[x, y] + g[x, y]
    f.compute_root()
    g.compute_root()
    f.compute_with(g, y)
    g.update(0).compute_with(f.update(0), y)
    with pytest.raises(ScheduleError, match="Found cyclic dependencies between compute_with of g and f"):
        h.realize([8, 8])
