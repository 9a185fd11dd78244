"""Generators: params, inputs/outputs, configure, aliases, stubs, callables,
the hl.main command line and its errors, checked against numpy."""
import enum
import os
import subprocess
import sys

import numpy as np
import pytest

import pipelang as hl
from pipelang.aot.generator_cli import run as gen_main

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")


class Mode(enum.Enum):
    add = 0
    mul = 1


@hl.alias(pl_test_params_x3={"scale": 3.0, "mode": "mul"})
@hl.generator(name="pl_test_params")
class ParamsGen:
    scale = hl.GeneratorParam(2.0)
    offset = hl.GeneratorParam(1)
    flip = hl.GeneratorParam(False)
    tag = hl.GeneratorParam("none")
    out_type = hl.GeneratorParam(hl.Float(32))
    mode = hl.GeneratorParam(Mode.add)

    inp = hl.InputBuffer(hl.UInt(8), 2)
    k = hl.InputScalar(hl.Int(32))
    total = hl.OutputScalar(hl.Int(32))

    def configure(self):
        self.add_input("bias", hl.InputScalar(hl.Float(32)))
        # An output whose type is a GeneratorParam.
        self.add_output("out", hl.OutputBuffer(self.out_type, 2))
        assert self.tag in ("none", "hello")

    def generate(self):
        g = self
        v = hl.cast(g.out_type, g.inp[x, y])
        if g.flip:
            v = hl.cast(g.out_type, g.inp[x, g.inp.height() - 1 - y])
        v = v * g.scale + g.offset if g.mode is Mode.add else v * g.scale * g.offset
        g.out[x, y] = hl.cast(g.out_type, v + g.k + g.bias)
        g.total[()] = g.k * 2
        g.out.vectorize(x, g.natural_vector_size(g.out_type))
        assert not g.using_autoscheduler()


def reference(a, k, bias, scale=2.0, offset=1, flip=False, mode=Mode.add):
    v = a.astype(np.float32)
    if flip:
        v = v[::-1]
    v = v * np.float32(scale) + offset if mode is Mode.add else v * np.float32(scale) * offset
    return v + np.float32(k) + np.float32(bias)


@hl.generator(name="pl_test_require")
class RequireGen(hl.Generator):
    inp = hl.InputBuffer(hl.Float(32), 1)
    n = hl.InputScalar(int)
    out = hl.OutputBuffer(hl.Float(32), 1)

    def generate(self):
        self.add_requirement(self.n > 0, "n must be positive, not", self.n)
        self.out[x] = self.inp[x] * self.n


@hl.generator(name="pl_test_undefined")
class UndefinedGen:
    out = hl.OutputBuffer(hl.Int(32), 1)
    other = hl.OutputBuffer(hl.Int(32), 1)

    def generate(self):
        self.out[x] = x


@hl.generator(name="pl_test_untyped")
class UntypedGen:
    inp = hl.InputBuffer(None, None)
    out = hl.OutputBuffer(None, 2)

    def generate(self):
        self.out[x, y] = hl.cast(self.out.type(), self.inp[x, y] + 1)


@hl.generator(name="pl_test_bits")
class BitsGen:
    bits = hl.InputBuffer(bool, 1)
    flag = hl.InputScalar(bool)
    out = hl.OutputBuffer(hl.Bool(), 1)

    def generate(self):
        self.out[x] = self.bits[x] | self.flag


A = np.random.default_rng(0).integers(0, 256, (6, 40), dtype=np.uint8)


def test_callable_with_every_param_kind():
    with hl.GeneratorContext(hl.get_host_target()):
        gen = ParamsGen(generator_params={"scale": "0.5", "offset": "3", "flip": "true",
                                          "tag": "hello", "mode": "mul"})
        f = gen.compile_to_callable()
    assert [a[0] for a in f.arguments] == ["inp", "k", "bias", "total", "out"]
    out = np.zeros((6, 40), np.float32)
    total = np.zeros((), np.int32)
    f(A, 7, 0.25, total, out)
    np.testing.assert_allclose(out, reference(A, 7, 0.25, 0.5, 3, True, Mode.mul), rtol=1e-6)
    assert total == 14
    # Keyword arguments, in any order.
    out2 = np.zeros_like(out)
    f(bias=0.25, out=out2, total=total, inp=A, k=7)
    np.testing.assert_array_equal(out, out2)


def test_alias_and_type_param():
    f = hl.create_callable_from_generator(hl.get_host_target(), "pl_test_params_x3",
                                          {"out_type": "float64"})
    out = np.zeros((6, 40), np.float64)
    f(A, 1, 0.0, np.zeros((), np.int32), out)
    np.testing.assert_allclose(out, A * 3.0 * 1 + 1, rtol=1e-12)


def test_stub_call_realizes_like_numpy():
    total, out = ParamsGen.call(hl.Buffer(A), 5, 1.5)
    np.testing.assert_allclose(np.asarray(out.realize([40, 6])), reference(A, 5, 1.5), rtol=1e-6)
    assert int(np.asarray(total.realize([]))) == 10
    _, out = ParamsGen.call(bias=1.5, inp=hl.Buffer(A), k=5, generator_params={"offset": 0})
    np.testing.assert_allclose(np.asarray(out.realize([40, 6])), reference(A, 5, 1.5, offset=0),
                               rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, 4), "allows at most 3 positional args, but 4"),
    (lambda: ParamsGen.call(hl.Buffer(A)), "requires 3 args, but 1 were specified"),
    (lambda: ParamsGen.call(hl.f32(1), 1, 1.0), "Input inp requires an ImageParam or Buffer"),
    (lambda: ParamsGen.call(hl.Buffer(A), "x", 1.0), "Input k requires a Param"),
    (lambda: ParamsGen.call(hl.Buffer(A.astype(np.int16)), 1, 1.0),
     "Type mismatch for inp: expected uint8 saw int16"),
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, k=2), "Input k specified multiple times"),
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, nope=2),
     "Unknown input 'nope' specified via keyword argument"),
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, generator_params=[1]),
     "generator_params must be a dict"),
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, generator_params={"foo": 0}),
     r"Generator pl_test_params has no GeneratorParam\(s\) named: \['foo'\]"),
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, generator_params={"offset": "x"}),
     "GeneratorParam offset is a int, but was given 'x'"),
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, generator_params={"mode": "div"}),
     r"GeneratorParam mode must be one of \['add', 'mul'\], not 'div'"),
    (lambda: ParamsGen.call(hl.Buffer(A), 1, 1.0, generator_params={"out_type": "int7"}),
     "The value int7 cannot be parsed as a Type"),
    (lambda: UndefinedGen.call(), "Output 'other' was not defined"),
])
def test_stub_errors(call, message):
    with pytest.raises(hl.HalideError, match=message):
        call()


def test_requirement_fails_with_halide_code():
    f = hl.create_callable_from_generator(hl.get_host_target(), "pl_test_require")
    a = np.arange(8, dtype=np.float32)
    out = np.zeros_like(a)
    f(a, 3, out)
    np.testing.assert_array_equal(out, a * 3)
    with pytest.raises(hl.PipelineRuntimeError,
                       match=r"error code -27: Requirement Failed: \(n > 0\) n must be "
                             r"positive, not -2"):
        f(a, -2, out)


def test_types_and_dimensions_from_params():
    f = hl.create_callable_from_generator(hl.get_host_target(), "pl_test_untyped",
                                          {"inp.type": "int16", "inp.dim": "2",
                                           "out.type": "float32"})
    a = np.arange(-20, 20, dtype=np.int16).reshape(2, 20)
    out = np.zeros((2, 20), np.float32)
    f(a, out)
    np.testing.assert_array_equal(out, a + 1)


def test_bool_buffers_and_scalars():
    f = hl.create_callable_from_generator(hl.get_host_target(), "pl_test_bits")
    bits = np.array([False, True, False, True])
    out = np.zeros(4, bool)
    f(bits, False, out)
    np.testing.assert_array_equal(out, bits)
    f(bits, True, out)
    assert out.all()


def test_command_line_writes_library_and_header(tmp_path):
    files = gen_main(["-g", "pl_test_params", "-o", str(tmp_path), "-e",
                      "static_library,c_header,registration,stmt,assembly", "-f", "scaled",
                      "target=host", "offset=5", "flip=true"])
    names = sorted(os.path.basename(f) for f in files)
    assert names == ["scaled.a", "scaled.h", "scaled.registration.cpp", "scaled.s", "scaled.stmt"]
    header = (tmp_path / "scaled.h").read_text()
    assert ("int scaled(struct halide_buffer_t *_inp_buffer, int32_t _k, float _bias, "
            "struct halide_buffer_t *_total_buffer, struct halide_buffer_t *_out_buffer);") in header
    lib = hl.load_library(str(tmp_path / "scaled.a"))
    out = np.zeros((6, 40), np.float32)
    lib(A, 2, 0.0, np.zeros((), np.int32), out)
    np.testing.assert_allclose(out, reference(A, 2, 0.0, offset=5, flip=True), rtol=1e-6)
    # The standalone runtime, for objects built with no_runtime.
    gen_main(["-r", "runtime", "-o", str(tmp_path), "target=host"])
    assert (tmp_path / "runtime.a").read_bytes().startswith(b"!<arch>\n")


@pytest.mark.parametrize("argv, message", [
    (["-g", "pl_test_params", "target=host"], "-o must always be specified"),
    (["-g", "pl_nope", "-o", "{d}", "target=host"], "Generator pl_nope not registered"),
    (["-g", "pl_test_params", "-o", "{d}", "target=host", "bogus=1"],
     r"has no GeneratorParam\(s\) named: \['bogus'\]"),
    (["-g", "pl_test_params", "-o", "{d}", "-e", "object,wat", "target=host"],
     "Unrecognized emit option: wat"),
    (["-g", "pl_test_params", "-o", "{d}", "target=x86-64-beos"],
     "Did not understand Halide target x86-64-beos"),
    (["-g", "pl_test_params", "-o", "{d}", "-e", "object", "target=hexagon-32-qurt"],
     "Can't compile for target hexagon-32-qurt"),
    (["-g", "pl_test_params", "-o", "{d}"], "Target missing"),
    (["-g", "pl_test_params", "-o", "{d}", "-s", "Adams2019", "target=host"],
     "-s is no longer supported"),
    (["-g", "pl_test_require", "-o", "{d}", "target=host", "autoscheduler=NoSuch"],
     "autoscheduler"),
    (["-g", "pl_test_undefined", "-o", "{d}", "target=host"], "Output 'other' was not defined"),
    (["-g", "pl_test_params", "-o", "{d}", "target=host", "inp.type=uint16"],
     "Cannot set the GeneratorParam inp.type for pl_test_params because the value is "
     "explicitly specified"),
    (["-g", "pl_test_untyped", "-o", "{d}", "target=host", "inp.type=int16", "inp.dim=2"],
     "No type has been specified for out. Try specifying one in code, or by setting "
     "'out.type' as a GeneratorParam"),
    (["-g", "pl_test_untyped", "-o", "{d}", "target=host", "out.type=int16", "inp.type=int16"],
     "No dimensionality has been specified for inp"),
])
def test_command_line_errors(tmp_path, argv, message):
    with pytest.raises(hl.HalideError, match=message):
        gen_main([a.replace("{d}", str(tmp_path)) for a in argv])


def test_generator_script_exits_with_message(tmp_path):
    """`python gen.py ...` runs hl.main(): files on success, a one-line error otherwise."""
    script = tmp_path / "one_gen.py"
    script.write_text(
        "import pipelang as hl\n"
        "x = hl.Var('x')\n"
        "@hl.generator(name='one')\n"
        "class One:\n"
        "    gain = hl.GeneratorParam(2)\n"
        "    inp = hl.InputBuffer(hl.Int(32), 1)\n"
        "    out = hl.OutputBuffer(hl.Int(32), 1)\n"
        "    def generate(self):\n"
        "        self.out[x] = self.inp[x] * self.gain\n"
        "if __name__ == '__main__':\n"
        "    hl.main()\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(hl.__file__))] + sys.path))
    ok = subprocess.run([sys.executable, str(script), "-o", str(tmp_path / "out"), "-e",
                         "object,c_header", "target=host", "gain=3"], env=env,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["one.h", "one.o"]
    bad = subprocess.run([sys.executable, str(script), "-o", str(tmp_path / "out"),
                          "target=host", "gian=3"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "Error: Generator one has no GeneratorParam(s) named: ['gian']" in bad.stderr
    assert "Traceback" not in bad.stderr


@hl.generator()
class UnnamedGen:
    """Registered by its module-qualified name, as Halide does without name=."""
    inp = hl.InputBuffer(hl.Int(32), 1)
    out = hl.OutputBuffer(hl.Int(32), 1)

    def generate(self):
        self.out[x] = self.inp[x] * 3


def test_callable_of_generator_with_qualified_name():
    assert UnnamedGen()._pl_name.endswith(".UnnamedGen")
    with hl.GeneratorContext(hl.get_host_target()):
        f = UnnamedGen().compile_to_callable()
    a = np.arange(10, dtype=np.int32)
    out = np.zeros_like(a)
    f(a, out)
    np.testing.assert_array_equal(out, a * 3)
