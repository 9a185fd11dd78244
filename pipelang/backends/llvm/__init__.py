"""The LLVM CPU backend: codegen to LLVM IR, O3 for the host CPU, MCJIT."""
from pipelang.backends.llvm.jit import JITFunction, pack_argv, pack_scalar
from pipelang.backends.llvm.memoize import ensure_memoize_runtime
from pipelang.backends.llvm.runtime import get_num_threads, set_num_threads
from pipelang._compiled import deep_stack
from pipelang.ir import LoweredFunc

# Memoized code calls the cache's entry points; code loaded from the compile
# cache is never generated here, so they are registered up front.
ensure_memoize_runtime()


@deep_stack
def compile_lowered(lowered: LoweredFunc, *, loop_opt: bool = True, cache=None) -> JITFunction:
    """JIT-compile a lowered pipeline for the host CPU.

    `loop_opt=False` skips LLVM's loop vectorizer and unroller (see
    `jit.optimize`): much faster compiles, same speed for loops that
    lowering already vectorized. With a `pipelang.cache.CompileCache`,
    object code is looked up there first and stored after a miss.
    """
    return JITFunction(lowered, loop_opt, cache)


class LLVMBackend:
    """The `Backend` for the host CPU."""

    def __init__(self, loop_opt: bool = True):
        self.loop_opt = loop_opt

    def compile(self, lowered: LoweredFunc) -> JITFunction:
        return compile_lowered(lowered, loop_opt=self.loop_opt)


__all__ = ["JITFunction", "LLVMBackend", "compile_lowered", "get_num_threads",
           "pack_argv", "pack_scalar", "set_num_threads"]
