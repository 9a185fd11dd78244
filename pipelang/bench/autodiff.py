"""Benchmark: the backward pass of a conv layer, from `propagate_adjoints`.

    python -m pipelang.bench.autodiff [--size tiny|full] [--reps N] [--autoschedule] [--threads N]

A 3x3 convolution (C -> K channels) + bias + ReLU over a batch of N images,
and, given the adjoint of its output, the gradients with respect to the
input, the weights and the bias. The same Python source runs on pipelang and
on real Halide (`propagate_adjoints` is Halide's API); each compiler's
gradient Funcs are scheduled automatically: pipelang's default gradient
schedule, Halide's Li2018 gradient autoscheduler (its plugin, shipped in the
halide wheel). The forward conv is scheduled by hand for pipelang
(register-blocked) and by Li2018 for Halide. The three gradients are realized
as one Pipeline, so the forward conv and the ReLU mask they share are
computed once (a Pipeline's outputs may differ in shape, as in Halide).
numpy computes the same three gradients with einsum (forward once, then
backward). PyTorch CPU autograd is timed too when torch is installed.
Every result is checked against numpy before it is timed.
"""
from __future__ import annotations

import argparse
import importlib
import os
import time

import numpy as np

SIZES = {"tiny": dict(N=1, C=16, K=16, W=16), "full": dict(N=4, C=64, K=64, W=64)}


def make_inputs(N, C, K, W, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "input": rng.standard_normal((N, W + 2, W + 2, C)).astype(np.float32),   # [c, x, y, n]
        "weights": (rng.standard_normal((C, 3, 3, K)) * 0.1).astype(np.float32),  # [k, rx, ry, c]
        "bias": rng.standard_normal((K,)).astype(np.float32),
        "d_out": rng.standard_normal((N, W, W, K)).astype(np.float32),            # [k, x, y, n]
    }


def build(hl, inputs, schedule_forward=True):
    """(d_input, d_weights, d_bias) Funcs and the extents to realize them over."""
    N, Wp, _, C = inputs["input"].shape
    K, W = inputs["bias"].shape[0], Wp - 2
    inp, wts = hl.Buffer(inputs["input"], "input"), hl.Buffer(inputs["weights"], "weights")
    bias, d_out = hl.Buffer(inputs["bias"], "bias"), hl.Buffer(inputs["d_out"], "d_out")
    c, x, y, n = hl.Var("c"), hl.Var("x"), hl.Var("y"), hl.Var("n")
    r = hl.RDom([(0, 3), (0, 3), (0, C)], "r")
    conv, relu = hl.Func("conv"), hl.Func("relu")
    conv[c, x, y, n] = bias[c]
    conv[c, x, y, n] += wts[c, r.x, r.y, r.z] * inp[r.z, x + r.x, y + r.y, n]
    relu[c, x, y, n] = hl.max(hl.f32(0), conv[c, x, y, n])
    seed = hl.Func("seed")
    seed[c, x, y, n] = d_out[c, x, y, n]
    d = hl.propagate_adjoints(relu, seed, [(0, K), (0, W), (0, W), (0, N)])
    # The forward conv (scheduled after differentiation, which reads its
    # definitions: an rfactor before it would be differentiated too), by
    # hand, register-blocked as Halide's conv_layer app:
    # the reduction runs in an intermediate (rfactor) per tile of `tw`
    # vectors of output channels by `th` columns, whose accumulators stay in
    # registers across the whole reduction; rows and images in parallel.
    if schedule_forward:
        vec = min(K, hl.get_host_target().natural_vector_size(hl.Float(32)))
        tw = next(t for t in (4, 3, 2, 1) if K % (vec * t) == 0)
        th = next(t for t in (4, 2, 1) if W % t == 0)
        co, ci, xo, xi = hl.Var("co"), hl.Var("ci"), hl.Var("xo"), hl.Var("xi")
        conv.compute_root().vectorize(c, vec).parallel(y)
        intm = conv.update().rfactor([])
        conv.update().split(c, co, ci, vec * tw).split(x, xo, xi, th) \
            .reorder(ci, xi, co, xo, y, n).vectorize(ci, vec).parallel(y)
        cc, cx = intm.args()[0], intm.args()[1]
        intm.compute_at(conv, co).bound_extent(cc, vec * tw).bound_extent(cx, th) \
            .vectorize(cc, vec).unroll(cc).unroll(cx)
        intm.update().reorder(cc, cx, r.x, r.y, r.z).vectorize(cc, vec).unroll(cc).unroll(cx)
    return [(d[inp], [C, Wp, Wp, N]), (d[wts], [K, 3, 3, C]), (d[bias], [K])]


def reference(inputs):
    inp, w, b, d_out = (inputs[k].astype(np.float64) for k in ("input", "weights", "bias", "d_out"))
    windows = np.lib.stride_tricks.sliding_window_view(inp, (3, 3), axis=(1, 2))  # n y x c i j
    conv = np.einsum("nyxcij,cijk->nyxk", windows, w) + b
    d_conv = d_out * (conv >= 0)
    d_w = np.einsum("nyxk,nyxcij->cijk", d_conv, windows)
    d_b = d_conv.sum(axis=(0, 1, 2))
    d_in = np.zeros_like(inp)
    for i in range(3):
        for j in range(3):
            d_in[:, i:i + d_conv.shape[1], j:j + d_conv.shape[2], :] += np.einsum(
                "nyxk,ck->nyxc", d_conv, w[:, i, j, :])
    return [d_in.astype(np.float32), d_w.astype(np.float32), d_b.astype(np.float32)]


def _numpy_backward(inputs):
    inp, w, b, d_out = (inputs[k] for k in ("input", "weights", "bias", "d_out"))
    windows = np.lib.stride_tricks.sliding_window_view(inp, (3, 3), axis=(1, 2))
    conv = np.einsum("nyxcij,cijk->nyxk", windows, w, optimize=True) + b
    d_conv = d_out * (conv >= 0)
    d_w = np.einsum("nyxk,nyxcij->cijk", d_conv, windows, optimize=True)
    d_b = d_conv.sum(axis=(0, 1, 2))
    d_in = np.zeros_like(inp)
    for i in range(3):
        for j in range(3):
            d_in[:, i:i + d_conv.shape[1], j:j + d_conv.shape[2], :] += d_conv @ w[:, i, j, :].T
    return [d_in, d_w, d_b]


def _halide_li2018(hl, outs):
    lib = os.path.join(os.path.dirname(hl.__file__), "lib64", "libautoschedule_li2018.so")
    if not os.path.exists(lib):
        lib = os.path.join(os.path.dirname(hl.__file__), "lib", "libautoschedule_li2018.so")
    hl.load_plugin(lib)
    for f, extents in outs:
        f.set_estimates([(0, e) for e in extents])
    # One call for the three gradients: they share the adjoint of the conv.
    hl.Pipeline([f for f, _ in outs]).apply_autoscheduler(
        hl.get_host_target(), hl.AutoschedulerParams("Li2018"))


def _time(fn, reps):
    """(best wall ms, best CPU ms over all threads) of `reps` runs after a warm-up.
    CPU time is what to compare on a loaded machine (it doesn't count waiting
    for a core); on a quiet one, wall time."""
    fn()
    wall = cpu = float("inf")
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall * 1e3, cpu * 1e3


def _run_compiler(name, hl, inputs, want, reps, autoschedule=False):
    t0 = time.perf_counter()
    # Li2018 schedules the whole gradient pipeline, the forward conv included.
    outs = build(hl, inputs, schedule_forward=name == "pipelang" and not autoschedule)
    bufs = [hl.Buffer(hl.Float(32), extents) for _, extents in outs]
    if name == "halide":
        _halide_li2018(hl, outs)
    if autoschedule:
        from pipelang.autodiff import autoschedule_gradients
        p = autoschedule_gradients(outs)
        name = "pipelang (autoscheduled)"
    else:
        # One Pipeline of the three outputs (of different shapes, as Halide
        # allows): what they share, the forward conv and the ReLU mask, is
        # computed once.
        p = hl.Pipeline([f for f, _ in outs])
    p.compile_jit()
    compile_s = time.perf_counter() - t0

    def go():
        p.realize(bufs)
    go()
    for b, w, what in zip(bufs, want, ("input", "weights", "bias")):
        err = float(np.max(np.abs(np.asarray(b) - w)))
        bound = 1e-3 * float(np.max(np.abs(w)))
        assert err <= bound, f"{name}: gradient of the {what} differs from numpy by {err}"
    return (name, *_time(go, reps), compile_s)


def run(size="full", reps=5, log=print, peers=("halide", "numpy", "torch"), autoschedule=False):
    """Rows of (name, wall ms, CPU ms, compile s), pipelang's first."""
    inputs = make_inputs(**SIZES[size])
    want = reference(inputs)
    rows = []
    runs = [("pipelang", False)] + [("pipelang", True)] * autoschedule + [
        ("halide", False)] * ("halide" in peers)
    for name, auto in runs:
        try:
            hl = importlib.import_module(name)
        except ImportError:
            continue
        try:
            rows.append(_run_compiler(name, hl, inputs, want, reps, auto))
        except Exception as e:  # a peer's failure is a result to report, not a crash
            if name == "pipelang":
                raise
            log(f"  {name}: failed: {str(e).strip().splitlines()[-1]}")
    if "numpy" in peers:
        rows.append(("numpy", *_time(lambda: _numpy_backward(inputs), reps), 0.0))
    try:
        if "torch" in peers:
            import torch
            rows.append(("torch", *_time_torch(torch, inputs, reps), 0.0))
    except ImportError:
        pass
    wall0, cpu0 = rows[0][1], rows[0][2]
    log(f"conv layer backward, {SIZES[size]}: wall ms (ratio to pipelang), "
        f"CPU ms of all threads (ratio), compile s")
    for name, wall, cpu, comp in rows:
        log(f"  {name:25s} {wall:9.2f} ({wall / wall0:5.2f}x) {cpu:9.2f} ({cpu / cpu0:5.2f}x)"
            f"  {comp:6.2f}")
    return rows


def _time_torch(torch, inputs, reps):
    torch.backends.cudnn.allow_tf32 = False
    x = torch.from_numpy(inputs["input"]).permute(0, 3, 1, 2).contiguous().requires_grad_()
    w = torch.from_numpy(inputs["weights"]).permute(3, 0, 1, 2).contiguous().requires_grad_()
    b = torch.from_numpy(inputs["bias"]).requires_grad_()
    g = torch.from_numpy(inputs["d_out"]).permute(0, 3, 1, 2).contiguous()

    def step():
        y = torch.relu(torch.nn.functional.conv2d(x, w.transpose(2, 3), b))
        y.backward(g)
    return _time(step, reps)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--autoschedule", action="store_true",
                   help="also time pipelang's gradients scheduled by autoschedule_gradients")
    p.add_argument("--threads", type=int, default=0,
                   help="threads for pipelang and PyTorch (default: all cores); with 1, "
                        "CPU times compare compute alone, even on a loaded machine")
    a = p.parse_args(argv)
    if a.threads:
        from pipelang.backends.llvm import set_num_threads
        set_num_threads(a.threads)
        try:
            import torch
            torch.set_num_threads(a.threads)
        except ImportError:
            pass
    run(a.size, a.reps, autoschedule=a.autoschedule)


if __name__ == "__main__":
    main()
