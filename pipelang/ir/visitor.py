"""Generic traversal of the IR.

`IRVisitor.visit(node)` walks every child Expr/Stmt; subclasses override
`visit_<NodeName>` and call `self.generic_visit(node)` to keep walking.

`IRMutator.mutate(node)` rebuilds nodes bottom-up and returns the *same*
node when no child changed, so passes can test `new is old`. Subclasses
override `mutate_<NodeName>` and use `self.generic_mutate(node)`.
"""
from __future__ import annotations

import dataclasses

from pipelang.ir import nodes as N

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls) -> tuple[str, ...]:
    """Names of the fields of `cls` that may hold IR (Expr, Stmt, Range or tuples)."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(cls)
                       if f.name not in ("type", "sym", "fn", "buf", "kind", "op",
                                         "lanes", "message", "memory", "is_producer",
                                         "value_index", "types", "indices", "name"))
        _CHILD_FIELDS[cls] = fields
    return fields


def _is_ir(v) -> bool:
    return isinstance(v, (N.Expr, N.Stmt, N.Range))


class IRVisitor:
    def visit(self, node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is not None:
            return method(node)
        return self.generic_visit(node)

    def generic_visit(self, node):
        for name in _child_fields(type(node)):
            v = getattr(node, name)
            if isinstance(v, tuple):
                for item in v:
                    if _is_ir(item):
                        self.visit(item)
            elif _is_ir(v):
                self.visit(v)


class IRMutator:
    def mutate(self, node):
        method = getattr(self, "mutate_" + type(node).__name__, None)
        if method is not None:
            return method(node)
        return self.generic_mutate(node)

    def generic_mutate(self, node):
        changes = None
        for name in _child_fields(type(node)):
            v = getattr(node, name)
            if isinstance(v, tuple):
                new_items = tuple(self.mutate(i) if _is_ir(i) else i for i in v)
                if any(a is not b for a, b in zip(new_items, v)):
                    changes = changes or {}
                    changes[name] = new_items
            elif _is_ir(v):
                nv = self.mutate(v)
                if nv is not v:
                    changes = changes or {}
                    changes[name] = nv
        if changes is None:
            return node
        return dataclasses.replace(node, **changes)


class _Substitute(IRMutator):
    def __init__(self, mapping):
        self.mapping = mapping

    def mutate_Variable(self, node):
        return self.mapping.get(node.sym, node)


def substitute(mapping: dict, node):
    """Replace Variables by symbol: `mapping` is {Symbol: Expr}."""
    if not mapping:
        return node
    return _Substitute(mapping).mutate(node)


class _Uses(IRVisitor):
    def __init__(self):
        self.syms = set()

    def visit_Variable(self, node):
        self.syms.add(node.sym)


def free_symbols(node) -> set:
    """Symbols of every Variable in `node` (bound ones included)."""
    v = _Uses()
    v.visit(node)
    return v.syms


def tree_size_over(node, limit: int) -> bool:
    """Whether `node`, counted as a tree (shared subtrees once per use), has
    more than `limit` nodes; stops counting there."""
    count = 0
    stack = [node]
    while stack:
        n = stack.pop()
        count += 1
        if count > limit:
            return True
        for name in _child_fields(type(n)):
            v = getattr(n, name)
            if isinstance(v, tuple):
                stack.extend(item for item in v if _is_ir(item))
            elif _is_ir(v):
                stack.append(v)
    return False


def uses_symbol(node, sym) -> bool:
    return sym in free_symbols(node)
