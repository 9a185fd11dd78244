"""Halide's scalar and vector types.

A `Type` is a type code (int, uint, float, handle), a bit width and a lane
count. `Bool()` is `UInt(1)`, as in Halide. Types are immutable values and
double as the user-facing `hl.Type`.
"""
from __future__ import annotations

import enum

import numpy as np


class TypeCode(enum.Enum):
    INT = "int"
    UINT = "uint"
    FLOAT = "float"
    HANDLE = "handle"


class Type:
    __slots__ = ("code", "nbits", "nlanes")

    def __init__(self, code: TypeCode, bits: int, lanes: int = 1):
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "nbits", bits)
        object.__setattr__(self, "nlanes", lanes)

    def __setattr__(self, name, value):
        raise AttributeError("Type is immutable")

    # Halide's accessor names.
    def bits(self) -> int:
        return self.nbits

    def lanes(self) -> int:
        return self.nlanes

    def is_int(self) -> bool:
        return self.code is TypeCode.INT

    def is_uint(self) -> bool:
        return self.code is TypeCode.UINT

    def is_float(self) -> bool:
        return self.code is TypeCode.FLOAT

    def is_bool(self) -> bool:
        return self.code is TypeCode.UINT and self.nbits == 1

    def is_handle(self) -> bool:
        return self.code is TypeCode.HANDLE

    def is_vector(self) -> bool:
        return self.nlanes > 1

    def is_scalar(self) -> bool:
        return self.nlanes == 1

    def with_lanes(self, lanes: int) -> "Type":
        return Type(self.code, self.nbits, lanes)

    def with_bits(self, bits: int) -> "Type":
        return Type(self.code, bits, self.nlanes)

    def with_code(self, code: TypeCode) -> "Type":
        return Type(code, self.nbits, self.nlanes)

    def element_of(self) -> "Type":
        return Type(self.code, self.nbits, 1)

    def bytes(self) -> int:
        return (self.nbits + 7) // 8

    def can_represent(self, value) -> bool:
        """Whether the Python number `value` is exactly representable."""
        if self.is_float():
            if isinstance(value, int) and abs(value) > 2**53:
                return False
            if self.nbits == 32:
                return float(np.float32(value)) == float(value) or value != value
            return True
        if isinstance(value, float) and value != int(value):
            return False
        return self.min_value() <= value <= self.max_value()

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
        from pipelang.ir.nodes import make_const
        return make_const(self, self.max_value())

    def min(self):
        from pipelang.ir.nodes import make_const
        return make_const(self, self.min_value())

    def numpy_dtype(self) -> np.dtype:
        if self.is_bool():
            return np.dtype(np.bool_)
        kind = {TypeCode.INT: "i", TypeCode.UINT: "u", TypeCode.FLOAT: "f"}[self.code]
        return np.dtype(f"{kind}{self.bytes()}")

    def __eq__(self, other):
        return (isinstance(other, Type) and self.code is other.code
                and self.nbits == other.nbits and self.nlanes == other.nlanes)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.code, self.nbits, self.nlanes))

    def __str__(self) -> str:
        if self.is_bool():
            base = "bool"
        elif self.is_handle():
            base = "handle"
        else:
            base = f"{self.code.value}{self.nbits}"
        return base if self.nlanes == 1 else f"{base}x{self.nlanes}"

    def __repr__(self) -> str:
        return f"<pipelang.Type {self}>"


def Int(bits: int, lanes: int = 1) -> Type:
    return Type(TypeCode.INT, bits, lanes)


def UInt(bits: int, lanes: int = 1) -> Type:
    return Type(TypeCode.UINT, bits, lanes)


def Float(bits: int, lanes: int = 1) -> Type:
    return Type(TypeCode.FLOAT, bits, lanes)


def Bool(lanes: int = 1) -> Type:
    return Type(TypeCode.UINT, 1, lanes)


def Handle() -> Type:
    return Type(TypeCode.HANDLE, 64, 1)


def type_of_dtype(dtype) -> Type:
    """The Halide type of a numpy dtype (bool becomes Bool())."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return Bool()
    code = {"i": TypeCode.INT, "u": TypeCode.UINT, "f": TypeCode.FLOAT}.get(dtype.kind)
    if code is None or (code is TypeCode.FLOAT and dtype.itemsize == 2):
        raise TypeError(f"numpy dtype {dtype} has no pipelang type")
    return Type(code, dtype.itemsize * 8)
