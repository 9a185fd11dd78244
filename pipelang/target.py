"""`Target`: the machine code is generated for.

Halide's spelling `arch-bits-os-feature1-feature2...` ("host" for this
machine). The JIT always runs on the host; ahead-of-time compilation
(`pipelang.aot`) builds for any target whose architecture LLVM knows.
"""
from __future__ import annotations

import enum
import functools
import os
import platform
import sys

from pipelang.errors import HalideError


class TargetOS(enum.Enum):
    OSUnknown = "os_unknown"
    Linux = "linux"
    Windows = "windows"
    OSX = "osx"
    Android = "android"
    IOS = "ios"
    QuRT = "qurt"
    NoOS = "noos"
    Fuchsia = "fuchsia"
    wasmrt = "wasmrt"

    def __str__(self):
        return f"TargetOS.{self.name}"


class TargetArch(enum.Enum):
    ArchUnknown = "arch_unknown"
    X86 = "x86"
    ARM = "arm"
    Hexagon = "hexagon"
    POWERPC = "powerpc"
    RISCV = "riscv"
    WebAssembly = "wasm"

    def __str__(self):
        return f"TargetArch.{self.name}"


_FEATURES = (
    "JIT:jit Debug:debug EnableBacktraces:enable_backtraces NoAsserts:no_asserts "
    "NoBoundsQuery:no_bounds_query SSE41:sse41 AVX:avx AVX2:avx2 AVXVNNI:avxvnni FMA:fma "
    "FMA4:fma4 F16C:f16c ARMv7s:armv7s NoNEON:no_neon VSX:vsx POWER_ARCH_2_07:power_arch_2_07 "
    "CUDA:cuda CUDACapability30:cuda_capability_30 CUDACapability32:cuda_capability_32 "
    "CUDACapability35:cuda_capability_35 CUDACapability50:cuda_capability_50 "
    "CUDACapability61:cuda_capability_61 CUDACapability70:cuda_capability_70 "
    "CUDACapability75:cuda_capability_75 CUDACapability80:cuda_capability_80 "
    "CUDACapability86:cuda_capability_86 OpenCL:opencl CLDoubles:cl_doubles CLHalf:cl_half "
    "CLAtomics64:cl_atomics64 EGL:egl UserContext:user_context Profile:profile "
    "NoRuntime:no_runtime Metal:metal CPlusPlusMangling:c_plus_plus_name_mangling "
    "LargeBuffers:large_buffers HexagonDma:hexagon_dma HVX_128:hvx_128 HVX:hvx "
    "HVX_v62:hvx_v62 HVX_v65:hvx_v65 HVX_v66:hvx_v66 HVX_v68:hvx_v68 "
    "FuzzFloatStores:fuzz_float_stores SoftFloatABI:soft_float_abi MSAN:msan AVX512:avx512 "
    "AVX512_KNL:avx512_knl AVX512_Skylake:avx512_skylake AVX512_Cannonlake:avx512_cannonlake "
    "AVX512_SapphireRapids:avx512_sapphirerapids AVX512_Zen4:avx512_zen4 "
    "AVX512_Zen5:avx512_zen5 TraceLoads:trace_loads TraceStores:trace_stores "
    "TraceRealizations:trace_realizations TracePipeline:trace_pipeline "
    "D3D12Compute:d3d12compute StrictFloat:strict_float TSAN:tsan ASAN:asan "
    "CheckUnsafePromises:check_unsafe_promises EmbedBitcode:embed_bitcode "
    "EnableLLVMLoopOpt:enable_llvm_loop_opt WasmMvpOnly:wasm_mvponly "
    "WasmSimd128:wasm_simd128 WasmThreads:wasm_threads WasmBulkMemory:wasm_bulk_memory "
    "WebGPU:webgpu SVE:sve SVE2:sve2 ARMDotProd:arm_dot_prod ARMFp16:arm_fp16 "
    "LLVMLargeCodeModel:llvm_large_code_model RVV:rvv ARMv8a:armv8a ARMv81a:armv81a "
    "ARMv82a:armv82a ARMv83a:armv83a ARMv84a:armv84a ARMv85a:armv85a ARMv86a:armv86a "
    "ARMv87a:armv87a ARMv88a:armv88a ARMv89a:armv89a SanitizerCoverage:sanitizer_coverage "
    "ProfileByTimer:profile_by_timer SPIRV:spirv Vulkan:vulkan VulkanInt8:vk_int8 "
    "VulkanInt16:vk_int16 VulkanInt64:vk_int64 VulkanFloat16:vk_float16 "
    "VulkanFloat64:vk_float64 VulkanV10:vk_v10 VulkanV12:vk_v12 VulkanV13:vk_v13 "
    "Semihosting:semihosting AVX10_1:avx10_1 X86APX:x86apx Simulator:simulator")

TargetFeature = enum.Enum("TargetFeature", [tuple(p.split(":")) for p in _FEATURES.split()])
TargetFeature.__str__ = lambda self: f"TargetFeature.{self.name}"
_FEATURE_BY_NAME = {f.value: f for f in TargetFeature}
_GPU_FEATURES = {"cuda", "opencl", "metal", "d3d12compute", "vulkan", "webgpu"}
_ORDER = {f.value: i for i, f in enumerate(TargetFeature)}


@functools.lru_cache(maxsize=1)
def _host_llvm_features() -> frozenset:
    from llvmlite import binding as llvm
    llvm.initialize_native_target()
    feats = llvm.get_host_cpu_features()
    return frozenset(k for k, on in feats.items() if on)


@functools.lru_cache(maxsize=1)
def _host_parts() -> tuple:
    """(arch, bits, os, features) of this machine, in Halide's terms."""
    machine = platform.machine().lower()
    arch = TargetArch.ARM if machine.startswith(("arm", "aarch64")) else TargetArch.X86
    bits = 64 if sys.maxsize > 2 ** 32 else 32
    os_ = (TargetOS.OSX if sys.platform == "darwin" else
           TargetOS.Windows if sys.platform.startswith("win") else TargetOS.Linux)
    feats = set()
    if arch is TargetArch.X86:
        llvm_feats = _host_llvm_features()
        for name, llvm_name in (("sse41", "sse4.1"), ("avx", "avx"), ("avx2", "avx2"),
                                ("fma", "fma"), ("f16c", "f16c"), ("avx512", "avx512f")):
            if llvm_name in llvm_feats:
                feats.add(name)
        if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"} <= llvm_feats:
            feats.add("avx512_skylake")
    return arch, bits, os_, frozenset(feats)


def _target_error(spec: str) -> HalideError:
    return HalideError(
        f"Did not understand Halide target {spec}\n"
        f"Expected format is arch-bits-os-feature1-feature2-...\n"
        f"Where arch is: {', '.join(a.value for a in TargetArch)}.\n"
        f"bits is either 32 or 64.\n"
        f"os is: {', '.join(o.value for o in TargetOS)}.\n"
        f"Features are: {', '.join(sorted(_FEATURE_BY_NAME))}.\n"
        f'The target can also begin with "host", which sets the host\'s architecture, os '
        f"and feature set.")


def _feature_name(f) -> str:
    if isinstance(f, TargetFeature):
        return f.value
    name = str(f).lower()
    if name not in _FEATURE_BY_NAME:
        raise HalideError(f"Unknown target feature {f!r}")
    return name


class Target:
    """A compile target: `Target("x86-64-linux-avx2")`, `Target("host")`,
    `Target(os, arch, bits, [features])`, or `Target()` (unknown, to fill in)."""

    def __init__(self, *args):
        self.os, self.arch, self.bits = TargetOS.OSUnknown, TargetArch.ArchUnknown, 0
        self._features: set = set()
        if len(args) == 1 and isinstance(args[0], str):
            self._parse(args[0])
        elif len(args) in (3, 4):
            self.os, self.arch, self.bits = args[0], args[1], int(args[2])
            if len(args) == 4:
                self.set_features(args[3])
        elif args:
            raise HalideError(f"Target() takes a string or (os, arch, bits[, features]), not {args!r}")

    def _parse(self, spec: str) -> None:
        parts = [p for p in spec.strip().split("-") if p]
        if not parts:
            parts = ["host"]
        i = 0
        if parts[0] == "host":
            self.arch, self.bits, self.os, feats = _host_parts()
            self._features = set(feats)
            i = 1
        else:
            arch = {a.value: a for a in TargetArch}.get(parts[0])
            if arch is None or len(parts) < 3 or parts[1] not in ("32", "64", "0"):
                raise _target_error(spec)
            os_ = {o.value: o for o in TargetOS}.get(parts[2])
            if os_ is None:
                raise _target_error(spec)
            self.arch, self.bits, self.os = arch, int(parts[1]), os_
            i = 3
        for p in parts[i:]:
            if p.startswith("tune_"):
                continue
            if p not in _FEATURE_BY_NAME:
                raise _target_error(spec)
            self._features.add(p)

    @staticmethod
    def validate_target_string(spec: str) -> bool:
        try:
            Target(spec)
        except HalideError:
            return False
        return True

    # ------------------------------------------------------------ features

    def has_feature(self, f) -> bool:
        return _feature_name(f) in self._features

    def set_feature(self, f, value: bool = True) -> None:
        name = _feature_name(f)
        if value:
            self._features.add(name)
        else:
            self._features.discard(name)

    def set_features(self, features, value: bool = True) -> None:
        for f in features:
            self.set_feature(f, value)

    def features_any_of(self, features) -> bool:
        return any(self.has_feature(f) for f in features)

    def features_all_of(self, features) -> bool:
        return all(self.has_feature(f) for f in features)

    def with_feature(self, f) -> "Target":
        t = self._copy()
        t.set_feature(f)
        return t

    def without_feature(self, f) -> "Target":
        t = self._copy()
        t.set_feature(f, False)
        return t

    def has_gpu_feature(self) -> bool:
        return bool(self._features & _GPU_FEATURES)

    def cuda_capability(self) -> int | None:
        """The highest `cuda_capability_NN` feature (e.g. 80), or None: compile for the device found."""
        caps = [int(f.rsplit("_", 1)[1]) for f in self._features if f.startswith("cuda_capability_")]
        return max(caps) if caps else None

    def has_large_buffers(self) -> bool:
        return "large_buffers" in self._features

    def maximum_buffer_size(self) -> int:
        return (1 << 63) - 1 if self.has_large_buffers() and self.bits == 64 else (1 << 31) - 1

    def _copy(self) -> "Target":
        t = Target()
        t.os, t.arch, t.bits, t._features = self.os, self.arch, self.bits, set(self._features)
        return t

    # ------------------------------------------------------------ vectors

    def vector_bits(self) -> int:
        if self.arch is TargetArch.X86:
            if self._features & {"avx512", "avx512_skylake", "avx512_cannonlake",
                                 "avx512_sapphirerapids", "avx512_zen4", "avx512_zen5"}:
                return 512
            if self._features & {"avx", "avx2"}:
                return 256
        return 128

    def natural_vector_size(self, t) -> int:
        """How many elements of type `t` fill one native SIMD register."""
        bits = t.bits() if hasattr(t, "bits") else int(t)
        return max(1, self.vector_bits() // max(bits, 8))

    # ------------------------------------------------------------ printing

    def to_string(self) -> str:
        feats = sorted(self._features, key=lambda f: _ORDER.get(f, 0))
        return "-".join([self.arch.value, str(self.bits), self.os.value] + sorted(feats))

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"<pipelang.Target {self.to_string()}>"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Target) and (self.os, self.arch, self.bits, self._features)
                == (other.os, other.arch, other.bits, other._features))

    def __hash__(self) -> int:
        return hash((self.os, self.arch, self.bits, frozenset(self._features)))


def get_host_target() -> Target:
    return Target("host")


def get_jit_target_from_environment() -> Target:
    return Target(os.environ.get("HL_JIT_TARGET", "host"))


def get_target_from_environment() -> Target:
    return Target(os.environ.get("HL_TARGET", "host"))
