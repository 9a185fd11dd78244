"""The CUDA driver API, through NVIDIA's `cuda.bindings.driver`.

Why `cuda-bindings` rather than ctypes on libcuda: it is NVIDIA's own, kept
in step with each driver release (the `_v2` entry points, struct layouts and
error enums are theirs to get right), and it finds libcuda itself; ctypes
would save an 8 MB wheel but make us own library discovery and every
signature. It is imported only when a pipeline first runs on a device.

One `Device` per process: the primary context of device `HL_GPU_DEVICE`
(default 0), the one PyTorch, CuPy and numba share, so device pointers can
be exchanged with them. Every failing call raises `CudaError` carrying the
CUDA error name (`CUDA_ERROR_INVALID_VALUE`, ...).
"""
from __future__ import annotations

import ctypes
import functools
import os
import threading

import numpy as np

from pipelang.errors import PipelineRuntimeError

# Above this many bytes of dynamic shared memory a kernel must opt in.
DEFAULT_SHARED_LIMIT = 48 * 1024


class CudaError(PipelineRuntimeError):
    """A CUDA driver call failed; `name` is the CUDA error name."""

    def __init__(self, call: str, name: str, detail: str = ""):
        self.call, self.name = call, name
        super().__init__(f"{call} failed: {name}" + (f" ({detail})" if detail else ""))


def _driver():
    try:
        from cuda.bindings import driver
    except ImportError as e:
        raise CudaError("import cuda.bindings", "CUDA_ERROR_NOT_INITIALIZED",
                        "running on a GPU needs pip install 'pipelang[cuda]'") from e
    return driver


def _check(call: str, result):
    driver = _driver()
    err = result[0]
    if err != driver.CUresult.CUDA_SUCCESS:
        e, name = driver.cuGetErrorName(err)
        name = name.decode() if e == driver.CUresult.CUDA_SUCCESS else str(err)
        raise CudaError(call, name)
    rest = result[1:]
    return rest[0] if len(rest) == 1 else rest


def get_gpu_device() -> int:
    """The device ordinal pipelang runs on: `HL_GPU_DEVICE`, else 0 (Halide's variable)."""
    return int(os.environ.get("HL_GPU_DEVICE", "0") or 0)


_CTYPES = {("int", 8): ctypes.c_int8, ("int", 16): ctypes.c_int16, ("int", 32): ctypes.c_int32,
           ("int", 64): ctypes.c_int64, ("uint", 1): ctypes.c_bool, ("uint", 8): ctypes.c_uint8,
           ("uint", 16): ctypes.c_uint16, ("uint", 32): ctypes.c_uint32, ("uint", 64): ctypes.c_uint64,
           ("float", 32): ctypes.c_float, ("float", 64): ctypes.c_double}


def ctype_of(t):
    return _CTYPES[(t.code().value, t.bits())]


class Module:
    def __init__(self, device, image: bytes):
        self.device = device
        driver = _driver()
        device.make_current()
        self.handle = _check("cuModuleLoadData", driver.cuModuleLoadData(image))
        self.functions: dict = {}

    def function(self, name: str, shared_bytes: int = 0):
        fn = self.functions.get(name)
        if fn is None:
            driver = _driver()
            fn = _check("cuModuleGetFunction", driver.cuModuleGetFunction(self.handle, name.encode()))
            if shared_bytes > DEFAULT_SHARED_LIMIT:
                attr = driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
                _check("cuFuncSetAttribute", driver.cuFuncSetAttribute(fn, attr, shared_bytes))
            self.functions[name] = fn
        return fn


class Device:
    """The primary context of one device, and the driver calls pipelang makes."""

    def __init__(self, ordinal: int):
        driver = _driver()
        try:
            init = driver.cuInit(0)
        except (OSError, RuntimeError) as e:     # cuda.pathfinder: libcuda is not installed
            raise CudaError("cuInit", "CUDA_ERROR_NO_DEVICE",
                            f"no NVIDIA driver library here: {e}") from e
        _check("cuInit", init)
        count = _check("cuDeviceGetCount", driver.cuDeviceGetCount())
        if not 0 <= ordinal < count:
            raise CudaError("cuDeviceGet", "CUDA_ERROR_INVALID_DEVICE",
                            f"device {ordinal} requested, {count} present")
        self.ordinal = ordinal
        self.handle = _check("cuDeviceGet", driver.cuDeviceGet(ordinal))
        self.context = _check("cuDevicePrimaryCtxRetain", driver.cuDevicePrimaryCtxRetain(self.handle))
        attr = driver.CUdevice_attribute
        major = _check("cuDeviceGetAttribute", driver.cuDeviceGetAttribute(
            attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, self.handle))
        minor = _check("cuDeviceGetAttribute", driver.cuDeviceGetAttribute(
            attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, self.handle))
        self.capability = major * 10 + minor
        self.name = _check("cuDeviceGetName", driver.cuDeviceGetName(256, self.handle))
        self.name = self.name.split(b"\0", 1)[0].decode() if isinstance(self.name, bytes) else str(self.name)

    @property
    def arch(self) -> str:
        return f"sm_{self.capability}"

    def make_current(self) -> None:
        _check("cuCtxSetCurrent", _driver().cuCtxSetCurrent(self.context))

    def alloc(self, nbytes: int) -> int:
        self.make_current()
        ptr = _check("cuMemAlloc", _driver().cuMemAlloc(max(int(nbytes), 1)))
        return int(ptr)

    def free(self, ptr: int) -> None:
        self.make_current()
        _check("cuMemFree", _driver().cuMemFree(ptr))

    def copy_to_device(self, ptr: int, host: np.ndarray) -> None:
        host = np.ascontiguousarray(host)
        self.make_current()
        _check("cuMemcpyHtoD", _driver().cuMemcpyHtoD(ptr, host.ctypes.data, host.nbytes))

    def copy_to_host(self, host: np.ndarray, ptr: int) -> None:
        self.make_current()
        if host.flags.c_contiguous:
            _check("cuMemcpyDtoH", _driver().cuMemcpyDtoH(host.ctypes.data, ptr, host.nbytes))
            return
        tmp = np.empty(host.shape, host.dtype)
        _check("cuMemcpyDtoH", _driver().cuMemcpyDtoH(tmp.ctypes.data, ptr, tmp.nbytes))
        host[...] = tmp

    def load_module(self, image: bytes) -> Module:
        return Module(self, image)

    def launch(self, fn, grid, block, shared_bytes: int, args: list) -> None:
        """`args`: ctypes values, in the kernel's parameter order."""
        self.make_current()
        pointers = (ctypes.c_void_p * max(len(args), 1))(*[ctypes.addressof(a) for a in args])
        driver = _driver()
        _check("cuLaunchKernel", driver.cuLaunchKernel(
            fn, *[int(g) for g in grid], *[int(b) for b in block], int(shared_bytes),
            driver.CUstream(0), ctypes.addressof(pointers), None))

    def timed_launch(self, fn, grid, block, shared_bytes: int, args: list) -> float:
        """Launch and wait; the kernel's time in ms, from CUDA events around it."""
        driver = _driver()
        self.make_current()
        start = _check("cuEventCreate", driver.cuEventCreate(0))
        end = _check("cuEventCreate", driver.cuEventCreate(0))
        try:
            _check("cuEventRecord", driver.cuEventRecord(start, driver.CUstream(0)))
            self.launch(fn, grid, block, shared_bytes, args)
            _check("cuEventRecord", driver.cuEventRecord(end, driver.CUstream(0)))
            _check("cuEventSynchronize", driver.cuEventSynchronize(end))
            return float(_check("cuEventElapsedTime", driver.cuEventElapsedTime(start, end)))
        finally:
            driver.cuEventDestroy(start)
            driver.cuEventDestroy(end)

    def synchronize(self) -> None:
        self.make_current()
        _check("cuCtxSynchronize", _driver().cuCtxSynchronize())


_lock = threading.Lock()
_devices: dict = {}


def get_device(ordinal: int | None = None) -> Device:
    ordinal = get_gpu_device() if ordinal is None else ordinal
    with _lock:
        dev = _devices.get(ordinal)
        if dev is None:
            dev = _devices[ordinal] = Device(ordinal)
        return dev


@functools.lru_cache(maxsize=1)
def device_available() -> bool:
    """Whether a CUDA device can be used here (a cheap probe, remembered)."""
    try:
        get_device()
    except Exception:  # noqa: BLE001 - any failure (no package, no driver, no device) means "no"
        return False
    return True
