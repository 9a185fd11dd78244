"""Constant bounds of integer Exprs: the cheap range analysis the simplifier uses.

`constant_bounds(e, var_bounds)` gives Python ints (lo, hi) with lo <= e <= hi
for every value of the variables in `var_bounds` (a {Symbol: (lo, hi)} map,
None for an unknown end); other variables are unknown, except that a narrow or
unsigned type bounds itself. It looks only `depth` levels down, so it costs
O(1) per call.

    >>> constant_bounds(Add(Mod(var(x), i32(8)), i32(2)), {})
    (2, 9)
"""
from __future__ import annotations

from pipelang.ir import nodes as N
from pipelang.ir.nodes import Add, Broadcast, Cast, Div, Max, Min, Mod, Mul, Ramp, Select, Sub
from pipelang.ir.types import Type, TypeCode
from pipelang.lowering.analysis.evaluate import no_overflow


def _const(e):
    if type(e) is Broadcast:
        e = e.value
    return e.value if type(e) in (N.IntImm, N.UIntImm, N.FloatImm) else None


def _is_int(t: Type) -> bool:
    return (t.is_int() or t.is_uint()) and not t.is_bool()


def _type_range(t: Type):
    return t.min_value(), t.max_value()


_INT, _UINT = TypeCode.INT, TypeCode.UINT
_UNKNOWN = (None, None)
_RANGES: dict = {}


def _range_of(t: Type):
    """`_type_range(t)`, worked out once per type."""
    r = _RANGES.get(t)
    if r is None:
        r = _RANGES[t] = _type_range(t)
    return r


def constant_bounds(e: N.Expr, var_bounds: dict, depth: int = 4):
    """(lo, hi) Python ints bounding an integer `e` (None where unknown)."""
    t = e.type
    code = t._code          # (the simplifier asks this per node: no method calls)
    cls = type(e)
    if code is _INT:
        if cls is N.IntImm:
            return e.value, e.value
        default = _UNKNOWN if t.nbits >= 32 else _range_of(t)
    elif code is _UINT:
        if cls is N.UIntImm:
            return e.value, e.value
        if t.nbits == 1:
            return 0, 1
        default = _range_of(t)
    else:
        return None, None
    if cls is N.Variable:
        b = var_bounds.get(e.sym)
        return b if b is not None else default
    if depth == 0:
        return default
    depth -= 1
    if cls is Broadcast:
        return constant_bounds(e.value, var_bounds, depth)
    if cls is Ramp:
        blo, bhi = constant_bounds(e.base, var_bounds, depth)
        slo, shi = constant_bounds(e.stride, var_bounds, depth)
        n = e.lanes - 1
        lo = None if blo is None or slo is None else blo + min(0, slo * n)
        hi = None if bhi is None or shi is None else bhi + max(0, shi * n)
        return _fit(t, lo, hi, default)
    if cls is Add or cls is Sub:
        alo, ahi = constant_bounds(e.a, var_bounds, depth)
        blo, bhi = constant_bounds(e.b, var_bounds, depth)
        if cls is Sub:
            blo, bhi = (None if bhi is None else -bhi), (None if blo is None else -blo)
        lo = None if alo is None or blo is None else alo + blo
        hi = None if ahi is None or bhi is None else ahi + bhi
        return _fit(t, lo, hi, default)
    if cls is Mul:
        alo, ahi = constant_bounds(e.a, var_bounds, depth)
        blo, bhi = constant_bounds(e.b, var_bounds, depth)
        if None in (alo, ahi, blo, bhi):
            return default
        corners = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
        return _fit(t, min(corners), max(corners), default)
    if cls is Div:
        c = _const(e.b)
        alo, ahi = constant_bounds(e.a, var_bounds, depth)
        if c is not None and c > 0:
            lo = None if alo is None else alo // c
            hi = None if ahi is None else ahi // c
            return _fit(t, lo, hi, default)
        return default
    if cls is Mod:
        blo, bhi = constant_bounds(e.b, var_bounds, depth)
        if blo is None or bhi is None:
            return _fit(t, 0, None, default)
        alo, ahi = constant_bounds(e.a, var_bounds, depth)
        m = max(abs(blo), abs(bhi))
        if alo is not None and ahi is not None and 0 <= alo and ahi < blo:
            return alo, ahi
        return 0, max(m - 1, 0)
    if cls is Min or cls is Max:
        alo, ahi = constant_bounds(e.a, var_bounds, depth)
        blo, bhi = constant_bounds(e.b, var_bounds, depth)
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
        return _union(constant_bounds(e.true_value, var_bounds, depth), constant_bounds(e.false_value, var_bounds, depth))
    if cls is Cast:
        ft = e.value.type
        if _is_int(ft) or ft.is_bool():
            lo, hi = constant_bounds(e.value, var_bounds, depth)
            # A cast wraps whatever the type (int32(uint32 x) may be negative):
            # the "no signed overflow" assumption of arithmetic does not apply.
            if lo is None or hi is None or lo < t.min_value() or hi > t.max_value():
                return _type_range(t)
            return lo, hi
        return _type_range(t)
    if cls is N.Let:
        return constant_bounds(e.body, var_bounds, depth)
    if cls is N.Intrinsic:
        if e.op is N.Op.LIKELY:
            return constant_bounds(e.args[0], var_bounds, depth)
        if e.op is N.Op.BITWISE_AND:
            for x in e.args:
                c = _const(x)
                if c is not None and c >= 0:
                    return 0, c
    return default


def _fit(t: Type, lo, hi, default):
    """(lo, hi) if both ends are inside `t`'s range (or `t` cannot overflow), else `default`."""
    if no_overflow(t):
        return lo, hi
    if lo is None or hi is None or lo < t.min_value() or hi > t.max_value():
        return default
    return lo, hi


def float_bounds(e: N.Expr, var_bounds: dict, depth: int = 6):
    """(lo, hi) Python floats bounding a float `e` (None where unknown).

    Only finite ends are returned, and only where they hold for every value
    `e` can take, NaN included: an expression with a known end is never NaN.
    Min/Max are Halide's `a < b ? a : b` / `a > b ? a : b`, which give `b`
    when either operand is NaN, so a clamp `max(min(v, hi), lo)` bounds even
    a NaN `v`, and an end of `a` alone bounds nothing. Arithmetic on a NaN
    stays NaN, so Add/Sub/Mul give bounds only where both operands are
    bounded on both sides. Integer operands (through a Cast) use
    `constant_bounds`. Float lets and variables are looked up in
    `var_bounds` like integer ones.

    Rounding is not modelled: the ends are exact real-number bounds, so a
    caller needing a strict limit must leave a margin.

        >>> float_bounds(Max(Min(var(f), f32(255)), f32(0)), {})
        (0.0, 255.0)
    """
    t = e.type
    if not t.is_float():
        return None, None
    cls = type(e)
    if cls is N.FloatImm:
        v = e.value
        return (v, v) if v == v and abs(v) != float("inf") else (None, None)
    if cls is N.Variable:
        b = var_bounds.get(e.sym)
        return b if b is not None else (None, None)
    if depth == 0:
        return None, None
    depth -= 1
    if cls is Broadcast:
        return float_bounds(e.value, var_bounds, depth)
    if cls is Cast:
        ft = e.value.type
        if _is_int(ft) or ft.is_bool():
            lo, hi = constant_bounds(e.value, var_bounds, depth)
            if lo is None or hi is None:
                lo, hi = _type_range(ft) if not ft.is_bool() else (0, 1)
            return float(lo), float(hi)
        if ft.is_float():
            lo, hi = float_bounds(e.value, var_bounds, depth)
            # A narrowing cast of a value past the narrow type's range is infinite.
            limit = 65504.0 if t.bits() == 16 else 3.4e38 if t.bits() == 32 else float("inf")
            return (lo if lo is not None and lo > -limit else None,
                    hi if hi is not None and hi < limit else None)
        return None, None
    if cls is Min or cls is Max:
        alo, ahi = float_bounds(e.a, var_bounds, depth)
        blo, bhi = float_bounds(e.b, var_bounds, depth)
        # The result is `a` only when the comparison holds (neither is NaN),
        # else `b`: an end of `b` holds whatever `a` is; one of `a` only
        # with `b`'s too.
        if cls is Min:
            lo = None if alo is None or blo is None else min(alo, blo)
            hi = bhi if ahi is None or bhi is None else min(ahi, bhi)
        else:
            lo = blo if alo is None or blo is None else max(alo, blo)
            hi = None if ahi is None or bhi is None else max(ahi, bhi)
        return lo, hi
    if cls is Select:
        return _union(float_bounds(e.true_value, var_bounds, depth), float_bounds(e.false_value, var_bounds, depth))
    if cls is Add or cls is Sub or cls is Mul:
        a = float_bounds(e.a, var_bounds, depth)
        b = float_bounds(e.b, var_bounds, depth)
        if None in a or None in b:
            return None, None
        if cls is Add:
            return a[0] + b[0], a[1] + b[1]
        if cls is Sub:
            return a[0] - b[1], a[1] - b[0]
        corners = (a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])
        return min(corners), max(corners)
    if cls is N.Let:
        return float_bounds(e.body, var_bounds, depth)
    return None, None


def _union(a, b):
    """The bounds of a value that is either of two with bounds `a` and `b`
    (None: that end unknown)."""
    (alo, ahi), (blo, bhi) = a, b
    lo = None if alo is None or blo is None else min(alo, blo)
    hi = None if ahi is None or bhi is None else max(ahi, bhi)
    return lo, hi
