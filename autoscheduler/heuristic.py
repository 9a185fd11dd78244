"""The fast greedy scheduler (Mullapudi2016's spirit): the baseline every
search starts from and the fallback when a search's winner fails its checks.

1. Inline pure Funcs that are cheap or read at one point per use.
2. Everything else is computed at root; a root Func whose uses all lie in one
   pure consumer group joins it as a strip member (stored per strip, computed
   per row: the compiler slides it down the strip).
3. A reduction whose only use is a pointwise read by its consumer becomes a
   register block of that consumer (matmul, convolution).
4. Leaders get strips sized to give every core at least four tasks.
"""
from __future__ import annotations

from autoscheduler.dag import DAG, FuncNode
from autoscheduler.space import Choice, can_inline, leaders_of, transposed_tiles


def reads_per_point(dag: DAG, node: FuncNode) -> float:
    """The most points of `node` any one point of a consumer reads."""
    worst = 0.0
    for s in node.consumers:
        box = {a: (lo, lo) for a, (lo, _) in zip(s.func.args, s.func.region)}
        fp = dag.footprint(node.sym, s, box)
        if fp is None or any(d is None for d in fp):
            return float("inf")
        n = 1
        for lo, hi in fp:
            n *= hi - lo + 1
        if s.rvars:
            n = max(n, len(s.calls.get(node.sym, ())))
        worst = max(worst, n * len(s.calls.get(node.sym, ())))
    return worst


def strip_size(extent: int, parallelism: int) -> int:
    s = 64
    while s > 4 and -(-extent // s) < 4 * parallelism:
        s //= 2
    return max(1, min(s, extent))


REGBLOCK_MIN_RVAR_POINTS = 32


def _rvar_points(stage) -> int:
    n = 1
    for _, _, e, _ in stage.rvars:
        n *= max(1, e)
    return n


STRIP_EXTRA_DIMS_MAX = 64


def strips_ok(node: FuncNode) -> bool:
    """Strips split the second dimension and run the ones beyond it inside each
    strip row: fine for colour planes or a grid's few bins (a bilateral grid's
    z and c), a strided walk over whole images for a batch of feature maps
    (4-D NHWC), which runs flat instead."""
    extra = 1
    for _, e in node.region[2:]:
        extra *= e
    return extra <= STRIP_EXTRA_DIMS_MAX


def regblock_member(dag: DAG, leader: FuncNode):
    """The reduction `leader` reads pointwise, if it can be register-blocked into it."""
    key = ("regblock_member", leader.name)
    if key not in dag.memo:
        dag.memo[key] = _regblock_member(dag, leader)
    return dag.memo[key]


def _regblock_member(dag: DAG, leader: FuncNode):
    if leader.has_updates or len(leader.args) < 2:
        return None
    for st in leader.stages:
        for sym in st.calls:
            p = dag.by_sym.get(sym)
            if p is None or not p.has_updates or len(p.consumers) != 1 or p.args != leader.args:
                continue
            ups = p.stages[1:]
            if not all(u.rvars and u.lhs_pointwise and set(u.free_pure) == set(p.args) for u in ups):
                continue
            # Blocking pays for keeping accumulators in registers across a long RDom
            # (matmul, convolution); over a short one (a 7-tap box sum) it only costs.
            if min(_rvar_points(u) for u in ups) < REGBLOCK_MIN_RVAR_POINTS:
                continue
            if not dag.is_pointwise_edge(p, st):
                continue
            vec = dag.vector_width(p)
            if leader.extent(leader.args[0]) >= vec and leader.extent(leader.args[1]) >= 8:
                return p
    return None


def is_wrapper(node: FuncNode) -> bool:
    """A Func whose value is a load at computed coordinates (a boundary condition,
    a transpose, a clamped lookup): inlining it costs only the index math."""
    s = node.stages[0]
    return len(node.stages) == 1 and s.loads == 1 and s.value_ops <= 3


def cheap_to_inline(dag: DAG, node: FuncNode) -> bool:
    return can_inline(node) and (is_wrapper(node) or node.stages[0].value_ops <= 2
                                 or reads_per_point(dag, node) <= 1)


def heuristic_state(dag: DAG) -> dict:
    p = dag.parallelism
    state: dict = {}
    for node in dag.nodes:
        if cheap_to_inline(dag, node):
            state[node.name] = Choice("inline")
        else:
            state[node.name] = Choice("root")
    for node in reversed(dag.nodes):            # consumers first
        c = state[node.name]
        if c.place != "root":
            continue
        if node.has_updates or node.is_output or not node.args:
            continue
        leaders = leaders_of(dag, {**state, node.name: Choice("inline")}, node)
        if len(leaders) != 1:
            continue
        leader = dag.node(next(iter(leaders)))
        if leader.has_updates or len(leader.args) < 2 or len(node.args) < 2:
            continue
        state[node.name] = Choice("row")
    for node in reversed(dag.nodes):
        c = state[node.name]
        if c.place != "root":
            continue
        blocked = regblock_member(dag, node)
        if blocked is not None:
            vec = dag.vector_width(blocked)
            ext = node.extent(node.args[0])
            k = 3 if ext >= 3 * vec else 2 if ext >= 2 * vec else 1
            state[node.name] = Choice("root", ("regblock", k, {3: 8, 2: 4, 1: 12}[k]))
            state[blocked.name] = Choice("tile")
            continue
        if len(node.args) >= 2 and strips_ok(node):
            state[node.name] = Choice("root", ("strips", strip_size(node.region[1][1], p)))
        elif node.args and node.region[0][1] >= 4 * p * dag.vector_width(node):
            state[node.name] = Choice("root", ("strips", max(dag.vector_width(node),
                                                             node.region[0][1] // (4 * p))))
        else:
            state[node.name] = Choice("root", ("flat",))
    # Members need one strips leader, and a member whose strips need much more of
    # it than the whole (a pyramid's deep halo in each strip) is computed at root;
    # repeated, consumers first, until every member is fine.
    changed = True
    while changed:
        changed = False
        for node in reversed(dag.nodes):
            if state[node.name].place != "row":
                continue
            leaders = leaders_of(dag, {**state, node.name: Choice("inline")}, node)
            lead = state[next(iter(leaders))] if len(leaders) == 1 else None
            if lead is None or not lead.tiling or lead.tiling[0] != "strips" or \
                    transposed_tiles(dag, dag.node(next(iter(leaders)))) or \
                    member_redundancy(dag, state, node, dag.node(next(iter(leaders)))) > \
                    MEMBER_REDUNDANCY_MAX:
                state[node.name] = _root(dag, node)
                changed = True
    return state


# A strip member recomputing more than this many times its points goes to root.
MEMBER_REDUNDANCY_MAX = 1.5


def member_redundancy(dag: DAG, state: dict, node: FuncNode, leader: FuncNode) -> float:
    """Points of `node` a strip member computes (per strip where it slides down
    it, else per row), over its points."""
    from autoscheduler.space import group_region, leader_box, region_points, slides
    lt = state[leader.name].tiling
    try:
        box, its = leader_box(dag, leader, lt, "tile" if slides(dag, state, node, leader) else "row")
        per = region_points(group_region(dag, state, node, leader, box))
    except Exception:       # noqa: BLE001 - bounds the DAG can't evaluate: assume the worst
        return float("inf")
    return per * its / max(1, node.points())


def _root(dag: DAG, node: FuncNode) -> Choice:
    p = dag.parallelism
    if len(node.args) >= 2 and strips_ok(node):
        return Choice("root", ("strips", strip_size(node.region[1][1], p)))
    if node.args and node.region[0][1] >= 4 * p * dag.vector_width(node):
        return Choice("root", ("strips", max(dag.vector_width(node), node.region[0][1] // (4 * p))))
    return Choice("root", ("flat",))
