"""`Target`: the machine code is generated for (always the JIT host here)."""
from __future__ import annotations

import functools
import os


@functools.lru_cache(maxsize=1)
def _host_features() -> frozenset:
    from llvmlite import binding as llvm
    llvm.initialize_native_target()
    feats = llvm.get_host_cpu_features()
    return frozenset(k for k, on in feats.items() if on)


class Target:
    """A compile target. Only the host CPU is supported by the JIT; the string
    form follows Halide's `arch-bits-os-features` spelling."""

    def __init__(self, spec: str = "host"):
        self._spec = spec
        self._features = set(f for f in spec.split("-")[3:] if f) if spec.count("-") >= 2 else set()

    def vector_bits(self) -> int:
        feats = _host_features()
        if "avx512f" in feats:
            return 512
        if "avx2" in feats or "avx" in feats:
            return 256
        return 128

    def natural_vector_size(self, t) -> int:
        """How many elements of type `t` fill one native SIMD register."""
        bits = t.bits() if hasattr(t, "bits") else int(t)
        return max(1, self.vector_bits() // max(bits, 8))

    def has_feature(self, name: str) -> bool:
        name = str(name).lower()
        return name in self._features or name in _host_features()

    def has_gpu_feature(self) -> bool:
        return "cuda" in self._features

    def with_feature(self, name: str) -> "Target":
        return Target(self.to_string() + "-" + str(name).lower())

    def to_string(self) -> str:
        if self._spec != "host":
            return self._spec
        return "x86-64-linux" + ("-avx512" if self.vector_bits() == 512 else "")

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"<pipelang.Target {self.to_string()}>"


def get_host_target() -> Target:
    return Target("host")


def get_jit_target_from_environment() -> Target:
    spec = os.environ.get("HL_JIT_TARGET", "host")
    return Target(spec)


def get_target_from_environment() -> Target:
    return Target(os.environ.get("HL_TARGET", "host"))
