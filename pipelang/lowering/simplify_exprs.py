"""The expression half of the simplifier (the public verb is `simplify.simplify`).

One bottom-up pass: each node's children are simplified first, then a few
rules fire on the node itself, so the work is linear in the size of the IR
(times the depth of `+`/`-` chains, which are re-read as linear forms).

Integer sums are put in a canonical linear form: terms in order of first
appearance, like terms collected, constants outermost on the right:

    ((a + 3) - 1) + (b - a)   ->   b + 2
    x*4 + x*4                 ->   x*8

Addition, subtraction and multiplication are ring operations, so collecting
terms is exact for every integer type, wrapping ones included. Rules that
need "no overflow" (comparisons of linear forms, division and min/max by
offsets) fire only for Int(32) and Int(64), as in Halide. Floats are only
constant-folded.
"""
from __future__ import annotations

import dataclasses
import math

from pipelang.ir import nodes as N
from pipelang.ir.nodes import (Add, Broadcast, Cast, Div, EQ, Max, Min, Mod, Mul, NE, LE,
                               LT, Ramp, Select, Sub, make_const)
from pipelang.ir.types import Type
from pipelang.ir.visitor import free_symbols
from pipelang.lowering.analysis.evaluate import (fold_binary, fold_cast, fold_compare,
                                                 int_div, int_mod, no_overflow, _intrinsic)

_CONSTS = (N.IntImm, N.UIntImm, N.FloatImm)
_BOUNDS_DEPTH = 4


def _scalar_const(e):
    """The value of a scalar constant, else None."""
    return e.value if type(e) in _CONSTS else None


def _const(e):
    """The value of a scalar constant or a broadcast of one, else None."""
    if type(e) is Broadcast:
        e = e.value
    return e.value if type(e) in _CONSTS else None


def _is_int(t: Type) -> bool:
    return (t.is_int() or t.is_uint()) and not t.is_bool()


def _same(a, b) -> bool:
    """Structural equality, cheap when the operands share subtrees.

    Unlike `==` it tells 0.0 from -0.0 (which Python's float `==` does not),
    and it treats a NaN constant as equal to itself.
    """
    if a is b:
        return True
    cls = type(a)
    if cls is not type(b):
        return False
    if cls is N.Variable:
        return a.sym is b.sym and a.type == b.type
    if cls is N.FloatImm:
        return a.type == b.type and _float_key(a.value) == _float_key(b.value)
    if cls is N.IntImm or cls is N.UIntImm:
        return a.value == b.value and a.type == b.type
    for name in _field_names(cls):
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, N.Expr):
            if not _same(x, y):
                return False
        elif isinstance(x, tuple):
            if len(x) != len(y) or not all(
                    _same(i, j) if isinstance(i, N.Expr) else i == j for i, j in zip(x, y)):
                return False
        elif x is not y and x != y:
            return False
    return True


def _float_key(v: float):
    return "nan" if v != v else (v, math.copysign(1.0, v))


_FIELD_NAMES: dict = {}


def _field_names(cls) -> tuple:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _signed(t: Type, v: int) -> int:
    """`v` reduced to the signed range of `t`'s width (wrapping types only)."""
    if no_overflow(t):
        return v
    bits = t.bits()
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


def _type_range(t: Type):
    return t.min_value(), t.max_value()


# ---------------------------------------------------------------- linear forms

class _Linear:
    """sum(k * term) + const, with terms compared structurally."""
    __slots__ = ("terms", "const", "t")

    def __init__(self, t: Type):
        self.terms: list = []      # [term, coefficient] pairs
        self.const = 0
        self.t = t

    def add(self, e, k: int) -> None:
        cls = type(e)
        if cls is N.IntImm or cls is N.UIntImm:
            self.const += k * e.value
        elif cls is Add:
            self.add(e.a, k)
            self.add(e.b, k)
        elif cls is Sub:
            self.add(e.a, k)
            self.add(e.b, -k)
        elif cls is Mul and type(e.b) in (N.IntImm, N.UIntImm):
            self.add(e.a, k * e.b.value)
        else:
            for pair in self.terms:
                if _same(pair[0], e):
                    pair[1] += k
                    return
            self.terms.append([e, k])

    def normalize(self) -> "_Linear":
        t = self.t
        self.terms = [[e, _signed(t, k)] for e, k in self.terms if _signed(t, k) != 0]
        self.const = _signed(t, self.const)
        return self

    def is_const(self) -> bool:
        return not self.terms

    def build(self) -> N.Expr:
        """The canonical Expr: positive terms, then negative ones, then the constant."""
        t = self.t
        acc = None
        for e, k in self.terms:
            if k > 0:
                term = e if k == 1 else Mul(e, make_const(t, k))
                acc = term if acc is None else Add(acc, term)
        const = self.const
        if acc is None:
            if not self.terms:
                return make_const(t, const)
            if const == 0 and len(self.terms) == 1 and self.terms[0][1] != -1:
                return Mul(self.terms[0][0], make_const(t, self.terms[0][1]))
            acc, const = make_const(t, const), 0
        for e, k in self.terms:
            if k < 0:
                acc = Sub(acc, e if k == -1 else Mul(e, make_const(t, -k)))
        if const > 0:
            acc = Add(acc, make_const(t, const))
        elif const < 0:
            acc = Sub(acc, make_const(t, -const))
        return acc


def linear_form(e: N.Expr) -> _Linear:
    lin = _Linear(e.type)
    lin.add(e, 1)
    return lin.normalize()


def _difference(a: N.Expr, b: N.Expr) -> _Linear:
    lin = _Linear(a.type)
    lin.add(a, 1)
    lin.add(b, -1)
    return lin.normalize()


def _same_shape(new, old) -> bool:
    """Whether a rebuilt sum is the one we started from (its atoms are shared)."""
    if new is old:
        return True
    cls = type(new)
    if cls is not type(old):
        return False
    if cls is Add or cls is Sub or cls is Mul:
        return _same_shape(new.a, old.a) and _same_shape(new.b, old.b)
    return _same(new, old)


# ---------------------------------------------------------------- the simplifier

class ExprSimplifier:
    """Simplifies Exprs; `bindings` replaces variables, `var_bounds` knows constant ranges."""

    def __init__(self):
        self.bindings: dict = {}      # Symbol -> (simplified Expr to use instead, its symbols)
        self.var_bounds: dict = {}    # Symbol -> (lo, hi), ints or None
        # Every symbol a Variable in the output may refer to. Lets whose symbol
        # is not here are dead; a use later folded away keeps its let, harmlessly.
        self.used: set = set()

    def expr(self, e: N.Expr) -> N.Expr:
        return getattr(self, _METHODS[type(e)])(e)

    # ------------------------------------------------ constant bounds

    def const_bounds(self, e: N.Expr, depth: int = _BOUNDS_DEPTH):
        """(lo, hi) Python ints bounding an integer `e` (None where unknown)."""
        t = e.type
        if not _is_int(t) and not t.is_bool():
            return None, None
        default = (None, None) if no_overflow(t) else _type_range(t)
        cls = type(e)
        if cls is N.IntImm or cls is N.UIntImm:
            return e.value, e.value
        if t.is_bool():
            return 0, 1
        if cls is N.Variable:
            b = self.var_bounds.get(e.sym)
            return b if b is not None else default
        if depth == 0:
            return default
        depth -= 1
        if cls is Broadcast:
            return self.const_bounds(e.value, depth)
        if cls is Ramp:
            blo, bhi = self.const_bounds(e.base, depth)
            slo, shi = self.const_bounds(e.stride, depth)
            n = e.lanes - 1
            lo = None if blo is None or slo is None else blo + min(0, slo * n)
            hi = None if bhi is None or shi is None else bhi + max(0, shi * n)
            return _fit(t, lo, hi, default)
        if cls is Add or cls is Sub:
            alo, ahi = self.const_bounds(e.a, depth)
            blo, bhi = self.const_bounds(e.b, depth)
            if cls is Sub:
                blo, bhi = (None if bhi is None else -bhi), (None if blo is None else -blo)
            lo = None if alo is None or blo is None else alo + blo
            hi = None if ahi is None or bhi is None else ahi + bhi
            return _fit(t, lo, hi, default)
        if cls is Mul:
            alo, ahi = self.const_bounds(e.a, depth)
            blo, bhi = self.const_bounds(e.b, depth)
            if None in (alo, ahi, blo, bhi):
                return default
            corners = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
            return _fit(t, min(corners), max(corners), default)
        if cls is Div:
            c = _const(e.b)
            alo, ahi = self.const_bounds(e.a, depth)
            if c is not None and c > 0:
                lo = None if alo is None else alo // c
                hi = None if ahi is None else ahi // c
                return _fit(t, lo, hi, default)
            return default
        if cls is Mod:
            blo, bhi = self.const_bounds(e.b, depth)
            if blo is None or bhi is None:
                return _fit(t, 0, None, default)
            alo, ahi = self.const_bounds(e.a, depth)
            m = max(abs(blo), abs(bhi))
            if alo is not None and ahi is not None and 0 <= alo and ahi < m and blo > 0:
                return alo, ahi
            return 0, max(m - 1, 0)
        if cls is Min or cls is Max:
            alo, ahi = self.const_bounds(e.a, depth)
            blo, bhi = self.const_bounds(e.b, depth)
            pick = min if cls is Min else max
            # min: the lower end is unknown if either is; the upper end known if either is.
            if cls is Min:
                lo = None if alo is None or blo is None else pick(alo, blo)
                hi = ahi if bhi is None else bhi if ahi is None else pick(ahi, bhi)
            else:
                lo = alo if blo is None else blo if alo is None else pick(alo, blo)
                hi = None if ahi is None or bhi is None else pick(ahi, bhi)
            return lo, hi
        if cls is Select:
            alo, ahi = self.const_bounds(e.true_value, depth)
            blo, bhi = self.const_bounds(e.false_value, depth)
            lo = None if alo is None or blo is None else min(alo, blo)
            hi = None if ahi is None or bhi is None else max(ahi, bhi)
            return lo, hi
        if cls is Cast:
            ft = e.value.type
            if _is_int(ft) or ft.is_bool():
                lo, hi = self.const_bounds(e.value, depth)
                return _fit(t, lo, hi, _type_range(t))
            return _type_range(t)
        if cls is N.Let:
            return self.const_bounds(e.body, depth)
        if cls is N.Intrinsic:
            if e.op is N.Op.LIKELY:
                return self.const_bounds(e.args[0], depth)
            if e.op is N.Op.BITWISE_AND:
                for x in e.args:
                    c = _const(x)
                    if c is not None and c >= 0:
                        return 0, c
        return default

    def _provably(self, cmp_cls, a, b):
        """True/False when the constant bounds of `a` and `b` decide `a cmp b`, else None."""
        alo, ahi = self.const_bounds(a)
        blo, bhi = self.const_bounds(b)
        if cmp_cls is LT:
            if ahi is not None and blo is not None and ahi < blo:
                return True
            if alo is not None and bhi is not None and alo >= bhi:
                return False
        elif cmp_cls is LE:
            if ahi is not None and blo is not None and ahi <= blo:
                return True
            if alo is not None and bhi is not None and alo > bhi:
                return False
        elif cmp_cls is EQ or cmp_cls is NE:
            if ((ahi is not None and blo is not None and ahi < blo)
                    or (alo is not None and bhi is not None and alo > bhi)):
                return cmp_cls is NE
        return None

    def _sign_of_linear(self, lin: _Linear):
        """(lo, hi) constant bounds of a linear form (None where unknown)."""
        lo = hi = lin.const
        for e, k in lin.terms:
            tlo, thi = self.const_bounds(e)
            if k < 0:
                tlo, thi = (None if thi is None else thi * k), (None if tlo is None else tlo * k)
            else:
                tlo, thi = (None if tlo is None else tlo * k), (None if thi is None else thi * k)
            lo = None if lo is None or tlo is None else lo + tlo
            hi = None if hi is None or thi is None else hi + thi
        return lo, hi

    # ------------------------------------------------ leaves

    def _leaf(self, e):
        return e

    def s_Variable(self, e):
        bound = self.bindings.get(e.sym)
        if bound is None:
            self.used.add(e.sym)
            return e
        self.used.update(bound[1])
        return bound[0]

    # ------------------------------------------------ arithmetic

    def s_Add(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(t, fold_binary(Add, t.element_of(), ca, cb))
        if t.is_vector():
            v = self._vector_arith(Add, a, b)
            if v is not None:
                return v
        if _is_int(t):
            if cb == 0:
                return a
            if ca == 0:
                return b
            if t.is_scalar():
                return self._canonical_sum(e, a, b)
        return _rebuild2(e, a, b)

    def s_Sub(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(t, fold_binary(Sub, t.element_of(), ca, cb))
        if t.is_vector():
            v = self._vector_arith(Sub, a, b)
            if v is not None:
                return v
        if _is_int(t):
            if cb == 0:
                return a
            if _same(a, b):
                return make_const(t, 0)
            if t.is_scalar():
                return self._canonical_sum(e, a, b)
        return _rebuild2(e, a, b)

    def _canonical_sum(self, e, a, b):
        old = _rebuild2(e, a, b)
        new = linear_form(old).build()
        return old if _same_shape(new, old) else new

    def s_Mul(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(t, fold_binary(Mul, t.element_of(), ca, cb))
        if t.is_vector():
            v = self._vector_arith(Mul, a, b)
            if v is not None:
                return v
        if not _is_int(t):
            return _rebuild2(e, a, b)
        if ca is not None:
            a, b, ca, cb = b, a, cb, ca
        if cb == 0:
            return make_const(t, 0)
        if cb == 1:
            return a
        if cb is not None and t.is_scalar():
            lin = linear_form(a)
            if lin.const != 0 or type(a) is Mul or len(lin.terms) <= 1:
                # Distribute into sums with a constant: (x + 2)*3 -> x*3 + 6.
                for pair in lin.terms:
                    pair[1] *= cb
                lin.const *= cb
                new = lin.normalize().build()
                old = _rebuild2(e, a, b)
                return old if _same_shape(new, old) else new
        return _rebuild2(e, a, b)

    def s_Div(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(t, fold_binary(Div, t.element_of(), ca, cb))
        if not _is_int(t):
            return _rebuild2(e, a, b)
        if cb == 1:
            return a
        if cb == 0 or ca == 0:
            return make_const(t, 0)
        if t.is_vector():
            v = self._vector_div_mod(Div, a, b)
            if v is not None:
                return v
        if cb is not None and cb > 0:
            lo, hi = self.const_bounds(a)
            if lo is not None and hi is not None and lo // cb == hi // cb:
                return make_const(t, lo // cb)
            if no_overflow(t) and t.is_scalar():
                return self._div_linear(e, a, b, cb)
        return _rebuild2(e, a, b)

    def _div_linear(self, e, a, b, c):
        """(x*c*k + r)/c -> x*k + r/c, exact for Euclidean division by c > 0."""
        t = e.type
        if type(a) is Div and _const(a.b) is not None and _const(a.b) > 0:
            return self.expr(Div(a.a, make_const(t, _const(a.b) * c)))
        lin = linear_form(a)
        quot = _Linear(t)
        rest = _Linear(t)
        for term, k in lin.terms:
            if k % c == 0:
                quot.terms.append([term, k // c])
            else:
                rest.terms.append([term, k])
        quot.const, rest.const = divmod(lin.const, c)
        if not rest.terms:
            return quot.normalize().build()
        g = c
        for _, k in rest.terms:
            g = math.gcd(g, k)
        g = math.gcd(g, rest.const)
        if not quot.terms and quot.const == 0 and g == 1:
            return _rebuild2(e, a, b)
        if g > 1:
            for pair in rest.terms:
                pair[1] //= g
            rest.const //= g
            c //= g
        rest_e = rest.normalize().build()
        lo, hi = self.const_bounds(rest_e)
        if lo is not None and hi is not None and lo // c == hi // c:
            quot.const += lo // c
            return quot.normalize().build()
        q = Div(rest_e, make_const(t, c))
        if not quot.terms and quot.const == 0:
            return q
        quot.terms.append([q, 1])
        return quot.normalize().build()

    def s_Mod(self, e):
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(t, fold_binary(Mod, t.element_of(), ca, cb))
        if not _is_int(t):
            return _rebuild2(e, a, b)
        if cb == 0 or ca == 0 or (cb is not None and abs(cb) == 1):
            return make_const(t, 0)
        if t.is_vector():
            v = self._vector_div_mod(Mod, a, b)
            if v is not None:
                return v
        if cb is not None:
            m = abs(cb)
            lo, hi = self.const_bounds(a)
            if lo is not None and hi is not None and 0 <= lo and hi < m:
                return a
            if type(a) is Mod and _const(a.b) is not None and _const(a.b) % m == 0:
                return self.expr(Mod(a.a, b))
            if no_overflow(t) and t.is_scalar():
                lin = linear_form(a)
                rest = _Linear(t)
                rest.terms = [[x, k] for x, k in lin.terms if k % m != 0]
                rest.const = lin.const % m
                if not rest.terms:
                    return make_const(t, rest.const)
                if len(rest.terms) < len(lin.terms) or rest.const != lin.const:
                    return _rebuild2(e, rest.normalize().build(), b)
        return _rebuild2(e, a, b)

    def _min_max(self, e):
        cls = type(e)
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(t, fold_binary(cls, t.element_of(), ca, cb))
        if _same(a, b):
            return a
        if t.is_vector():
            if type(a) is Broadcast and type(b) is Broadcast:
                return Broadcast(self.expr(cls(a.value, b.value)), a.lanes)
        if not _is_int(t):
            return _rebuild2(e, a, b)
        if ca is not None:
            a, b, ca, cb = b, a, cb, ca
        other = Max if cls is Min else Min
        # min(x, max(x, y)) -> x, and the same with the roles swapped.
        if type(b) is other and (_same(b.a, a) or _same(b.b, a)):
            return a
        if type(a) is other and (_same(a.a, b) or _same(a.b, b)):
            return b
        # min(min(x, y), x) -> min(x, y)
        if type(a) is cls and (_same(a.a, b) or _same(a.b, b)):
            return a
        if type(b) is cls and (_same(b.a, a) or _same(b.b, a)):
            return b
        # Constant bounds decide it.
        first = self._provably(LE, a, b)
        if first is not None:
            return (a if first else b) if cls is Min else (b if first else a)
        if no_overflow(t) and t.is_scalar():
            d = _difference(a, b)
            if d.is_const():
                return (a if d.const <= 0 else b) if cls is Min else (b if d.const <= 0 else a)
            lo, hi = self._sign_of_linear(d)
            if hi is not None and hi <= 0:
                return a if cls is Min else b
            if lo is not None and lo >= 0:
                return b if cls is Min else a
        # min(min(x, c1), c2) -> min(x, min(c1, c2))
        if cb is not None and type(a) is cls and _const(a.b) is not None:
            c = fold_binary(cls, t.element_of(), _const(a.b), cb)
            return cls(a.a, make_const(t, c))
        return _rebuild2(e, a, b)

    s_Min = s_Max = _min_max

    # ------------------------------------------------ comparisons and logic

    def _compare(self, e):
        cls = type(e)
        a, b = self.expr(e.a), self.expr(e.b)
        if cls is N.GT:
            cls, a, b = LT, b, a
        elif cls is N.GE:
            cls, a, b = LE, b, a
        t = a.type
        out = N.Bool(t.lanes())
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(out, fold_compare(cls, ca, cb))
        if t.is_vector() and type(a) is Broadcast and type(b) is Broadcast:
            return Broadcast(self.expr(cls(a.value, b.value)), a.lanes)
        if not _is_int(t) and not t.is_bool():
            return _rebuild_cmp(e, cls, a, b)
        if _same(a, b):
            return make_const(out, cls is EQ or cls is LE)
        known = self._provably(cls, a, b)
        if known is not None:
            return make_const(out, known)
        if t.is_scalar() and _is_int(t) and (no_overflow(t) or cls is EQ or cls is NE):
            d = _difference(a, b)
            if d.is_const():
                return make_const(out, fold_compare(cls, d.const, 0))
            if no_overflow(t):
                lo, hi = self._sign_of_linear(d)
                known = _decide(cls, lo, hi)
                if known is not None:
                    return make_const(out, known)
            return self._canonical_compare(e, cls, a, b, d)
        return _rebuild_cmp(e, cls, a, b)

    s_EQ = s_NE = s_LT = s_LE = s_GT = s_GE = _compare

    def _canonical_compare(self, e, cls, a, b, d: _Linear):
        """P - N + c cmp 0  ->  P cmp N - c, with a constant side on the right."""
        t = a.type
        lhs, rhs = _Linear(t), _Linear(t)
        for term, k in d.terms:
            (lhs.terms.append([term, k]) if k > 0 else rhs.terms.append([term, -k]))
        if lhs.terms:
            rhs.const = -d.const
        else:
            lhs.const = d.const
        new_a, new_b = lhs.normalize().build(), rhs.normalize().build()
        if not lhs.terms and cls in (EQ, NE):
            new_a, new_b = new_b, new_a
        if _same_shape(new_a, a) and _same_shape(new_b, b):
            return _rebuild_cmp(e, cls, a, b)
        return cls(new_a, new_b)

    def s_And(self, e):
        return self._logic(e, N.And)

    def s_Or(self, e):
        return self._logic(e, N.Or)

    def _logic(self, e, cls):
        a, b = self.expr(e.a), self.expr(e.b)
        ca, cb = _const(a), _const(b)
        absorbing = 0 if cls is N.And else 1
        if ca is not None:
            return make_const(e.type, absorbing) if ca == absorbing else b
        if cb is not None:
            return make_const(e.type, absorbing) if cb == absorbing else a
        if _same(a, b):
            return a
        if type(a) is Broadcast and type(b) is Broadcast:
            return Broadcast(self.expr(cls(a.value, b.value)), a.lanes)
        return _rebuild2(e, a, b)

    def s_Not(self, e):
        a = self.expr(e.a)
        ca = _const(a)
        if ca is not None:
            return make_const(e.type, not ca)
        cls = type(a)
        if cls is N.Not:
            return a.a
        if cls is Broadcast:
            return Broadcast(self.expr(N.Not(a.value)), a.lanes)
        if cls is EQ:
            return NE(a.a, a.b)
        if cls is NE:
            return EQ(a.a, a.b)
        if (cls is LT or cls is LE) and not a.a.type.is_float():
            return (LE if cls is LT else LT)(a.b, a.a)
        return e if a is e.a else N.Not(a)

    def s_Select(self, e):
        c = self.expr(e.condition)
        tv, fv = self.expr(e.true_value), self.expr(e.false_value)
        cc = _const(c)
        if cc is not None:
            return tv if cc else fv
        if _same(tv, fv):
            return tv
        if type(c) is N.Not:
            c, tv, fv = c.a, fv, tv
        if type(tv) is Select and _same(tv.condition, c):
            tv = tv.true_value
        if type(fv) is Select and _same(fv.condition, c):
            fv = fv.false_value
        t = tv.type
        if t.is_bool() and c.type == t:
            ct, cf = _const(tv), _const(fv)
            if ct == 1 and cf == 0:
                return c
            if ct == 0 and cf == 1:
                return self.expr(N.Not(c))
        if (type(c) is Broadcast and type(tv) is Broadcast and type(fv) is Broadcast):
            return Broadcast(self.expr(Select(c.value, tv.value, fv.value)), tv.lanes)
        if c is e.condition and tv is e.true_value and fv is e.false_value:
            return e
        return Select(c, tv, fv)

    # ------------------------------------------------ casts and vectors

    def s_Cast(self, e):
        v = self.expr(e.value)
        t = e.type
        if v.type == t:
            return v
        cv = _const(v)
        if cv is not None:
            return make_const(t, fold_cast(t.element_of(), v.type.element_of(), cv))
        if type(v) is Broadcast:
            return Broadcast(self.expr(Cast(t.element_of(), v.value)), v.lanes)
        if type(v) is Cast and _contains(v.type, v.value.type):
            return self.expr(Cast(t, v.value))
        if (type(v) is Ramp and no_overflow(v.type) and t.is_int()
                and t.bits() >= v.type.bits()):
            et = t.element_of()
            return self.expr(Ramp(Cast(et, v.base), Cast(et, v.stride), v.lanes))
        return e if v is e.value else Cast(t, v)

    def s_Ramp(self, e):
        base, stride = self.expr(e.base), self.expr(e.stride)
        if _const(stride) == 0:
            return Broadcast(base, e.lanes)
        if base is e.base and stride is e.stride:
            return e
        return Ramp(base, stride, e.lanes)

    def s_Broadcast(self, e):
        v = self.expr(e.value)
        return e if v is e.value else Broadcast(v, e.lanes)

    def _vector_arith(self, cls, a, b):
        """Broadcast/Ramp operands of a vector Add, Sub or Mul folded into one Ramp/Broadcast."""
        ta, tb = type(a), type(b)
        if ta is Broadcast and tb is Broadcast:
            return Broadcast(self.expr(cls(a.value, b.value)), a.lanes)
        if not _is_int(a.type):
            return None
        n = a.type.lanes()
        if cls is Mul:
            if ta is Broadcast:
                a, b, ta, tb = b, a, tb, ta
            if ta is Ramp and tb is Broadcast:
                return self._ramp(self.expr(Mul(a.base, b.value)),
                                  self.expr(Mul(a.stride, b.value)), n)
            return None
        if ta is Ramp and tb is Ramp:
            return self._ramp(self.expr(cls(a.base, b.base)),
                              self.expr(cls(a.stride, b.stride)), n)
        if ta is Ramp and tb is Broadcast:
            return self._ramp(self.expr(cls(a.base, b.value)), a.stride, n)
        if ta is Broadcast and tb is Ramp:
            stride = b.stride if cls is Add else self.expr(Sub(make_const(b.stride.type, 0),
                                                               b.stride))
            return self._ramp(self.expr(cls(a.value, b.base)), stride, n)
        # (v + ramp) + broadcast and friends: push the broadcast into the Ramp.
        if cls is Add and tb is Broadcast and type(a) is Add and type(a.b) is Ramp:
            return self.expr(Add(a.a, Add(a.b, b)))
        return None

    def _ramp(self, base, stride, lanes):
        if _const(stride) == 0:
            return Broadcast(base, lanes)
        return Ramp(base, stride, lanes)

    def _vector_div_mod(self, cls, a, b):
        ta, tb = type(a), type(b)
        if ta is Broadcast and tb is Broadcast:
            return Broadcast(self.expr(cls(a.value, b.value)), a.lanes)
        if ta is not Ramp or tb is not Broadcast or not no_overflow(a.type):
            return None
        c, s = _const(b.value), _const(a.stride)
        if c is None or c <= 0 or s is None:
            return None
        t = a.base.type
        if s % c == 0:
            # Every lane has the same remainder: ramp(x, c*k)/c == ramp(x/c, k).
            if cls is Div:
                return self._ramp(self.expr(Div(a.base, b.value)), make_const(t, s // c), a.lanes)
            return Broadcast(self.expr(Mod(a.base, b.value)), a.lanes)
        if s > 0:
            # ramp(x*c + r, s) with r + s*(lanes-1) < c stays inside one multiple of c.
            lin = linear_form(a.base)
            if all(k % c == 0 for _, k in lin.terms):
                r = lin.const % c
                if r + s * (a.lanes - 1) < c:
                    if cls is Div:
                        return Broadcast(self.expr(Div(a.base, b.value)), a.lanes)
                    return Ramp(make_const(t, r), a.stride, a.lanes)
        return None

    def s_Shuffle(self, e):
        vectors = tuple(self.expr(v) for v in e.vectors)
        if len(vectors) == 1 and tuple(e.indices) == tuple(range(vectors[0].type.lanes())):
            return vectors[0]
        if all(a is b for a, b in zip(vectors, e.vectors)):
            return e
        return N.Shuffle(vectors, e.indices)

    # ------------------------------------------------ calls, memory, lets

    def s_Load(self, e):
        index = self.expr(e.index)
        return e if index is e.index else N.Load(e.type, e.buf, index)

    def s_Call(self, e):
        args = tuple(self.expr(a) for a in e.args)
        if all(x is y for x, y in zip(args, e.args)):
            return e
        return N.Call(e.type, e.fn, args, e.kind, e.value_index)

    def s_Intrinsic(self, e):
        args = tuple(self.expr(a) for a in e.args)
        if e.op is not N.Op.LIKELY and e.type.is_scalar() and args and all(
                type(a) in _CONSTS for a in args):
            try:
                value = _intrinsic(e.op, e.type, [a.type for a in args], [a.value for a in args])
                return make_const(e.type, value)
            except (TypeError, ValueError, OverflowError):
                pass
        if all(x is y for x, y in zip(args, e.args)):
            return e
        return N.Intrinsic(e.type, e.op, args)

    def s_Let(self, e):
        return self.let_chain(e)

    def let_chain(self, node):
        """A chain of Lets (or LetStmts) and its body, without recursing per link.

        Constants, variables and simple vector values are substituted into the
        body; other values stay bound, and bindings the body no longer uses go.
        """
        cls = type(node)
        links = []          # (original, simplified value, replacement, inner let)
        try:
            while type(node) is cls:
                value = self.expr(node.value)
                replacement, inner = self._let_replacement(node.sym, value)
                if replacement is not None:
                    self.bindings[node.sym] = (replacement, free_symbols(replacement))
                    if inner is not None and _is_int(inner[1].type):
                        self.var_bounds[inner[0]] = self.const_bounds(inner[1])
                elif _is_int(value.type) and value.type.is_scalar():
                    self.var_bounds[node.sym] = self.const_bounds(value)
                links.append((node, value, replacement, inner))
                node = node.body
            body = self.visit_body(node)
        finally:
            for link, _, replacement, inner in links:
                self.bindings.pop(link.sym, None)
                self.var_bounds.pop(link.sym, None)
                if inner is not None:
                    self.var_bounds.pop(inner[0], None)
        used = self.used
        for link, value, replacement, inner in reversed(links):
            if replacement is None:
                sym = link.sym
            elif inner is not None:
                sym, value = inner
            else:
                continue
            if sym not in used:
                continue
            if sym is link.sym and value is link.value and body is link.body:
                body = link
            else:
                body = cls(sym, value, body)
        return body

    def _let_replacement(self, sym, value):
        """What to substitute for `sym`, and a scalar let (sym, value) to keep, if any."""
        cls = type(value)
        if cls in _CONSTS or cls is N.Variable:
            return value, None
        if cls is Broadcast and type(value.value) in (*_CONSTS, N.Variable):
            return value, None
        if cls is Add and type(value.a) is N.Variable and type(value.b) in _CONSTS:
            return value, None
        if cls is Ramp and _const(value.stride) is not None:
            if type(value.base) in (*_CONSTS, N.Variable):
                return value, None
            inner = N.Symbol(sym.name + ".base")
            v = N.Variable(value.base.type, inner)
            return Ramp(v, value.stride, value.lanes), (inner, value.base)
        if cls is Broadcast:
            inner = N.Symbol(sym.name + ".value")
            v = N.Variable(value.value.type, inner)
            return Broadcast(v, value.lanes), (inner, value.value)
        return None, None

    def visit_body(self, body):
        return self.expr(body)

    # The statement half overrides visit_body for LetStmt bodies.


def _contains(outer: Type, inner: Type) -> bool:
    """Whether every value of `inner` is exactly representable in `outer`."""
    if inner.is_bool():
        return True
    if outer.is_float():
        if inner.is_float():
            return outer.bits() >= inner.bits()
        return inner.bits() < (24 if outer.bits() == 32 else 53)
    if inner.is_float():
        return False
    if outer.is_int():
        return outer.bits() >= inner.bits() + (1 if inner.is_uint() else 0)
    return inner.is_uint() and outer.bits() >= inner.bits()


def _fit(t: Type, lo, hi, default):
    """(lo, hi) if both ends are inside `t`'s range (or `t` cannot overflow), else `default`."""
    if no_overflow(t):
        return lo, hi
    if lo is None or hi is None or lo < t.min_value() or hi > t.max_value():
        return default
    return lo, hi


def _decide(cls, lo, hi):
    """Whether `d cls 0` holds for every d in [lo, hi]: True, False, or None (unknown)."""
    if cls is LT:
        if hi is not None and hi < 0:
            return True
        if lo is not None and lo >= 0:
            return False
    elif cls is LE:
        if hi is not None and hi <= 0:
            return True
        if lo is not None and lo > 0:
            return False
    elif (lo is not None and lo > 0) or (hi is not None and hi < 0):
        return cls is NE
    return None


def _rebuild2(e, a, b):
    if a is e.a and b is e.b:
        return e
    return type(e)(a, b)


def _rebuild_cmp(e, cls, a, b):
    if cls is type(e) and a is e.a and b is e.b:
        return e
    return cls(a, b)


_METHODS = {}
for _cls in (N.IntImm, N.UIntImm, N.FloatImm, N.StringImm):
    _METHODS[_cls] = "_leaf"
for _name in ("Variable", "Add", "Sub", "Mul", "Div", "Mod", "Min", "Max", "EQ", "NE", "LT",
              "LE", "GT", "GE", "And", "Or", "Not", "Select", "Cast", "Ramp", "Broadcast",
              "Shuffle", "Load", "Call", "Intrinsic", "Let"):
    _METHODS[getattr(N, _name)] = "s_" + _name
