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


def test_fields_are_replaced_in_every_statement_and_the_rest_is_kept():
    """The pass substitutes as `ir.substitute` does (same statement, untouched
    parts the very same objects) without working out each statement's
    symbols: only expressions are asked for theirs."""
    from pipelang import ir
    from pipelang.lowering.embed_buffers import embed_buffer_shapes
    _, b, _ = _filter_tap_pipeline()
    sym = ir.Symbol("taps")
    x = ir.Variable(ir.Int(32), ir.Symbol("x"))
    stride = ir.Variable(ir.Int(32), ir.buffer_stride(sym, 1))
    untouched = ir.Evaluate(ir.Add(x, ir.i32(1)))
    reads = ir.Evaluate(ir.Load(ir.Float(32), sym, ir.Mul(x, stride)))
    s = ir.For(x.sym, ir.i32(0), ir.i32(8), ir.ForKind.SERIAL, ir.Block((untouched, reads)))
    out = embed_buffer_shapes(s, {sym: b})
    for stmt in (s, s.body, reads):
        assert not hasattr(stmt, "_fsyms")       # no statement's symbols were worked out
    body = out.stmts[-1] if isinstance(out, ir.Block) else out
    checks = ir.to_string(out).split("for ")[0]
    assert "Constraint violated: taps.stride.1" in checks
    expected = ir.substitute({ir.buffer_stride(sym, 1): ir.i32(1)}, s)
    assert ir.to_string(body) == ir.to_string(expected)
    assert body.body.stmts[0] is untouched
    assert "taps.stride" not in ir.to_string(body)
