"""Seeded random legal schedules for a pipeline description, as plain data
that prints as Halide scheduling source and applies to any module ``hl``.

Legality rules encoded here (Halide 21's, learned against real Halide):
- TailStrategy.RoundUp only on pure definitions of non-output Funcs;
  ShiftInwards only on pure definitions; update stages use GuardWithIf/Auto.
- RVars are split, unrolled and reordered among pure vars but never
  vectorized, parallelized, fused or reordered relative to each other.
- Loop directives only on Funcs that are not inlined; Funcs with update
  definitions are never inlined.
- compute_at/store_at only at a loop (not vectorized or unrolled) of the
  Func's single consumer stage, that consumer not inlined; store_at is at
  or outside the compute_at loop.

    sched = random_schedule(desc, seed=4)
    print("\\n".join(schedule_source(sched)))
"""
from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from .desc import Boundary, PipelineDesc, RVarRef, Stage, Var, calls, stage_exprs


class Tail(enum.Enum):
    AUTO = "Auto"
    GUARD_WITH_IF = "GuardWithIf"
    SHIFT_INWARDS = "ShiftInwards"
    ROUND_UP = "RoundUp"
    PREDICATE = "Predicate"
    PREDICATE_LOADS = "PredicateLoads"
    PREDICATE_STORES = "PredicateStores"


@dataclass(frozen=True, slots=True)
class Split:
    func: str
    stage: int
    old: str
    outer: str
    inner: str
    factor: int
    tail: Tail


@dataclass(frozen=True, slots=True)
class Reorder:
    func: str
    stage: int
    dims: tuple  # innermost first


@dataclass(frozen=True, slots=True)
class Fuse:
    func: str
    stage: int
    inner: str
    outer: str
    fused: str


@dataclass(frozen=True, slots=True)
class Tile:
    func: str
    stage: int
    x: str
    y: str
    xo: str
    yo: str
    xi: str
    yi: str
    fx: int
    fy: int
    tail: Tail


@dataclass(frozen=True, slots=True)
class LoopKind:
    """vectorize / unroll (with an optional split factor) or parallel."""
    func: str
    stage: int
    kind: str  # "vectorize" | "unroll" | "parallel"
    dim: str
    factor: int | None = None


@dataclass(frozen=True, slots=True)
class ComputeRoot:
    func: str


@dataclass(frozen=True, slots=True)
class ComputeAt:
    func: str
    at: str
    stage: int
    dim: str


@dataclass(frozen=True, slots=True)
class StoreAt:
    func: str
    at: str
    stage: int
    dim: str


@dataclass(frozen=True, slots=True)
class Schedule:
    directives: tuple


def _stage_sel(func: str, stage: int) -> str:
    return func if stage == 0 else f"{func}.update({stage - 1})"


def _dim_src(d: str) -> str:
    return d  # "x", "r3.x" and declared identifiers all print as themselves


def schedule_source(s: Schedule) -> list:
    """Source lines that apply `s`; they declare the Vars/RVars they create."""
    lines, declared = [], set()

    def declare(name, like):
        if name not in declared:
            declared.add(name)
            cls = "hl.RVar" if like.startswith("r") else "hl.Var"
            lines.append(f"{name} = {cls}({name!r})")

    for d in s.directives:
        if isinstance(d, Split):
            declare(d.outer, d.old), declare(d.inner, d.old)
            lines.append(f"{_stage_sel(d.func, d.stage)}.split({d.old}, {d.outer}, {d.inner}, "
                         f"{d.factor}, hl.TailStrategy.{d.tail.value})")
        elif isinstance(d, Tile):
            for n in (d.xo, d.yo, d.xi, d.yi):
                declare(n, "x")
            lines.append(f"{_stage_sel(d.func, d.stage)}.tile({d.x}, {d.y}, {d.xo}, {d.yo}, "
                         f"{d.xi}, {d.yi}, {d.fx}, {d.fy}, hl.TailStrategy.{d.tail.value})")
        elif isinstance(d, Reorder):
            lines.append(f"{_stage_sel(d.func, d.stage)}.reorder({', '.join(d.dims)})")
        elif isinstance(d, Fuse):
            declare(d.fused, d.inner)
            lines.append(f"{_stage_sel(d.func, d.stage)}.fuse({d.inner}, {d.outer}, {d.fused})")
        elif isinstance(d, LoopKind):
            extra = f", {d.factor}" if d.factor is not None else ""
            lines.append(f"{_stage_sel(d.func, d.stage)}.{d.kind}({d.dim}{extra})")
        elif isinstance(d, ComputeRoot):
            lines.append(f"{d.func}.compute_root()")
        elif isinstance(d, (ComputeAt, StoreAt)):
            verb = "compute_at" if isinstance(d, ComputeAt) else "store_at"
            if d.stage == 0:
                lines.append(f"{d.func}.{verb}({d.at}, {d.dim})")
            else:
                lines.append(f"{d.func}.{verb}(hl.LoopLevel({d.at}, {d.dim}, {d.stage}))")
    return lines


def _stage_dims(s: Stage, k: int) -> list:
    """Loop dims of stage k, innermost first: RVars innermost in updates."""
    if k == 0:
        return ["x", "y"]
    u = s.updates[k - 1]
    rvars = [f"{u.rdom_name}.{'xy'[i]}" for i in range(len(u.rdom))]
    pure = [v.name for i, v in enumerate(u.lhs) if isinstance(v, Var) and v.name == "xy"[i]]
    return rvars + pure


class _SchedGen:
    def __init__(self, desc: PipelineDesc, rng: random.Random):
        self.desc, self.rng = desc, rng
        self.out: list = []
        self.final_dims: dict = {}  # (func, stage) -> [(dim, usable_for_compute_at)]
        self.level: dict = {}  # func -> "root" | "inline" | "at" | "output"

    def loops(self, s: Stage, k: int, is_output: bool):
        r = self.rng
        dims = [(d, d.startswith("r"), True) for d in _stage_dims(s, k)]  # (name, is_rvar, at-ok)
        no_fuse = False
        for step in range(r.randint(0, 4)):
            op = r.choice(["split", "split", "tile", "reorder", "fuse", "vector", "unroll", "parallel"])
            pure = [i for i, d in enumerate(dims) if not d[1]]
            tag = f"{s.name}_{k}_{step}"
            if op == "split" and dims:
                i = r.randrange(len(dims))
                name, rv, _ = dims[i]
                tails = [Tail.GUARD_WITH_IF] if is_output else [Tail.GUARD_WITH_IF, Tail.AUTO]
                if k == 0 and not is_output:
                    tails += [Tail.SHIFT_INWARDS] + ([] if is_output else [Tail.ROUND_UP])
                pre = "r" if rv else "v"
                o, inn = f"{pre}{tag}o", f"{pre}{tag}i"
                self.out.append(Split(s.name, k, name, o, inn, r.randint(2, 5), r.choice(tails)))
                dims[i:i + 1] = [(inn, rv, True), (o, rv, True)]
            elif op == "tile" and k == 0 and [d[0] for d in dims[:2]] == ["x", "y"]:
                # On an output, Auto/ShiftInwards read before the buffer's min
                # when the extent is below the factor: GuardWithIf only.
                tails = [Tail.GUARD_WITH_IF] if is_output else [
                    Tail.GUARD_WITH_IF, Tail.AUTO, Tail.SHIFT_INWARDS, Tail.ROUND_UP]
                xo, yo, xi, yi = (f"v{tag}{n}" for n in ("xo", "yo", "xi", "yi"))
                self.out.append(Tile(s.name, k, "x", "y", xo, yo, xi, yi, r.randint(2, 5),
                                     r.randint(2, 4), r.choice(tails)))
                dims[0:2] = [(xi, False, True), (yi, False, True), (xo, False, True), (yo, False, True)]
            elif op == "reorder" and len(dims) > 1:
                new = dims[:]
                r.shuffle(new)
                rv_order = iter([d for d in dims if d[1]])  # keep RVars' relative order
                new = [next(rv_order) if d[1] else d for d in new]
                self.out.append(Reorder(s.name, k, tuple(d[0] for d in new)))
                dims = new
            elif op == "fuse" and not no_fuse:
                pairs = [i for i in range(len(dims) - 1) if not dims[i][1] and not dims[i + 1][1]]
                if pairs:
                    i = r.choice(pairs)
                    f = f"v{tag}f"
                    self.out.append(Fuse(s.name, k, dims[i][0], dims[i + 1][0], f))
                    dims[i:i + 2] = [(f, False, dims[i][2] and dims[i + 1][2])]
            elif op in ("vector", "unroll") and dims:
                cands = pure if op == "vector" else list(range(len(dims)))
                cands = [i for i in cands if dims[i][2]]
                if cands:
                    i = r.choice(cands if r.random() < 0.5 else cands[:1])
                    kind = "vectorize" if op == "vector" else "unroll"
                    factor = r.choice([None, 2, 3, 4, 8]) if op == "vector" else r.choice([None, 2, 3])
                    if factor is None and not self._is_inner_split(dims[i][0]):
                        factor = 4
                    name, rv, _ = dims[i]
                    if factor is not None and is_output:
                        # vectorize(v, n) splits with Auto = ShiftInwards, which
                        # an output narrower than n cannot take: split by hand.
                        o, inn = f"v{tag}o", f"v{tag}i"
                        self.out.append(Split(s.name, k, name, o, inn, factor, Tail.GUARD_WITH_IF))
                        self.out.append(LoopKind(s.name, k, kind, inn))
                        dims[i:i + 1] = [(inn, rv, False), (o, rv, True)]
                        continue
                    self.out.append(LoopKind(s.name, k, kind, name, factor))
                    if factor is not None:
                        # The outer loop keeps the name; the hidden inner one
                        # is innermost at this position, so fusing is over.
                        dims[i] = (name, rv, True)
                        no_fuse = True
                    else:
                        dims[i] = (name, rv, False)
            elif op == "parallel" and pure:
                i = r.choice(pure)
                self.out.append(LoopKind(s.name, k, "parallel", dims[i][0]))
        self.final_dims[(s.name, k)] = dims

    def _is_inner_split(self, name):
        return any(isinstance(d, Split) and d.inner == name and d.factor <= 8 for d in self.out)

    def generate(self) -> Schedule:
        r = self.rng
        desc = self.desc
        for s in reversed(desc.stages):
            is_output = s is desc.output
            if is_output:
                self.level[s.name] = "output"
            else:
                self.level[s.name] = self.choose_level(s)
            if self.level[s.name] != "inline" and isinstance(s, Stage):
                for k in range(len(s.updates) + 1):
                    if r.random() < 0.7:
                        self.loops(s, k, is_output)
                    else:
                        self.final_dims[(s.name, k)] = [(d, d.startswith("r"), True) for d in _stage_dims(s, k)]
        return Schedule(tuple(self.out))

    def choose_level(self, s) -> str:
        r = self.rng
        can_inline = not (isinstance(s, Stage) and s.updates)
        users = [(c.name, k) for c in self.desc.stages if isinstance(c, Stage)
                 for k, e in _uses_by_stage(c) if any(x.func == s.name for x in calls(e))]
        bc_users = [c for c in self.desc.stages if isinstance(c, Boundary) and c.source == s.name]
        stages_used = sorted(set(users))
        roll = r.random()
        # Halide 21 rejected hl.LoopLevel(g, v, stage_index>0) as "invalid" even
        # when its own list of legal sites showed compute_at(g, v): stage 0 only.
        if (roll < 0.5 and len(stages_used) == 1 and stages_used[0][1] == 0 and not bc_users
                and self.level.get(stages_used[0][0]) != "inline"):
            at, k = stages_used[0]
            dims = [d for d in self.final_dims.get((at, k), []) if d[2]]
            if dims:
                ci = r.randrange(len(dims))
                self.out.append(ComputeAt(s.name, at, k, dims[ci][0]))
                if r.random() < 0.4:
                    si = r.randint(ci, len(dims) - 1)
                    self.out.append(StoreAt(s.name, at, k, dims[si][0]))
                return "at"
        if can_inline and roll < 0.75:
            return "inline"
        self.out.append(ComputeRoot(s.name))
        return "root"


def _uses_by_stage(s: Stage):
    yield 0, s.value
    for k, u in enumerate(s.updates, 1):
        for e in list(u.lhs) + list(u.read) + [u.term] + ([u.where] if u.where else []):
            yield k, e


def random_schedule(desc: PipelineDesc, seed: int) -> Schedule:
    return _SchedGen(desc, random.Random(seed)).generate()
