"""The LLVM CPU backend: codegen to LLVM IR, O3 for the host CPU, MCJIT."""
from pipelang.backends.llvm.jit import JITFunction, pack_argv, pack_scalar
from pipelang.backends.llvm.runtime import get_num_threads, set_num_threads
from pipelang.ir import LoweredFunc


def compile_lowered(lowered: LoweredFunc) -> JITFunction:
    """JIT-compile a lowered pipeline for the host CPU."""
    return JITFunction(lowered)


class LLVMBackend:
    """The `Backend` for the host CPU."""

    def compile(self, lowered: LoweredFunc) -> JITFunction:
        return compile_lowered(lowered)


__all__ = ["JITFunction", "LLVMBackend", "compile_lowered", "get_num_threads",
           "pack_argv", "pack_scalar", "set_num_threads"]
