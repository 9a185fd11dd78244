"""pipelang's build: the package is pure Python, and its compiler core (the IR,
the lowering passes and the LLVM IR generation: the modules in `COMPILED`)
is also compiled to C extension modules by Cython, from the same sources.

Why: lowering is Python code that builds and rewrites millions of small IR
nodes per pipeline; compiled by Cython (no annotations, the same semantics)
it runs about 1.5x faster, which is most of what separates pipelang's
compile time from Halide's C++ (see the README's "Compile time").

The compiled modules are an accelerator, never a requirement:
  * without a C compiler, or with `PIPELANG_PURE_PYTHON=1` at build time,
    the build is pure Python (a warning says so);
  * `pipelang/_compiled.py` loads a compiled module only if it was built
    from the source beside it (the hashes written here to
    `pipelang/_compiled_sources.json`), so an edited source is never shadowed
    by a stale build; `PIPELANG_PURE_PYTHON=1` at run time ignores them all.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(ROOT, "pipelang", "_compiled_sources.json")

COMPILED = [
    "pipelang/fingerprint.py",
    "pipelang/ir/nodes.py",
    "pipelang/ir/types.py",
    "pipelang/ir/visitor.py",
    "pipelang/lowering/simplify.py",
    "pipelang/lowering/simplify_exprs.py",
    "pipelang/lowering/simplify_stmts.py",
    "pipelang/lowering/analysis/arguments.py",
    "pipelang/lowering/analysis/boxes.py",
    "pipelang/lowering/analysis/const_bounds.py",
    "pipelang/lowering/analysis/constant_extent.py",
    "pipelang/lowering/analysis/environment.py",
    "pipelang/lowering/analysis/evaluate.py",
    "pipelang/lowering/analysis/intervals.py",
    "pipelang/lowering/analysis/linear.py",
    "pipelang/lowering/analysis/mentions.py",
    "pipelang/lowering/bounds_inference.py",
    "pipelang/lowering/compute_with.py",
    "pipelang/lowering/embed_buffers.py",
    "pipelang/lowering/entry_checks.py",
    "pipelang/lowering/fused_groups.py",
    "pipelang/lowering/hoist_prefetches.py",
    "pipelang/lowering/hoist_storage.py",
    "pipelang/lowering/interleave.py",
    "pipelang/lowering/names.py",
    "pipelang/lowering/memoization.py",
    "pipelang/lowering/partition_loops.py",
    "pipelang/lowering/prefetch.py",
    "pipelang/lowering/schedule_functions.py",
    "pipelang/lowering/sliding_window.py",
    "pipelang/lowering/storage_flattening.py",
    "pipelang/lowering/storage_folding.py",
    "pipelang/lowering/tracing.py",
    "pipelang/lowering/unroll_loops.py",
    "pipelang/lowering/unswitch_loops.py",
    "pipelang/lowering/vectorize_loops.py",
    "pipelang/lowering/wrap_calls.py",
    "pipelang/backends/llvm/codegen.py",
    "pipelang/backends/llvm/exprs.py",
    "pipelang/backends/llvm/textir.py",
]


def _module(path: str) -> str:
    return path[: -len(".py")].replace("/", ".")


def _present(paths) -> list:
    return [p for p in paths if os.path.exists(os.path.join(ROOT, p))]


def _write_manifest(paths) -> None:
    """{module: sha256 of its source} for the modules being compiled."""
    sources = {}
    for path in paths:
        with open(os.path.join(ROOT, path), "rb") as f:
            sources[_module(path)] = hashlib.sha256(f.read()).hexdigest()
    with open(MANIFEST, "w") as f:
        json.dump(sources, f, indent=1, sort_keys=True)


def _extensions() -> list:
    if os.environ.get("PIPELANG_PURE_PYTHON", "") not in ("", "0"):
        _write_manifest([])
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("pipelang: Cython is not installed: building pure Python (slower compiles)", file=sys.stderr)
        _write_manifest([])
        return []
    compiled = _present(COMPILED)
    _write_manifest(compiled)
    return cythonize(
        # A module Cython cannot translate is left out (it stays pure Python).
        compiled, language_level=3, quiet=True, nthreads=os.cpu_count() or 1, exclude_failures=True,
        # Plain Python semantics: annotations are documentation, not C types
        # (a dict subclass stays a valid `dict` argument), and functions keep
        # their Python signatures and introspection.
        compiler_directives={"annotation_typing": False, "binding": True},
    )


class OptionalBuildExt(build_ext):
    """Builds the extensions on every core; one that fails to build leaves
    its module pure Python (the loader sees no compiled file for it)."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def run(self):
        try:
            super().run()
        except Exception as e:  # no C compiler: stay pure Python
            print(f"pipelang: compiled modules not built ({e}): pure Python (slower compiles)", file=sys.stderr)

    def build_extension(self, ext):
        if self.compiler.compiler_type == "unix":
            # -O1 without debug info: a fifth of -O3 -g's build time for
            # Cython's large C files, and nearly all of the speed.
            ext.extra_compile_args = list(ext.extra_compile_args or []) + ["-O1", "-g0"]
        try:
            super().build_extension(ext)
        except Exception as e:
            print(f"pipelang: {ext.name} not compiled ({e}): it stays pure Python", file=sys.stderr)


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
