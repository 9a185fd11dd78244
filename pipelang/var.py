"""`Var`: a pure dimension of a Func's domain.

Vars are identified by name, as in Halide: `Var("x")` twice is the same
variable, so schedules may name a var with a fresh `Var("x")` object.
"""
from __future__ import annotations

import itertools

from pipelang import ir
from pipelang.expr import ExprOps

_symbols: dict[str, ir.Symbol] = {}
_fresh = itertools.count()


def var_symbol(name: str) -> ir.Symbol:
    """The one Symbol that every pure Var called `name` reads as."""
    sym = _symbols.get(name)
    if sym is None:
        sym = _symbols[name] = ir.Symbol(name)
    return sym


def unique_name(prefix: str) -> str:
    return f"{prefix}{next(_fresh)}"


class Var(ExprOps):
    __slots__ = ("_name",)

    def __init__(self, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Var name must be a str, not {type(name).__name__}")
        self._name = name if name else unique_name("v")

    def name(self) -> str:
        return self._name

    def _to_ir(self) -> ir.Expr:
        return ir.Variable(ir.Int(32), var_symbol(self._name))

    def same_as(self, other) -> bool:
        return isinstance(other, Var) and other._name == self._name

    def is_implicit(self) -> bool:
        return self._name.startswith("_")

    @staticmethod
    def outermost() -> "Var":
        return Var("__outermost")

    @staticmethod
    def implicit(n: int) -> "Var":
        return Var(f"_{n}")

    def __repr__(self) -> str:
        return f"<pipelang.Var '{self._name}'>"

    def __str__(self) -> str:
        return self._name


def vars(names: str) -> list[Var]:
    """`x, y = hl.vars("x y")`."""
    return [Var(n) for n in names.split()]
