"""`hl.BoundaryConditions`: Funcs that extend a bounded source to all integers.

Each takes a `Buffer`, an `ImageParam`, or a `Func` with `bounds`
(`[(min, extent), ...]`; `None` leaves a dimension unbounded), and returns a
new Func that reads the source only inside those bounds, so bounds
inference never asks the source for more than it has.
"""
from __future__ import annotations

import itertools

from pipelang import operators as op
from pipelang.errors import CompileError
from pipelang.expr import Expr
from pipelang.var import Var

_counter = itertools.count()


def _undefined(e) -> bool:
    return isinstance(e, Expr) and not e.defined()


def _bounds(source, bounds):
    if bounds is not None:
        # None, or a pair of undefined Exprs (Halide's spelling), leaves a dimension unbounded.
        pairs = [None if x is None else tuple(x) for x in bounds]
        out = [None if b is None or (_undefined(b[0]) and _undefined(b[1])) else
               (Expr(b[0]) if not isinstance(b[0], Expr) else b[0],
                Expr(b[1]) if not isinstance(b[1], Expr) else b[1])
               for b in pairs]
        # As Halide: dimensions past the end of the list are left unbounded.
        dims = source.dimensions() if hasattr(source, "dimensions") else len(out)
        return out + [None] * (dims - len(out))
    if not hasattr(source, "dim"):
        raise CompileError("A boundary condition on a Func needs explicit bounds: "
                           "[(min, extent), ...] for each dimension")
    out = []
    for d in range(source.dimensions()):
        dim = source.dim(d)
        out.append((Expr(dim.min()), Expr(dim.extent())))
    return out


def _make(source, bounds, name, coord_fn, exterior=None):
    from pipelang.func import Func
    bounds = _bounds(source, bounds)
    # As Halide: a Func's boundary condition has the Func's own vars (so a
    # schedule can name them); a buffer's has _0, _1, ...
    own = list(source.args()) if isinstance(source, Func) and source.defined() else []
    args = own if len(own) == len(bounds) else [Var(f"_{i}") for i in range(len(bounds))]
    coords = []
    inside = None
    for x, b in zip(args, bounds):
        if b is None:
            coords.append(x)
            continue
        mn, ext = b
        coords.append(coord_fn(x, mn, ext))
        if exterior is not None:
            c = (x >= mn) & (x < mn + ext)
            inside = c if inside is None else inside & c
    src_name = source.name() if hasattr(source, "name") else "source"
    f = Func(f"{name}_{src_name}_{next(_counter)}")
    value = source[tuple(coords)]
    if exterior is not None and inside is not None:
        value = op.select(inside, value, exterior)
    f[tuple(args)] = value
    return f


def _clamp(x, mn, ext):
    return op.clamp(x, mn, mn + ext - 1)


# The parameter names are Halide's (`constant_exterior(f=..., exterior=..., bounds=...)`).

def repeat_edge(f, bounds=None):
    """Out-of-bounds reads return the nearest edge value."""
    return _make(f, bounds, "repeat_edge", _clamp)


def constant_exterior(f, exterior, bounds=None):
    """Out-of-bounds reads return `exterior`."""
    return _make(f, bounds, "constant_exterior", _clamp, exterior=exterior)


def repeat_image(f, bounds=None):
    """The source tiles the plane: 0 1 2 3 | 0 1 2 3."""
    def coord(x, mn, ext):
        return op.clamp((x - mn) % ext + mn, mn, mn + ext - 1)
    return _make(f, bounds, "repeat_image", coord)


def mirror_image(f, bounds=None):
    """Reflect, repeating the edge: 0 1 2 3 | 3 2 1 0."""
    def coord(x, mn, ext):
        t = (x - mn) % (ext * 2)
        t = op.select(t < ext, t, ext * 2 - 1 - t)
        return op.clamp(t + mn, mn, mn + ext - 1)
    return _make(f, bounds, "mirror_image", coord)


def mirror_interior(f, bounds=None):
    """Reflect about the edge without repeating it: 0 1 2 3 | 2 1 0."""
    def coord(x, mn, ext):
        limit = op.max(ext - 1, 1)
        t = (x - mn) % (limit * 2)
        # abs of an int32 is uint32 in Halide; bring it back to int32.
        t = limit - op.cast(t.type(), op.abs(t - limit))
        return op.clamp(t + mn, mn, mn + ext - 1)
    return _make(f, bounds, "mirror_interior", coord)
