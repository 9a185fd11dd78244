"""The CUDA backend: CUDA C emission, NVRTC compilation, the driver-API runtime.

Only `codegen` is imported eagerly (it is plain Python); `nvrtc` and `runtime`
import NVIDIA's packages (`pip install pipelang[cuda]`) on first use, so
nothing CUDA is needed on a machine without it.
"""
from pipelang.backends.cuda.codegen import CudaPrinter, cuda_source

__all__ = ["CudaPrinter", "cuda_source"]
