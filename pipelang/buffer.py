"""`Buffer`: a numpy array seen in Halide's axis order, without copying.

numpy stores an image as (rows, columns[, channels]); Halide indexes it as
(x, y[, c]) with x the column. `Buffer(ndarray)` therefore reverses the
axes: dimension 0 of the Buffer is the last numpy axis. `np.asarray(buf)`
gives back a view with numpy's order.
"""
from __future__ import annotations

import itertools

import numpy as np

from pipelang import ir
from pipelang.errors import BufferError_, CompileError
from pipelang.expr import Expr

_counter = itertools.count()
# Which Buffer or ImageParam owns each descriptor field symbol (min.0, ...).
field_owner: dict = {}


def register_fields(owner, sym: ir.Symbol, dims: int) -> None:
    field_owner[ir.buffer_host(sym)] = owner
    for d in range(dims):
        for f in (ir.buffer_min, ir.buffer_extent, ir.buffer_stride):
            field_owner[f(sym, d)] = owner


class Dimension:
    """`buf.dim(i)`: plain ints for a Buffer, Exprs for an ImageParam."""

    def __init__(self, min_, extent, stride, estimate=None):
        self._min, self._extent, self._stride = min_, extent, stride
        self._estimate = estimate

    def set_estimate(self, min_, extent) -> "Dimension":
        """An ImageParam's expected range in this dimension (for the autoscheduler)."""
        if self._estimate is None:
            raise CompileError("Only an ImageParam's dimensions take estimates: a Buffer's "
                               "sizes are already known")
        self._estimate(min_, extent)
        return self

    def min(self):
        return self._min

    def extent(self):
        return self._extent

    def max(self):
        return self._min + self._extent - 1

    def stride(self):
        return self._stride


class Buffer:
    def __init__(self, *args, name: str | None = None, reverse_axes: bool = True):
        if args and isinstance(args[-1], str):
            name, args = args[-1], args[:-1]
        self._name = name or f"b{next(_counter)}"
        if not args:
            self._array = None
            self._type = None
            self._mins = []
        elif isinstance(args[0], Buffer):
            self._array, self._type, self._mins = args[0]._array, args[0]._type, list(args[0]._mins)
        elif isinstance(args[0], ir.Type):
            t = args[0]
            sizes = list(args[1]) if len(args) > 1 else []
            if any(int(s) < 0 for s in sizes):
                raise BufferError_(f"Buffer {self._name}: sizes must be non-negative, got {sizes}")
            self._array = np.zeros(tuple(int(s) for s in reversed(sizes)), t.numpy_dtype())
            self._type = t
            self._mins = [0] * len(sizes)
        else:
            arr = np.asarray(args[0])
            if not reverse_axes:
                arr = arr.T
            self._type = ir.type_of_dtype(arr.dtype)
            if arr.strides and any(s % arr.itemsize for s in arr.strides):
                raise BufferError_(f"Buffer {self._name}: numpy strides {arr.strides} are not "
                                   f"multiples of the element size {arr.itemsize}")
            self._array = arr
            self._mins = [0] * arr.ndim
        self._symbol = None
        # Device state, with Halide's dirty bits: a Buffer made from an array
        # holds data the device has not seen yet.
        self._host_dirty = self._array is not None and not (args and isinstance(args[0], ir.Type))
        self._device_dirty = False
        self._device_alloc = None       # (device, pointer, bytes), freed with the Buffer

    @property
    def _sym(self) -> ir.Symbol:
        """The symbol an algorithm reads this Buffer through, made (and its
        descriptor fields registered) only when an algorithm first uses it."""
        if self._symbol is None:
            self._symbol = ir.Symbol(self._name)
            register_fields(self, self._symbol, len(self._mins))
        return self._symbol

    # ---------------------------------------------------------------- shape

    def defined(self) -> bool:
        return self._array is not None

    def name(self) -> str:
        return self._name

    def type(self) -> ir.Type:
        return self._type

    def dimensions(self) -> int:
        return len(self._mins)

    def dim(self, i: int) -> Dimension:
        if not 0 <= i < self.dimensions():
            raise IndexError(f"Buffer {self._name} has {self.dimensions()} dimensions; "
                             f"dim({i}) does not exist")
        axis = self._array.ndim - 1 - i
        return Dimension(self._mins[i], self._array.shape[axis],
                         self._array.strides[axis] // self._array.itemsize)

    def _extent(self, i):
        return self.dim(i).extent() if i < self.dimensions() else 1

    def width(self) -> int:
        return self._extent(0)

    def height(self) -> int:
        return self._extent(1)

    def channels(self) -> int:
        return self._extent(2)

    def left(self) -> int:
        return self.dim(0).min()

    def right(self) -> int:
        return self.dim(0).max()

    def top(self) -> int:
        return self.dim(1).min()

    def bottom(self) -> int:
        return self.dim(1).max()

    def number_of_elements(self) -> int:
        return int(self._array.size)

    def size_in_bytes(self) -> int:
        return int(self._array.nbytes)

    def set_min(self, mins) -> "Buffer":
        mins = list(mins)
        if len(mins) > self.dimensions():
            raise BufferError_(f"Buffer {self._name}: set_min got {len(mins)} mins for "
                               f"{self.dimensions()} dimensions")
        self._mins[:len(mins)] = [int(m) for m in mins]
        return self

    def translate(self, deltas) -> "Buffer":
        for i, d in enumerate(deltas):
            self._mins[i] += int(d)
        return self

    # ---------------------------------------------------------------- data

    def _get_raw_halide_buffer_t(self) -> int:
        """The address of a halide_buffer_t for this Buffer, valid until the next call:
        how Halide-style Python extensions (`OutputFileType.python_extension`) take
        an hl.Buffer with its mins."""
        from pipelang.aot.loader import RawBuffer
        self._raw_halide_buffer = RawBuffer(self)
        return self._raw_halide_buffer.address

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._array.dtype:
            return self._array.astype(dtype)
        return self._array

    def copy(self) -> "Buffer":
        b = Buffer(self._array.copy())
        b._mins = list(self._mins)
        return b

    def fill(self, value) -> "Buffer":
        self._array[...] = value
        return self

    def _element_index(self, pos) -> tuple:
        pos = pos if isinstance(pos, tuple) else (pos,)
        if len(pos) != self.dimensions():
            raise IndexError(f"Buffer {self._name} has {self.dimensions()} dimensions but was "
                             f"indexed with {len(pos)} coordinates")
        idx = []
        for d, p in enumerate(pos):
            dm = self.dim(d)
            if not dm.min() <= p <= dm.max():
                raise IndexError(f"Buffer {self._name}: coordinate {p} is outside "
                                 f"[{dm.min()}, {dm.max()}] in dimension {d}")
            idx.append(p - dm.min())
        return tuple(reversed(idx))

    def __getitem__(self, pos):
        items = pos if isinstance(pos, tuple) else (pos,)
        if all(isinstance(p, (int, np.integer)) for p in items):
            return self._array[self._element_index(tuple(int(p) for p in items))].item()
        return Expr(self._call(items))

    def __setitem__(self, pos, value):
        self._array[self._element_index(pos if isinstance(pos, tuple) else (pos,))] = value

    def _call(self, items) -> ir.Call:
        from pipelang.expr import to_ir
        if len(items) != self.dimensions():
            raise CompileError(f"Buffer {self._name} has {self.dimensions()} dimensions but was "
                               f"called with {len(items)} arguments")
        args = []
        for a in items:
            e = to_ir(a)
            if e.type.is_float():
                raise CompileError(f"Buffer {self._name} was indexed with a float ({ir.to_string(e)})")
            args.append(e if e.type == ir.Int(32) else ir.Cast(ir.Int(32), e))
        return ir.Call(self._type, self._sym, tuple(args), ir.CallKind.IMAGE)

    # ---------------------------------------------------------------- device (Halide's rules)

    def host_dirty(self) -> bool:
        return self._host_dirty

    def device_dirty(self) -> bool:
        return self._device_dirty

    def set_host_dirty(self, value: bool = True) -> None:
        self._host_dirty = bool(value)

    def set_device_dirty(self, value: bool = True) -> None:
        self._device_dirty = bool(value)

    def has_device_allocation(self) -> bool:
        return self._device_alloc is not None

    def device_malloc(self, device=None) -> int:
        """Allocate device memory (dense, in this Buffer's dimension order) if there is none."""
        if self._device_alloc is None:
            from pipelang.backends.cuda.runtime import get_device
            dev = device if hasattr(device, "alloc") else get_device()
            nbytes = max(self._array.nbytes, 1)
            ptr = dev.alloc(nbytes)
            self._device_alloc = (dev, ptr, nbytes)
            import weakref
            self._device_finalizer = weakref.finalize(self, dev.free, ptr)
        return 0

    def copy_to_device(self, device=None) -> int:
        """Allocate on the device if needed; copy only if the host is dirty (Halide)."""
        if self._host_dirty and self._device_dirty:
            raise BufferError_(f"Buffer {self._name} is dirty on both the host and the device; "
                               f"call copy_to_host() or set one of the dirty bits to False first")
        self.device_malloc(device)
        if self._host_dirty:
            dev, ptr, _ = self._device_alloc
            dev.copy_to_device(ptr, self._array)
            self._host_dirty = False
        return 0

    def copy_to_host(self) -> int:
        """Copy device data back if the device is dirty."""
        if self._device_dirty and self._device_alloc is not None:
            dev, ptr, _ = self._device_alloc
            dev.copy_to_host(self._array, ptr)
        self._device_dirty = False
        return 0

    def device_sync(self, target=None) -> int:
        if self._device_alloc is not None:
            self._device_alloc[0].synchronize()
        return 0

    def device_free(self) -> int:
        if self._device_alloc is not None:
            self._device_finalizer()
            self._device_alloc = None
        self._device_dirty = False
        return 0

    def device_pointer(self) -> int | None:
        """The device address of this Buffer's data (None without an allocation)."""
        return None if self._device_alloc is None else self._device_alloc[1]

    def __repr__(self) -> str:
        dims = ",".join(f"[{self.dim(i).min()},{self.dim(i).extent()},{self.dim(i).stride()}]"
                        for i in range(self.dimensions()))
        return f"<pipelang.Buffer of type {self._type} shape:[{dims}]>"
