"""The caches that make lowering fast must not change what it computes:
structural hashes agree with `==` and `same_expr`, cached free symbols are
what a walk finds (in the order it finds them), the canonical-sum shortcut
agrees with building the linear form, and the simplifier's shared results
are dropped when lowering ends."""
import random

import numpy as np

import pipelang as hl
from pipelang import ir
from pipelang.ir import (Add, Call, Float, FloatImm, Int, Mul, Provide, Sub, Symbol, i32,
                         make_const, var)
from pipelang.lowering import simplify_exprs
from pipelang.lowering.analysis.linear import (is_canonical_sum, linear_form, same_expr,
                                               same_shape)
from pipelang.lowering.analysis.mentions import Mentions
from pipelang.lowering.lower import lower

x, y, z = (Symbol(n) for n in "xyz")
X, Y, Z = var(x), var(y), var(z)


def test_structural_hash_agrees_with_equality():
    a = Add(Mul(X, i32(3)), Sub(Y, i32(1)))
    b = Add(Mul(X, i32(3)), Sub(Y, i32(1)))       # equal, not the same object
    assert a is not b and a == b and hash(a) == hash(b)
    assert a != Add(Mul(X, i32(3)), Sub(Z, i32(1)))
    assert a != Add(Mul(var(Symbol("x")), i32(3)), Sub(Y, i32(1)))   # symbols by identity
    assert hash(a) == hash(a) and a._shash == hash(a)   # computed once, then kept
    # Floats: NaN hashes alike (same_expr calls it equal); 0.0 and -0.0 are
    # == (and hash alike) but not same_expr.
    nan1, nan2 = FloatImm(Float(32), float("nan")), FloatImm(Float(32), float("nan"))
    assert hash(nan1) == hash(nan2) and same_expr(nan1, nan2)
    pz, nz = FloatImm(Float(32), 0.0), FloatImm(Float(32), -0.0)
    assert pz == nz and hash(pz) == hash(nz) and not same_expr(pz, nz)
    # Nodes work as dict keys by structure.
    assert {a: 1}[b] == 1
    # Statements too.
    s1 = Provide(x, (a,), (X,))
    s2 = Provide(x, (b,), (X,))
    assert s1 == s2 and hash(s1) == hash(s2)


def _walk_order(node) -> list:
    """The Variables' symbols in the order a visitor meets them (first time)."""
    out = []

    class Walk(ir.IRVisitor):
        def visit_Variable(self, n):
            if n.sym not in out:
                out.append(n.sym)
    Walk().visit(node)
    return out


def test_free_symbols_cached_in_walk_order():
    rng = random.Random(5)
    syms = [Symbol(f"s{i}") for i in range(12)]
    for _ in range(200):
        e = var(rng.choice(syms))
        for _ in range(rng.randrange(1, 12)):
            other = var(rng.choice(syms)) if rng.random() < 0.7 else i32(rng.randrange(9))
            e = rng.choice([Add, Sub, Mul])(e, other) if rng.random() < 0.5 else \
                rng.choice([Add, Sub, Mul])(other, e)
        if rng.random() < 0.3:
            e = ir.Let(rng.choice(syms), var(rng.choice(syms)), e)
        want = _walk_order(e)
        got = ir.free_symbols(e)
        assert got == set(want)
        assert list(got) == list(set(want))        # iterates as a walk-built set would
        got.add(Symbol("other"))                     # the caller's own set
        assert ir.free_symbols(e) == set(want)


def _random_sums_agree(rng, n, atoms, const, head_coeffs, term_consts, term_coeffs, ops):
    """{shortcut's answer: count} over `n` random sums; every sum the shortcut
    takes as canonical must build back to the same shape."""
    seen = {True: 0, False: 0}
    for _ in range(n):
        e = rng.choice(atoms)
        if rng.random() < 0.5:
            e = Mul(e, const(rng.choice(head_coeffs)))
        for _ in range(rng.randrange(1, 6)):
            term = rng.choice(atoms + [const(rng.choice(term_consts))])
            if rng.random() < 0.3:
                term = Mul(term, const(rng.choice(term_coeffs)))
            e = rng.choice(ops)(e, term)
        if type(e) not in (Add, Sub):
            continue
        fast = is_canonical_sum(e)
        seen[fast] += 1
        if fast:
            assert same_shape(linear_form(e).build(), e), ir.to_string(e)
    return seen


def test_canonical_sum_shortcut_agrees_with_building():
    rng = random.Random(7)
    atoms = [X, Y, Z, Mul(X, Y), ir.Div(Y, i32(2))]
    seen = _random_sums_agree(rng, 3000, atoms, i32, [-2, 2, 3], range(-3, 4), [-1, 2, 4], [Add, Sub])
    assert seen[True] > 100 and seen[False] > 100
    # Wrapping types: taken on trust only where the build's wrapping of
    # coefficients and constant leaves them as they are.
    for t in (ir.UInt(8), ir.UInt(16), ir.Int(8), ir.Int(16)):
        watoms = [var(x, t), var(y, t), var(z, t), Mul(var(x, t), var(y, t))]
        seen = _random_sums_agree(rng, 2000, watoms, lambda v, t=t: make_const(t, v),
                                  [2, 3, 127, 200, 255], [1, 3, 100, 127, 128, 200],
                                  [2, 5, 127, 128, 255], [Add, Add, Sub])
        assert seen[True] > 50 and seen[False] > 50, (t, seen)
    one_bit = var(x, ir.UInt(1))
    assert not is_canonical_sum(Add(one_bit, var(y, ir.UInt(1))))


def test_types_and_constants_are_shared():
    assert Int(32) is Int(32) and Int(32).with_lanes(8) is Int(32, 8)
    assert Int(32, 8).element_of() is Int(32) and hl.Int(16) == ir.Int(16)
    assert i32(7) is i32(7) and make_const(Int(8), 200).value == -56
    assert i32(2**31).value == 2**31                  # as written, not wrapped


def test_mentions():
    f, g = Symbol("f"), Symbol("g")
    call = Call(Int(32), g, (X,))
    s = ir.Block((Provide(f, (Add(call, i32(1)),), (X,)), ir.Evaluate(i32(0))))
    m = Mentions()
    assert m.of(s) == {f, g}
    assert m.of(s.stmts[1]) == set()
    assert m.of(s) is m.of(s)                          # remembered


def test_unscoped_results_dropped_after_lowering():
    data = np.arange(8, dtype=np.int32)
    inp = hl.Buffer(data)
    f = hl.Func("f")
    xv = hl.Var("x")
    f[xv] = inp[xv] * 2 + 1
    lowered = lower([f.function], "f")[0]
    assert simplify_exprs._UNSCOPED == {}              # no IR kept between compiles
    assert isinstance(lowered, ir.LoweredFunc)
    out = hl.Pipeline(f).realize([8])
    np.testing.assert_array_equal(np.asarray(out), data * 2 + 1)
