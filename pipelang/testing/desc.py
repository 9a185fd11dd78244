"""Pipeline descriptions: plain frozen data that a random generator produces,
the reference evaluator interprets, and `pipeline_source` prints as Python
source for any module ``hl`` with Halide's API.

A description is a DAG of 2-D stages over the pure vars ``x`` and ``y``.  Every
expression node carries its type; binary operands always have equal types, so
the printed program never depends on implicit type promotion.

The value-range analysis that keeps descriptions free of undefined behaviour
lives in `analysis`.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np


class TypeCode(enum.Enum):
    INT = "Int"
    UINT = "UInt"
    FLOAT = "Float"
    BOOL = "Bool"


@dataclass(frozen=True, slots=True)
class Ty:
    code: TypeCode
    bits: int

    @property
    def is_float(self) -> bool:
        return self.code is TypeCode.FLOAT

    @property
    def is_int(self) -> bool:
        return self.code in (TypeCode.INT, TypeCode.UINT)

    @property
    def is_signed(self) -> bool:
        return self.code is TypeCode.INT

    @property
    def is_bool(self) -> bool:
        return self.code is TypeCode.BOOL

    @property
    def min(self) -> float:
        if self.is_float:
            return -float(np.finfo(self.dtype).max)
        if self.code is TypeCode.INT:
            return -(1 << (self.bits - 1))
        return 0

    @property
    def max(self) -> float:
        if self.is_float:
            return float(np.finfo(self.dtype).max)
        if self.code is TypeCode.INT:
            return (1 << (self.bits - 1)) - 1
        if self.is_bool:
            return 1
        return (1 << self.bits) - 1

    @property
    def mantissa(self) -> int:
        return 24 if self.bits == 32 else 53

    @property
    def dtype(self) -> np.dtype:
        if self.is_bool:
            return np.dtype(np.bool_)
        kind = {TypeCode.INT: "i", TypeCode.UINT: "u", TypeCode.FLOAT: "f"}[self.code]
        return np.dtype(f"{kind}{self.bits // 8}")

    def source(self) -> str:
        """The cast function of Halide's Python API: hl.u8, hl.f32, ..."""
        if self.is_bool:
            return "hl.Bool()"
        letter = {TypeCode.INT: "i", TypeCode.UINT: "u", TypeCode.FLOAT: "f"}[self.code]
        return f"hl.{letter}{self.bits}"

    def type_source(self) -> str:
        if self.is_bool:
            return "hl.Bool()"
        return f"hl.{self.code.value}({self.bits})"

    def __repr__(self) -> str:
        return self.source().removeprefix("hl.")


I8, I16, I32 = Ty(TypeCode.INT, 8), Ty(TypeCode.INT, 16), Ty(TypeCode.INT, 32)
U8, U16, U32 = Ty(TypeCode.UINT, 8), Ty(TypeCode.UINT, 16), Ty(TypeCode.UINT, 32)
I64, U64 = Ty(TypeCode.INT, 64), Ty(TypeCode.UINT, 64)
F32, F64 = Ty(TypeCode.FLOAT, 32), Ty(TypeCode.FLOAT, 64)
BOOL = Ty(TypeCode.BOOL, 1)


class BinOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    MIN = "min"
    MAX = "max"
    AND = "&"
    OR = "|"
    XOR = "^"
    SHL = "<<"
    SHR = ">>"
    ABSD = "absd"
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="
    LAND = "land"
    LOR = "lor"


COMPARISONS = (BinOp.LT, BinOp.LE, BinOp.EQ, BinOp.NE)


class UnOp(enum.Enum):
    NEG = "-"
    NOT = "~"
    ABS = "abs"
    FLOOR = "floor"
    CEIL = "ceil"
    ROUND = "round"
    TRUNC = "trunc"
    SQRT = "sqrt"
    EXP = "exp"


def _unsigned_of(t: Ty) -> Ty:
    return Ty(TypeCode.UINT, t.bits) if t.code is TypeCode.INT else t


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Var:
    name: str  # "x" or "y"
    ty: Ty = field(default=I32, repr=False)


@dataclass(frozen=True, slots=True)
class RVarRef:
    rdom: str  # the RDom's name; its dimension index below
    dim: int
    ty: Ty = field(default=I32, repr=False)


@dataclass(frozen=True, slots=True)
class Const:
    ty: Ty
    value: float | int

    def __post_init__(self):
        assert self.ty.min <= self.value <= self.ty.max, self


@dataclass(frozen=True, slots=True)
class Param:
    """A scalar `hl.Param(type, name, value)`: a constant the compiler cannot see."""
    name: str
    ty: Ty
    value: float | int | bool

    def __post_init__(self):
        assert self.ty.min <= self.value <= self.ty.max, self


@dataclass(frozen=True, slots=True)
class Cast:
    ty: Ty
    a: "Expr"


@dataclass(frozen=True, slots=True)
class Bin:
    op: BinOp
    a: "Expr"
    b: "Expr"
    ty: Ty = field(init=False, repr=False)

    def __post_init__(self):
        assert self.a.ty == self.b.ty, (self.op, self.a.ty, self.b.ty)
        if self.op in COMPARISONS:
            ty = BOOL
        elif self.op is BinOp.ABSD:
            ty = _unsigned_of(self.a.ty)
        else:
            ty = self.a.ty
        assert (self.op in (BinOp.LAND, BinOp.LOR)) == self.a.ty.is_bool, self
        object.__setattr__(self, "ty", ty)


@dataclass(frozen=True, slots=True)
class Un:
    op: UnOp
    a: "Expr"
    ty: Ty = field(init=False, repr=False)

    def __post_init__(self):
        ty = _unsigned_of(self.a.ty) if self.op is UnOp.ABS else self.a.ty
        object.__setattr__(self, "ty", ty)


@dataclass(frozen=True, slots=True)
class Select:
    cond: "Expr"
    t: "Expr"
    f: "Expr"
    ty: Ty = field(init=False, repr=False)

    def __post_init__(self):
        assert self.cond.ty.is_bool and self.t.ty == self.f.ty, self
        object.__setattr__(self, "ty", self.t.ty)


@dataclass(frozen=True, slots=True)
class Clamp:
    a: "Expr"
    lo: "Expr"
    hi: "Expr"
    ty: Ty = field(init=False, repr=False)

    def __post_init__(self):
        assert self.a.ty == self.lo.ty == self.hi.ty, self
        object.__setattr__(self, "ty", self.a.ty)


@dataclass(frozen=True, slots=True)
class Call:
    """`func[args]`, or `func[args][index]` for a Tuple-valued stage (index >= 0)."""
    func: str
    ty: Ty
    args: tuple  # two int32 Exprs
    index: int = -1

    def __post_init__(self):
        assert all(a.ty == I32 for a in self.args), self


@dataclass(frozen=True, slots=True)
class InlineReduce:
    """`hl.sum/maximum/minimum/argmax/argmin(term)` over the RDom `rdom_name` =
    `rdom`; accumulates in the term's type (wrapping for narrow ints).  For
    argmax/argmin, `index` picks the Tuple element: an RVar's coordinate
    (int32) for 0 <= index < dimensions, else the best value.  `form` is the
    call form printed: 0 `hl.sum(term)`, 1 `hl.sum(term, "name")`, 2
    `hl.sum(rdom, term)`."""
    op: "ReduceOp"
    rdom_name: str
    rdom: tuple
    term: "Expr"
    index: int = -1
    form: int = 0
    ty: Ty = field(init=False, repr=False)

    def __post_init__(self):
        is_coord = self.op in (ReduceOp.ARGMAX, ReduceOp.ARGMIN) and 0 <= self.index < len(self.rdom)
        object.__setattr__(self, "ty", I32 if is_coord else self.term.ty)


Expr = Var | RVarRef | Const | Param | Cast | Bin | Un | Select | Clamp | Call | InlineReduce


def children(e: Expr) -> tuple:
    if isinstance(e, (Cast, Un)):
        return (e.a,)
    if isinstance(e, InlineReduce):
        return (e.term,)
    if isinstance(e, Bin):
        return (e.a, e.b)
    if isinstance(e, Select):
        return (e.cond, e.t, e.f)
    if isinstance(e, Clamp):
        return (e.a, e.lo, e.hi)
    if isinstance(e, Call):
        return e.args
    return ()


def walk(e: Expr):
    yield e
    for c in children(e):
        yield from walk(c)


def calls(e: Expr):
    return [n for n in walk(e) if isinstance(n, Call)]


def substitute(e: Expr, old: Expr, new: Expr) -> Expr:
    """Replaces the subtree `old` (by identity) with `new`."""
    if e is old:
        return new
    if isinstance(e, Cast):
        return Cast(e.ty, substitute(e.a, old, new))
    if isinstance(e, Un):
        return Un(e.op, substitute(e.a, old, new))
    if isinstance(e, Bin):
        return Bin(e.op, substitute(e.a, old, new), substitute(e.b, old, new))
    if isinstance(e, Select):
        return Select(*(substitute(c, old, new) for c in (e.cond, e.t, e.f)))
    if isinstance(e, Clamp):
        return Clamp(*(substitute(c, old, new) for c in (e.a, e.lo, e.hi)))
    if isinstance(e, Call):
        return Call(e.func, e.ty, tuple(substitute(c, old, new) for c in e.args), e.index)
    if isinstance(e, InlineReduce):
        return InlineReduce(e.op, e.rdom_name, e.rdom, substitute(e.term, old, new), e.index, e.form)
    return e


def inline_rdoms(e: Expr) -> dict:
    """RDom name -> bounds of every inline reduction in `e`."""
    return {n.rdom_name: n.rdom for n in walk(e) if isinstance(n, InlineReduce)}


# --------------------------------------------------------------------- stages


class ReduceOp(enum.Enum):
    SUM = "sum"
    MAX = "max"
    MIN = "min"
    ARGMAX = "argmax"  # inline reductions only
    ARGMIN = "argmin"


class BCKind(enum.Enum):
    CONSTANT_EXTERIOR = "constant_exterior"
    REPEAT_EDGE = "repeat_edge"
    REPEAT_IMAGE = "repeat_image"
    MIRROR_IMAGE = "mirror_image"
    MIRROR_INTERIOR = "mirror_interior"


@dataclass(frozen=True, slots=True)
class Input:
    """A 2-D input buffer filled from `seed` with integers in [lo, hi],
    divided by `scale` for floats (so float inputs are exact)."""
    name: str
    ty: Ty
    size: tuple  # (width, height)
    min: tuple  # (x, y) of its first element
    lo: int
    hi: int
    seed: int
    scale: int = 1


@dataclass(frozen=True, slots=True)
class Update:
    """`f[lhs] = op(f[read], term)` over `rdom` (tuple of (min, extent)),
    where `where` (if any) holds."""
    rdom_name: str
    rdom: tuple
    where: Expr | None
    lhs: tuple
    op: ReduceOp
    read: tuple
    term: Expr
    term2: Expr | None = None  # a Tuple stage's second element: op2(f[read][1], term2)
    op2: ReduceOp = ReduceOp.SUM


@dataclass(frozen=True, slots=True)
class Stage:
    """`implicit`: the pure definition is left to Halide (the value is the
    identity 0) and the first update, a sum with read == lhs, prints as
    `f[lhs] += term`."""
    name: str
    ty: Ty
    value: Expr
    updates: tuple = ()
    implicit: bool = False
    ty2: Ty | None = None  # a Tuple-valued stage: (value, value2)
    value2: Expr | None = None

    @property
    def is_tuple(self) -> bool:
        return self.value2 is not None

    @property
    def prints_implicit(self) -> bool:
        u = self.updates[0] if self.updates else None
        return (self.implicit and u is not None and u.op is ReduceOp.SUM and not self.is_tuple and u.read == u.lhs
                and isinstance(self.value, Const) and self.value.value == 0)


@dataclass(frozen=True, slots=True)
class Boundary:
    """`hl.BoundaryConditions.<kind>(source, bounds)`; for an Input source the
    bounds are the buffer's own and are not printed."""
    name: str
    ty: Ty
    kind: BCKind
    source: str
    bounds: tuple  # ((min, extent), (min, extent))
    exterior: Const | None = None


@dataclass(frozen=True, slots=True)
class PipelineDesc:
    inputs: tuple
    stages: tuple  # producers before consumers; the last is the output
    out_size: tuple
    out_min: tuple

    @property
    def output(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str):
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def input(self, name: str) -> Input | None:
        for i in self.inputs:
            if i.name == name:
                return i
        return None

    def producer_type(self, name: str) -> Ty:
        i = self.input(name)
        return i.ty if i is not None else self.stage(name).ty


def stage_exprs(s) -> list:
    """Every expression of a stage (values, update args, terms, predicates)."""
    if isinstance(s, Boundary):
        return [s.exterior] if s.exterior is not None else []
    out = [s.value] + ([s.value2] if s.value2 is not None else [])
    for u in s.updates:
        out += list(u.lhs) + list(u.read) + [u.term] + ([u.term2] if u.term2 is not None else [])
        if u.where is not None:
            out.append(u.where)
    return out


def make_input(inp: Input) -> np.ndarray:
    """The input's data as a numpy array in Halide's axis order reversed,
    i.e. shape (height, width), ready for hl.Buffer(array)."""
    rng = np.random.default_rng(inp.seed)
    w, h = inp.size
    data = rng.integers(inp.lo, inp.hi, size=(h, w), endpoint=True, dtype=np.int64)
    if inp.ty.is_float:
        return (data.astype(np.float64) / inp.scale).astype(inp.ty.dtype)
    return data.astype(inp.ty.dtype)


def binds_rdom(u: Update) -> bool:
    """Halide binds an RDom to an update only through RVars in its LHS or RHS;
    otherwise the update runs once per pure point and where() is dropped."""
    rhs = [u.term] + ([u.term2] if u.term2 is not None else [])
    return any(isinstance(n, RVarRef) for e in list(u.lhs) + list(u.read) + rhs for n in walk(e))


def rdom_points(rdom: tuple) -> int:
    return math.prod(ext for _, ext in rdom)


def params(desc: PipelineDesc) -> list:
    """Every distinct Param the description uses, in first-use order."""
    seen = {}
    for s in desc.stages:
        for e in stage_exprs(s):
            for n in walk(e):
                if isinstance(n, Param):
                    seen.setdefault(n.name, n)
    return list(seen.values())


def element(name: str, index: int) -> str:
    """The key of a stage's Tuple element in analysis and reference tables."""
    return name if index <= 0 else f"{name}#{index}"
