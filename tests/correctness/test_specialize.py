"""specialize / specialize_fail: each branch against numpy, loop nests against
real Halide 21, the failure at run time, and bounds covering every branch."""
import numpy as np
import pytest

import pipelang
import pipelang as hl


def _loop_nest(out, capfd):
    capfd.readouterr()
    out.print_loop_nest()
    return capfd.readouterr().err


def _param_pipeline(hl, name):
    x, y = hl.Var("x"), hl.Var("y")
    p = hl.Param(hl.Int(32), name + "_p", 0)
    f, g = hl.Func(name + "_f"), hl.Func(name + "_g")
    f[x, y] = x * p + y
    g[x, y] = f[x, y] + f[x + 1, y]
    f.compute_root()
    xo, xi = hl.Var("xo"), hl.Var("xi")
    f.specialize(p == 1).split(x, xo, xi, 4).vectorize(xi)
    f.specialize(p == 2).parallel(y)
    g.specialize(p > 2).split(x, hl.Var("xo"), hl.Var("xi"), 8).parallel(y)
    return g, p


def test_each_branch_against_numpy():
    g, p = _param_pipeline(hl, "br")
    for p_value in [0, 1, 2, 3, -4]:
        p.set(p_value)
        for w, h in [(13, 5), (2, 3), (16, 16)]:
            yy, xx = np.mgrid[0:h, 0:w]
            want = (xx * p_value + yy) + ((xx + 1) * p_value + yy)
            np.testing.assert_array_equal(np.asarray(g.realize([w, h])), want)


def test_loop_nest_matches_halide(capfd):
    halide = pytest.importorskip("halide")
    ours = _loop_nest(_param_pipeline(pipelang, "ln")[0], capfd)
    theirs = _loop_nest(_param_pipeline(halide, "ln")[0], capfd)
    assert ours == theirs


def test_lowered_statement_branches(tmp_path):
    g, p = _param_pipeline(hl, "st")
    path = tmp_path / "g.stmt"
    g.compile_to_lowered_stmt(str(path), [p])
    text = path.read_text()
    assert "if ((st_p == 1))" in text and "if ((st_p == 2))" in text and "parallel" in text
    # Inside the p == 2 branch, p is known: the value uses the constant.
    assert "*2)" in text


def test_specialize_fail_at_run_time():
    x = hl.Var("x")
    p = hl.Param(hl.Int(32), "sf_p", 1)
    f = hl.Func("sf_f")
    f[x] = x * p
    f.specialize(p == 1)
    f.specialize(p == 2).vectorize(x, 4)
    f.specialize_fail("p must be 1 or 2")
    np.testing.assert_array_equal(np.asarray(f.realize([8])), np.arange(8))
    p.set(2)
    np.testing.assert_array_equal(np.asarray(f.realize([8])), np.arange(8) * 2)
    p.set(3)
    with pytest.raises(hl.HalideError, match=r"A schedule specialized with specialize_fail\(\) "
                                             r"was chosen: p must be 1 or 2"):
        f.realize([8])


def test_specialize_fail_message_matches_halide():
    halide = pytest.importorskip("halide")

    def run(hl):
        x = hl.Var("x")
        p = hl.Param(hl.Int(32), "sm_p", 7)
        f = hl.Func("sm_f")
        f[x] = x
        f.specialize(p == 0)
        f.specialize_fail("need {p} == 0")
        with pytest.raises(hl.HalideError) as e:
            f.realize([4])
        return str(e.value)
    assert run(pipelang).strip() in run(halide)


def test_nested_and_bool_param():
    x, y = hl.Var("x"), hl.Var("y")
    a = hl.Param(hl.Bool(), "nb_a", True)
    q = hl.Param(hl.Int(32), "nb_q", 0)
    f = hl.Func("nb_f")
    f[x, y] = hl.select(a, x + q, y - q)
    s = f.specialize(a)
    s.vectorize(x, 4)
    s.specialize(q == 0).parallel(y)
    f.specialize(q > 5).unroll(x, 2)
    yy, xx = np.mgrid[0:6, 0:9]
    for av in (True, False):
        for qv in (0, 3, 9):
            a.set(av), q.set(qv)
            want = (xx + qv) if av else (yy - qv)
            np.testing.assert_array_equal(np.asarray(f.realize([9, 6])), want)


def test_image_property_condition_and_bounds_union():
    """A specialization for wide inputs reads a ShiftInwards-split window; the
    narrow branch reads less. Both run on inputs of exactly the needed size."""
    x = hl.Var("x")
    img = hl.ImageParam(hl.Float(32), 1, "iu_img")
    f, g = hl.Func("iu_f"), hl.Func("iu_g")
    f[x] = img[x] * 2
    g[x] = f[x] + f[x + 2]
    f.compute_root()
    f.specialize(img.width() >= 16).vectorize(x, 8)
    for n in (5, 40):
        a = np.arange(n, dtype=np.float32)
        img.set(hl.Buffer(a))
        np.testing.assert_array_equal(np.asarray(g.realize([n - 2])), a[:-2] * 2 + a[2:] * 2)


def test_update_stage_and_compute_at():
    x, y = hl.Var("x"), hl.Var("y")
    p = hl.Param(hl.Int(32), "uc_p", 0)
    r = hl.RDom([(0, 4)])
    prod, f = hl.Func("uc_prod"), hl.Func("uc_f")
    prod[x, y] = x + 10 * y
    f[x, y] = 0
    f[x, y] += prod[x + r, y] * p
    prod.compute_at(f, y)
    f.update(0).specialize(p == 1).vectorize(x, 4)
    f.update(0).specialize(p == 1).unroll(r)        # the same Stage again
    yy, xx = np.mgrid[0:5, 0:11]
    for pv in (0, 1, 2):
        p.set(pv)
        want = sum((xx + k + 10 * yy) * pv for k in range(4))
        np.testing.assert_array_equal(np.asarray(f.realize([11, 5])), want)


def test_errors():
    x = hl.Var("x")
    p = hl.Param(hl.Int(32), "er_p", 0)
    f = hl.Func("er_f")
    f[x] = x
    with pytest.raises(hl.HalideError, match="must be of type bool"):
        f.specialize(p + 1)
    with pytest.raises(hl.HalideError, match="depends on Var or RVar x"):
        f.specialize(x > 0)
    with pytest.raises(hl.HalideError, match="must not be empty"):
        f.specialize_fail("")
    f.specialize_fail("no")
    with pytest.raises(hl.HalideError, match="Only one specialize_fail"):
        f.specialize_fail("again")
    with pytest.raises(hl.HalideError, match="Cannot add new specializations after specialize_fail"):
        f.specialize(p == 3)
