"""Compile CUDA C to CUBIN (or PTX) with NVRTC, through `cuda.bindings.nvrtc`.

CUBIN for the device's exact `sm_XX` needs no PTX JIT in the driver, so a
driver older than the compiler still loads it (PTX from a newer NVRTC can be
refused with CUDA_ERROR_UNSUPPORTED_PTX_VERSION). Compiled images are kept in
the on-disk compile cache, keyed by source, architecture, options and the
NVRTC version.

NVRTC needs no GPU and no driver: `pip install pipelang[cuda]` brings
`nvidia-cuda-nvrtc` (the library) and `cuda-bindings` (the binding).
"""
from __future__ import annotations

import functools
import hashlib

from pipelang.errors import CompileError

# FMA contraction is left on (NVRTC's default, as Halide's PTX): device floats
# may differ from the CPU's in the last bits; tests compare floats with a tolerance.
DEFAULT_OPTIONS = ("-std=c++17", "--restrict")


class NVRTCError(CompileError):
    """NVRTC refused the generated source (the log is in the message)."""


def _nvrtc():
    try:
        from cuda.bindings import nvrtc
    except ImportError as e:          # pragma: no cover - depends on the install
        raise NVRTCError("Compiling CUDA C needs NVRTC: pip install 'pipelang[cuda]' "
                         "(cuda-bindings and nvidia-cuda-nvrtc)") from e
    return nvrtc


def available() -> bool:
    """Whether NVRTC can be loaded here (no GPU needed)."""
    try:
        version()
    except Exception:  # noqa: BLE001 - any failure to load the library means "no"
        return False
    return True


def _check(result, what: str, log=None):
    nvrtc = _nvrtc()
    err = result[0]
    if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        name = nvrtc.nvrtcGetErrorString(err)[1].decode()
        raise NVRTCError(f"{what} failed: {name}" + (f"\n{log}" if log else ""))
    return result[1:] if len(result) > 2 else (result[1] if len(result) == 2 else None)


@functools.lru_cache(maxsize=1)
def version() -> tuple:
    nvrtc = _nvrtc()
    return tuple(_check(nvrtc.nvrtcVersion(), "nvrtcVersion"))


def compile_cuda(source: str, arch: str, *, output: str = "cubin", name: str = "pipeline.cu",
                 options=DEFAULT_OPTIONS) -> bytes:
    """`source` compiled for `arch` ("sm_90"); `output` is "cubin" or "ptx"."""
    from pipelang.backends.cuda import disk_cache
    key_text = "\0".join([source, arch, output, " ".join(options), repr(version())])
    key = "cuda-" + hashlib.sha256(key_text.encode()).hexdigest()
    cached = disk_cache.get(key)
    if cached is not None:
        return cached
    nvrtc = _nvrtc()
    prog = _check(nvrtc.nvrtcCreateProgram(source.encode(), name.encode(), 0, [], []),
                  "nvrtcCreateProgram")
    try:
        target = arch if output == "cubin" else arch.replace("sm_", "compute_")
        opts = [f"--gpu-architecture={target}".encode()] + [o.encode() for o in options]
        err = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)[0]
        size = _check(nvrtc.nvrtcGetProgramLogSize(prog), "nvrtcGetProgramLogSize")
        log = b" " * size
        nvrtc.nvrtcGetProgramLog(prog, log)
        log = log.decode(errors="replace").rstrip("\x00").strip()
        if err != nvrtc.nvrtcResult.NVRTC_SUCCESS:
            raise NVRTCError(f"NVRTC could not compile the generated CUDA C for {arch}:\n{log}")
        if output == "cubin":
            size = _check(nvrtc.nvrtcGetCUBINSize(prog), "nvrtcGetCUBINSize")
            data = b" " * size
            _check((nvrtc.nvrtcGetCUBIN(prog, data)[0], None), "nvrtcGetCUBIN")
        else:
            size = _check(nvrtc.nvrtcGetPTXSize(prog), "nvrtcGetPTXSize")
            data = b" " * size
            _check((nvrtc.nvrtcGetPTX(prog, data)[0], None), "nvrtcGetPTX")
    finally:
        nvrtc.nvrtcDestroyProgram(prog)
    disk_cache.put(key, bytes(data))
    return bytes(data)
