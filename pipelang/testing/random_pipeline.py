"""Seeded random pipeline descriptions: DAGs of 2-D stages built from
stencils, pointwise math across types, casts, down/upsampling, boundary
conditions, data-dependent gathers (clamped lookups) and RDom reductions
(sums, maxima, guarded by `where`, scans and histograms).

From seed IDIOM_SEEDS (20000) on, expressions also draw the patterns the code
generator's fast paths match (`_Gen.idiom`: narrow averages, int32 sums of
8/16-bit products, float clamps before integer casts, repeated
subexpressions, quotients under min/max) and random_schedule also draws 16-64
lanes; earlier seeds give the same programs and schedules as before.

Every expression is repaired as it is built so that `desc.analyze_pipeline`
finds no undefined behaviour: int32 operands are clamped before anything that
could overflow, floats reach an int cast or a comparison only while exact.

    desc = random_pipeline(seed=12)          # same seed, same description
    print(pipeline_source(desc))
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from .desc import (
    BCKind, Bin, BinOp, Boundary, BOOL, COMPARISONS, Call, Cast, Clamp, Const, F32, F64, I8, element,
    I16, I32, I64, InlineReduce, Input, Param, PipelineDesc, U64, RVarRef, ReduceOp, Select, Stage, U8, U16, U32, Un, UnOp,
    Update, Var, calls, stage_exprs, walk,
)
from .analysis import analyze, analyze_pipeline, expr_ok

TYPES = [U8, U8, U8, U16, U16, I16, I16, I32, I32, I32, U32, I8, F32, F32, F32, F64, I64, U64]
PARAM_TYPES = TYPES + [BOOL]
INPUT_RANGES = {U8: (0, 255), U16: (0, 65535), I16: (-32768, 32767), I32: (-100000, 100000),
                F32: (-400, 400)}
X, Y = Var("x"), Var("y")
MAX_BOX = 160  # reject programs whose stages need larger regions
# Seeds from here on also draw the idioms of the code generator's fast paths
# (`_Gen.idiom`); earlier seeds give the same programs as before they existed.
IDIOM_SEEDS = 20_000
_NARROW_INTS = (U8, I8, U16, I16)


def c32(v: int) -> Const:
    return Const(I32, v)


class _Unrepairable(Exception):
    """A draw the generator could not make UB-free; it is discarded."""


@dataclass
class _Ctx:
    """What a stage's expressions may reference: a pattern for the
    coordinates of producer calls, and the int32 vars usable as values."""
    pattern: str
    vars: tuple
    rdom: str | None = None
    # In RDom predicates, only Funcs with no update definition upstream:
    # Halide 21 fails to compile a where() that reaches one through default
    # (inline) scheduling ("Error:" with an empty message, or "Symbol not
    # found: f.min.0").
    in_predicate: bool = False


class _Gen:
    def __init__(self, rng: random.Random, idioms: bool = False):
        self.rng = rng
        self.idioms = idioms   # draw `idiom` nodes (an extra draw per node)
        self.inputs: list = []
        self.stages: list = []
        self.env: dict = {}
        self.exclude = None  # a stage being given an update may not call itself
        self.n_inline = 0
        self.params: dict = {}  # type -> the Params drawn so far

    # ---------------------------------------------------------- structure

    def producers(self):
        return [i.name for i in self.inputs] + [s.name for s in self.stages]

    def type_of(self, name):
        for p in self.inputs + self.stages:
            if p.name == name:
                return p.ty
        raise KeyError(name)

    def refresh(self):
        ok, env = analyze_pipeline(PipelineDesc(tuple(self.inputs), tuple(self.stages), (1, 1), (0, 0)))
        if not ok:
            raise _Unrepairable("generator produced undefined behaviour")
        self.env = {k: v for k, v in env.items() if k != "__memo__"}

    def reaches_update(self, name) -> bool:
        s = next((s for s in self.stages if s.name == name), None)
        if s is None:
            return False
        if isinstance(s, Boundary):
            return self.reaches_update(s.source)
        exprs = stage_exprs(s)
        return bool(s.updates) or any(isinstance(n, InlineReduce) for e in exprs for n in walk(e)) \
            or any(self.reaches_update(c.func) for e in exprs for c in calls(e))

    def info(self, e):
        return analyze(e, dict(self.env))

    def ok(self, e):
        return expr_ok(e, dict(self.env))

    def generate(self, n_stages: int) -> None:
        r = self.rng
        for k in range(r.choice([1, 1, 2])):
            ty = r.choice([U8, U8, U16, I16, I32, F32])
            lo, hi = INPUT_RANGES[ty]
            w, h = r.randint(3, 24), r.randint(3, 20)
            self.inputs.append(Input(f"in{k}", ty, (w, h), (r.randint(-3, 3), r.randint(-3, 3)),
                                     lo, hi, r.randrange(1 << 30), 4 if ty.is_float else 1))
        self.refresh()
        for i in list(self.inputs):
            if r.random() < 0.7:
                self.add_boundary(i.name, i.ty, None)
        while len(self.stages) < n_stages:
            kind = r.choice(["point", "stencil", "stencil", "down", "up", "transpose",
                             "gather", "reduce", "reduce", "scan", "hist", "bc"])
            if kind == "bc":
                src = r.choice([s for s in self.stages if isinstance(s, Stage) and not s.is_tuple]
                               or self.inputs)
                bounds = None if isinstance(src, Input) else tuple(
                    (r.randint(-3, 3), r.randint(1, 12)) for _ in range(2))
                self.add_boundary(src.name, src.ty, bounds)
                continue
            self.add_stage(kind)
        out = self.stages[-1]
        # An output's updates must stay inside the output buffer.
        if not isinstance(out, Stage) or out.is_tuple or any(u.lhs != (X, Y) for u in out.updates):
            self.add_stage("point", allow_tuple=False)

    def add_boundary(self, source, ty, bounds):
        r = self.rng
        kind = r.choice(list(BCKind))
        name = f"f{len(self.stages)}"
        if bounds is None:
            inp = next(i for i in self.inputs if i.name == source)
            bounds = tuple(zip(inp.min, inp.size))
        ext = Const(ty, self.const_value(ty, exact=True)) if kind is BCKind.CONSTANT_EXTERIOR else None
        self.stages.append(Boundary(name, ty, kind, source, bounds, ext))
        self.refresh()

    def add_stage(self, kind, allow_tuple=True):
        r = self.rng
        name = f"f{len(self.stages)}"
        ty = r.choice(TYPES)
        updates = ()
        ty2 = r.choice(TYPES) if r.random() < 0.2 else None   # a Tuple-valued stage
        ty2 = ty2 if allow_tuple else None
        if kind in ("reduce", "scan", "hist"):
            init = self.gen(ty, r.randint(0, 1), False, _Ctx("stencil", (X, Y)))
            init2 = self.gen(ty2, r.randint(0, 1), False, _Ctx("stencil", (X, Y))) if ty2 else None
            stage = Stage(name, ty, init, ty2=ty2, value2=init2)
            self.stages.append(stage)
            self.refresh()
            self.exclude = name
            updates = (self.make_update(stage, kind, f"r{len(self.stages) - 1}"),)
            self.exclude = None
            self.stages[-1] = replace(stage, updates=updates)
            u = updates[0]
            if u.op is ReduceOp.SUM and u.read == u.lhs == (X, Y) and r.random() < 0.35:
                # f[...] += term on an undefined Func: Halide's implicit f = 0.
                zero = Const(ty, 0.0 if ty.is_float else 0)
                trial = replace(self.stages[-1], value=zero, implicit=True)
                ok, _ = analyze_pipeline(PipelineDesc(tuple(self.inputs), tuple(self.stages[:-1]) + (trial,), (1, 1), (0, 0)))
                if ok:
                    self.stages[-1] = trial
        else:
            value = self.gen(ty, r.randint(1, 4), False, _Ctx(kind, (X, Y)))
            value2 = self.gen(ty2, r.randint(1, 3), False, _Ctx(kind, (X, Y))) if ty2 else None
            self.stages.append(Stage(name, ty, value, ty2=ty2, value2=value2))
        self.refresh()

    def make_update(self, stage: Stage, kind: str, rname: str) -> Update:
        r = self.rng
        op = r.choice([ReduceOp.SUM, ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN])
        if kind == "reduce":
            rdom = tuple((r.randint(-2, 0), r.randint(1, 3)) for _ in range(r.choice([1, 2])))
            lhs = read = (X, Y)
            ctx = _Ctx("reduce", (X, Y, RVarRef(rname, 0)), rname)
        elif kind == "scan":
            rdom = ((r.randint(-3, 3), r.randint(2, 12)),)
            rx = RVarRef(rname, 0)
            lhs, read = (rx, Y), (Bin(BinOp.SUB, rx, c32(1)), Y)
            ctx = _Ctx("scan", (Y, rx), rname)
        else:  # histogram: the bin is data-dependent
            rdom = ((r.randint(-2, 2), r.randint(1, 10)),)
            ctx = _Ctx("scan", (Y, RVarRef(rname, 0)), rname)
            self.env[rname] = rdom
            nbins = r.randint(1, 8)
            bin_ = Clamp(self.convert(self.leaf_call(I32, True, ctx), I32), c32(0), c32(nbins - 1))
            lhs = read = (bin_, Y)
        self.env[rname] = rdom
        term = self.gen(stage.ty, r.randint(0, 2), False, ctx)
        term2, op2 = None, ReduceOp.SUM
        if stage.is_tuple:
            term2 = self.gen(stage.ty2, r.randint(0, 2), False, ctx)
            op2 = r.choice([ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN])
        where = None
        if r.random() < 0.3:
            where = self.gen(BOOL, 1, True, replace(ctx, in_predicate=True))
        u = Update(rname, rdom, where, lhs, op, read, term, term2, op2)
        return self.fix_update(stage, u)

    def fix_update(self, stage, u):
        """Shrinks the term until the accumulation cannot overflow int32."""
        for bound in (1 << 20, 1 << 12, 1 << 6, 0):
            trial = replace(self.stages[-1], updates=(u,))
            ok, _ = analyze_pipeline(PipelineDesc(tuple(self.inputs), tuple(self.stages[:-1]) + (trial,), (1, 1), (0, 0)))
            if ok:
                return u
            u = replace(u, term=self._shrink(u.term, stage.ty, bound))
            last = self.stages[-1]
            last = replace(last, value=self.clamp_to(last.value, 1 << 20))
            if stage.is_tuple:
                u = replace(u, term2=self._shrink(u.term2, stage.ty2, bound))
                last = replace(last, value2=self.clamp_to(last.value2, 1 << 20))
            self.stages[-1] = last
        raise _Unrepairable("could not make the update UB-free")

    def _shrink(self, term, t, bound):
        if t.is_float:
            if not self.info(term).exact:
                return Const(t, 1.0)
            return Clamp(term, Const(t, -float(bound)), Const(t, float(bound)))
        return Clamp(term, Const(t, max(-bound, t.min)), Const(t, min(bound, t.max)))

    # --------------------------------------------------------- expressions

    def const_value(self, ty, exact):
        r = self.rng
        if ty.is_float:
            vals = [0.0, 0.5, 1.0, -1.0, 2.0, 0.25, -1.5, 3.0, 10.0, -0.75]
            if not exact:
                vals += [0.1, 1 / 3, 2.7]
            v = r.choice(vals)
            return float(F32.dtype.type(v)) if ty == F32 else v
        # Extremes exercise wrapping in narrow types; for 32-bit ones Halide's
        # simplifier can overflow while constant-folding a comparison with
        # them ("Signed integer overflow occurred during constant-folding").
        if r.random() < 0.1 and ty.bits < 32:
            return r.choice([ty.min, ty.max])
        return max(ty.min, min(ty.max, r.randint(-5, 12)))

    def param(self, ty, exact):
        """A Param of type ty (reused half the time), with a value like a constant's."""
        r = self.rng
        have = self.params.setdefault(ty, [])
        if have and r.random() < 0.5:
            return r.choice(have)
        n = sum(len(v) for v in self.params.values())
        value = bool(r.randint(0, 1)) if ty.is_bool else self.const_value(ty, exact)
        if ty.is_float:  # Halide's binding passes a Python float through a C float
            value = float(F32.dtype.type(value))
        p = Param(f"p{n}", ty, value)
        have.append(p)
        return p

    def leaf(self, ty, exact, ctx):
        r = self.rng
        if r.random() < 0.1:
            return self.param(ty, exact)
        roll = r.random()
        if roll < 0.6:
            call = self.leaf_call(ty, exact, ctx)
            if call is not None:
                return self.convert(call, ty)
        if roll < 0.8 and ctx.vars:
            return self.convert(r.choice(ctx.vars), ty)
        return Const(ty, self.const_value(ty, exact))

    def leaf_call(self, ty, exact, ctx):
        r = self.rng
        # (name, Tuple index or -1, type) of every element a call may read.
        elems = []
        for n in self.producers():
            st = next((s for s in self.stages if s.name == n), None)
            if st is not None and isinstance(st, Stage) and st.is_tuple:
                elems += [(n, 0, st.ty), (n, 1, st.ty2)]
            else:
                elems.append((n, -1, self.type_of(n)))
        elems = [(n, i, t) for n, i, t in elems if n != self.exclude
                 if not ctx.in_predicate or not self.reaches_update(n)
                 if not exact or t.is_int or self.env[element(n, i)].exact]
        if not elems:
            return None
        # Prefer recent producers so pipelines grow deep, not just wide.
        name, index, t = elems[-1] if r.random() < 0.4 else r.choice(elems)
        args = self.pattern_args(ctx)
        inp = next((i for i in self.inputs if i.name == name), None)
        if inp is not None:
            args = tuple(Clamp(a, c32(m), c32(m + s - 1)) for a, m, s in zip(args, inp.min, inp.size))
        return Call(name, t, args, index)

    def pattern_args(self, ctx):
        r = self.rng
        off = lambda v, k=2: Bin(BinOp.ADD, v, c32(r.choice([d for d in range(-k, k + 1) if d]))) if r.random() < 0.7 else v
        p = ctx.pattern
        if p == "point":
            return (X, Y)
        if p == "stencil":
            return (off(X), off(Y))
        if p == "down":
            return (off(Bin(BinOp.MUL, X, c32(2)), 1), off(Bin(BinOp.MUL, Y, c32(2)), 1))
        if p == "up":
            return (Bin(BinOp.DIV, off(X, 1), c32(2)), Bin(BinOp.DIV, Y, c32(r.choice([1, 2, 3]))))
        if p == "transpose":
            return (off(Y), off(X))
        if p == "gather":
            if r.random() < 0.5:
                return (off(X), off(Y))
            idx = self.convert(self.leaf_call(I32, True, _Ctx("point", ctx.vars)), I32)
            lo = r.randint(-4, 8)
            return (Clamp(idx, c32(lo), c32(lo + r.randint(0, 16))), off(Y))
        rx = RVarRef(ctx.rdom, 0)
        if p == "reduce":
            ry = RVarRef(ctx.rdom, 1) if len(self.env[ctx.rdom]) > 1 else c32(0)
            return (Bin(BinOp.ADD, X, rx), Bin(BinOp.ADD, Y, ry))
        return (off(rx), off(Y))  # scan / histogram: x is not a pure var there

    def convert(self, e, ty):
        src = e.ty
        if src == ty:
            return e
        if src.is_float and ty.is_int:
            lo, hi = max(ty.min, -(1 << 20)), min(ty.max, 1 << 20)
            i = self.info(e)
            if i.lo < lo or i.hi > hi:
                e = Clamp(e, Const(src, float(lo)), Const(src, float(hi)))
            return Cast(ty, e)
        if src.is_int and ty.is_float:
            i = self.info(e)
            if i.lo < -(1 << 20) or i.hi > (1 << 20):
                e = Clamp(e, Const(src, max(src.min, -(1 << 20))), Const(src, min(src.max, 1 << 20)))
        return Cast(ty, e)

    def clamp_to(self, e, k):
        t = e.ty
        i = self.info(e)
        lo, hi = max(t.min, -k), min(t.max, k)
        if i.lo >= lo and i.hi <= hi and i.ok:
            return e
        if t.is_float:
            if not i.exact:
                return Clamp(e, Const(t, float(lo)), Const(t, float(hi)))
            e = Un(UnOp.FLOOR, e)
            return Clamp(e, Const(t, float(lo)), Const(t, float(hi)))
        return Clamp(e, Const(t, lo), Const(t, hi))

    def gen(self, ty, depth, exact, ctx):
        if ty.is_bool:
            return self.gen_cond(depth, ctx)
        if depth <= 0 or self.rng.random() < 0.15:
            return self.leaf(ty, exact, ctx)
        e = self.gen_node(ty, depth, exact, ctx)
        i = self.info(e)
        if all(self.info(n).ok for n in (e,)) and (i.exact or not exact) and self.ok(e):
            return e
        e = self.repair(e, exact)
        i = self.info(e)
        if self.ok(e) and (i.exact or not exact):
            return e
        return Const(ty, self.const_value(ty, True))

    def repair(self, e, exact):
        """Clamps operands so the node cannot overflow or lose exactness."""
        t = e.ty
        if isinstance(e, Bin) and not t.is_bool:
            k = 1 << (10 if e.op in (BinOp.MUL, BinOp.SHL) else 20)
            if e.op in (BinOp.DIV, BinOp.MOD, BinOp.SHL) and not e.a.ty.is_float:
                return Bin(e.op, self.clamp_to(e.a, k), e.b)
            if e.a.ty.is_float and e.op in (BinOp.DIV, BinOp.MOD):
                return Bin(e.op, self.clamp_to(e.a, k), e.b)
            return Bin(e.op, self.clamp_to(e.a, k), self.clamp_to(e.b, k))
        if isinstance(e, Un) and e.op is UnOp.NEG:
            return Un(e.op, self.clamp_to(e.a, 1 << 20))
        return e

    def gen_node(self, ty, depth, exact, ctx):
        r = self.rng
        sub = lambda t=ty, ex=exact: self.gen(t, depth - 1, ex, ctx)
        if self.idioms and not ty.is_bool and r.random() < 0.2:
            e = self.idiom(ty, depth, exact, ctx)
            if e is not None:
                return e
        if ty.is_float:
            ops = ["add", "sub", "mul", "min", "max", "neg", "abs", "absd", "floor", "round",
                   "ceil", "trunc", "select", "clamp", "cast", "divc", "modc"]
            if not exact:
                ops += ["sqrt", "exp", "divc"]
        else:
            ops = ["add", "sub", "mul", "div", "mod", "min", "max", "and", "or", "xor", "shl",
                   "shr", "neg", "not", "abs", "absd", "select", "clamp", "cast", "cast", "divc"]
        if ctx.rdom is None and depth >= 2 and not ctx.in_predicate:
            ops += ["ireduce"]
        op = r.choice(ops)
        if op == "ireduce":
            return self.inline_reduce(ty, depth, exact, ctx)
        simple = {"add": BinOp.ADD, "sub": BinOp.SUB, "mul": BinOp.MUL, "div": BinOp.DIV,
                  "mod": BinOp.MOD, "min": BinOp.MIN, "max": BinOp.MAX, "and": BinOp.AND,
                  "or": BinOp.OR, "xor": BinOp.XOR}
        if op in simple:
            return Bin(simple[op], sub(), sub())
        if op in ("shl", "shr"):
            return Bin(BinOp.SHL if op == "shl" else BinOp.SHR, sub(),
                       Const(ty, r.randint(0, ty.bits - 1)))
        if op == "neg":
            return Un(UnOp.NEG, sub())
        if op == "not":
            return Un(UnOp.NOT, sub())
        if op in ("abs", "absd"):
            # abs/absd of a signed type is unsigned; cast back to ty.
            st = ty
            if ty.is_int and r.random() < 0.5:
                st = {8: I8, 16: I16, 32: I32, 64: I64}[ty.bits]
            e = Un(UnOp.ABS, sub(st)) if op == "abs" else Bin(BinOp.ABSD, sub(st), sub(st))
            return self.convert(e, ty)
        if op in ("floor", "round", "ceil", "trunc"):
            return Un(UnOp(op), sub(ty, True))
        if op == "sqrt":
            return Un(UnOp.SQRT, Un(UnOp.ABS, sub()))
        if op == "exp":
            return Un(UnOp.EXP, Clamp(sub(), Const(ty, -8.0), Const(ty, 8.0)))
        if op == "select":
            return Select(self.gen_cond(depth - 1, ctx), sub(), sub())
        if op == "clamp":
            a, b = sorted([self.const_value(ty, exact), self.const_value(ty, exact)])
            return Clamp(sub(), Const(ty, a), Const(ty, b))
        if op == "cast" and r.random() < 0.15:  # from bool: 0 or 1
            return Cast(ty, self.gen_cond(depth - 1, ctx))
        if op == "cast":
            src = r.choice(TYPES)
            return self.convert(self.gen(src, depth - 1, exact or src.is_float and ty.is_int, ctx), ty)
        if op == "divc" and ty == F64:
            # Halide 21 on this x86 host fails to compile (an empty "Error:") a
            # vectorized float64 division of a value cast from uint8/uint16,
            # e.g. f[x] = f64(u8_buf[x]) / 2.0 with f.vectorize(x, 4).
            return Bin(BinOp.MUL, sub(), Const(ty, r.choice([2.0, 0.5, -0.25])))
        if op == "divc":
            if ty.is_float:
                c = r.choice([2.0, 4.0, 0.5, -2.0] + ([] if exact else [3.0, 10.0, -7.0]))
            else:
                c = max(ty.min, min(ty.max, r.choice([-3, -2, -1, 0, 1, 2, 3, 4, 7, 16])))
            return Bin(BinOp.DIV, sub(), Const(ty, c))
        if op == "modc":
            return Bin(BinOp.MOD, sub(ty, True), Const(ty, r.choice([1.0, 2.0, 4.0, 0.5])))
        raise AssertionError(op)

    def idiom(self, ty, depth, exact, ctx):
        """A pattern one of the code generator's fast paths matches (None
        when it does not fit): a narrow average T((W(a) + W(b) [+ 1]) / 2)
        (x86 pavgb/pavgw), an int32 sum of products of 8/16-bit values
        (pmaddwd), a float clamped and cast to an integer (the simplifier drops
        clamp ends truncation makes redundant), equal subexpressions used
        twice (codegen value numbering), min/max of quotients."""
        r = self.rng
        kind = r.choice(["avg", "avg", "madd", "madd", "fclamp", "cse", "quot"])
        sub = lambda t: self.gen(t, depth - 1, exact or t.is_float, ctx)
        if kind == "avg":
            t = ty if ty in _NARROW_INTS else r.choice(_NARROW_INTS)
            wide = r.choice([w for w in (U16, I16, U32, I32, I64) if w.bits > t.bits])
            terms = [Cast(wide, sub(t)), Cast(wide, sub(t))]
            rounding = r.choice([0, 1, 1])
            if rounding or r.random() < 0.2:
                terms.insert(r.randrange(3), Const(wide, rounding))
            total = terms[0]
            for u in terms[1:]:
                total = Bin(BinOp.ADD, total, u)
            half = (Bin(BinOp.SHR, total, Const(wide, 1)) if r.random() < 0.3
                    else Bin(BinOp.DIV, total, Const(wide, 2)))
            e = Cast(t, half)
        elif kind == "madd":
            # Each product's magnitude bound; the sum stays inside int32.
            mags = {U8: 255, I8: 128, I16: 32768, U16: 65535}
            terms, budget = [], (1 << 31) - 1
            for _ in range(r.randint(2, 4)):
                a, b = r.choice(list(mags)), r.choice(list(mags))
                const = r.choice([-32768, 32767, -3, 7, 255]) if r.random() < 0.2 else None
                bound = mags[a] * (abs(const) if const is not None else mags[b])
                if bound >= budget:
                    continue
                budget -= bound
                ops = (Cast(I32, sub(a)), Const(I32, const) if const is not None else Cast(I32, sub(b)))
                terms.append(Bin(BinOp.MUL, *ops))
            if r.random() < 0.3:
                terms.append(Const(I32, r.randint(-100, 100)))
            if len(terms) < 2:
                return None
            e = terms[0]
            for u in terms[1:]:
                e = Bin(BinOp.ADD, e, u) if r.random() < 0.7 else Bin(BinOp.ADD, u, e)
        elif kind == "fclamp":
            if not ty.is_int or ty.bits == 64:
                return None
            x = None
            for _ in range(r.randint(1, 3)):
                src = r.choice([U8, U8, I8, U16, I16])
                coef = r.choice([1.0, 0.5, 0.25, 0.75, 1.5, 1.00390625, 0.99609375, -1.0])
                term = Bin(BinOp.MUL, Cast(F32, sub(src)), Const(F32, coef))
                x = term if x is None else Bin(BinOp.ADD, x, term)
            x = Bin(BinOp.ADD, x, Const(F32, r.choice([0.0, 0.5, 0.9921875, -0.9921875, 1.0, -0.5])))
            i = self.info(x)
            if not i.exact:
                return None
            lo = max(float(ty.min), -(1 << 20))
            hi = min(float(ty.max), 1 << 20)
            ends = [lo, hi, math.floor(i.hi), math.floor(i.hi) - 1, math.ceil(i.lo), math.floor(i.lo),
                    0.0, 255.0, 127.0, -128.0]
            ends = [v for v in ends if lo <= v <= hi]
            a, b = sorted([r.choice(ends), r.choice(ends)])
            form = r.choice(["clamp", "min", "max"])
            if form == "clamp":
                x = Clamp(x, Const(F32, a), Const(F32, b))
            elif form == "min":
                x = Bin(BinOp.MIN, x, Const(F32, b))
            else:
                x = Bin(BinOp.MAX, x, Const(F32, a))
            e = Cast(ty, x)
        elif kind == "cse":
            s = self.gen(ty, max(depth - 1, 1), exact, ctx)
            other = sub(ty)
            op = r.choice([BinOp.ADD, BinOp.MIN, BinOp.MAX, BinOp.SUB])
            e = Select(Bin(r.choice(COMPARISONS), s, Const(ty, self.const_value(ty, True))),
                       Bin(op, s, other), Bin(BinOp.MAX, other, s))
        else:  # quot: of values, or of a producer's coordinate
            c = r.choice([2, 3, 4])
            cls = r.choice([BinOp.MIN, BinOp.MAX])
            if ctx.pattern not in ("scan", "reduce") and r.random() < 0.5:
                call = self.leaf_call(I32 if not ty.is_float else ty, exact, ctx)
                if call is None:
                    return None
                k1, k2 = r.randint(-2, 2), r.randint(-2, 2)
                q = lambda k: Bin(BinOp.DIV, Bin(BinOp.ADD, X, c32(k)), c32(c))
                arg = Bin(cls, q(k1), q(k2))
                inp = next((i for i in self.inputs if i.name == call.func), None)
                if inp is not None:
                    arg = Clamp(arg, c32(inp.min[0]), c32(inp.min[0] + inp.size[0] - 1))
                e = replace(call, args=(arg,) + tuple(call.args[1:]))
            else:
                if not ty.is_int:
                    return None
                a = sub(ty)
                b = Bin(BinOp.ADD, a, Const(ty, r.choice([1, 2]))) if r.random() < 0.5 else sub(ty)
                e = Bin(cls, Bin(BinOp.DIV, a, Const(ty, c)), Bin(BinOp.DIV, b, Const(ty, c)))
        if self.ok(e) and (self.info(e).exact or not exact):
            return self.convert(e, ty)
        return None

    def inline_reduce(self, ty, depth, exact, ctx):
        """hl.sum / hl.maximum / hl.minimum over a small fresh RDom."""
        r = self.rng
        self.n_inline += 1
        name = f"k{len(self.stages)}_{self.n_inline}"
        rdom = tuple((r.randint(-2, 0), r.randint(1, 3)) for _ in range(r.choice([1, 2])))
        self.env[name] = rdom
        inner = _Ctx("reduce", (X, Y, RVarRef(name, 0)), name)
        op = r.choice([ReduceOp.SUM, ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN, ReduceOp.ARGMAX,
                       ReduceOp.ARGMIN])
        form = r.choice([0, 0, 1, 2])
        index = -1
        if op in (ReduceOp.ARGMAX, ReduceOp.ARGMIN) and r.random() < 0.6:
            index = r.randrange(len(rdom))   # the coordinate, converted to ty
        for bound in (None, 1 << 16, 1 << 8):
            term = self.gen(ty, depth - 1, exact, inner)
            if not any(isinstance(n, RVarRef) for n in walk(term)):
                # Halide: "Expression passed to sum must reference a reduction domain"
                term = Bin(BinOp.ADD, term, self.convert(RVarRef(name, 0), ty))
            if bound is not None:
                term = self.clamp_to(term, bound)
            e = InlineReduce(op, name, rdom, term, index, form)
            i = self.info(e)
            if self.ok(e) and (i.exact or not exact):
                return self.convert(e, ty) if e.ty != ty else e
        return Const(ty, self.const_value(ty, True))

    def gen_cond(self, depth, ctx):
        r = self.rng
        roll = r.random()
        if roll < 0.05:
            return self.param(BOOL, True)
        if roll < 0.2:  # a cast to bool keeps the low bit, floats truncated first
            src = r.choice(TYPES)
            e = self.gen(src, max(depth - 1, 0), True, ctx)
            if src.is_float:
                e = Clamp(e, Const(src, -1000.0), Const(src, 1000.0))
            return Cast(BOOL, e)
        if depth > 1 and r.random() < 0.2:
            op = r.choice([BinOp.LAND, BinOp.LOR])
            return Bin(op, self.gen_cond(depth - 1, ctx), self.gen_cond(depth - 1, ctx))
        t = r.choice(TYPES)
        a = self.gen(t, max(depth - 1, 0), True, ctx)
        b = self.gen(t, 0, True, ctx) if r.random() < 0.5 else Const(t, self.const_value(t, True))
        return Bin(r.choice(COMPARISONS), a, b)


def prune(desc: PipelineDesc) -> PipelineDesc:
    """Drops stages and inputs the output does not (transitively) use."""
    live = {desc.output.name}
    for s in reversed(desc.stages):
        if s.name not in live:
            continue
        if isinstance(s, Boundary):
            live.add(s.source)
        for e in stage_exprs(s):
            live.update(c.func for c in calls(e))
    return replace(desc, inputs=tuple(i for i in desc.inputs if i.name in live),
                   stages=tuple(s for s in desc.stages if s.name in live))


def random_pipeline(seed: int, max_stages: int = 5, idioms: bool | None = None) -> PipelineDesc:
    """A reproducible random pipeline; the same seed gives the same program.
    `idioms` (default: from seed IDIOM_SEEDS on) adds the fast-path patterns."""
    from .reference import required_boxes  # the reference owns bounds inference

    rng = random.Random(seed)
    idioms = seed >= IDIOM_SEEDS if idioms is None else idioms
    while True:
        g = _Gen(rng, idioms)
        try:
            g.generate(rng.randint(1, max_stages))
        except _Unrepairable:  # rare; discard the attempt and draw again
            continue
        desc = PipelineDesc(tuple(g.inputs), tuple(g.stages),
                            (rng.randint(1, 20), rng.randint(1, 14)),
                            (rng.randint(-5, 5), rng.randint(-5, 5)))
        desc = prune(desc)
        ok, env = analyze_pipeline(desc)
        if not ok:
            continue
        boxes = required_boxes(desc, {k: v for k, v in env.items() if k != "__memo__"})
        if all(hi - lo < MAX_BOX and abs(lo) < 900 and abs(hi) < 900
               for box in boxes.values() for lo, hi in box):
            return desc
