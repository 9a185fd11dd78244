"""The emitted CUDA C itself, executed on the CPU: each kernel compiled by the
host C++ compiler against a small shim (blockIdx/threadIdx, one OS thread per
CUDA thread of a block, __syncthreads as a std::barrier, a static shared
buffer), and launched by the real CUDA runtime path (host interpreter, dirty
bits, replay) on a simulated device whose memory is host memory.

This checks what nvcc only compiles: the C semantics of the emitted source
(Euclidean division helpers, wrapping narrow arithmetic, casts, float
constants, guards, barriers, shared-memory offsets) give numpy's results."""
import ctypes
import shutil
import subprocess

import numpy as np
import pytest

import pipelang as hl
from pipelang.backends.cuda import runtime
from gpu_cases import CASES

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="no host C++ compiler")

SHIM = r"""
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <barrier>
#include <thread>
#include <vector>
struct pl_dim3 { unsigned x, y, z; };
static pl_dim3 blockIdx;
static thread_local pl_dim3 threadIdx;
static std::barrier<> *pl_block_barrier;
alignas(16) unsigned char pl_shared[1 << 20];
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __restrict__ __restrict
#define __shared__
#define __align__(n) __attribute__((aligned(n)))
#define __syncthreads() pl_block_barrier->arrive_and_wait()
static inline float __int_as_float(int v) { float f; memcpy(&f, &v, 4); return f; }
static inline double __longlong_as_double(long long v) { double d; memcpy(&d, &v, 8); return d; }
static inline int __popc(unsigned v) { return __builtin_popcount(v); }
static inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
static inline int __clz(int v) { return v ? __builtin_clz((unsigned)v) : 32; }
static inline int __clzll(long long v) { return v ? __builtin_clzll((unsigned long long)v) : 64; }
static inline int __ffs(int v) { return __builtin_ffs(v); }
static inline int __ffsll(long long v) { return __builtin_ffsll(v); }
template <class F>
static void pl_launch(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, F body) {
    for (unsigned z = 0; z < gz; z++) for (unsigned y = 0; y < gy; y++) for (unsigned x = 0; x < gx; x++) {
        blockIdx = {x, y, z};
        std::barrier<> bar(bx * by * bz);
        pl_block_barrier = &bar;
        std::vector<std::thread> threads;
        for (unsigned tz = 0; tz < bz; tz++) for (unsigned ty = 0; ty < by; ty++) for (unsigned tx = 0; tx < bx; tx++)
            threads.emplace_back([=] { threadIdx = {tx, ty, tz}; body(); });
        for (auto &t : threads) t.join();
    }
}
"""


def _ctype_name(printer, p):
    return printer.type_name(p.type) + (" *" if p.is_buffer else "")


class HostCDevice:
    """Device memory is host memory; kernels are the emitted CUDA C built by g++."""
    capability, arch, name = 90, "sm_90", "host C++"

    def __init__(self, tmp_path):
        self.tmp, self.libs, self.memory = tmp_path, {}, {}

    def alloc(self, nbytes):
        a = np.zeros(nbytes + 64, np.uint8)
        self.memory[a.ctypes.data] = a
        return a.ctypes.data

    def free(self, ptr):
        self.memory.pop(ptr, None)

    def copy_to_device(self, ptr, host):
        data = np.ascontiguousarray(host).view(np.uint8).ravel()
        self.memory[ptr][:data.size] = data

    def copy_to_host(self, host, ptr):
        host[...] = self.memory[ptr][:host.nbytes].view(host.dtype).reshape(host.shape)

    def synchronize(self):
        pass

    def build(self, pipeline):
        """Compile a DevicePipeline's source with a launcher per kernel."""
        from pipelang.backends.cuda.codegen import CudaPrinter
        printer = CudaPrinter()
        wrappers = []
        for k in pipeline.kernels:
            unpack = ", ".join(f"*({_ctype_name(printer, p)} *)args[{i}]" for i, p in enumerate(k.params))
            wrappers.append(
                f'extern "C" void launch_{k.name}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, '
                f"unsigned by, unsigned bz, void **args) {{ pl_launch(gx, gy, gz, bx, by, bz, [=] {{ "
                f"{k.name}({unpack}); }}); }}")
        src = SHIM + pipeline.source.split("#endif\n", 1)[1] + "\n" + "\n".join(wrappers) + "\n"
        n = len(self.libs)
        path = self.tmp / f"k{n}.cpp"
        path.write_text(src)
        so = self.tmp / f"k{n}.so"
        r = subprocess.run(["g++", "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", str(path),
                            "-o", str(so)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        lib = ctypes.CDLL(str(so))
        for k in pipeline.kernels:
            self.libs[k.name] = getattr(lib, f"launch_{k.name}")
        return self

    def load_module(self, image):
        return self

    def function(self, name, shared_bytes=0):
        return name

    def launch(self, fn, grid, block, shared, args):
        pointers = (ctypes.c_void_p * max(len(args), 1))(*[ctypes.addressof(a) for a in args])
        self.libs[fn](*[ctypes.c_uint(int(v)) for v in (*grid, *block)], pointers)


@pytest.fixture
def host_c(monkeypatch, tmp_path):
    dev = HostCDevice(tmp_path)
    monkeypatch.setattr(runtime, "get_device", lambda ordinal=None: dev)
    from pipelang.backends.cuda import host, nvrtc
    monkeypatch.setattr(nvrtc, "compile_cuda", lambda source, arch, **kw: b"host")
    monkeypatch.delenv("PIPELANG_CUDA_EMULATE", raising=False)
    original = host.DevicePipeline.__init__

    def init(self, lowered, name, target, device=None):
        original(self, lowered, name, target, device)
        dev.build(self)
    monkeypatch.setattr(host.DevicePipeline, "__init__", init)
    return dev


FAST = ["blur_shared_producer", "euclidean_div_mod"]


def _cases():
    for name in sorted(CASES):
        yield pytest.param(name, marks=() if name in FAST else pytest.mark.slow)


@pytest.mark.parametrize("name", list(_cases()))
def test_emitted_cuda_c_runs_on_cpu(name, host_c):
    outputs, sizes, refs = CASES[name]()
    p = hl.Pipeline(outputs)
    p.compile_jit(hl.Target("host-cuda"))
    outs = p.realize(sizes)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    for out, ref in zip(outs, refs):
        got = np.asarray(out)
        if ref.dtype.kind == "f":
            np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4, err_msg=name)
        else:
            np.testing.assert_array_equal(got, ref, err_msg=name)
