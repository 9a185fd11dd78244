"""Value-range analysis of pipeline descriptions, which keeps generated
programs free of undefined behaviour: no signed 32-bit overflow, no float->int
cast of an out-of-range or inexact value, no INT_MIN / -1.

Floats are tracked as *exact* (dyadic values small enough that no operation
rounds, so results are bit-exact whatever order a compiler evaluates them in,
FMA contraction included) or *inexact* with an absolute error bound that the
differential harness uses as its tolerance.

    ok, env = analyze_pipeline(desc)    # env[name] is each producer's Info
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .desc import (
    BinOp, Boundary, Call, Cast, Clamp, Const, Expr, InlineReduce, Param, PipelineDesc, RVarRef,
    ReduceOp, Select, Ty, Un, UnOp, Var, element, rdom_points, walk,
)


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
    if t.is_signed and t.bits >= 32 or t.bits == 64:
        # int32/int64 overflow is undefined in Halide; uint64 wraps, but the
        # reference computes in int64, so its results must stay small.
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
    if isinstance(e, (Const, Param)):
        gran = 0
        if t.is_float:
            while gran < 30 and e.value * 2.0 ** gran != int(e.value * 2.0 ** gran):
                gran += 1
        return Info(e.value, e.value, gran=gran)
    if isinstance(e, Call):
        return env[element(e.func, e.index)]
    if isinstance(e, InlineReduce):
        env[e.rdom_name] = e.rdom
        if e.op in (ReduceOp.ARGMAX, ReduceOp.ARGMIN):
            term = analyze(e.term, env)
            if 0 <= e.index < len(e.rdom):   # the coordinate: 0 if no point beats the init
                mn, ext = e.rdom[e.index]
                return Info(min(0, mn), max(0, mn + ext - 1), ok=term.exact)
            return Info(term.lo, term.hi, term.exact, term.gran, term.err, ok=term.exact)
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
    if t.is_bool:  # the low bit of the (truncated) integer
        return Info(0, 1, ok=a.exact and a.mag < 2.0 ** 31)
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
    if t.bits == 64:  # would wrap to values the int64 reference cannot hold
        return Info(t.min, t.max, ok=False)
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
        info2 = None
        if s.value2 is not None:
            ok &= expr_ok(s.value2, env)
            info2 = analyze(s.value2, env)
        for u in s.updates:
            env[u.rdom_name] = u.rdom
            env[s.name] = info
            if info2 is not None:
                env[element(s.name, 1)] = info2
            for e in list(u.lhs) + list(u.read) + [u.term] + ([u.where] if u.where else []):
                ok &= expr_ok(e, env)
            term = analyze(u.term, env)
            info = _reduce_info(s.ty, u, info, term)
            ok &= info.ok
            if info2 is not None:
                ok &= u.term2 is not None and expr_ok(u.term2, env)
                if u.term2 is not None:
                    info2 = _reduce_info(s.ty2, _Op2(u), info2, analyze(u.term2, env))
                    ok &= info2.ok
        env[s.name] = info
        if info2 is not None:
            env[element(s.name, 1)] = info2
    return ok, env


class _Op2:
    """An update seen as its second Tuple element's reduction."""
    def __init__(self, u):
        self.op, self.rdom = u.op2, u.rdom


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
