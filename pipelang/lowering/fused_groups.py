"""The fused groups of compute_with: which stages share loops, Halide's
rules for them, and a realization order with each group's Funcs adjacent.

`f.compute_with(g, y)` records a `FuseLevel` on f's stage; here the stages
of every such pair become `FusedStage`s linked child to parent (a tree of
stages per shared loop nest), the pairs are checked as Halide 21 checks them
(ScheduleErrors naming the stages), and `check_fused_groups` returns an order
in which loop synthesis computes each group's Funcs one right after the
other, parents first. `compute_with.py` then merges their loop nests.
"""
from __future__ import annotations

from pipelang.errors import ScheduleError
from pipelang.lowering.analysis.environment import direct_callees
from pipelang.schedule import LoopLevel


def _matches(dim: str, var: str) -> bool:
    return dim == var or dim.endswith("." + var)


def user_name(fn) -> str:
    """The Func's name as the user wrote it (without a uniqueness suffix)."""
    return fn.name.split("$", 1)[0]


def _stage_name(fn, k: int) -> str:
    return f"{user_name(fn)}.s{k}"


class FusedStage:
    """One stage of a fused group: its parent stage (None for the root of a
    fused tree), how many of its outermost loops it shares, and its children."""

    def __init__(self, fn, k: int):
        self.fn = fn
        self.k = k
        self.sched = fn.stages()[k].schedule
        self.parent = None
        self.depth = 0          # loops shared with the parent, outermost first
        self.children: list = []

    def dims_outer_first(self) -> list:
        return list(reversed(self.sched.dims))

    def __repr__(self):
        return _stage_name(self.fn, self.k)


def fused_stages(env) -> dict:
    """{(fn symbol, stage index): FusedStage} of every stage in a compute_with pair, linked."""
    stages: dict = {}

    def get(fn, k):
        key = (fn.sym, k)
        if key not in stages:
            stages[key] = FusedStage(fn, k)
        return stages[key]

    for fn in env.values():
        if not fn.defined():
            continue
        for k, d in enumerate(fn.stages()):
            fl = d.schedule.fuse_level
            if fl is None:
                continue
            parent_fn = fl.func
            if parent_fn.sym not in env:
                raise ScheduleError(f"Invalid compute_with: {_stage_name(fn, k)} is computed with "
                                    f"{user_name(parent_fn)}, which this pipeline does not use")
            if fl.stage_index >= len(parent_fn.stages()):
                raise ScheduleError(f"Invalid compute_with: {user_name(parent_fn)} has no stage "
                                    f"{fl.stage_index} to compute {_stage_name(fn, k)} with")
            child, parent = get(fn, k), get(parent_fn, fl.stage_index)
            child.parent = parent
            parent.children.append(child)
    return stages


def fused_groups(stages: dict) -> list:
    """The Funcs of each fused group (connected by compute_with pairs), as lists of Functions."""
    owner: dict = {}

    def find(s):
        while owner.get(s, s) is not s:
            s = owner[s]
        return s

    for st in stages.values():
        owner.setdefault(st.fn.sym, st.fn.sym)
        if st.parent is not None:
            a, b = find(st.fn.sym), find(st.parent.fn.sym)
            if a is not b:
                owner[a] = b
    groups: dict = {}
    fns = {st.fn.sym: st.fn for st in stages.values()}
    for sym, fn in fns.items():
        groups.setdefault(find(sym), []).append(fn)
    return list(groups.values())


def check_pair(child: FusedStage, outputs) -> None:
    parent = child.parent
    cname, pname = _stage_name(child.fn, child.k), _stage_name(parent.fn, parent.k)
    fl = child.sched.fuse_level
    def level(fn):      # an output is computed at the root, whatever its schedule says
        return LoopLevel.root() if fn in outputs else fn.schedule.compute_level

    for st, name in ((parent, pname), (child, cname)):
        if level(st.fn).is_inlined():
            raise ScheduleError(f"Invalid compute_with: {name} is scheduled inline; the Funcs of "
                                f"a compute_with must be computed at a loop level "
                                f"(compute_root or compute_at)")
    if level(child.fn) != level(parent.fn):
        raise ScheduleError(
            f"Invalid compute_with: the compute levels of {pname} (computed at "
            f"{_level(level(parent.fn))}) and {cname} (computed at "
            f"{_level(level(child.fn))}) do not match.")
    if (child.fn in outputs) != (parent.fn in outputs):
        raise ScheduleError(f"Invalid compute_with: {pname} and {cname} must both be outputs of "
                            f"the pipeline or both not (pipelang fuses only those)")
    for st, name in ((parent, pname), (child, cname)):
        if st.fn.schedule.memoized:
            raise ScheduleError(f"Invalid compute_with: {name} is memoized; pipelang does not "
                                f"memoize a Func whose loops are fused with another's")
    if child.fn.stages()[child.k].specializations:
        raise ScheduleError(f"Func {user_name(child.fn)} is scheduled to be computed with "
                            f"{user_name(parent.fn)}, so it must not have any specializations.")
    dims_p, dims_c = parent.sched.dims, child.sched.dims
    ip = next((i for i, d in enumerate(dims_p) if _matches(d.var, fl.var)), None)
    if ip is None:
        raise ScheduleError(f"Invalid compute_with: cannot find {fl.var} in {pname} (its loops: "
                            f"{', '.join(d.var for d in dims_p)})")
    ic = next((i for i, d in enumerate(dims_c) if _matches(d.var, fl.var)), None)
    if ic is None:
        raise ScheduleError(f"Invalid compute_with: cannot find {fl.var} in {cname} (its loops: "
                            f"{', '.join(d.var for d in dims_c)})")
    n = len(dims_p) - ip
    if n != len(dims_c) - ic:
        raise ScheduleError(f"Invalid compute_with: # of fused dims of {pname} and {cname} do not "
                            f"match ({n} loops of {pname} from {fl.var} out, "
                            f"{len(dims_c) - ic} of {cname}).")
    for i in range(n):
        d1, d2 = dims_p[ip + i], dims_c[ic + i]
        if not (_matches(d1.var, d2.var.rsplit(".", 1)[-1]) or _matches(d2.var, d1.var.rsplit(".", 1)[-1])):
            raise ScheduleError(f"Invalid compute_with: names of dim {i} of {pname}({d1.var}) and "
                                f"{cname}({d2.var}) do not match.")
        if d1.kind is not d2.kind:
            raise ScheduleError(f"Invalid compute_with: for types of dim {i} of {pname}({d1.var} is "
                                f"{d1.kind.name.lower()}) and {cname}({d2.var} is "
                                f"{d2.kind.name.lower()}) do not match.")
        if d1.kind.is_gpu():
            raise ScheduleError(f"Invalid compute_with: {pname} and {cname} fuse GPU loop "
                                f"{d1.var}; pipelang fuses CPU loops only")
        if d1.is_rvar != d2.is_rvar:
            kind = {True: "an RVar", False: "a pure Var"}
            raise ScheduleError(f"Invalid compute_with: types of dim {i} of {pname}({d1.var} is "
                                f"{kind[d1.is_rvar]}) and {cname}({d2.var} is "
                                f"{kind[d2.is_rvar]}) do not match.")
    child.depth = n


def _level(level) -> str:
    if level.is_root():
        return "root"
    if level.is_inlined():
        return "inlined"
    return f"{user_name(level.func)}.{level.var}"


def reaches(env, start, goal_syms: set) -> list | None:
    """A chain of Funcs by which `start` calls one of `goal_syms`, or None."""
    seen = set()
    stack = [(start, [start])]
    while stack:
        fn, path = stack.pop()
        for sym in direct_callees(fn):
            if sym in goal_syms:
                return path + [env[sym]]
            if sym not in seen and sym in env:
                seen.add(sym)
                stack.append((env[sym], path + [env[sym]]))
    return None


def check_fused_groups(env: dict, outputs: list, order: list) -> tuple:
    """Validate every compute_with (Halide's rules, as ScheduleErrors naming
    the stages) and return (the realization order with each fused group's
    Funcs next to each other, parents first; the groups)."""
    stages = fused_stages(env)
    if not stages:
        return order, []
    for st in stages.values():
        if st.parent is not None:
            check_pair(st, outputs)
    edges = {(st.fn.sym, st.parent.fn.sym): st for st in stages.values() if st.parent is not None}
    for (child, parent), st in edges.items():
        if (parent, child) in edges:
            raise ScheduleError(f"Found cyclic dependencies between compute_with of "
                                f"{user_name(st.parent.fn)} and {user_name(st.fn)}: each is computed with "
                                f"the other ({st} with {st.parent}, {edges[(parent, child)]} with "
                                f"{edges[(parent, child)].parent})")
    groups = fused_groups(stages)
    _check_levels_inside(env, stages)
    for group in groups:
        syms = {fn.sym for fn in group}
        for fn in group:
            path = reaches(env, fn, syms - {fn.sym})
            if path is not None:
                raise ScheduleError(
                    "Invalid compute_with: the Funcs of a fused group must not depend on each other, "
                    f"but {' calls '.join(user_name(f) for f in path)} (fused group: "
                    f"{', '.join(user_name(f) for f in group)})")
        for fn in group:
            roots = [k for k in range(len(fn.stages())) if tree_root(stages.get((fn.sym, k))) is not None]
            trees = [tree_root(stages.get((fn.sym, k))) for k in roots]
            if len(set(map(id, trees))) != len(trees):
                raise ScheduleError(f"Invalid compute_with: two stages of {user_name(fn)} are in one fused "
                                    f"loop nest; pipelang fuses one stage of each Func per loop nest")
    return _order(env, order, groups), groups


def _check_levels_inside(env, stages) -> None:
    """No Func may be computed or stored inside a fused loop, except computed
    and stored at the innermost fused loop of the stage it names (it is then
    part of that stage's own work there). Halide allows more (at any of the
    parent's fused loops); pipelang does not build that."""
    fused: dict = {}            # (fn symbol, var name) -> (the stage whose fused loop it is, innermost?)
    for st in stages.values():
        n = max([st.depth] + [c.depth for c in st.children])
        for i, d in enumerate(st.dims_outer_first()[:n]):
            fused[(st.fn.sym, d.var)] = (st, i == n - 1)
    for fn in env.values():
        sched = fn.schedule
        store = sched.store_level if not sched.store_level.is_inlined() else sched.compute_level
        for what, level in (("computed", sched.compute_level), ("stored", sched.store_level),
                            ("hoisted", sched.hoist_storage_level)):
            if level.is_root() or level.is_inlined():
                continue
            hit = next((v for (sym, var), v in fused.items()
                        if sym is level.func.sym and _matches(var, level.var)), None)
            if hit is None:
                continue
            st, innermost = hit
            if innermost and what != "hoisted" and store == sched.compute_level:
                continue
            raise ScheduleError(
                f"{user_name(fn)} is {what} at {user_name(level.func)}.{level.var}, a loop that "
                f"{st} shares with other stages through compute_with. pipelang places a Func "
                f"inside fused loops only where it is both computed and stored at the innermost "
                f"fused loop: compute {user_name(fn)} there, outside the fused loops (for example "
                f"compute_root()), or at a loop of {user_name(level.func)} that is not fused")


def tree_root(st):
    while st is not None and st.parent is not None:
        st = st.parent
    return st


def parents_first(group, index) -> list:
    """A group's Funcs, each after the Funcs its stages are computed with
    (Halide nests the parent's produce outermost), else in realization order."""
    parents = {fn.sym: set() for fn in group}
    for fn in group:
        for d in fn.stages():
            if d.schedule.fuse_level is not None and d.schedule.fuse_level.func.sym in parents:
                parents[fn.sym].add(d.schedule.fuse_level.func.sym)
    out, done = [], set()
    rest = sorted(group, key=lambda f: index[f.sym])
    while rest:
        fn = next((f for f in rest if parents[f.sym] <= done), rest[0])
        rest.remove(fn)
        done.add(fn.sym)
        out.append(fn)
    return out


def _order(env, order: list, groups: list) -> list:
    """A realization order (producers first) with each group contiguous:
    a topological sort of the graph with each group as one node, ties broken
    by the original order. Within a group, Funcs whose stage-0 is a fused
    root come first (the outermost produce in the unfused nest)."""
    index = {fn.sym: i for i, fn in enumerate(order)}
    node_of = {fn.sym: ("f", fn.sym) for fn in order}
    members = {("f", fn.sym): [fn] for fn in order}
    for gi, group in enumerate(groups):
        key = ("g", gi)
        for fn in group:
            del members[node_of[fn.sym]]
            node_of[fn.sym] = key
        members[key] = parents_first(group, index)
    deps = {key: set() for key in members}
    for key, fns in members.items():
        for fn in fns:
            for sym in direct_callees(fn):
                if sym in node_of and node_of[sym] != key:
                    deps[key].add(node_of[sym])
    done: list = []
    placed: set = set()
    pending = sorted(members, key=lambda k: min(index[f.sym] for f in members[k]))
    while pending:
        for key in pending:
            if deps[key] <= placed:
                break
        else:
            raise ScheduleError("Invalid compute_with: the fused groups "
                                "depend on each other in a cycle")
        pending.remove(key)
        placed.add(key)
        done.extend(members[key])
    return done
