"""`Var`: a pure dimension of a Func's domain.

Vars are identified by name, as in Halide: `Var("x")` twice is the same
variable, so schedules may name a var with a fresh `Var("x")` object.

Implicit vars `_0`, `_1`, ... (`hl._0`, `Var.implicit(i)`) and the placeholder
`_` follow Halide: in a call `g[x, _]` the placeholder stands for as many
implicit vars as `g` has dimensions left; on the left of a pure definition it
stands for the implicit vars its right-hand side uses:

    f[_] = g[_] * 2        # g is 2-D:  f(_0, _1) = g(_0, _1) * 2
    h[x, _] = g[_, x]      #            h(x, _0) = g(_0, x)
"""
from __future__ import annotations

import itertools
import re

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
        return implicit_index(self._name) >= 0

    def implicit_index(self) -> int:
        """n for the implicit var `_n`, else -1."""
        return implicit_index(self._name)

    def is_placeholder(self) -> bool:
        return self._name == PLACEHOLDER

    @staticmethod
    def outermost() -> "Var":
        return Var("__outermost")

    @staticmethod
    def implicit(n: int) -> "Var":
        return Var(f"_{n}")

    def __repr__(self) -> str:
        return f"<halide.Var '{self._name}'>"

    def __str__(self) -> str:
        return self._name


def vars(names: str) -> list[Var]:
    """`x, y = hl.vars("x y")`."""
    return [Var(n) for n in names.split()]


# ---------------------------------------------------------------- implicit vars

PLACEHOLDER = "_"
_IMPLICIT = re.compile(r"_(\d+)")


def implicit_index(name: str) -> int:
    m = _IMPLICIT.fullmatch(name)
    return int(m.group(1)) if m else -1


def is_placeholder(arg) -> bool:
    return isinstance(arg, Var) and arg._name == PLACEHOLDER


def expand_placeholder(args: tuple, dims: int) -> tuple[tuple, int, int]:
    """The arguments of a call `f[args]` with the placeholder `_` replaced by
    implicit vars `_0, _1, ...` up to `dims` arguments (none for a Func not
    yet defined, `dims` 0), the placeholder's position (-1 if none) and how
    many implicit vars went in."""
    pos = next((i for i, a in enumerate(args) if is_placeholder(a)), -1)
    if pos < 0:
        return args, -1, 0
    rest = args[:pos] + args[pos + 1:]
    count = builtins_max(0, dims - len(rest))
    return rest[:pos] + tuple(Var.implicit(i) for i in range(count)) + rest[pos:], pos, count


class _CountImplicit(ir.IRVisitor):
    def __init__(self):
        self.count = 0

    def visit_Variable(self, node):
        i = implicit_index(node.sym.name)
        if i >= 0 and node.sym is var_symbol(node.sym.name):
            self.count = builtins_max(self.count, i + 1)


def implicit_vars_used(values) -> int:
    """1 + the largest n of an implicit var `_n` in the IR `values` (0 if none)."""
    v = _CountImplicit()
    for e in values:
        v.visit(e)
    return v.count


def expand_definition_args(fname: str, args: tuple, placeholder_pos: int, implicit_count: int,
                           has_pure_definition: bool, values) -> tuple:
    """The left-hand side of `f[args] = values` with the placeholder standing
    for the implicit vars the values use (Halide's `args_with_implicit_vars`)."""
    from pipelang.errors import CompileError
    used = implicit_vars_used(values)
    if used and has_pure_definition:
        # Implicit vars written out on the left (`f[_0, _1] = f[_0, _1] + 1`,
        # as BoundaryConditions' Funcs are defined) count as well as `_`.
        explicit = builtins_max([implicit_index(a.name()) + 1 for a in args if isinstance(a, Var)] + [0])
        if builtins_max(implicit_count, explicit) < used:
            raise CompileError(f"The update definition of {fname} uses {used} implicit variables, but "
                               f"the initial definition uses only {implicit_count} implicit variables.")
    elif used and placeholder_pos >= 0:
        args = args[:placeholder_pos] + tuple(Var.implicit(i) for i in range(used)) + args[placeholder_pos:]
    names = {a.name() for a in args if isinstance(a, Var)}
    for i in range(used):
        if f"_{i}" not in names:
            raise CompileError(f"Right-hand-side of update definition of {fname} uses implicit "
                               f"variables, but the left-hand-side does not contain the placeholder "
                               f"symbol '_'.")
    return args


builtins_max = max
_ = Var(PLACEHOLDER)
_0, _1, _2, _3, _4, _5, _6, _7, _8, _9 = (Var.implicit(i) for i in range(10))
