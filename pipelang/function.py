"""The internal representation of a Func: its definitions and its schedule.

A `Function` is shared by every `Func` handle that names it (as Halide's
`Function` is). Its pure definition and each update definition are a
`Definition`; each Definition owns the `StageSchedule` of its stage.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipelang import ir
from pipelang.schedule import Dim, FuncSchedule, StageSchedule

# Bumped by every change to any definition or schedule, so a compiled
# pipeline can tell cheaply whether it must compile again.
_generation = [0]


def touch() -> None:
    _generation[0] += 1


def generation() -> int:
    return _generation[0]


# Every Function by its symbol: Calls in the IR hold only the symbol.
registry = ir.OwnerTable(lambda owner: isinstance(owner, Function))


def image_function_of(sym: ir.Symbol):
    """The Function standing for input image `sym` if it was wrapped with
    `in_()` (kept by the ImageParam itself, see `pipelang.wrappers`)."""
    from pipelang.buffer import field_owner
    owner = field_owner.get(ir.buffer_host(sym))
    return getattr(owner, "_im_function", None)


@dataclass
class ReductionVar:
    """One RVar of a reduction domain: it loops over [min, min + extent)."""
    name: str
    sym: ir.Symbol
    min: ir.Expr
    extent: ir.Expr


@dataclass
class Definition:
    args: tuple          # ir.Expr, the left-hand side
    values: tuple        # ir.Expr, one per Tuple element
    schedule: StageSchedule
    rvars: tuple = ()    # ReductionVar, innermost first
    predicate: ir.Expr | None = None   # RDom.where conditions, conjoined
    specializations: list = field(default_factory=list)   # Specialization, first tested first

    def is_update(self) -> bool:
        return bool(self.rvars) or not all(isinstance(a, ir.Variable) for a in self.args)

    def add_specialization(self, condition: ir.Expr, failure_message: str | None = None):
        """A copy of this definition, with its own schedule (inheriting all but
        the specializations), used where `condition` holds."""
        d = Definition(self.args, self.values, self.schedule.copy(), self.rvars, self.predicate)
        s = Specialization(condition, d, failure_message)
        self.specializations.append(s)
        touch()
        return s


@dataclass
class Specialization:
    """`f.specialize(condition)`: where `condition` (on Params and buffer
    properties) holds at run time, `definition` (same values, own schedule)
    replaces the general one; with a `failure_message`, the pipeline fails
    instead (`specialize_fail`)."""
    condition: ir.Expr
    definition: Definition
    failure_message: str | None = None


@dataclass(eq=False)
class Function:
    name: str
    sym: ir.Symbol
    args: list = field(default_factory=list)        # pure var names
    init: Definition | None = None
    updates: list = field(default_factory=list)
    schedule: FuncSchedule = field(default_factory=FuncSchedule)
    output_types: tuple = ()
    required_types: tuple | None = None   # from Func(type, dims, name)
    required_dims: int | None = None
    # Func.in_ / clone_in: consumer name ("" for the global wrapper) -> the
    # wrapper Function that replaces calls to this one in that consumer.
    wrappers: dict = field(default_factory=dict)
    # An ImageParam's own Function (named "<image>_im") wraps this image symbol.
    wraps_image: ir.Symbol | None = None
    # f.output_buffer(i).dim(d).set_*: output index -> {(dim, field): ir.Expr}
    output_constraints: dict = field(default_factory=dict)
    estimates: dict = field(default_factory=dict)   # pure var name -> (min, extent) ir.Exprs
    # Set once another Func's definition calls this one, or a Pipeline
    # outputs it: then it may get no new definition, so no Func can come to
    # depend on itself through another (Halide's Function::freeze).
    frozen_by: str | None = None

    def __post_init__(self):
        if self.sym is not None:
            registry[self.sym] = self

    def defined(self) -> bool:
        return self.init is not None

    def dimensions(self) -> int:
        if self.init is not None:
            return len(self.args)
        return self.required_dims or 0

    def stages(self) -> list:
        return [self.init] + self.updates if self.init is not None else []

    def arg_syms(self) -> list:
        from pipelang.var import var_symbol
        return [var_symbol(a) for a in self.args]

    def define_pure(self, args: list, values: tuple) -> None:
        self.args = list(args)
        dims = [Dim(a) for a in args]
        from pipelang.var import var_symbol
        lhs = tuple(ir.Variable(ir.Int(32), var_symbol(a)) for a in args)
        self.init = Definition(lhs, values, StageSchedule(dims=dims))
        self.output_types = tuple(v.type for v in values)
        self.schedule.storage_dims = list(args)
        touch()

    def add_update(self, args: tuple, values: tuple, rvars: tuple, predicate,
                   order: list | None = None) -> None:
        """`order`: the loop names innermost first where pure Vars stand among
        the RVars (see `definition._rvars_named_as_pure`); by default the RVars
        are inside the pure Vars."""
        pure = [a.sym.name for a in args if isinstance(a, ir.Variable) and a.sym.name in self.args]
        reduction = {r.name for r in rvars}
        names = list(order or [r.name for r in rvars])
        names += [p for p in pure if p not in names]
        dims = [Dim(n, is_rvar=n in reduction) for n in names]
        self.updates.append(Definition(tuple(args), tuple(values), StageSchedule(dims=dims),
                                       tuple(rvars), predicate))
        touch()

    def __repr__(self) -> str:
        return f"Function({self.name})"
