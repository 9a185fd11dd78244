"""The default schedule of gradient pipelines (Li 2018's "-O1", register-blocked).

Every adjoint Func is computed at the root, so each is evaluated once.
Pure definitions are vectorized along the innermost dimension and parallel
over the outermost.

Updates that reduce over RVars into points they keep in place (a conv's
weight gradient sums over x, y, n into each (k, rx, ry, c); its input
gradient sums over (rx, ry, k) into each (c, x, y, n)) are register-blocked
as Halide's conv_layer app is: when the Func's extents are known (from the
input buffer it is the gradient of, or the region the output needs) and a
tile divides them, the update is `rfactor`ed into an intermediate Func
computed per tile of `lanes * tw` points of the innermost dimension by `th`
of another, whose reduction runs with the RVars outside and the tile
innermost, vectorized and unrolled, so the `tw * th` accumulators stay in
vector registers. The tile divides the known extents, so no tail is
computed; realizing such a Func over a region the tile does not divide
reads a tile past it (bounds inference then asks inputs for more, which
their bounds checks refuse).

Other updates keep a vector of their innermost in-place dimension inside the
RVars, guarded (the `unswitch_loops` pass lifts the guard out of the RVar
loops); scatters along an RVar stay serial. Users reschedule any of them by
hand, or autoschedule them (`pipelang.autodiff.autoschedule_gradients`).
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.rdom import RVar
from pipelang.schedule import TailStrategy
from pipelang.target import get_host_target
from pipelang.var import Var

Guard = TailStrategy.GuardWithIf

# Function symbol -> (update index, its definition before the default
# schedule's rfactor), so that `undo_register_blocking` can give the
# autoscheduler the algorithm as propagate_adjoints wrote it.
_rfactored: dict = {}


def schedule_adjoints(funcs, extents=None) -> None:
    """Schedule every Func in `funcs`; `extents` maps a Func's name to its
    [(min, extent)] (constants) where known."""
    target = get_host_target()
    extents = extents or {}
    for f in funcs:
        fn = f.function
        f.compute_root()
        args = f.args()
        lanes = target.natural_vector_size(fn.output_types[0])
        if args:
            f.vectorize(args[0], lanes, Guard)
            if len(args) >= 2:
                f.parallel(args[-1])
        ext = extents.get(f.name())
        last = len(fn.updates) - 1
        for k, u in enumerate(fn.updates):
            if k == last and _register_block(f, fn, u, ext, lanes):
                continue
            _schedule_update(f.update(k), fn, u, args, lanes)


def _in_place(fn, u) -> list:
    """Dimensions each point of which update `u` writes only from itself."""
    return [i for i, a in enumerate(u.args)
            if isinstance(a, ir.Variable) and a.sym.name == fn.args[i]]


def _schedule_update(stage, fn, u, args, lanes) -> None:
    in_place = _in_place(fn, u)
    if not in_place:
        stage.unscheduled()
        return
    if in_place[0] == 0:
        outer, inner = Var(f"{fn.args[0]}_vo"), Var(f"{fn.args[0]}_vi")
        stage.split(args[0], outer, inner, lanes, Guard)
        stage.reorder(inner, *[RVar(r.name) for r in u.rvars], outer)
        stage.vectorize(inner)
    if len(in_place) >= 2 or (u.rvars and in_place[-1] != 0):
        stage.parallel(args[in_place[-1]])


def _tile(ext, in_place, lanes, registers):
    """(tw, d1, th): `tw` vectors along dimension 0 by `th` points along d1
    (None: no second dimension), or None where no tile divides the extents."""
    e0 = ext[0][1]
    if e0 % lanes:
        return None
    tw = next(t for t in (4, 3, 2, 1) if e0 % (lanes * t) == 0)
    best = (tw, None, 1)
    budget = registers - tw - 2          # the loaded vectors and a broadcast
    for d in in_place[1:]:
        e = ext[d][1]
        if e is None:
            continue
        th = next((t for t in range(min(budget // tw, 8), 1, -1) if e % t == 0), 1)
        if th > best[2]:
            best = (tw, d, th)
    return best


def _register_block(f, fn, u, ext, lanes) -> bool:
    """Schedule the last update of `f` as register tiles; False where it doesn't apply."""
    in_place = _in_place(fn, u)
    # Every dimension in place (a gather): a scatter's tile would not be its own.
    if (not u.rvars or ext is None or len(in_place) != len(fn.args) or not in_place
            or len(fn.output_types) != 1 or ext[0][1] is None):
        return False
    registers = 32 if lanes * fn.output_types[0].bytes() >= 64 else 16
    tile = _tile(ext, in_place, lanes, registers)
    if tile is None:
        return False
    tw, d1, th = tile
    args = f.args()
    stage = f.update(len(fn.updates) - 1)
    original = fn.updates[-1]
    try:
        intm = stage.rfactor([])
    except ScheduleError:
        return False                     # not an associative reduction
    _rfactored[fn.sym] = (len(fn.updates) - 1, original)
    o0, t0 = Var(f"{fn.args[0]}_to"), Var(f"{fn.args[0]}_ti")
    stage = f.update(len(fn.updates) - 1)
    stage.split(args[0], o0, t0, lanes * tw, Guard)
    inner, outer = [t0], [o0]
    if d1 is not None:
        o1, t1 = Var(f"{fn.args[d1]}_to"), Var(f"{fn.args[d1]}_ti")
        stage.split(args[d1], o1, t1, th, Guard)
        inner.append(t1)
        outer.append(o1)
    loops = [o0] + [outer[1] if d == d1 else args[d] for d in in_place[1:]]
    stage.reorder(*inner, *loops)
    if len(loops) >= 3:
        # The two outermost loops as one parallel loop: more tasks than
        # either alone (a batch of 4 images is too few for 8 cores).
        fused = Var(f"{fn.name}_tiles")
        stage.fuse(loops[-2], loops[-1], fused)
        loops = loops[:-2] + [fused]
    stage.parallel(loops[-1])
    # The intermediate: one tile, accumulators in registers across the RVars.
    intm.compute_at(f, o0)
    iargs = intm.args()
    # The tile divides the extents: its region is constant (tails aside).
    intm.bound_extent(iargs[0], lanes * tw)
    if d1 is not None:
        intm.bound_extent(iargs[d1], th)
    intm.vectorize(iargs[0], lanes).unroll(iargs[0])
    istage = intm.update()
    rvars = [RVar(r.name) for r in intm.function.updates[0].rvars]
    tile_dims = [0] + ([d1] if d1 is not None else [])
    others = [d for d in range(len(iargs)) if d not in tile_dims]
    istage.reorder(*[iargs[d] for d in tile_dims + others], *rvars)
    istage.vectorize(iargs[0], lanes).unroll(iargs[0])
    if d1 is not None:
        intm.unroll(iargs[d1])
        istage.unroll(iargs[d1])
    return True


def undo_register_blocking(functions) -> None:
    """Put back the updates the default schedule rfactored, in `functions`."""
    from pipelang.function import touch
    for fn in functions:
        saved = _rfactored.pop(fn.sym, None)
        if saved is not None:
            k, original = saved
            fn.updates[k] = original
            touch()
