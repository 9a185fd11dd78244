"""Type, Target and implicit-var APIs, compared with real Halide where it is installed."""
import pytest

import pipelang as hl

TARGET_STRINGS = ["x86-64-linux", "x86-32-linux-sse41", "arm-64-android-cuda-debug-jit-opencl",
                  "x86-64-osx-avx-avx2-fma", "arch_unknown-0-os_unknown", "x86-64-linux-tune_znver4-avx",
                  "host-unknowntoken", "x86-23", "x86-0", "0-arch_unknown-os_unknown-sse41", "opencl-host",
                  "x86-64-linux-trace_all", "x86-64-windows-hvx", "riscv-64-linux"]


def test_type_api():
    t = hl.Type()
    assert (t.code(), t.bits(), t.lanes()) == (hl.TypeCode.Handle, 0, 0) and str(t) == "handle0"
    i32 = hl.Type(hl.TypeCode.Int, 32, 1)
    assert i32 == hl.Int(32) and i32.bytes() == 4 and repr(i32) == "<halide.Type int32>"
    assert i32.with_code(hl.TypeCode.UInt) == hl.UInt(32) and i32.with_bits(16) == hl.Int(16)
    v = i32.with_lanes(8)
    assert v.is_vector() and not v.is_scalar() and v.element_of() == i32 and str(v) == "int32x8"
    assert hl.Float(32).can_represent(hl.Bool()) and not hl.Bool().can_represent(hl.Float(32))
    assert hl.Int(32).is_max(2**31 - 1) and hl.Int(32).is_min(-2**31) and not hl.UInt(32).is_max(2**32)
    assert hl.Handle().same_handle_type(hl.Handle()) and str(hl.Handle()) == "handle64"
    assert str(hl.Float(16)) == "float16" and hl.Float(16).is_float() and not hl.Float(16).is_bfloat()


def test_type_limits_and_can_represent_match_halide():
    halide = pytest.importorskip("halide")

    def facts(h):
        types = [h.Bool(), h.Int(8), h.Int(16), h.Int(32), h.Int(64), h.UInt(8), h.UInt(16), h.UInt(32),
                 h.UInt(64), h.Float(16), h.Float(32), h.Float(64), h.Int(32, 4)]
        out = [(str(t), str(t.max()), str(t.min()), repr(t)) for t in types]
        out += [[a.can_represent(b) for b in types] for a in types]
        return out
    assert facts(hl) == facts(halide)


def test_target_strings_match_halide():
    halide = pytest.importorskip("halide")
    for s in TARGET_STRINGS:
        assert hl.Target.validate_target_string(s) == halide.Target.validate_target_string(s), s
        if halide.Target.validate_target_string(s):
            assert str(hl.Target(s)) == str(halide.Target(s)), s


def test_target_api():
    t = hl.Target(hl.TargetOS.Linux, hl.TargetArch.X86, 32, [hl.TargetFeature.SSE41])
    assert str(t) == "x86-32-linux-sse41" and repr(t) == "<halide.Target x86-32-linux-sse41>"
    t2 = t.with_feature(hl.TargetFeature.NoAsserts).with_feature(hl.TargetFeature.NoBoundsQuery)
    assert str(t2) == "x86-32-linux-no_asserts-no_bounds_query-sse41"
    assert str(t2.without_feature(hl.TargetFeature.NoAsserts)) == "x86-32-linux-no_bounds_query-sse41"
    assert [t.natural_vector_size(x) for x in (hl.UInt(8), hl.Int(16), hl.Float(32))] == [16, 8, 4]
    t.set_features([hl.TargetFeature.AVX, hl.TargetFeature.AVX2])
    assert t.has_feature("avx2") and t.natural_vector_size(hl.Float(32)) == 8
    assert hl.Target("") == hl.get_host_target() and hl.get_host_target().supported()
    assert str(hl.Target()) == "arch_unknown-0-os_unknown"
    assert hl.Target(hl.TargetOS.Linux, hl.TargetArch.X86, 64, [hl.TargetFeature.CUDA]).supports_device_api(
        hl.DeviceAPI.CUDA)
    assert not hl.Target(hl.TargetOS.OSX, hl.TargetArch.X86, 64, [hl.TargetFeature.Metal]).supports_type(
        hl.Float(64))
    assert hl.target_feature_for_device_api(hl.DeviceAPI.OpenCL) == hl.TargetFeature.OpenCL


def test_host_target_vector_size_matches_halide():
    halide = pytest.importorskip("halide")
    for bits in (8, 16, 32, 64):
        assert (hl.get_host_target().natural_vector_size(hl.Float(bits) if bits >= 16 else hl.UInt(bits))
                == halide.get_host_target().natural_vector_size(
                    halide.Float(bits) if bits >= 16 else halide.UInt(bits)))


def test_implicit_vars():
    assert hl.Var.implicit(1).same_as(hl._1) and hl._1.implicit_index() == 1
    assert hl.Var("v4").implicit_index() == -1 and not hl.Var("v4").is_implicit()
    assert hl._.is_placeholder() and hl._.name() == "_" and hl.Var.outermost().name() == "__outermost"
    assert repr(hl.Var("x")) == "<halide.Var 'x'>"


def test_placeholder_in_calls_and_definitions():
    import numpy as np
    x, y = hl.vars("x y")
    g = hl.Func("g")
    g[x, y] = x + 10 * y
    f = hl.Func("f")
    f[hl._] = g[hl._] * 2
    assert f.dimensions() == 2
    np.testing.assert_array_equal(np.asarray(f.realize([3, 2])), 2 * np.add.outer(10 * np.arange(2), np.arange(3)))
    h = hl.Func("h")
    h[x, hl._] = g[hl._, x]          # h(x, _0) = g(_0, x)
    np.testing.assert_array_equal(np.asarray(h.realize([2, 3])), np.asarray(g.realize([3, 2])).T)
    one = hl.Func("one")
    one[x] = 2
    acc = hl.Func("acc")
    acc[hl._] += one[hl._]
    assert list(np.asarray(acc.realize([2]))) == [2, 2]
