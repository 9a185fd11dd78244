"""Interval arithmetic: exact answers for affine code, and hypothesis checks that
every value an Expr takes over its variables' intervals lies inside its bounds."""
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelang.ir import (Add, And, Bool, Broadcast, Call, Cast, Div, EQ, Float, FloatImm, GE,
                         GT, Int, Intrinsic, LE, LT, Let, Load, Max, Min, Mod, Mul, NE, Not, Op, Or,
                         Ramp, Select, Sub, Symbol, UInt, free_symbols, i32, make_const, to_string,
                         var)
from pipelang.lowering.analysis import (Interval, Monotonic, bounds_of_expr, evaluate_expr,
                                        interval_intersect, interval_union, is_monotonic)

x, y, z, a, b, c = (Symbol(n) for n in "xyzabc")
X, Y, Z, A, B, C = (var(s) for s in (x, y, z, a, b, c))
buf = Symbol("buf")


def iv(lo, hi):
    return Interval(None if lo is None else i32(lo), None if hi is None else i32(hi))


# ---------------------------------------------------------------- explicit cases

def test_interval_helpers():
    assert Interval.point(X) == Interval(X, X)
    assert Interval.everything() == Interval(None, None)
    assert iv(0, 3).is_bounded()
    assert not iv(None, 3).is_bounded()
    assert interval_union(iv(0, 3), iv(2, 9)) == iv(0, 9)
    assert interval_union(iv(0, 3), iv(None, 9)) == iv(None, 9)
    assert interval_intersect(iv(0, 3), iv(2, 9)) == iv(2, 3)
    assert interval_intersect(iv(None, 3), iv(2, None)) == iv(2, 3)


@pytest.mark.parametrize("expr, expected", [
    (Sub(X, i32(1)), Interval(Sub(A, i32(1)), Sub(B, i32(1)))),
    (Add(X, Y), Interval(Add(A, Y), Add(B, Y))),
    (Sub(i32(10), X), Interval(Sub(i32(10), B), Sub(i32(10), A))),
    (Mul(X, i32(4)), Interval(Mul(A, i32(4)), Mul(B, i32(4)))),
    (Mul(X, i32(-2)), Interval(Mul(B, i32(-2)), Mul(A, i32(-2)))),
    (Sub(X, X), Interval(Sub(A, B), Sub(B, A))),
    (Min(X, i32(5)), Interval(Min(A, i32(5)), Min(B, i32(5)))),
    (Div(X, i32(4)), Interval(Div(A, i32(4)), Div(B, i32(4)))),
    (Mod(X, i32(4)), iv(0, 3)),
    (Ramp(X, i32(2), 8), Interval(A, Add(B, i32(14)))),
    (Broadcast(Add(X, i32(1)), 4), Interval(Add(A, i32(1)), Add(B, i32(1)))),
    (Let(z, Add(X, i32(1)), Mul(Z, i32(2))),
     Interval(Add(Mul(A, i32(2)), i32(2)), Add(Mul(B, i32(2)), i32(2)))),
    (Cast(Int(64), X), Interval(Cast(Int(64), A), Cast(Int(64), B))),
])
def test_symbolic_bounds_are_exact(expr, expected):
    got = bounds_of_expr(expr, {x: Interval(A, B)})
    assert got == expected, f"{to_string(expr)}: {got} != {expected}"


def test_loop_style_bounds():
    # x in [0, 9]: x*2 + y covers [y, y + 18]
    got = bounds_of_expr(Add(Mul(X, i32(2)), Y), {x: iv(0, 9)})
    assert got == Interval(Y, Add(Y, i32(18)))
    # min(x + 3, 10) with x in [0, 9]
    got = bounds_of_expr(Min(Add(X, i32(3)), i32(10)), {x: iv(0, 9)})
    assert got == iv(3, 10)


def test_products_of_intervals():
    assert bounds_of_expr(Mul(X, Y), {x: iv(-2, 3), y: iv(1, 5)}) == iv(-10, 15)
    assert bounds_of_expr(Mul(X, Y), {x: iv(0, None), y: iv(1, 5)}) == iv(0, None)
    assert bounds_of_expr(Mul(X, Y), {x: iv(-1, None), y: iv(1, 5)}) == iv(None, None)


def test_division_and_modulo():
    assert bounds_of_expr(Div(X, i32(-2)), {x: iv(-7, 9)}) == iv(-4, 4)
    assert bounds_of_expr(Div(X, Y), {x: iv(-7, 9), y: iv(2, 3)}) == iv(-4, 4)
    assert bounds_of_expr(Div(X, Y), {x: iv(-7, 9)}) == iv(-9, 9)
    assert bounds_of_expr(Mod(X, i32(8)), {x: iv(2, 5)}) == iv(2, 5)
    assert bounds_of_expr(Mod(X, Y), {y: iv(1, 10)}) == iv(0, 9)
    assert bounds_of_expr(Mod(X, Y), {y: iv(None, None)}) == iv(0, None)


def test_types():
    u8 = UInt(8)
    u8r = Interval(make_const(u8, 0), make_const(u8, 255))
    assert bounds_of_expr(Load(u8, buf, X), {}) == u8r
    assert bounds_of_expr(Load(Float(32), buf, X), {}) == Interval.everything()
    assert bounds_of_expr(Call(Int(16), buf, (X,)), {}) == Interval(
        make_const(Int(16), -32768), make_const(Int(16), 32767))
    # Narrowing an unbounded value gives the type's range; a small range is kept.
    assert bounds_of_expr(Cast(u8, X), {}) == u8r
    assert bounds_of_expr(Cast(u8, X), {x: iv(3, 7)}) == Interval(
        make_const(u8, 3), make_const(u8, 7))
    # Widening an unbounded value gives the source type's range.
    got = bounds_of_expr(Cast(Int(32), var(y, u8)), {})
    assert got == Interval(Cast(Int(32), var(y, u8)), Cast(Int(32), var(y, u8)))
    got = bounds_of_expr(Cast(Int(32), Load(u8, buf, X)), {})
    assert got == iv(0, 255)
    # uint8 arithmetic that may wrap falls back to the whole type.
    p = var(x, u8)
    assert bounds_of_expr(Add(p, make_const(u8, 1)), {x: Interval(
        make_const(u8, 250), make_const(u8, 255))}) == u8r
    assert bounds_of_expr(Add(p, make_const(u8, 1)), {x: Interval(
        make_const(u8, 20), make_const(u8, 30))}) == Interval(make_const(u8, 21),
                                                            make_const(u8, 31))


def test_booleans_and_select():
    t, f = make_const(Bool(), 1), make_const(Bool(), 0)
    assert bounds_of_expr(LT(X, i32(10)), {x: iv(0, 9)}) == Interval(t, t)
    assert bounds_of_expr(LT(X, i32(10)), {x: iv(10, 20)}) == Interval(f, f)
    assert bounds_of_expr(LT(X, i32(10)), {x: iv(5, 20)}) == Interval(f, t)
    got = bounds_of_expr(Select(LT(X, Y), X, i32(100)), {x: iv(0, 9)})
    assert got == iv(0, 100)


def test_float_bounds():
    f32 = Float(32)
    fx = var(x, f32)
    scope = {x: Interval(FloatImm(f32, 0.0), FloatImm(f32, 2.0))}
    got = bounds_of_expr(Mul(fx, FloatImm(f32, 0.5)), scope)
    assert got == Interval(FloatImm(f32, 0.0), FloatImm(f32, 1.0))
    got = bounds_of_expr(Intrinsic(f32, Op.FLOOR, (fx,)), scope)
    assert got == Interval(FloatImm(f32, 0.0), FloatImm(f32, 2.0))


def test_wide_int_to_float_leaves_type_limits_unbounded():
    # Fuzz seed 11070: an int64 value with no known bounds, cast to float64,
    # bounded as [-2^63, 2^63 - 1] made int32(f64) ends like int32(9.2e18),
    # which overflow (poison): a Func's region became garbage. As Halide's
    # bounds_of_type, 32- and 64-bit integers without bounds stay unbounded.
    f64 = Float(64)
    for t in (Int(64), UInt(64), Int(32), UInt(32)):
        got = bounds_of_expr(Cast(f64, Load(t, buf, X)), {})
        if t.is_int():
            assert got == Interval.everything(), t
        else:  # unsigned: the lower end 0 is real information
            assert got.max is None and got.min is not None, t
    back = Cast(Int(32), Intrinsic(f64, Op.ABS, (Cast(f64, Load(Int(64), buf, X)),)))
    got = bounds_of_expr(Max(Min(back, i32(18)), i32(2)), {})
    assert got == iv(2, 18)
    # Narrow integers keep their (informative) type limits.
    got = bounds_of_expr(Cast(f64, Load(Int(16), buf, X)), {})
    assert got == Interval(FloatImm(f64, -32768.0), FloatImm(f64, 32767.0))


def test_no_wrapped_constants_near_the_type_limits():
    # buf[0] spans all of int32, so (outer + buf[0]/2)*4 has no finite bounds:
    # folding its ends would wrap them.
    shifted = Intrinsic(Int(32), Op.SHIFT_RIGHT, (Load(Int(32), buf, i32(0)), i32(1)))
    e = Intrinsic(Int(32), Op.SHIFT_LEFT, (Add(A, shifted), i32(2)))
    assert bounds_of_expr(e, {}) == Interval.everything()
    # int16 min / -1 wraps.
    got = bounds_of_expr(Div(Load(Int(16), buf, X), make_const(Int(16), -1)), {})
    assert got == Interval(make_const(Int(16), -32768), make_const(Int(16), 32767))


def test_monotonic():
    assert is_monotonic(Y, x) is Monotonic.CONSTANT
    assert is_monotonic(Add(X, Y), x) is Monotonic.INCREASING
    assert is_monotonic(Sub(i32(10), Mul(X, i32(2))), x) is Monotonic.DECREASING
    assert is_monotonic(Mul(X, Y), x) is Monotonic.UNKNOWN
    assert is_monotonic(Min(Div(X, i32(2)), Y), x) is Monotonic.INCREASING
    assert is_monotonic(Sub(X, X), x) is Monotonic.UNKNOWN  # conservative
    assert is_monotonic(Load(Int(32), buf, X), x) is Monotonic.UNKNOWN
    assert is_monotonic(Let(z, Mul(X, i32(-1)), Add(Z, i32(1))), x) is Monotonic.DECREASING
    u = var(x, UInt(8))
    assert is_monotonic(Add(u, make_const(UInt(8), 1)), x) is Monotonic.UNKNOWN
    assert is_monotonic(Select(LT(Y, i32(3)), X, Add(X, i32(1))), x) is Monotonic.INCREASING



def test_monotonic_through_a_correlated_let():
    """A loop extent that bounds inference named (`max - min + 1`) moves either
    way, but `min + extent - 1` is the max: the let is put back and simplified."""
    lo, hi = Min(Div(X, i32(2)), Div(Add(X, i32(1)), i32(2))), Max(Div(X, i32(2)), Div(Add(X, i32(1)), i32(2)))
    extent = Add(Sub(hi, lo), i32(1))
    assert is_monotonic(extent, x) is Monotonic.UNKNOWN
    last = Let(z, extent, Div(Sub(Add(lo, Z), i32(1)), i32(2)))
    assert is_monotonic(last, x) is Monotonic.INCREASING
    # Nested: the outer let stays a name (increasing), the inner one cancels.
    nested = Let(y, Mul(X, i32(4)), Let(z, Add(Sub(Add(Y, i32(3)), Y), i32(1)), Add(Y, Z)))
    assert is_monotonic(nested, x) is Monotonic.INCREASING
    # A let that does not cancel stays unknown.
    assert is_monotonic(Let(z, extent, Sub(i32(0), Mul(Z, X))), x) is Monotonic.UNKNOWN
    assert is_monotonic(Let(z, Sub(Div(X, i32(2)), X), Add(X, Z)), x) is Monotonic.INCREASING


def test_monotonic_through_casts():
    assert is_monotonic(Cast(Int(64), X), x) is Monotonic.INCREASING
    assert is_monotonic(Cast(Float(32), Sub(i32(0), X)), x) is Monotonic.DECREASING
    assert is_monotonic(Cast(Int(8), X), x) is Monotonic.UNKNOWN   # wraps
    assert is_monotonic(Cast(Int(64), Y), x) is Monotonic.CONSTANT

# ---------------------------------------------------------------- property tests

I32, U8, I16 = Int(32), UInt(8), Int(16)
OUTER = Symbol("outer")               # a free variable: a symbolic point
INNER = {I32: [Symbol("i0"), Symbol("i1")], U8: [Symbol("u0")], I16: [Symbol("s0")]}


@st.composite
def scoped_env(draw):
    """A scope of intervals (some symbolic in OUTER) and one point inside it."""
    outer = draw(st.integers(-20, 20))
    env, scope = {OUTER: outer}, {}
    for s in INNER[I32]:
        kind = draw(st.sampled_from(["const", "symbolic", "below", "above", "free"]))
        lo = draw(st.integers(-30, 30))
        hi = lo + draw(st.integers(0, 12))
        if kind == "symbolic":
            scope[s] = Interval(Add(var(OUTER), i32(lo)), Add(var(OUTER), i32(hi)))
            lo, hi = lo + outer, hi + outer
        elif kind == "const":
            scope[s] = iv(lo, hi)
        elif kind == "below":
            scope[s] = iv(None, hi)
            lo = hi - 40
        elif kind == "above":
            scope[s] = iv(lo, None)
            hi = lo + 40
        env[s] = draw(st.integers(lo, hi))
    for t in (U8, I16):
        for s in INNER[t]:
            lo = draw(st.integers(t.min_value(), t.max_value()))
            hi = draw(st.integers(lo, t.max_value()))
            if draw(st.booleans()):
                scope[s] = Interval(make_const(t, lo), make_const(t, hi))
            else:
                lo, hi = t.min_value(), t.max_value()
            env[s] = draw(st.integers(lo, hi))
    return scope, env


@st.composite
def exprs(draw, t=I32, depth=4):
    if t.is_bool():
        if depth == 0 or draw(st.integers(0, 3)) == 0:
            ot = draw(st.sampled_from([I32, U8]))
            cls = draw(st.sampled_from([EQ, NE, LT, LE, GT, GE]))
            return cls(draw(exprs(ot, 1)), draw(exprs(ot, 1)))
        op = draw(st.sampled_from([And, Or, Not]))
        if op is Not:
            return Not(draw(exprs(t, depth - 1)))
        return op(draw(exprs(t, depth - 1)), draw(exprs(t, depth - 1)))
    if depth == 0 or draw(st.integers(0, 5)) == 0:
        choice = draw(st.integers(0, 3))
        if choice == 0 and t in INNER:
            return var(draw(st.sampled_from(INNER[t])), t)
        if choice == 1 and t == I32:
            return var(OUTER)
        if choice == 2 and t in INNER:
            return Load(t, buf, i32(0))
        return make_const(t, draw(st.integers(-9, 9) if t.is_int() else st.integers(0, 9)))
    op = draw(st.sampled_from([Add, Sub, Mul, Div, Mod, Min, Max, Select, Cast, Let, Intrinsic]))
    d = depth - 1
    if op is Select:
        return Select(draw(exprs(Bool(), 2)), draw(exprs(t, d)), draw(exprs(t, d)))
    if op is Cast:
        src = draw(st.sampled_from([s for s in (I32, U8, I16, Float(32)) if s != t]))
        if src.is_float():
            return Cast(t, Cast(src, draw(exprs(I32, d))))
        return Cast(t, draw(exprs(src, d)))
    if op is Let:
        sym = Symbol("l")
        return Let(sym, draw(exprs(t, d)), Add(var(sym, t), draw(exprs(t, d))))
    if op is Intrinsic:
        which = draw(st.sampled_from([Op.ABS, Op.BITWISE_AND, Op.SHIFT_RIGHT, Op.SHIFT_LEFT]))
        if which is Op.ABS:
            arg = draw(exprs(t, d))
            rt = t.with_code(UInt(8).code())
            return Cast(t, Intrinsic(rt, Op.ABS, (arg,))) if t.is_int() else arg
        k = make_const(t, draw(st.integers(0, 4)))
        return Intrinsic(t, which, (draw(exprs(t, d)), k))
    return op(draw(exprs(t, d)), draw(exprs(t, d)))


def _check_inside(e, scope, env):
    try:
        values = evaluate_expr(e, {**env, buf: [7]}, check_overflow=True)
    except OverflowError:
        assume(False)
    got = bounds_of_expr(e, scope)
    for end in (got.min, got.max):
        if end is not None:
            assert not free_symbols(end) & set(scope), f"{to_string(e)}: {got}"
    values = values if isinstance(values, tuple) else (values,)
    try:
        lo = None if got.min is None else evaluate_expr(got.min, env, check_overflow=True)
        hi = None if got.max is None else evaluate_expr(got.max, env, check_overflow=True)
    except OverflowError:
        assume(False)
    for v in values:
        assert lo is None or lo <= v, f"{to_string(e)} = {v} < {lo}: {got}"
        assert hi is None or v <= hi, f"{to_string(e)} = {v} > {hi}: {got}"


# Each property runs quickly by default and thoroughly under `pytest -m slow`.
SIZES = [pytest.param(300, id="quick"), pytest.param(5000, id="thorough", marks=pytest.mark.slow)]


def run_property(examples, prop):
    """Run `prop(data)` on `examples` hypothesis draws."""
    settings(max_examples=examples, deadline=None,
             suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])(
        given(st.data())(prop))()


def _values_lie_inside_bounds_int32(data):
    scope, env = data.draw(scoped_env())
    _check_inside(data.draw(exprs(I32)), scope, env)


@pytest.mark.parametrize("examples", SIZES)
def test_values_lie_inside_bounds_int32(examples):
    run_property(examples, _values_lie_inside_bounds_int32)


def _values_lie_inside_bounds_narrow(data):
    scope, env = data.draw(scoped_env())
    t = data.draw(st.sampled_from([U8, I16]))
    _check_inside(data.draw(exprs(t)), scope, env)


@pytest.mark.parametrize("examples", SIZES)
def test_values_lie_inside_bounds_narrow(examples):
    run_property(examples, _values_lie_inside_bounds_narrow)


def _values_lie_inside_bounds_bool(data):
    scope, env = data.draw(scoped_env())
    _check_inside(data.draw(exprs(Bool())), scope, env)


@pytest.mark.parametrize("examples", SIZES)
def test_values_lie_inside_bounds_bool(examples):
    run_property(examples, _values_lie_inside_bounds_bool)


def _values_lie_inside_bounds_vectors(data):
    scope, env = data.draw(scoped_env())
    lanes = 4
    base = data.draw(exprs(I32, 3))
    stride = data.draw(exprs(I32, 1))
    other = data.draw(exprs(I32, 2))
    op = data.draw(st.sampled_from([Add, Sub, Mul, Min, Max]))
    e = op(Ramp(base, stride, lanes), Broadcast(other, lanes))
    _check_inside(e, scope, env)


@pytest.mark.parametrize("examples", SIZES)
def test_values_lie_inside_bounds_vectors(examples):
    run_property(examples, _values_lie_inside_bounds_vectors)


def _monotonic_is_right_on_pairs(data):
    scope, env = data.draw(scoped_env())
    s = INNER[I32][0]
    e = data.draw(exprs(I32))
    m = is_monotonic(e, s)
    lo_env, hi_env = dict(env), dict(env)
    hi_env[s] = env[s] + data.draw(st.integers(1, 5))
    try:
        u = evaluate_expr(e, {**lo_env, buf: [7]}, check_overflow=True)
        v = evaluate_expr(e, {**hi_env, buf: [7]}, check_overflow=True)
    except OverflowError:
        assume(False)
    if m is Monotonic.CONSTANT:
        assert u == v, to_string(e)
    elif m is Monotonic.INCREASING:
        assert u <= v, to_string(e)
    elif m is Monotonic.DECREASING:
        assert u >= v, to_string(e)


@pytest.mark.parametrize("examples", SIZES)
def test_monotonic_is_right_on_pairs(examples):
    run_property(examples, _monotonic_is_right_on_pairs)
