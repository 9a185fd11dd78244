"""The apps ported last (camera_pipe, interpolate) beyond the harness's smoke
run: their numpy references against real Halide running the app's schedule,
and the never_partition directives interpolate's schedule uses."""

import numpy as np
import pytest

import pipelang as hl
from pipelang.bench import suite
from pipelang.errors import ScheduleError


@pytest.mark.parametrize("name", ["camera_pipe", "interpolate"])
def test_reference_matches_real_halide(name):
    halide = pytest.importorskip("halide")
    bench = suite.BENCHMARKS[name]
    inputs = bench.inputs("tiny", seed=3)
    ref = bench.reference(inputs)
    out = np.empty_like(ref)
    halide.Pipeline(bench.build(halide, inputs)).realize(halide.Buffer(out))
    assert np.abs(out.astype(np.float64) - ref).max() <= bench.tolerance.bound(ref)


def _clamped_sum():
    x = hl.Var("x")
    data = hl.Buffer(np.arange(40, dtype=np.int32))
    clamped = hl.BoundaryConditions.repeat_edge(data)
    f = hl.Func("f")
    f[x] = clamped[x - 3] + clamped[x + 3]
    return f, x


def _loops(f, size):
    """Loops, and the branches of a loop partitioned at both ends (one loop
    with a steady and a clamped branch)."""
    stmt = hl.Pipeline(f).lowered_stmt()
    return stmt.count("for (") + stmt.count("} else {")


def test_never_partition_keeps_the_loop_whole():
    expected = np.array([min(max(i - 3, 0), 39) + min(max(i + 3, 0), 39) for i in range(40)], np.int32)
    f, x = _clamped_sum()
    partitioned = _loops(f, 40)
    np.testing.assert_array_equal(np.asarray(f.realize([40])), expected)
    g, gx = _clamped_sum()
    g.never_partition([gx])  # Halide's Python API takes a list
    assert _loops(g, 40) < partitioned  # the steady state and clamped copy are gone
    np.testing.assert_array_equal(np.asarray(g.realize([40])), expected)
    h, _ = _clamped_sum()
    h.never_partition_all()
    assert _loops(h, 40) == _loops(g, 40)
    np.testing.assert_array_equal(np.asarray(h.realize([40])), expected)


def test_always_partition_is_checked():
    f, x = _clamped_sum()
    f.always_partition_all()
    np.testing.assert_array_equal(np.asarray(f.realize([40]))[:2], [3, 4])  # it does partition
    k, kx = hl.Func("k"), hl.Var("x")
    k[kx] = kx * 2  # nothing to partition
    k.always_partition([kx])
    with pytest.raises(ScheduleError, match="Always for k"):
        k.realize([8])


def test_never_partition_names_an_unknown_var():
    f, _ = _clamped_sum()
    with pytest.raises(ScheduleError, match="could not find var y"):
        f.never_partition([hl.Var("y")])
