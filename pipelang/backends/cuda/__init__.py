"""The CUDA backend: CUDA C emission, NVRTC compilation, the driver-API runtime.

Only `codegen` is imported eagerly (it is plain Python); `nvrtc` and `runtime`
import NVIDIA's packages (`pip install pipelang[cuda]`) on first use, so
nothing CUDA is needed on a machine without it.
"""
from pipelang.backends.cuda.codegen import CudaPrinter, cuda_source

__all__ = ["CudaPrinter", "cuda_source"]


def host_supports_target_device(target) -> bool:
    """Whether `target`'s device can run here (Halide's function): always for a
    host-only target; never for GPU APIs other than CUDA; for `cuda`, when a
    CUDA device answers, or when `PIPELANG_CUDA_EMULATE=1` runs its kernels
    on the CPU."""
    if not target.has_feature("cuda"):
        return not target.has_gpu_feature()
    from pipelang.lowering.lower import cuda_emulated
    if cuda_emulated():
        return True
    from pipelang.backends.cuda.runtime import device_available
    return device_available()


def get_gpu_device() -> int:
    """The CUDA device ordinal pipelang uses (`HL_GPU_DEVICE`, default 0)."""
    from pipelang.backends.cuda.runtime import get_gpu_device as ordinal
    return ordinal()
