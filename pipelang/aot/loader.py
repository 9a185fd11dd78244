"""Load an AOT artifact back into Python and call it, with no C compiler.

    f = hl.load_library("brighter.a")      # or .o / .obj / .so
    f(input_array, 10, output_array)       # Halide's argument order

A `.so` is opened with ctypes; an object (or the object inside a static
library) is linked into this process by LLVM's MCJIT loader. The argument
list comes from the artifact's own `<name>_metadata()`, so every argument is
checked (kind, type, dimensions) before the call; failures inside the
pipeline come back through `halide_error` as a `PipelineRuntimeError` with
Halide's message and error code.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import threading

import numpy as np

from pipelang.buffer import Buffer
from pipelang.errors import BufferError_, HalideError, PipelineRuntimeError
from pipelang.ir.types import Float, Handle, Int, Type, UInt


class _Type(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _Dim(ctypes.Structure):
    _fields_ = [("min", ctypes.c_int32), ("extent", ctypes.c_int32), ("stride", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


class _Buffer(ctypes.Structure):
    _fields_ = [("device", ctypes.c_uint64), ("device_interface", ctypes.c_void_p),
                ("host", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("type", _Type),
                ("dimensions", ctypes.c_int32), ("dim", ctypes.POINTER(_Dim)),
                ("padding", ctypes.c_void_p)]


class _Argument(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("kind", ctypes.c_int32),
                ("dimensions", ctypes.c_int32), ("type", _Type),
                ("scalar_def", ctypes.c_void_p), ("scalar_min", ctypes.c_void_p),
                ("scalar_max", ctypes.c_void_p), ("scalar_estimate", ctypes.c_void_p),
                ("buffer_estimates", ctypes.c_void_p)]


class _Metadata(ctypes.Structure):
    _fields_ = [("version", ctypes.c_int32), ("num_arguments", ctypes.c_int32),
                ("arguments", ctypes.POINTER(_Argument)), ("target", ctypes.c_char_p),
                ("name", ctypes.c_char_p)]


_MISSING = object()
_ERROR_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
_messages = threading.local()


@_ERROR_HANDLER
def _on_error(user_context, message):
    _messages.last = message.decode(errors="replace")


def _type_of(t: _Type) -> Type:
    if t.code == 2:
        return Float(t.bits)
    if t.code == 3:
        return Handle()
    if t.code == 1:
        return UInt(t.bits)
    return Int(t.bits)


_SCALAR_CTYPES = {(0, 8): ctypes.c_int8, (0, 16): ctypes.c_int16, (0, 32): ctypes.c_int32,
                  (0, 64): ctypes.c_int64, (1, 1): ctypes.c_bool, (1, 8): ctypes.c_uint8,
                  (1, 16): ctypes.c_uint16, (1, 32): ctypes.c_uint32, (1, 64): ctypes.c_uint64,
                  (2, 32): ctypes.c_float, (2, 64): ctypes.c_double, (3, 64): ctypes.c_void_p}


def _object_members(path: str) -> list[bytes]:
    """The object files of an `ar` archive (any of the common variants)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"!<arch>\n"):
        return [data]
    members, pos = [], 8
    while pos + 60 <= len(data):
        name = data[pos:pos + 16].rstrip()
        size = int(data[pos + 48:pos + 58].strip())
        body = data[pos + 60:pos + 60 + size]
        if name not in (b"/", b"//", b"__.SYMDEF", b"__.SYMDEF SORTED", b"/SYM64/"):
            members.append(body)
        pos += 60 + size + (size % 2)
    return members


class _Loaded:
    """The code of a loaded artifact; resolves its symbols.

    The artifact carries its own thread pool, whose worker threads live in
    this code once a parallel loop has run and are never joined, so the code
    must outlive them: it is kept for the life of the process (`_loaded`
    holds every one), as a shared library that is never dlclose()d."""

    def __init__(self, path: str, data: bytes | None = None):
        self.path = path
        if data is None and path.endswith((".so", ".dylib", ".dll")):
            self.lib = ctypes.CDLL(os.path.abspath(path))
            self.address = lambda name: ctypes.cast(getattr(self.lib, name), ctypes.c_void_p).value
            return
        import llvmlite.binding as llvm
        from pipelang.backends.llvm.jit import llvm_lock, new_target_machine
        with llvm_lock:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), new_target_machine())
            for member in ([data] if data is not None else _object_members(path)):
                self.engine.add_object_file(llvm.ObjectFileRef.from_data(member))
            self.engine.finalize_object()
        self.address = self._engine_address

    def _engine_address(self, name: str) -> int:
        from pipelang.backends.llvm.jit import llvm_lock
        with llvm_lock:
            address = self.engine.get_function_address(name)
        if not address:
            raise HalideError(f"{self.path} defines no function {name}")
        return address


class AotFunction:
    """One exported pipeline of a loaded artifact, callable on numpy arrays
    and `hl.Buffer`s (inputs, then scalars, then outputs, in Halide's order)."""

    def __init__(self, loaded: _Loaded, name: str):
        self._loaded = loaded
        self.name = name
        meta = ctypes.CFUNCTYPE(ctypes.POINTER(_Metadata))(loaded.address(name + "_metadata"))()
        self.target = meta.contents.target.decode()
        # Built with the user_context feature: a leading void* (passed as NULL).
        self._user_context = "user_context" in self.target.split("-")
        self._null_context = ctypes.c_void_p(None)
        self.arguments = [(a.name.decode(), a.kind, a.dimensions, _type_of(a.type), a.type)
                          for a in meta.contents.arguments[:meta.contents.num_arguments]]
        self._argv = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_void_p))(
            loaded.address(name + "_argv"))
        setter = ctypes.CFUNCTYPE(ctypes.c_void_p, _ERROR_HANDLER)(
            loaded.address("halide_set_error_handler"))
        setter(_on_error)

    def __repr__(self) -> str:
        args = ", ".join(n for n, *_ in self.arguments)
        return f"<pipelang.AotFunction {self.name}({args}) for {self.target}>"

    def __call__(self, *args, **kwargs):
        args = self._bind(args, kwargs)
        keep, slots = [], []
        for value, (name, kind, dims, t, raw_type) in zip(args, self.arguments):
            if kind == 0:
                ctype = _SCALAR_CTYPES.get((raw_type.code, raw_type.bits))
                if ctype is None:
                    raise HalideError(f"Argument {name} of {self.name} has unsupported type {t}")
                if not isinstance(value, (bool, int, float, np.number, np.bool_)):
                    raise HalideError(f"Argument {name} is not an instance of {t} "
                                      f"(a Python number): {value!r}")
                cell = ctype(self._scalar(name, t, value))
            else:
                cell = self._buffer(name, kind, dims, t, value, keep)
            keep.append(cell)
            slots.append(ctypes.cast(ctypes.pointer(cell), ctypes.c_void_p).value)
        if self._user_context:
            slots.insert(0, ctypes.cast(ctypes.pointer(self._null_context), ctypes.c_void_p).value)
        argv = (ctypes.c_void_p * max(len(slots), 1))(*slots)
        _messages.last = None
        rc = self._argv(argv)
        if rc:
            raise PipelineRuntimeError(f"{self.name} failed with error code {rc}: "
                                       f"{_messages.last or '(no message)'}")

    def _bind(self, args, kwargs) -> list:
        """Positional then keyword arguments, in Halide's order (Callable's rules)."""
        n = len(self.arguments)
        if len(args) > n:
            raise HalideError(f"Expected at most {n} positional arguments, but saw {len(args)}.")
        if not kwargs and len(args) < n:
            raise HalideError(f"Expected exactly {n} positional arguments, but saw {len(args)}.")
        values = list(args) + [_MISSING] * (n - len(args))
        index = {name: i for i, (name, *_) in enumerate(self.arguments)}
        for k, v in kwargs.items():
            i = index.get(k)
            if i is None:
                raise HalideError(f"Unknown argument '{k}' specified via keyword.")
            if values[i] is not _MISSING:
                raise HalideError(f"Argument {k} specified multiple times.")
            values[i] = v
        for (name, *_), v in zip(self.arguments, values):
            if v is _MISSING:
                raise HalideError(f"Argument {name} was not specified by either positional or "
                                  f"keyword argument.")
        return values

    @staticmethod
    def _scalar(name, t: Type, value):
        from pipelang.param import _check_value
        if t.is_handle():
            return value
        return _check_value(t, value, name)

    def _buffer(self, name, kind, dims, t: Type, value, keep):
        what = "Input" if kind == 1 else "Output"
        buf = value if isinstance(value, Buffer) else None
        if buf is None:
            if not isinstance(value, np.ndarray):
                raise BufferError_(f"Argument {name} is not an instance of Buffer (or a numpy "
                                   f"array): {type(value).__name__}")
            buf = Buffer(value)
        arr = buf._array
        if buf.type() != t:
            raise BufferError_(f"{what} buffer {name} has type {t} but the buffer passed in "
                               f"has type {buf.type()}")
        if arr.ndim != dims:
            raise BufferError_(f"{what} buffer {name} requires a buffer of exactly {dims} "
                               f"dimensions, but the buffer passed in has {arr.ndim} dimensions")
        if kind == 2 and not arr.flags.writeable:
            raise BufferError_(f"Output buffer {name} of {self.name} is read-only")
        raw = RawBuffer(buf)
        keep.append(raw)
        return raw.struct


class RawBuffer:
    """A `halide_buffer_t` describing an `hl.Buffer` (its array must outlive it)."""

    def __init__(self, buf: Buffer):
        arr, t, dims = buf._array, buf.type(), buf.dimensions()
        self.array = arr
        self.dims = (_Dim * max(dims, 1))()
        for d in range(dims):
            axis = dims - 1 - d
            self.dims[d] = _Dim(buf._mins[d], arr.shape[axis], arr.strides[axis] // arr.itemsize, 0)
        self.struct = hb = _Buffer()
        hb.host = arr.__array_interface__["data"][0] or None
        hb.type = _Type(0 if t.is_int() else 2 if t.is_float() else 3 if t.is_handle() else 1,
                        1 if t.is_bool() else t.bits(), 1)
        hb.dimensions = dims
        hb.dim = ctypes.cast(self.dims, ctypes.POINTER(_Dim))
        self.address = ctypes.addressof(hb)


def _loaded(path: str, data: bytes | None = None) -> _Loaded:
    # Loaded code is never freed (see _Loaded), so the same artifact loaded
    # again reuses the code, thread pool and all, instead of adding another.
    if data is not None:
        key = ("data", hashlib.sha256(data).hexdigest())
    else:
        st = os.stat(path)
        key = ("file", os.path.realpath(path), st.st_mtime_ns, st.st_size)
    loaded = _LOADED_BY_KEY.get(key)
    if loaded is None:
        loaded = _LOADED_BY_KEY[key] = _Loaded(path, data)
    return loaded


_LOADED_BY_KEY: dict = {}


def load_object(data: bytes, name: str) -> AotFunction:
    """`name` from an object file's bytes (a host-target AotModule's output)."""
    return AotFunction(_loaded(f"<object {name}>", data), name)


def load_library(path: str, name: str | None = None) -> AotFunction:
    """The pipeline `name` (default: the file's base name) of an AOT artifact."""
    if not os.path.exists(path):
        raise HalideError(f"load_library: no such file {path}")
    if name is None:
        name = os.path.basename(path).split(".")[0]
    return AotFunction(_loaded(path), name)
