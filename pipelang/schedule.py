"""Schedule directives as plain data.

A `FuncSchedule` says where a Func is computed and stored (`LoopLevel`s) and,
for each of its stages, how the stage's domain is traversed: the `Split`s
applied to its dimensions, in order, and the resulting loop `Dim`s, innermost
first (Halide's order). Dimension names are Halide's dotted names: splitting
`x` into `xo, xi` makes dims `x.xo` and `x.xi`; fusing `x.xo` and `y` into
`t` makes `x.xo.t`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pipelang.ir import ForKind


class TailStrategy(enum.Enum):
    """What a split does when the factor does not divide the extent (Halide's names)."""
    RoundUp = "RoundUp"
    GuardWithIf = "GuardWithIf"
    Predicate = "Predicate"
    PredicateLoads = "PredicateLoads"
    PredicateStores = "PredicateStores"
    ShiftInwards = "ShiftInwards"
    RoundUpAndBlend = "RoundUpAndBlend"
    ShiftInwardsAndBlend = "ShiftInwardsAndBlend"
    Auto = "Auto"


class MemoryType(enum.Enum):
    """Where a Func's storage lives (`Func.store_in`; Halide's names).

    On the CPU: `Heap` is malloc'd, `Stack` is an alloca (of its constant
    bound when it has one), `Register` a fixed-size alloca that LLVM keeps
    in registers where every access is at a constant index (a compile error
    when the size has no constant bound), and `Auto` the stack for small
    fixed sizes, the heap otherwise. The GPU and accelerator kinds
    (`GPUShared`, `GPUTexture`, `LockedCache`, `VTCM`) mean nothing to a
    CPU allocation: it is placed as `Auto` (as Halide's CPU backends do)."""
    Auto = "Auto"
    Heap = "Heap"
    Stack = "Stack"
    Register = "Register"
    GPUShared = "GPUShared"
    GPUTexture = "GPUTexture"
    LockedCache = "LockedCache"
    VTCM = "VTCM"


class DeviceAPI(enum.Enum):
    """Which device runs a GPU loop (Halide's names). pipelang runs GPU
    schedules with CUDA only; `Default_GPU` resolves to it."""
    None_ = "None"
    Host = "Host"
    Default_GPU = "Default_GPU"
    CUDA = "CUDA"
    Vulkan = "Vulkan"
    OpenCL = "OpenCL"
    Metal = "Metal"
    Hexagon = "Hexagon"


setattr(DeviceAPI, "None", DeviceAPI.None_)     # Halide's spelling, not a Python identifier


class SplitKind(enum.Enum):
    SPLIT = "split"
    FUSE = "fuse"
    RENAME = "rename"


@dataclass(frozen=True)
class Split:
    """`old` becomes `outer * factor + inner` (SPLIT), or `outer` and `inner` become `old` (FUSE)."""
    old: str
    outer: str
    inner: str
    factor: object          # an ir.Expr (SPLIT), None otherwise
    kind: SplitKind
    tail: TailStrategy = TailStrategy.Auto


def stems_from_inner(old: str, prior) -> bool:
    """Whether `old` is the inner var of one of the `prior` splits, or a var
    derived from one (Halide's test for RoundUp in update definitions: an
    inner var's extent, the earlier factor, need not be a multiple of the new
    factor, so rounding it up would run points of the next outer iteration)."""
    inner = set()
    for sp in prior:
        if sp.kind is SplitKind.SPLIT:
            inner.add(sp.inner)
            if sp.old in inner:
                inner.add(sp.outer)
        elif sp.kind is SplitKind.FUSE:
            if sp.inner in inner or sp.outer in inner:
                inner.add(sp.old)
        elif sp.old in inner:
            inner.add(sp.outer)
    return old in inner


class LoopAlignStrategy(enum.Enum):
    """How `compute_with` lines up the iterations of a fused loop of the
    child stage with its parent's (Halide's names): shift the child so its
    first (AlignStart) or last (AlignEnd) iteration falls on the parent's,
    or not at all (NoAlign, and Auto, which Halide treats as NoAlign)."""
    AlignStart = "AlignStart"
    AlignEnd = "AlignEnd"
    NoAlign = "NoAlign"
    Auto = "Auto"


class Partition(enum.Enum):
    """Halide's loop partitioning policy for one loop (`Func.partition(x, ...)`):
    Auto partitions where a clamp or boundary condition allows it, Never keeps
    the loop whole, Always requires that it be partitioned."""
    Auto = "Auto"
    Never = "Never"
    Always = "Always"


class PrefetchBoundStrategy(enum.Enum):
    """What a prefetch does where the region a later iteration reads leaves
    the buffer (Halide's names): `Clamp` prefetches the part inside it,
    `GuardWithIf` skips the prefetch unless all of it is inside, and
    `NonFaulting` prefetches it as it is (a prefetch never faults)."""
    Clamp = 0
    GuardWithIf = 1
    NonFaulting = 2

    def __int__(self) -> int:          # as Halide's bindings' enums
        return self.value


@dataclass(frozen=True)
class Prefetch:
    """`stage.prefetch(f, at, from_, offset, strategy)`: at the top of each
    iteration of the stage's loop over `at`, prefetch the box of `fn` that
    the iteration `offset` steps further along loop `from_` touches.
    `fn` is a Func's symbol (`kind` FUNC) or an input buffer's (IMAGE)."""
    fn: object              # ir.Symbol
    name: str               # for messages
    kind: object            # ir.CallKind
    at: str
    from_: str
    offset: object          # an Int(32) ir.Expr
    strategy: PrefetchBoundStrategy = PrefetchBoundStrategy.GuardWithIf


@dataclass(frozen=True)
class Dim:
    var: str
    kind: ForKind = ForKind.SERIAL
    is_rvar: bool = False
    partition: Partition = Partition.Auto


@dataclass(frozen=True)
class Bound:
    var: str
    min: object             # ir.Expr or None
    extent: object          # ir.Expr


@dataclass(frozen=True)
class FuseLevel:
    """`compute_with`: this stage shares the loops of stage `stage_index` of
    `func` from the outermost one down to the loop over `var`, and runs after
    it inside the innermost of them. `align` maps fused var names to their
    LoopAlignStrategy."""
    func: object            # the parent's Function
    stage_index: int
    var: str
    align: tuple = ()       # ((var name, LoopAlignStrategy), ...)

    def strategy(self, var: str) -> "LoopAlignStrategy":
        """The strategy of a dim of the child (its full dotted name)."""
        for name, how in self.align:
            if var == name or var.endswith("." + name):
                return how
        return LoopAlignStrategy.Auto


@dataclass
class StageSchedule:
    dims: list = field(default_factory=list)      # Dim, innermost first
    splits: list = field(default_factory=list)    # Split, in the order applied
    touched: bool = False                         # any directive applied (for Halide's warning)
    unscheduled: bool = False                     # the user said it is left alone on purpose
    atomic: bool = False                          # Stage.atomic(): updates are atomic
    fuse_level: FuseLevel | None = None           # Stage.compute_with()
    prefetches: list = field(default_factory=list)  # Prefetch, in the order given

    def copy(self) -> "StageSchedule":
        return StageSchedule(list(self.dims), list(self.splits), self.touched, self.unscheduled,
                             self.atomic, self.fuse_level, list(self.prefetches))


class LoopLevelKind(enum.Enum):
    INLINED = "inlined"
    ROOT = "root"
    AT = "at"


class LoopLevel:
    """Where in the loop nest a Func is computed or stored (Halide's `hl.LoopLevel`).

    `LoopLevel(f, x)` is inside the loop over `x` of Func `f`'s last stage
    (or of `stage_index`); `LoopLevel.root()` is outside every loop;
    `LoopLevel.inlined()` means computed where used.
    """

    def __init__(self, func=None, var=None, stage_index: int = -1):
        if func is None:
            self.kind, self.func, self.var, self.stage_index = LoopLevelKind.INLINED, None, None, -1
            return
        self.kind = LoopLevelKind.AT
        self.func = getattr(func, "function", func)     # a Func handle or a Function
        self.var = var if isinstance(var, str) else var.name()
        self.stage_index = stage_index

    @staticmethod
    def root() -> "LoopLevel":
        lvl = LoopLevel()
        lvl.kind = LoopLevelKind.ROOT
        return lvl

    @staticmethod
    def inlined() -> "LoopLevel":
        return LoopLevel()

    def is_root(self) -> bool:
        return self.kind is LoopLevelKind.ROOT

    def is_inlined(self) -> bool:
        return self.kind is LoopLevelKind.INLINED

    def func_name(self) -> str:
        return self.func.name if self.func is not None else ""

    def var_name(self) -> str:
        return self.var or ""

    def __eq__(self, other):
        return (isinstance(other, LoopLevel) and self.kind is other.kind
                and self.func is other.func and self.var == other.var)

    def __hash__(self):
        return hash((self.kind, id(self.func), self.var))

    def __repr__(self) -> str:
        if self.kind is LoopLevelKind.AT:
            return f"LoopLevel({self.func.name}, {self.var})"
        return f"LoopLevel.{self.kind.value}()"


@dataclass
class FuncSchedule:
    compute_level: LoopLevel = field(default_factory=LoopLevel.inlined)
    store_level: LoopLevel = field(default_factory=LoopLevel.inlined)
    bounds: list = field(default_factory=list)           # Bound
    storage_dims: list = field(default_factory=list)     # pure var names, innermost first
    fold_factors: dict = field(default_factory=dict)     # var name -> (factor, fold_forward)
    # async_() and ring_buffer() are recorded and checked, but the producer still
    # runs before its consumer in the same thread (same results, Halide's loop
    # nest); hoist_storage() moves the allocation (lowering/hoist_storage.py).
    async_: bool = False
    hoist_storage_level: LoopLevel = field(default_factory=LoopLevel.inlined)   # inlined: unset
    ring_buffer: object = None                           # an ir.Expr, number of copies
    memory_type: MemoryType = MemoryType.Auto            # Func.store_in()
    memoized: bool = False                               # Func.memoize()
    memoize_id: int = 0                                  # its realizations' key in the cache
    trace_stores: bool = False
    trace_loads: bool = False
    trace_realizations: bool = False
