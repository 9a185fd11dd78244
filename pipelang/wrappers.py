"""`Func.in_` and `Func.clone_in`: wrapper Funcs that stand for a Func (or an
ImageParam) in some or all of its consumers.

`f.in_(g)` makes `f_in_g$N(x, y) = f(x, y)` and records it in `f`'s wrapper
table under "g"; lowering (`pipelang.lowering.wrap_calls`) then rewrites g's
calls of f into calls of the wrapper, which is scheduled like any Func.
`f.in_()` is the global wrapper, used by every consumer without one of its
own; `f.clone_in(g)` makes a copy of f's whole definition and schedule
instead of a call. Names and reuse follow Halide: `$N` counts the entries
already in the table, and asking again for the same consumer returns the
same wrapper.
"""
from __future__ import annotations

import copy
import dataclasses

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.function import Function, image_function_of, touch


def image_function(sym: ir.Symbol, t: ir.Type, dims: int, name: str) -> Function:
    """The Function `<name>_im(_0, _1, ...) = image(_0, _1, ...)` standing for an
    input image, which owns the image's wrapper table (Halide's ImageParam func)."""
    fn = image_function_of(sym)
    if fn is None:
        from pipelang.buffer import field_owner
        from pipelang.var import Var
        args = [Var.implicit(i).name() for i in range(dims)]
        fn = Function(f"{name}_im", ir.Symbol(f"{name}_im"), wraps_image=sym)
        fn.define_pure(args, (ir.Call(t, sym, _arg_vars(args), ir.CallKind.IMAGE),))
        field_owner[ir.buffer_host(sym)]._im_function = fn
    return fn


def _arg_vars(args: list) -> tuple:
    from pipelang.var import var_symbol
    return tuple(ir.Variable(ir.Int(32), var_symbol(a)) for a in args)


def wrapper_of(wrapped: Function, consumers, clone: bool) -> Function:
    """The wrapper of `wrapped` for `consumers` (None: global; a Func; a list of
    Funcs), made on first request."""
    what = "clone" if clone else "in"
    if consumers is None:
        if clone:
            raise ScheduleError(f'clone_in of Func "{wrapped.name}" needs the Func(s) to clone it in')
        fs, base = [], f"{wrapped.name}_global_wrapper"
    elif isinstance(consumers, (list, tuple)):
        if not consumers:
            raise ScheduleError(f"Could not create a {what} wrapper for an empty list of Funcs")
        fs, base = [_function(c) for c in consumers], wrapped.name + ("_clone" if clone else "_wrapper")
    else:
        fs = [_function(consumers)]
        base = f"{wrapped.name}_{'clone_in' if clone else 'in'}_{fs[0].name}"
    if not wrapped.defined():
        raise ScheduleError(f'Can\'t create a wrapper of Func "{wrapped.name}" because it is undefined.')
    table = wrapped.wrappers
    existing = table.get(fs[0].name if fs else "")
    if existing is not None:
        _validate(wrapped, fs, existing)
        return existing
    for f in fs[1:]:
        if f.name in table:
            raise ScheduleError(f"Cannot define the wrapper since {f.name} already has a wrapper "
                                f"while {fs[0].name} doesn't")
    name = f"{base}${len(table)}"
    w = _clone(wrapped, name) if clone else _call_wrapper(wrapped, name)
    if not fs:
        table[""] = w
    for f in fs:
        if f.name == wrapped.name:
            raise ScheduleError(f'Cannot create wrapper of itself ("{wrapped.name}")')
        table[f.name] = w
    touch()
    return w


def _function(f) -> Function:
    fn = getattr(f, "function", None)
    if not isinstance(fn, Function):
        raise ScheduleError(f"in_/clone_in take a Func or a list of Funcs, not {f!r}")
    return fn


def _validate(wrapped: Function, fs: list, wrapper: Function) -> None:
    """Every Func of `fs` must share `wrapper`, and no Func outside them may."""
    if not fs:
        return
    names = {f.name for f in fs}
    for consumer, w in wrapped.wrappers.items():
        if consumer == fs[0].name:
            continue
        if consumer in names and w is not wrapper:
            raise ScheduleError(f"{consumer} should have shared the same wrapper as {fs[0].name}")
        if consumer not in names and w is wrapper:
            raise ScheduleError(f"Redefinition of shared wrapper [{wrapped.name} -> {wrapper.name}] "
                                f"in {fs[0].name} is illegal since {consumer} shares the same "
                                f"wrapper but is not part of the redefinition")


def _call_wrapper(wrapped: Function, name: str) -> Function:
    w = Function(name, ir.Symbol(name))
    args = _arg_vars(wrapped.args)
    if wrapped.wraps_image is not None:
        values = (ir.Call(wrapped.output_types[0], wrapped.wraps_image, args, ir.CallKind.IMAGE),)
    else:
        values = tuple(ir.Call(t, wrapped.sym, args, ir.CallKind.FUNC, i)
                       for i, t in enumerate(wrapped.output_types))
    w.define_pure(list(wrapped.args), values)
    return w


class _Rename(ir.IRMutator):
    def __init__(self, old, new):
        self.old, self.new = old, new

    def mutate_Call(self, node):
        node = self.generic_mutate(node)
        if node.kind is ir.CallKind.FUNC and node.fn is self.old:
            return dataclasses.replace(node, fn=self.new)
        return node


def _clone(wrapped: Function, name: str) -> Function:
    """A copy of `wrapped`'s definitions and schedule under a new name; its
    calls to itself (update definitions) call the copy."""
    if wrapped.wraps_image is not None:
        raise ScheduleError(f"clone_in of an ImageParam ({wrapped.name}) is not supported: "
                            f"use in_() to wrap an input")
    w = Function(name, ir.Symbol(name), args=list(wrapped.args), output_types=wrapped.output_types,
                 required_types=wrapped.required_types, required_dims=wrapped.required_dims)
    rename = _Rename(wrapped.sym, w.sym)

    def copy_definition(d):
        c = copy.copy(d)
        c.args = tuple(rename.mutate(a) for a in d.args)
        c.values = tuple(rename.mutate(v) for v in d.values)
        c.predicate = None if d.predicate is None else rename.mutate(d.predicate)
        c.schedule = d.schedule.copy()
        return c

    w.init = copy_definition(wrapped.init)
    w.updates = [copy_definition(d) for d in wrapped.updates]
    s = wrapped.schedule
    w.schedule = dataclasses.replace(s, bounds=list(s.bounds), storage_dims=list(s.storage_dims),
                                     fold_factors=dict(s.fold_factors))
    return w
