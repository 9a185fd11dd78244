"""Ahead-of-time compilation: objects, static libraries, headers and
assembly for the host or another target, a standalone runtime, and loading
an artifact back into Python.

`Pipeline.compile_to*` and `Func.compile_to*` are thin wrappers over
`outputs.py`; the module every file comes from is built in `module.py`.
"""
import os

from pipelang.aot.loader import AotFunction, load_library
from pipelang.aot.outputs import OutputFileType, compile_standalone_runtime


def install_dir() -> str:
    """A directory with `include/HalideRuntime.h` (pipelang's own, ABI-compatible
    with Halide's) and `lib/` (empty: generated objects carry their runtime, so a
    C program links only them plus -lpthread -lm -ldl)."""
    root = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(root, "lib"), exist_ok=True)
    return root


__all__ = ["AotFunction", "OutputFileType", "load_library", "compile_standalone_runtime", "install_dir"]
