"""Interval arithmetic over the IR: the range of values an Expr can take.

`bounds_of_expr(e, scope)` gives an `Interval` whose ends are Exprs over the
variables *outside* `scope`; each variable inside `scope` ranges over its
interval. It is exact for affine integer expressions and conservative
everywhere else, and it never lies: every value `e` takes lies inside.

    >>> x, a, b = Symbol("x"), Symbol("a"), Symbol("b")
    >>> bounds_of_expr(Sub(var(x), i32(1)), {x: Interval(var(a), var(b))})
    Interval(min=(a - 1), max=(b - 1))

An end of `None` means unbounded on that side. Int(32)/Int(64) arithmetic is
assumed not to overflow (Halide's rule); for narrow and unsigned types an
operation whose result range is not provably inside the type falls back to the
type's full range. Bounds of vector Exprs are scalar: they bound every lane.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from pipelang.ir import nodes as N
from pipelang.ir.nodes import (Add, Div, Max, Min, Mul, Sub, make_const)
from pipelang.ir.types import Type
from pipelang.ir.visitor import free_symbols, substitute, tree_size_over, uses_symbol
from pipelang.lowering.analysis.evaluate import int_div, is_lossless_cast, no_overflow
from pipelang.lowering.analysis.linear import linear_form


@dataclass(frozen=True)
class Interval:
    """[min, max], both inclusive; an end of None is unbounded."""
    min: N.Expr | None
    max: N.Expr | None

    @staticmethod
    def point(e: N.Expr) -> "Interval":
        """The single value `e`: `Interval.point(x)` is [x, x]."""
        return Interval(e, e)

    @staticmethod
    def everything() -> "Interval":
        return Interval(None, None)

    def is_bounded(self) -> bool:
        return self.min is not None and self.max is not None

    def has_lower_bound(self) -> bool:
        return self.min is not None

    def has_upper_bound(self) -> bool:
        return self.max is not None

    def is_single_point(self) -> bool:
        return self.min is not None and (self.min is self.max or self.min == self.max)


# An interval end (or an expanded let, in `boxes`) with more tree nodes than
# this is named by a let instead of being substituted into what uses it, as
# Halide names intermediate intervals: a deep pipeline whose bounds read
# both ends of the stage after (a ShiftInwards split does) would otherwise
# double the size of its bounds at every stage.
NAME_ABOVE = 48


def fresh_symbol(name: str) -> N.Symbol:
    """A new symbol for a named interval end (`name` is for printing)."""
    return N.Symbol(f"{name}.{next(_FRESH)}")


_FRESH = __import__("itertools").count()


def wrap_lets(e, named: dict):
    """`e` inside Lets for the symbols of `named` ({symbol: value}, values may
    use symbols defined before them) it uses, directly or through another."""
    if e is None or not named:
        return e
    need = free_symbols(e) & named.keys()
    if not need:
        return e
    work = list(need)
    while work:
        for s in free_symbols(named[work.pop()]) & named.keys():
            if s not in need:
                need.add(s)
                work.append(s)
    for sym in reversed(list(named)):
        if sym in need:
            e = N.Let(sym, named[sym], e)
    return e


def bounds_of_expr(expr: N.Expr, scope: dict | None = None, simplifier=None,
                   memo: dict | None = None) -> Interval:
    """The range of `expr` when each Symbol in `scope` ranges over its Interval.

    Variables not in `scope` are symbolic points:

        >>> bounds_of_expr(Add(Mul(var(x), i32(2)), var(y)), {x: Interval(i32(0), i32(9))})
        Interval(min=y, max=(y + 18))

    `simplifier`, a memo-mode `ExprSimplifier` the caller keeps (a box
    query's), simplifies the ends: the parts of `expr` it made are then
    known simplified and not walked again. `memo`, a dict the caller keeps
    while `scope` stays the same, remembers the interval of each node met
    (id(node) -> (node, Interval)): the caller's queries share subtrees.
    """
    return _Bounds(scope or {}, simplifier, memo).bounds(expr)


_value_bounds: dict = {}   # (Func symbol, value index) -> (its pure Definition, Interval)
_in_progress: set = set()


def func_value_bounds(sym, index: int = 0) -> Interval | None:
    """The range of a Func's value over all its arguments, or None if unknown
    (Halide's func_value_bounds): bounds of its pure definition's value with
    every pure var unbounded, for a Func with no update. A data-dependent
    index such as `f(x + g(x)[0])` with `g` clamping its value is bounded so.
    The symbols in the interval are the pipeline's parameters."""
    from pipelang.function import registry  # late: function imports the IR this module serves
    fn = registry.get(sym) if hasattr(registry, "get") else None
    if fn is None or not fn.defined() or fn.updates or index >= len(fn.init.values):
        return None
    hit = _value_bounds.get((sym, index))
    if hit is not None and hit[0] is fn.init:
        return hit[1]
    if sym in _in_progress:
        return None
    _in_progress.add(sym)
    try:
        scope = {a: Interval.everything() for a in fn.arg_syms()}
        iv = _Bounds(scope).bounds(fn.init.values[index])
    finally:
        _in_progress.discard(sym)
    if iv.min is None and iv.max is None:
        iv = None
    _value_bounds[(sym, index)] = (fn.init, iv)
    return iv


def interval_union(a: Interval, b: Interval) -> Interval:
    """The smallest interval holding both: [min(a.min, b.min), max(a.max, b.max)]."""
    simp = _simplifier()
    lo = None if a.min is None or b.min is None else simp.expr(Min(a.min, b.min))
    hi = None if a.max is None or b.max is None else simp.expr(Max(a.max, b.max))
    return Interval(lo, hi)


def interval_intersect(a: Interval, b: Interval) -> Interval:
    """The values in both: [max(a.min, b.min), min(a.max, b.max)] (may be empty)."""
    simp = _simplifier()
    lo = a.min if b.min is None else b.min if a.min is None else simp.expr(Max(a.min, b.min))
    hi = a.max if b.max is None else b.max if a.max is None else simp.expr(Min(a.max, b.max))
    return Interval(lo, hi)


def _simplifier():
    # Imported late: the simplifier itself uses this package's evaluator.
    from pipelang.lowering.simplify_exprs import ExprSimplifier
    return ExprSimplifier(memo=True)


def _const(e):
    if e is None:
        return None
    return N.const_value(e)


def _type_interval(t: Type) -> Interval:
    t = t.element_of()
    if t.is_float() or t.is_handle():
        return Interval.everything()
    return Interval(make_const(t, t.min_value()), make_const(t, t.max_value()))


def _wraps(t: Type) -> bool:
    return not t.is_float() and not no_overflow(t)


_B_RULES: dict = {}     # node class -> _Bounds' rule for it (None: none)
_MISSING = object()


class _Bounds:
    """One bounds query: `scope` maps symbols to their intervals (lets are added as met)."""

    def __init__(self, scope: dict, simplifier=None, memo: dict | None = None):
        self.scope = dict(scope)
        self.simp = simplifier or _simplifier()
        self.memo = memo
        self.in_lets = 0        # Lets entered: their bodies' intervals are not kept in `memo`

    def bounds(self, e: N.Expr) -> Interval:
        memo = self.memo
        if memo is not None and not self.in_lets:
            hit = memo.get(id(e))
            if hit is not None and hit[0] is e:
                return hit[1]
        cls = type(e)
        method = _B_RULES.get(cls, _MISSING)
        if method is _MISSING:      # (found by name once per node class)
            method = _B_RULES[cls] = getattr(_Bounds, "b_" + cls.__name__, None)
        if method is None:
            return _type_interval(e.type)
        iv = method(self, e)
        if memo is not None and not self.in_lets:
            memo[id(e)] = (e, iv)
        return iv

    # ------------------------------------------------ helpers on optional ends

    def s(self, e):
        return self.simp.expr(e)

    def _arith(self, cls, t: Type, a, b):
        """`a cls b` (Add, Sub or Mul) for ends that may be None (unbounded stays unbounded).

        Ends near the limits of Int(32)/Int(64) (a Load's range, say) would
        overflow when combined, and constant folding would wrap them into
        nonsense; such an end becomes unbounded instead.
        """
        if a is None or b is None:
            return None
        e = cls(a, b)
        if t.is_float():
            return self.s(e)
        lin = linear_form(e)       # exact: Int(32)/Int(64) coefficients never wrap here
        if lin.is_const():
            if not (t.min_value() <= lin.const <= t.max_value()):
                return None
            return make_const(t, lin.const)
        limit = 1 << (t.bits() - 2)
        if abs(lin.const) >= limit or any(abs(k) >= limit for _, k in lin.terms):
            return None
        return self.s(e)

    def _min(self, a, b):
        return None if a is None or b is None else self.s(Min(a, b))

    def _max(self, a, b):
        return None if a is None or b is None else self.s(Max(a, b))

    def _prove(self, cond) -> bool:
        return N.const_value(self.s(cond)) in (1, True)

    def _fit(self, t: Type, iv: Interval) -> Interval:
        """`iv` for a type that may wrap: kept only if its ends are constants inside the type."""
        if not _wraps(t):
            return iv
        lo, hi = _const(iv.min), _const(iv.max)
        if lo is None or hi is None or lo < t.min_value() or hi > t.max_value():
            return _type_interval(t)
        return iv

    def _exact(self, t: Type, cls, a: Interval, b: Interval):
        """For wrapping types: the interval of a cls b computed on Python ints, or None."""
        vals = [_const(a.min), _const(a.max), _const(b.min), _const(b.max)]
        if None in vals:
            return _type_interval(t)
        a0, a1, b0, b1 = vals
        if cls is Add:
            lo, hi = a0 + b0, a1 + b1
        elif cls is Sub:
            lo, hi = a0 - b1, a1 - b0
        else:
            corners = (a0 * b0, a0 * b1, a1 * b0, a1 * b1)
            lo, hi = min(corners), max(corners)
        if lo < t.min_value() or hi > t.max_value():
            return _type_interval(t)
        return Interval(make_const(t, lo), make_const(t, hi))

    # ------------------------------------------------ leaves

    def b_IntImm(self, e):
        return Interval.point(e)

    b_UIntImm = b_FloatImm = b_IntImm

    def b_Variable(self, e):
        iv = self.scope.get(e.sym)
        if iv is not None:
            return iv
        return Interval.point(N.Variable(e.type.element_of(), e.sym))

    def b_Load(self, e):
        return _type_interval(e.type)

    def b_Call(self, e):
        if e.kind is N.CallKind.FUNC:
            iv = func_value_bounds(e.fn, e.value_index)
            if iv is not None:
                return iv
        return _type_interval(e.type)

    def b_Broadcast(self, e):
        return self.bounds(e.value)

    def b_Ramp(self, e):
        t = e.base.type
        base, stride = self.bounds(e.base), self.bounds(e.stride)
        n = make_const(t, e.lanes - 1)
        last = Interval(self._arith(Add, t, base.min, self._arith(Mul, t, stride.min, n)),
                        self._arith(Add, t, base.max, self._arith(Mul, t, stride.max, n)))
        if _wraps(t):
            return self._exact(t, Add, base, self._exact(t, Mul, stride, Interval.point(n))
                               ) if stride.is_bounded() else _type_interval(t)
        c = _const(stride.min) if stride.is_single_point() else None
        if c is not None:
            return Interval(base.min, last.max) if c >= 0 else Interval(last.min, base.max)
        return Interval(self._min(base.min, last.min), self._max(base.max, last.max))

    def b_Shuffle(self, e):
        result = None
        for v in e.vectors:
            iv = self.bounds(v)
            result = iv if result is None else interval_union(result, iv)
        return result

    def b_Let(self, e):
        saved = self.scope.get(e.sym)
        iv = self.bounds(e.value)
        named = {}
        if e.value.type.is_scalar() and any(
                x is not None and tree_size_over(x, NAME_ABOVE) for x in (iv.min, iv.max)):
            # Big ends are bound once by a let, not copied into each use.
            t = e.value.type
            if iv.is_single_point():
                p = fresh_symbol(e.sym.name)
                named[p] = iv.min
                iv = Interval.point(N.Variable(t, p))
            else:
                ends = []
                for x, suffix in ((iv.min, ".min"), (iv.max, ".max")):
                    if x is not None and tree_size_over(x, NAME_ABOVE):
                        p = fresh_symbol(e.sym.name + suffix)
                        named[p] = x
                        x = N.Variable(t, p)
                    ends.append(x)
                iv = Interval(*ends)
        self.scope[e.sym] = iv
        self.in_lets += 1
        try:
            body = self.bounds(e.body)
            if named:
                body = Interval(wrap_lets(body.min, named), wrap_lets(body.max, named))
            return body
        finally:
            self.in_lets -= 1
            if saved is None:
                del self.scope[e.sym]
            else:
                self.scope[e.sym] = saved

    # ------------------------------------------------ arithmetic

    def b_Add(self, e):
        t = e.type.element_of()
        a, b = self.bounds(e.a), self.bounds(e.b)
        if _wraps(t):
            return self._exact(t, Add, a, b)
        return Interval(self._arith(Add, t, a.min, b.min), self._arith(Add, t, a.max, b.max))

    def b_Sub(self, e):
        t = e.type.element_of()
        a, b = self.bounds(e.a), self.bounds(e.b)
        if _wraps(t):
            return self._exact(t, Sub, a, b)
        return Interval(self._arith(Sub, t, a.min, b.max), self._arith(Sub, t, a.max, b.min))

    def b_Mul(self, e):
        t = e.type.element_of()
        a, b = self.bounds(e.a), self.bounds(e.b)
        if _wraps(t):
            return self._exact(t, Mul, a, b)
        if a.is_single_point() and _const(a.min) is not None:
            a, b = b, a
        c = _const(b.min) if b.is_single_point() else None
        if c is not None:
            if c == 0 and not t.is_float():
                return Interval.point(make_const(t, 0))
            lo, hi = self._arith(Mul, t, a.min, b.min), self._arith(Mul, t, a.max, b.min)
            return Interval(lo, hi) if c >= 0 else Interval(hi, lo)
        if a.is_bounded() and b.is_bounded():
            if a.is_single_point():
                a, b = b, a
            if b.is_single_point():
                p, q = self._arith(Mul, t, a.min, b.min), self._arith(Mul, t, a.max, b.min)
                return Interval(self._min(p, q), self._max(p, q))
            corners = [self._arith(Mul, t, x, y) for x in (a.min, a.max) for y in (b.min, b.max)]
            return Interval(self._min(self._min(corners[0], corners[1]),
                                      self._min(corners[2], corners[3])),
                            self._max(self._max(corners[0], corners[1]),
                                      self._max(corners[2], corners[3])))
        zero = make_const(t, 0)
        if (a.min is not None and b.min is not None
                and self._prove(N.LE(zero, a.min)) and self._prove(N.LE(zero, b.min))):
            return Interval(self._arith(Mul, t, a.min, b.min), self._arith(Mul, t, a.max, b.max))
        return Interval.everything() if t.is_float() or no_overflow(t) else _type_interval(t)

    def b_Div(self, e):
        t = e.type.element_of()
        a, b = self.bounds(e.a), self.bounds(e.b)
        if a.is_single_point() and b.is_single_point():
            return Interval.point(self.s(type(e)(a.min, b.min)))   # exact: nothing varies
        zero = make_const(t, 0)
        c = _const(b.min) if b.is_single_point() else None
        if c is not None:
            if c == 0:
                return Interval.point(zero) if not t.is_float() else Interval.everything()
            if c < 0 and _wraps(t):
                # Dividing the type's minimum by -1 wraps; compute on Python ints.
                lo, hi = _const(a.min), _const(a.max)
                if lo is None or hi is None:
                    return _type_interval(t)
                lo, hi = sorted((int_div(lo, c), int_div(hi, c)))
                if lo < t.min_value() or hi > t.max_value():
                    return _type_interval(t)
                return Interval(make_const(t, lo), make_const(t, hi))
            lo = None if a.min is None else self.s(Div(a.min, b.min))
            hi = None if a.max is None else self.s(Div(a.max, b.min))
            if c < 0 and not t.is_float() and _const(a.min) == t.min_value():
                lo = None       # the type's min divided by a negative number overflows
            return Interval(lo, hi) if c > 0 else Interval(hi, lo)
        if b.is_bounded():
            positive = self._prove(N.LT(zero, b.min))
            negative = (not positive and not _wraps(t)
                        and self._prove(N.LT(b.max, zero)))
            if positive or negative:
                # Monotone in each operand on this rectangle: the ends are at corners.
                lo_a, hi_a = (a.min, a.max) if positive else (a.max, a.min)
                lo = None if lo_a is None else self._min(self.s(Div(lo_a, b.min)),
                                                         self.s(Div(lo_a, b.max)))
                hi = None if hi_a is None else self._max(self.s(Div(hi_a, b.min)),
                                                         self.s(Div(hi_a, b.max)))
                return Interval(lo, hi)
        if b.is_single_point() and a.is_bounded() and t.is_float():
            # One divisor of unknown sign (a Param): for each sign the quotient is
            # monotone in a, so the ends are a's ends divided, ordered by that sign
            # (Halide's bounds of `val / r_sigma`). Integers keep the constant
            # bound |a| below.
            pos = N.LT(zero, b.min)
            lo, hi = self.s(Div(a.min, b.min)), self.s(Div(a.max, b.min))
            return Interval(self.s(N.Select(pos, lo, hi)), self.s(N.Select(pos, hi, lo)))
        if not t.is_float() and a.is_bounded():
            # |a / b| <= |a| for every b, including b == 0 (where the quotient is 0).
            m = None if _wraps(t) else self._max(a.max, self._arith(Sub, t, zero, a.min))
            if m is not None:
                return Interval(self._arith(Sub, t, zero, m), m)
        if t.is_float() or no_overflow(t):
            return Interval.everything()
        return _type_interval(t)

    def b_Mod(self, e):
        t = e.type.element_of()
        a, b = self.bounds(e.a), self.bounds(e.b)
        if a.is_single_point() and b.is_single_point():
            return Interval.point(self.s(type(e)(a.min, b.min)))   # exact: nothing varies
        zero = make_const(t, 0)
        c = _const(b.min) if b.is_single_point() else None
        if t.is_float():
            if c is not None and c > 0:
                return Interval(zero, b.min)
            return Interval.everything()
        if c is not None:
            if c == 0:
                return Interval.point(zero)
            m = abs(c)
            if a.is_bounded() and self._prove(N.And(N.LE(zero, a.min),
                                                    N.LT(a.max, make_const(t, m)))):
                return a
            return Interval(zero, make_const(t, m - 1))
        if b.is_bounded():
            one = make_const(t, 1)
            if self._prove(N.LE(zero, b.min)):
                top = self._arith(Sub, t, b.max, one)
            elif _wraps(t):
                return _type_interval(t)
            else:
                top = self._arith(Sub, t, self._max(b.max, self._arith(Sub, t, zero, b.min)), one)
            if top is not None:
                return Interval(zero, self._max(top, zero))
        return Interval(zero, None if no_overflow(t) else make_const(t, t.max_value()))

    def _min_max(self, e):
        a, b = self.bounds(e.a), self.bounds(e.b)
        if type(e) is Min:
            hi = a.max if b.max is None else b.max if a.max is None else self._min(a.max, b.max)
            return Interval(self._min(a.min, b.min), hi)
        lo = a.min if b.min is None else b.min if a.min is None else self._max(a.min, b.min)
        return Interval(lo, self._max(a.max, b.max))

    b_Min = b_Max = _min_max

    def b_Select(self, e):
        c = self.bounds(e.condition)
        if c.is_single_point() and _const(c.min) is not None:
            return self.bounds(e.true_value if _const(c.min) else e.false_value)
        return interval_union(self.bounds(e.true_value), self.bounds(e.false_value))

    # ------------------------------------------------ booleans

    def _bool(self, value) -> Interval:
        return Interval.point(make_const(N.Bool(), value))

    def _compare(self, e):
        a, b = self.bounds(e.a), self.bounds(e.b)
        cls = type(e)
        if cls is N.GT:
            cls, a, b = N.LT, b, a
        elif cls is N.GE:
            cls, a, b = N.LE, b, a
        if cls is N.LT or cls is N.LE:
            if a.max is not None and b.min is not None and self._prove(cls(a.max, b.min)):
                return self._bool(True)
            if (a.min is not None and b.max is not None
                    and self._prove((N.LE if cls is N.LT else N.LT)(b.max, a.min))):
                return self._bool(False)
        else:
            if a.is_single_point() and b.is_single_point() and self._prove(N.EQ(a.min, b.min)):
                return self._bool(cls is N.EQ)
            if ((a.max is not None and b.min is not None and self._prove(N.LT(a.max, b.min)))
                    or (b.max is not None and a.min is not None
                        and self._prove(N.LT(b.max, a.min)))):
                return self._bool(cls is N.NE)
        return Interval(make_const(N.Bool(), 0), make_const(N.Bool(), 1))

    b_EQ = b_NE = b_LT = b_LE = b_GT = b_GE = _compare

    def _logic(self, e):
        a, b = self.bounds(e.a), self.bounds(e.b)
        cls = type(e)
        return Interval(self.s(cls(a.min, b.min)), self.s(cls(a.max, b.max)))

    b_And = b_Or = _logic

    def b_Not(self, e):
        a = self.bounds(e.a)
        return Interval(self.s(N.Not(a.max)), self.s(N.Not(a.min)))

    # ------------------------------------------------ casts and intrinsics

    def b_Cast(self, e):
        to, frm = e.type.element_of(), e.value.type.element_of()
        a = self.bounds(e.value)
        if to.is_bool():
            if a.is_single_point() and _const(a.min) is not None:
                return self._bool(_const(a.min) != 0)
            return _type_interval(to)
        if frm.is_float() and a.is_single_point():  # one (symbolic) value, e.g. of float Params
            return Interval.point(self.s(N.Cast(to, a.min)))
        if to.is_float():
            # An end of a 32- or 64-bit integer that is its type's limit says
            # nothing (Halide's bounds_of_type leaves such types unbounded):
            # as a float it would be a huge constant whose later cast back to
            # an integer overflows (poison in LLVM), so leave it unbounded.
            wide = not frm.is_float() and frm.bits() >= 32

            def end(v, limit):
                if v is None or (wide and limit() != 0 and _const(v) == limit()):
                    return None
                return self.s(N.Cast(to, v))
            return Interval(end(a.min, frm.min_value), end(a.max, frm.max_value))
        if frm.is_float():
            lo, hi = _const(a.min), _const(a.max)
            if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
                tlo, thi = math.trunc(lo), math.trunc(hi)
                if to.min_value() <= tlo and thi <= to.max_value():
                    return Interval(make_const(to, tlo), make_const(to, thi))
            if to.is_int() and to.bits() >= 32 and (a.min is not None or a.max is not None):
                # Halide's rule: a cast to Int(32) or wider is assumed not to
                # overflow, so the (monotone) cast of the ends bounds it.
                whole = _type_interval(to)

                def end(v, limit):
                    k = _const(v) if v is not None else None
                    if v is None or (k is not None and not (
                            math.isfinite(k) and to.min_value() <= math.trunc(k) <= to.max_value())):
                        return limit        # a constant end past the type: its limit
                    return self.s(N.Cast(to, v))
                return Interval(end(a.min, whole.min), end(a.max, whole.max))
            return _type_interval(to)
        if is_lossless_cast(to, frm):
            src = _type_interval(frm)
            lo = a.min if a.min is not None else src.min
            hi = a.max if a.max is not None else src.max
            return Interval(self.s(N.Cast(to, lo)), self.s(N.Cast(to, hi)))
        lo, hi = _const(a.min), _const(a.max)
        if lo is not None and hi is not None and to.min_value() <= lo and hi <= to.max_value():
            return Interval(make_const(to, lo), make_const(to, hi))
        if a.is_bounded():
            lo = make_const(frm, max(to.min_value(), frm.min_value()))
            hi = make_const(frm, min(to.max_value(), frm.max_value()))
            if self._prove(N.And(N.LE(lo, a.min), N.LE(a.max, hi))):
                return Interval(self.s(N.Cast(to, a.min)), self.s(N.Cast(to, a.max)))
        return _type_interval(to)

    def b_Intrinsic(self, e):
        Op = N.Op
        t = e.type.element_of()
        op = e.op
        if op is Op.LIKELY or op is Op.STRICT_FLOAT:
            return self.bounds(e.args[0])
        if op in (Op.IS_NAN, Op.IS_INF, Op.IS_FINITE):
            return _type_interval(t)
        if op in (Op.FLOOR, Op.CEIL, Op.ROUND, Op.TRUNC, Op.EXP, Op.LOG, Op.SQRT):
            a = self.bounds(e.args[0])
            lo = None if a.min is None else self.s(N.Intrinsic(t, op, (a.min,)))
            hi = None if a.max is None else self.s(N.Intrinsic(t, op, (a.max,)))
            if op is Op.EXP and lo is None:
                lo = make_const(t, 0)
            if op is Op.SQRT:
                lo = make_const(t, 0)
            return Interval(lo, hi)
        if op in (Op.SIN, Op.COS, Op.TANH):
            return Interval(make_const(t, -1), make_const(t, 1))
        if op in (Op.POPCOUNT, Op.COUNT_LEADING_ZEROS, Op.COUNT_TRAILING_ZEROS):
            return Interval(make_const(t, 0), make_const(t, e.args[0].type.bits()))
        if t.is_float():
            if op is Op.ABS:
                a = self.bounds(e.args[0])
                zero = make_const(t, 0)
                hi = None if not a.is_bounded() else self.s(Max(a.max, Sub(zero, a.min)))
                return Interval(zero, hi)
            return Interval.everything()
        if op is Op.ABS or op is Op.ABSD:
            vals = [self.bounds(x) for x in e.args]
            ends = [_const(v.min) for v in vals] + [_const(v.max) for v in vals]
            if None not in ends:
                if op is Op.ABS:
                    lo, hi = ends
                    top = max(abs(lo), abs(hi))
                    bottom = 0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
                else:
                    a0, b0, a1, b1 = ends
                    top = max(abs(a1 - b0), abs(b1 - a0))
                    bottom = 0
                return Interval(make_const(t, bottom), make_const(t, min(top, t.max_value())))
            src = e.args[0].type.element_of()
            top = (1 << (src.bits() - 1)) if src.is_int() and op is Op.ABS else t.max_value()
            return Interval(make_const(t, 0), make_const(t, top))
        if op is Op.BITWISE_AND:
            for x in e.args:
                iv = self.bounds(x)
                c = _const(iv.max)
                if iv.is_single_point() and c is not None and c >= 0:
                    return Interval(make_const(t, 0), make_const(t, c))
        if op in (Op.SHIFT_LEFT, Op.SHIFT_RIGHT):
            k = _const(e.args[1]) if e.args[1].type.is_scalar() else N.const_value(e.args[1])
            if k is not None and 0 <= k < t.bits() - 1:
                cls = Mul if op is Op.SHIFT_LEFT else Div
                scaled = cls(e.args[0], make_const(e.args[0].type, 1 << k))
                return self.bounds(scaled)
        return _type_interval(t)


# ---------------------------------------------------------------- monotonicity

class Monotonic(enum.Enum):
    CONSTANT = "constant"
    INCREASING = "increasing"      # non-decreasing
    DECREASING = "decreasing"      # non-increasing
    UNKNOWN = "unknown"


def _flip(m: Monotonic) -> Monotonic:
    if m is Monotonic.INCREASING:
        return Monotonic.DECREASING
    if m is Monotonic.DECREASING:
        return Monotonic.INCREASING
    return m


def _combine(a: Monotonic, b: Monotonic) -> Monotonic:
    """The monotonicity of a sum of two functions."""
    if a is Monotonic.CONSTANT:
        return b
    if b is Monotonic.CONSTANT or a is b:
        return a
    return Monotonic.UNKNOWN


def is_monotonic(expr: N.Expr, sym: N.Symbol) -> Monotonic:
    """How `expr` changes as the variable `sym` grows, everything else fixed.

        >>> is_monotonic(Sub(i32(10), Mul(var(x), i32(2))), x)
        Monotonic.DECREASING
    """
    return _Monotonicity(sym).check(expr)


class _Monotonicity:
    def __init__(self, sym):
        self.sym = sym
        self.lets: dict = {}

    def check(self, e) -> Monotonic:
        cls = type(e)
        C, U = Monotonic.CONSTANT, Monotonic.UNKNOWN
        if cls is N.Variable:
            if e.sym is self.sym:
                return Monotonic.INCREASING
            return self.lets.get(e.sym, C)
        if cls in (N.IntImm, N.UIntImm, N.FloatImm, N.StringImm):
            return C
        t = e.type
        wraps = _wraps(t.element_of()) and not t.is_bool()
        if cls is Add or cls is Sub:
            a, b = self.check(e.a), self.check(e.b)
            if cls is Sub:
                b = _flip(b)
            m = _combine(a, b)
            return U if wraps and m is not C else m
        if cls is Mul:
            a, b = self.check(e.a), self.check(e.b)
            if a is C and b is C:
                return C
            if wraps:
                return U
            if a is C:
                a, b, e_const = b, a, e.a
            else:
                e_const = e.b
            if b is not C:
                return U
            c = N.const_value(e_const)
            if c is None:
                return U
            return C if c == 0 else a if c > 0 else _flip(a)
        if cls is Div:
            a, b = self.check(e.a), self.check(e.b)
            if a is C and b is C:
                return C
            c = N.const_value(e.b)
            if b is C and c is not None and c != 0:
                return a if c > 0 else _flip(a)
            return U
        if cls is Min or cls is Max:
            a, b = self.check(e.a), self.check(e.b)
            if a is C:
                return b
            if b is C or a is b:
                return a
            return U
        if cls is N.Select:
            c = self.check(e.condition)
            a, b = self.check(e.true_value), self.check(e.false_value)
            if c is C:
                if a is C:
                    return b
                if b is C or a is b:
                    return a
            return C if c is C and a is C and b is C else U
        if cls is N.Cast:
            a = self.check(e.value)
            if a is C:
                return C
            # Widening and float casts keep the order; narrowing integer casts may wrap.
            return a if is_lossless_cast(e.type, e.value.type) or e.type.is_float() else U
        if cls is N.Let:
            m = self.check(e.value)
            if m is U and uses_symbol(e.body, e.sym):
                return self._correlated_let(e)
            self.lets[e.sym] = m
            try:
                return self.check(e.body)
            finally:
                del self.lets[e.sym]
        if cls is N.Broadcast:
            return self.check(e.value)
        if cls is N.Ramp:
            return _combine(self.check(e.base), C if self.check(e.stride) is C else U)
        if cls in (N.LT, N.LE, N.GT, N.GE):
            a, b = self.check(e.a), self.check(e.b)
            if cls in (N.GT, N.GE):
                a, b = b, a
            # a < b is increasing (false -> true) when b - a increases.
            return _combine(_flip(a), b)
        if cls is N.And or cls is N.Or:
            return _combine(self.check(e.a), self.check(e.b))
        if cls is N.Not:
            return _flip(self.check(e.a))
        if cls is N.Intrinsic and e.op is N.Op.LIKELY:
            return self.check(e.args[0])
        if uses_symbol(e, self.sym) or any(uses_symbol(e, s) for s, m in self.lets.items()
                                           if m is not C):
            return U
        return C

    def _correlated_let(self, e) -> Monotonic:
        """A let whose value moves either way, like a loop extent `max - min + 1`
        that bounds inference named: its body may still be monotonic once the
        value is put back, when the body cancels what moves (`min + extent - 1`
        is `max`). Only this let is substituted -- the names its value uses
        stay names, so nested lets are never expanded into each other -- and
        the body is simplified (Halide's SlidingWindow expands and simplifies
        the region's lets instead)."""
        from pipelang.lowering.simplify import simplify
        body = simplify(substitute({e.sym: e.value}, e.body))
        if uses_symbol(body, e.sym):
            return Monotonic.UNKNOWN
        return self.check(body)
