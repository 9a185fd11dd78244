"""Focused random differential tests of the code generator's fast paths.

Each case is one seeded random program that exercises one mechanism, built
for a Halide-API module (`pipelang` or real `halide`) and computed by numpy
at the same time, bit for bit, on random inputs with the types' extremes
mixed in, under a random schedule (vectorized 8 to 64 lanes with each tail
strategy, unrolled, parallel, sliding windows):

- ``avg``: T((W(a) + W(b) [+ 1]) / 2) and ``>> 1`` for 8/16-bit T, any wider W
  (signed, unsigned, mixed), nested and selected (x86 pavgb/pavgw);
- ``madd``: int32 sums of >= 2 products of (u)int8/(u)int16 values, constants
  and Params (x86 pmaddwd), mixed with other terms;
- ``fclamp``: float values clamped, then cast to (u)int8/16/32, the value
  ranges near the clamp ends (the simplifier's truncated-clamp rule);
- ``cse``: equal subexpressions across selects, Tuple elements and update
  stores (codegen value numbering);
- ``quot``: producers read at min/max of quotients (simplifier and bounds);
- ``gather``: lookups of 32-64 lanes with tails;
- ``slide``: sliding windows and folded storage with split tails (RoundUp).

    python -m pipelang.testing.mechanisms --seeds 0:200 [--module halide]

`run_case(hl, kind, seed)` returns None or a description of the mismatch.
"""
from __future__ import annotations

import argparse
import importlib
import random
import sys

import numpy as np

PAD = 8
KINDS = ("avg", "madd", "fclamp", "cse", "quot", "gather", "slide", "slidein")
_NARROW = (np.uint8, np.int8, np.uint16, np.int16)


def _hl_type(hl, dt):
    dt = np.dtype(dt)
    if dt.kind == "f":
        return hl.Float(dt.itemsize * 8)
    return (hl.UInt if dt.kind == "u" else hl.Int)(dt.itemsize * 8)


class V:
    """One value in both worlds: a Halide expression and its numpy array
    over the output domain (rows y, columns x)."""

    def __init__(self, h, n):
        self.h, self.n = h, n

    @property
    def dt(self):
        return self.n.dtype


class _Case:
    def __init__(self, hl, rng: random.Random, w: int, h: int):
        self.hl, self.rng, self.w, self.h = hl, rng, w, h
        self.x, self.y = hl.Var("x"), hl.Var("y")
        self.inputs = []        # (ImageParam, array)
        self.params = []        # (Param, value)
        self.nrng = np.random.default_rng(rng.randrange(1 << 30))

    # ------------------------------------------------------------ leaves

    def values(self, dt, shape):
        dt = np.dtype(dt)
        if dt.kind == "f":
            return self.nrng.uniform(-300, 300, shape).astype(dt)
        info = np.iinfo(dt)
        v = self.nrng.integers(info.min, info.max, shape, endpoint=True, dtype=np.int64)
        ends = np.array([info.min, info.max, info.min + 1, info.max - 1, 0, 1, -1 if info.min else 2])
        extreme = self.nrng.random(shape) < 0.3
        v = np.where(extreme, self.nrng.choice(ends, shape), v)
        return v.astype(dt)

    def image(self, dt, width=None):
        """A new 2-D input of dtype `dt`, `width` columns (default: the
        output's plus padding on both sides)."""
        hl = self.hl
        width = width or self.w + 2 * PAD
        arr = self.values(dt, (self.h + 2 * PAD, width))
        p = hl.ImageParam(_hl_type(hl, dt), 2, f"in{len(self.inputs)}")
        self.inputs.append((p, arr))
        return p, arr

    def load(self, dt, dx=0, dy=0, image=None):
        p, arr = image if image is not None else self.image(dt)
        h = p[self.x + (PAD + dx), self.y + (PAD + dy)]
        n = arr[PAD + dy:PAD + dy + self.h, PAD + dx:PAD + dx + self.w]
        return V(h, n)

    def param(self, dt, value):
        hl = self.hl
        p = hl.Param(_hl_type(hl, dt), f"p{len(self.params)}")
        p.set(value)
        self.params.append((p, value))
        return V(p, np.full((self.h, self.w), value, dtype=dt))

    def const(self, dt, value):
        hl = self.hl
        return V(hl.cast(_hl_type(hl, dt), value), np.full((self.h, self.w), value, dtype=dt))

    def cast(self, dt, v):
        return V(self.hl.cast(_hl_type(self.hl, dt), v.h), v.n.astype(dt))

    def bind(self):
        for p, arr in self.inputs:
            p.set(self.hl.Buffer(np.ascontiguousarray(arr)))


# ---------------------------------------------------------------- programs


def _average(c: _Case, depth=0):
    r = c.rng
    t = r.choice(_NARROW)
    bits = np.dtype(t).itemsize * 8
    wide = r.choice([w for w in (np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64)
                     if np.dtype(w).itemsize * 8 > bits])
    img = [c.image(t) for _ in range(r.choice([1, 2]))]
    a = c.load(t, r.randint(-2, 2), r.randint(-1, 1), r.choice(img))
    b = c.load(t, r.randint(-2, 2), r.randint(-1, 1), r.choice(img))
    if r.random() < 0.15:
        b = c.param(t, int(r.choice([np.iinfo(t).min, np.iinfo(t).max, 3])))
    return _avg_of(c, a, b, t, wide)


def _avg_of(c, a, b, t, wide):
    r = c.rng
    rounding = r.choice([0, 1, 1])
    terms = [c.cast(wide, a), c.cast(wide, b)]
    if rounding or r.random() < 0.2:
        terms.append(c.const(wide, rounding))
    r.shuffle(terms)
    total = terms[0]
    for u in terms[1:]:
        total = V(total.h + u.h, total.n + u.n)   # numpy wraps in `wide`
    if r.random() < 0.3:
        total = V(total.h >> 1, total.n >> 1)
    else:
        total = V(total.h / 2, total.n // 2)
    return c.cast(t, total)


def _avg_program(c: _Case):
    r = c.rng
    v = _average(c)
    roll = r.random()
    if roll < 0.25:   # an average of averages (demosaic)
        t = v.dt
        w = c.load(t, r.randint(-2, 2), 0)
        wide = r.choice([x for x in (np.uint16, np.int32, np.uint32)
                         if np.dtype(x).itemsize > np.dtype(t).itemsize])
        v = _avg_of(c, v, w, t, wide)
    elif roll < 0.5:  # a select between two averages (camera_pipe's greens)
        u = _average(c)
        u = c.cast(v.dt, u)
        cond = V(v.h < u.h, v.n < u.n)
        other = _average(c)
        other = c.cast(v.dt, other)
        v = V(c.hl.select(cond.h, u.h, other.h), np.where(cond.n, u.n, other.n))
    return v


def _madd_operand(c: _Case):
    r = c.rng
    roll = r.random()
    if roll < 0.7:
        dt = r.choice([np.uint8, np.int8, np.int16, np.int16, np.uint16])
        return c.cast(np.int32, c.load(dt, r.randint(-2, 2), r.randint(-1, 1)))
    if roll < 0.85:
        return c.const(np.int32, r.choice([-32768, 32767, -1, 2, 3, -7, 255, 40000, -40000, 65535]))
    dt = r.choice([np.int16, np.uint8, np.int8])
    info = np.iinfo(dt)
    return c.cast(np.int32, c.param(dt, int(r.choice([info.min, info.max, 5]))))


def _madd_program(c: _Case):
    r = c.rng
    terms = []
    for _ in range(20):
        if len(terms) >= r.randint(2, 6):
            break
        roll = r.random()
        if roll < 0.75:
            a, b = _madd_operand(c), _madd_operand(c)
            term = V(a.h * b.h, a.n.astype(np.int64) * b.n.astype(np.int64))
        elif roll < 0.9:
            term = _madd_operand(c)
            term = V(term.h, term.n.astype(np.int64))
        else:
            term = c.const(np.int32, r.choice([0, 1, -5, 1 << 20]))
            term = V(term.h, term.n.astype(np.int64))
        trial = terms + [term]
        # int32 overflow is undefined in Halide: keep every partial sum in range.
        if max(np.abs(sum(abs(t.n) for t in trial)).max(), 0) < 2 ** 31 - 1:
            terms = trial
    while len(terms) < 2:
        a = _madd_operand(c)
        terms.append(V(a.h, a.n.astype(np.int64)))
    total = _sum_tree(c, terms)
    out = V(total.h, total.n.astype(np.int32))
    if r.random() < 0.3:   # narrowed afterwards
        out = c.cast(np.uint8, V(out.h >> 8, out.n >> 8))
    return out


def _sum_tree(c, terms):
    """The sum of `terms` in a random association (numpy: exact int64)."""
    r = c.rng
    terms = list(terms)
    while len(terms) > 1:
        i = r.randrange(len(terms) - 1)
        a, b = terms[i], terms[i + 1]
        terms[i:i + 2] = [V(a.h + b.h, a.n + b.n)]
    return terms[0]


_COEFS = [1.0, 0.5, 0.25, 0.75, 1.5, 2.0, -1.0, -0.5, 1.00390625, 0.99609375, 0.125]
_OFFSETS = [0.0, 0.5, 0.9921875, -0.9921875, 1.0, -1.0, 0.25, 0.99609375, -0.5]


def _fclamp_program(c: _Case):
    r = c.rng
    for _ in range(50):
        k = r.choice([1, 1, 2, 3])
        srcs = [r.choice([np.uint8, np.uint8, np.int8, np.uint16, np.int16]) for _ in range(k)]
        coefs = [r.choice(_COEFS) for _ in range(k)]
        off = r.choice(_OFFSETS)
        parts = []
        for dt, co in zip(srcs, coefs):
            v = c.load(dt, r.randint(-1, 1), 0)
            parts.append((v, co))
        vals = [co * v.n.astype(np.float64) for v, co in parts] + [np.full((c.h, c.w), off)]
        # Every partial sum exact in float32, so any association gives numpy's value.
        exact = True
        for mask in range(1, 1 << len(vals)):
            s = sum(vals[i] for i in range(len(vals)) if mask >> i & 1)
            exact &= bool(np.all(s.astype(np.float32).astype(np.float64) == s))
        for v in vals:
            exact &= bool(np.all(v.astype(np.float32).astype(np.float64) == v))
        if not exact:
            c.inputs = c.inputs[:len(c.inputs) - k]
            continue
        f32 = c.hl.Float(32)
        h = None
        for v, co in parts:
            term = c.hl.cast(f32, v.h) * co
            h = term if h is None else h + term
        h = h + off
        xf = sum(vals).astype(np.float32)
        t = r.choice([np.uint8, np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32])
        info = np.iinfo(t)
        xlo, xhi = float(xf.min()), float(xf.max())
        ends = [float(info.min), float(info.max), np.floor(xhi), np.ceil(xhi), np.floor(xhi) - 1,
                np.floor(xlo), np.ceil(xlo), np.ceil(xlo) + 1, 0.0, 254.0, 255.0, 127.0, -128.0, -1.0,
                float(np.floor(xhi)) + 0.5]
        ends = [e for e in ends if float(np.float32(e)) == e]
        lo, hi = sorted([r.choice(ends), r.choice(ends)])
        form = r.choice(["clamp", "min", "max", "minmax", "maxmin"])
        if form == "min":
            rng_lo, rng_hi = xlo, min(xhi, hi)
        elif form == "max":
            rng_lo, rng_hi = max(xlo, lo), xhi
        else:
            rng_lo, rng_hi = max(min(xlo, hi), lo), min(max(xhi, lo), hi)
        if not (info.min - 1 < rng_lo and rng_hi < info.max + 1 and abs(rng_lo) < 2 ** 31 and abs(rng_hi) < 2 ** 31):
            c.inputs = c.inputs[:len(c.inputs) - k]
            continue
        lo32, hi32 = np.float32(lo), np.float32(hi)
        if form == "clamp":
            hv, nv = c.hl.clamp(h, float(lo), float(hi)), np.minimum(np.maximum(xf, lo32), hi32)
        elif form == "min":
            hv, nv = c.hl.min(h, float(hi)), np.minimum(xf, hi32)
        elif form == "max":
            hv, nv = c.hl.max(h, float(lo)), np.maximum(xf, lo32)
        elif form == "minmax":
            hv, nv = c.hl.min(c.hl.max(h, float(lo)), float(hi)), np.minimum(np.maximum(xf, lo32), hi32)
        else:
            hv, nv = c.hl.max(c.hl.min(h, float(hi)), float(lo)), np.maximum(np.minimum(xf, hi32), lo32)
        return V(c.hl.cast(_hl_type(c.hl, t), hv), np.trunc(nv).astype(np.int64).astype(t))
    return c.const(np.uint8, 0)


def _narrow_op(c: _Case, a: V, b: V):
    """A random wrapping operation of two values of one narrow type."""
    r = c.rng
    op = r.choice(["+", "-", "*", "min", "max", "^", "avg", "sel"])
    hl = c.hl
    if op == "+":
        return V(a.h + b.h, a.n + b.n)
    if op == "-":
        return V(a.h - b.h, a.n - b.n)
    if op == "*":
        return V(a.h * b.h, a.n * b.n)
    if op == "min":
        return V(hl.min(a.h, b.h), np.minimum(a.n, b.n))
    if op == "max":
        return V(hl.max(a.h, b.h), np.maximum(a.n, b.n))
    if op == "^":
        return V(a.h ^ b.h, a.n ^ b.n)
    if op == "avg":
        wide = {1: np.int16, 2: np.int32}[a.dt.itemsize]
        return _avg_of(c, a, b, a.dt.type, wide)
    return V(hl.select(a.h < b.h, a.h - b.h, b.h - a.h), np.where(a.n < b.n, a.n - b.n, b.n - a.n))


def _cse_program(c: _Case):
    """Equal subexpressions (the same object and rebuilt copies) in several
    places of one definition, a select, and an update that reads back."""
    r = c.rng
    t = np.dtype(r.choice(_NARROW)).type
    img = c.image(t)
    builders = []
    for _ in range(r.randint(2, 4)):
        dx1, dx2, op_seed = r.randint(-2, 2), r.randint(-2, 2), r.randrange(1 << 20)
        builders.append((dx1, dx2, op_seed))

    def build(i):    # a fresh copy of subexpression i, structurally equal each time
        dx1, dx2, op_seed = builders[i]
        saved = c.rng
        c.rng = random.Random(op_seed)
        v = _narrow_op(c, c.load(t, dx1, 0, img), c.load(t, dx2, 0, img))
        c.rng = saved
        return v

    subs = [build(i) for i in range(len(builders))]
    pick = lambda: subs[r.randrange(len(subs))] if r.random() < 0.5 else build(r.randrange(len(subs)))
    v = pick()
    for _ in range(r.randint(2, 5)):
        v = _narrow_op(c, v, pick())
    return v


def _quot_program(c: _Case):
    """g read at min/max of quotients of x by one constant."""
    r = c.rng
    hl = c.hl
    p, arr = c.image(np.uint16)
    g = hl.Func("g")
    x, y = c.x, c.y
    g[x, y] = p[hl.clamp(x, 0, c.w + 2 * PAD - 1), y + PAD] * 3 + hl.cast(hl.UInt(16), x)
    gv = lambda xs: (arr[PAD:PAD + c.h, np.clip(xs, 0, c.w + 2 * PAD - 1)]
                     * np.uint16(3) + xs.astype(np.uint16))
    q = r.choice([2, 2, 3, 4])
    xs = np.arange(c.w)[None, :].repeat(c.h, 0)
    ks = [r.randint(-3, 3) for _ in range(4)]
    hq = [(x + k) / q for k in ks]
    nq = [np.floor_divide(xs + k, q) for k in ks]
    h = g[hl.min(hq[0], hq[1]), y] + g[hl.max(hq[2], hq[3]), y]
    n = gv(np.minimum(nq[0], nq[1])[0])[:, :] + gv(np.maximum(nq[2], nq[3])[0])
    if r.random() < 0.5:
        h = h + g[hl.min(hq[0] + 1, hq[1]) * 2, y]
        n = n + gv((np.minimum(nq[0] + 1, nq[1]) * 2)[0])
    c.producers = [g]
    return V(h, n)


def _gather_program(c: _Case):
    r = c.rng
    hl = c.hl
    size = r.choice([17, 256, 300, 1000])
    lt = r.choice([np.uint8, np.uint16, np.int16, np.int32, np.float32])
    p, lut = c.image(lt, width=size)
    it = r.choice([np.uint8, np.uint16, np.int16])
    idx = c.load(it, r.randint(-2, 2), 0)
    k = r.randint(-3, 3)
    i = hl.clamp(hl.cast(hl.Int(32), idx.h) + k, 0, size - 1)
    ni = np.clip(idx.n.astype(np.int64) + k, 0, size - 1)
    row = r.randint(0, c.h + 2 * PAD - 1)
    h = p[i, row]
    n = lut[row][ni]
    if r.random() < 0.3 and lt in (np.uint8, np.uint16, np.int16):
        # a lookup indexed by a lookup
        i2 = hl.clamp(hl.cast(hl.Int(32), h), 0, size - 1)
        h = p[i2, row]
        n = lut[row][np.clip(n.astype(np.int64), 0, size - 1)]
    return V(h, n)


def _slide_program(c: _Case):
    r = c.rng
    hl = c.hl
    x, y = c.x, c.y
    t = r.choice([np.uint8, np.uint16, np.int16])
    img = c.image(t)
    a0, a1 = c.load(t, 0, 0, img), c.load(t, 0, 1, img)
    g = hl.Func("g")
    # g at (x, y) is a0 + a1 at the output's (x, y); numpy: rows of the padded input.
    p, arr = img
    g[x, y] = p[x + PAD, y + PAD] + p[x + PAD, y + PAD + 1]
    grow = lambda dy: arr[PAD + dy:PAD + dy + c.h, PAD:PAD + c.w] + arr[PAD + dy + 1:PAD + dy + 1 + c.h, PAD:PAD + c.w]
    h, n = None, None
    if r.random() < 0.35:
        # Upsampling: rows (y + k)/2 (min/max of quotients in the bounds).
        ys = np.arange(c.h)
        rows = lambda k: arr[PAD + (ys + k) // 2][:, PAD:PAD + c.w] + arr[PAD + (ys + k) // 2 + 1][:, PAD:PAD + c.w]
        for k in sorted(set(r.randint(-1, 2) for _ in range(2))):
            h = g[x, (y + k) / 2] if h is None else h + g[x, (y + k) / 2]
            n = rows(k) if n is None else n + rows(k)
    else:
        for dy in sorted(set(r.randint(-2, 2) for _ in range(3))):
            h = g[x, y + dy] if h is None else h + g[x, y + dy]
            n = grow(dy) if n is None else n + grow(dy)
    c.producers = [g]
    c.slide = True
    return V(h, n)


def _slide_inner_program(c: _Case):
    """As "slide", with g reading a Func e of its own, which the schedule
    may compute inside g (at g's rows or columns) while g slides: on a
    rewound loop's warm-up iterations e's consume wraps g's stores (the
    sliding-window bug fixed in e63ca1e)."""
    r = c.rng
    hl = c.hl
    x, y = c.x, c.y
    t = r.choice([np.uint8, np.uint16, np.int16])
    p, arr = c.image(t)
    k = r.randint(1, 3)
    e = hl.Func("e")
    e[x, y] = p[x + PAD, y + PAD] * k + p[x + PAD + 1, y + PAD]
    g = hl.Func("g")
    g[x, y] = e[x, y] + e[x, y + 1]
    wide = arr.astype(np.int64)
    rows = lambda dy: wide[PAD + dy:PAD + dy + c.h]
    e_at = lambda dy: rows(dy)[:, PAD:PAD + c.w] * k + rows(dy)[:, PAD + 1:PAD + 1 + c.w]
    g_at = lambda dy: e_at(dy) + e_at(dy + 1)
    h, n = None, None
    for dy in sorted(set(r.randint(-2, 1) for _ in range(3))):
        h = g[x, y + dy] if h is None else h + g[x, y + dy]
        n = g_at(dy) if n is None else n + g_at(dy)
    c.producers = [g]
    c.inner = e
    c.slide = True
    return V(h, n.astype(t))


PROGRAMS = {"avg": _avg_program, "madd": _madd_program, "fclamp": _fclamp_program,
            "cse": _cse_program, "quot": _quot_program, "gather": _gather_program,
            "slide": _slide_program, "slidein": _slide_inner_program}


# --------------------------------------------------------------- schedules


def _schedule(c: _Case, f, update=None):
    """A random schedule for output `f` (and its producers); returns its
    text for reports."""
    hl = c.hl
    r = c.rng
    x, y = c.x, c.y
    said = []
    lanes = r.choice([1, 8, 16, 32, 64, 64, 40, 12])
    # (Not PredicateLoads/PredicateStores: real Halide reads the inputs a
    # whole vector past the end with them, beyond these inputs' padding.)
    tails = [hl.TailStrategy.GuardWithIf, hl.TailStrategy.GuardWithIf, hl.TailStrategy.Predicate]
    if c.w >= lanes:
        tails += [hl.TailStrategy.ShiftInwards, hl.TailStrategy.ShiftInwards]
    if lanes > 1:
        tail = r.choice(tails)
        xo, xi = hl.Var("xo"), hl.Var("xi")
        f.split(x, xo, xi, lanes, tail).vectorize(xi)
        said.append(f"f.split(x, xo, xi, {lanes}, {tail}).vectorize(xi)")
        if r.random() < 0.3:
            f.unroll(xo, 2, hl.TailStrategy.GuardWithIf)
            said.append("f.unroll(xo, 2, GuardWithIf)")
    elif r.random() < 0.5:
        k = r.choice([2, 3, 4])
        f.unroll(x, k, hl.TailStrategy.GuardWithIf)
        said.append(f"f.unroll(x, {k}, GuardWithIf)")
    slide = getattr(c, "slide", False)
    if r.random() < 0.3 and not slide:
        f.parallel(y)
        said.append("f.parallel(y)")
    for g in getattr(c, "producers", []):
        roll = r.random()
        if slide and roll < 0.5:
            # A sliding window over y, folded; maybe rows split with RoundUp.
            g.store_root().compute_at(f, y)
            said.append("g.store_root().compute_at(f, y)")
            if r.random() < 0.5:
                gv = r.choice([8, 16])
                g.vectorize(x, gv)
                said.append(f"g.vectorize(x, {gv})")
        elif slide and roll < 0.7:
            # Sliding within strips of rows.
            yo, yi = hl.Var("yo"), hl.Var("yi")
            k = r.choice([2, 3, 4])
            tail = hl.TailStrategy.ShiftInwards if c.h >= k and r.random() < 0.5 else hl.TailStrategy.GuardWithIf
            f.split(y, yo, yi, k, tail)
            g.store_at(f, yo).compute_at(f, yi)
            said.append(f"f.split(y, yo, yi, {k}, {tail}); g.store_at(f, yo).compute_at(f, yi)")
        elif slide and roll < 0.78:
            # Sliding over strips into folded storage, the producer's rows
            # split with RoundUp (whole spans or not).
            yo, yi = hl.Var("yo"), hl.Var("yi")
            k, k2 = r.choice([2, 4]), r.choice([1, 2, 3, 4])
            f.split(y, yo, yi, k, hl.TailStrategy.GuardWithIf)
            g.store_root().compute_at(f, yo)
            gy_o, gy_i = hl.Var("gyo"), hl.Var("gyi")
            g.split(y, gy_o, gy_i, k2, hl.TailStrategy.RoundUp)
            said.append(f"f.split(y, yo, yi, {k}, GuardWithIf); g.store_root().compute_at(f, yo)"
                        f".split(y, gyo, gyi, {k2}, RoundUp)")
        elif slide and roll < 0.85:
            yo, yi = hl.Var("yo"), hl.Var("yi")
            k = r.choice([2, 4, 8])
            # Whole strips keep a RoundUp of the producer inside them.
            f.split(y, yo, yi, k, hl.TailStrategy.GuardWithIf)
            g.compute_at(f, yo)
            gy_o, gy_i = hl.Var("gyo"), hl.Var("gyi")
            g.split(y, gy_o, gy_i, 2, hl.TailStrategy.RoundUp)
            said.append(f"f.split(y, yo, yi, {k}, GuardWithIf); g.compute_at(f, yo).split(y, gyo, gyi, 2, RoundUp)")
        elif roll < 0.6:
            g.compute_root()
            said.append("g.compute_root()")
            if r.random() < 0.5:
                g.vectorize(x, 16)
                said.append("g.vectorize(x, 16)")
        elif roll < 0.8 and lanes > 1:
            g.compute_at(f, xo)
            said.append("g.compute_at(f, xo)")
        else:
            said.append("g inline")
        inner = getattr(c, "inner", None)
        if inner is not None:
            # The inner producer: inside g (at its rows or columns) when g
            # has them, at root, or inlined.
            sites = [] if said[-1] == "g inline" or "gyo" in said[-1] else ["y", "y", "x"]
            where = r.choice(sites + ["root", "inline"])
            if where in ("x", "y"):
                inner.compute_at(g, x if where == "x" else y)
                said.append(f"e.compute_at(g, {where})")
                if where == "y" and r.random() < 0.5:
                    inner.vectorize(x, 8)
                    said.append("e.vectorize(x, 8)")
            elif where == "root":
                inner.compute_root()
                said.append("e.compute_root()")
    return "; ".join(said) or "default"


def build_case(hl, kind: str, seed: int):
    """(Func, expected array, schedule text, _Case) for one seeded case."""
    r = random.Random(f"{kind}:{seed}")
    c = _Case(hl, r, w=r.randint(60, 150), h=r.randint(1, 5))
    v = PROGRAMS[kind](c)
    f = hl.Func("out")
    f[c.x, c.y] = v.h
    expected = np.asarray(v.n)
    if kind == "cse" and r.random() < 0.5:
        # An update that reads back and adds the same expression again.
        f[c.x, c.y] = f[c.x, c.y] + v.h
        expected = (expected + v.n).astype(v.dt)
    text = _schedule(c, f)
    if kind == "cse" and expected is not v.n and text != "default":
        f.update(0).unscheduled()
    c.bind()
    return f, expected, text, c


def run_case(hl, kind: str, seed: int):
    f, expected, text, c = build_case(hl, kind, seed)
    try:
        out = f.realize([c.w, c.h])
    except Exception as e:  # a crash is a failure like a wrong value
        return f"{kind} seed {seed} [{text}]: raised {type(e).__name__}: {str(e)[:300]}"
    got = np.ascontiguousarray(np.asarray(out))
    expected = np.ascontiguousarray(expected)
    if got.dtype != expected.dtype:
        return f"{kind} seed {seed} [{text}]: dtype {got.dtype}, expected {expected.dtype}"
    if not np.array_equal(got.view(np.uint8), expected.view(np.uint8)):
        bad = np.argwhere(got != expected)
        yy, xx = bad[0]
        return (f"{kind} seed {seed} [{text}]: {len(bad)} of {got.size} differ; first at x={xx} y={yy}: "
                f"got {got[yy, xx]!r}, expected {expected[yy, xx]!r}")
    return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", default="0:50", help="first:last (exclusive)")
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--module", default="pipelang")
    args = p.parse_args(argv)
    hl = importlib.import_module(args.module)
    lo, hi = map(int, args.seeds.split(":"))
    failures = 0
    for kind in args.kinds.split(","):
        for seed in range(lo, hi):
            msg = run_case(hl, kind, seed)
            if msg:
                failures += 1
                print(msg, flush=True)
        print(f"{kind}: seeds {lo}..{hi - 1} done", flush=True)
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
