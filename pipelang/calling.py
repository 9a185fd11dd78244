"""Calling compiled code: packing arguments fast, and `Callable`.

A compiled pipeline takes one int64 argv (see `backends.llvm.jit`). An
`ArgPacker` owns one argv per thread and remembers, per argument, the
object it last packed there: when a call passes the same Buffer (same
array and mins), the same numpy array (same shape, strides and dtype) or
the same scalar object, its slots are already right and nothing is
converted or checked again; anything new is validated in full (type,
dimensions, writability, density, aliasing) before its slots are
rewritten. (So an output array made read-only in place after a call is not
noticed; a new read-only array is refused.)

A Buffer's array is its own (a view of the caller's, see `Buffer`): while
it is the same object its shape, strides and address are unchanged, so a
Buffer is recognised by identity and its mins alone.

The repeat calls -- `realize(buffer)`, `realize(sizes)` and a `Callable`'s
call -- run code generated once per pipeline (`ArgPacker.realize_runners`,
`Callable`): a straight line of identity checks, one per argument, reading
each ImageParam's buffer and Param's value directly, then the foreign call.
Anything that differs goes through `pack`.
"""
from __future__ import annotations

import copy
import ctypes
import enum
import threading

import numpy as np

from pipelang import ir
from pipelang.buffer import Buffer
from pipelang.errors import BufferError_, HalideError

_UNSET = object()

# A thread's record of what it last packed holds, per slot, these entries:
# the value, its Buffer's array (None: a scalar), the Buffer's mins (a copy;
# None: the value is a bare numpy array), and for a bare numpy array its
# shape, strides and dtype.
_REC = 6


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
    its record of what was packed (`_REC` entries per slot), and, after a
    `realize(sizes)`, the sizes of the output packed (None otherwise)."""
    __slots__ = ("argv", "ptr", "pointers", "last", "sizes")

    def __init__(self, size: int, n: int):
        from pipelang.backends.llvm.jit import VOID_P, ffi
        self.argv = (ctypes.c_int64 * size)()
        self.ptr = ffi.cast(VOID_P, ctypes.addressof(self.argv))
        self.pointers = ffi.cast("void **", self.ptr)    # the same argv, to store addresses in
        self.last = [_UNSET, None, None, None, None, None] * n
        self.sizes = None


def _same_scalar(k: int, v: str, first: str | None = None) -> str:
    """Source: whether value `v` (`first`: the expression that reads it into
    `v`, written at its first use) is the scalar recorded at `k` (the same
    object, or an equal int)."""
    return (f"({first or v} is L[{k}] or type({v}) is int and type(L[{k}]) is int "
            f"and {v} == L[{k}])")


def _same_buffer(k: int, v: str, first: str | None = None) -> str:
    """Source: whether Buffer `v` is the one recorded at `k`, unchanged."""
    return f"({first or v} is L[{k}] and {v}._array is L[{k + 1}] and {v}._mins == L[{k + 2}])"


def _same_buffer_or_array(k: int, v: str) -> str:
    """Source: as `_same_buffer`, for a value that may be a bare numpy array."""
    return (f"({v} is L[{k}] and ({v}._array is L[{k + 1}] and {v}._mins == L[{k + 2}] "
            f"if L[{k + 2}] is not None else {v}.shape == L[{k + 3}] "
            f"and {v}.strides == L[{k + 4}] and {v}.dtype is L[{k + 5}]))")


def _compile(lines: list, scope: dict, name: str):
    """The function `name` defined by source `lines` in `scope`. (Its file
    name lies inside the package, so that errors raised through it are
    trimmed to the user's line as pipelang's own frames are.)"""
    code = compile("\n".join(lines), f"{__file__}:generated {name}", "exec")
    exec(code, scope)                   # noqa: S102 - source built here from slot numbers only
    return scope[name]


def _functions_from(scope: dict, *names) -> tuple:
    """The functions `names` defined in `scope`, taken out of it: a function
    kept in its own globals would be a reference cycle, freed (with the
    compiled code it reaches) only by a garbage collection."""
    return tuple(scope.pop(name) for name in names)


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
        self._local = threading.local()     # .st: this thread's _State
        self._outputs = [i for i, s in enumerate(slots) if s.role is Role.OUTPUT]
        self._inputs = [i for i, s in enumerate(slots) if s.role is Role.INPUT]
        self._fn, self._err = jit.fn, jit.err_c

    def _state(self) -> _State:
        try:
            return self._local.st
        except AttributeError:
            st = self._local.st = _State(self.size, len(self.slots))
            return st

    def pack(self, values, fresh: int = 0):
        """This thread's argv (a cffi pointer) holding `values` (one per slot).

        The first `fresh` values are output Buffers just made to fit (by
        `realize(sizes)`): they need no checks and alias nothing."""
        st = self._state()
        last = st.last
        changed = False
        for i, v in enumerate(values):
            k = _REC * i
            v0 = last[k]
            if v is v0:
                a, m = last[k + 1], last[k + 2]
                if a is None:
                    continue                    # a scalar: the very same object
                if m is None:
                    if v.shape == last[k + 3] and v.strides == last[k + 4] and v.dtype is last[k + 5]:
                        continue
                elif v._array is a and v._mins == m:
                    continue
            elif last[k + 1] is None and type(v) is int and type(v0) is int and v == v0:
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

    def _bind(self, st, i, v, checked=None) -> None:
        slot = self.slots[i]
        last = st.last
        k = _REC * i
        last[k] = _UNSET                        # until it has been checked and written
        if slot.role is Role.OUTPUT:
            st.sizes = None                     # the outputs are no longer all new ones of st.sizes
        argv, off = st.argv, slot.offset
        if slot.role is Role.SCALAR:
            argv[off] = self.check_scalar(slot, v)
            last[k + 1] = None
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
            last[k + 1] = arr
            if v is buf:
                last[k + 2] = list(buf._mins)
            elif isinstance(v, np.ndarray):
                last[k + 2], last[k + 3], last[k + 4], last[k + 5] = None, v.shape, v.strides, v.dtype
            else:
                return                          # any other object: converted again each call
        last[k] = v

    def _check_aliasing(self, st) -> None:
        last = st.last
        for o in self._outputs:
            out = last[_REC * o + 1]
            for k in self._inputs:
                inp = last[_REC * k + 1]
                if np.may_share_memory(out, inp) and np.shares_memory(out, inp):
                    last[_REC * o] = _UNSET       # checked again next time
                    raise BufferError_(f"Output buffer {self._buffer_name(st, o)} shares memory "
                                       f"with input buffer {self._buffer_name(st, k)}: a pipeline "
                                       f"can't read and write the same memory")

    def _buffer_name(self, st, i) -> str:
        v = st.last[_REC * i]
        return v.name() if isinstance(v, Buffer) else self.slots[i].name

    # ------------------------------------------------------------ realize's repeat calls

    def realize_runners(self, sources: list):
        """`(run(out), run_sizes(sizes))`: realize's calls of the code, whose
        first slots are its outputs (one per Func output and Tuple element);
        in each slot after those, the value of its source, ("image", an
        ImageParam), ("param", a Param) or ("buffer", a Buffer used in the
        algorithm).

        `run(out)` runs into output Buffer `out` (one output: returns
        nothing, packing anything new); with several outputs `out` is their
        list of Buffers, and `run` returns whether it ran: only when every
        Buffer and value is the one packed last (anything else goes through
        realize's general path, which checks that a Tuple's Buffers cover one
        region). `run_sizes(sizes)` makes new output Buffers of these sizes
        (dense, zero mins, not zeroed: for outputs whose code writes exactly
        their buffers), runs into them and returns the Buffer (one output) or
        their tuple; or returns None for sizes it doesn't take (not a list of
        non-negative ints of the outputs' dimensions, too large), leaving
        them to realize's general path and its errors. When the sizes are
        those of the outputs packed last, only the new outputs' addresses are
        written. Both check that every other value is the one packed last
        (as `pack` does) before calling, and otherwise pack them all."""
        from pipelang.backends.llvm.jit import ffi
        from pipelang.buffer import _counter
        from pipelang.param import ImageParam, Param
        outs = [s for s in self.slots if s.role is Role.OUTPUT]
        n = len(outs)
        assert all(s is self.slots[i] for i, s in enumerate(outs)), "outputs come first"
        dims = outs[0].dims
        scope = {"local": self._local, "fn": self._fn, "err": self._err,
                 "raise_": self.jit._raise, "packer": self, "from_buffer": ffi.from_buffer,
                 "empty": np.empty, "LIMIT": 1 << 40,
                 "BYTES": max(s.type.bytes() for s in outs),
                 "counter": _counter, "Buffer": Buffer, "new": object.__new__, "copy": copy.copy}
        # A new output's state is that of a Buffer made the ordinary way (whose
        # general constructor costs more than the call itself), with its own
        # array, mins and name; the other values are immutable and shared.
        states = []
        for j, slot in enumerate(outs):
            scope[f"DTYPE{j}"] = slot.type.numpy_dtype()
            fresh = {"_array": f"a{j}", "_mins": f"[{', '.join(['0'] * dims)}]",
                     "_name": "f'b{next(counter)}'"}
            items = []
            for i, (key, value) in enumerate(Buffer(slot.type, [0] * dims).__dict__.items()):
                if key not in fresh:
                    scope[f"T{j}_{i}"] = value
                    shared = value is None or isinstance(value, (bool, int, str, ir.Type))
                    fresh[key] = f"T{j}_{i}" if shared else f"copy(T{j}_{i})"
                items.append(f"{key!r}: {fresh[key]}")
            states.append(", ".join(items))
        checks, reads = [], []
        for i, (kind, owner) in enumerate(sources, start=n):
            k, v = _REC * i, f"v{i}"
            scope[f"O{i}"] = owner
            if kind == "image" and type(owner).get is ImageParam.get:
                reads.append(f"O{i}._buffer")
            elif kind == "param" and type(owner).get is Param.get:
                reads.append(f"O{i}._value")
            elif kind == "buffer":
                reads.append(f"O{i}")
            else:
                reads.append(f"O{i}.get()")
            same = _same_scalar if kind == "param" else _same_buffer
            checks.append(same(k, v, f"({v} := {reads[-1]})"))
        rest = "".join(f" and {c}" for c in checks)
        o = [f"o{j}" for j in range(n)]
        values = "[" + ", ".join(o + reads) + "]"
        result = o[0] if n == 1 else f"({', '.join(o)},)"
        if n == 1:
            lines = [
                "def run(o0):",
                "    try:",
                "        st = local.st",
                "    except AttributeError:",
                f"        return packer.call({values})",
                "    L = st.last",
                f"    if {_same_buffer(0, 'o0')}{rest}:",
                "        rc = fn(st.ptr, err)",
                "        if rc:",
                "            raise_(rc)",
                "        return",
                f"    packer.call({values})"]
        else:
            same_outs = " and ".join(f"type({v}) is Buffer and {_same_buffer(_REC * j, v)}"
                                     for j, v in enumerate(o))
            lines = [
                "def run(outs):",
                f"    if len(outs) != {n}:",
                "        return False",
                f"    {', '.join(o)}, = outs",
                "    try:",
                "        L = local.st.last",
                "    except AttributeError:",
                "        return False",
                f"    if {same_outs}{rest}:",
                "        rc = fn(local.st.ptr, err)",
                "        if rc:",
                "            raise_(rc)",
                "        return True",
                "    return False"]
        names = [f"s{d}" for d in range(dims)]
        lines += [
            "",
            "def run_sizes(sizes):",
            f"    if len(sizes) != {dims}:",
            "        return None"]
        if any(s.dims != dims for s in outs):
            lines.append("    return None     # outputs of different dimensions: an error")
        if dims:
            lines += [
                f"    {', '.join(names)}, = sizes",
                f"    if {' or '.join(f'type({s}) is not int or {s} < 0' for s in names)} "
                f"or {' * '.join(names)} * BYTES > LIMIT:",
                "        return None"]
        shape = f"({', '.join(reversed(names))}{',' if dims == 1 else ''})"
        for j in range(n):
            lines += [
                f"    a{j} = empty({shape}, DTYPE{j})",
                f"    o{j} = new(Buffer)",
                f"    o{j}.__dict__ = {{{states[j]}}}"]
        lines += [
            "    try:",
            "        st = local.st",
            "    except AttributeError:",
            f"        packer._call_new({values}, sizes, {n})",
            f"        return {result}",
            "    L = st.last",
            f"    if sizes == st.sizes{rest}:"]
        for j, slot in enumerate(outs):
            k = _REC * j
            lines += [
                f"        st.pointers[{slot.offset}] = from_buffer(a{j})",
                f"        L[{k}] = o{j}",
                f"        L[{k + 1}] = a{j}",
                f"        L[{k + 2}] = [{', '.join(['0'] * dims)}]"]
        lines += [
            "        rc = fn(st.ptr, err)",
            "        if rc:",
            "            raise_(rc)",
            f"        return {result}",
            f"    packer._call_new({values}, sizes, {n})",
            f"    return {result}",
        ]
        _compile(lines, scope, "run")
        return _functions_from(scope, "run", "run_sizes")

    def _call_new(self, values, sizes, n: int = 1) -> None:
        """`run_sizes`'s general case: pack everything (the `n` new outputs
        without checks), and remember the sizes if the next call may write
        only the outputs' addresses (an empty output has none)."""
        st = self._state()
        ptr = self.pack(values, fresh=n)
        if values[0]._array.size:
            st.sizes = list(sizes)
        rc = self._fn(ptr, self._err)
        if rc:
            self.jit._raise(rc)


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
        if len(self._keep) == self._n:
            packer = self._packer
            self._fast = (packer._local, packer._fn, packer._err, packer.jit._raise)
            roles = tuple(slot.role is Role.SCALAR for slot in packer.slots[:self._n])
            self.__class__ = _fast_class(roles, len(self._fixed))

    def __call__(self, *args, **kwargs):
        """Run the code: the listed arguments in order, then the outputs
        (or any of them by name)."""
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


_FAST_CLASSES: dict = {}


def _fast_class(scalars: tuple, n_fixed: int) -> type:
    """The Callable subclass for arguments of these kinds (`scalars[i]`:
    whether argument i is a scalar; then `n_fixed` embedded Buffers): its
    `__call__` is generated so that a call with as many positional values
    as it takes, each the one this thread packed last, calls the code at
    once; any other goes the general way (`Callable.__call__`). Made once
    per kind of argument list and shared (a class per Callable would keep
    each one's code alive until a garbage collection)."""
    cls = _FAST_CLASSES.get((scalars, n_fixed))
    if cls is not None:
        return cls
    n = len(scalars)
    names = [f"a{i}" for i in range(n)]
    checks = [(_same_scalar if scalar else _same_buffer_or_array)(_REC * i, names[i])
              for i, scalar in enumerate(scalars)]
    checks += [_same_buffer(_REC * (n + j), f"fixed[{j}]") for j in range(n_fixed)]
    lines = ["def __call__(self, *args, **kwargs):",
             f"    if kwargs or len(args) != {n}:",
             "        return general(self, *args, **kwargs)"]
    if names:
        lines.append(f"    {', '.join(names)}, = args")
    lines += ["    local, fn, err, raise_ = self._fast",
              "    try:",
              "        st = local.st",
              "    except AttributeError:",
              "        return general(self, *args)",
              "    L = st.last"]
    if n_fixed:
        lines.append("    fixed = self._fixed")
    lines += [f"    if {' and '.join(checks) or 'True'}:",
              "        rc = fn(st.ptr, err)",
              "        if rc:",
              "            raise_(rc)",
              "        return None",
              "    return general(self, *args)"]
    fast_call = _compile(lines, {"general": Callable.__call__}, "__call__")
    fast_call.__doc__ = Callable.__call__.__doc__
    cls = _FAST_CLASSES[scalars, n_fixed] = type(
        "Callable", (Callable,), {"__call__": fast_call, "__module__": __name__,
                                  "__qualname__": "Callable", "__doc__": Callable.__doc__})
    return cls
