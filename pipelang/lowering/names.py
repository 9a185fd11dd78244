"""The symbols lowering gives each stage's loops and bounds.

For Func `f`, stage `k` and loop dim `d` (a dotted name such as `x.xi`):
  loop(f, k, d)            the loop variable, printed `f.s0.x.xi`
  region_min/max(f, k, x)  the region of pure var or RVar `x` that stage k
                           computes (defined by bounds inference)
  loop_min/extent(f, k, d) the bounds of the loop over d (loop synthesis)
  realized_min/extent(f, x) the bounds of f's storage in dimension x
"""
from __future__ import annotations

from pipelang import ir


def loop(fn, k: int, dim: str) -> ir.Symbol:
    return fn.sym.field(f"s{k}.{dim}")


def region_min(fn, k: int, dim: str) -> ir.Symbol:
    return loop(fn, k, dim).field("min")


def region_max(fn, k: int, dim: str) -> ir.Symbol:
    return loop(fn, k, dim).field("max")


def loop_min(fn, k: int, dim: str) -> ir.Symbol:
    return loop(fn, k, dim).field("loop_min")


def loop_extent(fn, k: int, dim: str) -> ir.Symbol:
    return loop(fn, k, dim).field("loop_extent")


def loop_max(fn, k: int, dim: str) -> ir.Symbol:
    return loop(fn, k, dim).field("loop_max")


def realized_min(fn, dim: str) -> ir.Symbol:
    return fn.sym.field(f"{dim}.min_realized")


def realized_extent(fn, dim: str) -> ir.Symbol:
    return fn.sym.field(f"{dim}.extent_realized")


def dim_name(fn, sym: ir.Symbol) -> str:
    """The printed loop name of a loop symbol of `fn`: `f.s0.x.xi` -> `x.xi`."""
    prefix = fn.name + "."
    name = sym.name[len(prefix):] if sym.name.startswith(prefix) else sym.name
    return name.split(".", 1)[1] if name.startswith("s") and "." in name else name


def v(sym: ir.Symbol) -> ir.Variable:
    return ir.Variable(ir.Int(32), sym)


def buffer(fn, i: int = 0) -> ir.Symbol:
    """The buffer holding Tuple element `i` of Func `fn` (an output's argument symbol)."""
    return fn.sym if len(fn.output_types) == 1 else fn.sym.field(f"value{i}")
