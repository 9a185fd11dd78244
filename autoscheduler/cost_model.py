"""An analytic cost model: the predicted run time of a `State`, in CPU cycles
(summed over stages, so partial states price cheaply), from per-stage
features computed with the DAG's bounds:

- compute: points computed (redundant halo work of strip and tile members
  included) x arithmetic per point after inlining, divided by the vector
  width used and by the parallel speed-up (idle cores in the last wave of
  tasks count);
- memory: bytes each realized Func writes and its consumers read, at cache or
  DRAM speed depending on the working set; loads of reduction accumulators
  that a register block keeps in registers;
- overheads: allocations and parallel task launches.

The constants are rough figures for a modern x86 core; ranking (not absolute
time) is what the search needs, and autotuning corrects what they miss.
"""
from __future__ import annotations

import math

import numpy as np

from pipelang import ir

from autoscheduler.dag import DAG, FuncNode

CYCLES_PER_VECTOR_OP = 1.0
STORE_OPS = 2.0
SCAN_LATENCY = 4.0          # cycles of a dependent vector op (the vectors in flight it takes)
DRAM_CYCLES_PER_BYTE = 0.3
CACHE_CYCLES_PER_BYTE = 0.03
L2_BYTES = 1 << 20
# A group's working set past L2 but within its share of the last-level cache.
L3_BYTES = 16 << 20
L3_CYCLES_PER_BYTE = 0.08
ALLOC_CYCLES = 300.0
# A buffer past malloc's mmap threshold comes back from the kernel as fresh
# pages: a page fault (and zeroing) per 4 KiB page touched. glibc raises the
# threshold to the size of a freed mapping (up to 32 MiB), so a buffer
# allocated again and again (a member per tile) faults once per thread, and
# a root buffer only past 32 MiB.
STACK_BYTES = 16 << 10
MMAP_THRESHOLD = 128 << 10
MMAP_THRESHOLD_MAX = 32 << 20
PAGE_FAULT_CYCLES = 3000.0


def page_faults(nbytes: float, floor: float = MMAP_THRESHOLD) -> float:
    return nbytes / 4096 * PAGE_FAULT_CYCLES if nbytes > floor else 0.0
TASK_CYCLES = 3000.0
PARALLEL_LOOP_CYCLES = 20000.0


def load_model(weights: str):
    """The learned model `weights` names: "" the shipped weights (the analytic
    model if none ship), "analytic" none, else a .npz from 'train'."""
    import os
    from autoscheduler.learned import DEFAULT_WEIGHTS, LearnedModel
    if weights == "analytic" or (not weights and not os.path.exists(DEFAULT_WEIGHTS)):
        return None
    path = weights or DEFAULT_WEIGHTS
    if not os.path.exists(path):
        from autoscheduler.params import AutoschedulerError
        raise AutoschedulerError(f"weights: no such file {path!r} (expected cost-model weights "
                                 f"written by 'pipelang-autoschedule train', or 'analytic')")
    return _cached_load(path, os.path.getmtime(path))


_LOADED: dict = {}             # (path, mtime) -> LearnedModel


def _cached_load(path, mtime):
    from autoscheduler.learned import LearnedModel
    key = (path, mtime)
    if key not in _LOADED:
        _LOADED[key] = LearnedModel.load(path)
    return _LOADED[key]


class CostModel:
    """Prices states of `dag`: the analytic sum of `terms`, or, given `learned`
    (a `learned.LearnedModel`), that model's weighting of the same terms."""

    def __init__(self, dag: DAG, learned=None, params=None):
        self.dag = dag
        self.learned = learned
        self.l2 = getattr(params, "last_level_cache_size", 0) or L2_BYTES
        self.mem = getattr(params, "balance", 40.0) / 40.0       # Mullapudi2016's balance
        self.p = max(1, dag.parallelism)
        self._ops_cache: dict = {}
        self._reach_cache: dict = {}
        self._reach_sorted: dict = {}
        self._group_cache: dict = {}       # (leader, its choice, members, group key) -> terms
        self._inputs = None
        self._shape_cache: dict = {}
        self._xext_cache: dict = {}
        self._rb_cache: dict = {}
        self.calls = {}            # (stage id, producer name) -> number of calls
        for node in dag.nodes:
            for s in node.stages:
                for sym, cs in s.calls.items():
                    if sym in dag.by_sym:
                        self.calls[id(s), dag.by_sym[sym].name] = len(cs)

    # ---------------------------------------------------------------- features

    def _ops(self, state, node: FuncNode, stage, memo) -> float:
        """Work per point of `stage` with its inlined producers expanded, counted as
        the compiler's common-subexpression elimination leaves it: each distinct
        inlined call (producer and arguments, composed through the inlining) once,
        each distinct load once. Index math counts a quarter (mostly hoisted)."""
        inlined = frozenset(n for n, c in state.items() if c.place == "inline")
        key = (node.name, stage.index, inlined & self._reach(node))
        hit = self._ops_cache.get(key)
        if hit is not None:
            return hit
        seen_calls: set = set()
        loads: set = set()
        loads_args: dict = {}
        total = [stage.value_ops + 0.25 * (stage.ops - stage.value_ops)]

        def walk(calls: dict, mapping: dict, depth: int):
            for sym, cs in calls.items():
                prod = self.dag.by_sym.get(sym)
                for c in cs:
                    args = tuple(ir.substitute(mapping, a) for a in c.args) if mapping else c.args
                    k = (sym, tuple(ir.to_string(a) for a in args))
                    if prod is None or prod is node or prod.name not in inlined or depth > 8:
                        loads.add(k)
                        loads_args[k] = (sym, args)
                        continue
                    if k in seen_calls:
                        continue
                    seen_calls.add(k)
                    ps = prod.stages[0]
                    total[0] += ps.value_ops + 0.25 * (ps.ops - ps.value_ops)
                    from pipelang.var import var_symbol
                    walk(ps.calls, {var_symbol(v): a for v, a in zip(prod.args, args)}, depth + 1)

        walk(stage.calls, {}, 0)
        ops = total[0] + len(loads)
        # A load whose address moves with the vectorized x along another dim than
        # the producer's first (a transpose read in place) is a gather: about
        # half a cycle per lane rather than one vector load.
        if node.args and self.dag.vector_width(node) > 1:
            from pipelang.var import var_symbol
            xs = var_symbol(node.args[0])
            for sym, args in loads_args.values():
                if any(xs in ir.free_symbols(a) for a in args[1:]):
                    ops += 0.5 * self.dag.vector_width(node)
        self._ops_cache[key] = ops
        return ops

    def _reach(self, node: FuncNode) -> frozenset:
        """Names of every Func `node` reads, directly or not."""
        hit = self._reach_cache.get(node.name)
        if hit is None:
            out = set()
            for s in node.stages:
                for sym in s.calls:
                    p = self.dag.by_sym.get(sym)
                    if p is not None and p is not node:
                        out.add(p.name)
                        out |= self._reach(p)
            hit = self._reach_cache[node.name] = frozenset(out)
        return hit

    def _tasks(self, node, tiling) -> float:
        """Parallel tasks of a leader, fractional where a guarded last task is
        short (two strips of 64 over 81 rows are 1.27 tasks of work)."""
        ext = [e for _, e in node.region]
        if not ext:
            return 1
        kind = tiling[0] if tiling else "flat"
        if kind == "strips":
            if len(ext) < 2:
                return ext[0] / min(tiling[1], ext[0])
            planes = math.prod(ext[2:]) if len(tiling) > 2 else 1
            return ext[1] / min(tiling[1], ext[1]) * planes
        if kind == "tiles":
            from autoscheduler.space import strips_fit
            return ext[1] / min(tiling[2], ext[1]) * (1 if strips_fit(node) else math.prod(ext[2:]))
        from autoscheduler.space import parallel_tasks
        if kind == "regblock":
            if len(ext) == 2 and ext[1] >= 8 * tiling[2]:    # panels of 4 blocks, all fused
                return -(-ext[0] // (tiling[1] * self.dag.vector_width(node))) * \
                    -(-ext[1] // (4 * tiling[2]))
            return parallel_tasks([-(-ext[1] // tiling[2])] + ext[2:], self.p)
        if kind == "columns":
            return ext[0] / min(tiling[1], ext[0]) * math.prod(ext[2:])
        # flat (an rfactor's pure stage too): the outer loops, fused while short
        return parallel_tasks(ext[1:], self.p) if len(ext) >= 2 else 1

    def _member_shape(self, state, node, leader, c, lt, vec, tasks, gmemo):
        """(redundancy, allocations, bytes in use at once) of a strip, tile or
        register-block member: the region one iteration of its leader's loop
        needs (the DAG's footprints through the group), times the iterations,
        over what the Func computes at root."""
        from autoscheduler.space import group_region, leader_box, region_points, slides
        points = max(1, node.points())
        bpp = node.bytes_per_point
        if lt[0] == "regblock" and c.place == "tile" and \
                self._regblock_member(leader) is node:
            lx = leader.region[0][1]
            ly = leader.region[1][1] if len(leader.region) > 1 else 1
            bx, by = lt[1] * vec, lt[2]        # ShiftInwards blocks overlap at the edge
            redundancy = (-(-lx // bx) * bx / lx) * (-(-ly // by) * by / ly)
            return redundancy, tasks * max(1, -(-lx // bx)), bx * by * bpp
        key = (node.name, leader.name, c.place, lt, self._group_key(state, leader))
        hit = self._shape_cache.get(key)
        if hit is not None:
            return hit
        xext = [node.region[0][1] if node.region else 1]

        def region(what):
            box, its = leader_box(self.dag, leader, lt, what)
            memo = gmemo.setdefault((leader.name, what), {})
            reg = group_region(self.dag, state, node, leader, box, memo)
            if reg:
                xext[0] = reg[0][1] - reg[0][0] + 1
            return region_points(reg), its

        if c.place == "row" and lt[0] == "strips" and slides(self.dag, state, node, leader):
            per_strip, its = region("tile")
            per_row, _ = region("row")
            out = (max(1.0, per_strip * its / points), its, per_row * 2 * bpp)
        else:
            per, its = region(c.place)
            out = (max(1.0, per * its / points), its, per * bpp)
        self._shape_cache[key] = out
        self._xext_cache[key] = xext[0]
        return out

    def member_x_extent(self, state, node, leader, c, lt) -> int:
        """x points of `node` one iteration of its leader's loop computes."""
        key = (node.name, leader.name, c.place, lt, self._group_key(state, leader))
        return self._xext_cache.get(key, node.region[0][1] if node.region else 1)

    def _regblock_member(self, leader):
        if leader.name not in self._rb_cache:
            from autoscheduler.heuristic import regblock_member
            self._rb_cache[leader.name] = regblock_member(self.dag, leader)
        return self._rb_cache[leader.name]

    def _group_key(self, state, leader) -> tuple:
        """The choices that shape `leader`'s group: those of the Funcs it reads."""
        names = self._reach_sorted.get(leader.name)
        if names is None:
            names = self._reach_sorted[leader.name] = sorted(self._reach(leader))
        return tuple(state[n].place for n in names)

    @staticmethod
    def _efficiency(tasks: float, p: int) -> float:
        """Busy fraction of `p` cores running `tasks` (fractional: a short last task)."""
        if tasks <= 0:
            return 1.0 / p
        waves = math.ceil(tasks / p - 1e-9)
        return tasks / (waves * p)

    def allocated_bytes(self, state: dict) -> float:
        """Bytes the schedule allocates at once: whole root Funcs, plus one strip or
        tile buffer per member for each core working at the same time."""
        from autoscheduler.space import group_leaders
        total = 0.0
        gmemo: dict = {}
        leads = group_leaders(self.dag, state)
        for node in self.dag.nodes:
            c = state[node.name]
            if c.place == "inline" or node.is_output:
                continue
            nbytes = float(node.points() * node.bytes_per_point)
            if c.place == "root":
                total += nbytes
                continue
            leader = leads[node.name]
            lt = state[leader.name].tiling if leader is not None else None
            if not lt or len(node.region) < 2:
                total += nbytes
                continue
            _, _, footprint = self._member_shape(state, node, leader, c, lt,
                                                 self.dag.vector_width(node),
                                                 self._tasks(leader, lt), gmemo)
            total += footprint * self.p
        return total

    # ---------------------------------------------------------------- cost

    def cost(self, state: dict) -> float:
        """The analytic prediction: the sum of the cost terms, in cycles."""
        t = self.terms(state)
        if not math.isfinite(t[0]):
            return float("inf")
        return self.learned.cost(t) if self.learned is not None else float(t @ ANALYTIC_WEIGHTS)

    def terms(self, state: dict) -> np.ndarray:
        """The state's cost terms (`TERMS`), each summed over stages: the
        features of the learned model, whose analytic weights are `ANALYTIC_WEIGHTS`.

        Priced per group (a root Func and the Funcs computed in its loops): a
        group's terms depend only on its leader's tiling, which Funcs it holds
        and the choices of the Funcs its leader reads, so a search that
        changes one Func re-prices only the groups that change."""
        from autoscheduler.space import group_leaders
        dag = self.dag
        leads = group_leaders(dag, state)
        groups: dict = {}
        for node in dag.nodes:
            if state[node.name].place == "inline":
                continue
            leader = leads[node.name]
            if leader is None:
                return np.full(len(TERMS), float("inf"))
            groups.setdefault(leader.name, []).append(node)
        T = self._input_terms().copy()
        for lname, nodes in groups.items():
            leader = dag.node(lname)
            gkey = self._group_key(state, leader)
            key = (lname, state[lname], tuple(n.name for n in nodes), gkey)
            hit = self._group_cache.get(key)
            if hit is None:
                hit = self._group_cache[key] = self._group_terms(state, leader, nodes, leads)
            T += hit
        return T

    def _input_terms(self) -> np.ndarray:
        if self._inputs is None:
            dag = self.dag
            T = np.zeros(len(TERMS))
            # Inputs are read once from memory at least.
            for sym, owner in dag.inputs.items():
                n = 1
                for d in range(owner.dimensions()):
                    n *= dag.env.get(ir.buffer_extent(sym, d), 1)
                T[INPUTS] += n * owner.type().bytes() * DRAM_CYCLES_PER_BYTE * self.mem / \
                    min(self.p, 2)
            self._inputs = T
        return self._inputs

    def _group_terms(self, state: dict, leader: FuncNode, nodes: list, leads: dict) -> np.ndarray:
        """The terms of the group `leader` leads (`nodes`: it and its members)."""
        dag, p = self.dag, self.p
        memo: dict = {}
        gmemo: dict = {}
        T = np.zeros(len(TERMS))
        # The working set of the group: its members' buffers in use at once.
        group_bytes: dict = {}
        lt = state[leader.name].tiling
        if lt:
            for node in nodes:
                c = state[node.name]
                if c.place not in ("row", "tile", "vector"):
                    continue
                _, _, fb = self._member_shape(state, node, leader, c, lt, dag.vector_width(node),
                                              self._tasks(leader, lt), gmemo)
                group_bytes[leader.name] = group_bytes.get(leader.name, 0.0) + fb
        for node in nodes:
            c = state[node.name]
            T[REALIZED] += 1
            vec = dag.vector_width(node)
            points = float(node.points())
            redundancy, tasks, alloc = 1.0, 1, 1
            footprint = 0.0          # bytes of a member's buffer in use at once
            leader = leads[node.name]
            if leader is None:
                T[:] = float("inf")
                return T
            lt = state[leader.name].tiling
            tasks = self._tasks(leader, lt)
            if c.place in ("row", "tile", "vector") and lt:
                redundancy, alloc, footprint = self._member_shape(state, node, leader, c, lt, vec,
                                                                  tasks, gmemo)
            par = self._efficiency(tasks, p) * p if tasks > 1 else 1.0
            T[IDLE] += points * (1.0 - par / p) / p
            x_ext = node.region[0][1] if node.region else 1
            for st in node.stages:
                ops = self._ops(state, node, st, memo)
                n = points * redundancy
                if st.index:          # an update iterates its own pure vars and its RVars
                    n = redundancy * math.prod(node.extent(v) for v in st.pure) * \
                        math.prod(max(1, e) for _, _, e, _ in st.rvars)
                x = node.args[0] if node.args else None
                vectorized = x is not None and x_ext >= vec and (st.index == 0 or x in st.free_pure)
                lanes = vec if vectorized else 1
                stage_par = par if st.index == 0 or (c.place == "root" and any(
                    v != x for v in st.free_pure)) or c.place != "root" else 1.0
                if st.index and c.place == "root" and not st.free_pure:
                    stage_par = 1.0
                if st.index and lt and lt[0] == "rfactor":
                    from autoscheduler.space import rfactor_stage, rfactor_tasks
                    if rfactor_stage(dag, node) is st:
                        rt = rfactor_tasks(dag, node)
                        stage_par = self._efficiency(rt, p) * p if rt > 1 else 1.0
                        lanes = vec
                        T[ALLOC] += ALLOC_CYCLES
                        T[PARALLEL] += PARALLEL_LOOP_CYCLES + TASK_CYCLES * rt
                # + the store of each point computed, and a pass's loop overhead.
                compute = n * (ops + STORE_OPS) * CYCLES_PER_VECTOR_OP / lanes
                accum = 0.0
                if st.rvars and st.pure:
                    if lt and lt[0] == "regblock" or c.place == "vector":
                        # Accumulators stay in registers; a register block also
                        # reuses each load across its rows or vectors, one vector
                        # per leader's vector does not.
                        compute *= 0.5 if c.place != "vector" else 0.75
                        T[REGBLOCK] += compute / max(stage_par, 1.0)
                    else:
                        accum = n * 2 * node.bytes_per_point * CACHE_CYCLES_PER_BYTE * 4 * self.mem
                        # Each RVar step waits for the last unless enough vectors
                        # of x run side by side (a scan or a sum per column of a
                        # narrow tile is latency-bound).
                        if lanes > 1 and st.index:
                            xe = x_ext if c.place == "root" else \
                                self.member_x_extent(state, node, leader, c, lt)
                            compute *= max(1.0, SCAN_LATENCY / max(1.0, xe / lanes))
                sp = max(stage_par, 1.0)
                if st.index and c.place == "root" and points * node.bytes_per_point > self.l2 * p:
                    # An update pass over a root buffer past the caches streams it
                    # from memory again (a member's passes stay in its tile).
                    T[ROOT_DRAM] += n * node.bytes_per_point * 2 * DRAM_CYCLES_PER_BYTE * \
                        self.mem / min(p, 2)
                if st.index:
                    T[UPDATE_PAR if sp > 1 else UPDATE_SERIAL] += compute / sp
                    T[ACCUM] += accum / sp
                else:
                    T[COMPUTE_VEC if lanes > 1 else COMPUTE_SCALAR] += compute / sp
                    T[ACCUM] += accum / sp
                T[REDUNDANT] += compute * (1 - 1 / redundancy) / sp
                T[POINTS] += n / sp
            # Memory: what it stores, read back by its consumers.
            nbytes = points * node.bytes_per_point
            if c.place == "root":
                dram = nbytes > self.l2 * p
                per = (DRAM_CYCLES_PER_BYTE if dram else CACHE_CYCLES_PER_BYTE) * self.mem
                readers = max(1, len(node.consumers))
                T[ROOT_DRAM if dram else ROOT_CACHE] += nbytes * per * (1 + readers) / min(p, 2)
                T[ALLOC] += ALLOC_CYCLES + (0.0 if node.is_output else page_faults(nbytes, MMAP_THRESHOLD_MAX))
                if tasks > 1:
                    T[PARALLEL] += PARALLEL_LOOP_CYCLES + TASK_CYCLES * tasks
            else:
                ws = max(footprint, group_bytes.get(leader.name, 0.0))
                dram = ws > L3_BYTES / (2 * p)
                per = (DRAM_CYCLES_PER_BYTE if dram else L3_CYCLES_PER_BYTE if ws > self.l2 / 2
                       else CACHE_CYCLES_PER_BYTE) * self.mem
                T[MEMBER_DRAM if dram else MEMBER_CACHE] += nbytes * redundancy * per * 2 / max(par, 1.0)
                # Small buffers live on the stack (the backend's STACK_LIMIT).
                per_alloc = ALLOC_CYCLES if footprint > STACK_BYTES else ALLOC_CYCLES / 30
                T[ALLOC] += (per_alloc * alloc + page_faults(footprint) * min(alloc, p)) / max(par, 1.0)
        return T


# The cost terms, each a sum over stages. The analytic model adds the first
# ones (cycles) with weight 1; the rest are extra features (counts, parts of
# the terms above) that only a learned model weighs.
TERMS = ("compute_vec", "compute_scalar", "update_par", "update_serial", "accum", "root_dram",
         "root_cache", "member_cache", "member_dram", "alloc", "parallel", "inputs",
         # extra features, analytic weight 0:
         "redundant", "regblock", "points", "realized", "idle")
(COMPUTE_VEC, COMPUTE_SCALAR, UPDATE_PAR, UPDATE_SERIAL, ACCUM, ROOT_DRAM, ROOT_CACHE,
 MEMBER_CACHE, MEMBER_DRAM, ALLOC, PARALLEL, INPUTS, REDUNDANT, REGBLOCK, POINTS, REALIZED,
 IDLE) = range(len(TERMS))
ANALYTIC_WEIGHTS = np.array([1.0] * (INPUTS + 1) + [0.0] * (len(TERMS) - INPUTS - 1))
