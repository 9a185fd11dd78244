"""`Target`: the machine code is generated for, as Halide's `arch-bits-os[-processor][-features]` strings.

    Target()                             arch_unknown-0-os_unknown
    Target("host"), get_host_target()    this machine: x86-64-linux-avx-avx2-...
    Target("x86-64-linux-sse41")         parsed; invalid strings raise a CompileError
    Target(TargetOS.Linux, TargetArch.X86, 64, [TargetFeature.AVX])

Features print in alphabetical order of their names, as Halide's. The JIT
always generates code for the host CPU; a Target decides what
`natural_vector_size` and the target queries answer, and which GPU lowering
runs.
"""
from __future__ import annotations

import enum
import functools
import os

from pipelang.errors import CompileError
from pipelang.schedule import DeviceAPI


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


class TargetArch(enum.Enum):
    ArchUnknown = "arch_unknown"
    X86 = "x86"
    ARM = "arm"
    Hexagon = "hexagon"
    POWERPC = "powerpc"
    RISCV = "riscv"
    WebAssembly = "wasm"


class TargetProcessorTune(enum.Enum):
    TuneGeneric = "tune_generic"
    TuneAMDFam10 = "tune_amdfam10"
    TuneBdVer1 = "tune_bdver1"
    TuneBdVer2 = "tune_bdver2"
    TuneBdVer3 = "tune_bdver3"
    TuneBdVer4 = "tune_bdver4"
    TuneBtVer1 = "tune_btver1"
    TuneBtVer2 = "tune_btver2"
    TuneK8 = "tune_k8"
    TuneK8_SSE3 = "tune_k8_sse3"
    TuneZnVer1 = "tune_znver1"
    TuneZnVer2 = "tune_znver2"
    TuneZnVer3 = "tune_znver3"
    TuneZnVer4 = "tune_znver4"
    TuneZnVer5 = "tune_znver5"


# Python name -> target-string token, for every feature Halide 21 names.
_FEATURES = (
    "JIT=jit Debug=debug EnableBacktraces=enable_backtraces NoAsserts=no_asserts "
    "NoBoundsQuery=no_bounds_query SSE41=sse41 AVX=avx AVX2=avx2 AVXVNNI=avxvnni FMA=fma FMA4=fma4 "
    "F16C=f16c ARMv7s=armv7s NoNEON=no_neon VSX=vsx POWER_ARCH_2_07=power_arch_2_07 CUDA=cuda "
    "CUDACapability30=cuda_capability_30 CUDACapability32=cuda_capability_32 "
    "CUDACapability35=cuda_capability_35 CUDACapability50=cuda_capability_50 "
    "CUDACapability61=cuda_capability_61 CUDACapability70=cuda_capability_70 "
    "CUDACapability75=cuda_capability_75 CUDACapability80=cuda_capability_80 "
    "CUDACapability86=cuda_capability_86 OpenCL=opencl CLDoubles=cl_doubles CLHalf=cl_half "
    "CLAtomics64=cl_atomics64 EGL=egl UserContext=user_context Profile=profile NoRuntime=no_runtime "
    "Metal=metal CPlusPlusMangling=c_plus_plus_name_mangling LargeBuffers=large_buffers "
    "HexagonDma=hexagon_dma HVX_128=hvx_128 HVX_v62=hvx_v62 HVX_v65=hvx_v65 HVX_v66=hvx_v66 "
    "HVX_v68=hvx_v68 FuzzFloatStores=fuzz_float_stores SoftFloatABI=soft_float_abi MSAN=msan "
    "AVX512=avx512 AVX512_KNL=avx512_knl AVX512_Skylake=avx512_skylake "
    "AVX512_Cannonlake=avx512_cannonlake AVX512_SapphireRapids=avx512_sapphirerapids "
    "AVX512_Zen4=avx512_zen4 AVX512_Zen5=avx512_zen5 TraceLoads=trace_loads "
    "TraceStores=trace_stores TraceRealizations=trace_realizations TracePipeline=trace_pipeline "
    "D3D12Compute=d3d12compute StrictFloat=strict_float TSAN=tsan ASAN=asan "
    "CheckUnsafePromises=check_unsafe_promises EmbedBitcode=embed_bitcode "
    "EnableLLVMLoopOpt=enable_llvm_loop_opt WasmMvpOnly=wasm_mvponly WasmSimd128=wasm_simd128 "
    "WasmThreads=wasm_threads WasmBulkMemory=wasm_bulk_memory WebGPU=webgpu SVE=sve SVE2=sve2 "
    "ARMDotProd=arm_dot_prod ARMFp16=arm_fp16 LLVMLargeCodeModel=llvm_large_code_model RVV=rvv "
    "ARMv8a=armv8a ARMv81a=armv81a ARMv82a=armv82a ARMv83a=armv83a ARMv84a=armv84a "
    "ARMv85a=armv85a ARMv86a=armv86a ARMv87a=armv87a ARMv88a=armv88a ARMv89a=armv89a "
    "SanitizerCoverage=sanitizer_coverage ProfileByTimer=profile_by_timer SPIRV=spirv "
    "Vulkan=vulkan VulkanInt8=vk_int8 VulkanInt16=vk_int16 VulkanInt64=vk_int64 "
    "VulkanFloat16=vk_float16 VulkanFloat64=vk_float64 VulkanV10=vk_v10 VulkanV12=vk_v12 "
    "VulkanV13=vk_v13 Semihosting=semihosting AVX10_1=avx10_1 X86APX=x86apx Simulator=simulator "
    "FeatureEnd=feature_end")

TargetFeature = enum.Enum("TargetFeature", [tuple(p.split("=")) for p in _FEATURES.split()])
TargetFeature.HVX = TargetFeature.HVX_128      # Halide's alias
TargetFeature.__doc__ = "Halide's target features; the value is the target-string token."

_TOKEN_TO_FEATURE = {f.value: f for f in TargetFeature if f is not TargetFeature.FeatureEnd}
_TOKEN_TO_FEATURE["hvx"] = TargetFeature.HVX_128



_GPU_FEATURES = (TargetFeature.CUDA, TargetFeature.OpenCL, TargetFeature.Metal,
                 TargetFeature.D3D12Compute, TargetFeature.Vulkan, TargetFeature.WebGPU)
_DEVICE_FEATURE = {DeviceAPI.CUDA: TargetFeature.CUDA, DeviceAPI.OpenCL: TargetFeature.OpenCL,
                   DeviceAPI.Metal: TargetFeature.Metal, DeviceAPI.Vulkan: TargetFeature.Vulkan,
                   DeviceAPI.Hexagon: TargetFeature.HVX_128}
_AVX512_INT = (TargetFeature.AVX512_Skylake, TargetFeature.AVX512_Cannonlake, TargetFeature.AVX512_Zen4,
               TargetFeature.AVX512_Zen5, TargetFeature.AVX512_SapphireRapids)


def _feature(f) -> TargetFeature:
    """A TargetFeature from the enum or its token ("avx2", "cuda")."""
    if isinstance(f, TargetFeature):
        return f
    if isinstance(f, str) and f.lower() in _TOKEN_TO_FEATURE:
        return _TOKEN_TO_FEATURE[f.lower()]
    raise TypeError(f"{f!r} is not a TargetFeature")


@functools.lru_cache(maxsize=1)
def host_cpu_feature_map():
    """LLVM's map of this CPU's features (name -> on), read once per process
    for the Target and the JIT's target machine alike: reading it runs
    CPUID, which a virtual machine traps (0.3-0.4 ms, a cache hit's 3%).
    Not to be modified."""
    from llvmlite import binding as llvm
    llvm.initialize_native_target()
    return llvm.get_host_cpu_features()


@functools.lru_cache(maxsize=1)
def _host_cpu_features() -> frozenset:
    return frozenset(k for k, on in host_cpu_feature_map().items() if on)


@functools.lru_cache(maxsize=1)
def _host_features() -> frozenset:
    """The Halide features of this CPU, from LLVM's view of it."""
    cpu = _host_cpu_features()
    out = set()
    for token, feat in (("sse4.1", TargetFeature.SSE41), ("avx", TargetFeature.AVX),
                        ("avx2", TargetFeature.AVX2), ("fma", TargetFeature.FMA),
                        ("f16c", TargetFeature.F16C), ("avxvnni", TargetFeature.AVXVNNI)):
        if token in cpu:
            out.add(feat)
    if {"avx512f", "avx512cd"} <= cpu:
        out.add(TargetFeature.AVX512)
        if {"avx512vl", "avx512bw", "avx512dq"} <= cpu:
            out.add(TargetFeature.AVX512_Skylake)
            if {"avx512ifma", "avx512vbmi"} <= cpu:
                out.add(TargetFeature.AVX512_Cannonlake)
                if {"avx512bf16", "avx512vnni", "avx512vbmi2", "avx512bitalg", "avx512vpopcntdq"} <= cpu:
                    out.add(TargetFeature.AVX512_Zen4)
    return frozenset(out)


def _host_arch_bits() -> tuple:
    import platform
    machine = platform.machine().lower()
    arch = TargetArch.ARM if machine in ("arm64", "aarch64") or machine.startswith("arm") else \
        TargetArch.POWERPC if machine.startswith("ppc") else \
        TargetArch.RISCV if machine.startswith("riscv") else TargetArch.X86
    import sys
    # (The interpreter's pointer size: platform.architecture() runs `file` on
    # the executable in a subprocess, most of the first compile's cost.)
    bits = 64 if sys.maxsize > 2 ** 32 else 32
    osys = (TargetOS.OSX if sys.platform == "darwin" else TargetOS.Windows if sys.platform.startswith("win")
            else TargetOS.Linux)
    return arch, bits, osys


class Target:
    """A compile target: os, arch, bits, processor_tune and a set of features."""

    def __init__(self, *args):
        self.os, self.arch, self.bits = TargetOS.OSUnknown, TargetArch.ArchUnknown, 0
        self.processor_tune = TargetProcessorTune.TuneGeneric
        self._features: set = set()
        if len(args) == 1 and isinstance(args[0], str):
            if not self._merge_string(args[0]):
                raise CompileError(f"Did not understand Halide target {args[0]}\n"
                                   f"Expected format is arch-bits-os-processor-feature1-feature2-...")
            return
        if len(args) == 1 and isinstance(args[0], Target):
            other = args[0]
            self.os, self.arch, self.bits = other.os, other.arch, other.bits
            self.processor_tune, self._features = other.processor_tune, set(other._features)
            return
        if not args:
            return
        if not (3 <= len(args) <= 5 and isinstance(args[0], TargetOS) and isinstance(args[1], TargetArch)
                and isinstance(args[2], int)):
            raise TypeError(f"__init__(): incompatible constructor arguments for Target: {args!r}")
        self.os, self.arch, self.bits = args[0], args[1], int(args[2])
        rest = list(args[3:])
        if rest and isinstance(rest[0], TargetProcessorTune):
            self.processor_tune = rest.pop(0)
        if rest:
            features = rest.pop(0)
            if rest or not isinstance(features, (list, tuple, set)) or \
                    not all(isinstance(f, TargetFeature) for f in features):
                raise TypeError(f"__init__(): incompatible constructor arguments for Target: {args!r}")
            self._features = set(features)

    # ---------------------------------------------------------------- parsing and printing

    def _merge_string(self, spec: str) -> bool:
        """Apply the tokens of a target string; False if one is not understood."""
        spec = spec.strip()
        if spec == "":
            spec = "host"
        arch_given = bits_given = os_given = False
        for i, tok in enumerate(spec.split("-")):
            if tok == "host" and i == 0:
                host = get_host_target()
                self.os, self.arch, self.bits = host.os, host.arch, host.bits
                self.processor_tune, self._features = host.processor_tune, set(host._features)
            elif tok in _ARCHES:
                self.arch, arch_given = _ARCHES[tok], True
            elif tok in _OSES:
                self.os, os_given = _OSES[tok], True
            elif tok in ("0", "32", "64"):
                self.bits, bits_given = int(tok), True
            elif tok in _PROCESSORS:
                self.processor_tune = _PROCESSORS[tok]
            elif tok == "trace_all":
                self._features |= {TargetFeature.TraceLoads, TargetFeature.TraceStores,
                                   TargetFeature.TraceRealizations}
            elif tok in _TOKEN_TO_FEATURE:
                self._features.add(_TOKEN_TO_FEATURE[tok])
            else:
                return False
        del arch_given, bits_given, os_given
        if self.bits == 0 and self._features:
            return False
        if self.bits == 0 and (self.arch is not TargetArch.ArchUnknown or self.os is not TargetOS.OSUnknown):
            return False
        return True

    @staticmethod
    def validate_target_string(name: str) -> bool:
        """Whether `name` parses to a Target with a known arch, bits and os."""
        t = Target()
        return (t._merge_string(name) and t.arch is not TargetArch.ArchUnknown
                and t.os is not TargetOS.OSUnknown and t.bits != 0)

    def to_string(self) -> str:
        parts = [self.arch.value, str(self.bits), self.os.value]
        if self.processor_tune is not TargetProcessorTune.TuneGeneric:
            parts.append(self.processor_tune.value)
        tokens = sorted(tok for tok, f in _TOKEN_TO_FEATURE.items() if f in self._features)
        text = "-".join(parts + tokens)
        # Halide abbreviates the three tracing features.
        return text.replace("trace_loads-trace_realizations-trace_stores", "trace_all")

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"<halide.Target {self.to_string()}>"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Target) and (self.os, self.arch, self.bits, self.processor_tune)
                == (other.os, other.arch, other.bits, other.processor_tune) and self._features == other._features)

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.to_string())

    # ---------------------------------------------------------------- features

    def has_feature(self, feature) -> bool:
        return _feature(feature) in self._features

    def features_any_of(self, features) -> bool:
        return any(self.has_feature(f) for f in features)

    def features_all_of(self, features) -> bool:
        return all(self.has_feature(f) for f in features)

    def set_feature(self, f, value: bool = True) -> None:
        f = _feature(f)
        if value:
            self._features.add(f)
        else:
            self._features.discard(f)

    def set_features(self, features, value: bool = True) -> None:
        for f in features:
            self.set_feature(f, value)

    def with_feature(self, feature) -> "Target":
        t = Target(self)
        t.set_feature(feature)
        return t

    def without_feature(self, feature) -> "Target":
        t = Target(self)
        t.set_feature(feature, False)
        return t

    def has_gpu_feature(self) -> bool:
        return any(f in self._features for f in _GPU_FEATURES)

    def supports_device_api(self, device: DeviceAPI) -> bool:
        if device in (DeviceAPI.None_, DeviceAPI.Host):
            return True
        if device is DeviceAPI.Default_GPU:
            return self.has_gpu_feature()
        return self.has_feature(_DEVICE_FEATURE[device])

    def supports_type(self, t, device: DeviceAPI | None = None) -> bool:
        """Whether `t` can be used (on `device`, default: anywhere the target runs code)."""
        if t.bits() != 64:
            return True
        if device is None:
            has = self.has_feature
            if has(TargetFeature.Metal) or has(TargetFeature.D3D12Compute) or has(TargetFeature.WebGPU):
                return False
            if t.is_float():
                return ((not has(TargetFeature.OpenCL) or has(TargetFeature.CLDoubles))
                        and (not has(TargetFeature.Vulkan) or has(TargetFeature.VulkanFloat64)))
            return not has(TargetFeature.Vulkan) or has(TargetFeature.VulkanInt64)
        if device is DeviceAPI.Metal:
            return False
        if device is DeviceAPI.OpenCL and t.is_float():
            return self.has_feature(TargetFeature.CLDoubles)
        if device is DeviceAPI.Vulkan:
            return self.has_feature(TargetFeature.VulkanFloat64 if t.is_float() else TargetFeature.VulkanInt64)
        return True

    def cuda_capability(self) -> int | None:
        """The highest `cuda_capability_NN` feature (e.g. 80), or None: compile for the device found."""
        caps = [int(f.value.rsplit("_", 1)[1]) for f in self._features if f.value.startswith("cuda_capability_")]
        return max(caps) if caps else None

    def has_large_buffers(self) -> bool:
        return self.has_feature(TargetFeature.LargeBuffers)

    def maximum_buffer_size(self) -> int:
        return 2**63 - 1 if self.has_large_buffers() and self.bits == 64 else 2**31 - 1

    def supported(self) -> bool:
        """Whether pipelang can generate code for this target (the host's arch and bits)."""
        arch, bits, _ = _host_arch_bits()
        return self.arch is arch and self.bits == bits

    # ---------------------------------------------------------------- vectors

    def natural_vector_size(self, t) -> int:
        """How many elements of type `t` fill one native SIMD register."""
        if self.arch is TargetArch.ArchUnknown or self.os is TargetOS.OSUnknown or self.bits == 0:
            raise CompileError("natural_vector_size cannot be used on a Target with Unknown values.")
        if isinstance(t, int):
            size = max(1, (t + 7) // 8)
            is_float = is_int = False
        else:
            size, is_float, is_int = t.bytes(), t.is_float(), t.is_int() or t.is_uint()
        if self.arch is TargetArch.X86:
            if is_int and any(f in self._features for f in _AVX512_INT):
                return 64 // size
            if is_float and (TargetFeature.AVX512 in self._features or TargetFeature.AVX512_KNL in self._features
                             or any(f in self._features for f in _AVX512_INT)):
                return 64 // size
            if TargetFeature.AVX in self._features:
                return 32 // size
            return 16 // size
        if self.arch is TargetArch.Hexagon:
            return 128 // size if is_int else 1
        return max(1, 16 // size)

    def vector_bits(self) -> int:
        """The width of the widest float vector register, in bits."""
        return 8 * self.natural_vector_size(_float32())


def _float32():
    from pipelang.ir.types import Float
    return Float(32)


_ARCHES = {a.value: a for a in TargetArch}
_OSES = {o.value: o for o in TargetOS}
_PROCESSORS = {p.value: p for p in TargetProcessorTune}


@functools.lru_cache(maxsize=1)
def _host_target() -> Target:
    arch, bits, osys = _host_arch_bits()
    return Target(osys, arch, bits, sorted(_host_features(), key=lambda f: f.value))


def get_host_target() -> Target:
    """This machine, with the CPU features it has."""
    return Target(_host_target())


def get_jit_target_from_environment() -> Target:
    """`HL_JIT_TARGET` if set (e.g. "host-cuda"), else the host."""
    return Target(os.environ.get("HL_JIT_TARGET", "host"))


def get_target_from_environment() -> Target:
    """`HL_TARGET` if set, else the host."""
    return Target(os.environ.get("HL_TARGET", "host"))


def target_feature_for_device_api(device: DeviceAPI) -> TargetFeature:
    return _DEVICE_FEATURE.get(device, TargetFeature.FeatureEnd)
