"""Gradients of the deep-learning layers in examples/ (conv + bias + ReLU,
max and average pooling, batch normalization, softmax with cross-entropy),
each against central finite differences in float64."""
import numpy as np
import pytest

import pipelang as hl

c, x, y, n = hl.Var("c"), hl.Var("x"), hl.Var("y"), hl.Var("n")


def numeric_grad(loss, arr, h=1e-6):
    g = np.zeros_like(arr)
    flat, out = arr.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        hi = np.asarray(loss.realize([]))[()]
        flat[i] = old - h
        lo = np.asarray(loss.realize([]))[()]
        flat[i] = old
        out[i] = (hi - lo) / (2 * h)
    return g


def weighted_sum(out, extents, rng):
    w = hl.Buffer(rng.standard_normal(tuple(reversed(extents))), name="weights")
    r = hl.RDom([(0, e) for e in extents])
    loss = hl.Func("loss")
    loss[()] = hl.f64(0)
    idx = tuple(r[i] for i in range(len(extents)))
    loss[()] += w[idx] * out[idx]
    return loss


def assert_grads(loss, d, arrays_and_buffers, tol=1e-5):
    for arr, buf in arrays_and_buffers:
        got = np.asarray(d[buf].realize([arr.shape[::-1][i] for i in range(arr.ndim)]))
        np.testing.assert_allclose(got, numeric_grad(loss, arr), rtol=tol, atol=tol,
                                   err_msg=f"gradient with respect to {buf.name()}")


def test_conv_bias_relu():
    rng = np.random.default_rng(0)
    C, K, W, N = 3, 2, 4, 2
    inp = rng.standard_normal((N, W + 2, W + 2, C))          # buffer [c, x, y, n]
    filt = rng.standard_normal((C, 3, 3, K)) * 0.5            # buffer [k, rx, ry, c]
    bias = rng.standard_normal((K,))
    bi, bf, bb = hl.Buffer(inp, name="input"), hl.Buffer(filt, name="filter"), hl.Buffer(bias, name="bias")
    r = hl.RDom([(0, 3), (0, 3), (0, C)])
    conv, relu = hl.Func("conv"), hl.Func("relu")
    conv[c, x, y, n] = bb[c]
    conv[c, x, y, n] += bf[c, r.x, r.y, r.z] * bi[r.z, x + r.x, y + r.y, n]
    relu[c, x, y, n] = hl.max(hl.f64(0), conv[c, x, y, n])
    loss = weighted_sum(relu, [K, W, W, N], rng)
    d = hl.propagate_adjoints(loss)
    assert_grads(loss, d, [(inp, bi), (filt, bf), (bias, bb)])


def test_max_and_average_pooling():
    rng = np.random.default_rng(1)
    inp = rng.standard_normal((2, 6, 6))                    # buffer [x, y, c]
    b = hl.Buffer(inp, name="input")
    mx, avg, both = hl.Func("max_pool"), hl.Func("avg_pool"), hl.Func("both")
    mx[x, y, c] = hl.max(hl.max(b[2 * x, 2 * y, c], b[2 * x + 1, 2 * y, c]),
                         hl.max(b[2 * x, 2 * y + 1, c], b[2 * x + 1, 2 * y + 1, c]))
    r = hl.RDom([(0, 2), (0, 2)])
    avg[x, y, c] = hl.sum(b[2 * x + r.x, 2 * y + r.y, c]) * 0.25
    both[x, y, c] = mx[x, y, c] + avg[x, y, c] * 3.0
    loss = weighted_sum(both, [3, 3, 2], rng)
    d = hl.propagate_adjoints(loss)
    assert_grads(loss, d, [(inp, b)])


def test_batch_norm_training():
    rng = np.random.default_rng(2)
    C, W, N = 2, 3, 2
    inp = rng.standard_normal((N, W, W, C))                 # buffer [c, x, y, n]
    gamma, beta = rng.standard_normal((C,)), rng.standard_normal((C,))
    bi, bg, bbeta = hl.Buffer(inp, name="input"), hl.Buffer(gamma, name="gamma"), hl.Buffer(beta, name="beta")
    r = hl.RDom([(0, W), (0, W), (0, N)])
    count = float(W * W * N)
    mean, var, bn = hl.Func("mean"), hl.Func("var"), hl.Func("bn")
    mean[c] = hl.sum(bi[c, r.x, r.y, r.z]) / count
    var[c] = hl.sum((bi[c, r.x, r.y, r.z] - mean[c]) * (bi[c, r.x, r.y, r.z] - mean[c])) / count
    bn[c, x, y, n] = (bi[c, x, y, n] - mean[c]) / hl.sqrt(var[c] + 1e-5) * bg[c] + bbeta[c]
    loss = weighted_sum(bn, [C, W, W, N], rng)
    d = hl.propagate_adjoints(loss)
    assert_grads(loss, d, [(inp, bi), (gamma, bg), (beta, bbeta)], tol=1e-4)


def test_softmax_cross_entropy():
    rng = np.random.default_rng(3)
    C, N = 5, 4
    logits = rng.standard_normal((N, C))                    # buffer [c, n]
    labels = hl.Buffer(np.array([1, 4, 0, 2], dtype=np.int32), name="labels")
    bl = hl.Buffer(logits, name="logits")
    r = hl.RDom([(0, C)], "r")
    lse, loss = hl.Func("lse"), hl.Func("loss")
    lse[n] = hl.log(hl.sum(hl.exp(bl[r, n])))
    rn = hl.RDom([(0, N)], "rn")
    loss[()] = hl.f64(0)
    loss[()] += (lse[rn] - bl[hl.clamp(labels[rn], 0, C - 1), rn]) / float(N)
    d = hl.propagate_adjoints(loss)
    got = np.asarray(d[bl].realize([C, N]))
    e = np.exp(logits)
    want = e / e.sum(axis=1, keepdims=True)
    want[np.arange(N), labels_np := np.array([1, 4, 0, 2])] -= 1
    np.testing.assert_allclose(got, want / N, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, numeric_grad(loss, logits), rtol=1e-5, atol=1e-6)


def test_conv_backward_benchmark_smoke():
    """The harness's conv-layer backward benchmark at its tiny size: it checks
    every compiler's three gradients against numpy before timing them."""
    from pipelang.bench import autodiff as bench
    lines = []
    rows = bench.run("tiny", reps=1, log=lines.append, peers=("numpy",))
    assert [row[0] for row in rows] == ["pipelang", "numpy"] and rows[0][1] > 0 and rows[0][2] > 0
