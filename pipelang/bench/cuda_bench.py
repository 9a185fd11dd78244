"""CUDA column of the benchmark: blur, a conv layer and matmul on a GPU, vs PyTorch CUDA.

    python -m pipelang.bench.cuda_bench               (on a machine with a CUDA device)
    python -m pipelang.bench.cuda_bench --check       (tiny sizes, emulated: runs anywhere)

For each pipeline it reports, as medians over `--repeats` runs:
  * kernel: the sum of the kernels' times, from CUDA events around each launch;
  * resident: one realize() with inputs and output already on the device
    (host code, launches, synchronization; no copies);
  * end-to-end: realize(sizes) from a fresh numpy input, copies both ways;
and the same for PyTorch CUDA (FP32: TF32 off for matmul and cuDNN) where torch
with CUDA is installed. Blur also gets its memory-bandwidth floor (bytes read
and written at `--bandwidth` GB/s; 3000 is what the H100 we test on measures).
Every result is checked against numpy (integers exactly, floats within 1e-3).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

SIZES = {
    "full": {"blur": (6400, 4800), "conv": (100, 80, 128, 128, 5), "matmul": 1536},
    "check": {"blur": (70, 45), "conv": (10, 8, 4, 8, 1), "matmul": 40},
}


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


# ---------------------------------------------------------------- the pipelines (Halide's API)

def blur(hl, w, h):
    inp = hl.ImageParam(hl.UInt(16), 2, "blur_in")
    x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")
    bx, by = hl.Func("cb_blur_x"), hl.Func("cb_blur_y")
    bx[x, y] = (inp[x, y] + inp[x + 1, y] + inp[x + 2, y]) / 3
    by[x, y] = (bx[x, y] + bx[x, y + 1] + bx[x, y + 2]) / 3
    by.gpu_tile(x, y, xo, yo, xi, yi, 32, 8)
    bx.compute_at(by, xo).gpu_threads(x, y)
    a = np.random.default_rng(0).integers(0, 4096, (h + 2, w + 2)).astype(np.uint16)

    def ref():
        b = a.astype(np.int64)
        t = (b[:, :-2] + b[:, 1:-1] + b[:, 2:]) // 3
        return ((t[:-2] + t[1:-1] + t[2:]) // 3).astype(np.uint16)
    return by, {inp: a}, [w, h], ref, (a.nbytes + w * h * 2)


def conv_layer(hl, w, h, ci, co, n):
    """Halide's apps/conv_layer: 3x3 convolution, bias, ReLU; float32."""
    inp = hl.ImageParam(hl.Float(32), 4, "conv_in")        # (c, x, y, n)
    filt = hl.ImageParam(hl.Float(32), 4, "conv_w")        # (c, x, y, k)
    bias = hl.ImageParam(hl.Float(32), 1, "conv_b")
    c, x, y, k, b = hl.vars("c x y k b")
    xo, yo, xi, yi = hl.vars("xo yo xi yi")
    r = hl.RDom([(0, ci), (0, 3), (0, 3)], "cr")
    conv, relu = hl.Func("cb_conv"), hl.Func("cb_relu")
    conv[k, x, y, b] = bias[k]
    conv[k, x, y, b] += filt[r.x, r.y, r.z, k] * inp[r.x, x + r.y, y + r.z, b]
    relu[k, x, y, b] = hl.max(0.0, conv[k, x, y, b])
    yb = hl.Var("yb")
    # k across threads in x, pixels across threads in y; rows and batch fused into blocks.
    relu.gpu_tile(k, x, xo, yo, xi, yi, 32, 8, hl.TailStrategy.GuardWithIf)
    relu.fuse(y, b, yb).gpu_blocks(yb)
    conv.compute_at(relu, xi)                          # one accumulator per thread (registers)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, h + 2, w + 2, ci)).astype(np.float32)
    wt = rng.standard_normal((co, 3, 3, ci)).astype(np.float32) * 0.1
    bi = rng.standard_normal(co).astype(np.float32)

    def ref():
        out = np.broadcast_to(bi, (n, h, w, co)).copy()
        for dy in range(3):
            for dx in range(3):
                out += np.einsum("nyxc,kc->nyxk", a[:, dy:dy + h, dx:dx + w, :], wt[:, dy, dx, :])
        return np.maximum(out, 0)
    return relu, {inp: a, filt: wt, bias: bi}, [co, w, h, n], ref, None


def matmul(hl, size):
    A = hl.ImageParam(hl.Float(32), 2, "mm_a")
    B = hl.ImageParam(hl.Float(32), 2, "mm_b")
    x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")
    r = hl.RDom([(0, size)], "kk")
    C = hl.Func("cb_matmul")
    C[x, y] = 0.0
    C[x, y] += A[r.x, y] * B[x, r.x]
    C.gpu_tile(x, y, xo, yo, xi, yi, 16, 16, hl.TailStrategy.GuardWithIf)
    C.update().gpu_tile(x, y, xo, yo, xi, yi, 16, 16, hl.TailStrategy.GuardWithIf)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((size, size)).astype(np.float32)
    bm = rng.standard_normal((size, size)).astype(np.float32)
    return C, {A: a, B: bm}, [size, size], (lambda: a @ bm), None


# ---------------------------------------------------------------- timing

def run_pipelang(hl, name, built, repeats, check_only):
    func, inputs, sizes, ref, nbytes = built
    target = hl.get_host_target().with_feature(hl.TargetFeature.CUDA)
    for param, arr in inputs.items():
        param.set(hl.Buffer(arr))
    p = hl.Pipeline(func)
    p.compile_jit(target)
    out = p.realize(sizes)                     # first run: compile, load, copy in
    got, want = np.asarray(out), ref()
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
    else:
        np.testing.assert_array_equal(got, want)
    row = {"pipeline": name, "correct": True}
    if check_only:
        return row
    dev = p._compile().device
    resident = hl.Buffer(out.type(), sizes)
    p.realize(resident)
    dev.kernel_times = []
    for _ in range(repeats):
        p.realize(resident)
    per_run = len(dev.kernel_times) // repeats
    sums = [sum(t for _, t in dev.kernel_times[i:i + per_run])
            for i in range(0, len(dev.kernel_times), per_run)]
    dev.kernel_times = None
    row["kernel_ms"] = statistics.median(sums)

    def resident_run():
        p.realize(resident)
        resident.device_sync()
    row["resident_ms"] = _median_ms(resident_run, repeats)

    def end_to_end():
        for param, arr in inputs.items():
            param.set(hl.Buffer(arr))              # fresh host data: copied in again
        p.realize(sizes)                            # copied back
    row["end_to_end_ms"] = _median_ms(end_to_end, repeats)
    if nbytes:
        row["floor_ms"] = nbytes / (ARGS.bandwidth * 1e9) * 1e3
    return row


def run_torch(name, built, repeats):
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    _, inputs, sizes, _, _ = built
    arrs = list(inputs.values())
    dev = torch.device("cuda")
    if name == "blur":
        t = torch.from_numpy(arrs[0].astype(np.int32)).to(dev)

        def op(t=t):
            bx = (t[:, :-2] + t[:, 1:-1] + t[:, 2:]) // 3
            return ((bx[:-2] + bx[1:-1] + bx[2:]) // 3).to(torch.int16)
    elif name == "conv_layer":
        a, wt, bi = (torch.from_numpy(v).to(dev) for v in arrs)
        a = a.permute(0, 3, 1, 2).contiguous()
        wt = wt.permute(0, 3, 1, 2).contiguous()

        def op(a=a, wt=wt, bi=bi):
            return torch.relu(torch.nn.functional.conv2d(a, wt, bi))
    else:
        a, bm = (torch.from_numpy(v).to(dev) for v in arrs)

        def op(a=a, bm=bm):
            return a @ bm
    op()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    kernel = []
    for _ in range(repeats):
        start.record()
        op()
        end.record()
        end.synchronize()
        kernel.append(start.elapsed_time(end))

    def e2e():
        ins = [torch.from_numpy(v).to(dev) for v in arrs]  # noqa: F841 (the copies in)
        op().cpu()
    return {"pipeline": name, "torch_kernel_ms": statistics.median(kernel),
            "torch_end_to_end_ms": _median_ms(e2e, repeats)}


def main(argv=None) -> int:
    global ARGS
    p = argparse.ArgumentParser(prog="python -m pipelang.bench.cuda_bench", description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="tiny sizes, emulated on the CPU, results only")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--bandwidth", type=float, default=3000.0, help="device memory GB/s for the blur floor")
    p.add_argument("--only", default="blur,conv_layer,matmul")
    ARGS = p.parse_args(argv)
    if ARGS.check:
        os.environ["PIPELANG_CUDA_EMULATE"] = "1"
    import pipelang as hl
    sizes = SIZES["check" if ARGS.check else "full"]
    builders = {"blur": lambda: blur(hl, *sizes["blur"]),
                "conv_layer": lambda: conv_layer(hl, *sizes["conv"]),
                "matmul": lambda: matmul(hl, sizes["matmul"])}
    if not ARGS.check:
        from pipelang.backends.cuda.runtime import get_device
        dev = get_device()
        print(f"device: {dev.name} (sm_{dev.capability})")
    for name in ARGS.only.split(","):
        built = builders[name]()
        row = run_pipelang(hl, name, built, ARGS.repeats, ARGS.check)
        if not ARGS.check:
            t = run_torch(name, built, ARGS.repeats)
            if t:
                row.update(t)
        print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
              flush=True)
    return 0


ARGS = None

if __name__ == "__main__":
    sys.exit(main())
