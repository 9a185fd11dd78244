"""Autotuning: compile and time candidates for real, keep the fastest measured.

Within `autotune_budget_s`:

1. the search's best states and the baseline are timed first (for at most
   half the budget);
2. then, around the fastest measured so far, two kinds of mutations:
   - *state* mutations: one Func's choice redrawn from its legal options (the
     rest repaired): inline/root flips, a member moved to another loop level
     (row, tile, vector), another tiling kind or size, rfactor on or off;
   - *plan* mutations (`Tuned` edits of the directives a state builds, see
     `plan_edits`): a colour loop unrolled outside the vector, a GuardWithIf
     split made ShiftInwards, two loops interchanged, a vector width doubled,
     an unroll, a split factor doubled or halved;
3. the last 15% of the budget times the fastest few against the incumbent
   once more (it stays unless one is faster by MARGIN over all its runs).

Every candidate passes the same checks as the search's own (`validate.check`:
it compiles, and reads no input outside what the algorithm needs, at the
estimates and at an odd larger size), and its output must equal the first
measured candidate's (integers to within 1, as float math rounds either way;
floats to 1e-3 relative); a candidate that fails either is dropped. Each is
timed in alternating runs with the incumbent (both compiled with
`compile_to_callable`), so a shared machine's load weighs on both alike, and
scored by the median ratio of the pairs; it replaces the incumbent only when
faster by MARGIN over a second round too. After two pairs, one more than
`SLOW` times slower is not timed further (a single run can't be interrupted
in-process, so a very slow candidate still costs those runs). Inputs are random data at the estimated sizes (Params at their
estimates). Progress goes to stderr on a terminal (or with verbose).
"""
from __future__ import annotations

import random
import sys
import time

import numpy as np

from autoscheduler.plan import apply_source, render, reset_schedules

# A candidate this many times slower than the best in two alternating runs is
# not timed further.
SLOW = 2.0
# A candidate replaces the incumbent only when faster by this fraction (timing
# noise otherwise walks the search through equivalent schedules, each "faster").
MARGIN = 0.05
# Of the exploration after the first candidates, the share spent on plan mutations.
PLAN_SHARE = 0.65


class Tuned(dict):
    """A state (Func name -> Choice) plus edits of the plan it builds
    (`apply_edit`); the cost model and the search see the state alone."""

    def __init__(self, state: dict, edits: tuple = ()):
        super().__init__(state)
        self.edits = tuple(edits)


def plan_for(dag, state, safe: bool = False):
    """The Plan of `state` (with GuardWithIf tails everywhere if `safe`), with
    a `Tuned` state's edits applied. Raises space.Invalid if an edit no longer fits."""
    from autoscheduler.space import build_plan
    plan = build_plan(dag, state, safe)
    for e in getattr(state, "edits", ()):
        apply_edit(plan, e, dag)
    return plan


# ---------------------------------------------------------------- plan edits

def _names_in(fp) -> set:
    out = set()
    for ds in fp.stages.values():
        for d in ds:
            for x in d[1:]:
                if isinstance(x, str):
                    out.add(x)
                elif isinstance(x, (list, tuple)):
                    out |= {y for y in x if isinstance(y, str)}
    return out


def apply_edit(plan, edit, dag=None) -> None:
    """Apply one edit to `plan` in place:

    ("factor", func, stage, i, n): the split at directive i of that stage's chain
        gets factor n (its tail strategy kept);
    ("unroll", func, stage, var, k): `var` split by k (the vector split's tail
        strategy) and its inner part unrolled, appended to the chain;
    ("tail", func, 0, i, tail): the pure split at directive i gets that tail
        strategy (ShiftInwards for GuardWithIf: the loops inside get constant
        extents, and so do the regions of the Funcs computed there);
    ("swap", func, 0, a, b): pure loops a and b interchanged (the two just
        outside the vector: a tile's rows inside its columns);
    ("unroll_dim", func, 0, dim, k): a short pure loop `dim` (colour channels)
        split by k and its inner part unrolled just outside the vector loop, so
        the channels share the values their Funcs compute (`dag` gives the args).
    """
    from autoscheduler.space import Invalid
    kind, fname, stage = edit[0], edit[1], edit[2]
    fp = plan.funcs.get(fname)
    ds = fp.stages.get(stage) if fp is not None else None
    if ds is None:
        raise Invalid(f"edit {edit!r}: no stage {stage} of {fname}")
    if kind == "factor":
        i, n = edit[3], edit[4]
        if i >= len(ds) or ds[i][0] != "split":
            raise Invalid(f"edit {edit!r}: directive {i} of {fname} is not a split")
        ds[i] = ds[i][:4] + (n,) + ds[i][5:]
    elif kind == "unroll":
        var, k = edit[3], edit[4]
        splits = [d for d in ds if d[0] == "split" and d[1] == var]
        if not splits:
            raise Invalid(f"edit {edit!r}: {fname} has no split of {var}")
        taken = _names_in(fp)
        inner = var + "u"
        while inner in taken:
            inner += "_"
        ds += [("split", var, var, inner, k, splits[-1][5]), ("unroll", inner)]
    elif kind == "tail":
        i, tail = edit[3], edit[4]
        if stage != 0 or i >= len(ds) or ds[i][0] != "split":
            raise Invalid(f"edit {edit!r}: directive {i} of {fname} is not a pure split")
        ds[i] = ds[i][:5] + (tail,)
    elif kind == "swap":
        a, b = edit[3], edit[4]
        order = loop_order(ds, dag.node(fname).args) if stage == 0 and dag is not None else None
        if order is None or a not in order or b not in order:
            raise Invalid(f"edit {edit!r}: {fname} has no loops {a}, {b}")
        ds.append(("reorder", [b if v == a else a if v == b else v for v in order]))
    elif kind == "unroll_dim":
        dim, k = edit[3], edit[4]
        order = loop_order(ds, dag.node(fname).args) if stage == 0 and dag is not None else None
        vectors = [d[1] for d in ds if d[0] == "vectorize"]
        if order is None or dim not in order or not vectors or order[0] != vectors[-1]:
            raise Invalid(f"edit {edit!r}: {fname} has no loop {dim} outside a vector")
        vsplit = [d for d in ds if d[0] == "split" and d[3] == vectors[-1]]
        tail = vsplit[-1][5] if vsplit else "GuardWithIf"
        taken = _names_in(fp)
        inner = dim + "u"
        while inner in taken:
            inner += "_"
        rest = [v for v in order[1:] if v != dim]
        ds += [("split", dim, dim, inner, k, tail), ("reorder", [order[0], inner] + rest + [dim]),
               ("unroll", inner)]
    else:
        raise Invalid(f"unknown edit {edit!r}")


def loop_order(directives: list, args: list) -> list | None:
    """The loops of a pure stage (over `args`) after its chain's splits, fuses
    and reorders, innermost first (None if the chain names a loop it lacks)."""
    dims = list(args)
    for d in directives:
        try:
            if d[0] == "split":
                i = dims.index(d[1])
                dims[i:i + 1] = [d[3], d[2]]
            elif d[0] == "fuse":
                dims[dims.index(d[1])] = d[3]
                dims.remove(d[2])
            elif d[0] == "reorder":
                pos = sorted(dims.index(v) for v in d[1])
                for i, v in zip(pos, d[1]):
                    dims[i] = v
        except ValueError:
            return None
    return dims


# A pure loop this short (at the estimates) may be unrolled outside the vector.
UNROLL_DIM_MAX = 4
# The search unrolls short loops only in Funcs at least this share of the
# largest Func's points (`short_loops_unrolled`).
UNROLL_DIM_SHARE = 0.25


def _short_loops(fp, node, order) -> list:
    """unroll_dim edits of `fp`'s pure loops beyond x that are 2 to
    UNROLL_DIM_MAX long at the estimates (`order`: its loops, the vector first).
    A dim the chain already splits or fuses is no such loop: its name then
    stands for the outer loop (a strip's y), whose extent is not the dim's."""
    ds0 = fp.stages.get(0) or []
    reshaped = {v for d in ds0 if d[0] in ("split", "fuse") for v in d[1:3]}
    return [("unroll_dim", fp.name, 0, a, e) for a, (_, e) in list(zip(node.args, node.region))[1:]
            if a in order and a not in reshaped and 2 <= e <= UNROLL_DIM_MAX]


def short_loops_unrolled(plan, dag) -> list:
    """The search's own plan edits (no timing): in every Func without updates
    whose innermost loop is a vector, each short pure loop (a colour channel:
    2 to UNROLL_DIM_MAX long at the estimates) unrolled just outside the
    vector. The Funcs inlined into it then compute once for every channel
    (a YUV or demosaic conversion the channels share), and the channels'
    independent vectors interleave. (Halide's hand schedules do this with
    `reorder(c, x, y).unroll(c)` after `bound(c, 0, 3)`; here the channel
    split takes the vector's tail strategy, so any extent stays valid.) An
    update's pure stage alone would gain nothing: Funcs with updates keep
    their loops. Only Funcs of at least UNROLL_DIM_SHARE of the largest
    Func's points: unrolled code compiles slower, and a coarse pyramid level
    gains little (interpolate's 21 unrolled Funcs took 4x the compile time).
    Measured against the same states without it (in-process alternation,
    full size): hist 0.62x, unsharp 0.78x, camera_pipe 0.85x, interpolate 0.88x."""
    import math
    points = {n.name: math.prod(e for _, e in n.region) for n in dag.nodes}
    out = []
    most = max(points.values(), default=0)
    for fp in plan.funcs.values():
        node = dag.node(fp.name)
        ds0 = fp.stages.get(0)
        if node.has_updates or not ds0 or fp.compute == ("inline",) or \
                any(d[0] == "unroll" for d in ds0) or \
                points[node.name] < UNROLL_DIM_SHARE * most:
            continue
        order = loop_order(ds0, node.args)
        vectors = [d[1] for d in ds0 if d[0] == "vectorize"]
        if order and vectors and order[0] == vectors[-1]:
            out += _short_loops(fp, node, order)
    return out


def plan_edits(plan, dag=None) -> list:
    """The single edits that make sense on `plan`, in the order the tuner tries
    them: a short pure loop beyond x (2 to UNROLL_DIM_MAX) unrolled just outside
    the vector; a GuardWithIf split of a Func without updates made ShiftInwards;
    the two loops outside the vector interchanged (neither parallel), or the
    second of them split by 2 and unrolled just outside the vector; each
    vector width doubled (up to 64 lanes); the loop outside each vector unrolled
    by 2 or 4 (where nothing unrolls it yet); each other split's factor doubled
    or halved."""
    out, tails, swaps, vector, unroll, sizes = [], [], [], [], [], []   # in the order they are tried
    for fp in plan.funcs.values():
        node = dag.node(fp.name) if dag is not None else None
        ds0 = fp.stages.get(0)
        if node is not None and ds0 and fp.compute != ("inline",) and \
                not any(d[0] == "unroll" for d in ds0):
            order = loop_order(ds0, node.args)
            vectors = [d[1] for d in ds0 if d[0] == "vectorize"]
            if order and vectors and order[0] == vectors[-1]:
                out += _short_loops(fp, node, order)
                parallel = {d[1] for d in ds0 if d[0] == "parallel"}
                if len(order) >= 3 and not parallel & set(order[1:3]):
                    swaps.append(("swap", fp.name, 0, order[1], order[2]))
                    # Two rows per vector step (a 2-row register tile), unless that
                    # loop is x's or a short one unrolled whole above.
                    short = {a for a, (_, e) in zip(node.args, node.region) if e <= UNROLL_DIM_MAX}
                    if order[2] != node.args[0] and order[2] not in short:
                        swaps.append(("unroll_dim", fp.name, 0, order[2], 2))
            if not node.has_updates:     # (an update would see a shifted tail twice)
                tails += [("tail", fp.name, 0, i, "ShiftInwards") for i, d in enumerate(ds0)
                          if d[0] == "split" and d[5] == "GuardWithIf"]
        for stage, ds in fp.stages.items():
            unrolled = {d[1] for d in ds if d[0] == "unroll"}
            vectors = {d[1] for d in ds if d[0] == "vectorize"}
            for i, d in enumerate(ds):
                if d[0] != "split":
                    continue
                _, old, outer, inner, f, _tail = d
                if inner in vectors:
                    if f * 2 <= 64:
                        vector.append(("factor", fp.name, stage, i, f * 2))
                    if outer not in unrolled and inner not in unrolled:
                        unroll += [("unroll", fp.name, stage, outer, k) for k in (2, 4)]
                elif inner in unrolled:
                    continue                  # a register block's shape: keep it
                else:
                    sizes.append(("factor", fp.name, stage, i, f * 2))
                    if f >= 4:
                        sizes.append(("factor", fp.name, stage, i, f // 2))
    return out + tails + swaps + vector + unroll + sizes


# ---------------------------------------------------------------- timing

def _bind_inputs(dag):
    """Bind unbound ImageParams to random buffers at their estimates; returns an undo."""
    from pipelang.buffer import Buffer
    undo = []
    rng = np.random.default_rng(0)
    for sym, owner in dag.inputs.items():
        if isinstance(owner, Buffer) or owner.get() is not None:
            continue
        est = owner.estimates()
        shape = [e for _, e in est]
        t = owner.type()
        arr = rng.integers(0, 100, size=tuple(reversed(shape))).astype(t.numpy_dtype()) \
            if not t.is_float() else rng.random(tuple(reversed(shape))).astype(t.numpy_dtype())
        buf = Buffer(arr)
        buf.set_min([lo for lo, _ in est])
        owner.set(buf)
        undo.append(owner)
    return lambda: [o.reset() for o in undo]


def _outputs(dag):
    from pipelang.buffer import Buffer
    bufs = []
    for fn in dag.output_fns:
        node = dag.by_sym[fn.sym]
        for t in fn.output_types:
            b = Buffer(t, [e for _, e in node.region])
            b.set_min([lo for lo, _ in node.region])
            bufs.append(b)
    return bufs


def _run(pipeline, dag, source, budget_s: float) -> float:
    """Best-of-runs ms of `source` applied (None: the schedule already applied)."""
    if source is not None:
        apply_source(source, pipeline)
    outs = _outputs(dag)
    pipeline.compile_jit()
    pipeline.realize(outs)                    # warm-up (first touch of the outputs)
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget_s and len(times) < 20):
        t0 = time.perf_counter()
        pipeline.realize(outs)
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


class _Run:
    """The code compiled for the schedule now applied to `pipeline`
    (`compile_to_callable`: later schedule changes don't affect it), called on
    the bound inputs and fresh output buffers."""

    def __init__(self, pipeline, dag):
        args = pipeline.infer_arguments()
        self.fn = pipeline.compile_to_callable(args)
        self.values = [a._param.get() for a in args]
        self.outputs = _outputs(dag)

    def __call__(self):
        self.fn(*self.values, *self.outputs)


def _pairs(run, other, n: int, budget_s: float, stop_if_slower: float = 0.0) -> list:
    """Ratios run/other of alternating runs: at least n pairs, more while
    `budget_s` lasts (up to 4n); after two pairs, stops when both ratios exceed
    `stop_if_slower` (if given)."""
    out = []
    start = time.perf_counter()
    while len(out) < n or (time.perf_counter() - start < budget_s and len(out) < 4 * n):
        mine = _timed(run)
        out.append(mine / max(_timed(other), 1e-9))
        if stop_if_slower and len(out) == 2 and min(out) > stop_if_slower:
            break
    return out


def _median(xs: list) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def _timed(run) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def measure(pipeline, dag, source: str | None, budget_s: float = 0.3) -> float:
    """Best-of-runs milliseconds of `source` applied to `pipeline` (None: the schedule
    already applied); raises if it fails."""
    return _run(pipeline, dag, source, budget_s)


def _same(a: list, b: list) -> str | None:
    """None if the outputs agree; otherwise how they differ."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x.shape != y.shape:
            return f"output {i} has shape {x.shape}, not {y.shape}"
        if np.issubdtype(x.dtype, np.floating):
            scale = float(np.nanmax(np.abs(y))) if y.size else 0.0
            if not np.allclose(x, y, rtol=1e-3, atol=1e-3 * max(scale, 1e-6), equal_nan=True):
                return f"output {i} differs by up to {float(np.nanmax(np.abs(x - y))):.3g}"
        elif x.dtype == np.bool_:
            if not np.array_equal(x, y):
                return f"output {i} differs at {int(np.count_nonzero(x != y))} points"
        else:
            # Integers computed through floats may round the other way where a
            # schedule reassociates or vectorizes the float math: 1 apart is allowed.
            d = np.abs(x.astype(np.int64) - y.astype(np.int64))
            if d.size and int(d.max()) > 1:
                return f"output {i} differs by up to {int(d.max())} at {int(np.count_nonzero(d))} points"
    return None


# ---------------------------------------------------------------- the tuner

class _Tuner:
    def __init__(self, pipeline, dag, params, report):
        from autoscheduler.cost_model import CostModel, load_model
        from autoscheduler.validate import probes
        self.pipeline, self.dag, self.params, self.report = pipeline, dag, params, report
        self.model = CostModel(dag, load_model(params.weights), params)
        self.probe_dags = probes(pipeline, dag)
        self.title = ", ".join(fn.name for fn in dag.output_fns)
        self.show = params.verbose or sys.stderr.isatty()
        self.measured: dict = {}          # plan key -> (ms, Tuned state, safe, source)
        self.reference = None             # the first measured candidate's outputs
        self.rejected = {"slow": 0, "failed": 0, "mismatch": 0}
        self.by_kind: dict = {}           # label -> [timed, improved the best]
        self.tried: set = set()           # (base state, edit) pairs proposed
        self.edit_uses: dict = {}         # edit -> bases it was proposed on
        self.runs: dict = {}              # plan key -> a run of its compiled code (the fastest few)
        self.best_key = None              # the incumbent

    def best_ms(self) -> float:
        """The incumbent's time (the fastest by at least MARGIN each time it changed)."""
        return self.measured[self.best_key][0] if self.best_key is not None else float("inf")

    def ranked(self) -> list:
        """Measured candidates: the incumbent, then the others fastest first."""
        best = self.measured.get(self.best_key)
        rest = sorted((v for k, v in self.measured.items()
                       if v[0] < float("inf") and k != self.best_key), key=lambda v: v[0])
        return ([best] if best is not None else []) + rest

    def say(self, text: str) -> None:
        if self.show:
            print(f"autotune: {text}", file=sys.stderr, flush=True)

    def try_state(self, state, label: str) -> bool:
        """Build, check, time `state`; False if it was a duplicate or unbuildable."""
        from autoscheduler.validate import check
        state = state if isinstance(state, Tuned) else Tuned(state)
        try:
            plans = [plan_for(self.dag, state, safe) for safe in (False, True)]
        except Exception:                     # noqa: BLE001 - an illegal mutation
            return False
        key = plans[0].key()
        if key in self.measured:
            return False
        stats = self.by_kind.setdefault(label, [0, 0])
        before = self.best_ms()
        try:
            problem, source, safe = None, None, False
            for safe, plan in zip((False, True), plans):    # fast tails, unless they read past an input
                source = render(plan, self.title)
                problem = check(self.pipeline, self.dag, source, self.params, self.probe_dags)
                if problem is None:
                    break
            if problem is not None:
                raise RuntimeError(problem)
            run = _Run(self.pipeline, self.dag)
            ms, arrays, slow = self.time_against_best(run)
        except Exception as e:                # noqa: BLE001 - a failing candidate is dropped
            self.measured[key] = (float("inf"), state, False, None)
            self.rejected["failed"] += 1
            self.say(f"{label}: failed ({type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''})")
            return True
        if self.reference is None:
            self.reference = arrays
        else:
            differs = _same(arrays, self.reference)
            if differs is not None:
                self.measured[key] = (float("inf"), state, safe, None)
                self.rejected["mismatch"] += 1
                self.say(f"{label}: rejected, its output differs from the first candidate's ({differs})")
                if self.params.verbose > 1:
                    print(source, file=sys.stderr)
                return True
        stats[0] += 1
        if slow:
            self.rejected["slow"] += 1
        if ms < before * (1 - MARGIN):
            stats[1] += 1
            self.best_key = key
        self.measured[key] = (ms, state, safe, source)
        self.runs[key] = run
        self.keep_runs()
        self.say(f"{len(self.measured):3d} {label:16s} {ms:9.3f} ms{' (slow)' if slow else ''}"
                 f"  (predicted {self.model.cost(state):.3g}; best {self.best_ms():.3f} ms)")
        return True

    def state_mutation(self, base: Tuned, default: dict, rng) -> Tuned | None:
        from autoscheduler.search import complete, options
        dag = self.dag
        node = rng.choice(dag.nodes)
        decided = {n.name: base[n.name] for n in reversed(dag.nodes)
                   if n is not node and _decided_before(dag, n, node)}
        opts = [o for o in options(dag, decided, node) if o != base[node.name]]
        if not opts:
            return None
        decided[node.name] = rng.choice(opts)
        rest = {n.name: base[n.name] for n in dag.nodes if n.name not in decided}
        return Tuned(complete(dag, decided, {**default, **rest}))

    def plan_mutation(self, base: Tuned, rng) -> Tuned | None:
        """The next untried single edit of `base` (`_edit_class` first, then
        those tried on the fewest other bases, then in `plan_edits`' order),
        or, when all were tried, a random one stacked on its edits."""
        try:
            edits = plan_edits(plan_for(self.dag, base), self.dag)
        except Exception:                     # noqa: BLE001
            return None
        if not edits:
            return None
        bkey = (tuple(sorted(dict(base).items())), base.edits)
        # The most promising kinds first; within a kind, edits tried on fewer
        # bases first (one that didn't help the last best waits its turn on
        # this one), then in plan_edits' order.
        fresh = [(_edit_class(e), self.edit_uses.get(e, 0), i, e) for i, e in enumerate(edits)
                 if (bkey, e) not in self.tried]
        if fresh:
            e = min(fresh)[3]
            self.tried.add((bkey, e))
            self.edit_uses[e] = self.edit_uses.get(e, 0) + 1
            return Tuned(base, base.edits + (e,))
        return Tuned(base, base.edits + (rng.choice(edits),))

    def time_against_best(self, run):
        """(ms, output arrays, rejected as slow) of a compiled candidate. Timed in
        alternating runs with the incumbent (the load of a shared machine then
        weighs on both alike), its time is the incumbent's scaled by the median
        ratio of their paired runs (at a load of several tasks per core the
        minimum of a few runs swings by 2x; the median of paired ratios holds).
        After two pairs, a candidate more than SLOW times slower is not timed
        further; one that seems faster by MARGIN gets a second round."""
        run()                                  # warm-up (first touch of the outputs)
        arrays = [np.array(b, copy=True) for b in run.outputs]
        best = self.runs.get(self.best_key)
        if best is None:
            times = []
            start = time.perf_counter()
            while len(times) < 4 or (time.perf_counter() - start < 0.3 and len(times) < 21):
                times.append(_timed(run))
            return min(times) * 1e3, arrays, False
        ratios = _pairs(run, best, 5, 0.5, stop_if_slower=SLOW)
        if len(ratios) <= 2 and min(ratios) > SLOW:
            return _median(ratios) * self.best_ms(), arrays, True
        if _median(ratios) < 1 - MARGIN:
            # Faster, it seems: a second round decides (a lucky run under load
            # otherwise crowns an equivalent schedule).
            ratios += _pairs(run, best, 5, 0.5)
        return _median(ratios) * self.best_ms(), arrays, False

    def keep_runs(self, n: int = 4) -> None:
        """Keep the compiled code of the n fastest (and the best) only."""
        top = {k for k, _ in sorted(((k, self.measured[k][0]) for k in self.runs),
                                     key=lambda kv: kv[1])[:n]}
        for k in [k for k in self.runs if k not in top and k != self.best_key]:
            del self.runs[k]

    def confirm(self, deadline: float) -> None:
        """The fastest few besides the incumbent (their compiled code kept) are
        timed against it once more while the budget lasts; one faster by the
        median of all its paired runs, MARGIN included, takes its place."""
        best = self.runs.get(self.best_key)
        if best is None:
            return
        for k in sorted(self.runs, key=lambda k: self.measured[k][0]):
            if k == self.best_key or time.perf_counter() > deadline:
                continue
            ratio = _median(_pairs(self.runs[k], best, 5, 0.5))
            self.measured[k] = (ratio * self.best_ms(),) + self.measured[k][1:]
        top = min(self.runs, key=lambda k: self.measured[k][0])
        if self.measured[top][0] < self.best_ms() * (1 - MARGIN):
            self.best_key = top


def autotune(pipeline, dag, params, candidates, report) -> list:
    """[("autotuned", state, predicted cost)] for the fastest measured states (or []);
    a state may be a `Tuned` one (build it with `plan_for`)."""
    start = time.perf_counter()
    deadline = start + params.autotune_budget_s
    # The last part of the budget re-times the fastest few (`confirm`).
    explore_until = start + 0.85 * params.autotune_budget_s
    rng = random.Random(params.seed)
    tuner = _Tuner(pipeline, dag, params, report)
    undo = _bind_inputs(dag)
    try:
        first_until = start + 0.5 * params.autotune_budget_s   # leave the mutations room
        for i, (label, state, _) in enumerate(candidates):
            if i and time.perf_counter() > first_until:
                break
            tuner.try_state(state, label.replace(" ", "-"))
        default = candidates[-1][1]
        misses = 0
        while time.perf_counter() < explore_until and misses < 500:
            ranked = tuner.ranked()
            if not ranked:
                break
            # Mostly the fastest; sometimes one of the next three.
            base = ranked[0][1] if rng.random() < 0.8 or len(ranked) == 1 else \
                ranked[rng.randrange(1, min(4, len(ranked)))][1]
            if rng.random() < PLAN_SHARE:
                label, cand = "plan-mutation", tuner.plan_mutation(base, rng)
            else:
                label, cand = "state-mutation", tuner.state_mutation(base, default, rng)
            if cand is None or not tuner.try_state(cand, label):
                misses += 1
                continue
            misses = 0
        tuner.confirm(deadline)
    finally:
        undo()
        reset_schedules(pipeline)
    ok = tuner.ranked()
    report["autotune_measured"] = len(tuner.measured)
    report["autotune_rejected"] = dict(tuner.rejected)
    report["autotune_by_kind"] = {k: {"timed": v[0], "improved": v[1]}
                                  for k, v in tuner.by_kind.items()}
    report["autotune_s"] = time.perf_counter() - start
    if not ok:
        return []
    report["measured_ms"] = ok[0][0]
    report["autotune_edits"] = list(ok[0][1].edits)
    tuner.say(f"{len(tuner.measured)} candidates in {report['autotune_s']:.1f} s; best "
              f"{ok[0][0]:.3f} ms; rejected {tuner.rejected}")
    return [("autotuned", st, tuner.model.cost(st)) for _, st, _, _ in ok[:3]]


def _edit_class(edit) -> int:
    """How promising a kind of edit is (lower first): a short loop unrolled whole
    or a tail made ShiftInwards (hist's output 1.7x, iir_blur 2.3x); loops
    interchanged or two rows unrolled; vector widths, unrolls and sizes."""
    if edit[0] == "tail" or edit[0] == "unroll_dim" and edit[4] > 2:
        return 0
    if edit[0] in ("swap", "unroll_dim"):
        return 1
    return 2


def _decided_before(dag, n, node) -> bool:
    """Consumers are decided first: `n` comes before `node` in that order."""
    order = [x.name for x in reversed(dag.nodes)]
    return order.index(n.name) < order.index(node.name)
