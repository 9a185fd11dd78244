"""Gradients from `propagate_adjoints`, each checked against central finite
differences of the same pipeline (float64, so the check is tight)."""
import numpy as np
import pytest

import pipelang as hl

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")


def _loss(out, region, rng):
    """Σ w · out over `region`, with random weights, so every output point matters."""
    shape = tuple(e for _, e in reversed(region))
    w = hl.Buffer(rng.standard_normal(shape), name="w")
    w.set_min([mn for mn, _ in region])
    r = hl.RDom([(mn, e) for mn, e in region])
    loss = hl.Func("loss")
    loss[()] = hl.f64(0)
    loss[()] += w[tuple(r[i] for i in range(len(region)))] * out[tuple(r[i] for i in range(len(region)))]
    return loss


def _numeric(loss, arr, h=1e-6):
    g = np.zeros_like(arr)
    flat = arr.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        hi = np.asarray(loss.realize([]))[()]
        flat[i] = old - h
        lo = np.asarray(loss.realize([]))[()]
        flat[i] = old
        g.reshape(-1)[i] = (hi - lo) / (2 * h)
    return g


def check(build, shape, region, seed=0, positive=False, tol=1e-5, h=1e-6):
    rng = np.random.default_rng(seed)
    arr = rng.standard_normal(shape)
    if positive:
        arr = np.abs(arr) + 0.5
    buf = hl.Buffer(arr, name="input")
    out = build(buf)
    loss = _loss(out, region, rng)
    d = hl.propagate_adjoints(loss)
    got = np.asarray(d[buf].realize(list(reversed(shape))))
    want = _numeric(loss, arr, h)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    return d


def test_halide_autodiff_py():
    """Halide's python_bindings/test/correctness/autodiff.py, as it is."""
    b = hl.Buffer(hl.Float(32), [3])
    p = hl.Param(hl.Float(32), "p", 1)
    b[0], b[1], b[2] = 1.0, 2.0, 3.0
    f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
    f[x] = b[x]
    f[0] = 4.0
    g[x] = f[x] * 5.0 * p
    r = hl.RDom([(0, 3)])
    h[()] = 0.0
    h[()] += g[r.x]
    d = hl.propagate_adjoints(h)
    assert list(np.asarray(d[f].realize([3]))) == [0.0, 5.0, 5.0]
    assert list(np.asarray(d[f, 0].realize([3]))) == [5.0, 5.0, 5.0]
    assert list(np.asarray(d[b].realize([3]))) == [0.0, 5.0, 5.0]
    assert abs(np.asarray(d[p].realize([]))[()] - 45.0) < 1e-6


POINTWISE = {
    "arith": lambda v: v * v * 3.0 - v / (v * v + 1.0) + 2.0,
    "exp_log": lambda v: hl.exp(v / 3.0) + hl.log(v * v + 1.0),
    "trig": lambda v: hl.sin(v) * hl.cos(v * 2.0) + hl.tan(v * 0.3) + hl.atan(v),
    "inverse_trig": lambda v: hl.asin(v * 0.3) + hl.acos(v * 0.2) + hl.atan2(v, v * v + 1.0),
    "hyperbolic": lambda v: hl.tanh(v) + hl.sinh(v * 0.5) + hl.cosh(v * 0.5),
    "sqrt_pow": lambda v: hl.sqrt(v * v + 0.5) + hl.pow(v * v + 0.5, 2.5) + hl.pow(v * v + 0.5, v * 0.25),
    "abs_min_max": lambda v: hl.abs(v) + hl.min(v, 0.25) * 2.0 + hl.max(v * v, 0.5),
    "select": lambda v: hl.select(v > 0.1, v * v, -v * 3.0),
    "floor_is_flat": lambda v: hl.floor(v * 4.0) * v,
}


def test_pointwise_math():
    """Every differentiable math function, each in its own channel of one Func."""
    def build(b):
        f = hl.Func("pointwise")
        f[x, y, c] = hl.mux(c, [fn(b[x, y]) for fn in POINTWISE.values()])
        return f
    rng = np.random.default_rng(0)
    arr = rng.standard_normal((4, 5))
    buf = hl.Buffer(arr, name="input")
    loss = _loss(build(buf), [(0, 5), (0, 4), (0, len(POINTWISE))], rng)
    d = hl.propagate_adjoints(loss)
    np.testing.assert_allclose(np.asarray(d[buf].realize([5, 4])), _numeric(loss, arr),
                               rtol=1e-5, atol=1e-5)


def test_casts_through_float32():
    def build(b):
        f = hl.Func("casts")
        f[x, y] = hl.cast(hl.Float(64), hl.cast(hl.Float(32), b[x, y]) * 2.0)
        return f
    # Through float32 a finite difference needs a large step.
    check(build, (4, 5), [(0, 5), (0, 4)], tol=1e-3, h=1e-3)


def test_stencil_gather_and_clamp_scatter():
    def build(b):
        clamped = hl.BoundaryConditions.repeat_edge(b)
        bx = hl.Func("bx")
        by = hl.Func("by")
        bx[x, y] = clamped[x - 1, y] + 2.0 * clamped[x, y] + clamped[x + 1, y]
        by[x, y] = bx[x, y - 1] * 0.5 + bx[x, y + 1] * bx[x, y]
        return by
    check(build, (6, 7), [(0, 7), (0, 6)])


def test_boundary_conditions():
    def build(b):
        f = hl.Func("f")
        value = hl.f64(0)
        for i, bc in enumerate(["repeat_edge", "repeat_image", "mirror_image", "mirror_interior"]):
            e = getattr(hl.BoundaryConditions, bc)(b)
            value = value + e[x - 2, y] * e[x + 3, y + 1] * float(i + 1) + e[x, y - 2]
        e = hl.BoundaryConditions.constant_exterior(b, hl.f64(0.5))
        f[x, y] = value + e[x - 2, y] * e[x + 1, y + 2]
        return f
    check(build, (5, 6), [(-1, 8), (-2, 8)])


def test_rdom_where():
    def build(b):
        r = hl.RDom([(0, 4), (0, 4)])
        r.where(r.x <= r.y)
        f = hl.Func("tri")
        f[x] = hl.f64(0)
        f[x] += b[x + r.x, r.y] * b[r.y, r.x]
        return f
    check(build, (4, 7), [(0, 3)])


def test_reduction_convolution():
    k = hl.Buffer(np.array([[0.25, -0.5, 1.0], [2.0, 0.5, -1.0]]), name="k")   # (x: 3, y: 2)

    def build(b):
        r = hl.RDom([(0, 3), (0, 2)])
        f = hl.Func("conv")
        f[x, y] = hl.f64(0)
        f[x, y] += k[r.x, r.y] * b[x + r.x, y + r.y]
        return f
    check(build, (6, 8), [(0, 6), (0, 5)])


def test_inline_sum_and_param():
    p = hl.Param(hl.Float(64), "gain", 1.5)

    def build(b):
        r = hl.RDom([(0, 4)])
        f = hl.Func("f")
        f[y] = hl.sum(b[r, y] * p) + p * p
        return f
    check(build, (5, 4), [(0, 5)])


def test_param_gradient():
    rng = np.random.default_rng(3)
    arr = rng.standard_normal((3, 4))
    b = hl.Buffer(arr)
    # Values exact in float32: a Python float reaches a Param through a C
    # float (as in Halide's binding), so 0.7 + 1e-6 would not be what is set.
    p = hl.Param(hl.Float(64), "gain", 0.6875)
    f = hl.Func("f")
    f[x, y] = hl.sin(b[x, y] * p) + p * p * b[x, y]
    loss = _loss(f, [(0, 4), (0, 3)], rng)
    d = hl.propagate_adjoints(loss)
    got = np.asarray(d[p].realize([]))[()]
    h = 2.0 ** -12
    p.set(0.6875 + h)
    hi = np.asarray(loss.realize([]))[()]
    p.set(0.6875 - h)
    lo = np.asarray(loss.realize([]))[()]
    p.set(0.6875)
    assert abs(got - (hi - lo) / (2 * h)) < 1e-5


def test_scan_cumsum_and_iir():
    def build(b):
        f = hl.Func("iir")
        f[x, y] = b[x, y]
        r = hl.RDom([(1, 6)])
        f[r, y] = 0.6 * f[r - 1, y] + 0.4 * b[r, y] * f[r - 1, y]
        return f
    check(build, (3, 7), [(0, 7), (0, 3)])


def test_overwriting_update():
    def build(b):
        f = hl.Func("f")
        f[x, y] = b[x, y] * 2.0
        f[1, y] = b[0, y] * b[2, y]
        f[x, 0] = f[x, 0] * f[x, 0] + b[x, 1]
        return f
    check(build, (3, 4), [(0, 4), (0, 3)])


def test_histogram_scatter():
    idx = hl.Buffer(np.array([2, 0, 2, 1, 3, 0], dtype=np.int32), name="idx")

    def build(b):
        f = hl.Func("hist")
        f[x] = hl.f64(0)
        r = hl.RDom([(0, 6)])
        f[hl.clamp(idx[r], 0, 3)] += b[r] * b[r]
        return f
    check(build, (6,), [(0, 4)])


def test_down_and_upsampling():
    def build(b):
        down = hl.Func("down")
        down[x] = b[2 * x] + 3.0 * b[2 * x + 1]
        up = hl.Func("up")
        up[x] = down[x // 2] * 0.5 + down[(x + 1) // 2] * 0.25
        return up
    check(build, (10,), [(0, 9)])


def test_two_outputs_consumers_of_one_producer():
    def build(b):
        p = hl.Func("p")
        p[x] = b[x] * b[x]
        q1, q2, out = hl.Func("q1"), hl.Func("q2"), hl.Func("out")
        q1[x] = p[x] + p[x + 1]
        q2[x] = hl.exp(p[x] * 0.1)
        out[x] = q1[x] * q2[x + 1]
        return out
    check(build, (8,), [(0, 6)])


def test_adjoint_buffer_and_func_overloads():
    rng = np.random.default_rng(1)
    arr = rng.standard_normal((4, 5))
    b = hl.Buffer(arr)
    f = hl.Func("f")
    f[x, y] = b[x, y] * b[x, y]
    seed = rng.standard_normal((4, 5))
    d = hl.propagate_adjoints(f, hl.Buffer(seed))
    np.testing.assert_allclose(np.asarray(d[b].realize([5, 4])), 2 * arr * seed)
    ones = hl.Func("ones")
    ones[x, y] = hl.f64(1)
    d2 = hl.propagate_adjoints(f, ones, [(0, 5), (0, 2)])
    want = 2 * arr
    want[2:, :] = 0
    np.testing.assert_allclose(np.asarray(d2[b].realize([5, 4])), want)


def test_gradient_funcs_can_be_rescheduled():
    rng = np.random.default_rng(2)
    arr = rng.standard_normal((16, 32)).astype(np.float32)
    b = hl.Buffer(arr)
    f = hl.Func("f")
    f[x, y] = b[x, y] * b[x + 1, y]
    r = hl.RDom([(0, 31), (0, 16)])
    loss = hl.Func("loss")
    loss[()] = 0.0
    loss[()] += f[r.x, r.y]
    d = hl.propagate_adjoints(loss)
    g = d[b]
    want = np.asarray(g.realize([32, 16])).copy()
    xo, xi = hl.Var("xo"), hl.Var("xi")
    g.split(g.args()[0], xo, xi, 4).vectorize(xi)
    np.testing.assert_array_equal(np.asarray(g.realize([32, 16])), want)


def test_not_differentiable_errors():
    b = hl.Buffer(np.ones((4,), dtype=np.float32))
    f = hl.Func("prod")
    f[x] = hl.f32(1)
    r = hl.RDom([(0, 4)])
    f[0] = f[0] * b[r]
    loss = hl.Func("loss")
    loss[()] = f[0]
    with pytest.raises(hl.CompileError, match="intermediate values"):
        hl.propagate_adjoints(loss)
    i = hl.Func("int_valued")
    i[x] = x
    with pytest.raises(hl.CompileError, match="single float"):
        hl.propagate_adjoints(i)
    r2 = hl.RDom([(0, 4)])
    scan = hl.Func("scan")
    scan[x] = b[x]
    scan[r2] = scan[r2] * scan[r2] + b[r2]              # the old value is lost
    loss3 = hl.Func("loss3")
    loss3[()] = scan[hl.Expr(2)]
    with pytest.raises(hl.CompileError, match="intermediate values"):
        hl.propagate_adjoints(loss3)


def test_undefined_for_unrelated():
    b = hl.Buffer(np.ones((4,), dtype=np.float32))
    other = hl.Buffer(np.ones((4,), dtype=np.float32))
    f = hl.Func("f")
    f[()] = b[hl.Expr(0)] * 3.0
    d = hl.propagate_adjoints(f)
    assert not d[other].defined()
    assert np.asarray(d[b].realize([4]))[0] == 3.0


def test_tuples_as_halide_test_tuple():
    """Halide's test/correctness/autodiff.cpp test_tuple."""
    inp = hl.Buffer(np.array([1.0, 2.0, 3.0], dtype=np.float32), name="inp")
    t = hl.Func("tuple")
    t[x] = (inp[x], inp[x + 1])
    t[x] = (t[x][0] + hl.f32(1), t[x][1] + hl.f32(1))
    reduce = hl.Func("reduce")
    reduce[x] = t[x][0] + t[x][1]
    r = hl.RDom([(0, 2)])
    loss = hl.Func("loss")
    loss[()] = hl.f32(0)
    loss[()] += reduce[r.x]
    d = hl.propagate_adjoints(loss)
    d_tuple = d[t].realize([2])
    assert [list(np.asarray(b)) for b in d_tuple] == [[1.0, 1.0], [1.0, 1.0]]
    assert list(np.asarray(d[inp].realize([3]))) == [1.0, 2.0, 1.0]


def test_tuple_elements_overwritten_and_nonlinear():
    def build(b):
        t = hl.Func("t")
        t[x] = (b[x] * b[x + 1], hl.sin(b[x]))
        t[1] = (t[1][0], b[3] * 2.0)                     # element 1 overwritten at 1
        t[x] = (t[x][0] * t[x][1], t[x][1] + b[x + 2])  # in place, from the stage before
        out = hl.Func("out")
        out[x] = t[x][0] + t[x][1] * t[x][1]
        return out
    check(build, (8,), [(0, 5)])
