"""Pipeline descriptions: plain frozen data that a random generator produces,
the reference evaluator interprets, and `pipeline_source` prints as Python
source for any module ``hl`` with Halide's API.

A description is a DAG of 2-D stages over the pure vars ``x`` and ``y``.  Every
expression node carries its type; binary operands always have equal types, so
the printed program never depends on implicit type promotion.

`analyze` is the value-range analysis that keeps programs free of undefined
behaviour: no signed 32-bit overflow, no float->int cast of an out-of-range or
inexact value, no INT_MIN / -1.  Floats are tracked as *exact* (dyadic values
small enough that every operation rounds nothing, so results are bit-exact
whatever order a compiler evaluates them in) or *inexact* with an absolute
error bound that the differential harness uses as its tolerance.
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
    func: str
    ty: Ty
    args: tuple  # two int32 Exprs

    def __post_init__(self):
        assert all(a.ty == I32 for a in self.args), self


@dataclass(frozen=True, slots=True)
class InlineReduce:
    """`hl.sum/maximum/minimum(term)` over the RDom `rdom_name` = `rdom`;
    accumulates in the term's type (wrapping for narrow ints)."""
    op: "ReduceOp"
    rdom_name: str
    rdom: tuple
    term: "Expr"
    ty: Ty = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "ty", self.term.ty)


Expr = Var | RVarRef | Const | Cast | Bin | Un | Select | Clamp | Call | InlineReduce


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
        return Call(e.func, e.ty, tuple(substitute(c, old, new) for c in e.args))
    if isinstance(e, InlineReduce):
        return InlineReduce(e.op, e.rdom_name, e.rdom, substitute(e.term, old, new))
    return e


def inline_rdoms(e: Expr) -> dict:
    """RDom name -> bounds of every inline reduction in `e`."""
    return {n.rdom_name: n.rdom for n in walk(e) if isinstance(n, InlineReduce)}


# --------------------------------------------------------------------- stages


class ReduceOp(enum.Enum):
    SUM = "sum"
    MAX = "max"
    MIN = "min"


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


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    ty: Ty
    value: Expr
    updates: tuple = ()


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
    out = [s.value]
    for u in s.updates:
        out += list(u.lhs) + list(u.read) + [u.term]
        if u.where is not None:
            out.append(u.where)
    return out


def consumers_of(desc: PipelineDesc, name: str) -> list:
    """Stages that call `name` (including boundary wrappers of it)."""
    users = []
    for s in desc.stages:
        if isinstance(s, Boundary):
            if s.source == name:
                users.append(s.name)
        elif any(c.func == name for e in stage_exprs(s) for c in calls(e)):
            users.append(s.name)
    return users


def make_input(inp: Input) -> np.ndarray:
    """The input's data as a numpy array in Halide's axis order reversed,
    i.e. shape (height, width), ready for hl.Buffer(array)."""
    rng = np.random.default_rng(inp.seed)
    w, h = inp.size
    data = rng.integers(inp.lo, inp.hi, size=(h, w), endpoint=True, dtype=np.int64)
    if inp.ty.is_float:
        return (data.astype(np.float64) / inp.scale).astype(inp.ty.dtype)
    return data.astype(inp.ty.dtype)


# ------------------------------------------------------------ value analysis


COORD_LIMIT = 1 << 10  # generated programs keep every coordinate within +-this


@dataclass(frozen=True, slots=True)
class Info:
    lo: float
    hi: float
    exact: bool = True  # floats: bit-exact whatever the evaluation order
    gran: int = 0  # floats: a multiple of 2**-gran
    err: float = 0.0  # floats: absolute error bound when not exact
    ok: bool = True  # this node is free of undefined behaviour

    @property
    def mag(self) -> float:
        return max(abs(self.lo), abs(self.hi))


def _full(t: Ty) -> Info:
    return Info(t.min, t.max)


def _int_result(t: Ty, lo, hi, wraps_ok=True) -> Info:
    """Range of an integer op; narrow and unsigned types wrap, int32 must not."""
    if t.min <= lo and hi <= t.max:
        return Info(lo, hi)
    if t.is_signed and t.bits >= 32:
        return Info(t.min, t.max, ok=False)
    return _full(t)


def _float_result(t: Ty, lo, hi, gran, inputs_exact, err) -> Info:
    mag = max(abs(lo), abs(hi))
    if mag > 1e15:
        return Info(lo, hi, exact=False, err=math.inf, ok=False)
    eps = 2.0 ** -t.mantissa
    # Exact results keep 4x headroom so any reassociation stays exact.
    if inputs_exact and gran <= 40 and mag * 2.0 ** gran < 2.0 ** (t.mantissa - 2):
        return Info(lo, hi, True, gran, 0.0)
    return Info(lo, hi, False, 0, err + 2 * mag * eps)


def _interval_mul(a: Info, b: Info):
    ps = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
    return min(ps), max(ps)


def _pow2_bits(v: int) -> int:
    return (1 << max(int(v), 0).bit_length()) - 1


def analyze(e: Expr, env: dict) -> Info:
    """Value range of `e`.  `env` maps var names to (lo, hi), RDom names to
    their tuple of (min, extent), and producer names to their Info."""
    memo = env.setdefault("__memo__", {})
    key = id(e)
    if key in memo and memo[key][0] is e:
        return memo[key][1]
    r = _analyze(e, env)
    memo[key] = (e, r)
    return r


def _analyze(e: Expr, env: dict) -> Info:
    t = e.ty
    if isinstance(e, Var):
        lo, hi = env.get(e.name, (-COORD_LIMIT, COORD_LIMIT))
        return Info(lo, hi)
    if isinstance(e, RVarRef):
        mn, ext = env[e.rdom][e.dim]
        return Info(mn, mn + ext - 1)
    if isinstance(e, Const):
        gran = 0
        if t.is_float:
            while gran < 30 and e.value * 2.0 ** gran != int(e.value * 2.0 ** gran):
                gran += 1
        return Info(e.value, e.value, gran=gran)
    if isinstance(e, Call):
        return env[e.func]
    if isinstance(e, InlineReduce):
        env[e.rdom_name] = e.rdom
        return _reduce_info(t, e, Info(0, 0) if e.op is ReduceOp.SUM else None,
                            analyze(e.term, env))
    if isinstance(e, Select):
        c, a, b = (analyze(x, env) for x in (e.cond, e.t, e.f))
        lo, hi = min(a.lo, b.lo), max(a.hi, b.hi)
        return Info(lo, hi, a.exact and b.exact, max(a.gran, b.gran), max(a.err, b.err),
                    ok=c.exact)
    if isinstance(e, Clamp):
        a, lo, hi = (analyze(x, env) for x in (e.a, e.lo, e.hi))
        # max(min(a, hi), lo) is monotone in all three operands.
        rlo, rhi = max(min(a.lo, hi.lo), lo.lo), max(min(a.hi, hi.hi), lo.hi)
        return Info(rlo, rhi, a.exact and lo.exact and hi.exact,
                    max(a.gran, lo.gran, hi.gran), a.err, ok=lo.hi <= hi.lo)
    if isinstance(e, Cast):
        return _analyze_cast(t, e.a.ty, analyze(e.a, env))
    if isinstance(e, Un):
        return _analyze_un(e.op, e.a.ty, t, analyze(e.a, env))
    return _analyze_bin(e.op, e.a.ty, t, analyze(e.a, env), analyze(e.b, env))


def _analyze_cast(t: Ty, src: Ty, a: Info) -> Info:
    if t.is_bool:
        return Info(0, 1, ok=a.exact)
    if t.is_float:
        if src.is_float:
            err = a.err + (2 * a.mag * 2.0 ** -t.mantissa if t.bits < src.bits else 0)
            return _float_result(t, a.lo, a.hi, a.gran, a.exact, err)
        return _float_result(t, a.lo, a.hi, 0, True, 0.0)
    if src.is_float:
        # Truncation toward zero; out-of-range or inexact sources are UB/flaky.
        ok = a.exact and t.min <= a.lo and a.hi <= t.max
        return Info(math.trunc(a.lo) if ok else t.min, math.trunc(a.hi) if ok else t.max, ok=ok)
    if t.min <= a.lo and a.hi <= t.max:
        return Info(a.lo, a.hi)
    return _full(t)  # integer casts wrap


def _analyze_un(op: UnOp, src: Ty, t: Ty, a: Info) -> Info:
    if op is UnOp.NEG:
        if t.is_float:
            return Info(-a.hi, -a.lo, a.exact, a.gran, a.err)
        if t.is_signed:
            return _int_result(t, -a.hi, -a.lo)
        return _full(t) if a.hi > 0 else Info(0, 0)
    if op is UnOp.NOT:
        return _int_result(t, -a.hi - 1, -a.lo - 1) if t.is_signed else _full(t)
    if op is UnOp.ABS:
        lo = 0 if a.lo <= 0 <= a.hi else min(abs(a.lo), abs(a.hi))
        return Info(lo, a.mag, a.exact, a.gran, a.err)
    if op in (UnOp.FLOOR, UnOp.CEIL, UnOp.ROUND, UnOp.TRUNC):
        return Info(math.floor(a.lo), math.ceil(a.hi), ok=a.exact)
    if op is UnOp.SQRT:
        lo, hi = math.sqrt(max(a.lo, 0)), math.sqrt(max(a.hi, 0))
        return Info(lo, hi, False, 0, math.sqrt(a.err) + 4 * hi * 2.0 ** -t.mantissa,
                    ok=a.lo >= 0)
    if op is UnOp.EXP:
        ok = a.hi <= 20
        lo, hi = math.exp(max(a.lo, -700)), math.exp(min(a.hi, 20))
        return Info(lo, hi, False, 0, hi * (2 * a.err + 64 * 2.0 ** -t.mantissa), ok=ok)
    raise AssertionError(op)


def _analyze_bin(op: BinOp, src: Ty, t: Ty, a: Info, b: Info) -> Info:
    if t.is_bool:
        ok = a.exact and b.exact
        return Info(0, 1, ok=ok)
    if op is BinOp.ABSD:
        hi = max(abs(a.hi - b.lo), abs(b.hi - a.lo))
        if src.is_float:
            return _float_result(t, 0, hi, max(a.gran, b.gran), a.exact and b.exact,
                                 a.err + b.err)
        return Info(0, min(hi, t.max))
    if src.is_float:
        return _analyze_float_bin(op, t, a, b)
    if op in (BinOp.ADD, BinOp.SUB, BinOp.MUL):
        if op is BinOp.ADD:
            lo, hi = a.lo + b.lo, a.hi + b.hi
        elif op is BinOp.SUB:
            lo, hi = a.lo - b.hi, a.hi - b.lo
        else:
            lo, hi = _interval_mul(a, b)
        return _int_result(t, lo, hi)
    if op in (BinOp.DIV, BinOp.MOD):
        # INT_MIN / -1 overflows (LLVM's sdiv traps) in every signed width.
        ok = not (t.is_signed and a.lo <= t.min and b.lo <= -1 <= b.hi)
        bmag = max(abs(b.lo), abs(b.hi))
        if op is BinOp.MOD:
            return Info(0, max(bmag - 1, 0), ok=ok)
        return Info(-a.mag, a.mag, ok=ok) if t.is_signed else Info(0, a.hi, ok=ok)
    if op is BinOp.MIN:
        return Info(min(a.lo, b.lo), min(a.hi, b.hi))
    if op is BinOp.MAX:
        return Info(max(a.lo, b.lo), max(a.hi, b.hi))
    if op in (BinOp.AND, BinOp.OR, BinOp.XOR):
        if a.lo >= 0 and b.lo >= 0:
            if op is BinOp.AND:
                return Info(0, min(a.hi, b.hi))
            return Info(0, _pow2_bits(max(a.hi, b.hi)))
        return _full(t)
    if op is BinOp.SHL:  # b is a constant in [0, bits)
        return _int_result(t, a.lo * 2 ** b.lo, a.hi * 2 ** b.lo)
    if op is BinOp.SHR:
        return Info(a.lo // 2 ** b.lo, a.hi // 2 ** b.lo)
    raise AssertionError(op)


def _analyze_float_bin(op: BinOp, t: Ty, a: Info, b: Info) -> Info:
    exact = a.exact and b.exact
    gran = max(a.gran, b.gran)
    if op is BinOp.ADD:
        return _float_result(t, a.lo + b.lo, a.hi + b.hi, gran, exact, a.err + b.err)
    if op is BinOp.SUB:
        return _float_result(t, a.lo - b.hi, a.hi - b.lo, gran, exact, a.err + b.err)
    if op is BinOp.MUL:
        lo, hi = _interval_mul(a, b)
        err = a.mag * b.err + b.mag * a.err + a.err * b.err
        return _float_result(t, lo, hi, a.gran + b.gran, exact, err)
    if op is BinOp.DIV:  # b is a nonzero constant
        c = b.lo
        lo, hi = sorted((a.lo / c, a.hi / c))
        m, ex = math.frexp(abs(c))
        if m == 0.5:  # a power of two: exact
            return _float_result(t, lo, hi, max(a.gran + ex - 1, 0), exact, a.err / abs(c))
        return _float_result(t, lo, hi, 0, False, a.err / abs(c))
    if op is BinOp.MOD:  # a - b * floor(a / b), b a positive power-of-two constant
        return Info(0, b.lo, exact, gran, 0.0, ok=a.exact)
    if op is BinOp.MIN:
        return Info(min(a.lo, b.lo), min(a.hi, b.hi), exact, gran, max(a.err, b.err))
    if op is BinOp.MAX:
        return Info(max(a.lo, b.lo), max(a.hi, b.hi), exact, gran, max(a.err, b.err))
    raise AssertionError(op)


def expr_ok(e: Expr, env: dict) -> bool:
    return all(analyze(n, env).ok for n in walk(e))


def analyze_pipeline(desc: PipelineDesc) -> tuple:
    """(ok, env): whether every node of every stage is UB-free, and the Info of
    every producer."""
    env = {"__memo__": {}}
    for i in desc.inputs:
        s = 1.0 / i.scale
        env[i.name] = Info(i.lo * s, i.hi * s, True, int(math.log2(i.scale)) if i.ty.is_float else 0)
    ok = True
    for s in desc.stages:
        if isinstance(s, Boundary):
            src = env[s.source]
            if s.exterior is not None:
                c = analyze(s.exterior, env)
                src = Info(min(src.lo, c.lo), max(src.hi, c.hi), src.exact, max(src.gran, c.gran), src.err)
            env[s.name] = src
            continue
        ok &= expr_ok(s.value, env)
        info = analyze(s.value, env)
        for u in s.updates:
            env[u.rdom_name] = u.rdom
            env[s.name] = info
            for e in list(u.lhs) + list(u.read) + [u.term] + ([u.where] if u.where else []):
                ok &= expr_ok(e, env)
            term = analyze(u.term, env)
            info = _reduce_info(s.ty, u, info, term)
            ok &= info.ok
        env[s.name] = info
    return ok, env


def binds_rdom(u: Update) -> bool:
    """Halide binds an RDom to an update only through RVars in its LHS or RHS;
    otherwise the update runs once per pure point and where() is dropped."""
    return any(isinstance(n, RVarRef) for e in list(u.lhs) + list(u.read) + [u.term]
               for n in walk(e))


def rdom_points(rdom: tuple) -> int:
    return math.prod(ext for _, ext in rdom)


def _reduce_info(t: Ty, u, acc: Info | None, term: Info) -> Info:
    if acc is None:  # an inline maximum/minimum: at least one point, no init
        return term
    # Points an update does not reach (predicates, scans, histograms) keep
    # their old value, so the result's range always includes acc's.
    if u.op is ReduceOp.MAX:
        return Info(acc.lo, max(acc.hi, term.hi), acc.exact and term.exact,
                    max(acc.gran, term.gran), max(acc.err, term.err))
    if u.op is ReduceOp.MIN:
        return Info(min(acc.lo, term.lo), acc.hi, acc.exact and term.exact,
                    max(acc.gran, term.gran), max(acc.err, term.err))
    n = rdom_points(u.rdom)  # scans and histograms accumulate at most n terms too
    lo, hi = acc.lo + n * min(term.lo, 0), acc.hi + n * max(term.hi, 0)
    if t.is_float:
        return _float_result(t, lo, hi, max(acc.gran, term.gran), acc.exact and term.exact,
                             acc.err + n * term.err + n * max(abs(lo), abs(hi)) * 2.0 ** -t.mantissa)
    return _int_result(t, lo, hi)
