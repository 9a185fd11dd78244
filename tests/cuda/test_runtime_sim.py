"""The whole CUDA runtime path (host interpreter, replay, dirty bits, host
stages between kernels, intermediates) against a simulated device whose
"kernels" are the same kernels lowered for the CPU: device memory is host
memory, and a launch runs the emulated kernel over the whole grid."""
import numpy as np
import pytest

import pipelang as hl
from pipelang import ir
from pipelang.backends.cuda import runtime
from pipelang.backends.llvm import compile_lowered, pack_scalar
from pipelang.lowering.gpu_emulate import emulate_gpu_kernels


class SimDevice:
    capability, arch, name = 90, "sm_90", "simulated"

    def __init__(self):
        self.memory, self.copies, self.compiled = {}, {"htod": 0, "dtoh": 0}, {}

    def alloc(self, nbytes):
        a = np.zeros(nbytes + 64, np.uint8)
        self.memory[a.ctypes.data] = a
        return a.ctypes.data

    def free(self, ptr):
        self.memory.pop(ptr, None)

    def copy_to_device(self, ptr, host):
        data = np.ascontiguousarray(host).view(np.uint8).ravel()
        self.memory[ptr][:data.size] = data
        self.copies["htod"] += 1

    def copy_to_host(self, host, ptr):
        host[...] = self.memory[ptr][:host.nbytes].view(host.dtype).reshape(host.shape)
        self.copies["dtoh"] += 1

    def load_module(self, image):
        return self

    def function(self, name, shared_bytes=0):
        return name

    def synchronize(self):
        pass

    def launch(self, fn, grid, block, shared, args):
        k, jit = self.compiled[fn]
        argv = np.zeros(max(jit.argv_size, 1), np.int64)
        for p, off, a in zip(k.params, jit.arg_offsets, args):
            argv[off] = a.value if p.is_buffer else pack_scalar(a.value, p.type)
        jit(argv)


@pytest.fixture
def sim(monkeypatch):
    dev = SimDevice()
    monkeypatch.setattr(runtime, "get_device", lambda ordinal=None: dev)
    from pipelang.backends.cuda import host, nvrtc
    monkeypatch.setattr(nvrtc, "compile_cuda", lambda source, arch, **kw: b"sim")
    monkeypatch.delenv("PIPELANG_CUDA_EMULATE", raising=False)
    original = host.DevicePipeline.__init__

    def init(self, lowered, name, target, device=None):
        original(self, lowered, name, target, device)
        for k in self.kernels:           # the kernel, run on the CPU with the same arguments
            args = tuple(ir.Argument(p.sym, ir.ArgKind.BUFFER, p.type, 0) if p.is_buffer
                         else ir.Argument(p.sym, ir.ArgKind.SCALAR, p.type) for p in k.params)
            dev.compiled[k.name] = (k, compile_lowered(ir.LoweredFunc(
                k.name, args, emulate_gpu_kernels(k.body))))
    monkeypatch.setattr(host.DevicePipeline, "__init__", init)
    return dev


x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")


def test_blur_on_simulated_device(sim):
    a = np.random.default_rng(3).integers(0, 1000, (30, 50)).astype(np.uint16)
    inp = hl.Buffer(a, "sim_in")
    bx, by = hl.Func("sim_bx"), hl.Func("sim_by")
    bx[x, y] = (inp[x, y] + inp[x + 1, y] + inp[x + 2, y]) / 3
    by[x, y] = (bx[x, y] + bx[x, y + 1] + bx[x, y + 2]) / 3
    by.gpu_tile(x, y, xo, yo, xi, yi, 16, 8)
    bx.compute_at(by, xo).gpu_threads(x, y)
    by.compile_jit(hl.Target("host-cuda"))
    b = a.astype(np.int64)
    t = (b[:, :-2] + b[:, 1:-1] + b[:, 2:]) // 3
    ref = (t[:-2] + t[1:-1] + t[2:]) // 3
    for _ in range(2):                       # the second run is a replay
        out = by.realize([48, 28])
        np.testing.assert_array_equal(np.asarray(out), ref)
    assert sim.copies == {"htod": 1, "dtoh": 2}


def test_host_stages_between_kernels(sim):
    """A CPU stage reading a kernel's output and feeding another kernel."""
    vec = np.arange(-20, 44, dtype=np.int32)
    inp = hl.Buffer(vec, "sim_vec")
    f, g, h = hl.Func("sim_f"), hl.Func("sim_g"), hl.Func("sim_h")
    f[x] = inp[x] * 3                         # GPU
    g[x] = f[x] + f[x + 1]                    # CPU (compute_root, no GPU schedule)
    h[x] = g[x] * 2 - x                       # GPU
    f.compute_root().gpu_tile(x, xi, 16)
    g.compute_root()
    h.gpu_tile(x, xi, 16)
    h.compile_jit(hl.Target("host-cuda"))
    lowered = h._get_pipeline()._compile().device.lowered
    assert "host_stage" in ir.to_string(lowered)
    out = h.realize([48])
    fv = vec.astype(np.int64) * 3
    ref = (fv[:48] + fv[1:49]) * 2 - np.arange(48)
    np.testing.assert_array_equal(np.asarray(out), ref)
    out = h.realize([48])                     # replayed: the same copies again
    np.testing.assert_array_equal(np.asarray(out), ref)


FAST = ["lesson12_sharpen_lut", "tuple_output", "lesson19_image_param_in_shared"]


def _cases():
    from gpu_cases import CASES
    for name in sorted(CASES):
        yield pytest.param(name, marks=() if name in FAST else pytest.mark.slow)


@pytest.mark.parametrize("name", list(_cases()))
def test_case_on_simulated_device(name, sim):
    from gpu_cases import CASES
    outputs, sizes, refs = CASES[name]()
    p = hl.Pipeline(outputs)
    p.compile_jit(hl.Target("host-cuda"))
    outs = p.realize(sizes)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    for out, ref in zip(outs, refs):
        got = np.asarray(out)
        if ref.dtype.kind == "f":
            np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5, err_msg=name)
        else:
            np.testing.assert_array_equal(got, ref, err_msg=name)
