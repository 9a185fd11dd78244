"""Reverse-mode differentiation of one expression.

`expr_adjoints(value, seed)` walks `value` from the root down and returns,
for every leaf that can carry a gradient (a call to a Func or an input
buffer, or a scalar Param), the adjoint that flows into it: `seed` times the
partial derivative of `value` with respect to that leaf.

    value = f(x) * p + exp(g(x + 1))
    -> [(f(x), seed * p), (p, seed * f(x)), (g(x + 1), seed * exp(g(x + 1)))]

Integer-valued paths carry no gradient (as in Halide): an index, a
comparison, a cast from an integer type or a rounding function stops the
walk. Min and max pass the adjoint to each side that attains the result,
both on a tie, as Halide's Derivative.cpp does.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.param import param_owner

Op = ir.Op


def _c(t: ir.Type, v) -> ir.Expr:
    return ir.make_const(t, v)


def _zero(t):
    return _c(t, 0)


def _float_call(op: Op, *args) -> ir.Expr:
    return ir.Intrinsic(args[0].type, op, tuple(args))


def _select(cond, a, b):
    return ir.Select(cond, a, b)


class _Leaf:
    """A gradient target met in an expression: a Call (Func or buffer) or a Param."""
    __slots__ = ("node", "adjoint")

    def __init__(self, node, adjoint):
        self.node = node
        self.adjoint = adjoint


def _inline_lets(e):
    """Front-end expressions rarely hold Lets; substituting them keeps the walk a tree walk."""
    class _Inline(ir.IRMutator):
        def mutate_Let(self, node):
            body = self.mutate(node.body)
            return ir.substitute({node.sym: self.mutate(node.value)}, body)
    return _Inline().mutate(e)


def expr_adjoints(value: ir.Expr, seed: ir.Expr) -> list:
    """[(leaf, adjoint)] for every Func/buffer call and Param in `value`."""
    out: list = []
    _walk(_inline_lets(value), seed, out)
    return [(leaf.node, leaf.adjoint) for leaf in out]


def _walk(e: ir.Expr, adj: ir.Expr, out: list) -> None:
    t = e.type
    if not t.is_float():
        return
    if isinstance(e, (ir.FloatImm, ir.IntImm, ir.UIntImm)):
        return
    if isinstance(e, ir.Call):
        out.append(_Leaf(e, adj))
        return
    if isinstance(e, ir.Variable):
        if e.sym in param_owner:
            out.append(_Leaf(e, adj))
        return
    if isinstance(e, ir.Add):
        _walk(e.a, adj, out)
        _walk(e.b, adj, out)
    elif isinstance(e, ir.Sub):
        _walk(e.a, adj, out)
        _walk(e.b, ir.Sub(_zero(t), adj), out)
    elif isinstance(e, ir.Mul):
        _walk(e.a, ir.Mul(adj, e.b), out)
        _walk(e.b, ir.Mul(adj, e.a), out)
    elif isinstance(e, ir.Div):
        _walk(e.a, ir.Div(adj, e.b), out)
        _walk(e.b, ir.Sub(_zero(t), ir.Div(ir.Mul(adj, e.a), ir.Mul(e.b, e.b))), out)
    elif isinstance(e, ir.Min):
        _walk(e.a, _select(ir.LE(e.a, e.b), adj, _zero(t)), out)
        _walk(e.b, _select(ir.LE(e.b, e.a), adj, _zero(t)), out)
    elif isinstance(e, ir.Max):
        _walk(e.a, _select(ir.GE(e.a, e.b), adj, _zero(t)), out)
        _walk(e.b, _select(ir.GE(e.b, e.a), adj, _zero(t)), out)
    elif isinstance(e, ir.Select):
        _walk(e.true_value, _select(e.condition, adj, _zero(t)), out)
        _walk(e.false_value, _select(e.condition, _zero(t), adj), out)
    elif isinstance(e, ir.Cast):
        if e.value.type.is_float():
            _walk(e.value, ir.Cast(e.value.type, adj), out)
    elif isinstance(e, ir.Intrinsic):
        _intrinsic(e, adj, out)
    elif isinstance(e, ir.Mod):
        # a mod b = a - b * floor(a / b): d/da = 1, d/db = -floor(a / b)
        _walk(e.a, adj, out)
        _walk(e.b, ir.Mul(adj, ir.Sub(_zero(t), _float_call(Op.FLOOR, ir.Div(e.a, e.b)))), out)
    else:
        from pipelang.autodiff.errors import NotDifferentiableError
        raise NotDifferentiableError(
            f"Can't differentiate the expression {ir.to_string(e)} ({type(e).__name__})")


def _intrinsic(e: ir.Intrinsic, adj: ir.Expr, out: list) -> None:
    t = e.type
    a = e.args[0] if e.args else None
    one = _c(t, 1)
    op = e.op
    if op in (Op.FLOOR, Op.CEIL, Op.ROUND, Op.TRUNC, Op.IS_NAN, Op.IS_INF, Op.IS_FINITE):
        return
    if op is Op.LIKELY:
        _walk(a, adj, out)
    elif op is Op.EXP:
        _walk(a, ir.Mul(adj, e), out)
    elif op is Op.LOG:
        _walk(a, ir.Div(adj, a), out)
    elif op is Op.SQRT:
        _walk(a, ir.Div(ir.Mul(adj, _c(t, 0.5)), e), out)
    elif op is Op.SIN:
        _walk(a, ir.Mul(adj, _float_call(Op.COS, a)), out)
    elif op is Op.COS:
        _walk(a, ir.Sub(_zero(t), ir.Mul(adj, _float_call(Op.SIN, a))), out)
    elif op is Op.TAN:
        c = _float_call(Op.COS, a)
        _walk(a, ir.Div(adj, ir.Mul(c, c)), out)
    elif op is Op.ASIN:
        _walk(a, ir.Div(adj, _float_call(Op.SQRT, ir.Sub(one, ir.Mul(a, a)))), out)
    elif op is Op.ACOS:
        _walk(a, ir.Sub(_zero(t), ir.Div(adj, _float_call(Op.SQRT, ir.Sub(one, ir.Mul(a, a))))), out)
    elif op is Op.ATAN:
        _walk(a, ir.Div(adj, ir.Add(one, ir.Mul(a, a))), out)
    elif op is Op.ATAN2:
        y, x = e.args
        r2 = ir.Add(ir.Mul(x, x), ir.Mul(y, y))
        _walk(y, ir.Div(ir.Mul(adj, x), r2), out)
        _walk(x, ir.Sub(_zero(t), ir.Div(ir.Mul(adj, y), r2)), out)
    elif op is Op.SINH:
        _walk(a, ir.Mul(adj, _float_call(Op.COSH, a)), out)
    elif op is Op.COSH:
        _walk(a, ir.Mul(adj, _float_call(Op.SINH, a)), out)
    elif op is Op.TANH:
        _walk(a, ir.Mul(adj, ir.Sub(one, ir.Mul(e, e))), out)
    elif op is Op.ASINH:
        _walk(a, ir.Div(adj, _float_call(Op.SQRT, ir.Add(ir.Mul(a, a), one))), out)
    elif op is Op.ACOSH:
        _walk(a, ir.Div(adj, _float_call(Op.SQRT, ir.Sub(ir.Mul(a, a), one))), out)
    elif op is Op.ATANH:
        _walk(a, ir.Div(adj, ir.Sub(one, ir.Mul(a, a))), out)
    elif op is Op.POW:
        x, y = e.args
        # d/dx x^y = y x^(y-1); d/dy x^y = x^y log(x)
        _walk(x, ir.Mul(adj, ir.Mul(y, _float_call(Op.POW, x, ir.Sub(y, one)))), out)
        _walk(y, ir.Mul(adj, ir.Mul(e, _float_call(Op.LOG, x))), out)
    elif op is Op.ABS:
        _walk(a, _select(ir.GE(a, _zero(t)), adj, ir.Sub(_zero(t), adj)), out)
    elif op is Op.ABSD:
        x, y = e.args
        s = _select(ir.GE(x, y), adj, ir.Sub(_zero(t), adj))
        _walk(x, s, out)
        _walk(y, ir.Sub(_zero(t), s), out)
    elif op is Op.PRINT:
        _walk(a, adj, out)
    else:
        from pipelang.autodiff.errors import NotDifferentiableError
        raise NotDifferentiableError(f"Can't differentiate {op.value}() in {ir.to_string(e)}")
