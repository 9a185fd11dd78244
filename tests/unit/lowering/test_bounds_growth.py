"""Bounds of deep pipelines stay small: rounded-up multiples are compared
exactly, and large intermediate bounds are named by lets (as Halide does)
instead of being copied into every bound that uses them."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipelang as hl
from pipelang import ir
from pipelang.ir import Add, Div, Int, Let, Max, Min, Mul, Sub, Symbol, i32, var
from pipelang.lowering.analysis.evaluate import evaluate_expr
from pipelang.lowering.analysis.intervals import Interval, bounds_of_expr
from pipelang.lowering.lower import lower_to_loop_nest
from pipelang.lowering.simplify import simplify

e_sym = Symbol("e")
E = var(e_sym)


@pytest.mark.parametrize("before, expected", [
    # ceil(e/32)*32 - 32 >= e - 32: the max of a ShiftInwards split's last vector
    (Min(Sub(Mul(Div(Add(E, i32(31)), i32(32)), i32(32)), i32(32)), Sub(E, i32(32))), Sub(E, i32(32))),
    (Max(Mul(Div(Add(E, i32(31)), i32(32)), i32(32)), E), Mul(Div(Add(E, i32(31)), i32(32)), i32(32))),
    (Min(Mul(Div(E, i32(8)), i32(8)), E), Mul(Div(E, i32(8)), i32(8))),
])
def test_rounded_multiples_are_compared(before, expected):
    assert simplify(before) == expected, ir.to_string(simplify(before))


def test_undecided_rounding_is_kept():
    e = Max(Mul(Div(Add(E, i32(30)), i32(32)), i32(32)), E)    # e = 1: 0 < 1, e = 32: 32 = 32
    assert isinstance(simplify(e), Max)


@settings(max_examples=200, deadline=None)
@given(c0=st.integers(-40, 40), c1=st.integers(1, 40), c2=st.integers(-40, 40),
       k=st.sampled_from([1, 2, -1]), value=st.integers(-200, 200), is_min=st.booleans())
def test_rounding_rule_preserves_values(c0, c1, c2, k, value, is_min):
    rounded = Mul(Div(Add(E, i32(c0)), i32(c1)), i32(c1 * k))
    e = (Min if is_min else Max)(rounded, Add(Mul(E, i32(k)), i32(c2)))
    env = {e_sym: value}
    assert evaluate_expr(simplify(e), env) == evaluate_expr(e, env)


def test_big_let_bounds_are_named_not_copied():
    # A let whose value's bounds are large is bound once, not substituted twice.
    x, v = Symbol("x"), Symbol("v")
    big = E
    for i in range(40):
        big = Add(big, Min(Mul(var(x), i32(i)), Add(E, i32(i))))
    body = Add(var(v), var(v))
    iv = bounds_of_expr(Let(v, big, body), {x: Interval(i32(0), i32(7))})
    assert isinstance(iv.max, Let) and isinstance(iv.min, Let)
    for value in (-3, 5):
        for end, xv in ((iv.min, 0), (iv.max, 7)):
            want = evaluate_expr(Let(v, big, body), {e_sym: value, x: xv})
            assert evaluate_expr(end, {e_sym: value}) == want


def _chain(stages, width=96, height=40):
    x, y = hl.Var("x"), hl.Var("y")
    inp = np.arange(width * height, dtype=np.uint16).reshape(height, width) * np.uint16(7)
    fs = [hl.BoundaryConditions.repeat_edge(hl.Buffer(inp))]
    for s in range(stages):
        f = hl.Func(f"chain{s}")
        f[x, y] = fs[-1][x - 1, y] + fs[-1][x + 1, y] * 2 + fs[-1][x, y + 1]
        fs.append(f)
    out = hl.Func("chain_out")
    out[x, y] = fs[-1][x, y]
    xo, yo, xi, yi = (hl.Var(n) for n in ("xo", "yo", "xi", "yi"))
    out.compute_root().tile(x, y, xo, yo, xi, yi, width // 2, height // 2).vectorize(xi, 16)
    for f in fs[1:]:
        f.store_at(out, xo).compute_at(out, yi).vectorize(f.args()[0], 16)

    return out, inp


def _numpy_chain(inp, stages, width, height):
    r = stages
    a = np.pad(inp, r, mode="edge")
    h, w = a.shape
    for _ in range(stages):
        b = np.zeros_like(a)
        b[:-1, 1:-1] = a[:-1, :-2] + a[:-1, 2:] * np.uint16(2) + a[1:, 1:-1]
        a = b
    return a[r:r + height, r:r + width]


def test_deep_chain_bounds_grow_linearly_and_compute_right():
    sizes = {}
    for n in (3, 6):
        out, _ = _chain(n)
        s = lower_to_loop_nest([out.function])[0]
        sizes[n] = len(ir.to_string(s))
    # Doubling per stage would make this 8x; linear growth keeps it near 2x.
    assert sizes[6] < 4 * sizes[3], sizes   # (it was 20x)
    out, inp = _chain(6)
    got = out.realize([96, 40])
    np.testing.assert_array_equal(np.asarray(got), _numpy_chain(inp, 6, 96, 40))


@pytest.mark.parametrize("before, expected", [
    # Bounds of a downsampling pyramid: quotients of ordered numerators are ordered.
    (Max(Div(E, i32(2)), Div(Add(E, i32(1)), i32(2))), Div(Add(E, i32(1)), i32(2))),
    (Min(Div(E, i32(2)), Div(Add(E, i32(1)), i32(2))), Div(E, i32(2))),
    (Min(Div(Add(E, i32(3)), i32(4)), Div(Add(E, i32(1)), i32(4))), Div(Add(E, i32(1)), i32(4))),
    # Nested quotients with an offset in between are one quotient.
    (Div(Add(Div(Add(E, i32(1)), i32(2)), i32(1)), i32(2)), Div(Add(E, i32(3)), i32(4))),
    (Div(Sub(Div(E, i32(4)), i32(1)), i32(2)), Sub(Div(Add(E, i32(4)), i32(8)), i32(1))),
])
def test_quotients_are_compared_and_merged(before, expected):
    assert simplify(before) == expected, ir.to_string(simplify(before))


def test_quotients_of_unordered_numerators_are_kept():
    e = Min(Div(E, i32(2)), Div(Sub(i32(1), E), i32(2)))
    assert isinstance(simplify(e), Min)
    assert isinstance(simplify(Max(Div(E, i32(2)), Div(E, i32(3)))), Max)


@settings(max_examples=300, deadline=None)
@given(c1=st.integers(1, 9), c2=st.integers(1, 9), k=st.integers(-20, 20), k2=st.integers(-20, 20),
       value=st.integers(-300, 300), is_min=st.booleans())
def test_quotient_rules_preserve_values(c1, c2, k, k2, value, is_min):
    nested = Div(Add(Div(Add(E, i32(k2)), i32(c1)), i32(k)), i32(c2))
    pair = (Min if is_min else Max)(Div(Add(E, i32(k)), i32(c1)), Div(Add(E, i32(k2)), i32(c1)))
    env = {e_sym: value}
    for e in (nested, pair, Add(nested, pair)):
        assert evaluate_expr(simplify(e), env) == evaluate_expr(e, env)
