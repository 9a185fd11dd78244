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
