"""The CUDA runtime's host side against a stub device (no GPU needed):
Halide's dirty-bit rules, copy elision, launch geometry and arguments."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.backends.cuda import runtime


class StubDevice:
    """Host memory standing in for a device; records every call."""
    capability, arch, name = 90, "sm_90", "stub"

    def __init__(self):
        self.memory, self.calls, self.next = {}, [], 0x1000

    def alloc(self, nbytes):
        self.next += 0x10000
        self.memory[self.next] = np.zeros(nbytes, np.uint8)
        self.calls.append(("alloc", nbytes))
        return self.next

    def free(self, ptr):
        self.calls.append(("free",))
        self.memory.pop(ptr, None)

    def copy_to_device(self, ptr, host):
        data = np.ascontiguousarray(host).view(np.uint8).ravel()
        self.memory[ptr][:data.size] = data
        self.calls.append(("htod", data.size))

    def copy_to_host(self, host, ptr):
        host[...] = self.memory[ptr][:host.nbytes].view(host.dtype).reshape(host.shape)
        self.calls.append(("dtoh", host.nbytes))

    def load_module(self, image):
        self.calls.append(("load",))
        return self

    def function(self, name, shared_bytes=0):
        return name

    def launch(self, fn, grid, block, shared, args):
        self.calls.append(("launch", fn, tuple(grid), tuple(block), shared, len(args)))

    def synchronize(self):
        self.calls.append(("sync",))

    def count(self, kind):
        return sum(1 for c in self.calls if c[0] == kind)


@pytest.fixture
def stub(monkeypatch):
    dev = StubDevice()
    monkeypatch.setattr(runtime, "get_device", lambda ordinal=None: dev)
    from pipelang.backends.cuda import nvrtc
    monkeypatch.setattr(nvrtc, "compile_cuda", lambda source, arch, **kw: b"\x7fELF stub")
    monkeypatch.delenv("PIPELANG_CUDA_EMULATE", raising=False)
    return dev


x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")


def blur(inp, name):
    bx, by = hl.Func(name + "_x"), hl.Func(name + "_y")
    bx[x, y] = (inp[x, y] + inp[x + 1, y] + inp[x + 2, y]) / 3
    by[x, y] = (bx[x, y] + bx[x, y + 1] + bx[x, y + 2]) / 3
    by.gpu_tile(x, y, xo, yo, xi, yi, 32, 8)
    bx.compute_at(by, xo).gpu_threads(x, y)
    return by


def test_launch_geometry_and_dirty_bits(stub):
    a = np.arange(45 * 70, dtype=np.uint16).reshape(45, 70)
    inp = hl.Buffer(a, "stub_in")
    assert inp.host_dirty() and not inp.device_dirty()
    f = blur(inp, "stub_blur")
    f.compile_jit(hl.Target("host-cuda"))
    out = hl.Buffer(hl.UInt(16), [68, 43])
    assert not out.host_dirty()
    f.realize(out)
    launches = [c for c in stub.calls if c[0] == "launch"]
    # ceil(68/32) x ceil(43/8) blocks of 32 x 10 threads (the producer needs 10 rows), 640 B shared.
    assert launches[0][2:5] == ((3, 6, 1), (32, 10, 1), 640)
    assert stub.count("htod") == 1 and stub.count("dtoh") == 0
    assert out.device_dirty() and not out.host_dirty() and not inp.host_dirty()
    f.realize(out)                        # the input is clean: not copied again
    assert stub.count("htod") == 1 and stub.count("launch") == 2
    inp.set_host_dirty()
    f.realize(out)
    assert stub.count("htod") == 2
    out.copy_to_host()
    assert stub.count("dtoh") == 1 and not out.device_dirty()
    out.copy_to_host()                    # clean now: nothing to copy
    assert stub.count("dtoh") == 1


def test_realize_sizes_copies_back(stub):
    inp = hl.Buffer(np.ones((20, 40), np.uint16), "stub_in2")
    f = blur(inp, "stub_blur2")
    f.compile_jit(hl.Target("host-cuda"))
    out = f.realize([38, 18])
    assert stub.count("dtoh") == 1 and not out.device_dirty()


def test_copy_to_device_semantics(stub):
    b = hl.Buffer(np.arange(6, dtype=np.int32))
    b.copy_to_device()
    assert b.has_device_allocation() and stub.count("htod") == 1 and not b.host_dirty()
    b.copy_to_device()                     # clean host: allocates nothing, copies nothing
    assert stub.count("htod") == 1 and stub.count("alloc") == 1
    fresh = hl.Buffer(hl.Int(32), [4])
    fresh.copy_to_device()                 # Halide: allocates, but a clean host is not copied
    assert fresh.has_device_allocation() and stub.count("htod") == 1
    b.set_host_dirty()
    b.set_device_dirty()
    with pytest.raises(hl.HalideError, match="dirty on both the host and the device"):
        b.copy_to_device()
    b.set_host_dirty(False)
    b.device_free()
    assert not b.has_device_allocation() and not b.device_dirty()


def test_entry_checks_run_on_host(stub):
    inp = hl.Buffer(np.ones((10, 10), np.uint16), "stub_small")
    f = blur(inp, "stub_blur3")
    f.compile_jit(hl.Target("host-cuda"))
    with pytest.raises(hl.HalideError, match="Input buffer stub_small is accessed at"):
        f.realize(hl.Buffer(hl.UInt(16), [40, 40]))
    assert stub.count("launch") == 0


def test_cuda_error_carries_the_name():
    err = runtime.CudaError("cuLaunchKernel", "CUDA_ERROR_INVALID_VALUE")
    assert isinstance(err, hl.HalideError) and err.name == "CUDA_ERROR_INVALID_VALUE"
    assert "cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE" in str(err)


def test_no_device_here_is_a_clean_answer():
    runtime.device_available.cache_clear()
    ok = runtime.device_available()
    assert ok in (True, False)
    assert hl.host_supports_target_device(hl.Target("host"))


def test_no_driver_is_a_cuda_error():
    pytest.importorskip("cuda.bindings")
    if runtime.device_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(runtime.CudaError, match="cuInit failed: CUDA_ERROR_"):
        runtime.Device(0)


def test_host_code_replayed_and_intermediates_pooled(stub):
    inp = hl.Buffer(np.ones((20, 40), np.uint16), "stub_in4")
    bx, by = hl.Func("pool_x"), hl.Func("pool_y")
    bx[x, y] = inp[x, y] + inp[x + 1, y]
    by[x, y] = bx[x, y] + bx[x, y + 1]
    bx.compute_root().gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    by.gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    p = hl.Pipeline(by)
    p.compile_jit(hl.Target("host-cuda"))
    out = hl.Buffer(hl.UInt(16), [32, 16])
    for _ in range(3):
        p.realize(out)
    device = p._compile().device
    assert len(device._replays) == 1 and device.launches == 6
    # out, inp, and one pooled buffer for pool_x, reused by every run.
    assert stub.count("alloc") == 3
    launches = [c for c in stub.calls if c[0] == "launch"]
    assert launches[0][1].startswith("kernel_pool_x") and launches[1][1].startswith("kernel_pool_y")
    assert launches[0] == launches[2] and launches[1] == launches[3]
    p.realize(hl.Buffer(hl.UInt(16), [24, 16]))      # new shapes: host code runs again
    assert len(device._replays) == 2


def test_callable_on_device_is_a_clear_error(stub):
    f = hl.Func("callable_gpu")
    f[x] = x
    f.gpu_tile(x, xi, 8)
    with pytest.raises(hl.HalideError, match="compile_to_callable.*CUDA device"):
        hl.Pipeline(f).compile_to_callable([], hl.Target("host-cuda"))
