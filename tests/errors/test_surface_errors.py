"""User errors of the Type/Target/Buffer/implicit-var/intrinsic/serialization
surface: pipelang exceptions that say what is wrong."""
import numpy as np
import pytest

import pipelang as hl


def test_bad_target_string():
    with pytest.raises(hl.HalideError, match="Did not understand Halide target x86-65-linux"):
        hl.Target("x86-65-linux")
    with pytest.raises(TypeError, match="incompatible constructor arguments"):
        hl.Target(hl.TargetOS.Linux, hl.TargetArch.X86, 32, ["this is a string"])
    with pytest.raises(hl.HalideError, match="natural_vector_size cannot be used on a Target with Unknown"):
        hl.Target().natural_vector_size(hl.Int(32))


def test_buffer_index_errors_use_halides_text():
    b = hl.Buffer(hl.Int(16), [4, 6])
    with pytest.raises(IndexError, match="index -1 is out of bounds for axis 0 with min=0, extent=4"):
        b[-1, 2]
    with pytest.raises(IndexError, match="index 6 is out of bounds for axis 1 with min=0, extent=6"):
        b[1, 6] = 42
    with pytest.raises(ValueError, match="Incorrect number of dimensions"):
        b[1]


def test_buffer_view_errors():
    b = hl.Buffer(hl.Int(32), [4, 6], "b")
    with pytest.raises(hl.HalideError, match="crop of dimension 0 to \\[2, 5\\] is outside its extent \\[0, 3\\]"):
        b.crop(0, 2, 4)
    with pytest.raises(hl.HalideError, match="transpose order \\[0, 0\\] is not a permutation"):
        b.transpose([0, 0])
    with pytest.raises(hl.HalideError, match="storage_order \\[0, 2\\] is not a permutation"):
        hl.Buffer(hl.UInt(8), [2, 2], [0, 2])
    with pytest.raises(hl.HalideError, match="numpy dtype complex128 has no Halide type"):
        hl.Buffer(np.zeros(3, np.complex128))


def test_implicit_var_errors():
    x = hl.Var("x")
    g = hl.Func("g")
    g[x, hl.Var("y")] = x
    f = hl.Func("f")
    with pytest.raises(hl.CompileError, match="uses implicit variables, but the left-hand-side does not "
                                              "contain the placeholder"):
        f[x] = g[hl._] + x
    h = hl.Func("h")
    with pytest.raises(hl.CompileError, match='was called with 3 arguments, but was defined with 2'):
        h[x] = g[x, hl._, x, x]


def test_fixed_point_errors():
    x = hl.Var("x")
    with pytest.raises(hl.CompileError, match="widening_add of int64 would need a 128-bit type"):
        hl.widening_add(hl.i64(x), hl.i64(x))
    with pytest.raises(hl.CompileError, match="widen_right_add type mismatch: the first argument must "
                                              "have type int16"):
        hl.widen_right_add(hl.i32(x), hl.i8(x))
    with pytest.raises(hl.CompileError, match="mul_shift_right shift must be unsigned"):
        hl.mul_shift_right(hl.u8(x), hl.u8(x), hl.i8(x))
    with pytest.raises(hl.CompileError, match="concat_bits received 3 arguments, which is not a power of two"):
        hl.concat_bits([hl.u8(x)] * 3)
    with pytest.raises(hl.CompileError, match="halving_add is only defined for integer types"):
        hl.halving_add(hl.f32(x), hl.f32(x))
    with pytest.raises(hl.CompileError, match="erf only takes float32 arguments, not int32"):
        hl.erf(x)
    with pytest.raises(hl.CompileError, match="could not be cast losslessly to uint8"):
        hl.unsafe_promise_clamped(hl.u8(x), -1, 300)


def test_serialization_errors():
    with pytest.raises(hl.HalideError, match="serialize_pipeline takes a Pipeline, not Func"):
        hl.serialize_pipeline(hl.Func("f"))
    with pytest.raises(hl.HalideError, match="not a pipelang pipeline"):
        hl.deserialize_parameters(b'{"format": "something else"}')


def test_typed_func_and_call_messages_follow_halide():
    x, y = hl.vars("x y")
    f = hl.Func("untyped")
    with pytest.raises(hl.HalideError, match="Can't call Func::type on Func \"untyped\" because it is undefined "
                                             "or has no type requirements"):
        f.type()
    with pytest.raises(hl.HalideError, match="Can't call Func::dimensions on Func \"untyped\" because it is "
                                             "undefined or has no dimension requirements"):
        f.dimensions()
    t = hl.Func([hl.Int(32), hl.Float(64)], 3, "tupled")
    assert t.types() == [hl.Int(32), hl.Float(64)] and t.outputs() == 2 and t.dimensions() == 3
    with pytest.raises(hl.HalideError, match="because it returns a Tuple"):
        t.type()
    one = hl.Func(hl.Int(32), 1, "one")
    with pytest.raises(hl.HalideError, match="is constrained to have exactly 1 dimensions, but is defined "
                                             "with 2 dimensions"):
        one[x, y] = hl.i32(0)
    pair = hl.Func((hl.Int(32), hl.Float(32)), 2, "pair")
    with pytest.raises(hl.HalideError, match=r"is constrained to only hold values of type \(int32, float32\) "
                                             r"but is defined with values of type \(int16, float64\)"):
        pair[x, y] = (hl.i16(0), hl.f64(0))
    g = hl.Func("g")
    g[x, y] = x
    with pytest.raises(hl.HalideError, match="Implicit cast from float32 to int in argument 2 in call to"):
        g[x, y / 2.0]
    with pytest.raises(hl.HalideError, match="Error: Output buffer .* has type int32 but type of the buffer "
                                             "passed in is uint8"):
        g.realize(hl.Buffer(hl.UInt(8), [2, 2]))


def test_undefined_objects_print_as_halide():
    assert str(hl.ImageParam()) == "<halide.ImageParam ImageParam()>"
    assert str(hl.OutputImageParam()) == "<halide.OutputImageParam OutputImageParam()>"
    assert str(hl.ImageParam(hl.UInt(16), 2, "input")) == "<halide.ImageParam 'input', dims: 2, type: uint16>"
    assert str(hl.RDom()) == "<halide.RDom RDom()>"
    assert str(hl.Pipeline()) == "<halide.Pipeline Pipeline()>"
    import re
    assert re.fullmatch(r"<halide.RDom RDom\(\n  rr(\$x)?\(0, 3\)\n\)>", repr(hl.RDom([(0, 3)], "rr")))
