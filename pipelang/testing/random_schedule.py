"""Seeded random legal schedules for a pipeline description, as plain data
that prints as Halide scheduling source and applies to any module ``hl``.

Legality rules encoded here (Halide 21's, learned against real Halide):
- Tail strategies: see OUTPUT_TAILS, PURE_TAILS, UPDATE_TAILS, RVAR_TAILS.
- RVars are split, unrolled and reordered among pure vars but never
  vectorized, parallelized, fused or reordered relative to each other.
- Loop directives only on Funcs that are not inlined; Funcs with update
  definitions are never inlined.
- compute_at/store_at only at a loop (not vectorized or unrolled) of the
  Func's single consumer stage, that consumer not inlined; store_at is at
  or outside the compute_at loop.
- prefetch (schedule seeds of programs from PREFETCH_SEEDS on, drawn after
  the rest so the other directives are the same as without): of a
  compute_root Func the stage calls, at a pure loop neither vectorized nor
  inside a vectorized one, from that loop or one outside it.

    sched = random_schedule(desc, seed=4)
    print("\\n".join(schedule_source(sched)))
"""
from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from .desc import Boundary, PipelineDesc, Stage, Var, binds_rdom, calls


class Tail(enum.Enum):
    AUTO = "Auto"
    GUARD_WITH_IF = "GuardWithIf"
    SHIFT_INWARDS = "ShiftInwards"
    ROUND_UP = "RoundUp"
    PREDICATE = "Predicate"
    PREDICATE_LOADS = "PredicateLoads"
    PREDICATE_STORES = "PredicateStores"
    ROUND_UP_AND_BLEND = "RoundUpAndBlend"
    SHIFT_INWARDS_AND_BLEND = "ShiftInwardsAndBlend"


# Legal tails, measured against Halide 21 with an output narrower than the
# split factor: on an output, Auto/ShiftInwards(AndBlend) read before the
# buffer's min and RoundUp(AndBlend)/PredicateLoads write past its max.
OUTPUT_TAILS = (Tail.GUARD_WITH_IF, Tail.PREDICATE, Tail.PREDICATE_STORES)
PURE_TAILS = tuple(Tail)
UPDATE_TAILS = tuple(t for t in Tail if t is not Tail.SHIFT_INWARDS)  # "may change the meaning"
RVAR_TAILS = (Tail.GUARD_WITH_IF, Tail.PREDICATE, Tail.AUTO)  # Halide's own error message
PREDICATE_TAILS = (Tail.PREDICATE, Tail.PREDICATE_LOADS, Tail.PREDICATE_STORES)
BLEND_TAILS = (Tail.ROUND_UP_AND_BLEND, Tail.SHIFT_INWARDS_AND_BLEND)


@dataclass
class _Dim:
    """A loop of a stage while its schedule is drawn."""
    name: str
    rvar: bool
    free: bool = True  # not yet vectorized, unrolled or parallel
    splittable: bool = True  # not a half of a Predicate* split
    from_inner: bool = False  # stems from the inner var of a split
    racy: bool = False  # parallel or vectorized: no store_at outside it
    derived: bool = False  # made by a split or fuse
    hidden: bool = False  # the unnamed inner loop of vectorize(v, n)/unroll(v, n)
    vector: bool = False  # vectorized


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
class ComputeInline:
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
class Prefetch:
    func: str
    stage: int
    target: str
    at: str
    from_: str
    offset: int
    strategy: str  # a PrefetchBoundStrategy name


@dataclass(frozen=True, slots=True)
class ComputeWith:
    """`func.compute_with(parent, dim, align)`: stage 0 of each; `align` is
    ((dim, LoopAlignStrategy name), ...)."""
    func: str
    parent: str
    dim: str
    align: tuple = ()


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
        elif isinstance(d, ComputeInline):
            lines.append(f"{d.func}.compute_inline()")
        elif isinstance(d, (ComputeAt, StoreAt)):
            verb = "compute_at" if isinstance(d, ComputeAt) else "store_at"
            # Printed without a stage index: Halide 21 rejects an explicit
            # hl.LoopLevel(g, v, k) for an update-stage use that it accepts as
            # compute_at(g, v) (stage index -1), with v a loop of that stage.
            lines.append(f"{d.func}.{verb}({d.at}, {d.dim})")
        elif isinstance(d, Prefetch):
            lines.append(f"{_stage_sel(d.func, d.stage)}.prefetch({d.target}, {d.at}, {d.from_}, "
                         f"{d.offset}, hl.PrefetchBoundStrategy.{d.strategy})")
        elif isinstance(d, ComputeWith):
            align = ", ".join(f"({v}, hl.LoopAlignStrategy.{how})" for v, how in d.align)
            lines.append(f"{d.func}.compute_with({d.parent}, {d.dim}, [{align}])")
    return lines


def _stage_dims(s: Stage, k: int) -> list:
    """Loop dims of stage k, innermost first: RVars innermost in updates."""
    if k == 0:
        return ["x", "y"]
    u = s.updates[k - 1]
    rvars = [f"{u.rdom_name}.{'xy'[i]}" for i in range(len(u.rdom))] if binds_rdom(u) else []
    pure = [v.name for i, v in enumerate(u.lhs) if isinstance(v, Var) and v.name == "xy"[i]]
    return rvars + pure


class _SchedGen:
    def __init__(self, desc: PipelineDesc, rng: random.Random, wide_vectors: bool = False):
        self.desc, self.rng = desc, rng
        self.wide_vectors = wide_vectors   # also 16-64 lanes (an extra draw per vectorize)
        self.out: list = []
        self.final_dims: dict = {}  # (func, stage) -> [_Dim], innermost first
        self.level: dict = {}  # func -> "root" | "inline" | "at" | "output"

    def loops(self, s: Stage, k: int, is_output: bool):
        r = self.rng
        dims = [_Dim(d, d.startswith("r")) for d in _stage_dims(s, k)]
        blend = parallel = False
        for step in range(r.randint(0, 4)):
            op = r.choice(["split", "split", "tile", "reorder", "fuse", "vector", "unroll", "parallel"])
            tag = f"{s.name}_{k}_{step}"
            splittable = [i for i, d in enumerate(dims) if d.free and d.splittable]
            if op == "split" and splittable:
                i = r.choice(splittable)
                d = dims[i]
                tails = self._tails(d, k, is_output, blend or parallel)
                tail = r.choice(tails)
                blend |= tail in BLEND_TAILS
                pre = "r" if d.rvar else "v"
                o, inn = f"{pre}{tag}o", f"{pre}{tag}i"
                self.out.append(Split(s.name, k, d.name, o, inn, r.randint(2, 5), tail))
                # Halide: no further split of either half of a Predicate* split.
                keep = tail not in PREDICATE_TAILS
                dims[i:i + 1] = [_Dim(inn, d.rvar, splittable=keep, from_inner=True, derived=True),
                                 _Dim(o, d.rvar, splittable=keep, from_inner=d.from_inner,
                                      derived=True)]
            elif (op == "tile" and k == 0 and [d.name for d in dims[:2]] == ["x", "y"]
                  and all(d.splittable and d.free for d in dims[:2])):
                tails = [t for t in (OUTPUT_TAILS if is_output else PURE_TAILS)
                         if not (parallel and t in BLEND_TAILS)]
                tail = r.choice(tails)
                blend |= tail in BLEND_TAILS
                keep = tail not in PREDICATE_TAILS
                xo, yo, xi, yi = (f"v{tag}{n}" for n in ("xo", "yo", "xi", "yi"))
                self.out.append(Tile(s.name, k, "x", "y", xo, yo, xi, yi, r.randint(2, 5),
                                     r.randint(2, 4), tail))
                dims[0:2] = [_Dim(xi, False, splittable=keep, from_inner=True, derived=True),
                             _Dim(yi, False, splittable=keep, from_inner=True, derived=True),
                             _Dim(xo, False, splittable=keep, derived=True),
                             _Dim(yo, False, splittable=keep, derived=True)]
            elif op == "reorder" and sum(not d.hidden for d in dims) > 1:
                # Halide permutes the listed dims among their own positions;
                # hidden loops are not listed and stay where they are.
                pos = [i for i, d in enumerate(dims) if not d.hidden]
                vis = [dims[i] for i in pos]
                r.shuffle(vis)
                rv_order = iter([dims[i] for i in pos if dims[i].rvar])  # RVars keep their order
                vis = [next(rv_order) if d.rvar else d for d in vis]
                self.out.append(Reorder(s.name, k, tuple(d.name for d in vis)))
                for i, d in zip(pos, vis):
                    dims[i] = d
            elif op == "fuse":
                pairs = [i for i in range(len(dims) - 1)
                         if all(not d.rvar and d.free and d.splittable for d in dims[i:i + 2])]
                if pairs:
                    i = r.choice(pairs)
                    f = f"v{tag}f"
                    self.out.append(Fuse(s.name, k, dims[i].name, dims[i + 1].name, f))
                    dims[i:i + 2] = [_Dim(f, False, derived=True,
                                          from_inner=dims[i].from_inner or dims[i + 1].from_inner)]
            elif op in ("vector", "unroll"):
                cands = [i for i, d in enumerate(dims) if d.free and (op == "unroll" or not d.rvar)]
                if not cands:
                    continue
                i = r.choice(cands if r.random() < 0.5 else cands[:1])
                d = dims[i]
                kind = "vectorize" if op == "vector" else "unroll"
                factor = r.choice([None, 2, 3, 4, 8]) if op == "vector" else r.choice([None, 2, 3])
                if op == "vector" and self.wide_vectors and r.random() < 0.4:
                    factor = r.choice([16, 32, 64])   # pmaddwd, pavg, lane-by-lane gathers
                if factor is None and not self._is_inner_split(d.name):
                    factor = 4
                if factor is not None and (is_output or not d.splittable or d.rvar):
                    # vectorize(v, n) splits with Auto (ShiftInwards on pure
                    # definitions), which an output narrower than n cannot
                    # take: split by hand with GuardWithIf instead.
                    if not d.splittable:
                        continue
                    pre = "r" if d.rvar else "v"
                    o, inn = f"{pre}{tag}o", f"{pre}{tag}i"
                    self.out.append(Split(s.name, k, d.name, o, inn, factor, Tail.GUARD_WITH_IF))
                    self.out.append(LoopKind(s.name, k, kind, inn))
                    dims[i:i + 1] = [_Dim(inn, d.rvar, free=False, racy=op == "vector", derived=True,
                                          vector=op == "vector"),
                                     _Dim(o, d.rvar, from_inner=d.from_inner, derived=True)]
                    continue
                self.out.append(LoopKind(s.name, k, kind, d.name, factor))
                if factor is not None:
                    # The outer loop keeps the name; the inner one is unnamed.
                    d.splittable, d.derived = False, True
                    dims.insert(i, _Dim("", d.rvar, free=False, splittable=False,
                                        racy=op == "vector", derived=True, hidden=True,
                                        vector=op == "vector"))
                else:
                    d.free, d.racy, d.vector = False, op == "vector", op == "vector"
            elif op == "parallel" and not blend:
                cands = [i for i, d in enumerate(dims) if not d.rvar and d.free]
                if cands:
                    d = dims[r.choice(cands)]
                    self.out.append(LoopKind(s.name, k, "parallel", d.name))
                    d.free, d.racy, parallel = False, True, True
        self.final_dims[(s.name, k)] = dims

    @staticmethod
    def _tails(d, k, is_output, no_blend):
        if d.rvar:
            tails = RVAR_TAILS
        elif is_output:
            tails = OUTPUT_TAILS if k == 0 else (Tail.GUARD_WITH_IF,)
        else:
            tails = PURE_TAILS if k == 0 else UPDATE_TAILS
        if d.from_inner:  # "PredicateLoads may not split a Var stemming from the inner Var"
            tails = [t for t in tails if t not in PREDICATE_TAILS]
        if d.derived:
            # RoundUp of a derived var in an update "may redundantly recompute";
            # PredicateLoads of one miscompiles in Halide 21 (see the report).
            bad = (Tail.PREDICATE_LOADS,) + ((Tail.ROUND_UP,) if k > 0 else ())
            tails = [t for t in tails if t not in bad]
        if no_blend:  # *AndBlend races with parallel vars of the same stage
            tails = [t for t in tails if t not in BLEND_TAILS]
        return tails

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
                        self.final_dims[(s.name, k)] = [_Dim(d, d.startswith("r")) for d in _stage_dims(s, k)]
        return Schedule(tuple(self.out))

    def compute_with_directive(self):
        """(Funcs whose level directives to drop, directives to add) that fuse
        one pair of Funcs (pure stages), neither reading the other, nothing
        computed in their loops, down to a loop their stage-0 nests share from
        the outermost in: same names, no loop of vectorize(v, n)/unroll(v, n)
        that the schedule left unnamed, same loop kinds (Halide's rules;
        pipelang places no Func inside fused loops). A pair computed at the
        same level is fused as it is; failing one, an independent pair at
        different levels (or inlined) is made compute_root first. None: no fusion."""
        r = self.rng
        level = {}
        for d in self.out:
            if isinstance(d, ComputeRoot):
                level[d.func] = ("root",)
            elif isinstance(d, ComputeAt):
                level[d.func] = (d.at, d.stage, d.dim)
        hosts = {d.at for d in self.out if isinstance(d, (ComputeAt, StoreAt))}
        kinds = {(d.func, d.stage, d.dim): d.kind for d in self.out
                 if isinstance(d, LoopKind) and d.factor is None}
        reads = _transitive_reads(self.desc)
        stages = {s.name: s for s in self.desc.stages if isinstance(s, Stage)}

        def dims(f):
            return self.final_dims.get((f, 0)) or [_Dim(d, d.startswith("r")) for d in _stage_dims(stages[f], 0)]

        def candidates(names, same_level):
            out = []
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    if b in reads[a] or a in reads[b] or (same_level and level[a] != level[b]):
                        continue
                    shared = []
                    for da, db in zip(reversed(dims(a)), reversed(dims(b))):
                        if (da.hidden or db.hidden or da.name != db.name
                                or kinds.get((a, 0, da.name)) != kinds.get((b, 0, db.name))):
                            break
                        shared.append(da.name)
                    if shared:
                        out.append((a, b, shared))
            return out

        pairs = candidates([n for n in stages if n in level and n not in hosts], True)
        drop: set = set()
        if not pairs:
            pairs = candidates([n for n in stages if self.level.get(n) in ("root", "at", "inline")
                                and n not in hosts], False)
            if not pairs or r.random() < 0.3:
                return None
            a, b, shared = r.choice(pairs)
            drop = {a, b}
        elif r.random() < 0.2:
            return None
        else:
            a, b, shared = r.choice(pairs)
        if r.random() < 0.5:
            a, b = b, a
        depth = r.randint(1, len(shared))
        align = tuple((v, r.choice(["AlignStart", "AlignEnd", "NoAlign", "Auto"]))
                      for v in shared[:depth] if r.random() < 0.6)
        roots = tuple(ComputeRoot(f) for f in sorted(drop))
        return drop, roots + (ComputeWith(b, a, shared[depth - 1], align),)

    def choose_level(self, s) -> str:
        r = self.rng
        can_inline = not (isinstance(s, Stage) and s.updates)
        users = [(c.name, k) for c in self.desc.stages if isinstance(c, Stage)
                 for k, e in _uses_by_stage(c) if any(x.func == s.name for x in calls(e))]
        bc_users = [c for c in self.desc.stages if isinstance(c, Boundary) and c.source == s.name]
        stages_used = sorted(set(users))
        roll = r.random()
        if (roll < 0.5 and len(stages_used) == 1 and not bc_users
                and self.level.get(stages_used[0][0]) != "inline"):
            at, k = stages_used[0]
            all_dims = self.final_dims.get((at, k), [])
            sites = [i for i, d in enumerate(all_dims) if d.free]
            if sites:
                ci = r.choice(sites)
                self.out.append(ComputeAt(s.name, at, k, all_dims[ci].name))
                # store_at at or outside the compute loop, but never outside
                # a parallel or vectorized loop that the compute loop is in.
                outer = [ci]
                for j in range(ci + 1, len(all_dims)):
                    if all_dims[j].racy:
                        break
                    if all_dims[j].free:
                        outer.append(j)
                if outer and r.random() < 0.4:
                    self.out.append(StoreAt(s.name, at, k, all_dims[r.choice(outer)].name))
                return "at"
        if can_inline and roll < 0.75:
            if r.random() < 0.3:  # the default, but say it sometimes
                self.out.append(ComputeInline(s.name))
            return "inline"
        self.out.append(ComputeRoot(s.name))
        return "root"


def _transitive_reads(desc: PipelineDesc) -> dict:
    """{stage name: names of every stage it reads, directly or not}."""
    direct = {}
    for s in desc.stages:
        if isinstance(s, Stage):
            direct[s.name] = {x.func for _, e in _uses_by_stage(s) for x in calls(e)}
        elif isinstance(s, Boundary):
            direct[s.name] = {s.source}
        else:
            direct[s.name] = set()
    out = {}
    for s in desc.stages:          # producers come first
        seen = set()
        for n in direct.get(s.name, ()):
            seen.add(n)
            seen |= out.get(n, set())
        out[s.name] = seen
    return out


def _uses_by_stage(s: Stage, where: bool = True):
    """(stage, expression) of each expression of `s`; `where=False` leaves
    out the RDom predicates (of an update that may not use its RDom, and so
    drop the predicate: a Func called only there is not called at all)."""
    yield 0, s.value
    if s.value2 is not None:
        yield 0, s.value2
    for k, u in enumerate(s.updates, 1):
        for e in list(u.lhs) + list(u.read) + [u.term] + ([u.where] if u.where and where else []) \
                + ([u.term2] if u.term2 is not None else []):
            yield k, e


PREFETCH_SEEDS = 23_000
PREFETCH_STRATEGIES = ("Clamp", "GuardWithIf", "NonFaulting")


def _prefetch(gen: _SchedGen, rng: random.Random):
    """A prefetch for one random stage that can take one, or None."""
    options = []
    for s in gen.desc.stages:
        if not isinstance(s, Stage) or gen.level.get(s.name) == "inline":
            continue
        for k, e in _uses_by_stage(s, where=False):
            targets = sorted({c.func for c in calls(e) if c.func != s.name
                              and gen.level.get(c.func) == "root"})
            dims = gen.final_dims.get((s.name, k), [])
            ats = [i for i, d in enumerate(dims) if not (d.hidden or d.rvar or d.vector)
                   and not any(o.vector for o in dims[i:])]
            if targets and ats:
                options.append((s.name, k, targets, dims, ats))
    if not options:
        return None
    func, k, targets, dims, ats = rng.choice(options)
    i = rng.choice(ats)
    j = rng.choice([j for j in range(i, len(dims)) if not (dims[j].hidden or dims[j].rvar)])
    return Prefetch(func, k, rng.choice(targets), dims[i].name, dims[j].name,
                    rng.choice([1, 1, 2, 3, -1]), rng.choice(PREFETCH_STRATEGIES))


# Schedules of programs from this seed on (seed // 1000) may also fuse two
# Funcs with compute_with; earlier seeds give the same schedules as before.
COMPUTE_WITH_SEEDS = 30_000


def random_schedule(desc: PipelineDesc, seed: int, wide_vectors: bool | None = None,
                    prefetch: bool | None = None, compute_with: bool | None = None) -> Schedule:
    """`wide_vectors` (default: for the schedule seeds of programs from
    random_pipeline.IDIOM_SEEDS on, seed // 1000) also draws 16-64 lanes;
    `prefetch` (default: from PREFETCH_SEEDS on) adds a prefetch to one in
    three schedules, from a generator of its own; `compute_with` (default:
    from COMPUTE_WITH_SEEDS on) fuses a pair of Funcs; earlier seeds give the
    same schedules as before."""
    from .random_pipeline import IDIOM_SEEDS
    if wide_vectors is None:
        wide_vectors = seed // 1000 >= IDIOM_SEEDS
    if prefetch is None:
        prefetch = seed // 1000 >= PREFETCH_SEEDS
    if compute_with is None:
        compute_with = seed // 1000 >= COMPUTE_WITH_SEEDS
    gen = _SchedGen(desc, random.Random(seed), wide_vectors)
    sched = gen.generate()
    rng = random.Random(seed ^ 0x5EED_F00D)
    if prefetch and rng.random() < 1 / 3:
        p = _prefetch(gen, rng)
        if p is not None:
            sched = Schedule(sched.directives + (p,))
    if compute_with:
        # (from gen's own random stream: the draws before it are unchanged)
        cw = gen.compute_with_directive()
        if cw is not None:
            drop, extra = cw
            kept = tuple(d for d in sched.directives if not (
                isinstance(d, (ComputeAt, StoreAt, ComputeInline, ComputeRoot)) and d.func in drop))
            sched = Schedule(kept + extra)
    return sched
