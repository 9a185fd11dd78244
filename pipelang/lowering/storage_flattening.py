"""Storage flattening: multi-dimensional Funcs become flat buffers.

Runs after bounds inference, sliding window and storage folding. Each
`Realize` becomes an `Allocate` per Tuple element, each `Provide` a
`Store`, each `Call` a `Load` (and each `Prefetch` a `PrefetchAddress`), at the index
`sum((arg_d - min_d) * stride_d)`. Allocations are dense, in the Func's
storage order (`reorder_storage`); input and output buffers use the
strides passed in, with dimension 0 dense (Halide's default constraint, checked
before the call) except for the `strided` buffers: those whose `dim(0)` stride
the user constrained to something else or freed (`set_stride(Expr())`), and
Buffers embedded in the algorithm with a non-unit stride there.

    realize f([m0, e0], [m1, e1]) { f(x, y) = g(x, y) }
  =>
    allocate f[e0 * e1] { f[(x - m0) + (y - m1)*e0] = g[(x - g.min.0) + (y - g.min.1)*g.stride.1] }

A dimension whose realized extent is the constant 1 contributes no term.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering.names import buffer as buffer_symbol
from pipelang.schedule import MemoryType




# Func.store_in's memory types as allocations: the GPU and accelerator kinds
# are AUTO on the CPU, as in Halide's CPU backends.
_MEMORY = {MemoryType.Heap: ir.MemoryType.HEAP, MemoryType.Stack: ir.MemoryType.STACK,
           MemoryType.Register: ir.MemoryType.REGISTER}


def memory_of(fn) -> ir.MemoryType:
    """Where the allocation of Function `fn` goes (its `store_in`)."""
    return _MEMORY.get(fn.schedule.memory_type, ir.MemoryType.AUTO)


def _descriptor_index(sym, args, dense_x: bool = True, known=None) -> ir.Expr:
    def field(f, d):
        s = f(sym, d)
        value = known.get(s) if known else None
        return value if value is not None else ir.Variable(ir.Int(32), s)
    idx = None
    for d, a in enumerate(args):
        term = ir.Sub(a, field(ir.buffer_min, d))
        if d > 0 or not dense_x:
            term = ir.Mul(term, field(ir.buffer_stride, d))
        idx = term if idx is None else ir.Add(idx, term)
    return idx if idx is not None else ir.i32(0)


class _Flatten(ir.IRMutator):
    def __init__(self, env, outputs, strided, known):
        self.env = env
        self.strided = strided
        self.known = known
        self.outputs = {o.sym for o in outputs}
        self.layouts: dict = {}      # Func symbol -> (storage order of arg positions, mins, strides)

    def _index(self, fn_sym, args) -> ir.Expr:
        layout = self.layouts.get(fn_sym)
        if layout is None:
            return _descriptor_index(fn_sym, args, fn_sym not in self.strided, self.known)
        mins, strides = layout
        idx = None
        for a, mn, st in zip(args, mins, strides):
            if mn is None:
                continue
            term = ir.Sub(a, mn)
            if not ir.is_const(st, 1):
                term = ir.Mul(term, st)
            idx = term if idx is None else ir.Add(idx, term)
        return idx if idx is not None else ir.i32(0)

    def mutate_Realize(self, node):
        fn = self.env[node.fn]
        order = [fn.args.index(a) for a in fn.schedule.storage_dims]
        strides = [None] * len(fn.args)
        stride = ir.i32(1)
        for pos in order:
            strides[pos] = stride
            stride = ir.Mul(stride, node.bounds[pos].extent)
        # A dimension of extent 1 adds nothing to the index: the one coordinate
        # bounds inference allows there is its min (as for a Halide wrapper
        # staging one value per loop iteration, which then reads as f[0]).
        mins = [None if ir.is_const(r.extent, 1) else r.min for r in node.bounds]
        self.layouts[node.fn] = (mins, strides)
        body = self.mutate(node.body)
        del self.layouts[node.fn]
        for i in reversed(range(len(node.types))):
            body = ir.Allocate(buffer_symbol(fn, i), node.types[i], stride, memory_of(fn), body)
        return body

    def mutate_Provide(self, node):
        fn = self.env[node.fn]
        args = tuple(self.mutate(a) for a in node.args)
        values = tuple(self.mutate(v) for v in node.values)
        stores = []
        for i, value in enumerate(values):
            buf = buffer_symbol(fn, i)
            key = node.fn if node.fn in self.layouts else buf
            stores.append(ir.Store(buf, value, self._index(key, args)))
        return ir.block(*stores)

    def _element(self, node) -> tuple:
        """(buffer, flat index) of the element a Call or Prefetch names."""
        args = tuple(self.mutate(a) for a in node.args)
        if node.kind is ir.CallKind.IMAGE:
            return node.fn, _descriptor_index(node.fn, args, node.fn not in self.strided, self.known)
        fn = self.env[node.fn]
        buf = buffer_symbol(fn, node.value_index)
        key = node.fn if node.fn in self.layouts else buf
        return buf, self._index(key, args)

    def mutate_Call(self, node):
        buf, index = self._element(node)
        return ir.Load(node.type, buf, index)

    def mutate_Prefetch(self, node):
        buf, index = self._element(node)
        return ir.PrefetchAddress(buf, node.type, index)


def flatten_storage(s: ir.Stmt, env: dict, outputs: list, strided=frozenset(),
                    known=None) -> ir.Stmt:
    """`strided`: the input and output buffers whose dimension 0 may have any
    stride; all others have stride 1 there. `known`: {buffer field: value}
    the indices use in place of the field (the constrained values, which the
    entry checks guarantee)."""
    return _Flatten(env, outputs, strided, known or {}).mutate(s)


class _StripProducerConsumer(ir.IRMutator):
    def mutate_ProducerConsumer(self, node):
        return self.mutate(node.body)


def strip_producer_consumer(s: ir.Stmt) -> ir.Stmt:
    """Drop the produce/consume markers, which only help passes and printing."""
    return _StripProducerConsumer().mutate(s)
