"""Embedded Buffers' shapes are compiled in as constants, checked on entry."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.errors import HalideError


def _filter_tap_pipeline():
    # A (32, 1) array: dimension 0 has extent 1, so dimension 1 has stride 1 and
    # a read along it, vectorized, is a dense load (as in depthwise_separable_conv).
    data = np.arange(32, dtype=np.float32).reshape(32, 1)
    b = hl.Buffer(data, "taps")
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = b[0, x] * 2
    f.vectorize(x, 16)
    return f, b, data


def test_embedded_buffer_fields_become_constants():
    f, _, data = _filter_tap_pipeline()
    stmt = hl.Pipeline(f).lowered_stmt()
    body = stmt.split("Constraint violated")[-1].split("\n", 1)[1]
    assert "taps.stride" not in body and "taps.min" not in body, stmt
    assert "taps[ramp(" in body and ", 1, 16)]" in body, stmt
    np.testing.assert_array_equal(np.asarray(f.realize([32])), data[:, 0] * 2)


def test_embedded_buffer_changed_after_compiling_is_an_error():
    f, b, data = _filter_tap_pipeline()
    np.testing.assert_array_equal(np.asarray(f.realize([16])), data[:16, 0] * 2)
    b.set_min([1, 0])
    with pytest.raises(HalideError, match=r"Constraint violated: taps\.min\.0 \(1\) == 0 \(0\)"):
        f.realize([16])


def test_distinct_shapes_compile_separately():
    # Same algorithm and schedule, embedded arrays of different strides: each
    # pipeline gets its own constants (the compile cache keys on the shape).
    x = hl.Var("x")
    outs = []
    for step in (1, 2):
        arr = np.arange(64, dtype=np.int32)[::step]
        f = hl.Func("g")
        f[x] = hl.Buffer(arr, "src")[x] + 1
        f.vectorize(x, 8)
        outs.append(np.asarray(f.realize([32])))
    np.testing.assert_array_equal(outs[0], np.arange(32) + 1)
    np.testing.assert_array_equal(outs[1], np.arange(0, 64, 2) + 1)
