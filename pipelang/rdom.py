"""Reduction domains: `RDom` and its `RVar`s.

`r = hl.RDom([(0, 10), (0, 5)])` is a 10x5 domain; in an update that uses
it, `r.x` is the innermost loop, as in Halide. `r.where(cond)` restricts it.
"""
from __future__ import annotations

import itertools

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.expr import Expr, ExprOps, to_ir
from pipelang.function import ReductionVar

_counter = itertools.count()

# Which RDom each RVar symbol belongs to, so a definition can find its domain.
_owner: dict = {}


def rvar_info(sym):
    """(RDom, index) for an RVar symbol, or None for any other symbol."""
    return _owner.get(sym)


class Range:
    """`hl.Range(min, extent)`."""

    def __init__(self, min_, extent):
        self.min = min_
        self.extent = extent

    def __iter__(self):
        return iter((self.min, self.extent))


class RVar(ExprOps):
    """One dimension of an RDom (`r.x`), or, built from a name alone
    (`hl.RVar("rxo")`), a name for the RVars a schedule creates by splitting."""
    __slots__ = ("_rdom", "_index", "_name")

    def __init__(self, rdom=None, index: int = 0):
        if rdom is None or isinstance(rdom, str):
            self._rdom, self._index = None, 0
            self._name = rdom or f"r{next(_counter)}"
            return
        self._rdom = rdom
        self._index = index
        self._name = None

    @property
    def _var(self) -> ReductionVar:
        if self._rdom is None:
            raise CompileError(f"RVar {self._name} only names a dimension for a schedule; "
                               f"it belongs to no RDom, so it has no value")
        return self._rdom._vars[self._index]

    def name(self) -> str:
        return self._name if self._rdom is None else self._var.name

    def min(self) -> Expr:
        return Expr(self._var.min)

    def extent(self) -> Expr:
        return Expr(self._var.extent)

    def domain(self) -> "RDom":
        return self._rdom

    def _to_ir(self) -> ir.Expr:
        return ir.Variable(ir.Int(32), self._var.sym)

    def __repr__(self) -> str:
        if self._rdom is None:
            return f"<halide.RVar '{self.name()}'>"
        v = self._var
        return f"<halide.RVar {v.name}({ir.to_string(v.min)}, {ir.to_string(v.extent)})>"

    def __str__(self) -> str:
        return self.name()


def _as_int32(v) -> ir.Expr:
    e = to_ir(v)
    if e.type.is_float():
        raise CompileError(f"RDom bounds must be integers, not {e.type}")
    return e if e.type == ir.Int(32) else ir.Cast(ir.Int(32), e)


class RDomIndexError(IndexError, KeyError):
    """An RDom indexed past its dimensions."""

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class RDom(ExprOps):
    """A one-dimensional RDom is usable directly as an Expr (`r` for `r.x`).

    `RDom([(min, extent), ...], name)`, `RDom(Range, ...)`, or `RDom(buffer)`."""

    def __init__(self, *args, name: str | None = None):
        if len(args) >= 1 and isinstance(args[-1], str):
            name, args = args[-1], args[:-1]
        regions = []
        if len(args) == 1 and hasattr(args[0], "dimensions") and not isinstance(args[0], (list, tuple)):
            buf = args[0]
            regions = [(buf.dim(d).min(), buf.dim(d).extent()) for d in range(buf.dimensions())]
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            regions = [tuple(r) for r in args[0]]
        else:
            regions = [tuple(r) for r in args]
        if not regions:
            if args:
                raise CompileError("An RDom needs at least one (min, extent) range")
            # RDom(): Halide's undefined RDom.
            self._name, self._vars, self._predicates, self.serial = name or "", [], [], next(_counter)
            return
        self._name = name or f"r{next(_counter)}"
        suffixes = "xyzw"
        self._vars = []
        for i, (mn, ext) in enumerate(regions):
            # Halide's names, even for one dimension: r$x, r$y, ...; loop nests
            # print them without the $ suffix.
            vname = f"{self._name}${suffixes[i]}" if i < 4 else f"{self._name}${i}"
            sym = ir.Symbol(vname)
            self._vars.append(ReductionVar(vname, sym, _as_int32(mn), _as_int32(ext)))
            _owner[sym] = (self, i)
        self._predicates: list = []
        self._frozen = False     # set once an update definition uses it
        self.serial = next(_counter)

    def where(self, predicate) -> "RDom":
        if self._frozen:
            raise CompileError(f"RDom {self._name} cannot be given a new predicate, because it has "
                               f"already been used in the update definition of some function.")
        p = to_ir(predicate)
        if not p.type.is_bool():
            raise CompileError(f"RDom.where needs a boolean condition, not {p.type}")
        self._predicates.append(p)
        return self

    def predicate(self):
        if not self._predicates:
            return Expr(ir.make_const(ir.Bool(), 1))
        p = self._predicates[0]
        for q in self._predicates[1:]:
            p = ir.And(p, q)
        return Expr(p)

    def dimensions(self) -> int:
        return len(self._vars)

    def __len__(self) -> int:
        return len(self._vars)

    def __getitem__(self, i: int) -> RVar:
        if not 0 <= i < len(self._vars):
            # A KeyError too, as Halide's bindings raise.
            raise RDomIndexError(f"RDom {self._name} has {len(self._vars)} dimensions; [{i}] is out of range")
        return RVar(self, i)

    @property
    def x(self) -> RVar:
        return self[0]

    @property
    def y(self) -> RVar:
        return self[1]

    @property
    def z(self) -> RVar:
        return self[2]

    @property
    def w(self) -> RVar:
        return self[3]

    def name(self) -> str:
        return self._name

    def _to_ir(self) -> ir.Expr:
        if len(self._vars) != 1:
            raise CompileError(f"RDom {self._name} has {len(self._vars)} dimensions; use r.x, r.y, ...")
        return self[0]._to_ir()

    def defined(self) -> bool:
        return bool(self._vars)

    def __repr__(self) -> str:
        if not self._vars:
            return "<halide.RDom RDom()>"
        body = "".join(f"  {v.name}({ir.to_string(v.min)}, {ir.to_string(v.extent)})\n" for v in self._vars)
        return f"<halide.RDom RDom(\n{body})>"


