"""Which build of the compiler core is imported: compiled or pure Python.

The build (setup.py) compiles the compiler's core modules with Cython from
their Python sources and records each source's hash in
`_compiled_sources.json`. An import finder installed here, before any of
those modules is imported, loads a module's compiled file only when the
source beside it still has the recorded hash: after an edit (or a checkout)
without a rebuild, the edited source is what runs, never a stale build.
`PIPELANG_PURE_PYTHON=1` ignores the compiled files altogether (to debug
with pdb or coverage, or to compare).

    >>> import pipelang._compiled as c
    >>> sorted(c.status())            # doctest: +SKIP
    ['compiled', 'pure']
"""
from __future__ import annotations

import contextvars
import functools
import hashlib
import importlib.util
import json
import os
import sys
import threading
from importlib.machinery import EXTENSION_SUFFIXES

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_compiled_sources.json")


def pure_python_requested() -> bool:
    return os.environ.get("PIPELANG_PURE_PYTHON", "") not in ("", "0")


def _load_manifest() -> dict:
    try:
        with open(_MANIFEST) as f:
            sources = json.load(f)
    except (OSError, ValueError):
        return {}
    return sources if isinstance(sources, dict) else {}


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


class _CurrentBuildFinder:
    """A meta path finder for the compiled modules: the compiled file if it
    was built from the source that is there now, else the source."""

    def __init__(self, sources: dict, root: str = _PACKAGE_ROOT):
        self.sources = sources          # module -> sha256 of the source it was compiled from
        self.root = root                # the directory holding the `pipelang` package
        self.loaded: dict = {}          # module -> "compiled" | "pure"

    def any_compiled(self) -> bool:
        return "compiled" in self.loaded.values()

    def find_spec(self, name, path=None, target=None):
        recorded = self.sources.get(name)
        if recorded is None:
            return None
        base = os.path.join(self.root, *name.split("."))
        source = base + ".py"
        if not os.path.exists(source):
            return None
        if not pure_python_requested() and _sha256(source) == recorded:
            for suffix in EXTENSION_SUFFIXES:
                if os.path.exists(base + suffix):
                    self.loaded[name] = "compiled"
                    return importlib.util.spec_from_file_location(name, base + suffix)
        self.loaded[name] = "pure"
        return importlib.util.spec_from_file_location(name, source)


def status() -> dict:
    """{"compiled": [modules], "pure": [modules]} of the compiler core
    imported so far (a module the build did not compile is not listed)."""
    out: dict = {"compiled": [], "pure": []}
    for name, how in sorted(_FINDER.loaded.items()):
        out[how].append(name)
    return out


def summary() -> str:
    """One line for reports: how many core modules run compiled."""
    s = status()
    total = len(s["compiled"]) + len(s["pure"])
    if not _FINDER.sources:
        return "compiler core: pure Python (not compiled at install)"
    if pure_python_requested():
        return "compiler core: pure Python (PIPELANG_PURE_PYTHON=1)"
    return f"compiler core: {len(s['compiled'])} of {total} imported modules compiled (Cython)"


# ---------------------------------------------------------------- deep IR

# Pure Python recursion (Python 3.11) costs no C stack, and lowering allows
# 20,000 levels of it (lowering/simplify.py). Compiled, each level of the
# recursive passes is a C call: on a main thread's 8 MB stack a sum of a few
# thousand terms would overflow it. So the compile steps run on a thread
# with a stack of their own, large enough for any depth the recursion limit
# allows (memory is committed only as the stack is used).
_STACK_BYTES = 1 << 30
_stack_size_lock = threading.Lock()
_on_deep_stack = threading.local()


def deep_stack(fn):
    """Decorator: `fn` runs on a thread with a 1 GiB stack when compiled
    modules are loaded (directly otherwise, and when already on one); its
    result or exception comes back to the caller. Context variables (a
    generator's context) go along."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _FINDER.any_compiled() or getattr(_on_deep_stack, "active", False):
            return fn(*args, **kwargs)
        context = contextvars.copy_context()
        outcome: list = []

        def run():
            _on_deep_stack.active = True
            try:
                outcome.append((True, context.run(fn, *args, **kwargs)))
            except BaseException as e:          # handed to the caller below
                outcome.append((False, e))

        with _stack_size_lock:
            previous = threading.stack_size(_STACK_BYTES)
            try:
                worker = threading.Thread(target=run, name=f"pipelang-{fn.__name__}", daemon=True)
                worker.start()
            finally:
                threading.stack_size(previous)
        worker.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value
    return wrapper


_FINDER = _CurrentBuildFinder(_load_manifest())
if _FINDER.sources and not any(isinstance(f, _CurrentBuildFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _FINDER)
