"""The search space: one `Choice` per Func, and how a full assignment (a
`State`) becomes a `Plan` of directives.

A Func is inlined, computed at root (a group *leader*, with a tiling), or a
*member* of the one group its consumers belong to: computed per strip row
(stored per strip, so the compiler slides it down the strip) or per tile of
its leader. Leaders tile their pure loops as

- strips: `y` split into strips, strips in parallel, `x` vectorized;
- tiles: `x` and `y` tiled, tile rows in parallel, `xi` vectorized;
- regblock: a register block (`k` vectors by `b` rows) of a reduction member
  accumulated over its whole RDom, the block unrolled (matmul, convolution);
- columns: `x` split into columns, each with all its rows (a scan down `y`
  computed per column), columns and planes fused into the parallel loop;
- rfactor: a reduction whose pure loops give too little parallelism (a sum
  over a large RDom into a scalar or a short row) is split with `rfactor`: an
  intermediate over the outer RVar (in parallel) and a vector of the inner one
  (vectorized), merged serially by the Func's own update.

Updates of root Funcs vectorize their innermost free pure var (moved inside
the RVars) and parallelize the outermost one. Every split uses GuardWithIf
(which never reads outside what the unscheduled pipeline reads) except a
register block's, which needs constant extents and uses ShiftInwards.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipelang import ir

from autoscheduler.dag import DAG, FuncNode
from autoscheduler.plan import INLINE, ROOT, Plan

GUARD, SHIFT, ROUNDUP = "GuardWithIf", "ShiftInwards", "RoundUp"
# A member's pure stage shifts its last vector inwards only when it computes at
# least this many vectors per iteration of its leader's loop.
MEMBER_SHIFT_VECTORS = 4


class Tails:
    """Tail strategies. Fast (the default): ShiftInwards wherever the extent a
    loop covers is at least the split factor, GuardWithIf where it is not. A
    rounded-up tail would compute past the region its consumers need, and in a
    pyramid that excess compounds: each coarser level's extra points double
    the region of the finer level computed from it (local_laplacian's first
    level came out 5x its size). A member shifts only where it computes a
    few vectors per iteration of its leader's loop (`MEMBER_SHIFT_VECTORS`).
    RoundUp stays for updates that read no input, and for their pure stage
    (ShiftInwards would apply an update twice to the overlapped points).
    ShiftInwards needs outputs at least as large as the factors (Halide's
    rule, #4512); the region check catches the rest.
    Safe: GuardWithIf everywhere (never reads or writes beyond what the
    algorithm needs, at any size)."""

    def __init__(self, safe: bool = False, dag: DAG | None = None):
        self.safe = safe
        self.dag = dag
        self._touches: dict = {}             # Func name -> reads an input (memo)

    def _reads_input(self, node: FuncNode) -> bool:
        """Whether `node` reads an input itself (Adams2019's rule). Rounded-up
        regions of its consumers can still push it past an unclamped input read;
        the winner's region check catches that and falls back to GuardWithIf
        tails (counting producers transitively made every histogram's update
        GuardWithIf: hist 3.4x hand)."""
        if self.dag is None:
            return False
        hit = self._touches.get(node.name)
        if hit is None:
            hit = self._touches[node.name] = any(sym in self.dag.inputs for st in node.stages
                                                 for sym in st.calls)
        return hit

    def leader(self, node: FuncNode, extent: int, factor: int) -> str:
        if self.safe:
            return GUARD
        if node.has_updates and not node.is_output and not self._reads_input(node):
            return ROUNDUP          # as its updates (see `inner`)
        return SHIFT if extent >= factor else GUARD

    def inner(self, node: FuncNode, pure: bool = False, extent: int = 0) -> str:
        if self.safe or node.is_output:
            return GUARD
        if not pure or node.has_updates and not self._reads_input(node):
            # An update: ShiftInwards would apply it twice to the overlapped
            # points. Its pure stage rounds up with it (a scan's vectors stay
            # aligned: iir_blur 4x slower with the pure stage shifted).
            return GUARD if self._reads_input(node) else ROUNDUP
        # The estimate of the extent per iteration of the leader's loop is of an
        # interior iteration: a shifted vector must fit well inside it, else it
        # reaches before the region (and, in a pyramid, so does every coarser
        # level's region, doubling per level).
        return SHIFT if extent >= MEMBER_SHIFT_VECTORS * self.dag.vector_width(node) else GUARD


@dataclass(frozen=True)
class Choice:
    place: str                  # "inline", "root", "row" (strip member), "tile" (tile member),
    #                             "vector" (a reduction computed per vector of its leader)
    tiling: tuple = ()          # leaders: ("strips", S[, "planes"]) | ("tiles", TX, TY) |
    #                             ("columns", W) | ("regblock", k, b) | ("rfactor",) | ("flat",)


class Invalid(Exception):
    """A state the space does not allow (e.g. a member whose consumers are in two groups)."""


def regblock_member_of(dag: DAG, leader: FuncNode):
    from autoscheduler.heuristic import regblock_member
    return regblock_member(dag, leader)


def can_inline(node: FuncNode) -> bool:
    return not node.is_output and not node.has_updates


# At most this many values read per point of a computed Func through the
# Funcs inlined into it. Inlining multiplies: a pyramid level with three
# coarser levels inlined (3x3 taps each) reads 9**3 values a point, a tree no
# value numbering shrinks (each tap clamps differently): lens_blur's
# winner compiled for 110 s (LLVM IR of 13 MB) at 1.3x the hand schedule.
INLINED_READS_MAX = 256


def inlined_reads(dag: DAG, state: dict, node: FuncNode, _memo: dict | None = None) -> int:
    """Values read per point of `node` (its most reading stage) once the
    Funcs it calls that `state` inlines are expanded into it."""
    memo = {} if _memo is None else _memo
    hit = memo.get(node.name)
    if hit is not None:
        return hit
    most = 0
    for st in node.stages:
        n = 0
        for sym, calls in st.calls.items():
            p = dag.by_sym.get(sym)
            c = state.get(p.name) if p is not None and p is not node else None
            n += len(calls) * (inlined_reads(dag, state, p, memo) if c is not None and
                               c.place == "inline" else 1)
        most = max(most, n)
    memo[node.name] = most
    return most


def too_much_inlined(dag: DAG, state: dict) -> str | None:
    """Why `state` inlines too much (a computed Func reading more than
    INLINED_READS_MAX values a point through inlined Funcs), or None."""
    memo: dict = {}
    for node in dag.nodes:
        c = state.get(node.name)
        if c is None or c.place == "inline":
            continue
        n = inlined_reads(dag, state, node, memo)
        if n > INLINED_READS_MAX:
            return f"{node.name} reads {n} values a point through inlined Funcs"
    return None


def leaders_of(dag: DAG, state: dict, node: FuncNode, _memo: dict | None = None) -> set:
    """The root Funcs whose loops compute `node` (through inlined consumers)."""
    c = state[node.name]
    if c.place == "root":
        return {node.name}
    if _memo is None:
        _memo = {}
    hit = _memo.get(node.name)
    if hit is not None:
        return hit
    out = set()
    for s in node.consumers:
        out |= leaders_of(dag, state, s.func, _memo)
    _memo[node.name] = out
    return out


def group_leaders(dag: DAG, state: dict) -> dict:
    """{name: leader FuncNode or None} for every non-inlined Func of a complete
    state: itself for a root Func, else the one root Func whose loops compute
    it through its consumers (None when they are in several groups). One pass,
    consumers first (what `leaders_of` gives each Func, for all at once)."""
    sets: dict = {}              # name -> the leaders of its uses (as if it were inlined)
    out: dict = {}
    for node in reversed(dag.nodes):
        uses = set()
        for s in node.consumers:
            f = s.func.name
            uses |= {f} if state[f].place == "root" else sets[f]
        sets[node.name] = uses
        c = state[node.name]
        if c.place == "root":
            out[node.name] = node
        elif c.place != "inline":
            out[node.name] = dag.node(next(iter(uses))) if len(uses) == 1 else None
    return out


def leader_box(dag: DAG, leader: FuncNode, tiling: tuple, what: str) -> tuple:
    """({var: (lo, hi)}, iterations): the box of `leader` one iteration of the
    loop its members sit at covers, and how many such iterations there are.
    `what` is "row" (one row of a strip), "tile" (a strip, tile, column or
    register block) or "vector" (one vector of x); interior boxes (the
    schedule's loops are affine, so all alike)."""
    args, reg = leader.args, leader.region
    box = {a: (lo, lo + e - 1) for a, (lo, e) in zip(args, reg)}
    kind = tiling[0] if tiling else "flat"

    def cut(i, n):
        lo, e = reg[i]
        n = max(1, min(n, e))
        box[args[i]] = (lo, lo + n - 1)
        return e / n         # fractional: a guarded last iteration computes only its part

    if what == "vector":          # one vector of x, one point of every other dim
        its = 1.0
        for i in range(len(args)):
            its *= cut(i, dag.vector_width(leader) if i == 0 else 1)
        return box, its

    if kind == "strips" and len(args) >= 2:
        its = cut(1, 1 if what == "row" else tiling[1])
        if planes_outside(tiling):
            for i in range(2, len(args)):
                its *= cut(i, 1)
        return box, its
    if kind == "strips":
        return box, cut(0, tiling[1])
    if kind == "columns":
        its = cut(0, tiling[1])
        for i in range(2, len(args)):      # planes fused with the columns (outside them)
            its *= cut(i, 1)
        return box, its
    if kind == "tiles":
        its = cut(0, tiling[1]) * cut(1, tiling[2])
        if not strips_fit(leader):
            for i in range(2, len(args)):
                its *= cut(i, 1)
        return box, its
    if kind == "regblock":
        vec = dag.vector_width(leader)
        its = cut(0, tiling[1] * vec) * cut(1, tiling[2])
        for i in range(2, len(args)):
            its *= cut(i, 1)
        return box, its
    return box, 1


TRANSPOSE_TILE_VECTORS = 4


def transposed_tiles(dag: DAG, node: FuncNode) -> bool:
    """Whether `node`'s strips tile x: its definition reads a Func or input
    along another dim than the first with its own x (a transpose), and x spans
    a few tiles."""
    key = ("transposed", node.name)
    hit = dag.memo.get(key)
    if hit is None:
        hit = False
        if len(node.args) >= 2 and \
                node.region[0][1] >= 2 * TRANSPOSE_TILE_VECTORS * dag.vector_width(node):
            from pipelang.var import var_symbol
            xs = var_symbol(node.args[0])
            for cs in node.stages[0].calls.values():
                for c in cs:
                    if c.args and xs not in ir.free_symbols(c.args[0]) and any(
                            xs in ir.free_symbols(a) for a in c.args[1:]):
                        hit = True
        dag.memo[key] = hit
    return hit


def planes_outside(tiling: tuple) -> bool:
    """("strips", S, "planes"): the dims beyond the second run outside the strips."""
    return len(tiling) > 2 and tiling[2] == "planes"


def strips_fit(node: FuncNode) -> bool:
    """Whether the dims beyond the second are few enough (colour planes) to run
    inside a strip or tile rather than around it."""
    extra = 1
    for _, e in node.region[2:]:
        extra *= e
    return extra <= 4


def group_region(dag: DAG, state: dict, node: FuncNode, leader: FuncNode, box: dict,
                 memo: dict | None = None) -> list:
    """[(lo, hi)] of `node` that one iteration of `leader` over `box` needs, through
    the group's members and inlined Funcs (bounds from the DAG's footprints; a
    dim read at data-dependent places is whole)."""
    if memo is None:
        memo = {}
    if node is leader:
        return [box[a] for a in node.args]
    hit = memo.get(node.name)
    if hit is not None:
        return hit
    full = [(lo, lo + e - 1) for lo, e in node.region]
    out = None
    for s in node.consumers:
        cf = s.func
        c = state.get(cf.name)
        if cf is not leader and (c is None or c.place == "root"):
            continue                       # outside the group: whole regions
        creg = group_region(dag, state, cf, leader, box, memo)
        fp = dag.footprint(node.sym, s, dict(zip(cf.args, creg)))
        if fp is None:
            fp = full
        fp = [f if f is not None else w for f, w in zip(fp, full)]
        out = fp if out is None else [(min(a[0], b[0]), max(a[1], b[1])) for a, b in zip(out, fp)]
    if out is None:
        out = full
    out = [(max(lo, w[0]), min(hi, w[1])) for (lo, hi), w in zip(out, full)]
    memo[node.name] = out
    return out


def region_points(region: list) -> int:
    n = 1
    for lo, hi in region:
        n *= max(0, hi - lo + 1)
    return n


def fresh(node: FuncNode, base: str, taken: set) -> str:
    name = base
    while name in node.args or name in taken or any(name == r[0] for s in node.stages for r in s.rvars):
        name += "_"
    taken.add(name)
    return name


def _fuse_outer(node: FuncNode, outer: str, rest: list, taken: set, s0: list) -> str:
    """Fuse the dims `rest` into `outer`, one after another (appending the
    directives to `s0`); the fused loop's name."""
    for a in rest:
        fused = fresh(node, outer + a, taken)
        s0.append(("fuse", outer, a, fused))
        outer = fused
    return outer


def build_plan(dag: DAG, state: dict, safe: bool = False) -> Plan:
    plan = Plan()
    tails = Tails(safe, dag)
    for node in reversed(dag.nodes):          # outputs first, as Halide prints them
        plan.func(node.name)
    loops = {}                                # leader name -> {"row": (store, compute), "tile": var}
    for node in reversed(dag.nodes):
        c = state[node.name]
        if c.place == "root":
            loops[node.name] = _leader(dag, plan, node, c.tiling, tails)
    for node in dag.nodes:
        c = state[node.name]
        fp = plan.funcs[node.name]
        if c.place == "inline":
            if not can_inline(node):
                raise Invalid(f"{node.name} can't be inlined")
            fp.compute = INLINE
            continue
        if c.place == "root":
            fp.compute = ROOT
            continue
        leaders = leaders_of(dag, {**state, node.name: Choice("inline")}, node)
        if len(leaders) != 1:
            raise Invalid(f"{node.name} is used by {len(leaders)} groups")
        (leader,) = leaders
        at = loops.get(leader, {}).get(c.place)
        if at is None or node.has_updates and c.place == "row":
            raise Invalid(f"{node.name} can't be a {c.place} member of {leader}")
        if c.place == "row":
            fp.compute = ("at", leader, at[1])
            if slides(dag, state, node, dag.node(leader)):    # slides down the strip
                fp.store = ("at", leader, at[0])
        else:
            fp.compute = ("at", leader, at)
        _member(dag, plan, node, leader, state, tails)
    return plan


def slides(dag: DAG, state: dict, node: FuncNode, leader: FuncNode) -> bool:
    """Whether consecutive rows of `leader`'s strip need overlapping regions of
    the row member `node` (a stencil's halo, an upsampling): then it is stored
    per strip and computed per row, so the compiler slides it down the strip."""
    lt = state[leader.name].tiling
    if not lt or lt[0] != "strips" or len(leader.args) < 2:
        return False
    rbox, _ = leader_box(dag, leader, lt, "row")
    sbox, _ = leader_box(dag, leader, lt, "tile")
    per_row = region_points(group_region(dag, state, node, leader, rbox))
    per_strip = region_points(group_region(dag, state, node, leader, sbox))
    # (A region that does not move with the row is no window: computed per row.)
    return per_row < per_strip < per_row * min(lt[1], leader.region[1][1])


def _vectorize(dag, node, var, extent, tail=GUARD, used=()) -> list:
    """Split off the native vector width as `<var>v` and vectorize it (an explicit
    name, so pasting the schedule reproduces it exactly)."""
    vec = dag.vector_width(node)
    if extent >= vec and vec > 1:
        taken = {n for d in used for n in d[1:] if isinstance(n, str)}
        inner = fresh(node, var + "v", taken)
        return [("split", var, var, inner, vec, tail), ("vectorize", inner)]
    return []


def _leader(dag: DAG, plan: Plan, node: FuncNode, tiling: tuple, tails: Tails) -> dict:
    """Directives of a root Func; returns the loops members may use."""
    fp = plan.funcs[node.name]
    s0 = fp.stage(0)
    args = node.args
    taken: set = set()
    kind = tiling[0] if tiling else "flat"
    p = dag.parallelism
    out: dict = {}
    if not args:
        _updates(dag, plan, node, kind, tails)
        return out
    x = args[0]
    ext = [e for _, e in node.region]
    if kind == "strips" and len(args) >= 2 and transposed_tiles(dag, node):
        # A transpose: x tiled within the strip, so the lines of the producer
        # each tile's gathers touch are reused down the strip's rows (Halide's
        # iir_blur schedule); members only per strip (no rows: yi is per tile).
        y, S = args[1], tiling[1]
        TX = TRANSPOSE_TILE_VECTORS * dag.vector_width(node)
        yi, xi = fresh(node, y + "i", taken), fresh(node, x + "i", taken)
        # The strip shifts inwards too: each strip's members then have a
        # constant region, so a member scan's guarded vectors (it reads an
        # input) lose their guards (iir_blur's first pass 0.61x).
        s0 += [("split", y, y, yi, S, tails.leader(node, ext[1], S)),
               ("split", x, x, xi, TX, tails.leader(node, ext[0], TX))]
        planes = args[2:] if planes_outside(tiling) else []
        s0.append(("reorder", [xi] + [a for a in args[2:] if a not in planes] + [yi, x, y] + planes))
        vd = _vectorize(dag, node, xi, TX, tails.leader(node, TX, dag.vector_width(node)), used=s0)
        outer = _fuse_outer(node, y, planes, taken, s0)
        s0 += vd + [("parallel", outer)]
        out = {"tile": outer, **({"vector": xi} if vd else {})}
    elif kind == "strips" and len(args) >= 2 and planes_outside(tiling) and len(args) > 2:
        # Strips of one plane at a time (members then hold one plane: a
        # column scan's working set stays in cache), strips and planes fused
        # into the parallel loop.
        y, S = args[1], tiling[1]
        yi = fresh(node, y + "i", taken)
        s0 += [("split", y, y, yi, S, GUARD), ("reorder", [x, yi, y] + args[2:])]
        vd = _vectorize(dag, node, x, ext[0], tails.leader(node, ext[0], dag.vector_width(node)),
                        used=s0)
        outer = _fuse_outer(node, y, args[2:], taken, s0)
        s0 += vd + [("parallel", outer)]
        out = {"row": (outer, yi), "tile": outer, **({"vector": x} if vd else {})}
    elif kind == "strips" and len(args) >= 2:
        y, S = args[1], tiling[1]
        yi = fresh(node, y + "i", taken)
        s0 += [("split", y, y, yi, S, GUARD), ("reorder", [x] + args[2:] + [yi, y])]
        vd = _vectorize(dag, node, x, ext[0], tails.leader(node, ext[0], dag.vector_width(node)),
                        used=s0)
        s0 += vd + [("parallel", y)]
        out = {"row": (y, yi), "tile": y, **({"vector": x} if vd else {})}
    elif kind == "strips":
        S = tiling[1]
        xi = fresh(node, x + "i", taken)
        s0 += [("split", x, x, xi, S, tails.leader(node, ext[0], S))]
        s0 += _vectorize(dag, node, xi, min(S, ext[0]), tails.inner(node) if tails.safe else
                         tails.leader(node, min(S, ext[0]), dag.vector_width(node)), used=s0)
        s0 += [("parallel", x)]
        out = {"tile": x}
    elif kind == "tiles" and len(args) >= 2:
        y, TX, TY = args[1], tiling[1], tiling[2]
        xi, yi = fresh(node, x + "i", taken), fresh(node, y + "i", taken)
        # A few colour planes run inside the tile (its members then serve every
        # plane at once); more dims stay outside.
        inside = args[2:] if strips_fit(node) else []
        s0 += [("split", x, x, xi, TX, tails.leader(node, ext[0], TX)),
               ("split", y, y, yi, TY, tails.leader(node, ext[1], TY)),
               ("reorder", [xi, yi] + inside + [x, y] + [a for a in args[2:] if a not in inside])]
        vd = _vectorize(dag, node, xi, min(TX, ext[0]),
                        tails.leader(node, min(TX, ext[0]), dag.vector_width(node)), used=s0)
        s0 += vd + [("parallel", y if inside or len(args) == 2 else args[-1])]
        out = {"tile": x, **({"vector": xi} if vd else {})}
    elif kind == "columns" and len(args) >= 2:
        # Columns of x, each with all its rows and planes: the group of a scan
        # down y (its x free) computes per column, columns in parallel.
        # Planes (dims past y) run outside the columns, fused with them into the
        # parallel loop (Halide's max_filter schedule): a member holds one plane.
        W = tiling[1]
        xi = fresh(node, x + "i", taken)
        s0 += [("split", x, x, xi, W, tails.leader(node, ext[0], W)),
               ("reorder", [xi, args[1], x] + args[2:])]
        vd = _vectorize(dag, node, xi, min(W, ext[0]),
                        tails.leader(node, min(W, ext[0]), dag.vector_width(node)), used=s0)
        outer = _fuse_outer(node, x, args[2:], taken, s0)
        s0 += vd + [("parallel", outer)]
        out = {"tile": outer, **({"vector": xi} if vd else {})}
    elif kind == "regblock" and len(args) >= 2:
        y, k, b = args[1], tiling[1], tiling[2]
        vec = dag.vector_width(node)
        xi, yi = fresh(node, x + "i", taken), fresh(node, y + "i", taken)
        xv = fresh(node, x + "v", taken)
        if len(args) == 2 and ext[1] >= 8 * b:
            # 2-D (matmul): each task owns a panel of 4 blocks down, so the other
            # operand's panel stays in cache across them (Halide's matmul schedule).
            yb, xy = fresh(node, y + "b", taken), fresh(node, x + y, taken)
            s0 += [("split", x, x, xi, k * vec, SHIFT), ("split", y, y, yi, 4 * b, SHIFT),
                   ("reorder", [xi, yi, x, y]), ("fuse", x, y, xy), ("parallel", xy),
                   ("split", yi, yi, yb, b, SHIFT), ("split", xi, xi, xv, vec, SHIFT),
                   ("vectorize", xv), ("unroll", xi), ("unroll", yb)]
            return {"tile": yi}
        s0 += [("split", x, x, xi, k * vec, SHIFT), ("split", y, y, yi, b, SHIFT),
               ("reorder", [xi, yi, x, y] + args[2:]),
               ("split", xi, xi, xv, vec, SHIFT), ("vectorize", xv), ("unroll", xi),
               ("unroll", yi)]
        s0 += _parallel_outer(node, [y] + args[2:], [ext[1] // b] + ext[2:], p, taken)
        out = {"tile": x}
    else:      # flat: the outermost loop in parallel, x vectorized
        s0 += _vectorize(dag, node, x, ext[0], tails.leader(node, ext[0], dag.vector_width(node)),
                         used=s0)
        if len(args) >= 2:
            s0 += _parallel_outer(node, args[1:], ext[1:], p, taken)
    _updates(dag, plan, node, kind, tails)
    return out


def _updates(dag: DAG, plan: Plan, node: FuncNode, kind: str, tails: Tails) -> None:
    rf = rfactor_stage(dag, node) if kind == "rfactor" else None
    for st in node.stages[1:]:
        if st is rf:
            _rfactor(dag, plan, node, st)
        else:
            _update(dag, plan, node, st, tails)


RFACTOR_MIN_POINTS = 1 << 14


def rfactor_stage(dag: DAG, node: FuncNode):
    """The update of `node` that rfactor can parallelize, or None: a single
    associative update over at least RFACTOR_MIN_POINTS RVar points whose free
    pure loops (other than the vectorized x) give fewer than 2 x parallelism tasks."""
    if len(node.stages) != 2:
        return None
    st = node.stages[1]
    if not st.rvars or not st.associative:
        return None
    x = node.args[0] if node.args else None
    tasks = 1
    for v in st.free_pure:
        if v != x:
            tasks *= node.extent(v)
    points = 1
    for _, _, e, _ in st.rvars:
        points *= max(1, e)
    if tasks >= 2 * dag.parallelism or points < RFACTOR_MIN_POINTS:
        return None
    if len(st.rvars) >= 2 and st.rvars[-1][2] < 2 * dag.parallelism:
        return None
    return st


def rfactor_tasks(dag: DAG, node: FuncNode) -> int:
    """Parallel tasks of the rfactor intermediate (its `u` extent)."""
    st = rfactor_stage(dag, node)
    if st is None:
        return 1
    if len(st.rvars) >= 2:
        return st.rvars[-1][2]
    return -(-st.rvars[0][2] // _rfactor_chunk(dag, node, st))


def _rfactor_chunk(dag: DAG, node: FuncNode, st) -> int:
    n = st.rvars[0][2]
    return max(dag.vector_width(node), -(-n // (8 * dag.parallelism)))


def _rfactor(dag: DAG, plan: Plan, node: FuncNode, st) -> None:
    """`intm = f.update(k).[splits].rfactor([(outer, u), (inner, v)])`, the
    intermediate computed at root, its update parallel over u and vectorized."""
    fp = plan.funcs[node.name]
    ds = fp.stage(st.index)
    taken: set = set()
    u = fresh(node, "u", taken)
    vec = dag.vector_width(node)
    x = node.args[0] if node.args else None
    x_vector = x is not None and x in st.free_pure and node.extent(x) >= vec
    names = [r[0] for r in st.rvars]
    pairs = []
    if len(names) == 1:
        r, n = names[0], st.rvars[0][2]
        chunk = _rfactor_chunk(dag, node, st)
        ro, ri = fresh(node, r + "o", taken), fresh(node, r + "i", taken)
        ds.append(("split", r, ro, ri, chunk, GUARD))
        pairs.append((ro, u))
        inner, inner_extent = ri, min(chunk, n)
    else:
        pairs.append((names[-1], u))
        inner, inner_extent = names[0], st.rvars[0][2]
    v = None
    if not x_vector and inner_extent >= 2 * vec:
        v = fresh(node, "v", taken)
        io, ii = fresh(node, inner + "o", taken), fresh(node, inner + "i", taken)
        ds.append(("split", inner, io, ii, vec, GUARD))
        pairs.append((ii, v))
    intm = fresh(node, node.name + "_intm", taken)
    ds.append(("rfactor", tuple(pairs), intm))
    pure, update = [], []
    if v is not None:
        pure.append(("vectorize", v))
        update.append(("vectorize", v))
    elif x_vector:
        pure += _vectorize(dag, node, x, node.extent(x), GUARD, used=pure)
        update += _vectorize(dag, node, x, node.extent(x), GUARD, used=update)
    update.append(("parallel", u))
    fp.intermediates[st.index] = (intm, pure, update)


PARALLEL_TASKS_PER_CORE = 8


def parallel_tasks(extents: list, p: int) -> int:
    """Tasks `_parallel_outer` makes of loops of these extents (innermost first)."""
    if not extents:
        return 1
    total = extents[-1]
    i = len(extents) - 2
    while total < PARALLEL_TASKS_PER_CORE * p and i >= 0:
        total *= extents[i]
        i -= 1
    return total


def _parallel_outer(node, dims, extents, p, taken) -> list:
    """Parallelize the outermost loop, fusing it with the next while it is too short
    (PARALLEL_TASKS_PER_CORE tasks per core: a shared machine's cores come and go)."""
    if not dims:
        return []
    outer, total = dims[-1], extents[-1]
    out = []
    i = len(dims) - 2
    while total < PARALLEL_TASKS_PER_CORE * p and i >= 0:
        fused = fresh(node, dims[i] + outer, taken)
        out.append(("fuse", dims[i], outer, fused))
        outer, total = fused, total * extents[i]
        i -= 1
    return out + [("parallel", outer)]


def _update(dag: DAG, plan: Plan, node: FuncNode, st, tails: Tails, parallel: bool = True) -> None:
    ds = plan.funcs[node.name].stage(st.index)
    free = [v for v in st.pure if v in st.free_pure]
    if not free:
        ds.append(("unscheduled",))
        return
    x = node.args[0]
    rv = [r[0] for r in st.rvars]
    others = [v for v in st.pure if v != x]
    if x in free and st.rvars:
        ds.append(("reorder", [x] + rv + others))
    if x in free:
        ds += _vectorize(dag, node, x, node.extent(x), tails.inner(node), used=ds)
    par = [v for v in free if v != x and node.extent(v) > 1]
    if par and parallel:
        ds.append(("parallel", par[-1]))
    if not ds:
        ds.append(("unscheduled",))


REGBLOCK_MAX_ACCUMULATORS = 32


def _small_block(dag: DAG, state: dict, node: FuncNode, leader: FuncNode) -> bool:
    """Whether a reduction computed per register block of `leader` needs so few
    points per block (constant, since the block's splits ShiftInwards) that its
    accumulators fit in registers: then it is register-blocked too (a
    depthwise convolution computed per block of the pointwise one)."""
    if not node.has_updates or len(node.args) < 2:
        return False
    if any(not st.rvars or set(st.free_pure) != set(node.args) for st in node.stages[1:]):
        return False
    box, _ = leader_box(dag, leader, state[leader.name].tiling, "tile")
    reg = group_region(dag, state, node, leader, box)
    ext = [hi - lo + 1 for lo, hi in reg]
    vec = dag.vector_width(node)
    if ext[0] < vec or ext[0] % vec or any(e != 1 for e in ext[2:]):
        return False
    return ext[0] // vec * ext[1] <= REGBLOCK_MAX_ACCUMULATORS


def _member(dag: DAG, plan: Plan, node: FuncNode, leader: str, state: dict, tails: Tails) -> None:
    fp = plan.funcs[node.name]
    lc = state[leader].tiling
    if lc and lc[0] == "regblock" and (regblock_member_of(dag, dag.node(leader)) is node or
                                        _small_block(dag, state, node, dag.node(leader))):
        vec = dag.vector_width(node)
        x, y = node.args[0], node.args[1]
        xv = fresh(node, x + "v", set())
        fp.stage(0).extend([("split", x, x, xv, vec, GUARD), ("vectorize", xv), ("unroll", x),
                            ("unroll", y)])
        for st in node.stages[1:]:
            rv = [r[0] for r in st.rvars]
            rest = [v for v in st.pure if v not in (x, y)]
            fp.stage(st.index).extend([("reorder", [x, y] + rv + rest),
                                       ("split", x, x, xv, vec, GUARD), ("vectorize", xv),
                                       ("unroll", x), ("unroll", y)])
        return
    if node.args:
        # ShiftInwards needs the extent computed per iteration of the leader's loop
        # to cover the vector (else it shifts before the region's start).
        xext = node.region[0][1]
        if lc:
            lnode = dag.node(leader)
            place = state[node.name].place
            try:
                box, _ = leader_box(dag, lnode, lc, place if place in ("row", "vector") else "tile")
                reg = group_region(dag, state, node, lnode, box)
                xext = min(xext, reg[0][1] - reg[0][0] + 1)
            except Exception:       # noqa: BLE001 - bounds it can't evaluate: be safe
                xext = 0
        fp.stage(0).extend(_vectorize(dag, node, node.args[0], node.region[0][1],
                                      tails.inner(node, True, xext), used=fp.stage(0)))
    for st in node.stages[1:]:
        _update(dag, plan, node, st, tails, parallel=False)
    if not fp.stage(0):
        del fp.stages[0]
