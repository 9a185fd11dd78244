"""Pipeline inputs bound at run time: scalar `Param`s and `ImageParam`s."""
from __future__ import annotations

import itertools

import numpy as np

from pipelang import ir
from pipelang.buffer import Buffer, Dimension, register_fields
from pipelang.errors import BufferError_, CompileError, HalideError
from pipelang.expr import Expr, ExprOps, to_ir

_counter = itertools.count()

# Which Param owns each scalar symbol.
# A view of `Symbol.owner` (see `ir.OwnerTable`): the Param a symbol is.
param_owner = ir.OwnerTable(lambda owner: isinstance(owner, Param))


def _check_value(t: ir.Type, value, name: str):
    if isinstance(value, (float, np.floating)):
        # Halide's Python binding takes a Python float through a C float (its
        # set<float> overload is tried before set<double>), whatever the
        # Param's type: Param(Float(64), "p", 0.1) holds float32(0.1).
        with np.errstate(over="ignore"):
            value = float(np.float32(value))
    if t.is_float():
        return float(value)
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if isinstance(value, (float, np.floating)) and float(value) != int(value):
        raise HalideError(f"The value {value} cannot be losslessly converted to type {t}")
    value = int(value)
    if not t.min_value() <= value <= t.max_value():
        raise HalideError(f"The value {value} cannot be losslessly converted to type {t}")
    return value


class Parameter:
    """Halide's `hl.Parameter`: the name, type and shape of a Param or
    ImageParam, as `serialize_pipeline` reports them and `deserialize_pipeline`
    takes them back (to read the given Param instead of a fresh one)."""

    def __init__(self, owner):
        self._owner = owner

    def owner(self):
        return self._owner

    def name(self) -> str:
        return self._owner.name()

    def type(self) -> ir.Type:
        return self._owner.type()

    def is_buffer(self) -> bool:
        return isinstance(self._owner, ImageParam)

    def dimensions(self) -> int:
        return self._owner.dimensions() if self.is_buffer() else 0

    def defined(self) -> bool:
        return True

    def same_as(self, other) -> bool:
        return isinstance(other, Parameter) and other._owner is self._owner

    def __repr__(self) -> str:
        return f"<halide.Parameter '{self.name()}' type {self.type()}>"


class Param(ExprOps):
    """A scalar input: `hl.Param(hl.Float(32), "gain", 1.5)`."""
    __slots__ = ("_type", "_name", "_sym", "_value", "_estimate", "__weakref__")

    def __init__(self, t: ir.Type, *args, name: str | None = None):
        value = None
        if args and isinstance(args[0], str):
            name, args = args[0], args[1:]
        if args:
            value = args[0]
        if not isinstance(t, ir.Type):
            raise TypeError(f"Param needs a pipelang Type first, not {t!r}")
        self._type = t
        self._name = name or f"p{next(_counter)}"
        self._sym = ir.Symbol(self._name)
        self._value = _check_value(t, value, self._name) if value is not None else (
            0.0 if t.is_float() else 0)
        self._estimate = None
        param_owner[self._sym] = self

    def name(self) -> str:
        return self._name

    def type(self) -> ir.Type:
        return self._type

    def set(self, value) -> None:
        self._value = _check_value(self._type, value, self._name)

    def get(self):
        return self._value

    def parameter(self) -> Parameter:
        return Parameter(self)

    def set_range(self, min_, max_):
        return self

    def set_estimate(self, value):
        """The value the autoscheduler assumes (the current value if never set)."""
        self._estimate = _check_value(self._type, value, self._name)
        return self

    def estimate(self):
        return self._estimate if self._estimate is not None else self._value

    def _to_ir(self) -> ir.Expr:
        return ir.Variable(self._type, self._sym)

    def __repr__(self) -> str:
        return f"<halide.Param '{self._name}' type {self._type}>"


class OutputImageParam:
    """Halide's base of ImageParam (the buffer of a pipeline argument); here
    only its undefined form, `hl.OutputImageParam()`."""

    def defined(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<halide.{type(self).__name__} {type(self).__name__}()>"


class ImageParam(OutputImageParam):
    """A buffer input: `hl.ImageParam(hl.UInt(8), 2, "input")`, bound with `.set(buffer)`.
    `hl.ImageParam()` is an undefined one."""

    def __init__(self, t: ir.Type | None = None, dimensions: int | None = None, name: str | None = None):
        if t is None and dimensions is None:
            self._type, self._dims, self._name = None, 0, ""
            return
        if not isinstance(t, ir.Type):
            raise TypeError(f"ImageParam needs a pipelang Type first, not {t!r}")
        self._type = t
        self._dims = int(dimensions)
        self._name = name or f"p{next(_counter)}"
        self._sym = ir.Symbol(self._name)
        self._buffer: Buffer | None = None
        self._estimates: list = [None] * self._dims   # (min, extent) ints, for the autoscheduler
        self._constraints: dict = {}    # (dim, "min" | "extent" | "stride") -> ir.Expr
        register_fields(self, self._sym, self._dims)

    def set_estimates(self, estimates):
        """One `hl.Range(min, extent)` (or (min, extent) pair) per dimension."""
        if len(estimates) != self._dims:
            raise CompileError(f"ImageParam {self._name} has {self._dims} dimensions but "
                               f"set_estimates was given {len(estimates)} ranges")
        for d, r in enumerate(estimates):
            lo, ext = (r.min, r.extent) if hasattr(r, "extent") else r
            self._set_estimate(d, lo, ext)
        return self

    def _set_estimate(self, d: int, min_, extent) -> None:
        self._estimates[d] = (int(min_), int(extent))

    def estimates(self) -> list:
        return list(self._estimates)

    def name(self) -> str:
        return self._name

    def type(self) -> ir.Type:
        return self._type

    def dimensions(self) -> int:
        return self._dims

    def set(self, buffer) -> None:
        if not isinstance(buffer, Buffer):
            buffer = Buffer(buffer)
        if buffer.type() != self._type:
            raise BufferError_(f"Can't bind ImageParam {self._name} of type {self._type} to "
                               f"Buffer {buffer.name()} of type {buffer.type()}")
        if buffer.dimensions() != self._dims:
            raise BufferError_(f"Can't bind ImageParam {self._name} of {self._dims} dimensions "
                               f"to Buffer {buffer.name()} of {buffer.dimensions()} dimensions")
        self._buffer = buffer

    def get(self) -> Buffer | None:
        return self._buffer

    def reset(self) -> None:
        self._buffer = None

    def parameter(self) -> Parameter:
        return Parameter(self)

    def _field(self, f, d) -> Expr:
        if not 0 <= d < self._dims:
            raise CompileError(f"ImageParam {self._name} has {self._dims} dimensions; "
                               f"dimension {d} does not exist")
        return Expr(ir.Variable(ir.Int(32), f(self._sym, d)))

    def dim(self, d: int) -> Dimension:
        """Dimension `d`: its min/extent/stride as Exprs, and `set_min`,
        `set_extent`, `set_stride`, `set_bounds` to constrain them."""
        from pipelang.constraints import ConstrainedDimension
        self._field(ir.buffer_min, d)          # checks d
        return ConstrainedDimension(self._sym, d, self._constraints,
                                    estimate=lambda lo, e: self._set_estimate(d, lo, e), owner=self)

    def width(self) -> Expr:
        return self._field(ir.buffer_extent, 0)

    def height(self) -> Expr:
        return self._field(ir.buffer_extent, 1)

    def channels(self) -> Expr:
        return self._field(ir.buffer_extent, 2)

    def left(self) -> Expr:
        return self._field(ir.buffer_min, 0)

    def top(self) -> Expr:
        return self._field(ir.buffer_min, 1)

    def right(self) -> Expr:
        return self.dim(0).max()

    def bottom(self) -> Expr:
        return self.dim(1).max()

    def __getitem__(self, pos):
        items = pos if isinstance(pos, tuple) else (pos,)
        if len(items) != self._dims:
            raise CompileError(f"ImageParam {self._name} has {self._dims} dimensions but was "
                               f"called with {len(items)} arguments")
        args = []
        for a in items:
            e = to_ir(a)
            if e.type.is_float():
                raise CompileError(f"ImageParam {self._name} was indexed with a float")
            args.append(e if e.type == ir.Int(32) else ir.Cast(ir.Int(32), e))
        return Expr(ir.Call(self._type, self._sym, tuple(args), ir.CallKind.IMAGE))

    def in_(self, f=None):
        """A wrapper Func that reads this image for `f` (a Func or a list), or for
        every consumer without its own wrapper (Halide's `ImageParam.in_`)."""
        from pipelang.func import Func
        from pipelang.wrappers import image_function, wrapper_of
        fn = image_function(self._sym, self._type, self._dims, self._name)
        return Func._of(wrapper_of(fn, f, clone=False))

    def __repr__(self) -> str:
        if self._type is None:
            return "<halide.ImageParam ImageParam()>"
        return f"<halide.ImageParam '{self._name}', dims: {self._dims}, type: {self._type}>"

    def defined(self) -> bool:
        return self._type is not None


InputBuffer = ImageParam
