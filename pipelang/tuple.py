"""`hl.Tuple`: several values of one Func, `f[x] = hl.Tuple(a, b)` (or a Python tuple)."""
from __future__ import annotations


class Tuple(tuple):
    def __new__(cls, *items):
        if len(items) == 1 and isinstance(items[0], (list, tuple)):
            items = tuple(items[0])
        return super().__new__(cls, items)

    def size(self) -> int:
        return len(self)
