"""Automatic differentiation: `hl.propagate_adjoints` and `hl.Derivative` (Halide's names).

    d = hl.propagate_adjoints(loss)        # loss: a Func of size 1
    d[f]            # adjoint of f's pure definition
    d[f, k]         # adjoint of f after its update k
    d[buffer]       # gradient with respect to an input Buffer or ImageParam
    d[param]        # gradient with respect to a scalar Param (a 0-D Func)

Each is a Func, scheduled by a safe default (see `default_schedule`) and
reschedulable by hand. `propagate_adjoints(output, adjoint_buffer)` and
`propagate_adjoints(output, adjoint_func, [(min, extent), ...])` seed the
adjoint of a multi-dimensional output.
"""
from __future__ import annotations

from pipelang.autodiff.errors import NotDifferentiableError
from pipelang.autodiff.propagate import build


class Derivative:
    """The adjoint Funcs of a pipeline, indexed like Halide's `Derivative`."""

    def __init__(self, adjoints: dict):
        self._adjoints = adjoints

    def __getitem__(self, key):
        from pipelang.func import Func
        update_id = -1
        if isinstance(key, tuple):
            key, update_id = key
        name = key if isinstance(key, str) else key.name()
        if isinstance(key, Func) and update_id < -1:
            raise IndexError(f"Func {name} has no update {update_id}")
        f = self._adjoints.get((name, update_id))
        # Halide returns an undefined Func for what the output does not depend on.
        return f if f is not None else Func()

    def __call__(self, key, update_id: int = -1):
        return self[key, update_id]

    def __repr__(self) -> str:
        return f"<pipelang.Derivative of {len(self._adjoints)} adjoints>"


def propagate_adjoints(output, adjoint=None, output_bounds=None) -> Derivative:
    """The adjoints of everything `output` depends on (Halide's three overloads):

    - `propagate_adjoints(output)`: `output` has size 1; its adjoint is 1.
    - `propagate_adjoints(output, adjoint)`: `adjoint` is a Buffer over `output`'s region.
    - `propagate_adjoints(output, adjoint, bounds)`: `adjoint` is a Func, `bounds`
      the output's region as `[(min, extent), ...]`.
    """
    return Derivative(build(output, adjoint, output_bounds))


def autoschedule_gradients(outputs, target=None, params=None):
    """One Pipeline of gradient Funcs, scheduled by the autoscheduler.

    `outputs` is a list of `(func, extents)` (the region each will be
    realized over, from 0; it becomes the Func's estimates) or of Funcs whose
    estimates are set. The default schedule's register blocking is undone
    first, so the autoscheduler sees the algorithm `propagate_adjoints` wrote;
    Funcs of the forward pipeline that the gradients read are scheduled
    too. `params` defaults to Li2018 (Halide's gradient autoscheduler; here
    the autoscheduler's greedy heuristic) with one task per CPU core; pass
    `AutoschedulerParams("Adams2019", ...)` for its beam search. Returns
    the Pipeline (realize it with one Buffer per output)::

        d = hl.propagate_adjoints(loss)
        p = autoschedule_gradients([(d[w], [K, 3, 3, C]), (d[b], [K])])
        p.realize([dw_buffer, db_buffer])
    """
    import os

    from pipelang.autodiff.default_schedule import undo_register_blocking
    from pipelang.function import registry
    from pipelang.lowering.analysis.environment import find_environment
    from pipelang.pipeline import Pipeline
    funcs = []
    for o in outputs:
        f, extents = o if isinstance(o, tuple) else (o, None)
        if extents is not None:
            f.set_estimates([(0, e) for e in extents])
        funcs.append(f)
    _, order = find_environment([f.function for f in funcs], registry)
    undo_register_blocking(order)
    if params is None:
        from pipelang import AutoschedulerParams
        params = AutoschedulerParams("Li2018", {"parallelism": os.cpu_count() or 1})
    p = Pipeline(funcs)
    p.apply_autoscheduler(target, params)
    return p


__all__ = ["Derivative", "propagate_adjoints", "autoschedule_gradients", "NotDifferentiableError"]
