"""A safe default schedule for gradient pipelines (until the autoscheduler takes them).

Every adjoint Func is computed at the root, so each is evaluated once, as
Li 2018's conservative "-O1" does. Pure definitions are vectorized along the
innermost dimension and parallel over the outermost. An update whose
innermost dimension stays in place on its left-hand side (each point of it
written only by itself) keeps a vector of that dimension innermost, inside
its RVars, so the reduction accumulates in registers, and is parallel over its
outermost such dimension. Scatters along an RVar stay serial. Tails are
guarded, so no point outside a region is computed and no input is read past
what the forward pipeline reads. Users reschedule any of them by hand.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.rdom import RVar
from pipelang.schedule import TailStrategy
from pipelang.target import get_host_target
from pipelang.var import Var

Guard = TailStrategy.GuardWithIf


def schedule_adjoints(funcs) -> None:
    target = get_host_target()
    for f in funcs:
        fn = f.function
        f.compute_root()
        args = f.args()
        lanes = target.natural_vector_size(fn.output_types[0])
        if args:
            f.vectorize(args[0], lanes, Guard)
            if len(args) >= 2:
                f.parallel(args[-1])
        for k, u in enumerate(fn.updates):
            _schedule_update(f.update(k), fn, u, args, lanes)


def _schedule_update(stage, fn, u, args, lanes) -> None:
    in_place = [i for i, a in enumerate(u.args)
                if isinstance(a, ir.Variable) and a.sym.name == fn.args[i]]
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
