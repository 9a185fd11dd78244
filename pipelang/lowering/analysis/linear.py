"""Linear forms of integer Exprs, and structural equality that knows floats.

`linear_form(e)` reads `e` as sum(k * term) + c, looking through `+`, `-` and
multiplication by constants; terms are the other subexpressions, compared
structurally. `build()` writes the canonical Expr back: positive terms in order
of first appearance, then negative ones, then the constant.

    >>> linear_form(Add(Sub(Add(var(a), i32(3)), i32(1)), Sub(var(b), var(a)))).build()
    (b + 2)

Coefficients are exact Python ints for Int(32)/Int(64) (assumed not to
overflow) and are reduced modulo 2**bits for wrapping types, where `+`, `-`
and `*` are ring operations, so the form is exact for every integer type.
"""
from __future__ import annotations

import dataclasses
import math

from pipelang.ir import nodes as N
from pipelang.ir.nodes import Add, Mul, Sub, make_const
from pipelang.ir.types import Type
from pipelang.lowering.analysis.evaluate import no_overflow

_CONSTS = (N.IntImm, N.UIntImm, N.FloatImm)
_INT_CONSTS = (N.IntImm, N.UIntImm)


def same_expr(a, b) -> bool:
    """Structural equality, cheap when the operands share subtrees or differ
    (their cached structural hashes then differ, in all but rare collisions).

    Unlike `==` it tells 0.0 from -0.0 (which Python's float `==` does not),
    and it treats a NaN constant as equal to itself.
    """
    if a is b:
        return True
    cls = type(a)
    if cls is not type(b):
        return False
    if a.__hash__() != b.__hash__():     # cached per node: different trees part here
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
            if not same_expr(x, y):
                return False
        elif isinstance(x, tuple):
            if len(x) != len(y) or not all(
                    same_expr(i, j) if isinstance(i, N.Expr) else i == j for i, j in zip(x, y)):
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
    return _wrapped(t, v)


def _wrapped(t: Type, v: int) -> int:
    bits = t.bits()
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


class LinearForm:
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
        elif cls is Mul and type(e.b) in _INT_CONSTS:
            self.add(e.a, k * e.b.value)
        elif cls is Mul and type(e.a) in _INT_CONSTS:
            self.add(e.b, k * e.a.value)
        else:
            # Terms of another node class, or with another (cached) hash,
            # differ: only the rest are asked of same_expr (a sum of n
            # terms compares each with every one before it).
            h = None
            for pair in self.terms:
                t = pair[0]
                if t is not e:
                    if type(t) is not cls:
                        continue
                    if h is None:
                        h = e.__hash__()
                    if t.__hash__() != h or not same_expr(t, e):
                        continue
                pair[1] += k
                return
            self.terms.append([e, k])

    def normalize(self) -> "LinearForm":
        t = self.t
        if no_overflow(t):
            if any(pair[1] == 0 for pair in self.terms):
                self.terms = [pair for pair in self.terms if pair[1] != 0]
            return self
        self.terms = [[e, _wrapped(t, k)] for e, k in self.terms if _wrapped(t, k) != 0]
        self.const = _wrapped(t, self.const)
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


def linear_form(e: N.Expr) -> LinearForm:
    lin = LinearForm(e.type)
    lin.add(e, 1)
    return lin.normalize()


def linear_difference(a: N.Expr, b: N.Expr) -> LinearForm:
    lin = LinearForm(a.type)
    lin.add(a, 1)
    lin.add(b, -1)
    return lin.normalize()


def _canonical_term(e):
    """(atom, k) when `e` is a term as `LinearForm.build` writes it with
    coefficient k >= 1 (`atom` or `atom * k`), else None."""
    cls = type(e)
    if cls is Mul:
        b = e.b
        if type(b) is not N.IntImm:
            if type(b) is N.UIntImm or type(e.a) in _INT_CONSTS:
                return None
            return e            # a product of non-constants: itself a term (k = 1)
        if b.value <= 1:
            return None
        e = e.a
        cls = type(e)
    if cls is Add or cls is Sub or cls is N.IntImm or cls is N.UIntImm:
        return None
    if cls is Mul and (type(e.a) in _INT_CONSTS or type(e.b) in _INT_CONSTS):
        return None
    return e


def is_canonical_sum(e) -> bool:
    """Whether `linear_form(e).build()` would give `e` back (same shape):
    positive terms, then negative ones, then a nonzero constant, the terms'
    atoms all different. Read off `e` without building anything; False
    also where unsure (a constant first, products in wrapping types): the
    caller then builds and compares."""
    if not no_overflow(e.type):
        return _is_canonical_wrapping_sum(e)
    node = e
    cls = type(node)
    if (cls is Add or cls is Sub) and type(node.b) is N.IntImm:
        if node.b.value <= 0:
            return False
        node = node.a
        cls = type(node)
    atoms = []
    for op in (Sub, Add):           # the negative terms are outermost, then the positive
        while cls is op:
            atom = _canonical_term(node.b)
            if atom is None:
                return False
            atoms.append(atom)
            node = node.a
            cls = type(node)
    atom = _canonical_term(node)        # the first term: positive
    if atom is None:
        return False
    atoms.append(atom)
    return _all_different(atoms)


def _all_different(atoms) -> bool:
    if len(atoms) == 1:
        return True
    if len(atoms) == 2:
        return not same_expr(atoms[0], atoms[1])
    return len({a.__hash__() for a in atoms}) == len(atoms)


_NOT_ATOMS = (Add, Sub, Mul, N.IntImm, N.UIntImm)


def _is_canonical_wrapping_sum(e) -> bool:
    """`is_canonical_sum` for a type that wraps (Int(8), UInt(16)...): only
    a sum of different atoms, each alone or times a constant in
    (1, 2**(bits-1)), then perhaps a positive constant below 2**(bits-1):
    what the build's wrapping leaves as it is. (A stencil's weighted sum of
    uint16 samples is otherwise rebuilt at each of its Adds: n^2.)"""
    bits = e.type.bits()
    if bits < 8:            # in one bit, a coefficient of 1 wraps to -1
        return False
    limit = 1 << (bits - 1)
    node = e
    if type(node) is Add and type(node.b) in _INT_CONSTS:
        if not 0 < node.b.value < limit:
            return False
        node = node.a
    atoms = []
    while type(node) is Add:
        atom = _wrapping_term(node.b, limit)
        if atom is None:
            return False
        atoms.append(atom)
        node = node.a
    atom = _wrapping_term(node, limit)
    if atom is None:
        return False
    atoms.append(atom)
    return _all_different(atoms)


def _wrapping_term(e, limit):
    """The atom of `e` when it is a term as the build writes it in a wrapping
    type with a coefficient in [1, limit), else None."""
    if type(e) is Mul:
        k = e.b
        if type(k) not in _INT_CONSTS or not 1 < k.value < limit:
            return None
        e = e.a
    return None if type(e) in _NOT_ATOMS else e


def same_shape(new, old) -> bool:
    """Whether a rebuilt sum is the one we started from (its atoms are shared)."""
    if new is old:
        return True
    cls = type(new)
    if cls is not type(old):
        return False
    if cls is Add or cls is Sub or cls is Mul:
        return same_shape(new.a, old.a) and same_shape(new.b, old.b)
    return same_expr(new, old)


# ---------------------------------------------------------------- the simplifier
