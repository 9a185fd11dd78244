"""Halide's scalar and vector types.

A `Type` is a type code (int, uint, float, handle), a bit width and a lane
count. `Bool()` is `UInt(1)`, as in Halide. Types are immutable values and
double as the user-facing `hl.Type`.
"""
from __future__ import annotations

import enum

import numpy as np


class TypeCode(enum.Enum):
    """Halide's `hl.TypeCode.Int/UInt/Float/Handle` (INT... are aliases)."""
    Int = "int"
    UInt = "uint"
    Float = "float"
    Handle = "handle"
    INT = "int"
    UINT = "uint"
    FLOAT = "float"
    HANDLE = "handle"

    def __repr__(self) -> str:
        return f"<TypeCode.{self.name}: {list(TypeCode).index(self)}>"

    def __int__(self) -> int:
        return list(TypeCode).index(self)


_VALID_BITS = {TypeCode.INT: (8, 16, 32, 64), TypeCode.UINT: (1, 8, 16, 32, 64),
               TypeCode.FLOAT: (16, 32, 64), TypeCode.HANDLE: (64,)}


_DTYPES: dict = {}     # (code, bits) -> numpy dtype, made once


class Type:
    """`hl.Type(code, bits, lanes)`; `hl.Type()` is Halide's empty `handle0`."""
    __slots__ = ("_code", "nbits", "nlanes", "_hash")

    def __init__(self, code: TypeCode = TypeCode.HANDLE, bits: int = 0, lanes: int | None = None):
        if not isinstance(code, TypeCode):
            raise TypeError(f"Type() takes a TypeCode first, not {type(code).__name__}")
        if lanes is None:
            lanes = 1 if bits else 0
        bits, lanes = int(bits), int(lanes)
        if bits < 0 or lanes < 0:
            raise ValueError(f"Type({code.name}, {bits}, {lanes}): bits and lanes must be non-negative")
        object.__setattr__(self, "_code", code)
        object.__setattr__(self, "nbits", bits)
        object.__setattr__(self, "nlanes", lanes)
        object.__setattr__(self, "_hash", hash((code, bits, lanes)))

    def __setattr__(self, name, value):
        raise AttributeError("Type is immutable")

    def __reduce__(self):
        return (Type, (self._code, self.nbits, self.nlanes))

    # Halide's accessor names.
    def code(self) -> TypeCode:
        return self._code

    def bits(self) -> int:
        return self.nbits

    def lanes(self) -> int:
        return self.nlanes

    def is_int(self) -> bool:
        return self._code is TypeCode.INT

    def is_uint(self) -> bool:
        return self._code is TypeCode.UINT

    def is_float(self) -> bool:
        return self._code is TypeCode.FLOAT

    def is_bfloat(self) -> bool:
        """Never: pipelang has no bfloat types."""
        return False

    def is_bool(self) -> bool:
        return self._code is TypeCode.UINT and self.nbits == 1

    def is_handle(self) -> bool:
        return self._code is TypeCode.HANDLE

    def same_handle_type(self, other: "Type") -> bool:
        """Handles carry no C++ type here, so any two handles match."""
        return self.is_handle() and other.is_handle()

    def is_valid(self) -> bool:
        """Whether code, bits and lanes make a type the compiler can generate."""
        return self.nbits in _VALID_BITS[self._code] and self.nlanes >= 1

    def is_vector(self) -> bool:
        return self.nlanes > 1

    def is_scalar(self) -> bool:
        return self.nlanes == 1

    def with_lanes(self, lanes: int) -> "Type":
        if lanes == self.nlanes:
            return self
        return _interned(self._code, self.nbits, lanes)

    def with_bits(self, bits: int) -> "Type":
        return Type(self._code, bits, self.nlanes)

    def with_code(self, code: TypeCode) -> "Type":
        if not isinstance(code, TypeCode):
            raise TypeError(f"with_code() takes a TypeCode, not {type(code).__name__}")
        return Type(code, self.nbits, self.nlanes)

    def element_of(self) -> "Type":
        if self.nlanes == 1:
            return self
        return _interned(self._code, self.nbits, 1)

    def bytes(self) -> int:
        """Bytes per element (per lane)."""
        return (self.nbits + 7) // 8

    def can_represent(self, value) -> bool:
        """Whether every value of the Type `value` (or the Python number
        `value`) is exactly representable in this type, as Halide's
        `Type::can_represent`."""
        if isinstance(value, Type):
            return self._can_represent_type(value)
        if self.is_float():
            if isinstance(value, int) and abs(value) > 2**53:
                return False
            if self.nbits == 32:
                return float(np.float32(value)) == float(value) or value != value
            return True
        if isinstance(value, float) and value != int(value):
            return False
        return self.min_value() <= value <= self.max_value()

    def _can_represent_type(self, other: "Type") -> bool:
        if self == other:
            return True
        if self.nlanes != other.nlanes:
            return False
        if self.is_int():
            return (other.is_int() and other.nbits <= self.nbits) or (other.is_uint() and other.nbits < self.nbits)
        if self.is_uint():
            return other.is_uint() and other.nbits <= self.nbits
        if self.is_float():
            # Halide's rule: wider floats, and any type at most half as wide.
            return ((other.is_float() and other.nbits <= self.nbits)
                    or (self.nbits == 64 and other.nbits <= 32) or (self.nbits == 32 and other.nbits <= 16))
        return False

    def is_max(self, value) -> bool:
        """Whether the integer `value` is this integer type's largest value."""
        return not self.is_float() and not self.is_handle() and int(value) == self.max_value()

    def is_min(self, value) -> bool:
        """Whether the integer `value` is this integer type's smallest value."""
        return not self.is_float() and not self.is_handle() and int(value) == self.min_value()

    def min_value(self):
        if self.is_int():
            return -(1 << (self.nbits - 1))
        if self.is_uint():
            return 0
        return -float(np.finfo(self.numpy_dtype()).max)

    def max_value(self):
        if self.is_int():
            return (1 << (self.nbits - 1)) - 1
        if self.is_uint():
            return (1 << self.nbits) - 1
        return float(np.finfo(self.numpy_dtype()).max)

    def max(self):
        """The largest value as an Expr (+inf for floats, as Halide)."""
        return self._user_const(float("inf") if self.is_float() else self.max_value())

    def min(self):
        """The smallest value as an Expr (-inf for floats, as Halide)."""
        return self._user_const(float("-inf") if self.is_float() else self.min_value())

    def _user_const(self, value):
        # The user-facing accessors give an `hl.Expr`; the import is late because
        # `ir` must not depend on the front end at import time.
        from pipelang.expr import Expr
        from pipelang.ir.nodes import make_const
        return Expr(make_const(self, value))

    def numpy_dtype(self) -> np.dtype:
        key = (self._code, self.nbits)
        dt = _DTYPES.get(key)
        if dt is None:
            if self.is_bool():
                dt = np.dtype(np.bool_)
            else:
                kind = {TypeCode.INT: "i", TypeCode.UINT: "u", TypeCode.FLOAT: "f"}.get(self._code)
                if kind is None:
                    raise TypeError(f"type {self} has no numpy dtype")
                dt = np.dtype(f"{kind}{self.bytes()}")
            _DTYPES[key] = dt
        return dt

    def __eq__(self, other):
        if self is other:
            return True
        return (isinstance(other, Type) and self._code is other._code
                and self.nbits == other.nbits and self.nlanes == other.nlanes)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return self._hash

    def __str__(self) -> str:
        if self.is_bool():
            base = "bool"
        else:
            base = f"{self._code.value}{self.nbits}"
        return base if self.nlanes <= 1 else f"{base}x{self.nlanes}"

    def __repr__(self) -> str:
        return f"<halide.Type {self}>"


# Types made by the constructors below are shared (they are immutable
# values): the compiler makes and compares them by the million, and `==`
# is then mostly `is`.
_INTERNED: dict = {}


def _interned(code: TypeCode, bits, lanes) -> Type:
    t = _INTERNED.get((code, bits, lanes))
    if t is None:
        t = Type(code, bits, lanes)
        if len(_INTERNED) < 4096:
            _INTERNED[(code, bits, lanes)] = t
    return t


def Int(bits: int, lanes: int = 1) -> Type:
    return _interned(TypeCode.INT, bits, lanes)


def UInt(bits: int, lanes: int = 1) -> Type:
    return _interned(TypeCode.UINT, bits, lanes)


def Float(bits: int, lanes: int = 1) -> Type:
    return _interned(TypeCode.FLOAT, bits, lanes)


def Bool(lanes: int = 1) -> Type:
    return _interned(TypeCode.UINT, 1, lanes)


def Handle() -> Type:
    return Type(TypeCode.HANDLE, 64, 1)


def type_of_dtype(dtype) -> Type:
    """The Halide type of a numpy dtype (bool becomes Bool())."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return Bool()
    code = {"i": TypeCode.INT, "u": TypeCode.UINT, "f": TypeCode.FLOAT}.get(dtype.kind)
    if code is None or dtype.itemsize not in (1, 2, 4, 8) or (code is TypeCode.FLOAT and dtype.itemsize == 1):
        raise TypeError(f"numpy dtype {dtype} has no pipelang type")
    return Type(code, dtype.itemsize * 8)
