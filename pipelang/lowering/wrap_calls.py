"""Redirect calls to wrapped Funcs (and images) to their `in_`/`clone_in` wrappers.

Runs first, on the Functions rather than on a Stmt: each consumer whose
calls change gets a copy with new definitions (sharing its schedule), so
the user's Funcs are never edited, and lowering sees the copies (Halide
deep-copies the whole environment for the same reason).

    f.in_(g)        g(x) = f(x) + 1      =>   g(x) = f_in_g$0(x) + 1
                                               f_in_g$0(x) = f(x)

A global wrapper (`f.in_()`) replaces f in every Func except f itself, its
own wrappers, and consumers that have a wrapper of their own. A wrapper of
a wrapper for the same consumer chains: g calls the outer one, which calls
the inner one, which calls f.
"""
from __future__ import annotations

import collections
import copy
import dataclasses

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.function import image_function_of


class _Calls(ir.IRVisitor):
    def __init__(self):
        self.funcs: list = []
        self.images: list = []

    def visit_Call(self, node):
        found = self.funcs if node.kind is ir.CallKind.FUNC else self.images
        if node.fn not in found:
            found.append(node.fn)
        self.generic_visit(node)


def _exprs(fn) -> list:
    out = []
    for d in fn.stages():
        out.extend(d.args)
        out.extend(d.values)
        for r in d.rvars:
            out.extend((r.min, r.extent))
        if d.predicate is not None:
            out.append(d.predicate)
    return out


def _calls(fn) -> _Calls:
    v = _Calls()
    for e in _exprs(fn):
        v.visit(e)
    return v


def _gather(outputs, registry) -> dict:
    """Every Function the outputs reach through calls or wrapper tables, by name."""
    seen: dict = {}
    stack = list(outputs)
    while stack:
        fn = stack.pop()
        if fn.name in seen:
            continue
        seen[fn.name] = fn
        calls = _calls(fn)
        stack.extend(registry[s] for s in calls.funcs)
        images = [image_function_of(s) for s in calls.images]
        stack.extend(fn for fn in images if fn is not None and fn.wrappers)
        stack.extend(fn.wrappers.values())
    return seen


def _insert(table: dict, wrapped, wrapper) -> None:
    """Record that calls of `wrapped` become calls of `wrapper`, merging chains."""
    for k, v in list(table.items()):
        if v is wrapped:                 # wrapping the wrapper: call the outer one
            table[k] = wrapper
            return
        if wrapper is k:                 # the wrapper is itself wrapped here
            del table[k]
            table[wrapped] = v
            return
    table[wrapped] = wrapper


class _Redirect(ir.IRMutator):
    def __init__(self, table: dict):
        self.funcs = {w.sym: t for w, t in table.items() if w.wraps_image is None}
        self.images = {w.wraps_image: t for w, t in table.items() if w.wraps_image is not None}

    def mutate_Call(self, node):
        node = self.generic_mutate(node)
        if node.kind is ir.CallKind.FUNC:
            t = self.funcs.get(node.fn)
            return node if t is None else dataclasses.replace(node, fn=t.sym)
        t = self.images.get(node.fn)
        if t is None:
            return node
        return ir.Call(node.type, t.sym, node.args, ir.CallKind.FUNC, 0)


def _redirected(fn, table: dict):
    m = _Redirect(table)
    out = copy.copy(fn)

    def redo(d):
        c = copy.copy(d)
        c.args = tuple(m.mutate(a) for a in d.args)
        c.values = tuple(m.mutate(v) for v in d.values)
        c.predicate = None if d.predicate is None else m.mutate(d.predicate)
        c.rvars = tuple(dataclasses.replace(r, min=m.mutate(r.min), extent=m.mutate(r.extent))
                        for r in d.rvars)
        return c

    out.init = redo(fn.init)
    out.updates = [redo(d) for d in fn.updates]
    before = _exprs(fn)
    if all(a is b for a, b in zip(before, _exprs(out))):
        return fn
    return out


def wrap_calls(outputs: list, registry) -> tuple:
    """(outputs, lookup): the outputs and a symbol -> Function mapping in which
    every consumer of a wrapped Func calls its wrapper instead."""
    env = _gather(outputs, registry)
    tables: dict = {name: {} for name in env}
    global_wrappers = set()
    for wrapped_name in sorted(env):
        wrapped = env[wrapped_name]
        own = {w.name for w in wrapped.wrappers.values()}
        for consumer, wrapper in sorted(wrapped.wrappers.items()):
            if consumer == "":
                global_wrappers.add(wrapper.name)
                for name in sorted(env):
                    if name == wrapped_name or name in own or name in wrapped.wrappers:
                        continue
                    _insert(tables[name], wrapped, wrapper)
            elif consumer in env:
                _insert(tables[consumer], wrapped, wrapper)
    copies = {}
    for name, table in tables.items():
        if not table:
            continue
        fn = env[name]
        new = _redirected(fn, table)
        callees = _calls(new).funcs
        for wrapped, wrapper in table.items():
            if wrapper.name not in global_wrappers and wrapper.sym not in callees:
                listing = "".join(f"  {registry[s].name}\n" for s in callees)
                raise ScheduleError(
                    f'Cannot wrap "{wrapped.name}" in "{name}" because "{name}" does not call '
                    f'"{wrapped.name}"\nDirect callees of "{name}" are:\n{listing}')
        if new is not fn:
            copies[fn.sym] = new
    if not copies:
        return outputs, registry
    return [copies.get(o.sym, o) for o in outputs], collections.ChainMap(copies, registry)
