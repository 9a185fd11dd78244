"""Resolving a loop extent to a constant through the lets that define it.

After simplification, a loop's extent is often a variable bound by a chain
of lets (`f.s0.x.x.loop_extent = (f.s0.x.loop_extent + 15)/16`, ...) whose
expanded value is constant (`48 + 15)/16 = 3`) even though no single let is.
`LetScope` collects the expanded values of the lets around a statement, so
unrolling and vectorization can see through them.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.ir.visitor import _child_fields, tree_size_over
from pipelang.lowering.simplify import simplify


# An expanded let larger than this (in tree nodes) is left as its symbol: a
# loop extent that is constant never needs one, and expanding every let of a
# deep pipeline (its bounds) would cost more than the rest of lowering.
_EXPAND_AT_MOST = 2000

_MISSING = object()


class LetScope:
    """The lets around a statement. A let is expanded (through the lets it
    uses, and simplified) only when a constant is asked for that needs it,
    then kept until it goes out of scope."""

    def __init__(self):
        self.values: dict = {}       # symbol -> value as written (in terms of outer lets)
        self._expanded: dict = {}    # symbol -> value with outer lets expanded

    def push(self, sym, value):
        """Bind `sym`; returns what to pass to `pop`."""
        old = self.values.get(sym, _MISSING)
        rewritten = None
        if old is not _MISSING:
            # Rebinding a symbol in scope: what was written under the old
            # binding (this value included) gets that binding substituted in.
            rewritten = {}
            for k, v in self.values.items():
                if k is not sym and sym in ir.free_symbols(v):
                    rewritten[k] = v
                    self.values[k] = ir.substitute({sym: old}, v)
            value = ir.substitute({sym: old}, value)
            self._expanded.clear()
        self.values[sym] = value
        self._expanded.pop(sym, None)
        return sym, old, rewritten

    def pop(self, token):
        sym, old, rewritten = token
        self._expanded.pop(sym, None)
        if old is _MISSING:
            del self.values[sym]
        else:
            self.values[sym] = old
            self.values.update(rewritten)
            self._expanded.clear()

    def constant(self, e, max_nodes: int | None = None):
        """The Python value of `e` with the lets expanded, or None.

        With `max_nodes`, a cheap guess: None, without expanding anything,
        when `e` with the lets it uses expanded would be a tree of more than
        `max_nodes` nodes -- for questions such as "is this loop's extent 1?"
        asked of every loop, where the deep bounds chains of a pipeline's
        outer loops are never constant but cost most of lowering to expand.
        (Counted as a tree: lets written in terms of other lets, each small,
        can still expand to a large tree.)"""
        v = ir.const_value(e)
        if v is None and self.values:
            if max_nodes is not None and self._expanded_size(e, max_nodes, {}) > max_nodes:
                return None
            v = ir.const_value(self._expand(e))
        return v

    def _expanded_size(self, e, limit: int, sizes: dict) -> int:
        """Nodes of `e` as a tree with the lets in scope expanded, counted up
        to `limit + 1`; `sizes` remembers each let's."""
        count = 0
        stack = [e]
        while stack:
            n = stack.pop()
            if type(n) is ir.Variable and n.sym in self.values:
                size = sizes.get(n.sym)
                if size is None:
                    size = sizes[n.sym] = self._expanded_size(self.values[n.sym], limit, sizes)
                count += size
            else:
                count += 1
                for name in _child_fields(type(n)):
                    v = getattr(n, name)
                    if isinstance(v, tuple):
                        stack.extend(i for i in v if isinstance(i, ir.Expr))
                    elif isinstance(v, ir.Expr):
                        stack.append(v)
            if count > limit:
                return limit + 1
        return count

    def _expand(self, e):
        used = ir.free_symbols(e) & self.values.keys()
        if used:
            e = ir.substitute({s: self._expansion(s) for s in used}, e)
        return simplify(e)

    def _expansion(self, sym):
        v = self._expanded.get(sym)
        if v is None:
            v = self._expand(self.values[sym])
            if tree_size_over(v, _EXPAND_AT_MOST):
                v = ir.Variable(v.type, sym)
            self._expanded[sym] = v
        return v


class LetTrackingMutator(ir.IRMutator):
    """An IRMutator that keeps `self.lets` (a LetScope) of the LetStmts around
    the node it is at, for passes that need loop extents as constants."""

    def __init__(self):
        self.lets = LetScope()

    def mutate_LetStmt(self, node):
        value = self.mutate(node.value)
        token = self.lets.push(node.sym, value)
        body = self.mutate(node.body)
        self.lets.pop(token)
        if value is node.value and body is node.body:
            return node
        return ir.LetStmt(node.sym, value, body)
