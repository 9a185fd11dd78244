"""From a Halide `Target` to what LLVM needs: triple, CPU, feature string,
and the file suffixes Halide uses on that OS.

    Target("arm-64-linux")  ->  aarch64-unknown-linux-gnu, generic, +neon
    Target("x86-64-windows-avx2")  ->  x86_64-pc-windows-msvc, x86-64, +avx,+avx2,...
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import llvmlite.binding as llvm

from pipelang.errors import CompileError
from pipelang.target import Target, TargetArch, TargetOS, get_host_target
from pipelang.backends.llvm.jit import X86_TUNING, host_description


@dataclass(frozen=True)
class MachineSpec:
    triple: str
    cpu: str
    features: str
    object_suffix: str
    library_suffix: str


_TRIPLES = {
    (TargetArch.X86, 64, TargetOS.Linux): "x86_64-unknown-linux-gnu",
    (TargetArch.X86, 64, TargetOS.OSX): "x86_64-apple-macosx10.15.0",
    (TargetArch.X86, 64, TargetOS.Windows): "x86_64-pc-windows-msvc",
    (TargetArch.X86, 64, TargetOS.Android): "x86_64-none-linux-android21",
    (TargetArch.X86, 32, TargetOS.Linux): "i686-unknown-linux-gnu",
    (TargetArch.X86, 32, TargetOS.Windows): "i686-pc-windows-msvc",
    (TargetArch.X86, 32, TargetOS.Android): "i686-none-linux-android21",
    (TargetArch.ARM, 64, TargetOS.Linux): "aarch64-unknown-linux-gnu",
    (TargetArch.ARM, 64, TargetOS.Android): "aarch64-none-linux-android21",
    (TargetArch.ARM, 64, TargetOS.OSX): "arm64-apple-macosx11.0.0",
    (TargetArch.ARM, 64, TargetOS.IOS): "arm64-apple-ios13.0.0",
    (TargetArch.ARM, 64, TargetOS.Windows): "aarch64-pc-windows-msvc",
    (TargetArch.ARM, 32, TargetOS.Linux): "armv7a-unknown-linux-gnueabihf",
    (TargetArch.ARM, 32, TargetOS.Android): "armv7a-none-linux-androideabi21",
    (TargetArch.ARM, 32, TargetOS.IOS): "armv7-apple-ios9.0.0",
    (TargetArch.WebAssembly, 32, TargetOS.wasmrt): "wasm32-unknown-unknown",
}

_X86_FEATURES = (("sse41", "+sse4.1"), ("avx", "+avx"), ("avx2", "+avx2"), ("fma", "+fma"),
                 ("f16c", "+f16c"), ("avx512", "+avx512f,+avx512cd"),
                 ("avx512_skylake", "+avx512f,+avx512cd,+avx512bw,+avx512dq,+avx512vl"))


@functools.cache
def _init_llvm() -> None:
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()


def _isa(target: Target) -> frozenset:
    return frozenset(name for name, _ in _X86_FEATURES if target.has_feature(name))


def is_host(target: Target) -> bool:
    host = get_host_target()
    return (target.arch, target.bits, target.os) == (host.arch, host.bits, host.os)


def machine_spec(target: Target) -> MachineSpec:
    """LLVM's view of `target`; a clear CompileError for one we can't build."""
    windows = target.os is TargetOS.Windows
    obj, lib = (".obj", ".lib") if windows else (".o", ".a")
    if is_host(target) and _isa(target) == _isa(get_host_target()):
        # The host's own instruction set: tune for this CPU, as the JIT does.
        _, cpu, features = host_description()
        return MachineSpec(llvm.get_process_triple(), cpu, features, obj, lib)
    triple = _TRIPLES.get((target.arch, target.bits, target.os))
    if triple is None:
        raise CompileError(f"Can't compile for target {target}: pipelang builds "
                           f"{', '.join(sorted(f'{a.value}-{b}-{o.value}' for a, b, o in _TRIPLES))}")
    feats = []
    cpu = "generic"
    if target.arch is TargetArch.X86:
        cpu = "x86-64" if target.bits == 64 else "pentium4"
        for name, flags in _X86_FEATURES:
            if target.has_feature(name):
                feats.append(flags)
        if target.has_feature("avx2"):
            feats.append("+avx,+sse4.1,+fma,+f16c")
        elif target.has_feature("avx"):
            feats.append("+sse4.1")
        feats.append(X86_TUNING)
    elif target.arch is TargetArch.ARM:
        if target.bits == 32:
            if target.has_feature("armv7s"):
                triple = triple.replace("armv7-", "armv7s-")
            feats.append("-neon" if target.has_feature("no_neon") else "+neon")
        else:
            feats.append("+neon")
            if target.has_feature("arm_dot_prod"):
                feats.append("+dotprod")
            if target.has_feature("arm_fp16"):
                feats.append("+fullfp16")
            if target.has_feature("sve2"):
                feats.append("+sve2")
            elif target.has_feature("sve"):
                feats.append("+sve")
    return MachineSpec(triple, cpu, ",".join(feats), obj, lib)


def target_machine(target: Target, reloc: str = "pic"):
    """An LLVM TargetMachine at O3 for `target` (position-independent code)."""
    _init_llvm()
    spec = machine_spec(target)
    try:
        llvm_target = llvm.Target.from_triple(spec.triple)
    except RuntimeError as e:
        raise CompileError(f"Can't compile for target {target}: this LLVM has no "
                           f"{spec.triple} backend ({e})") from None
    return llvm_target.create_target_machine(cpu=spec.cpu, features=spec.features, opt=3,
                                             reloc=reloc, codemodel="default")
