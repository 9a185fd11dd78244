"""Run a pipeline over dask arrays, chunk by chunk: `pipelang.dask.realize`.

    out = pipelang.dask.realize(blur, [width, height], inputs={img: big_dask_array})
    out.compute()          # or .to_zarr(...), on a dask.distributed cluster

Each output chunk is one task: the compiled pipeline realized over that
chunk's region, from exactly the input region the compiler's bounds
inference says the chunk needs (the halo comes from the compiler, not from
the user), with every buffer's min set to its global coordinates, so
boundary conditions and coordinate-dependent code give the same bits as one
big `realize`. The pipeline travels to workers as its serialized description
(`serialize_pipeline`), not as machine code; each worker process deserializes
and compiles it once (the on-disk compile cache makes that a lookup).

Dask is an optional dependency: `pip install pipelang[dask]`.
"""
from __future__ import annotations

import hashlib
import itertools

import numpy as np

from pipelang import ir
from pipelang.buffer import Buffer
from pipelang.errors import BufferError_, HalideError

__all__ = ["realize"]


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError as e:        # the extra is not installed
        raise ImportError("pipelang.dask needs dask: pip install 'pipelang[dask]'") from e
    return dask, da


def _pipeline(p):
    from pipelang.func import Func
    from pipelang.pipeline import Pipeline
    if isinstance(p, Pipeline):
        return p
    if isinstance(p, Func):
        return Pipeline(p)
    if isinstance(p, (list, tuple)) and all(isinstance(f, Func) for f in p):
        return Pipeline(list(p))
    raise TypeError(f"pipelang.dask.realize needs a Func, a list of Funcs or a Pipeline, "
                    f"not {type(p).__name__}")


def _bind_inputs(c, inputs: dict) -> dict:
    """{input Symbol: dask array}, checking names, dimensions and types."""
    _, da = _dask()
    by_name = {owner.name(): sym for sym, owner in c.arguments.inputs.items()}
    bound = {}
    for key, array in inputs.items():
        name = key if isinstance(key, str) else key.name()
        if name not in by_name:
            raise HalideError(f"pipelang.dask.realize: the pipeline has no input named {name!r} "
                              f"(its inputs: {', '.join(sorted(by_name)) or 'none'})")
        sym = by_name[name]
        owner = c.arguments.inputs[sym]
        if isinstance(owner, Buffer):
            raise HalideError(f"pipelang.dask.realize: {name} is a Buffer embedded in the algorithm; "
                              f"read it through an ImageParam to feed it from dask")
        if not isinstance(array, da.Array):
            array = da.from_array(np.asarray(array))
        if array.ndim != owner.dimensions():
            raise BufferError_(f"pipelang.dask.realize: input {name} has {owner.dimensions()} "
                               f"dimensions, but the dask array has {array.ndim} (shape {array.shape})")
        want = np.dtype(owner.type().numpy_dtype())
        if array.dtype != want:
            raise BufferError_(f"pipelang.dask.realize: input {name} has type {owner.type()} "
                               f"({want}), but the dask array holds {array.dtype}")
        bound[sym] = array
    for sym, owner in c.arguments.inputs.items():
        if sym not in bound and not isinstance(owner, Buffer):
            raise HalideError(f"pipelang.dask.realize: no dask array for input {owner.name()}: "
                              f"pass inputs={{{owner.name()!r}: array}}")
    return bound


def _region_env(c, out_syms, mins, extents, bound, params) -> dict:
    env = dict(params)
    for sym in out_syms:
        for d, (m, e) in enumerate(zip(mins, extents)):
            env[ir.buffer_min(sym, d)] = m
            env[ir.buffer_extent(sym, d)] = e
            env[ir.buffer_stride(sym, d)] = 1
    for sym, array in bound.items():
        stride = 1
        for d, e in enumerate(reversed(array.shape)):
            env[ir.buffer_min(sym, d)] = 0
            env[ir.buffer_extent(sym, d)] = int(e)
            env[ir.buffer_stride(sym, d)] = stride
            stride *= int(e)
    return env


def realize(pipeline, sizes, inputs=None, chunks=None):
    """A dask array (a list of them for several outputs or Tuple elements) of
    the pipeline's output over `sizes` (Halide's order, as for `realize`),
    shaped as `np.asarray(f.realize(sizes))` would be.

    `inputs` maps each ImageParam (or its name) to a dask array (any array is
    wrapped); `chunks` is the output's chunking in dask's own (numpy) axis
    order, by default the first input's chunk sizes. Params are read now.
    """
    from pipelang.lowering.analysis.evaluate import evaluate_expr
    from pipelang.lowering.names import buffer as buffer_of
    from pipelang.serialization import _type_str, serialize_pipeline
    dask, da = _dask()
    p = _pipeline(pipeline)
    sizes = [int(s) for s in sizes]
    c = p._compile()
    bound = _bind_inputs(c, dict(inputs or {}))
    outputs = [(fn, k) for fn in c.outputs for k in range(len(fn.output_types))]
    if any(len(fn.args) != len(sizes) for fn, _ in outputs):
        raise HalideError(f"pipelang.dask.realize: {len(sizes)} sizes for outputs of "
                          f"{', '.join(str(len(fn.args)) for fn, _ in outputs)} dimensions")
    shape = tuple(reversed(sizes))
    if chunks is None:
        chunks = next(iter(bound.values())).chunksize if bound else shape
        chunks = tuple(chunks[-len(shape):]) if len(chunks) >= len(shape) else shape
    chunks = da.core.normalize_chunks(chunks, shape)
    params = {sym: prm.get() for sym, prm in c.arguments.params.items()}
    names = {sym: c.arguments.inputs[sym].name() for sym in bound}
    param_values = {c.arguments.params[sym].name(): v for sym, v in params.items()}
    data = serialize_pipeline(p)
    key = hashlib.sha256(data).hexdigest()
    out_syms = [buffer_of(fn, k) for fn, k in outputs]
    types = [fn.output_types[k] for fn, k in outputs]
    starts = [np.cumsum((0,) + tuple(cs))[:-1] for cs in chunks]
    grid = np.empty(tuple(len(cs) for cs in chunks), dtype=object)
    per_output = [np.empty(grid.shape, dtype=object) for _ in outputs]
    run = dask.delayed(_run_block, pure=True)
    for idx in itertools.product(*[range(len(cs)) for cs in chunks]):
        np_start = [int(starts[a][i]) for a, i in enumerate(idx)]
        np_size = [int(chunks[a][i]) for a, i in enumerate(idx)]
        mins, extents = list(reversed(np_start)), list(reversed(np_size))
        env = _region_env(c, out_syms, mins, extents, bound, params)
        feeds = {}
        for sym, array in bound.items():
            box = c.regions.get(sym)
            if box is None:
                continue
            try:
                lo_hi = [(int(evaluate_expr(i.min, env)), int(evaluate_expr(i.max, env))) for i in box]
            except Exception as e:       # a bound read from data: not chunkable
                raise HalideError(f"pipelang.dask.realize: the region of {names[sym]} that a chunk "
                                  f"needs depends on data, so it can't be chunked ({e})") from e
            full = list(reversed(array.shape))
            lo_hi = [(max(lo, 0), min(hi, full[d] - 1)) for d, (lo, hi) in enumerate(lo_hi)]
            sl = tuple(slice(lo, max(hi + 1, lo)) for lo, hi in reversed(lo_hi))
            feeds[names[sym]] = (array[sl], [lo for lo, _ in lo_hi])
        block = run(data, key, param_values, feeds, mins, extents, [_type_str(t) for t in types],
                    dask_key_name=f"pipelang-{key[:12]}-{'-'.join(map(str, idx))}")
        for k, t in enumerate(types):
            per_output[k][idx] = da.from_delayed(block[k], tuple(np_size), dtype=t.numpy_dtype())
    arrays = [da.block(grid_k.tolist()) for grid_k in per_output]
    return arrays[0] if len(arrays) == 1 else arrays


# ---------------------------------------------------------------- on the workers

_loaded: dict = {}


def _load(data: bytes, key: str):
    """The deserialized pipeline and its Parameters, once per process."""
    if key not in _loaded:
        from pipelang.serialization import deserialize_parameters, deserialize_pipeline
        params = deserialize_parameters(data)
        _loaded[key] = (deserialize_pipeline(data, params), params)
    return _loaded[key]


def _run_block(data, key, param_values, feeds, mins, extents, type_names):
    p, params = _load(data, key)
    for name, value in param_values.items():
        params[name]._owner.set(value)
    for name, (array, lo) in feeds.items():
        b = Buffer(np.ascontiguousarray(array))
        b.set_min(lo)
        params[name]._owner.set(b)
    from pipelang.serialization import _type_of
    outs = []
    for name in type_names:
        b = Buffer(_type_of(name), extents)
        b.set_min(mins)
        outs.append(b)
    p.realize(outs if len(outs) > 1 else outs[0])
    return tuple(np.asarray(b) for b in outs)

