"""What a benchmark is: its sizes, inputs, per-compiler build, numpy reference and tolerances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

SIZE_LEVELS = ("tiny", "small", "medium", "full")


@dataclass(frozen=True)
class Tolerance:
    """``max|out - ref| <= atol + rtol * max|ref|`` counts as agreement."""

    atol: float = 0.0
    rtol: float = 0.0

    def bound(self, reference: np.ndarray) -> float:
        scale = float(np.max(np.abs(reference))) if reference.size else 0.0
        return self.atol + self.rtol * scale


class Envelope(np.ndarray):
    """A reference output whose elements may each lie anywhere in ``[lo, hi]``.

    For algorithms with a step function of a float (a truncated LUT index, a
    threshold): where the float's last bit decides the step, every compiler
    that may reassociate or fuse (Halide without strict_float) is right with
    either side. The array itself is one such output (numpy's rounding); the
    check accepts ``lo - bound <= out <= hi + bound``.
    """

    def __new__(cls, value: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        self = np.asarray(value).view(cls)
        self.lo, self.hi = lo, hi
        return self

    def __array_finalize__(self, obj):
        self.lo, self.hi = getattr(obj, "lo", None), getattr(obj, "hi", None)

    def distance(self, out: np.ndarray) -> float:
        """max over the elements of how far ``out`` lies outside [lo, hi] (0 inside)."""
        out = np.asarray(out, dtype=np.float64)
        below = self.lo.astype(np.float64) - out
        above = out - self.hi.astype(np.float64)
        return float(max(np.max(below), np.max(above), 0.0)) if out.size else 0.0


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    sizes: dict[str, dict[str, int]]  # size level -> parameters of make_inputs
    make_inputs: Callable[..., dict[str, np.ndarray]]
    build: Callable[[Any, dict[str, np.ndarray]], Any]  # (hl, inputs) -> output Func
    reference: Callable[[dict[str, np.ndarray]], np.ndarray]
    tolerance: Tolerance = Tolerance()  # for the compiled backends (same algorithm)
    peer_tolerance: Tolerance = Tolerance()  # for library peers (their own rounding)
    flops: Callable[[dict[str, np.ndarray]], float] = field(default=lambda inputs: 0.0)

    def inputs(self, level: str, seed: int = 0) -> dict[str, np.ndarray]:
        return self.make_inputs(np.random.default_rng(seed), **self.sizes[level])


def _vec(hl, type_) -> int:
    """The host's natural vector width for ``type_`` (16 for float32 with AVX-512)."""
    return hl.get_host_target().natural_vector_size(type_)
