"""Beam search over the space of `space.py`, priced by the cost model.

Funcs are decided consumers first (so a producer's choice sees the tiling of
the group it may join). Each partial state is priced complete: undecided Funcs
take the greedy baseline's choice, repaired where the new consumers make it
illegal. The beam keeps the `beam_size` cheapest states per step; at the
deadline, the states are finished greedily. The baseline itself is always a
candidate, so the search can only improve on it (in the model's eyes).
"""
from __future__ import annotations

import math
import random
import time

from autoscheduler.cost_model import CostModel, load_model
from autoscheduler.dag import DAG, FuncNode
from pipelang import ir

from autoscheduler.heuristic import (cheap_to_inline, heuristic_state, is_wrapper, regblock_member,
                                     strip_size, strips_ok)
from autoscheduler.space import (Choice, can_inline, group_region, leader_box, leaders_of,
                                 rfactor_stage, too_much_inlined, transposed_tiles)

STRIPS = (4, 8, 16, 32, 64, 128)
TILES = ((64, 16), (128, 32), (256, 32), (256, 64), (512, 16))
COLUMNS = (64, 256)
BLOCKS = ((2, 4), (3, 8), (4, 4), (2, 8), (1, 8), (1, 12))


def root_options(dag: DAG, node: FuncNode, subtiling: bool = True) -> list:
    rf = [Choice("root", ("rfactor",))] if rfactor_stage(dag, node) is not None else []
    if not node.args:
        return [Choice("root", ("flat",))] + rf
    ext = [e for _, e in node.region]
    vec = dag.vector_width(node)
    out = [Choice("root", ("flat",))] + rf
    if len(ext) >= 2:
        if strips_ok(node):
            out += [Choice("root", ("strips", s)) for s in STRIPS if s < ext[1]]
            if len(ext) > 2 and math.prod(ext[2:]) > 1:
                out += [Choice("root", ("strips", s, "planes")) for s in STRIPS if s < ext[1]]
        if not node.has_updates and subtiling:
            out += [Choice("root", ("tiles", tx, ty)) for tx, ty in TILES
                    if tx < ext[0] and ty < ext[1] and tx >= vec]
            if _reads_reduction(dag, node):       # columns are for scans down y
                out += [Choice("root", ("columns", w)) for w in COLUMNS if vec <= w < ext[0]]
        if subtiling and regblock_member(dag, node) is not None:
            out += [Choice("root", ("regblock", k, b)) for k, b in BLOCKS
                    if k * vec <= ext[0] and b <= ext[1]]
    else:
        out += [Choice("root", ("strips", s)) for s in (vec * 4, vec * 16, vec * 64) if s < ext[0]]
    return out


def _reads_reduction(dag: DAG, node: FuncNode, depth: int = 0) -> bool:
    """Whether `node` reads, directly or through a few Funcs, a scan down a dim
    other than x (its updates leave x free but not every dim): what a column
    tiling is for."""
    for st in node.stages:
        for sym in st.calls:
            p = dag.by_sym.get(sym)
            if p is None or p is node:
                continue
            if p.has_updates and p.args and len(p.args) >= 2 and all(
                    p.args[0] in u.free_pure and set(u.free_pure) != set(p.args)
                    for u in p.stages[1:]):
                return True
            if depth < 4 and _reads_reduction(dag, p, depth + 1):
                return True
    return False


def member_ok(dag: DAG, state: dict, node: FuncNode, place: str, leaders: set | None = None) -> bool:
    """Whether `node` may join its consumers' group as `place` ("row" or "tile").
    `leaders`: the root Funcs computing its uses, if the caller knows them."""
    if node.is_output or not node.args:
        return False
    if leaders is None:
        probe = {**state, node.name: Choice("inline")}
        try:
            leaders = leaders_of(dag, probe, node)
        except KeyError:
            return False
    if len(leaders) != 1:
        return False
    lname = next(iter(leaders))
    leader, lc = dag.node(lname), state[lname]
    if leader.has_updates or not lc.tiling:
        return False
    kind = lc.tiling[0]
    if place == "vector":
        # A reduction its leader reads pointwise, computed per vector of it (its
        # accumulators in registers): Halide's default for an inline reduction.
        return kind in ("strips", "tiles", "columns") and regblock_member(dag, leader) is node
    if kind == "regblock":
        # The blocked reduction, or a producer computed per block with it (a
        # depthwise stage feeding a pointwise one).
        if place != "tile":
            return False
        m = regblock_member(dag, leader)
        if m is not node and (m is None or state.get(m.name) != Choice("tile")):
            return False
    elif node.has_updates and place == "row":
        return False
    elif place == "row":
        if kind != "strips" or len(leader.args) < 2 or len(node.args) < 2 or \
                transposed_tiles(dag, leader):
            return False
        if not all(_member_consumers_are(dag, state, node, {"row", "root"})):
            return False
    elif kind not in ("strips", "tiles", "columns"):     # computed per strip, tile or column
        return False
    if place == "tile" and kind == "tiles" and not _wide_enough(dag, state, node, leader, lc.tiling):
        return False
    return _tiles_free_dims(dag, state, node, leader, lc.tiling)


def _wide_enough(dag, state, node, leader, tiling) -> bool:
    """Whether `node`, computed per tile of `leader`, computes at least a few
    vectors of x per tile. A coarser pyramid level computed per tile of a finer
    one is not: its per-tile region is a sliver plus a halo that doubles at
    each level below it, and its tails reach past the region; such levels are
    computed at root, each over its whole (small) extent (Halide's
    local_laplacian and interpolate schedules)."""
    from autoscheduler.space import MEMBER_SHIFT_VECTORS
    reg = _tile_region(dag, state, node, leader, tiling)
    if reg is None:
        return False
    lo, hi = reg[0]
    return hi - lo + 1 >= min(node.region[0][1], MEMBER_SHIFT_VECTORS * dag.vector_width(node))


def _tiles_free_dims(dag, state, node, leader, tiling) -> bool:
    """A scan or histogram writes along its RDom whatever region is asked of it:
    computed per tile, only the dims its updates leave free may be cut (a
    histogram per row of its consumer is fine; a scan per tile redoes the scan)."""
    if not node.has_updates:
        return True
    reg = _tile_region(dag, state, node, leader, tiling)
    if reg is None:
        return False
    cut = {a for a, (lo, hi), (_, e) in zip(node.args, reg, node.region) if hi - lo + 1 < e}
    return all(cut <= set(st.free_pure) for st in node.stages[1:])


def _tile_region(dag, state, node, leader, tiling):
    """`node`'s region computed per tile of `leader` (under the decisions of
    the Funcs that read it), or None where the DAG's bounds can't evaluate
    it; memoized."""
    key = ("tile_region", node.name, leader.name, tiling,
           tuple(c.place if (c := state.get(n)) else None for n in _downstream(dag, node)))
    if key not in dag.memo:
        box, _ = leader_box(dag, leader, tiling, "tile")
        try:
            dag.memo[key] = group_region(dag, state, node, leader, box)
        except Exception:      # noqa: BLE001 - bounds the DAG can't evaluate: don't join or cut
            dag.memo[key] = None
    return dag.memo[key]


def _downstream(dag: DAG, node: FuncNode) -> tuple:
    """Names of the Funcs that read `node`, directly or not (decided before it)."""
    key = ("downstream", node.name)
    hit = dag.memo.get(key)
    if hit is None:
        out: set = set()
        todo = [node]
        while todo:
            for s in todo.pop().consumers:
                if s.func.name not in out:
                    out.add(s.func.name)
                    todo.append(s.func)
        hit = dag.memo[key] = tuple(sorted(out))
    return hit


def _member_consumers_are(dag, state, node, allowed):
    for s in node.consumers:
        c = state.get(s.func.name)
        if c is None:
            continue
        if c.place == "inline":
            yield from _member_consumers_are(dag, state, s.func, allowed)
        else:
            yield c.place in allowed


def _kind(c: Choice) -> tuple:
    """A root choice's tiling without its sizes (what the coarse pass decides)."""
    t = c.tiling
    return (t[0] if t else "flat",) + tuple(x for x in t[1:] if isinstance(x, str))


def coarse_root_options(dag: DAG, node: FuncNode, subtiling: bool = True) -> list:
    """One representative size per tiling kind: strips sized as the baseline
    sizes them, the middle tile, the first register block and column width. The
    fine pass then redraws the sizes of the kinds chosen."""
    full = root_options(dag, node, subtiling)
    want = strip_size(node.region[1][1], dag.parallelism) if len(node.args) >= 2 else None
    out: dict = {}
    for c in full:
        k = _kind(c)
        if k not in out:
            out[k] = c
        elif k[0] == "strips" and len(node.args) >= 2 and c.tiling[1] == want:
            out[k] = c
        elif k[0] == "tiles" and c.tiling[1:] == (128, 32):
            out[k] = c
    return list(out.values())


def options(dag: DAG, state: dict, node: FuncNode, subtiling: bool = True,
            coarse: bool = False) -> list:
    out = []
    if can_inline(node):
        out.append(Choice("inline"))
    out += coarse_root_options(dag, node, subtiling) if coarse else \
        root_options(dag, node, subtiling)
    for place in ("row", "tile", "vector"):
        if member_ok(dag, state, node, place):
            out.append(Choice(place))
    return out


def complete(dag: DAG, decided: dict, default: dict, eager: bool = False) -> dict:
    """`decided` plus, for every other Func (consumers first), the baseline's
    choice if still legal, else the first legal of inline / root strips.
    `eager`: a Func the baseline computes at root joins its consumers' group
    where it may (so a leader's tiling is priced with the members it is for)."""
    state = dict(decided)
    uses: dict = {}                # name -> the root Funcs computing its uses
    for node in reversed(dag.nodes):     # consumers first
        lead: set = set()
        for s in node.consumers:
            f = s.func.name
            lead |= {f} if state[f].place == "root" else uses[f]
        uses[node.name] = lead
        if node.name in state:
            continue
        c = default[node.name]
        if eager and c.place == "root" and not node.is_output:
            for place in (("vector", "tile") if node.has_updates else ("row", "tile")):
                if member_ok(dag, state, node, place, lead):
                    c = Choice(place)
                    break
        if c.place in ("row", "tile", "vector") and not member_ok(dag, state, node, c.place, lead):
            other = [o for o in ("tile", "row") if o != c.place]
            ok = [o for o in other if member_ok(dag, state, node, o, lead)]
            if ok:
                c = Choice(ok[0])
            elif cheap_to_inline(dag, node):
                c = Choice("inline")
            else:
                c = _default_root(dag, node)
        elif c.place == "root" and c.tiling and c.tiling[0] == "regblock" and \
                regblock_member(dag, node) is None:
            c = _default_root(dag, node)
        state[node.name] = c
    # A regblock leader needs its reduction as its member.
    for node in dag.nodes:
        c = state[node.name]
        if c.place == "root" and c.tiling and c.tiling[0] == "regblock":
            m = regblock_member(dag, node)
            if m is None or state[m.name].place != "tile":
                state[node.name] = _default_root(dag, node)
    return state


def _default_root(dag, node) -> Choice:
    if len(node.args) >= 2 and strips_ok(node):
        return Choice("root", ("strips", strip_size(node.region[1][1], dag.parallelism)))
    return Choice("root", ("flat",))


# Pipelines of more Funcs than this may be searched coarsely (when the full beam
# would not fit the budget); smaller ones always get the full beam.
DEEP_FUNCS = 24


def forced(dag: DAG, node: FuncNode) -> Choice | None:
    """A choice made before the search: a boundary condition (a load at clamped
    coordinates of the same dims, as `repeat_edge` writes) is always inlined,
    as Halide's autoschedulers inline a pointwise Func with one pointwise
    consumer. Deep pipelines have many; none is worth a search step."""
    if not can_inline(node) or not is_wrapper(node):
        return None
    from pipelang.var import var_symbol
    st = node.stages[0]
    for cs in st.calls.values():
        for c in cs:
            if len(c.args) != len(node.args):
                return None
            for i, a in enumerate(c.args):
                if not ir.free_symbols(a) <= {var_symbol(node.args[i])}:
                    return None
    return Choice("inline")


def beam_search(dag: DAG, params, report) -> list:
    """[(state, predicted cost)], cheapest first (a few distinct ones).

    Coarse, then fine: the beam decides each Func (consumers first) among
    inlining, membership of its consumers' group and one representative size
    per root tiling kind; then a fine pass redraws the sizes of the root
    Funcs, then any one Func, while the cost drops. The beam's width adapts to
    the time left per Func still to decide (down to 1: greedy), so a deep
    pipeline is decided whole within the budget."""
    t0 = time.perf_counter()
    # A margin for the step in flight at the deadline and the final pricing.
    deadline = t0 + 0.85 * max(0.0, params.time_budget_s)
    rng = random.Random(params.seed)
    model = CostModel(dag, load_model(params.weights), params)
    subtiling = not params.disable_subtiling
    report["cost_model"] = "analytic" if model.learned is None else \
        f"learned ({model.learned.meta.get('file', '')}, blend {model.learned.blend})"
    default = heuristic_state(dag)
    evaluated = 0

    def price(st):
        nonlocal evaluated
        evaluated += 1
        try:
            if params.memory_limit >= 0 and model.allocated_bytes(st) > params.memory_limit:
                return float("inf")          # pruned: allocates more than memory_limit
            if too_much_inlined(dag, st):
                return float("inf")          # pruned: an inlined tree too large to compile
            return model.cost(st)
        except Exception:        # noqa: BLE001 - an unpriceable state is dropped
            return float("inf")

    def completed(st, eager=True):
        """The cheaper of `st` completed by the baseline and completed eagerly."""
        full = complete(dag, st, default)
        cost = price(full)
        if eager:
            eager_st = complete(dag, st, default, eager=True)
            if eager_st != full:
                c2 = price(eager_st)
                if c2 < cost:
                    return eager_st, c2
        return full, cost

    beam = [({}, price(default), default)]
    order = list(reversed(dag.nodes))
    skipped: set = set()
    coarse, per_state = False, None
    widths = []
    i = 0
    while i < len(order):
        node = order[i]
        now = time.perf_counter()
        if now > deadline:
            report["search_note"] = f"deadline reached after {i} of {len(order)} Funcs"
            break
        if per_state is None:
            width, eager = params.beam_size, True        # the first step measures the pace
        else:
            # The width this step can afford: its share of the time left.
            share = (deadline - now) / (len(order) - i)
            n_opts = max(1, len(options(dag, beam[0][0], node, subtiling, coarse)))
            width = max(1, min(params.beam_size, len(beam), int(share / (per_state * n_opts * 2))))
            eager = share > per_state * n_opts * 1.5
        widths.append(width)
        children = []
        ts, priced = time.perf_counter(), 0
        for decided, _, _ in beam[:width]:
            for c in options(dag, decided, node, subtiling, coarse):
                st = {**decided, node.name: c}
                full, cost = completed(st, eager)
                priced += 2 if eager else 1
                children.append((st, cost, rng.random(), full))
        if priced:
            pace = (time.perf_counter() - ts) / priced
            per_state = pace if per_state is None else 0.7 * per_state + 0.3 * pace
        children.sort(key=lambda t: (t[1], t[2]))
        seen, beam = set(), []
        for st, cost, _, full in children:
            key = tuple(sorted(st.items()))
            if key in seen:
                continue
            seen.add(key)
            beam.append((st, cost, full))
            if len(beam) >= params.beam_size:
                break
        i += 1
        if i == 1 and len(order) > DEEP_FUNCS and per_state is not None:
            # A deep pipeline (the full beam over every option would not fit the
            # budget): boundary conditions are left inlined (the baseline's
            # choice) and the beam decides one size per tiling kind.
            rest = sum(len(root_options(dag, n, subtiling)) + 4 for n in order[1:])
            if rest * params.beam_size * 2 * per_state > 0.5 * (deadline - time.perf_counter()):
                coarse = True
                skipped = {n.name for n in order[1:] if forced(dag, n) is not None}
                order = order[:1] + [n for n in order[1:] if n.name not in skipped]
                beam = [({**st, **{k: default[k] for k in skipped}}, cost, full)
                        for st, cost, full in beam]
    report["search_mode"] = (f"deep: {len(skipped)} boundary conditions inlined up front, one size "
                             f"per tiling kind in the beam") if coarse else "full"
    if widths:
        report["beam_widths"] = f"{min(widths)}..{max(widths)} over {len(widths)} Funcs"
    results = [(full, cost) for _, cost, full in beam]
    results.sort(key=lambda t: t[1])
    if results:
        best, best_cost = _refine(dag, results[0][0], results[0][1], order, skipped, price,
                                  deadline, subtiling)
        results.append((best, best_cost))
    results.append((default, price(default)))
    results.sort(key=lambda t: t[1])
    out, seen = [], set()
    for st, cost in results:
        key = tuple(sorted(st.items()))
        if key not in seen:
            seen.add(key)
            out.append((st, cost))
    report["search_states"] = evaluated
    report["search_time_s"] = time.perf_counter() - t0
    report["predicted_baseline"] = price(default)
    report["predicted_best"] = out[0][1] if out else None
    if params.verbose:
        print(f"autoscheduler: beam search priced {evaluated} states in "
              f"{report['search_time_s']:.2f} s ({report['search_mode']}; beam widths "
              f"{report.get('beam_widths', '-')}); best {out[0][1]:.4g} vs baseline "
              f"{report['predicted_baseline']:.4g}")
    return out[:4]


def _refine(dag, best, best_cost, order, skipped, price, deadline, subtiling):
    """The fine pass: from the best state, redraw first the tiling sizes of its
    root Funcs, then any one Func (the others kept, illegal ones repaired),
    keeping each change that lowers the cost, until no change does or the
    deadline."""
    def decided_before(node):
        return {**{k: best[k] for k in skipped},
                **{n.name: best[n.name] for n in order[:order.index(node)]}}

    for sizes_only in (True, False):
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for node in order:
                if time.perf_counter() > deadline:
                    break
                cur = best[node.name]
                if sizes_only and cur.place != "root":
                    continue
                decided = decided_before(node)
                for c in options(dag, decided, node, subtiling):
                    if time.perf_counter() > deadline:
                        break
                    if c == best[node.name]:
                        continue
                    if sizes_only and (c.place != "root" or _kind(c) != _kind(cur)):
                        continue
                    st = complete(dag, {**decided, node.name: c}, best)
                    cost = price(st)
                    if cost < best_cost * 0.999:
                        best, best_cost, improved = st, cost, True
                        decided = decided_before(node)
    return best, best_cost
