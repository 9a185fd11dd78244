"""A compiled pipeline is compiled again only when something it uses changed:
defining or scheduling other Funcs keeps its code (Halide recompiles only a
pipeline whose own Funcs changed), while a change to its own algorithm,
schedule, inputs or Params compiles it again and is seen in the output."""
import numpy as np
import pytest

import pipelang as hl


def _pipeline(name="keep"):
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func(name + "_f"), hl.Func(name + "_g")
    f[x, y] = x + 10 * y
    g[x, y] = f[x, y] * 2
    return f, g, x, y


def test_other_funcs_do_not_recompile():
    f, g, x, y = _pipeline()
    p = hl.Pipeline(g)
    first = np.asarray(p.realize([4, 3])).copy()
    compiled = p._compiled
    other = hl.Func("unrelated")
    other[x] = x * 3
    other.vectorize(x, 8)
    np.asarray(other.realize([16]))
    np.testing.assert_array_equal(np.asarray(p.realize([4, 3])), first)
    assert p._compiled is compiled


def test_own_schedule_change_recompiles():
    f, g, x, y = _pipeline("sched")
    p = hl.Pipeline(g)
    first = np.asarray(p.realize([16, 3])).copy()
    compiled = p._compiled
    f.compute_root().vectorize(x, 8)
    np.testing.assert_array_equal(np.asarray(p.realize([16, 3])), first)
    assert p._compiled is not compiled


def test_own_trace_is_seen(capfd):
    f, g, x, y = _pipeline("traced")
    p = hl.Pipeline(g)
    p.realize([2, 1])
    assert "Store" not in capfd.readouterr().out
    g.trace_stores()
    p.realize([2, 1])
    assert "Store traced_g.0(1, 0) = 2" in capfd.readouterr().out


def test_producer_redefined_with_same_code_but_other_input():
    # Two Buffers of the same shape fingerprint alike (symbols are numbered
    # canonically): the code must still read the one the Func now names.
    x = hl.Var("x")
    a = hl.Buffer(np.arange(8, dtype=np.int32))
    b = hl.Buffer(np.arange(8, dtype=np.int32) * 100)
    f = hl.Func("reads")
    f[x] = a[x]
    p = hl.Pipeline(f)
    assert np.asarray(p.realize([8]))[3] == 3
    f2 = hl.Func("reads")
    f2[x] = b[x]
    q = hl.Pipeline(f2)
    assert np.asarray(q.realize([8]))[3] == 300
    assert np.asarray(p.realize([8]))[3] == 3


def test_param_change_is_a_value_not_a_recompile():
    x = hl.Var("x")
    k = hl.Param(hl.Int(32), "k", 2)
    f = hl.Func("scaled")
    f[x] = x * k
    p = hl.Pipeline(f)
    assert np.asarray(p.realize([4]))[3] == 6
    compiled = p._compiled
    hl.Func("another")[x] = x
    k.set(5)
    assert np.asarray(p.realize([4]))[3] == 15
    assert p._compiled is compiled
