"""Bad prefetch() schedules: a pipelang error naming the Func, the loop and what would be legal."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.errors import ArgumentTypeError, ScheduleError


def _pipeline():
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.ImageParam(hl.Float(32), 2, "inp")
    g, f = hl.Func("g"), hl.Func("f")
    g[x, y] = inp[x, y] * 2
    f[x, y] = g[x, y] + g[x + 1, y]
    g.compute_root()
    inp.set(hl.Buffer(np.zeros((12, 12), np.float32)))
    return f, g, inp, x, y


def _compile(f):
    f.compile_jit()


def test_unknown_at_loop():
    f, g, inp, x, y = _pipeline()
    f.prefetch(g, hl.Var("z"), hl.Var("z"), 2)
    with pytest.raises(ScheduleError, match=r"f.*prefetch\(g\S*, z, z.*names loop 'z'.*loops, outermost first: y, x"):
        _compile(f)


def test_unknown_from_loop():
    f, g, inp, x, y = _pipeline()
    f.prefetch(g, y, hl.Var("z"), 2)
    with pytest.raises(ScheduleError, match=r"'from' loop 'z'.*is not a loop of it"):
        _compile(f)


def test_from_inside_at():
    """Halide: "Prefetch 'from' variable 'x' could not be found in an active loop.
    (Are the 'at' and 'from' variables swapped?)"."""
    f, g, inp, x, y = _pipeline()
    f.prefetch(g, y, x, 2)
    with pytest.raises(ScheduleError, match=r"prefetch\(g\S*, y, x.*'from' loop 'x' must be the 'at' loop "
                                            r"'y' or a loop outside it, but it is inside it.*swapped"):
        _compile(f)


def test_func_not_in_pipeline():
    f, g, inp, x, y = _pipeline()
    h = hl.Func("h")
    h[x, y] = x + y
    f.prefetch(h, y, y)
    with pytest.raises(ScheduleError, match=r"prefetch\(h\S*, y, y.*h\S* is not used by this pipeline"):
        _compile(f)


def test_func_prefetches_itself():
    f, g, inp, x, y = _pipeline()
    f.prefetch(f, y, y)
    with pytest.raises(ScheduleError, match=r"f\S* can't prefetch itself"):
        _compile(f)


def test_func_stored_inside_the_loop():
    """Halide: 'Prefetch to buffer "g" which has not been allocated'."""
    f, g, inp, x, y = _pipeline()
    g.compute_at(f, x)
    f.prefetch(g, y, y)
    with pytest.raises(ScheduleError, match=r"g\S* is stored inside the loop f\S*.s0.y.*store it outside"):
        _compile(f)


def test_offset_must_be_an_integer():
    f, g, inp, x, y = _pipeline()
    with pytest.raises(ScheduleError, match=r"offset of prefetch\(g\S*, y, y, \.\.\.\) must be an integer"):
        f.prefetch(g, y, y, 2.5)


def test_offset_may_not_use_vars():
    f, g, inp, x, y = _pipeline()
    with pytest.raises(ScheduleError, match=r"depends on Var or RVar x"):
        f.prefetch(g, y, y, x)


@pytest.mark.parametrize("call", [
    lambda f, g, inp, y: f.prefetch(g, y, y, 1, 0),                       # strategy not an enum
    lambda f, g, inp, y: f.prefetch(3, y, y),                             # not a Func or buffer
    lambda f, g, inp, y: f.prefetch(g, y),                                # no 'from'
    lambda f, g, inp, y: f.prefetch(g, y, y, 1, hl.PrefetchBoundStrategy.Clamp, 5),
    lambda f, g, inp, y: f.prefetch(g, y, y, bogus=1),
    lambda f, g, inp, y: f.prefetch(g, y, y, **{"from": y}),
], ids=["strategy", "target", "missing", "too_many", "keyword", "twice"])
def test_bad_arguments_are_type_errors(call):
    """Where Halide's bindings raise TypeError (incompatible function arguments)."""
    f, g, inp, x, y = _pipeline()
    with pytest.raises(TypeError, match="prefetch"):
        call(f, g, inp, y)
    assert issubclass(ArgumentTypeError, hl.HalideError)
