"""A safe default schedule for gradient pipelines (until the autoscheduler takes them).

Every adjoint Func is computed at the root, so each is evaluated once, as
Li 2018's conservative "-O1" does. Pure definitions are parallel over their
outermost dimension and vectorized along the innermost; an update is parallel
over its outermost pure var that stays in place on its left-hand side (each
iteration writes its own points, so there is no race). Scatters over RDoms
stay serial. Users reschedule any of them by hand like any Func.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.schedule import TailStrategy
from pipelang.target import get_host_target


def schedule_adjoints(funcs) -> None:
    target = get_host_target()
    for f in funcs:
        fn = f.function
        f.compute_root()
        args = f.args()
        if args:
            lanes = target.natural_vector_size(fn.output_types[0])
            # GuardWithIf: no point outside the region is computed, so no input
            # is read past what the forward pipeline reads.
            f.vectorize(args[0], lanes, TailStrategy.GuardWithIf)
            if len(args) >= 2:
                f.parallel(args[-1])
        for k, u in enumerate(fn.updates):
            in_place = [a for i, a in enumerate(u.args)
                        if isinstance(a, ir.Variable) and a.sym.name == fn.args[i]]
            if in_place and (len(args) >= 2 or u.rvars):
                f.update(k).parallel(args[fn.args.index(in_place[-1].sym.name)])
            else:
                f.update(k).unscheduled()
