"""A reference evaluator for pipeline descriptions, independent of any
compiler: it infers each stage's required box, then evaluates stage after
stage over that box with numpy, implementing Halide's semantics itself:

- integer `/` rounds toward negative infinity for positive divisors and
  toward positive infinity for negative ones (Euclidean), `%` is never
  negative, and both are 0 for a zero divisor;
- integer arithmetic wraps in the type's width (int32 overflow is excluded by
  the generator, as it is undefined in Halide);
- float->int casts truncate toward zero; int->int casts wrap;
- `abs` and `absd` of a signed type return the unsigned type of that width;
- `clamp(a, lo, hi)` is `max(min(a, hi), lo)`;
- float `%` is `a - b * floor(a / b)`; `round` rounds half to even;
- update definitions run in RDom order, the first RDom dimension innermost.

    out = evaluate(desc)   # numpy array indexed [x, y] over desc's output box
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .desc import (
    BCKind, BinOp, Boundary, Call, Cast, Clamp, Const, InlineReduce, Param, PipelineDesc, RVarRef,
    ReduceOp, Select, Stage, Un, UnOp, Var, binds_rdom, calls, element, inline_rdoms,
)
from .analysis import Info, analyze, analyze_pipeline
from .printer import input_arrays


class ReferenceError(AssertionError):
    """The reference found the description itself ill-formed (a generator bug)."""


Box = tuple  # ((xlo, xhi), (ylo, yhi)), inclusive


def _union(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return tuple((min(p[0], q[0]), max(p[1], q[1])) for p, q in zip(a, b))


def _interval(e, env: dict) -> tuple:
    i = analyze(e, dict(env))
    return int(np.floor(i.lo)), int(np.ceil(i.hi))


def required_boxes(desc: PipelineDesc, infos: dict) -> dict:
    """Box of every stage (and input) that evaluating the output needs."""
    (ox, oy), (w, h) = desc.out_min, desc.out_size
    boxes = {desc.output.name: ((ox, ox + w - 1), (oy, oy + h - 1))}

    def need(call: Call, env: dict):
        box = tuple(_interval(a, env) for a in call.args)
        boxes[call.func] = _union(boxes.get(call.func), box)

    for s in reversed(desc.stages):
        own = boxes.get(s.name)
        if own is None:
            continue
        if isinstance(s, Boundary):
            if desc.input(s.source) is None:
                bx = tuple((m, m + e - 1) for m, e in s.bounds)
                boxes[s.source] = _union(boxes.get(s.source), bx)
            continue
        for _ in range(3):  # updates may write and read outside the required box
            for u in s.updates:
                env = {**infos, "x": own[0], "y": own[1], u.rdom_name: u.rdom}
                for args in (u.lhs, u.read):
                    own = _union(own, tuple(_interval(a, env) for a in args))
        boxes[s.name] = own
        values = [s.value] + ([s.value2] if s.value2 is not None else [])
        env = {**infos, "x": own[0], "y": own[1]}
        for v in values:
            env.update(inline_rdoms(v))
        for v in values:
            for c in calls(v):
                need(c, env)
        for u in s.updates:
            env_u = {**env, u.rdom_name: u.rdom}
            exprs = list(u.lhs) + list(u.read) + [u.term] + ([u.where] if u.where else [])
            exprs += [u.term2] if u.term2 is not None else []
            for e in exprs:
                for c in calls(e):
                    if c.func != s.name:
                        need(c, env_u)
    return boxes


class _Evaluator:
    def __init__(self, desc: PipelineDesc):
        self.desc = desc
        ok, env = analyze_pipeline(desc)
        if not ok:
            raise ReferenceError("description has undefined behaviour")
        self.infos = {k: v for k, v in env.items() if isinstance(v, Info)}
        self.boxes = required_boxes(desc, self.infos)
        # name -> (array indexed [x - min_x, y - min_y], (min_x, min_y))
        self.values = dict(input_arrays(desc))

    def run(self) -> np.ndarray:
        for s in self.desc.stages:
            box = self.boxes.get(s.name)
            if box is None:
                continue
            if isinstance(s, Boundary):
                self.values[s.name] = (self._boundary(s, box), (box[0][0], box[1][0]))
            else:
                self.values[s.name] = (self._stage(s, box), (box[0][0], box[1][0]))
        arr, (mx, my) = self.values[self.desc.output.name]
        (ox, oy), (w, h) = self.desc.out_min, self.desc.out_size
        return arr[ox - mx:ox - mx + w, oy - my:oy - my + h].copy()

    # ------------------------------------------------------------- stages

    def _stage(self, s: Stage, box: Box) -> np.ndarray:
        (x0, x1), (y0, y1) = box
        xs = np.arange(x0, x1 + 1, dtype=np.int64)[:, None]
        ys = np.arange(y0, y1 + 1, dtype=np.int64)[None, :]
        shape = (x1 - x0 + 1, y1 - y0 + 1)
        arr = np.broadcast_to(self.eval(s.value, {"x": xs, "y": ys}), shape).astype(s.ty.dtype)
        self.values[s.name] = (arr, (x0, y0))
        arr2 = None
        if s.value2 is not None:
            arr2 = np.broadcast_to(self.eval(s.value2, {"x": xs, "y": ys}), shape).astype(s.ty2.dtype)
            self.values[element(s.name, 1)] = (arr2, (x0, y0))
        for u in s.updates:
            self._update(s, u, arr, box, arr2)
        return arr

    def _update(self, s: Stage, u, arr: np.ndarray, box: Box, arr2=None):
        ctx = {}
        for dim, (name, (lo, hi)) in enumerate(zip("xy", box)):
            if isinstance(u.lhs[dim], Var) and u.lhs[dim].name == name:
                shape = [1, 1]
                shape[dim] = hi - lo + 1
                ctx[name] = np.arange(lo, hi + 1, dtype=np.int64).reshape(shape)
        mins = (box[0][0], box[1][0])
        if not binds_rdom(u):
            u = replace(u, rdom=((0, 1),), where=None)
        for point in _rdom_points(u.rdom):
            ctx[u.rdom_name] = point
            idx = self._index(u.lhs, ctx, arr, mins)
            read = self._index(u.read, ctx, arr, mins)
            # Every Tuple element is computed from the old values, then stored.
            news = [_combine(u.op, arr[read], self.eval(u.term, ctx), s.ty)]
            if arr2 is not None:
                news.append(_combine(u.op2, arr2[read], self.eval(u.term2, ctx), s.ty2))
            mask = None
            if u.where is not None:
                mask = np.broadcast_to(self.eval(u.where, ctx), idx[0].shape)
            for a, new in zip((arr, arr2), news):
                new = np.broadcast_to(new, idx[0].shape)
                if mask is not None:
                    new = np.where(mask, new, a[idx])
                a[idx] = new

    def _index(self, args, ctx, arr, mins):
        ix = [np.asarray(self.eval(a, ctx), dtype=np.int64) - m for a, m in zip(args, mins)]
        ix = np.broadcast_arrays(*ix)
        for i, n in zip(ix, arr.shape):
            if i.size and (i.min() < 0 or i.max() >= n):
                raise ReferenceError("update outside the inferred box")
        return tuple(ix)

    def _boundary(self, s: Boundary, box: Box) -> np.ndarray:
        src, (mx, my) = self.values[s.source]
        inp = self.desc.input(s.source)
        bounds = ((inp.min[0], inp.size[0]), (inp.min[1], inp.size[1])) if inp else s.bounds
        coords, inside = [], []
        for (lo, hi), (m, e) in zip(box, bounds):
            c = np.arange(lo, hi + 1, dtype=np.int64)
            inside.append((c >= m) & (c < m + e))
            coords.append(_bc_coord(s.kind, c, m, e))
        cx, cy = coords[0][:, None] - mx, coords[1][None, :] - my
        if cx.min() < 0 or cy.min() < 0 or cx.max() >= src.shape[0] or cy.max() >= src.shape[1]:
            raise ReferenceError(f"{s.name} reads {s.source} outside its box")
        out = src[cx, cy]
        if s.kind is BCKind.CONSTANT_EXTERIOR:
            ext = self.eval(s.exterior, {})
            out = np.where(inside[0][:, None] & inside[1][None, :], out, ext)
        return out.astype(s.ty.dtype)

    # -------------------------------------------------------- expressions

    def eval(self, e, ctx: dict):
        t = e.ty
        if isinstance(e, Var):
            return ctx[e.name].astype(np.int32)
        if isinstance(e, RVarRef):
            return np.int32(ctx[e.rdom][e.dim])
        if isinstance(e, (Const, Param)):
            return np.array(e.value, dtype=t.dtype)
        if isinstance(e, Call):
            arr, mins = self.values[element(e.func, e.index)]
            ix = [np.asarray(self.eval(a, ctx), dtype=np.int64) - m for a, m in zip(e.args, mins)]
            for i, n in zip(ix, arr.shape):
                if i.min() < 0 or i.max() >= n:
                    raise ReferenceError(f"call to {e.func} outside its box")
            return arr[tuple(np.broadcast_arrays(*ix))]
        if isinstance(e, InlineReduce) and e.op in (ReduceOp.ARGMAX, ReduceOp.ARGMIN):
            return self._arg_reduce(e, ctx)
        if isinstance(e, InlineReduce):
            acc = None
            for point in _rdom_points(e.rdom):
                v = self.eval(e.term, {**ctx, e.rdom_name: point})
                if acc is None:
                    acc = v if e.op is not ReduceOp.SUM else _binary(BinOp.ADD, np.zeros((), t.dtype), v, t, t)
                elif e.op is ReduceOp.SUM:
                    acc = _binary(BinOp.ADD, acc, v, t, t)
                else:
                    acc = (np.maximum if e.op is ReduceOp.MAX else np.minimum)(acc, v)
            return acc
        if isinstance(e, Select):
            return np.where(self.eval(e.cond, ctx), self.eval(e.t, ctx), self.eval(e.f, ctx)).astype(t.dtype)
        if isinstance(e, Clamp):
            a, lo, hi = (self.eval(c, ctx) for c in (e.a, e.lo, e.hi))
            return np.maximum(np.minimum(a, hi), lo).astype(t.dtype)
        if isinstance(e, Cast):
            return _cast(self.eval(e.a, ctx), e.a.ty, t)
        if isinstance(e, Un):
            return _unary(e.op, self.eval(e.a, ctx), e.a.ty, t)
        return _binary(e.op, self.eval(e.a, ctx), self.eval(e.b, ctx), e.a.ty, t)


    def _arg_reduce(self, e, ctx):
        """Halide's argmax/argmin: coordinates start at 0 and the value at the
        type's lowest/highest; a point replaces them only if strictly better."""
        tt = e.term.ty
        worst = -np.inf if tt.is_float else (tt.min if e.op is ReduceOp.ARGMAX else tt.max)
        if tt.is_float and e.op is ReduceOp.ARGMIN:
            worst = np.inf
        best = np.array(worst, dtype=tt.dtype)
        coords = [np.int32(0)] * len(e.rdom)
        for point in _rdom_points(e.rdom):
            v = self.eval(e.term, {**ctx, e.rdom_name: point})
            better = v > best if e.op is ReduceOp.ARGMAX else v < best
            best = np.where(better, v, best).astype(tt.dtype)
            coords = [np.where(better, np.int32(p), c).astype(np.int32) for p, c in zip(point, coords)]
        return coords[e.index] if 0 <= e.index < len(e.rdom) else best


def _combine(op, cur, term, t):
    if op is ReduceOp.SUM:
        return _wrap(cur.astype(np.int64) + term, t) if t.is_int else cur + term
    if op is ReduceOp.MAX:
        return np.maximum(cur, term)
    return np.minimum(cur, term)


def _rdom_points(rdom):
    """RDom points in Halide's order: the first dimension innermost."""
    (m0, e0) = rdom[0]
    if len(rdom) == 1:
        return [(r,) for r in range(m0, m0 + e0)]
    (m1, e1) = rdom[1]
    return [(r0, r1) for r1 in range(m1, m1 + e1) for r0 in range(m0, m0 + e0)]


_MOD64 = np.frompyfunc(lambda v: int(v) % (1 << 64), 1, 1)


def _wrap(v, t):
    return np.asarray(v).astype(np.int64).astype(t.dtype)


def _bc_coord(kind: BCKind, c, m, e):
    if kind in (BCKind.REPEAT_EDGE, BCKind.CONSTANT_EXTERIOR):
        return np.clip(c, m, m + e - 1)
    if kind is BCKind.REPEAT_IMAGE:
        return (c - m) % e + m
    if kind is BCKind.MIRROR_IMAGE:
        t = (c - m) % (2 * e)
        return np.where(t < e, t, 2 * e - 1 - t) + m
    limit = e - 1  # MIRROR_INTERIOR
    t = (c - m) % (2 * limit) if limit > 0 else np.zeros_like(c)
    return limit - np.abs(t - limit) + m


def _cast(a, src, t):
    a = np.asarray(a)
    if t.is_bool:  # Halide keeps the low bit of the (truncated) integer
        w = np.trunc(a) if src.is_float else a
        return (w.astype(np.int64) & 1).astype(bool)
    if t.is_float or src.is_bool:
        return a.astype(t.dtype)
    if src.is_float:
        return np.trunc(a).astype(np.int64).astype(t.dtype)
    return a.astype(np.int64).astype(t.dtype)


def _unary(op, a, src, t):
    if src.is_float:
        fn = {UnOp.NEG: np.negative, UnOp.ABS: np.abs, UnOp.FLOOR: np.floor, UnOp.CEIL: np.ceil,
              UnOp.ROUND: np.round, UnOp.TRUNC: np.trunc, UnOp.SQRT: np.sqrt, UnOp.EXP: np.exp}[op]
        return fn(a).astype(t.dtype)
    if op is UnOp.ABS and not src.is_signed:
        return np.asarray(a).astype(t.dtype)     # of an unsigned value: itself (uint64 too)
    w = np.asarray(a).astype(np.int64)
    if op is UnOp.NEG:
        return _wrap(-w, t)
    if op is UnOp.NOT:
        return _wrap(~w, t)
    if op is UnOp.ABS:
        return _wrap(np.abs(w), t)
    raise AssertionError(op)


def _binary(op, a, b, src, t):
    if op is BinOp.LAND:
        return a & b
    if op is BinOp.LOR:
        return a | b
    cmp = {BinOp.LT: np.less, BinOp.LE: np.less_equal, BinOp.EQ: np.equal, BinOp.NE: np.not_equal}
    if op in cmp:
        return cmp[op](a, b)
    if op is BinOp.MIN:
        return np.minimum(a, b).astype(t.dtype)
    if op is BinOp.MAX:
        return np.maximum(a, b).astype(t.dtype)
    if src.is_float:
        a, b = np.asarray(a, dtype=t.dtype), np.asarray(b, dtype=t.dtype)
        if op is BinOp.ADD:
            r = a + b
        elif op is BinOp.SUB:
            r = a - b
        elif op is BinOp.MUL:
            r = a * b
        elif op is BinOp.DIV:
            r = a / b
        elif op is BinOp.MOD:
            r = a - b * np.floor(a / b)
        elif op is BinOp.ABSD:
            r = np.abs(a - b)
        else:
            raise AssertionError(op)
        return np.asarray(r).astype(t.dtype)
    wide = src.bits == 64
    if wide:
        # 64-bit operands as exact Python ints: int64 arithmetic would read a
        # uint64 above 2**63 as negative (absd, division, >>) and overflow in
        # absd of int64 (fuzz seeds 11070, 11577).
        a, b = np.asarray(a).astype(object), np.asarray(b).astype(object)
        if op is BinOp.SHL:
            b = np.minimum(b, 128)
    else:
        a, b = np.asarray(a).astype(np.int64), np.asarray(b).astype(np.int64)
    if op is BinOp.ADD:
        r = a + b
    elif op is BinOp.SUB:
        r = a - b
    elif op is BinOp.MUL:
        r = a * b
    elif op in (BinOp.DIV, BinOp.MOD):
        # Python ints stay objects: on 0-d operands the ufuncs give Python
        # ints, which np.where would turn into int64 (fuzz seed 21175:
        # 2 / (2**64 - 12) in uint64 overflowed the reference).
        obj = (lambda v: np.asarray(v, dtype=object)) if wide else np.asarray
        zero = b == 0
        bs = obj(np.where(zero, 1, b))
        q = obj(np.floor_divide(a, bs))
        r = obj(a - q * bs)
        neg = r < 0  # only for negative divisors: make the remainder Euclidean
        r = obj(np.where(neg, obj(r - bs), r))
        q = obj(np.where(neg, obj(q + 1), q))
        r = np.where(zero, 0, q if op is BinOp.DIV else r)
    elif op is BinOp.AND:
        r = a & b
    elif op is BinOp.OR:
        r = a | b
    elif op is BinOp.XOR:
        r = a ^ b
    elif op is BinOp.SHL:
        r = a << b
    elif op is BinOp.SHR:
        r = a >> b
    elif op is BinOp.ABSD:
        r = np.abs(a - b)
    else:
        raise AssertionError(op)
    if wide:
        r = np.asarray(_MOD64(np.asarray(r, dtype=object)), dtype=object)
        return r.astype(np.uint64).astype(t.dtype)
    return _wrap(r, t)


def evaluate(desc: PipelineDesc) -> np.ndarray:
    """The output of `desc` over its output box, indexed [x, y]."""
    return _Evaluator(desc).run()
