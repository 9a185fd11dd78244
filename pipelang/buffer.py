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
# A view of `Symbol.owner` (see `ir.OwnerTable`): the Buffer or ImageParam
# whose descriptor field (host, min.0, ...) a symbol is.
field_owner = ir.OwnerTable(lambda owner: getattr(owner, "_descriptor_fields", False))


def register_fields(owner, sym: ir.Symbol, dims: int) -> None:
    owner._descriptor_fields = True
    field_owner[ir.buffer_host(sym)] = owner
    for d in range(dims):
        for f in (ir.buffer_min, ir.buffer_extent, ir.buffer_stride):
            field_owner[f(sym, d)] = owner


def _as_array(data) -> np.ndarray:
    """A zero-copy numpy view of `data`: an array, or any object with
    `__dlpack__` on the CPU (a PyTorch tensor, a CuPy/JAX host array)."""
    if isinstance(data, np.ndarray) or not hasattr(data, "__dlpack__"):
        return np.asarray(data)
    try:
        return np.from_dlpack(data)
    except (BufferError, RuntimeError, TypeError) as e:
        raise BufferError_(f"Cannot make a Buffer from a {type(data).__name__} through DLPack: {e} "
                           f"(only CPU memory can be wrapped; copy device data to the host first)") from e


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


_INT_MAX = 2**31 - 1


class BufferConversionError(BufferError_, ValueError):
    """An array that no Buffer can describe (a ValueError too, as in Halide)."""


def _storage_array(t: ir.Type, sizes: list, storage_order) -> np.ndarray:
    """A zeroed array whose axis k is Buffer dimension n-1-k, laid out with
    the dimensions in `storage_order` (innermost first) dense to sparse."""
    n = len(sizes)
    order = list(range(n)) if storage_order is None else [int(d) for d in storage_order]
    if sorted(order) != list(range(n)):
        raise BufferError_(f"storage_order {order} is not a permutation of the {n} dimensions")
    outer_first = list(reversed(order))
    base = np.zeros(tuple(int(sizes[d]) for d in outer_first), t.numpy_dtype())
    # axis k of the result is dimension n-1-k, found in `base` at its storage position.
    return base.transpose([outer_first.index(n - 1 - k) for k in range(n)])


class Buffer:
    """Halide's `hl.Buffer`: typed, multi-dimensional data with per-dimension
    mins, viewing a numpy array without copying.

        Buffer(ndarray[, name][, reverse_axes])      # shares the array
        Buffer(type, sizes[, storage_order][, name]) # zero-filled
        Buffer(other_buffer)                         # shares other's data
        Buffer.make_scalar(type), Buffer.make_interleaved(type, w, h, c)
    """

    def __init__(self, *args, name: str | None = None, reverse_axes: bool = True, **kwargs):
        args = list(args)
        if args and isinstance(args[-1], bool) and not isinstance(args[0], ir.Type):
            reverse_axes = args.pop()
        if args and isinstance(args[-1], str):
            name = args.pop()
        t = kwargs.pop("type", None)
        sizes = kwargs.pop("sizes", None)
        storage_order = kwargs.pop("storage_order", None)
        if kwargs:
            raise TypeError(f"Buffer() got unexpected keyword arguments {sorted(kwargs)}")
        if t is None and args and isinstance(args[0], ir.Type):
            t = args.pop(0)
        if t is not None:
            if sizes is None and args:
                sizes = args.pop(0)
            if storage_order is None and args:
                storage_order = args.pop(0)
        if args[1:]:
            raise TypeError(f"Buffer() got unexpected arguments {args[1:]}")
        self._name = name or f"b{next(_counter)}"
        self._symbol = None
        if t is not None:
            sizes = [int(s) for s in (sizes or [])]
            if any(s < 0 for s in sizes):
                raise BufferError_(f"Buffer {self._name}: sizes must be non-negative, got {sizes}")
            self._array = _storage_array(t, sizes, storage_order)
            self._type = t
            self._mins = [0] * len(sizes)
        elif not args or args[0] is None:
            self._array, self._type, self._mins = None, None, []
        elif isinstance(args[0], Buffer):
            other = args[0]
            self._array, self._type, self._mins = other._array, other._type, list(other._mins)
            if name is None:
                self._name = other._name
        else:
            arr = _as_array(args[0])
            if arr is args[0]:
                # A view of the caller's array, sharing its data: the Buffer's
                # shape is its own, as a Halide buffer's is (reshaping the
                # caller's array in place doesn't change it), and the calling
                # code (pipelang.calling) may trust a Buffer's array to keep
                # its shape and address while it is the same object.
                arr = arr.view()
            if not reverse_axes:
                arr = arr.T
            try:
                self._type = ir.type_of_dtype(arr.dtype)
            except TypeError:
                raise BufferError_(f"Buffer {self._name}: numpy dtype {arr.dtype} has no Halide type") from None
            if arr.strides and any(s % arr.itemsize for s in arr.strides):
                raise BufferError_(f"Buffer {self._name}: numpy strides {arr.strides} are not "
                                   f"multiples of the element size {arr.itemsize}")
            if any(e > _INT_MAX for e in arr.shape) or any(abs(s) // arr.itemsize > _INT_MAX for s in arr.strides):
                raise BufferConversionError("Out of range dimensions in buffer conversion.")
            self._array = arr
            self._mins = [0] * arr.ndim
        # Device state, with Halide's dirty bits: a Buffer made from an array
        # holds data the device has not seen yet.
        self._host_dirty = self._array is not None and t is None
        self._device_dirty = False
        self._device_alloc = None       # (device, pointer, bytes), freed with the Buffer

    @staticmethod
    def make_scalar(t: ir.Type, name: str | None = None) -> "Buffer":
        """A zero-dimensional Buffer holding one value (`buf[()]`)."""
        return Buffer(t, [], name=name)

    @staticmethod
    def make_interleaved(type: ir.Type, width: int, height: int, channels: int,  # noqa: A002
                         name: str | None = None) -> "Buffer":
        """An (x, y, c) Buffer with the channels of a pixel adjacent (stride 1 in c)."""
        return Buffer(type, [width, height, channels], [2, 0, 1], name=name)

    @staticmethod
    def make_with_shape_of(other: "Buffer", name: str | None = None) -> "Buffer":
        b = Buffer(other._type, [other.dim(d).extent() for d in range(other.dimensions())], name=name)
        b._mins = list(other._mins)
        return b

    def _view(self, array, mins) -> "Buffer":
        """A Buffer sharing this one's data (and name) with another shape."""
        b = Buffer.__new__(Buffer)
        b._name, b._symbol, b._type = self._name, None, self._type
        b._array, b._mins = array, list(mins)
        # A view has no device allocation of its own; it inherits the host's dirtiness.
        b._host_dirty, b._device_dirty, b._device_alloc = self._host_dirty, False, None
        return b

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

    def set_name(self, name: str) -> "Buffer":
        if self._symbol is not None and name != self._name:
            self._symbol = None       # algorithms already built keep reading the old symbol
        self._name = name
        return self

    def same_as(self, other: "Buffer") -> bool:
        return isinstance(other, Buffer) and self._array is other._array and self._mins == other._mins

    def type(self) -> ir.Type:
        return self._type

    def dimensions(self) -> int:
        return len(self._mins)

    def _check_dim(self, i: int, what: str = "dim") -> int:
        i = int(i)
        if not 0 <= i < self.dimensions():
            raise IndexError(f"Buffer {self._name} has {self.dimensions()} dimensions; "
                             f"{what}({i}) does not exist")
        return i

    def dim(self, i: int) -> Dimension:
        i = self._check_dim(i)
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

    @staticmethod
    def make_bounds_query(type, sizes, name: str | None = None) -> "Buffer":    # noqa: A002
        """A Buffer that stands for a shape to query (Halide's bounds-query
        buffer): `infer_input_bounds` sets its shape to what the pipeline writes,
        and a Callable passed one runs a bounds query instead of the pipeline."""
        b = Buffer(type, list(sizes), name=name)
        b._bounds_query = True
        return b

    def _reshape(self, mins, extents) -> None:
        """New zeroed storage of this shape (a bounds query's answer)."""
        self._array = np.zeros(tuple(int(e) for e in reversed(extents)), self._type.numpy_dtype())
        self._mins = [int(m) for m in mins]

    def contains(self, *coords) -> bool:
        """Whether the coordinates (a list, or one per dimension) are inside the Buffer."""
        if len(coords) == 1 and isinstance(coords[0], (list, tuple)):
            coords = tuple(coords[0])
        return len(coords) == self.dimensions() and all(
            self.dim(d).min() <= int(c) <= self.dim(d).max() for d, c in enumerate(coords))

    def set_min(self, *mins) -> "Buffer":
        mins = list(mins[0]) if len(mins) == 1 and isinstance(mins[0], (list, tuple)) else list(mins)
        if len(mins) > self.dimensions():
            raise BufferError_(f"Buffer {self._name}: set_min got {len(mins)} mins for "
                               f"{self.dimensions()} dimensions")
        self._mins[:len(mins)] = [int(m) for m in mins]
        return self

    # ---------------------------------------------------------------- views (in place, and -ed copies)

    def translate(self, *args) -> None:
        """Shift the coordinates: `translate(d, delta)` or `translate([deltas])`."""
        if len(args) == 2:
            self._mins[self._check_dim(args[0], "translate")] += int(args[1])
        else:
            deltas = list(args[0])
            if len(deltas) > self.dimensions():
                raise BufferError_(f"Buffer {self._name}: translate got {len(deltas)} deltas for "
                                   f"{self.dimensions()} dimensions")
            for i, d in enumerate(deltas):
                self._mins[i] += int(d)

    def translated(self, *args) -> "Buffer":
        b = self._view(self._array, self._mins)
        b.translate(*args)
        return b

    def crop(self, *args, **kwargs) -> None:
        """Restrict to a sub-box in place: `crop(dimension, min, extent)` or
        `crop([(min, extent), ...])` (one pair per leading dimension)."""
        if len(args) == 1 and not kwargs:
            box = list(args[0])
            if len(box) > self.dimensions():
                raise BufferError_(f"Buffer {self._name}: crop got {len(box)} ranges for "
                                   f"{self.dimensions()} dimensions")
            for d, (lo, ext) in enumerate(box):
                self._crop_one(d, int(lo), int(ext))
            return
        given = dict(zip(("dimension", "min", "extent"), args), **kwargs)
        missing = {"dimension", "min", "extent"} - set(given)
        if missing or len(given) != 3:
            raise TypeError("crop() takes (dimension, min, extent) or a list of (min, extent) pairs")
        self._crop_one(int(given["dimension"]), int(given["min"]), int(given["extent"]))

    def _crop_one(self, d: int, lo: int, ext: int) -> None:
        d = self._check_dim(d, "crop")
        dm = self.dim(d)
        if ext < 0 or lo < dm.min() or lo + ext > dm.min() + dm.extent():
            raise BufferError_(f"Buffer {self._name}: crop of dimension {d} to [{lo}, {lo + ext - 1}] "
                               f"is outside its extent [{dm.min()}, {dm.max()}]")
        axis = self._array.ndim - 1 - d
        index = [slice(None)] * self._array.ndim
        index[axis] = slice(lo - dm.min(), lo - dm.min() + ext)
        self._array = self._array[tuple(index)]
        self._mins[d] = lo

    def cropped(self, *args, **kwargs) -> "Buffer":
        b = self._view(self._array, self._mins)
        b.crop(*args, **kwargs)
        return b

    def transpose(self, *args) -> None:
        """Reorder the dimensions in place: `transpose(d1, d2)` swaps two;
        `transpose(order)` moves old dimension i to position order[i]."""
        n = self.dimensions()
        if len(args) == 2:
            order = list(range(n))
            a, b = self._check_dim(args[0], "transpose"), self._check_dim(args[1], "transpose")
            order[a], order[b] = order[b], order[a]
        else:
            dest = [int(d) for d in args[0]]
            if sorted(dest) != list(range(n)):
                raise BufferError_(f"Buffer {self._name}: transpose order {dest} is not a "
                                   f"permutation of its {n} dimensions")
            order = [dest.index(i) for i in range(n)]
        # numpy axis k holds dimension n-1-k; new dimension i is old order[i].
        self._array = self._array.transpose([n - 1 - order[n - 1 - k] for k in range(n)])
        self._mins = [self._mins[order[i]] for i in range(n)]

    def transposed(self, *args) -> "Buffer":
        b = self._view(self._array, self._mins)
        b.transpose(*args)
        return b

    def reverse_axes(self) -> "Buffer":
        """A Buffer sharing this data with the dimensions in reverse order."""
        return self._view(self._array.T, list(reversed(self._mins)))

    def sliced(self, d: int, pos: int | None = None) -> "Buffer":
        """The (n-1)-dimensional Buffer at coordinate `pos` (default the min) of dimension `d`."""
        d = self._check_dim(d, "sliced")
        dm = self.dim(d)
        pos = dm.min() if pos is None else int(pos)
        if not dm.min() <= pos <= dm.max():
            raise BufferError_(f"Buffer {self._name}: slice at {pos} is outside dimension {d} "
                               f"[{dm.min()}, {dm.max()}]")
        index = [slice(None)] * self._array.ndim
        index[self._array.ndim - 1 - d] = pos - dm.min()
        return self._view(self._array[tuple(index)], self._mins[:d] + self._mins[d + 1:])

    def embedded(self, d: int, pos: int = 0) -> "Buffer":
        """A Buffer with a new dimension `d` of extent 1 at coordinate `pos`."""
        n = self.dimensions()
        if not 0 <= d <= n:
            raise IndexError(f"Buffer {self._name} has {n} dimensions; embedded({d}) does not exist")
        arr = np.expand_dims(self._array, n - d)
        return self._view(arr, self._mins[:d] + [int(pos)] + self._mins[d:])

    # ---------------------------------------------------------------- data

    def _get_raw_halide_buffer_t(self) -> int:
        """The address of a halide_buffer_t for this Buffer, valid until the next call:
        how Halide-style Python extensions (`OutputFileType.python_extension`) take
        an hl.Buffer with its mins."""
        from pipelang.aot.loader import RawBuffer
        self._raw_halide_buffer = RawBuffer(self)
        return self._raw_halide_buffer.address

    def __array__(self, dtype=None, copy=None):
        if self._array is None:
            raise BufferError_("Cannot convert an undefined Buffer to an array")
        if dtype is not None and np.dtype(dtype) != self._array.dtype:
            return self._array.astype(dtype)
        # A new view each time: the Buffer's own array never changes shape (see __init__).
        return self._array.copy() if copy else self._array.view()

    def copy(self) -> "Buffer":
        """A new Buffer (dense, same mins and type) holding a copy of the data."""
        b = Buffer(np.ascontiguousarray(self._array).copy())
        b._mins = list(self._mins)
        return b

    def copy_from(self, other: "Buffer") -> "Buffer":
        """Copy the values of `other` where the two Buffers overlap."""
        src, dst = [], []
        for d in range(self.dimensions()):
            lo = max(self.dim(d).min(), other.dim(d).min())
            hi = min(self.dim(d).max(), other.dim(d).max())
            if hi < lo:
                return self
            src.append(slice(lo - other.dim(d).min(), hi - other.dim(d).min() + 1))
            dst.append(slice(lo - self.dim(d).min(), hi - self.dim(d).min() + 1))
        self._array[tuple(reversed(dst))] = other._array[tuple(reversed(src))]
        return self

    def fill(self, value) -> "Buffer":
        self._array[...] = value
        self._host_dirty = True          # Halide: writes through the Buffer mark the host dirty
        return self

    def all_equal(self, value) -> bool:
        """Whether every element equals `value`."""
        return bool(np.all(self._array == value))

    def for_each_element(self, fn) -> None:
        """Call `fn(coords)` for every element, dimension 0 varying fastest."""
        ranges = [range(self.dim(d).min(), self.dim(d).max() + 1) for d in reversed(range(self.dimensions()))]
        for pos in itertools.product(*ranges):
            fn(list(reversed(pos)))

    def _element_index(self, pos) -> tuple:
        pos = pos if isinstance(pos, tuple) else (pos,)
        if len(pos) != self.dimensions():
            raise ValueError("Incorrect number of dimensions.")
        idx = []
        for d, p in enumerate(pos):
            lo, ext = self._mins[d], self._array.shape[self._array.ndim - 1 - d]
            if not lo <= p < lo + ext:
                raise IndexError(f"index {p} is out of bounds for axis {d} with min={lo}, extent={ext}")
            idx.append(p - lo)
        return tuple(reversed(idx))

    def __getitem__(self, pos):
        items = pos if isinstance(pos, tuple) else (pos,)
        if isinstance(pos, list):
            items = tuple(pos)
        if all(isinstance(p, (int, np.integer)) for p in items):
            return self._array[self._element_index(tuple(int(p) for p in items))].item()
        return Expr(self._call(items))

    def __setitem__(self, pos, value):
        items = pos if isinstance(pos, tuple) else tuple(pos) if isinstance(pos, list) else (pos,)
        self._array[self._element_index(tuple(int(p) for p in items))] = value
        self._host_dirty = True

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
            self._device_finalizer.atexit = False     # the driver may be gone by then
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

    # ---------------------------------------------------------------- interop

    def __dlpack__(self, *args, **kwargs):
        """DLPack export (`torch.from_dlpack(buf)`, `np.from_dlpack(buf)`): shares this
        Buffer's memory, in numpy's axis order (as `np.asarray(buf)`)."""
        if self._array is None:
            raise BufferError_("Cannot export an undefined Buffer through DLPack")
        return self._array.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        if self._array is None:
            raise BufferError_("Cannot export an undefined Buffer through DLPack")
        return self._array.__dlpack_device__()

    def _repr_png_(self):
        from pipelang.notebook import buffer_png
        return buffer_png(self)

    def __repr__(self) -> str:
        if self._array is None:
            return "<undefined halide.Buffer>"
        dims = ",".join(f"[{self.dim(i).min()},{self.dim(i).extent()},{self.dim(i).stride()}]"
                        for i in range(self.dimensions()))
        return f"<halide.Buffer of type {self._type} shape:[{dims}]>"
