"""Calling compiled code: packing arguments fast, and `Callable`.

A compiled pipeline takes one int64 argv (see `backends.llvm.jit`). An
`ArgPacker` owns one argv per thread and remembers, per argument, the
object it last packed there: when a call passes the same Buffer (same
array, mins, shape and strides) or the same scalar object, its slots are
already right and nothing is converted or checked again; anything new is
validated in full (type, dimensions, writability, density, aliasing) before
its slots are rewritten. That keeps a repeated `realize(buffer)` or
`Callable` call to a few attribute reads and the foreign call. (So an
output array made read-only in place after a call is not noticed; a new
read-only array is refused.)
"""
from __future__ import annotations

import ctypes
import enum
from threading import get_ident as _get_ident

import numpy as np

from pipelang import ir
from pipelang.buffer import Buffer
from pipelang.errors import BufferError_, HalideError

_UNSET = object()


class Role(enum.Enum):
    OUTPUT = "output"
    INPUT = "input"            # an ImageParam, or a Buffer used in the algorithm
    SCALAR = "scalar"


class Slot:
    """One argument of compiled code: where its slots are and how to check it."""
    __slots__ = ("role", "offset", "type", "dims", "name", "dense_x", "owner", "sym")

    def __init__(self, role: Role, offset: int, arg: ir.Argument, name: str, owner=None):
        self.role = role
        self.offset = offset
        self.type = arg.type
        self.dims = arg.dimensions
        self.name = name
        self.owner = owner          # the Func (outputs), ImageParam/Buffer (inputs), Param
        self.sym = arg.sym
        # ImageParams and outputs must be dense in dimension 0 unless their
        # dim(0).set_stride says otherwise; an embedded Buffer never changes.
        from pipelang.constraints import constraint_table, dense_dim0
        self.dense_x = (role is not Role.SCALAR and not isinstance(owner, Buffer)
                        and dense_dim0(constraint_table(owner, arg.sym)))


def _data_address(arr: np.ndarray) -> int:
    """The address of `arr`'s first element (ctypes' buffer view is several
    times quicker than numpy's array interface, where it applies)."""
    if arr.size and arr.flags.c_contiguous and arr.flags.writeable:
        return ctypes.addressof(ctypes.c_char.from_buffer(arr))
    return arr.__array_interface__["data"][0]


class _State:
    """One thread's argv (written through ctypes, passed as a cffi pointer),
    and per slot a record [value, array, mins, shape, strides] of what was
    last packed there (array None: a scalar; mins None: a bare numpy array)."""
    __slots__ = ("argv", "ptr", "records", "rest")

    def __init__(self, size: int, n: int):
        from pipelang.backends.llvm.jit import VOID_P, ffi
        self.argv = (ctypes.c_int64 * size)()
        self.ptr = ffi.cast(VOID_P, ctypes.addressof(self.argv))
        self.records = [[_UNSET, None, None, None, None] for _ in range(n)]
        self.rest = self.records[1:]


class ArgPacker:
    """Fills `jit` (a JITFunction)'s argv with one value per `Slot`, and calls it.

    `check_buffer(slot, value) -> Buffer` and `check_scalar(slot, value) ->
    int slot value` validate a value seen for the first time and raise the
    caller's error texts."""

    def __init__(self, jit, slots: list, check_buffer, check_scalar):
        self.jit = jit
        self.slots = slots
        self.check_buffer = check_buffer
        self.check_scalar = check_scalar
        self.size = max(jit.argv_size, 1)
        self._states: dict = {}         # thread id -> _State
        self._outputs = [i for i, s in enumerate(slots) if s.role is Role.OUTPUT]
        self._inputs = [i for i, s in enumerate(slots) if s.role is Role.INPUT]
        self._fn, self._err = jit.fn, jit.err_c

    def _state(self) -> _State:
        st = self._states.get(_get_ident())
        if st is None:
            if len(self._states) > 64:          # threads come and go
                self._states.clear()
            st = self._states[_get_ident()] = _State(self.size, len(self.slots))
        return st

    def pack(self, values, fresh: int = 0):
        """This thread's argv (a cffi pointer) holding `values` (one per slot).

        The first `fresh` values are output Buffers just made to fit (by
        `realize(sizes)`): they need no checks and alias nothing."""
        st = self._state()
        records = st.records
        changed = False
        for i, v in enumerate(values):
            v0, a, m, s, sd = records[i]
            if v is v0:
                if a is None:
                    continue                    # a scalar: the very same object
                if m is None:
                    if a.shape == s and a.strides == sd:
                        continue
                elif v._array is a and v._mins == m and a.shape == s and a.strides == sd:
                    continue
            elif a is None and type(v) is int and type(v0) is int and v == v0:
                continue                        # an equal int scalar packs the same
            if i < fresh:
                self._bind(st, i, v, v)
                continue
            changed = True
            self._bind(st, i, v)
        if changed:
            self._check_aliasing(st)
        return st.ptr

    def call(self, values) -> None:
        """Run the code on `values` (one per slot)."""
        rc = self._fn(self.pack(values), self._err)
        if rc:
            self.jit._raise(rc)

    @staticmethod
    def _unchanged(st, getters) -> bool:
        """Whether each getter gives the value packed last in the slots after the first."""
        for g, r in zip(getters, st.rest):
            v = g()
            v0, a, m, s, sd = r
            if v is not v0:
                if a is None and type(v) is int and type(v0) is int and v == v0:
                    continue
                return False
            if a is None:
                continue
            if m is None:
                if a.shape != s or a.strides != sd:
                    return False
            elif v._array is not a or v._mins != m or a.shape != s or a.strides != sd:
                return False
        return True

    def call_with_output(self, out, getters) -> None:
        """Run the code with `out` as the first slot's value and each
        following slot's from its getter: `realize(buffer)`'s repeat call.
        When every value is the one this thread packed last (as `pack`
        checks it; `_unchanged`, inlined here), the argv is passed as it
        is, with no list built; otherwise the values go through `pack`."""
        st = self._states.get(_get_ident())
        if st is not None:
            v0, a, m, s, sd = st.records[0]
            if out is v0 and out._array is a and out._mins == m and a.shape == s and a.strides == sd:
                for g, r in zip(getters, st.rest):
                    v = g()
                    v0, a, m, s, sd = r
                    if v is not v0:
                        if a is None and type(v) is int and type(v0) is int and v == v0:
                            continue
                        break
                    if a is None:
                        continue
                    if m is None:
                        if a.shape != s or a.strides != sd:
                            break
                    elif v._array is not a or v._mins != m or a.shape != s or a.strides != sd:
                        break
                else:
                    rc = self._fn(st.ptr, self._err)
                    if rc:
                        self.jit._raise(rc)
                    return
        values = [out]
        values += [g() for g in getters]
        self.call(values)

    def call_with_new_output(self, out, getters) -> None:
        """As `call_with_output`, for an output Buffer just made to fit (dense,
        zero mins, writable, aliasing nothing): when its shape, strides and
        mins are those packed last, only its host pointer is written."""
        st = self._states.get(_get_ident())
        if st is not None:
            r = st.records[0]
            arr = out._array
            if (arr.shape == r[3] and arr.strides == r[4] and out._mins == r[2] and arr.size
                    and self._unchanged(st, getters)):
                st.argv[self.slots[0].offset] = ctypes.addressof(ctypes.c_char.from_buffer(arr))
                r[0], r[1], r[4] = out, arr, arr.strides
                rc = self._fn(st.ptr, self._err)
                if rc:
                    self.jit._raise(rc)
                return
        values = [out]
        values += [g() for g in getters]
        rc = self._fn(self.pack(values, fresh=1), self._err)
        if rc:
            self.jit._raise(rc)

    def _bind(self, st, i, v, checked=None) -> None:
        slot = self.slots[i]
        r = st.records[i]
        r[0] = _UNSET                           # until it has been checked and written
        argv, off = st.argv, slot.offset
        if slot.role is Role.SCALAR:
            argv[off] = self.check_scalar(slot, v)
            r[1] = None
        else:
            buf = checked if checked is not None else self.check_buffer(slot, v)
            arr = buf._array
            n = arr.ndim
            argv[off] = _data_address(arr)
            size = arr.itemsize
            for d in range(n):
                axis = n - 1 - d
                argv[off + 1 + 3 * d] = buf._mins[d]
                argv[off + 2 + 3 * d] = arr.shape[axis]
                argv[off + 3 + 3 * d] = arr.strides[axis] // size
            r[1] = arr
            r[2] = list(buf._mins) if v is buf else None
            r[3] = arr.shape
            r[4] = arr.strides
        r[0] = v

    def _check_aliasing(self, st) -> None:
        records = st.records
        for o in self._outputs:
            out = records[o][1]
            for k in self._inputs:
                inp = records[k][1]
                if np.may_share_memory(out, inp) and np.shares_memory(out, inp):
                    records[o][0] = _UNSET       # checked again next time
                    raise BufferError_(f"Output buffer {self._buffer_name(st, o)} shares memory "
                                       f"with input buffer {self._buffer_name(st, k)}: a pipeline "
                                       f"can't read and write the same memory")

    def _buffer_name(self, st, i) -> str:
        v = st.records[i][0]
        return v.name() if isinstance(v, Buffer) else self.slots[i].name

    def forget(self) -> None:
        """Drop every reference to the values last packed."""
        self._states.clear()


# ---------------------------------------------------------------- Callable

class ArgumentKind(enum.Enum):
    """Halide's `hl.ArgumentKind`."""
    InputScalar = 0
    InputBuffer = 1
    OutputBuffer = 2


class Argument:
    """One argument of a compiled pipeline, as `infer_arguments` gives it
    (Halide's `hl.Argument`): a name, a kind, a type and dimensions."""

    def __init__(self, name: str, kind: ArgumentKind, t: ir.Type, dimensions: int, param=None):
        self.name = name
        self.kind = kind
        self.type = t
        self.dimensions = dimensions
        self._param = param         # the Param or ImageParam it stands for

    def is_buffer(self) -> bool:
        return self.kind is not ArgumentKind.InputScalar

    def is_scalar(self) -> bool:
        return self.kind is ArgumentKind.InputScalar

    def is_input(self) -> bool:
        return self.kind is not ArgumentKind.OutputBuffer

    def is_output(self) -> bool:
        return self.kind is ArgumentKind.OutputBuffer

    def __repr__(self) -> str:
        return f"<pipelang.Argument {self.name} {self.kind.name} {self.type} {self.dimensions}>"


def _cast_error(value, t) -> HalideError:
    # pybind11's text, which Halide's Callable passes on.
    return HalideError(f"Unable to cast Python instance of type {type(value)} to C++ type '?' "
                       f"(#define PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug mode "
                       f"for details)")


def callable_scalar(slot: Slot, value) -> int:
    """A Callable's scalar argument converted as Halide's bindings do:
    ints (and bools) for integer types, within range; any real for floats;
    only bools for Bool."""
    from pipelang.backends.llvm.jit import pack_scalar
    t = slot.type
    if t.is_float():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise _cast_error(value, t)
        return pack_scalar(float(value), t)
    if t.is_bool():
        if not isinstance(value, (bool, np.bool_)):
            raise _cast_error(value, t)
        return int(bool(value))
    if not isinstance(value, (int, np.integer)):
        raise _cast_error(value, t)
    v = int(value)
    if not t.min_value() <= v <= t.max_value():
        raise _cast_error(value, t)
    return pack_scalar(v, t)


def callable_buffer(slot: Slot, value) -> Buffer:
    if isinstance(value, Buffer):
        buf = value
        if not buf.defined():
            raise HalideError(f"Buffer passed for argument {slot.name} is undefined")
    else:
        try:
            memoryview(value)
        except TypeError:
            raise HalideError(f"Object of type '{type(value).__name__}' is not an instance of "
                              f"'buffer'") from None
        buf = Buffer(np.asarray(value))
    which = "Output" if slot.role is Role.OUTPUT else "Input"
    if buf.type() != slot.type:
        raise HalideError(f"{which} buffer {slot.name} has type {slot.type} but type of the "
                          f"buffer passed in is {buf.type()}")
    if buf.dimensions() != slot.dims:
        raise HalideError(f"{which} buffer {slot.name} requires a buffer of exactly {slot.dims} "
                          f"dimensions, but the buffer passed in has {buf.dimensions()} dimensions")
    arr = buf._array
    if slot.role is Role.OUTPUT and not arr.flags.writeable:
        raise HalideError(f"Output buffer {slot.name} was passed a read-only buffer")
    if slot.dense_x and arr.ndim and arr.shape[-1] > 1 and arr.strides[-1] != arr.itemsize:
        raise HalideError(f"{which} buffer {slot.name} has stride "
                          f"{arr.strides[-1] // arr.itemsize} in dimension 0, but it must be 1")
    if buf.__dict__.get("_bounds_query"):
        raise _BoundsQueryAsked
    return buf


class _BoundsQueryAsked(Exception):
    """A Callable was passed a `Buffer.make_bounds_query` buffer: nothing runs."""


class Callable:
    """Compiled code called like a function (Halide's `hl.Callable`):
    the arguments given to `compile_to_callable`, in order, then one output
    buffer per output (Tuple element), positionally or by name."""

    def __init__(self, compiled, arguments):
        from pipelang.param import ImageParam, Param
        self._compiled = compiled            # keeps the code alive
        params = {}
        for a in arguments:
            p = a._param if isinstance(a, Argument) else a
            if not isinstance(p, (Param, ImageParam)):
                raise HalideError(f"compile_to_callable arguments must be Params, ImageParams or "
                                  f"Arguments, not {type(p).__name__}")
            params[p._sym] = p
        jit = compiled.jit
        by_sym = {}
        order = []
        for kind, off, what, a in compiled.plan:
            if kind == "output":
                fn = compiled.outputs_by_index[what]
                by_sym[a.sym] = Slot(Role.OUTPUT, off, a, compiled.output_names[what], fn)
                order.append(a.sym)
            elif kind == "input" and isinstance(what, Buffer):
                continue                      # embedded: always the same Buffer
            else:
                if a.sym not in params:
                    listed = " ".join(["__user_context"] + [p.name() for p in params.values()])
                    used = " ".join(w.name() for k, _, w, _ in compiled.plan
                                    if k == "param" or (k == "input" and not isinstance(w, Buffer)))
                    raise HalideError(f"Generated code refers to parameter {what.name()}, which was "
                                      f"not found in the argument list.\n\nArgument list specified: "
                                      f"{listed} \n\nParameters referenced in generated code: {used} \n\n")
                role = Role.SCALAR if kind == "param" else Role.INPUT
                by_sym[a.sym] = Slot(role, off, a, what.name(), what)
        # Halide's order: the listed arguments, then the outputs.
        slots = []
        for sym, p in params.items():
            slot = by_sym.get(sym)
            if slot is None:                  # listed but unused: still takes a value
                t = p.type()
                dims = p.dimensions() if isinstance(p, ImageParam) else 0
                role = Role.INPUT if isinstance(p, ImageParam) else Role.SCALAR
                slot = Slot(role, -1, ir.Argument(sym, ir.ArgKind.BUFFER if dims or role is Role.INPUT
                                                  else ir.ArgKind.SCALAR, t, dims), p.name(), p)
            slots.append(slot)
        slots += [by_sym[s] for s in order]
        # The fixed, embedded Buffers ride along at the end.
        self._fixed = [what for kind, _, what, _ in compiled.plan
                       if kind == "input" and isinstance(what, Buffer)]
        fixed_slots = [Slot(Role.INPUT, off, a, what.name(), what) for kind, off, what, a in compiled.plan
                       if kind == "input" and isinstance(what, Buffer)]
        self._n = len(slots)
        self._names = {}
        for i, s in enumerate(slots):
            self._names.setdefault(s.name.split("$")[0], i)
        used = [s for s in slots if s.offset >= 0] + fixed_slots
        self._keep = [i for i, s in enumerate(slots) if s.offset >= 0]
        self._slots = slots
        self._packer = ArgPacker(jit, used, callable_buffer, callable_scalar)

    def __call__(self, *args, **kwargs):
        n = self._n
        if len(args) > n:
            raise HalideError(f"Expected at most {n} positional arguments, but saw {len(args)}.")
        if kwargs:
            values = list(args) + [_UNSET] * (n - len(args))
            for name, v in kwargs.items():
                i = self._names.get(name)
                if i is None:
                    raise HalideError(f"Unknown argument '{name}' specified via keyword.")
                if values[i] is not _UNSET:
                    raise HalideError(f"Argument {name} specified multiple times.")
                values[i] = v
            for i, v in enumerate(values):
                if v is _UNSET:
                    raise HalideError(f"Argument {self._slots[i].name} was not specified by either "
                                      f"positional or keyword argument.")
        elif len(args) != n:
            raise HalideError(f"Expected exactly {n} positional arguments, but saw {len(args)}.")
        else:
            values = args
        try:
            keep = self._keep
            if len(keep) != n:
                for i in range(n):               # unused arguments are still checked
                    if i not in keep:
                        s = self._slots[i]
                        (callable_scalar if s.role is Role.SCALAR else callable_buffer)(s, values[i])
                values = [values[i] for i in keep]
            if self._fixed:
                values = list(values) + self._fixed
            self._packer.call(values)
        except _BoundsQueryAsked:
            self._bounds_query(values)

    def _bounds_query(self, values) -> None:
        """Halide's bounds query: when any buffer argument is a bounds-query
        buffer, nothing runs; each such buffer is given the region the
        pipeline would write (an output) or read (an input)."""
        from pipelang.constraints import bounds_query
        keep = self._keep
        if len(values) == self._n and len(keep) != self._n:
            values = [values[i] for i in keep] + list(self._fixed)
        slots = self._packer.slots
        for slot, v in zip(slots, values):        # every argument checked, as for a run
            try:
                (callable_scalar if slot.role is Role.SCALAR else callable_buffer)(slot, v)
            except _BoundsQueryAsked:
                pass
        bounds_query(self._compiled, slots, values)
