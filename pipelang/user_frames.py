"""Errors at the user's line.

Halide's errors name Funcs, not places; pipelang also says where, in the
user's own code, each Func was defined and each schedule directive was called,
and hides its own frames from tracebacks (as JAX does).

* At each `f[...] = ...` and each directive called from user code we record one
  frame of user code: the first frame outside the pipelang package, found by a
  `sys._getframe` walk (a few attribute reads, no `inspect`).  The records live
  in a side table keyed weakly by the Function, so the IR and the schedule
  objects are untouched.
* When a `HalideError` leaves a public entry point (a definition, a directive,
  `realize`, `compile_jit`, `compile_to_*`) into user code, we add PEP 678 notes:
  where the call was made, and for every Func the message names, where it was
  defined and where its relevant directives were called.  The message itself is
  Halide's, unchanged.  A run-time error about an input buffer names the Funcs
  that read that buffer.  Nothing runs on the success path of `realize`.
* The traceback of such an error keeps only frames outside pipelang, so its last
  frame is the user's line; `PIPELANG_FULL_TRACEBACK=1` keeps every frame.
  Anything that is not a `HalideError` (an internal bug, an assertion) is never
  touched.
"""
from __future__ import annotations

import functools
import os
import re
import sys
import types
import weakref
from typing import NamedTuple

from pipelang.errors import HalideError

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# The Cython-compiled modules of the compiler core (see setup.py) name their
# frames by the source path the build gave them, relative to the project.
_PACKAGE_PREFIXES = tuple({_PACKAGE, os.path.dirname(__file__) + os.sep, "pipelang" + os.sep})


class Site(NamedTuple):
    """One line of user code."""
    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}"


def is_internal(filename: str) -> bool:
    return filename.startswith(_PACKAGE_PREFIXES)


def user_site(depth: int = 1) -> Site | None:
    """The innermost frame of the caller's stack that is not pipelang's."""
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_PREFIXES):
        f = f.f_back
    if f is None:
        return None
    return Site(f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


def _called_by_user(depth: int) -> bool:
    """Whether the frame `depth` levels up was called from outside pipelang."""
    f = sys._getframe(depth + 1)
    return f is not None and not f.f_code.co_filename.startswith(_PACKAGE_PREFIXES)


# Function -> [(stage index, Site)] for definitions, [(text, stage index, Site)] for directives.
_definitions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_directives: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def definition_sites(function) -> list:
    """[(stage index, Site)] of `function`'s definitions made from user code."""
    return list(_definitions.get(function, ()))


def directive_sites(function) -> list:
    """[(text, stage index, Site)] of the directives called on `function` from user code."""
    return list(_directives.get(function, ()))


def _arg_text(a) -> str:
    name = getattr(a, "name", None)
    if callable(name):
        try:
            return _display(str(name()))
        except Exception:   # an unnamed object: fall back to repr
            pass
    return repr(a)


def _display(name: str) -> str:
    """A Func's name as the user wrote it (`f$3` -> `f`)."""
    return name.split("$", 1)[0] or name


def _describe_call(obj, method: str, args: tuple) -> str:
    fn = getattr(obj, "function", None)
    owner = _display(fn.name) if fn is not None else type(obj).__name__
    if getattr(obj, "index", 0):
        owner += f".update({obj.index - 1})"
    if method == "__getitem__":
        key = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
        return f"{owner}[{', '.join(_arg_text(a) for a in key)}]"
    return f"{owner}.{method}({', '.join(_arg_text(a) for a in args)})"


# ---------------------------------------------------------------- notes


def _functions_of(roots) -> list:
    """Every Function reachable from `roots` (Funcs or Functions) through calls."""
    from pipelang import ir
    from pipelang.function import registry
    todo = []
    for r in roots or ():
        fn = getattr(r, "function", r)
        if fn is not None:
            todo.append(fn)
    seen: dict = {}

    class _Calls(ir.IRVisitor):
        def visit_Call(self, node):
            if node.kind == ir.CallKind.FUNC:
                callee = registry.get(node.fn)
                if callee is not None and id(callee) not in seen:
                    todo.append(callee)
            self.generic_visit(node)

    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        v = _Calls()
        for d in fn.stages():
            for e in tuple(d.args) + tuple(d.values):
                v.visit(e)
        todo.extend(getattr(fn, "wrappers", {}).values())
    return list(seen.values())


def _reads_image(fn, name: str) -> bool:
    from pipelang import ir
    found = []

    class _Reads(ir.IRVisitor):
        def visit_Call(self, node):
            if node.kind == ir.CallKind.IMAGE and node.fn.name == name:
                found.append(node)
            self.generic_visit(node)

    v = _Reads()
    for d in fn.stages():
        for e in tuple(d.args) + tuple(d.values):
            v.visit(e)
            if found:
                return True
    return False


def _mention(message: str, name: str):
    return re.search(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])", message)


def _add_note(exc: BaseException, note: str) -> None:
    if note not in getattr(exc, "__notes__", ()):
        exc.add_note(note)


def _stage_text(index: int) -> str:
    return "defined" if index == 0 else f"update {index - 1} defined"


def _locate(exc: HalideError, roots, call: str | None, site: Site | None) -> None:
    message = str(exc)
    if call is not None and site is not None:
        _add_note(exc, f"{call} at {site}")
    try:
        functions = _functions_of(roots)
    except Exception:   # locating is best effort: never hide the user's error behind ours
        functions = []
    named = sorted((m.start(), i, fn) for i, fn in enumerate(functions)
                   for m in [_mention(message, fn.name)] if m is not None)
    for _, _, fn in named:
        for text, index, where in _directives.get(fn, ()):
            method = text.split("(", 1)[0].rsplit(".", 1)[-1]
            if method in message or _is_schedule(exc) and method in _PLACEMENT:
                _add_note(exc, f"{text} at {where}")
        for index, where in _definitions.get(fn, ()):
            _add_note(exc, f'Func "{_display(fn.name)}" {_stage_text(index)} at {where}')
    buffer = re.match(r"(?:Input|Output) buffer (\S+) ", message)
    if buffer is not None:
        for fn in functions:
            if _reads_image(fn, buffer.group(1)):
                for index, where in _definitions.get(fn, ()):
                    _add_note(exc, f'{buffer.group(1)} is read by Func "{_display(fn.name)}" '
                                   f'{_stage_text(index)} at {where}')


_PLACEMENT = frozenset({"compute_at", "store_at", "compute_root", "store_root", "compute_inline",
                        "compute_with", "hoist_storage", "in_", "clone_in"})


def _is_schedule(exc) -> bool:
    from pipelang.errors import ScheduleError
    return isinstance(exc, ScheduleError)


# ---------------------------------------------------------------- tracebacks


def full_traceback() -> bool:
    return os.environ.get("PIPELANG_FULL_TRACEBACK", "") not in ("", "0")


def _filter(exc: BaseException) -> None:
    tb = exc.__traceback__
    kept, hidden = [], 0
    while tb is not None:
        if is_internal(tb.tb_frame.f_code.co_filename):
            hidden += 1
        else:
            kept.append(tb)
        tb = tb.tb_next
    if not hidden:
        return
    new = None
    for t in reversed(kept):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    exc.__traceback__ = new
    _add_note(exc, "(pipelang hid its own frames from this traceback; "
                   "set PIPELANG_FULL_TRACEBACK=1 to see them)")


def surface(exc: HalideError, roots=(), call: str | None = None, extra: str | None = None) -> None:
    """Prepare a HalideError leaving pipelang for user code: notes, then the
    traceback trimmed. The caller re-raises with a bare `raise` (which adds no
    frame of its own)."""
    if not getattr(exc, "_pipelang_located", False):
        exc._pipelang_located = True
        _locate(exc, roots, call, user_site(2))
        if extra is not None:
            _add_note(exc, extra)
    if not full_traceback():
        _filter(exc)


# ---------------------------------------------------------------- instrumentation


def api_boundary(method, roots=None, describe=None):
    """Wrap a public method: errors raised into user code get notes and a trimmed traceback."""
    name = method.__name__
    describe = describe or (lambda obj, args: _describe_call(obj, name, args))

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except HalideError as e:
            if _called_by_user(1):
                surface(e, roots(self) if roots else (self,), describe(self, args))
            raise
    wrapper.__pipelang_boundary__ = True
    return wrapper


def directive(method):
    """Wrap a schedule directive: record where the user called it."""
    name = method.__name__.rstrip("_") if method.__name__ == "in_" else method.__name__

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            out = method(self, *args, **kwargs)
        except HalideError as e:
            if _called_by_user(1):
                surface(e, (self,), _describe_call(self, name, args))
            raise
        if _called_by_user(1):
            fn = getattr(self, "function", None)
            if fn is not None:
                text = _describe_call(self, name, args)
                _directives.setdefault(fn, []).append((text, getattr(self, "index", 0), user_site(2)))
        return out
    wrapper.__pipelang_boundary__ = True
    return wrapper


def definition(method):
    """Wrap `Func.__setitem__`: record where each definition was written."""
    @functools.wraps(method)
    def wrapper(self, key, value):
        try:
            method(self, key, value)
        except HalideError as e:
            if _called_by_user(1):
                site = user_site(2)
                surface(e, (self,), None, f'in the definition of Func "{_display(self.name())}" '
                                          f'at {site}' if site is not None else None)
            raise
        if _called_by_user(1):
            fn = self.function
            _definitions.setdefault(fn, []).append((len(fn.stages()) - 1, user_site(2)))
    wrapper.__pipelang_boundary__ = True
    return wrapper


def instrument(cls, directives=(), boundaries=(), roots=None, inherited=False,
               describe=None) -> None:
    """Wrap `cls`'s methods named in `directives` and `boundaries` (those it has;
    with `inherited`, also those of its bases, set on `cls` alone)."""
    for names, wrap in ((directives, directive), (boundaries, lambda m: api_boundary(m, roots, describe))):
        for name in names:
            m = getattr(cls, name, None) if inherited else cls.__dict__.get(name)
            if m is None or getattr(m, "__pipelang_boundary__", False) or not callable(m):
                continue
            setattr(cls, name, wrap(m))


# FuncRef operators: `g[x] = f[x] + 1` with `f` undefined fails inside `+`.
OPERATORS = tuple(f"__{op}__" for op in (
    "add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "floordiv", "rfloordiv",
    "mod", "rmod", "pow", "rpow", "neg", "lt", "le", "gt", "ge", "eq", "ne", "and", "rand", "or",
    "ror", "xor", "rxor", "invert", "lshift", "rshift", "abs", "bool", "float", "int"))


def describe_ref(ref, args) -> str:
    key = ref.args if isinstance(ref.args, tuple) else (ref.args,)
    return f"{_display(ref.func.name())}[{', '.join(_arg_text(a) for a in key)}]"


# Directives shared by Func and Stage (only those a class defines get wrapped).
DIRECTIVES = (
    "split", "fuse", "rename", "reorder", "tile", "vectorize", "unroll", "parallel", "serial",
    "gpu_blocks", "gpu_threads", "gpu_lanes", "gpu", "gpu_single_thread", "gpu_tile", "rfactor",
    "atomic", "specialize", "specialize_fail", "compute_at", "store_at", "compute_root",
    "store_root", "compute_inline", "compute_with", "hoist_storage", "bound", "estimate",
    "set_estimate", "set_estimates", "align_bounds", "align_extent", "bound_extent",
    "reorder_storage", "fold_storage", "memoize", "ring_buffer", "store_in", "async_", "prefetch",
    "in_", "clone_in", "update", "trace_stores", "trace_loads", "trace_realizations",
    "vectorize_atomic", "unscheduled", "copy_to_host", "copy_to_device",
)
