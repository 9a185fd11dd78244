"""Halide's semantics for `f[x] += e` on an undefined Func (its bindings'
`_UnevaluatedFuncRefExpr`), for `bound()` on an output Func, and for the
text of `add_requirement` failures; each case is checked under pipelang and,
where installed, under real Halide (the `hl_module` fixture)."""
import numpy as np
import pytest

import pipelang


@pytest.fixture(params=["pipelang", "halide"])
def hl(request):
    return pytest.importorskip(request.param)


def test_update_of_an_undefined_func_waits_for_the_assignment(hl):
    x = hl.Var("x")
    f = hl.Func("f")
    ref = f[x]
    ref += 1                      # f[x] + 1: not yet a definition
    assert not f.defined()
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+=: "
                                        r"'halide\.halide_\._UnevaluatedFuncRefExpr' and 'int'"):
        ref += 1
    f[x] = ref                    # now the implicit pure definition and the update
    assert f.defined()
    assert list(f.realize([2])) == [1, 1]
    with pytest.raises(hl.HalideError, match="when a pure definition already exists"):
        f[x] = ref


def test_unevaluated_reference_elsewhere_is_refused(hl):
    x = hl.Var("x")
    f, g = hl.Func("f"), hl.Func("g")
    with pytest.raises(hl.HalideError, match=r"unevaluated reference to 'f(\$\d+)?' to define an "
                                             r"update at a different location"):
        g[x] = f[x] + 1
    with pytest.raises(hl.HalideError, match="at a different location"):
        f[0] = f[x] * 2
    with pytest.raises(hl.HalideError, match=r"Error: Can't call Func \"f(\$\d+)?\" because it has "
                                             r"not yet been defined\."):
        f[x] = 1 + f[x]


def test_updates_that_define_a_func(hl):
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] *= 3                     # implicit pure definition 1
    f[x] -= 1
    assert list(f.realize([2])) == [2, 2]
    g = hl.Func("g")
    g[x] = 2
    h = hl.Func("h")
    h[hl._] += g[hl._]            # placeholders
    assert list(h.realize([2])) == [2, 2]
    k = hl.Func("k")
    k[g[0]] += 1                  # a Func call as the argument
    assert list(k.realize([3])) == [0, 0, 1]
    d = hl.Func("d")
    d[x] = 8.0
    ref = d[x]
    ref /= 2                      # defined: an ordinary Expr
    assert isinstance(ref, hl.Expr)
    d[x] = ref
    assert list(d.realize([1])) == [4.0]


def test_tuple_updates_stay_available():
    """pipelang extension (Halide's bindings refuse a Tuple on the right of +=)."""
    hl = pipelang
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] += (1, 2)
    a, b = f.realize([2])
    assert list(a) == [1, 1] and list(b) == [2, 2]


def test_output_bound_must_cover_a_given_buffer(hl):
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = hl.u8(x)
    f.bound(x, 2, 3)
    buf = hl.Buffer(hl.UInt(8), [10])
    with pytest.raises(hl.HalideError, match=r"Error: Bounds given for f(\$\d+)? in x \(from 2 to 4\) "
                                             r"do not cover required region \(from 0 to 9\)"):
        f.realize(buf)
    # realize(sizes) makes its buffer from the bounds query: no error, and only
    # the bounded region is computed.
    out = np.asarray(f.realize([10]))
    assert list(out[2:5]) == [2, 3, 4]
    inside = hl.Buffer(hl.UInt(8), [3])
    inside.set_min([2])
    f.realize(inside)
    assert [inside[i] for i in range(2, 5)] == [2, 3, 4]


def test_requirement_failure_text(hl):
    delta = hl.Param(hl.Int(32), "delta")
    q = hl.Param(hl.Float(32), "q", 1.5)
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = x + delta
    p = hl.Pipeline([f])
    p.add_requirement(delta != 0)
    p.add_requirement(delta > 0, "negative values are bad", delta, q)
    delta.set(0)
    with pytest.raises(hl.HalideError, match=r"^Error: Requirement Failed: \(false\) ?(\n|$)"):
        p.realize([2])
    delta.set(-1)
    with pytest.raises(hl.HalideError,
                       match=r"^Error: Requirement Failed: \(false\) negative values are bad -1 1\.500000\s*(\n|$)"):
        p.realize([2])
    delta.set(1)
    assert list(p.realize([2])) == [1, 2]


def _loop_nest(hl, func, capfd):
    func.print_loop_nest()
    import re
    return re.sub(r"\br\d+\b", "r", capfd.readouterr().err)


def test_rvar_args_of_an_undefined_func_become_pure_vars(hl, capfd):
    # The implicit pure definition of `f[r.x] += e` names its Var after r.x;
    # Halide then reads r.x as that pure Var over the whole realized region
    # (not over the RDom's interval), in r.x's place among the loops.
    r = hl.RDom([(0, 4)])
    k = hl.Func("k")
    k[r.x] += r.x
    assert list(k.realize([6])) == [0, 1, 2, 3, 4, 5]
    assert _loop_nest(hl, k, capfd) == "produce k:\n  for r:\n    k(...) = ...\n  for r:\n    k(...) = ...\n"
    r2 = hl.RDom([(1, 3), (0, 2)])
    m = hl.Func("m")
    m[r2.x] += r2.y + 1
    assert list(m.realize([5])) == [3] * 5
    assert _loop_nest(hl, m, capfd) == ("produce m:\n  for r:\n    m(...) = ...\n"
                                        "  for r in [0, 1]:\n    for r:\n      m(...) = ...\n")
    x = hl.Var("x")
    r3 = hl.RDom([(1, 3), (0, 2)])
    r3.where(r3.x > 1)
    n = hl.Func("n")
    n[r3.x, x] += r3.y + x
    assert np.array_equal(np.asarray(n.realize([5, 2])), [[0, 0, 1, 1, 1], [0, 0, 3, 3, 3]])
