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

import math

from pipelang.ir import nodes as N
from pipelang.ir.nodes import (Add, Broadcast, Cast, Div, EQ, Max, Min, Mod, Mul, NE, LE,
                               LT, Ramp, Select, Sub, make_const)
from pipelang.ir.types import Type, TypeCode
from pipelang.ir.visitor import free_symbols, reads_memory
from pipelang.ir.visitor import _symbols_of as symbols_of
from pipelang.lowering.analysis.const_bounds import constant_bounds, float_bounds
from pipelang.lowering.analysis.evaluate import (fold_binary, fold_cast, fold_compare,
                                                 fold_intrinsic, is_lossless_cast, no_overflow)
from pipelang.lowering.analysis.linear import (LinearForm, _field_names, is_canonical_sum,
                                               linear_difference, linear_form, same_expr,
                                               same_shape)

_CONSTS = (N.IntImm, N.UIntImm, N.FloatImm)
_LEAVES = frozenset((N.IntImm, N.UIntImm, N.FloatImm, N.StringImm, N.Variable))
# The nodes `LinearForm` looks inside; any other node is one term of a sum.
_SUM_NODES = frozenset((Add, Sub, Mul, N.IntImm, N.UIntImm))


def _const(e):
    """The value of a scalar constant or a broadcast of one, else None."""
    if type(e) is Broadcast:
        e = e.value
    return e.value if type(e) in _CONSTS else None


_INT, _UINT = TypeCode.INT, TypeCode.UINT


def _is_int(t: Type) -> bool:
    # (Asked of nearly every node: the type's fields, not its methods.)
    code = t._code
    return code is _INT or (code is _UINT and t.nbits != 1)


class _Scope(dict):
    """A dict that counts its changes (so cached bounds can tell they are stale)."""
    version = 0

    def __setitem__(self, key, value):
        self.version += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.version += 1
        super().__delitem__(key)

    def pop(self, *args):
        self.version += 1
        return super().pop(*args)


# Results of simplifying a node outside any let, loop or binding (id(e) ->
# (e, result)), shared by every simplifier that is not in `memo` mode: passes
# simplify the same expressions (bounds, region lets) in many separate calls,
# each with a fresh simplifier. Such a result is a function of the node alone
# (the let and bound scopes are empty; `used` matters only to enclosing lets).
# A result is kept as its own result too (as memo mode takes its results as
# simplified): passes build new expressions over what they simplified before
# (a let's value expanded into its users, a loop's last value), whose
# simplification then walks only the new nodes.
# Lowering empties it when done (`clear_unscoped_memo`), so it keeps no IR
# alive between compiles; the limit bounds it for other callers.
_UNSCOPED: dict = {}
_UNSCOPED_LIMIT = 50_000     # (local_laplacian fills 11k)


# Whether a node reads no memory (id(e) -> (e, bool); see `_pure`): a function
# of the node alone, so shared by every simplifier of a lowering, as
# `_UNSCOPED` is. Each simplify call of a pass starts a fresh simplifier, and
# the let values it asks about (region bounds, expanded indices) are mostly
# the ones an earlier call asked about.
_PURITY: dict = {}


def clear_unscoped_memo() -> None:
    _UNSCOPED.clear()
    _PURITY.clear()


class ExprSimplifier:
    """Simplifies Exprs; `bindings` replaces variables, `var_bounds` knows constant ranges."""

    def __init__(self, memo: bool = False):
        self.bindings: dict = {}      # Symbol -> (simplified Expr to use instead, its symbols)
        self.enclosing_lets: dict = {}    # Symbol -> value of each enclosing let kept as a let
        self.var_bounds: dict = _Scope()    # Symbol -> (lo, hi), ints or None
        self._bounds_cache: dict = {}       # id(e) -> (e, scope version, (lo, hi))
        # Every symbol a Variable in the output may refer to. Lets whose symbol
        # is not here are dead; a use later folded away keeps its let, harmlessly.
        self.used: set = set()
        # With `memo`, results outside any binding are kept (id(e) -> (e, result)),
        # and results are taken as simplified: interval arithmetic builds each
        # end from ends it simplified before, which are then not walked again
        # (without it, a chain of n operations costs n^2).
        self._memo: dict | None = {} if memo else None
        # The scalar integer lets in scope that stay bound, by a shallow key of
        # their value less any constant offset: a later let of the same value
        # up to a constant is written as the earlier one plus a constant, so
        # that differences such as `f.s1.x.max - f.s1.x.min` fold.
        self._let_values: dict = {}
        # See `_scoped_expr`: results by node, id(e) -> (e, result, `_clock`
        # when made), valid while no symbol of e has changed since. `_clock`
        # counts the changes to the lets, bindings and variable bounds in
        # scope; `_stamps` gives each symbol the count at its last change.
        self._clock = 0
        self._stamps: dict = {}
        self._let_exprs = 0         # Let expressions simplified so far (see `_scoped_expr`)
        self._scoped: dict = {}

    def expr(self, e: N.Expr) -> N.Expr:
        cls = type(e)
        if cls in _LEAVES:
            # A constant is its own result, a variable its binding: neither is
            # worth a cache entry (about half the nodes met).
            return e if cls is not N.Variable else self.s_Variable(e)
        memo = self._memo
        if memo is None:
            if self.bindings or self.var_bounds or self.enclosing_lets:
                return self._scoped_expr(e)
            # Outside every let and loop, a result depends on the node alone:
            # kept for every simplifier of this lowering (see _UNSCOPED).
            hit = _UNSCOPED.get(id(e))
            if hit is not None and hit[0] is e:
                return hit[1]
            r = self._scoped_expr(e)
            if len(_UNSCOPED) >= _UNSCOPED_LIMIT:
                _UNSCOPED.clear()
            _UNSCOPED[id(e)] = (e, r)
            _UNSCOPED[id(r)] = (r, r)
            return r
        if self.bindings or self.var_bounds:
            return self._scoped_expr(e)
        hit = memo.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        r = _RULES[type(e)](self, e)
        memo[id(e)] = (e, r)
        memo[id(r)] = (r, r)
        return r

    def _scoped_expr(self, e):
        """`e` simplified, each node once while the lets, bindings and
        variable bounds of its own symbols stay the same: an expression is a
        DAG whose shared subtrees (the bounds of a pyramid level, used by
        every later level) a tree walk would simplify once per path to them,
        and a chain of lets, an unrolled loop's copies (one let each) and a
        loop's body re-read the parts that don't name what changed.

        A result is a function of the node and the scope of its free
        symbols: their bindings, bounds and let values (and, through
        those, the values of the lets that they read, which are outer to
        them). A Let expression inside may also reuse any let in scope
        (`_reuse_let`), so what simplified one is not kept."""
        hit = self._scoped.get(id(e))
        if hit is not None and hit[0] is e and (
                hit[2] == self._clock or self._unchanged_since(e, hit[2])):
            return hit[1]
        clock, lets = self._clock, self._let_exprs
        r = _RULES[type(e)](self, e)
        if lets == self._let_exprs:
            scoped = self._scoped
            scoped[id(e)] = (e, r, clock)
            if r is not e:
                scoped[id(r)] = (r, r, clock)
        return r

    def _unchanged_since(self, e, clock) -> bool:
        stamps = self._stamps
        for sym in symbols_of(e):
            if stamps.get(sym, 0) > clock:
                return False
        return True

    def _touch(self, sym) -> None:
        """Note a change to `sym`'s binding, bounds or let value."""
        self._clock += 1
        self._stamps[sym] = self._clock

    # ------------------------------------------------ constant bounds

    def const_bounds(self, e: N.Expr):
        """(lo, hi) Python ints bounding an integer `e` (None where unknown).

        Memoized per node while the variables' bounds stay the same: the
        simplifier asks about the same subtrees over and over."""
        hit = self._bounds_cache.get(id(e))
        version = self.var_bounds.version
        if hit is not None and hit[0] is e and hit[1] == version:
            return hit[2]
        result = constant_bounds(e, self.var_bounds)
        self._bounds_cache[id(e)] = (e, version, result)
        return result

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

    def _sign_of_linear(self, lin: LinearForm):
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

    def _sign_through_division(self, d: LinearForm):
        """(lo, hi) bounds of a linear form whose terms include `k*(u/c)`
        (c > 0 constant, k a multiple of c): such a term is `(k/c)*(u - r)`
        with r in [0, c - 1], so `min(((e + 31)/32)*32, e)` is `e` (the
        bounds of a ShiftInwards split), where the terms alone decide
        nothing. (None, None) when no term is such a division."""
        lin = LinearForm(d.t)
        lin.const = d.const
        slack_lo = slack_hi = 0
        found = False
        for e, k in d.terms:
            c = _const(e.b) if type(e) is Div else None
            if c is not None and c > 0 and k % c == 0:
                found = True
                lin.add(e.a, k // c)
                r = (k // c) * (c - 1)          # the term is (k/c)*u minus between 0 and r
                if r > 0:
                    slack_lo -= r
                else:
                    slack_hi -= r
            else:
                lin.add(e, k)
        if not found:
            return None, None
        lo, hi = self._sign_of_linear(lin.normalize())
        return (None if lo is None else lo + slack_lo), (None if hi is None else hi + slack_hi)

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
        return _commuted(e, a, b)

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
            if same_expr(a, b):
                return make_const(t, 0)
            if t.is_scalar():
                return self._canonical_sum(e, a, b)
        return _rebuild2(e, a, b)

    def _canonical_sum(self, e, a, b):
        old = _rebuild2(e, a, b)
        if is_canonical_sum(old):       # (most sums are: their parts were simplified)
            return old
        new = linear_form(old).build()
        return old if same_shape(new, old) else new

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
            return _commuted(e, a, b)
        if ca is not None:
            a, b, ca, cb = b, a, cb, ca
        if cb == 0:
            return make_const(t, 0)
        if cb == 1:
            return a
        if cb is not None and t.is_scalar():
            if cb != -1 and type(a) not in _SUM_NODES and no_overflow(t):
                # An atom times a constant (`x*16`, the commonest product
                # in unrolled and tiled code) is already what the linear
                # form would build: a single term, no constant to spread.
                return _rebuild2(e, a, b)
            lin = linear_form(a)
            if lin.const != 0 or type(a) is Mul or len(lin.terms) <= 1:
                # Distribute into sums with a constant: (x + 2)*3 -> x*3 + 6.
                for pair in lin.terms:
                    pair[1] *= cb
                lin.const *= cb
                new = lin.normalize().build()
                old = _rebuild2(e, a, b)
                return old if same_shape(new, old) else new
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
        if len(lin.terms) == 1 and lin.terms[0][1] == 1 and type(lin.terms[0][0]) is Div:
            # (u/c1 + k)/c -> (u + k*c1)/(c1*c): both round down (c1, c > 0).
            inner = lin.terms[0][0]
            c1 = _const(inner.b)
            if (c1 is not None and c1 > 0 and lin.const != 0
                    and abs(lin.const * c1) < 2**31 and c1 * c < 2**31):
                return self.expr(Div(Add(inner.a, make_const(t, lin.const * c1)),
                                     make_const(t, c1 * c)))
        quot = LinearForm(t)
        rest = LinearForm(t)
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
                modulus, rem = self._modulus_remainder(a, 4)
                if modulus % m == 0:     # a == modulus * k + rem (modulus 0: a == rem)
                    return make_const(t, rem % m)
            if no_overflow(t) and t.is_scalar():
                lin = linear_form(a)
                rest = LinearForm(t)
                rest.terms = [[x, k] for x, k in lin.terms if k % m != 0]
                rest.const = lin.const % m
                if not rest.terms:
                    return make_const(t, rest.const)
                if len(rest.terms) < len(lin.terms) or rest.const != lin.const:
                    return _rebuild2(e, rest.normalize().build(), b)
        return _rebuild2(e, a, b)

    def _modulus_remainder(self, e, depth: int):
        """(m, r) with e == m * k + r for some integer k (m == 0: e == r), as
        Halide's ModulusRemainder, looking through the lets in scope `depth`
        deep: e.g. `let x.min = x.x*64 - 1` is odd, so `x.min % 2` is 1."""
        cls = type(e)
        c = _const(e)
        if c is not None:
            return 0, c
        if cls is N.Variable:
            value = self.enclosing_lets.get(e.sym)
            if value is None or depth == 0:
                return 1, 0
            return self._modulus_remainder(value, depth - 1)
        if cls is Add or cls is Sub:
            ma, ra = self._modulus_remainder(e.a, depth)
            mb, rb = self._modulus_remainder(e.b, depth)
            m = math.gcd(ma, mb)
            r = ra + rb if cls is Add else ra - rb
            return m, (r % m if m else r)
        if cls is Mul:
            ma, ra = self._modulus_remainder(e.a, depth)
            mb, rb = self._modulus_remainder(e.b, depth)
            m = math.gcd(ma * mb, math.gcd(ma * rb, mb * ra))
            return m, (ra * rb % m if m else ra * rb)
        if cls is N.Select or cls is Min or cls is Max:
            a, b = (e.true_value, e.false_value) if cls is N.Select else (e.a, e.b)
            ma, ra = self._modulus_remainder(a, depth)
            mb, rb = self._modulus_remainder(b, depth)
            m = math.gcd(math.gcd(ma, mb), ra - rb)
            return m, (ra % m if m else ra)
        return 1, 0

    def _min_max(self, e):
        cls = type(e)
        a, b = self.expr(e.a), self.expr(e.b)
        t = e.type
        ca, cb = _const(a), _const(b)
        if ca is not None and cb is not None:
            return make_const(t, fold_binary(cls, t.element_of(), ca, cb))
        if same_expr(a, b):
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
        if type(b) is other and (same_expr(b.a, a) or same_expr(b.b, a)):
            return a
        if type(a) is other and (same_expr(a.a, b) or same_expr(a.b, b)):
            return b
        # min(min(x, y), x) -> min(x, y)
        if type(a) is cls and (same_expr(a.a, b) or same_expr(a.b, b)):
            return a
        if type(b) is cls and (same_expr(b.a, a) or same_expr(b.b, a)):
            return b
        # Constant bounds decide it.
        first = self._provably(LE, a, b)
        if first is not None:
            return (a if first else b) if cls is Min else (b if first else a)
        if no_overflow(t) and t.is_scalar():
            d = linear_difference(a, b)
            if d.is_const():
                return (a if d.const <= 0 else b) if cls is Min else (b if d.const <= 0 else a)
            lo, hi = self._sign_of_linear(d)
            if hi is not None and hi <= 0:
                return a if cls is Min else b
            if lo is not None and lo >= 0:
                return b if cls is Min else a
            lo, hi = self._sign_through_division(d)
            if hi is not None and hi <= 0:
                return a if cls is Min else b
            if lo is not None and lo >= 0:
                return b if cls is Min else a
            # min(u/c, v/c) with c > 0 is the quotient of the smaller of u and
            # v (division rounds down, so it keeps order): min(x/2, (x + 1)/2)
            # is x/2. Bounds of downsampling pyramids are made of these.
            if type(a) is Div and type(b) is Div:
                c = _const(a.b)
                if c is not None and c > 0 and _const(b.b) == c:
                    lo, hi = self._sign_of_linear(linear_difference(a.a, b.a))
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
        if same_expr(a, b):
            return make_const(out, cls is EQ or cls is LE)
        known = self._provably(cls, a, b)
        if known is not None:
            return make_const(out, known)
        if t.is_scalar() and _is_int(t) and (no_overflow(t) or cls is EQ or cls is NE):
            d = linear_difference(a, b)
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

    def _canonical_compare(self, e, cls, a, b, d: LinearForm):
        """P - N + c cmp 0  ->  P cmp N - c, with a constant side on the right."""
        t = a.type
        lhs, rhs = LinearForm(t), LinearForm(t)
        for term, k in d.terms:
            (lhs.terms.append([term, k]) if k > 0 else rhs.terms.append([term, -k]))
        if lhs.terms:
            rhs.const = -d.const
        else:
            lhs.const = d.const
        if no_overflow(t) and cls in (LT, LE):
            # The moved constant is exact (a Python int); past the type's
            # range it would wrap, and an order comparison with a wrapped
            # constant is wrong (x - 2 < 2147483647 is not x < -2147483647).
            limit = 1 << (t.bits() - 1)
            if not -limit <= lhs.const + rhs.const < limit:
                return _rebuild_cmp(e, cls, a, b)
            # Nor may anything move onto the side of a value read from memory,
            # which may be its type's extreme: argmin's `x - 2 < best`, best
            # starting at INT_MAX, is not `x < best + 2`, nor argmax's
            # `best < -x - k` (best from INT_MIN) `best + x + k < 0` (Halide
            # 21 makes such rewrites: its argmin over k in [-2, 0] of x + k
            # gives index 0). Such a comparison keeps its two sides.
            if any(reads_memory(term) for term, _ in d.terms):
                return _rebuild_cmp(e, cls, a, b)
        new_a, new_b = lhs.normalize().build(), rhs.normalize().build()
        if not lhs.terms and cls in (EQ, NE):
            new_a, new_b = new_b, new_a
        if same_shape(new_a, a) and same_shape(new_b, b):
            return _rebuild_cmp(e, cls, a, b)
        return cls(new_a, new_b)

    def s_And(self, e):
        return self._logic(e, N.And)

    def s_Or(self, e):
        return self._logic(e, N.Or)

    def _logic(self, e, cls):
        a = self.expr(e.a)
        ca = _const(a)
        absorbing = 0 if cls is N.And else 1
        if ca is not None:
            # (b is not simplified when a decides: as Select's dead branch.)
            return make_const(e.type, absorbing) if ca == absorbing else self.expr(e.b)
        b = self.expr(e.b)
        cb = _const(b)
        if cb is not None:
            return make_const(e.type, absorbing) if cb == absorbing else a
        if same_expr(a, b):
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
        cc = _const(c)
        if cc is not None:
            # Only the branch taken is simplified: an unrolled copy's
            # `select(c == 0, ..., select(c == 1, ..., ...))` (camera_pipe's
            # demosaic, one copy per channel) keeps one branch of several,
            # and would otherwise simplify them all in every copy.
            return self.expr(e.true_value if cc else e.false_value)
        tv, fv = self.expr(e.true_value), self.expr(e.false_value)
        if same_expr(tv, fv):
            return tv
        if type(c) is N.Not:
            c, tv, fv = c.a, fv, tv
        if type(tv) is Select and same_expr(tv.condition, c):
            tv = tv.true_value
        if type(fv) is Select and same_expr(fv.condition, c):
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
        if type(v) is Cast and is_lossless_cast(v.type, v.value.type):
            return self.expr(Cast(t, v.value))
        if v.type.is_float() and (t.is_int() or t.is_uint()) and not t.is_bool() and type(v) in (Min, Max):
            u = self._truncated_clamp(v)
            if u is not v:
                return Cast(t, u)
        if (type(v) is Ramp and no_overflow(v.type) and t.is_int()
                and t.bits() >= v.type.bits()):
            et = t.element_of()
            return self.expr(Ramp(Cast(et, v.base), Cast(et, v.stride), v.lanes))
        return e if v is e.value else Cast(t, v)

    def _truncated_clamp(self, v):
        """`v` (the float operand of a cast to an integer) without the ends of
        its clamp that cannot change the truncated result: `min(x, c)` with
        c >= 0 a whole number when x < c + 1 (every x in (c, c + 1) truncates
        to c anyway), `max(x, c)` with c <= 0 when x > c - 1. The bounds are
        the float bounds of x from its operands' types and constants (a
        uint8 load times 0.299 plus ...), exact reals, so a margin covers
        float rounding; an x with a known end is never NaN, so dropping the
        clamp never changes what a NaN gives. Halide drops such clamps too
        (hist's luma clamp before its uint8 cast). An end that is kept still
        lets the other be dropped: a whole-number min or max maps values that
        truncate alike to values that truncate alike."""
        if type(v) not in (Min, Max):
            return v
        c = _const(v.b)
        if c is None or c != c or c != int(c):
            return v
        lo, hi = float_bounds(v.a, self.var_bounds)
        # float_bounds are real-number bounds: the computed value may be off
        # by its rounding error, which cancellation makes large
        # (min(u + 1e7, 2e7) - 1e7 of a uint8 u + 0.99 reaches 256.0 in float32).
        err = _rounding_error(v.a, self.var_bounds)
        if err is None:
            return v
        margin = (abs(c) + 1.0) * 2.0 ** -20 + err
        if type(v) is Min and c >= 0 and hi is not None and hi < c + 1 - margin:
            return self._truncated_clamp(v.a)
        if type(v) is Max and c <= 0 and lo is not None and lo > c - 1 + margin:
            return self._truncated_clamp(v.a)
        inner = self._truncated_clamp(v.a)
        return v if inner is v.a else type(v)(inner, v.b)

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
                value = fold_intrinsic(e.op, e.type, [a.type for a in args],
                                       [a.value for a in args])
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
            if cls is N.Let:
                self._let_exprs += 1
            while type(node) is cls:
                value = self.expr(node.value)
                self._touch(node.sym)
                scalar_int = _is_int(value.type) and value.type.is_scalar()
                split = None
                if scalar_int:
                    value, split = self._reuse_let(value)
                replacement, inner = self._let_replacement(node.sym, value)
                key = None
                if replacement is not None:
                    self.bindings[node.sym] = (replacement, free_symbols(replacement))
                    if inner is not None:
                        self._touch(inner[0])
                        if _is_int(inner[1].type):
                            self.var_bounds[inner[0]] = self.const_bounds(inner[1])
                elif scalar_int:
                    self.var_bounds[node.sym] = self.const_bounds(value)
                    if self._pure(value):
                        base, offset, key = split or _split_key(value)
                        self._let_values.setdefault(key, []).append((base, offset, node.sym))
                if replacement is None:
                    self.enclosing_lets[node.sym] = value
                links.append((node, value, replacement, inner, key))
                node = node.body
            body = self.visit_body(node)
        finally:
            for link, _, replacement, inner, key in links:
                self._touch(link.sym)
                self.bindings.pop(link.sym, None)
                self.enclosing_lets.pop(link.sym, None)
                self.var_bounds.pop(link.sym, None)
                if inner is not None:
                    self._touch(inner[0])
                    self.var_bounds.pop(inner[0], None)
                if key is not None:
                    entries = self._let_values[key]
                    entries.pop()
                    if not entries:
                        del self._let_values[key]
        used = self.used
        for link, value, replacement, inner, _ in reversed(links):
            if replacement is None:
                sym = link.sym
            elif inner is not None:
                sym, value = inner
            else:
                continue
            if sym not in used:
                continue
            if cls is N.Let and type(body) is N.Variable and body.sym is sym:
                body = value        # `let t = e in t` is e
                continue
            if sym is link.sym and value is link.value and body is link.body:
                body = link
            else:
                body = cls(sym, value, body)
        return body

    def _pure(self, e) -> bool:
        """Whether `e` reads no memory and calls no intrinsic: a let of an
        impure value may differ from an earlier let of the same text (a store
        in between). Remembered by node (in `_PURITY`): a chain of lets asks
        it of each value, and the values share their subtrees."""
        memo = _PURITY
        hit = memo.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        cls = type(e)
        if cls is N.Load or cls is N.Call or cls is N.Intrinsic:
            result = False
        else:
            result = True
            for c in _children(e):
                if isinstance(c, N.Expr):
                    result = self._pure(c)
                elif isinstance(c, tuple):
                    result = all(self._pure(x) for x in c if isinstance(x, N.Expr))
                if not result:
                    break
        if len(memo) >= _UNSCOPED_LIMIT:
            memo.clear()
        memo[id(e)] = (e, result)
        return result

    def _reuse_let(self, value):
        """(`value`, or a let variable in scope bound to it (plus a constant);
        `value`'s `_split_key` where worked out, for the caller to keep)."""
        if not self._let_values:
            return value, None
        split = _split_key(value)
        base, offset, key = split
        entries = self._let_values.get(key)
        for bound, bound_offset, sym in reversed(entries or ()):
            if same_expr(bound, base):
                self.used.add(sym)
                v = N.Variable(value.type, sym)
                delta = offset - bound_offset
                return (v if delta == 0 else Add(v, make_const(value.type, delta))), None
        return value, split

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
            # A base that is a variable plus a constant is substituted too, as
            # the scalar `v + c` above: the unrolled copies of a vector loop
            # then index `ramp(v + 16, ..)`, `ramp(v + 32, ..)`, and LLVM sees
            # their loads as one pointer plus constant offsets (apps/conv_layer's
            # four filter vectors: one address register, not four, and no
            # spill in its inner loop). Other bases stay one let: peeling their
            # constant too, as Halide does, keeps more values live across the
            # loops of stencil_chain (a larger frame, 8% more LLVM time).
            base = value.base
            if type(base) is Add and type(base.b) in _CONSTS:
                base = base.a
            if type(base) in (*_CONSTS, N.Variable):
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


def _split_offset(e):
    """(base, c) with `e` == base + c for a constant int c (0 if none)."""
    cls = type(e)
    if (cls is Add or cls is Sub) and type(e.b) is N.IntImm:
        return e.a, (e.b.value if cls is Add else -e.b.value)
    return e, 0


def _split_key(e):
    """(base, c, the shallow key of base) with `e` == base + c: how
    `_let_values` files a let's value."""
    base, offset = _split_offset(e)
    return base, offset, _shallow_key(base)


def _shallow_key(e, depth: int = 3):
    """A hashable summary of the top `depth` levels of `e` (equal for equal Exprs)."""
    cls = type(e)
    if cls is N.Variable:
        return id(e.sym)
    if cls in _CONSTS:
        return (cls, e.value)
    if depth == 0:
        return cls
    d = depth - 1
    return (cls,) + tuple(_shallow_key(c, d) if isinstance(c, N.Expr) else None
                          for c in _children(e))


def _children(e):
    return [getattr(e, name) for name in _field_names(type(e))]


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


# Halide's order of expression node kinds (IRNodeType), which its simplifier
# uses to put the operands of a commutative operation in a canonical order.
_NODE_RANK = {cls: i for i, cls in enumerate((
    N.IntImm, N.UIntImm, N.FloatImm, N.StringImm, N.Broadcast, N.Cast, None, N.Variable,
    N.Add, N.Sub, N.Mod, N.Mul, N.Div, N.Min, N.Max, N.EQ, N.NE, N.LT, N.LE, N.GT, N.GE,
    N.And, N.Or, N.Not, N.Select, N.Load, N.Ramp, N.Call, N.Let, N.Shuffle))}
_NODE_RANK[N.Intrinsic] = _NODE_RANK[N.Call]


def _commuted(e, a, b):
    """Rebuild the commutative ``e`` with its operands in Halide's order.

    Halide's simplifier swaps ``a op b`` when ``a``'s node kind comes
    before ``b``'s (or both are variables and ``a``'s name sorts after
    ``b``'s).  For floating point this is exact, but it fixes the shape of
    the sums LLVM's reassociation then regroups, so matching it gives the
    same last bits as Halide (its lesson 08 prints them).
    """
    ra, rb = _NODE_RANK.get(type(a), 99), _NODE_RANK.get(type(b), 99)
    if ra < rb or (ra == rb and type(a) is N.Variable and a.sym.name > b.sym.name):
        a, b = b, a
    return _rebuild2(e, a, b)


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
# The rule functions themselves (no subclass overrides them: the statement
# simplifier adds st_* rules only), looked up once rather than per node.
_RULES = {_cls: getattr(ExprSimplifier, _name) for _cls, _name in _METHODS.items()}


def _rounding_error(e, var_bounds, depth: int = 12):
    """A bound on how far float `e` as computed can be from its real value
    (None when unknown), whatever order fast math evaluates its sums in;
    with `_magnitude`. A float variable's error is unknown (its value was
    rounded elsewhere)."""
    r = _error_and_magnitude(e, var_bounds, depth)
    return None if r is None else r[0]


def _error_and_magnitude(e, var_bounds, depth):
    """(error, magnitude): a bound on the rounding error of `e` and on the
    magnitude of anything computed on the way to it (a sum's terms added in
    any order stay below the sum of their magnitudes)."""
    t = e.type
    if not t.is_float() or depth == 0:
        return None
    eps = 2.0 ** -{16: 10, 32: 23}.get(t.bits(), 52)   # a whole unit in the last place
    cls = type(e)
    if cls is N.FloatImm:
        v = abs(e.value)
        return (0.0, v) if v != float("inf") and v == v else None
    if cls is Broadcast:
        return _error_and_magnitude(e.value, var_bounds, depth - 1)
    if cls is Cast:
        if e.value.type.is_float():
            r = _error_and_magnitude(e.value, var_bounds, depth - 1)
            if r is None:
                return None
            return (r[0] + r[1] * eps, r[1]) if t.bits() < e.value.type.bits() else r
        lo, hi = float_bounds(e, var_bounds, depth)
        if lo is None or hi is None:
            return None
        m = max(abs(lo), abs(hi))
        return (0.0 if m <= 2.0 ** {16: 11, 32: 24}.get(t.bits(), 53) else m * eps), m
    if cls is Add or cls is Sub:
        terms, pending = [], [e]
        while pending:      # the whole sum: fast math may add its terms in any order
            x = pending.pop()
            if type(x) in (Add, Sub) and x.type == t:
                pending += [x.a, x.b]
            else:
                terms.append(x)
        if len(terms) > 64:
            return None
        err = mag = 0.0
        for x in terms:
            r = _error_and_magnitude(x, var_bounds, depth - 1)
            if r is None:
                return None
            err, mag = err + r[0], mag + r[1]
        return err + (len(terms) - 1) * (mag + err) * eps, mag + err
    if cls is Mul:
        a = _error_and_magnitude(e.a, var_bounds, depth - 1)
        b = _error_and_magnitude(e.b, var_bounds, depth - 1)
        if a is None or b is None:
            return None
        mag = (a[1] + a[0]) * (b[1] + b[0])
        return a[0] * b[1] + b[0] * a[1] + a[0] * b[0] + mag * eps, mag
    if cls is Div and type(e.b) is N.FloatImm and e.b.value != 0:
        a = _error_and_magnitude(e.a, var_bounds, depth - 1)
        if a is None:
            return None
        k = 1.0 / abs(e.b.value)
        mag = (a[1] + a[0]) * k
        return a[0] * k + 2 * mag * eps, mag   # maybe times a rounded reciprocal
    if cls is Min or cls is Max or cls is Select:
        x, y = (e.a, e.b) if cls is not Select else (e.true_value, e.false_value)
        a = _error_and_magnitude(x, var_bounds, depth - 1)
        b = _error_and_magnitude(y, var_bounds, depth - 1)
        if a is None or b is None:
            return None
        return max(a[0], b[0]), max(a[1], b[1])
    return None
