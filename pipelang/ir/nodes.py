"""The IR: immutable Expr and Stmt nodes.

Every node is a frozen, slotted dataclass. `==` is structural equality (for
tests); passes use `is` to tell whether a mutator changed anything. Each
Expr and Stmt caches its structural hash (computed on first use from its
children's cached hashes), so `hash()` is O(1) after the first call and
`==` (and `analysis.linear.same_expr`) fail fast on different trees. Variables,
Funcs and buffers are `Symbol`s, compared by identity, never by name.

Two levels share these nodes:
  * before storage flattening, Funcs are read with `Call` and written with
    `Provide`, and their storage is a multi-dimensional `Realize`;
  * after it, memory is `Load`/`Store` at a flat element index from the
    buffer's host pointer, and storage is an `Allocate`.
The backends accept only the second level (see `LoweredFunc`).
"""
from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields

from pipelang.ir.types import Bool, Int, Type


class Symbol:
    """A unique name for a variable, Func, buffer or allocation.

    Identity is the symbol's meaning; `name` is for printing only. `field`
    gives derived symbols (a buffer's `min.0`, a loop's `loop_max`) that are
    the same object every time they are asked for.
    """
    __slots__ = ("name", "_fields", "owner", "__weakref__")

    def __init__(self, name: str):
        self.name = name
        self._fields = None
        # What the symbol names in the front end (a Function, Buffer, Param...),
        # kept alive for as long as IR refers to the symbol: the front end's
        # symbol tables hold their entries weakly, so a pipeline nobody
        # references any more is freed with everything it named.
        self.owner = None

    def field(self, suffix: str) -> "Symbol":
        if self._fields is None:
            self._fields = {}
        sym = self._fields.get(suffix)
        if sym is None:
            sym = self._fields[suffix] = Symbol(f"{self.name}.{suffix}")
        return sym

    def __repr__(self) -> str:
        return f"Symbol({self.name!r})"


class OwnerTable:
    """The symbols whose `owner` passes `accepts`, as a mapping symbol -> owner.

    The front end's tables (Funcs, Params, buffer fields by symbol) are
    views of `Symbol.owner`, not dicts: a dict's keys would keep every
    symbol, and so everything it named, alive for the life of the process."""

    def __init__(self, accepts):
        self.accepts = accepts

    def __getitem__(self, sym: Symbol):
        owner = getattr(sym, "owner", None)
        if owner is None or not self.accepts(owner):
            raise KeyError(sym)
        return owner

    def __setitem__(self, sym: Symbol, owner) -> None:
        sym.owner = owner

    def __contains__(self, sym) -> bool:
        owner = getattr(sym, "owner", None)
        return owner is not None and self.accepts(owner)

    def get(self, sym, default=None):
        owner = getattr(sym, "owner", None)
        return owner if owner is not None and self.accepts(owner) else default


class Expr:
    """Base of every expression node; each carries its `type`."""
    # Caches: the structural hash (see _node) and the free symbols
    # (visitor.free_symbols), filled on first use.
    __slots__ = ("_shash", "_fsyms")

    def __repr__(self) -> str:
        from pipelang.ir.printer import to_string
        return to_string(self)


class Stmt:
    """Base of every statement node."""
    __slots__ = ("_shash", "_fsyms")

    def __repr__(self) -> str:
        from pipelang.ir.printer import to_string
        return to_string(self)


def _node(cls):
    cls = dataclass(frozen=True, slots=True, repr=False)(cls)
    if issubclass(cls, (Expr, Stmt)):
        _add_structural_hash(cls)
    return cls


def _float_hash(v: float) -> int:
    # Every NaN hashes alike (Python hashes a NaN by its object's identity);
    # 0.0 and -0.0 hash alike, as `==` finds them equal.
    return 0x7FF8 if v != v else hash(v)


_set = object.__setattr__


# The hash of (tag, field, field, ...): closures compiled with this module
# (a function made by `exec` would be interpreted even in a compiled build).
def _node_hash(tag: int, names: tuple):
    def __hash__(self):
        try:
            return self._shash
        except AttributeError:
            pass
        h = hash((tag,) + tuple([getattr(self, n) for n in names]))
        _set(self, '_shash', h)
        return h
    return __hash__


def _float_node_hash(tag: int):
    def __hash__(self):
        try:
            return self._shash
        except AttributeError:
            pass
        h = hash((tag, self.type, _float_hash(self.value)))
        _set(self, '_shash', h)
        return h
    return __hash__


def _add_structural_hash(cls) -> None:
    """Give node class `cls` a `__hash__` cached in the `_shash` slot, and an
    `__eq__` that compares those hashes before walking the trees.

    The hash covers the fields `==` compares (not a derived `type`), each
    child by its own cached hash, so it agrees with `==`: equal nodes hash
    alike. It is computed once per node, bottom-up as it is first asked for;
    the dataclass's own hash walked the whole tree on every call."""
    names = tuple(f.name for f in dataclass_fields(cls) if f.compare)
    tag = zlib.crc32(cls.__name__.encode())
    cls.__hash__ = (_float_node_hash(tag) if cls.__name__ == "FloatImm"
                    else _node_hash(tag, names))
    fields_eq = cls.__eq__

    def __eq__(self, other):
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        try:
            if self.__hash__() != other.__hash__():
                return False
        except TypeError:            # a field holding something unhashable
            pass
        return fields_eq(self, other)
    cls.__eq__ = __eq__


def _typed(type_of):
    """A node whose `type` is derived from its operands: computed once, at
    construction, and kept in a slot (not recomputed by walking the tree)."""
    def wrap(cls):
        cls.__annotations__ = dict(cls.__annotations__)
        cls.__annotations__["type"] = Type
        cls.type = field(init=False, compare=False, repr=False)
        check = cls.__dict__.get("__post_init__")

        def post_init(self):
            object.__setattr__(self, "type", type_of(self))
            if check:
                check(self)
        cls.__post_init__ = post_init
        return _node(cls)
    return wrap


# ---------------------------------------------------------------- constants

@_node
class IntImm(Expr):
    type: Type
    value: int

    def __post_init__(self):
        assert self.type.is_int() and self.type.is_scalar(), self.type


@_node
class UIntImm(Expr):
    type: Type
    value: int

    def __post_init__(self):
        assert self.type.is_uint() and self.type.is_scalar(), self.type


@_node
class FloatImm(Expr):
    type: Type
    value: float

    def __post_init__(self):
        assert self.type.is_float() and self.type.is_scalar(), self.type


@_node
class StringImm(Expr):
    type: Type
    value: str


# ---------------------------------------------------------------- leaves

@_node
class Variable(Expr):
    type: Type
    sym: Symbol


@_node
class Cast(Expr):
    type: Type
    value: Expr

    def __post_init__(self):
        assert self.type.lanes() == self.value.type.lanes(), (self.type, self.value.type)


# ---------------------------------------------------------------- arithmetic

class BinOp(Expr):
    """Arithmetic on two operands of the same type."""
    __slots__ = ()


class CmpOp(Expr):
    """Comparison of two operands of the same type; a boolean per lane."""
    __slots__ = ()


def _binop(cls):
    orig = cls.__dict__.get("__post_init__")

    def check(self):
        assert self.a.type == self.b.type, (cls.__name__, self.a.type, self.b.type)
        if orig:
            orig(self)
    cls.__post_init__ = check
    logic = orig is not None            # And, Or: boolean operands
    if issubclass(cls, CmpOp):
        cls = _typed(lambda n: Bool(n.a.type.lanes()))(cls)
    else:
        cls = _typed(lambda n: n.a.type)(cls)
    # The same checks and type as the dataclass's __init__ and __post_init__
    # give, in one call: lowering makes these nodes by the hundred thousand.
    # (A closure, not a function made by `exec`: compiled with this module,
    # it runs without an interpreted frame.)
    init = _binop_init(cls.__name__, logic, issubclass(cls, CmpOp))
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    return cls


def _binop_init(name: str, logic: bool, compare: bool):
    """The `__init__` of binary node class `name`: operands of one type,
    booleans for a logical operator, a boolean result for a comparison."""
    def __init__(self, a, b):
        ta = a.type
        tb = b.type
        assert ta is tb or ta == tb, (name, ta, tb)
        if logic:
            assert ta.is_bool(), ta
        _set(self, 'a', a)
        _set(self, 'b', b)
        _set(self, 'type', Bool(ta.nlanes) if compare else ta)
    return __init__


@_binop
class Add(BinOp):
    a: Expr
    b: Expr


@_binop
class Sub(BinOp):
    a: Expr
    b: Expr


@_binop
class Mul(BinOp):
    a: Expr
    b: Expr


@_binop
class Div(BinOp):
    """Floor division for ints (x / 0 is 0), IEEE division for floats."""
    a: Expr
    b: Expr


@_binop
class Mod(BinOp):
    """Euclidean modulo for ints (x % 0 is 0); a - b*floor(a/b) for floats."""
    a: Expr
    b: Expr


@_binop
class Min(BinOp):
    a: Expr
    b: Expr


@_binop
class Max(BinOp):
    a: Expr
    b: Expr


@_binop
class EQ(CmpOp):
    a: Expr
    b: Expr


@_binop
class NE(CmpOp):
    a: Expr
    b: Expr


@_binop
class LT(CmpOp):
    a: Expr
    b: Expr


@_binop
class LE(CmpOp):
    a: Expr
    b: Expr


@_binop
class GT(CmpOp):
    a: Expr
    b: Expr


@_binop
class GE(CmpOp):
    a: Expr
    b: Expr


@_binop
class And(BinOp):
    a: Expr
    b: Expr

    def __post_init__(self):
        assert self.a.type.is_bool(), self.a.type


@_binop
class Or(BinOp):
    a: Expr
    b: Expr

    def __post_init__(self):
        assert self.a.type.is_bool(), self.a.type


@_typed(lambda n: n.a.type)
class Not(Expr):
    a: Expr


@_typed(lambda n: n.true_value.type)
class Select(Expr):
    condition: Expr
    true_value: Expr
    false_value: Expr

    def __post_init__(self):
        assert self.true_value.type == self.false_value.type, (
            self.true_value.type, self.false_value.type)
        assert self.condition.type.is_bool()


# ---------------------------------------------------------------- vectors

@_typed(lambda n: n.base.type.with_lanes(n.lanes))
class Ramp(Expr):
    """The vector base, base + stride, ..., base + (lanes-1)*stride."""
    base: Expr
    stride: Expr
    lanes: int


@_typed(lambda n: n.value.type.with_lanes(n.lanes))
class Broadcast(Expr):
    value: Expr
    lanes: int


@_typed(lambda n: n.vectors[0].type.with_lanes(len(n.indices)))
class Shuffle(Expr):
    """Lanes picked from the concatenation of `vectors`, by `indices`."""
    vectors: tuple
    indices: tuple


# ---------------------------------------------------------------- calls and memory

class CallKind(enum.Enum):
    FUNC = "func"        # a Func, before storage flattening
    IMAGE = "image"      # an input buffer, before storage flattening


@_node
class Call(Expr):
    """A multi-dimensional read of a Func's value or an input buffer."""
    type: Type
    fn: Symbol
    args: tuple
    kind: CallKind = CallKind.FUNC
    value_index: int = 0


class Op(enum.Enum):
    """Intrinsic operations. Float math ops take and return float types."""
    BITWISE_AND = "bitwise_and"
    BITWISE_OR = "bitwise_or"
    BITWISE_XOR = "bitwise_xor"
    BITWISE_NOT = "bitwise_not"
    SHIFT_LEFT = "shift_left"
    SHIFT_RIGHT = "shift_right"
    ABS = "abs"              # result is the unsigned type of the same width for ints
    ABSD = "absd"            # |a - b|, unsigned result for ints
    SQRT = "sqrt"
    EXP = "exp"
    LOG = "log"
    POW = "pow"
    SIN = "sin"
    COS = "cos"
    TAN = "tan"
    ASIN = "asin"
    ACOS = "acos"
    ATAN = "atan"
    ATAN2 = "atan2"
    SINH = "sinh"
    COSH = "cosh"
    TANH = "tanh"
    ASINH = "asinh"
    ACOSH = "acosh"
    ATANH = "atanh"
    FLOOR = "floor"
    CEIL = "ceil"
    ROUND = "round"          # to nearest, ties to even (as Halide)
    TRUNC = "trunc"
    IS_NAN = "is_nan"
    IS_INF = "is_inf"
    IS_FINITE = "is_finite"
    REINTERPRET = "reinterpret"
    LIKELY = "likely"        # a hint: the value of its one argument
    STRICT_FLOAT = "strict_float"  # its one argument, evaluated without fast-math relaxations
    PRINT = "print"          # (value, condition, *pieces): print pieces if condition, give value
    POPCOUNT = "popcount"
    COUNT_LEADING_ZEROS = "count_leading_zeros"
    COUNT_TRAILING_ZEROS = "count_trailing_zeros"
    GPU_BARRIER = "gpu_thread_barrier"   # every thread of a GPU block waits here (no args)
    UNDEF = "undef"          # Halide's undef(): no value; removed when a Func is defined


@_node
class Intrinsic(Expr):
    type: Type
    op: Op
    args: tuple


@_node
class Load(Expr):
    """Element `index` of `buf` (flat, in elements, from its host pointer).

    A vector `index` (a Ramp for dense loads) gives a vector `type`.
    """
    type: Type
    buf: Symbol
    index: Expr


@_typed(lambda n: n.body.type)
class Let(Expr):
    sym: Symbol
    value: Expr
    body: Expr


# ---------------------------------------------------------------- statements

class ForKind(enum.Enum):
    SERIAL = "for"
    PARALLEL = "parallel"
    VECTORIZED = "vectorized"
    UNROLLED = "unrolled"
    GPU_BLOCK = "gpu_block"      # one iteration per GPU block (blockIdx)
    GPU_THREAD = "gpu_thread"    # one iteration per GPU thread of a block (threadIdx)
    GPU_LANE = "gpu_lane"        # a GPU thread loop over the lanes of a warp (constant extent <= 32)

    def is_gpu(self) -> bool:
        return self in (ForKind.GPU_BLOCK, ForKind.GPU_THREAD, ForKind.GPU_LANE)


@_node
class LetStmt(Stmt):
    sym: Symbol
    value: Expr
    body: Stmt


@_node
class AssertStmt(Stmt):
    """Fail the pipeline with `message` unless `condition` holds.

    `message` is a `str.format` template filled with the values of `args`
    (integer Exprs) when the assertion fails.
    """
    condition: Expr
    message: str
    args: tuple = ()


@_node
class For(Stmt):
    sym: Symbol
    min: Expr
    extent: Expr
    kind: ForKind
    body: Stmt


@_node
class Provide(Stmt):
    """Write `values` (one per Tuple element) to Func `fn` at `args`."""
    fn: Symbol
    values: tuple
    args: tuple


@_node
class Store(Stmt):
    buf: Symbol
    value: Expr
    index: Expr


@_node
class Range:
    min: Expr
    extent: Expr


@_node
class Realize(Stmt):
    """Storage for Func `fn` over `bounds` (one Range per dimension)."""
    fn: Symbol
    types: tuple
    bounds: tuple
    body: Stmt


class MemoryType(enum.Enum):
    AUTO = "auto"
    STACK = "stack"
    HEAP = "heap"
    REGISTER = "register"        # fixed size, on the stack (in registers where LLVM can)
    GPU_SHARED = "gpu_shared"    # one copy per GPU block, in the kernel's shared memory


@_node
class Allocate(Stmt):
    """`size` elements of `type` for `buf`, live for `body` and freed after."""
    buf: Symbol
    type: Type
    size: Expr
    memory: MemoryType
    body: Stmt


@_node
class Atomic(Stmt):
    """The stores in `body` (one update of Func `fn`) happen atomically: one
    store as an atomic read-modify-write, several (a Tuple) under a lock."""
    fn: Symbol
    body: Stmt


@_node
class Memoized(Stmt):
    """A memoized Func's computation: if the cache holds a realization under
    the same `key` values, copy it into `buffers` (of `sizes` bytes); else
    run `body`, which writes them, and cache the result."""
    fn: Symbol
    key: tuple           # scalar Exprs (ints, floats) naming the realization
    buffers: tuple       # Symbols of the allocations the body fills
    sizes: tuple         # Exprs: bytes of each buffer (Int(64))
    body: Stmt


@_node
class ProducerConsumer(Stmt):
    fn: Symbol
    is_producer: bool
    body: Stmt


@_node
class Block(Stmt):
    stmts: tuple

    def __post_init__(self):
        assert all(isinstance(s, Stmt) for s in self.stmts)


@_node
class IfThenElse(Stmt):
    condition: Expr
    then_case: Stmt
    else_case: Stmt | None = None


@_node
class Evaluate(Stmt):
    value: Expr


@_node
class Prefetch(Stmt):
    """A hint (Halide's prefetch), before storage flattening: bring the cache
    line holding element `args` of Func or input buffer `fn` (its Tuple
    element `value_index`) into the cache. It reads nothing, never faults
    and changes no value; `lowering/prefetch.py` places it, and storage
    flattening makes it a `PrefetchAddress`."""
    fn: Symbol
    type: Type
    args: tuple
    kind: CallKind = CallKind.FUNC
    value_index: int = 0


@_node
class PrefetchAddress(Stmt):
    """A `Prefetch` after storage flattening: the cache line holding element
    `index` (flat, as a `Load`'s) of `buf`. The element may lie outside the
    buffer (a NonFaulting prefetch): the backends compute its address
    without assuming otherwise, and read nothing."""
    buf: Symbol
    type: Type
    index: Expr


# ---------------------------------------------------------------- the lowered function

class ArgKind(enum.Enum):
    BUFFER = "buffer"
    SCALAR = "scalar"


@_node
class Argument:
    """One argument of a lowered pipeline.

    A buffer argument's descriptor fields are read through the symbols
    `buffer_host(sym)`, `buffer_min(sym, d)`, `buffer_extent(sym, d)` and
    `buffer_stride(sym, d)`; a scalar's value through `sym` itself.
    """
    sym: Symbol
    kind: ArgKind
    type: Type
    dimensions: int = 0


@_node
class LoweredFunc:
    """A pipeline after lowering: what every backend consumes.

    Only these nodes appear in `body`: constants, Variable, Cast, arithmetic,
    comparisons, And/Or/Not, Select, Ramp, Broadcast, Shuffle, Intrinsic,
    Load, Let; LetStmt, AssertStmt, For, Store, Allocate, Block, IfThenElse,
    Evaluate. Loop variables are Int(32). Vector widths are explicit.
    """
    name: str
    args: tuple
    body: Stmt


def buffer_host(buf: Symbol) -> Symbol:
    return buf.field("host")


def buffer_min(buf: Symbol, dim: int) -> Symbol:
    return buf.field(f"min.{dim}")


def buffer_extent(buf: Symbol, dim: int) -> Symbol:
    return buf.field(f"extent.{dim}")


def buffer_stride(buf: Symbol, dim: int) -> Symbol:
    return buf.field(f"stride.{dim}")


# ---------------------------------------------------------------- small constructors

def make_const(t: Type, value) -> Expr:
    """A constant of type `t` (a Broadcast for vector types), wrapped as C would."""
    if t.is_vector():
        return Broadcast(make_const(t.element_of(), value), t.lanes())
    if t.is_float():
        return FloatImm(t, float(value))
    value = int(value)
    key = (t, value)
    c = _INT_CONSTS.get(key)
    if c is not None:
        return c
    if t.is_uint():
        c = UIntImm(t, value & ((1 << t.bits()) - 1))
    else:
        bits = t.bits()
        v = value & ((1 << bits) - 1)
        if v >= 1 << (bits - 1):
            v -= 1 << bits
        c = IntImm(t, v)
    if len(_INT_CONSTS) >= 4096:
        _INT_CONSTS.clear()
    _INT_CONSTS[key] = c
    return c


# Scalar integer constants made by make_const and i32, shared (nodes are
# immutable): lowering makes them by the ten thousand.
_INT_CONSTS: dict = {}
_I32 = Int(32)


def i32(value: int) -> Expr:
    value = int(value)
    if -0x80000000 <= value <= 0x7FFFFFFF:
        return make_const(_I32, value)
    return IntImm(_I32, value)          # (not wrapped: as written)


def const_value(e: Expr):
    """The Python value of a scalar constant (or broadcast constant), else None."""
    if isinstance(e, Broadcast):
        e = e.value
    if isinstance(e, (IntImm, UIntImm, FloatImm)):
        return e.value
    return None


def is_const(e: Expr, value=None) -> bool:
    v = const_value(e)
    return v is not None and (value is None or v == value)


def var(sym: Symbol, t: Type = Int(32)) -> Variable:
    return Variable(t, sym)


def block(*stmts) -> Stmt:
    """A Block of the non-None statements, flattened; the lone statement if one."""
    flat = []
    for s in stmts:
        if s is None:
            continue
        if isinstance(s, Block):
            flat.extend(s.stmts)
        else:
            flat.append(s)
    if len(flat) == 1:
        return flat[0]
    return Block(tuple(flat))
