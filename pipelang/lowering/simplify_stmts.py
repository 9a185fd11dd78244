"""The statement half of the simplifier (the public verb is `simplify.simplify`).

Removes what provably does nothing and the control flow that constant
conditions decide: loops of extent 0 vanish and loops of extent 1 become a
`LetStmt`; `if` on a constant keeps one branch; Blocks are flattened; asserts
that hold and `Evaluate`s of constants are dropped. A loop with constant
bounds tells the expression rules its variable's range:

    for (x, 0, 8) { if (x < 8) { f[x] = x + 0 } }   ->   for (x, 0, 8) { f[x] = x }
"""
from __future__ import annotations

from pipelang.ir import nodes as N
from pipelang.ir.visitor import free_symbols, substitute
from pipelang.lowering.simplify_exprs import ExprSimplifier, _CONSTS

NO_OP = N.Evaluate(N.i32(0))


def _equalities(cond, facts: dict) -> dict:
    """`var == constant` conjuncts of `cond`, which hold inside `if (cond)`
    (Halide's simplifier learns them too): a specialization on
    `input.dim(0).stride() == 1` then gets dense vector loads in its branch."""
    if type(cond) is N.And:
        _equalities(cond.a, facts)
        _equalities(cond.b, facts)
    elif type(cond) is N.EQ:
        a, b = cond.a, cond.b
        if type(b) is N.Variable and type(a) in _CONSTS:
            a, b = b, a
        if type(a) is N.Variable and type(b) in _CONSTS:
            facts[a.sym] = b
    return facts


def is_no_op(s) -> bool:
    return s is None or (type(s) is N.Evaluate and type(s.value) in _CONSTS)


class Simplifier(ExprSimplifier):
    """Simplifies statements and the expressions inside them."""

    def stmt(self, s: N.Stmt) -> N.Stmt:
        return getattr(self, "st_" + type(s).__name__)(s)

    def visit_body(self, body):
        if isinstance(body, N.Stmt):
            return self.stmt(body)
        return self.expr(body)

    def st_LetStmt(self, s):
        return self.let_chain(s)

    def st_AssertStmt(self, s):
        cond = self.expr(s.condition)
        c = N.const_value(cond)
        if c is not None and c:
            return NO_OP
        args = tuple(self.expr(a) for a in s.args)
        if cond is s.condition and all(x is y for x, y in zip(args, s.args)):
            return s
        return N.AssertStmt(cond, s.message, args)

    def st_For(self, s):
        mn, extent = self.expr(s.min), self.expr(s.extent)
        n = N.const_value(extent)
        if n is not None and n <= 0:
            return NO_OP
        if n == 1 and s.kind is not N.ForKind.GPU_BLOCK:   # (one block is still a GPU kernel)
            # A loop of one iteration is its body with the variable bound to the min.
            return self.let_chain(N.LetStmt(s.sym, mn, s.body))
        lo, _ = self.const_bounds(mn)
        _, hi = self.const_bounds(mn)
        _, ext_hi = self.const_bounds(extent)
        self.var_bounds[s.sym] = (lo, None if hi is None or ext_hi is None else hi + ext_hi - 1)
        self._touch(s.sym)
        try:
            body = self.stmt(s.body)
        finally:
            del self.var_bounds[s.sym]
            self._touch(s.sym)
        if is_no_op(body):
            return NO_OP
        if mn is s.min and extent is s.extent and body is s.body:
            return s
        return N.For(s.sym, mn, extent, s.kind, body)

    def st_Store(self, s):
        value, index = self.expr(s.value), self.expr(s.index)
        if value is s.value and index is s.index:
            return s
        return N.Store(s.buf, value, index)

    def st_Provide(self, s):
        values = tuple(self.expr(v) for v in s.values)
        args = tuple(self.expr(a) for a in s.args)
        if all(x is y for x, y in zip(values + args, s.values + s.args)):
            return s
        return N.Provide(s.fn, values, args)

    def st_Allocate(self, s):
        size = self.expr(s.size)
        body = self.stmt(s.body)
        if is_no_op(body):
            return NO_OP
        if size is s.size and body is s.body:
            return s
        return N.Allocate(s.buf, s.type, size, s.memory, body)

    def st_Realize(self, s):
        bounds = tuple(self._range(r) for r in s.bounds)
        body = self.stmt(s.body)
        if is_no_op(body):
            return NO_OP
        if body is s.body and all(x is y for x, y in zip(bounds, s.bounds)):
            return s
        return N.Realize(s.fn, s.types, bounds, body)

    def st_Prefetch(self, s):
        args = tuple(self.expr(a) for a in s.args)
        if all(x is y for x, y in zip(args, s.args)):
            return s
        return N.Prefetch(s.fn, s.type, args, s.kind, s.value_index)

    def st_PrefetchAddress(self, s):
        index = self.expr(s.index)
        return s if index is s.index else N.PrefetchAddress(s.buf, s.type, index)

    def _range(self, r):
        mn, extent = self.expr(r.min), self.expr(r.extent)
        return r if mn is r.min and extent is r.extent else N.Range(mn, extent)

    def st_ProducerConsumer(self, s):
        body = self.stmt(s.body)
        if is_no_op(body):
            return NO_OP
        return s if body is s.body else N.ProducerConsumer(s.fn, s.is_producer, body)

    def st_Atomic(self, s):
        body = self.stmt(s.body)
        if is_no_op(body):
            return NO_OP
        return s if body is s.body else N.Atomic(s.fn, body)

    def st_Memoized(self, s):
        key = tuple(self.expr(k) for k in s.key)
        sizes = tuple(self.expr(n) for n in s.sizes)
        body = self.stmt(s.body)
        if body is s.body and all(x is y for x, y in zip(key + sizes, s.key + s.sizes)):
            return s
        return N.Memoized(s.fn, key, s.buffers, sizes, body)

    def st_Block(self, s):
        out = []
        changed = False
        for sub in s.stmts:
            new = self.stmt(sub)
            changed |= new is not sub
            if is_no_op(new):
                changed = True
            elif type(new) is N.Block:
                out.extend(new.stmts)
                changed = True
            else:
                out.append(new)
        if not changed:
            return s
        if not out:
            return NO_OP
        return out[0] if len(out) == 1 else N.Block(tuple(out))

    def st_IfThenElse(self, s):
        cond = self.expr(s.condition)
        c = N.const_value(cond)
        if c is not None:
            branch = s.then_case if c else s.else_case
            return NO_OP if branch is None else self.stmt(branch)
        facts = _equalities(cond, {})
        if facts:
            self._through_lets(facts)
        then_case = self.stmt(substitute(facts, s.then_case) if facts else s.then_case)
        else_case = None if s.else_case is None else self.stmt(s.else_case)
        if is_no_op(else_case):
            else_case = None
        if is_no_op(then_case):
            if else_case is None:
                return NO_OP
            return N.IfThenElse(self.expr(N.Not(cond)), else_case, None)
        if cond is s.condition and then_case is s.then_case and else_case is s.else_case:
            return s
        return N.IfThenElse(cond, then_case, else_case)

    def _through_lets(self, facts: dict) -> None:
        """Extend `facts` to the enclosing lets whose values use them, outermost
        first, so that `let c.max = out.min.2 + out.extent.2 - 1` outside
        `if (out.extent.2 == 3)` reads as `out.min.2 + 2` inside it."""
        lets = [(sym, rep, syms) for sym, (rep, syms) in self.bindings.items()]
        lets += [(sym, value, None) for sym, value in self.enclosing_lets.items()]
        for sym, value, syms in lets:
            if not (syms if syms is not None else free_symbols(value)).isdisjoint(facts):
                facts[sym] = substitute(facts, value)

    def st_Evaluate(self, s):
        value = self.expr(s.value)
        if type(value) in _CONSTS:
            return NO_OP if value != NO_OP.value else s if s == NO_OP else NO_OP
        return s if value is s.value else N.Evaluate(value)
