"""Buffer strides as Halide's lesson 16 uses them: `dim(0).set_stride(3)` for
interleaved images, `set_stride(hl.Expr())` for any layout, and `specialize` on
strides; through the JIT, a Callable and AOT code loaded back with
`hl.load_library` (no C compiler needed). Each layout is checked against numpy
on planar and interleaved buffers."""
import numpy as np
import pytest

import pipelang as hl

W, H = 37, 11


def brighten(layout: str):
    """Lesson 16's `brighten` for one memory layout."""
    inp = hl.ImageParam(hl.UInt(8), 3, "input_buf")
    off = hl.Param(hl.UInt(8), "offset", 5)
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    f = hl.Func("brighter")
    f[x, y, c] = inp[x, y, c] + off
    f.vectorize(x, 16)
    out = f.output_buffer()
    if layout == "interleaved":
        inp.dim(0).set_stride(3).dim(2).set_stride(1).set_bounds(0, 3)
        out.dim(0).set_stride(3).dim(2).set_stride(1).set_bounds(0, 3)
        f.reorder(c, x, y).unroll(c)
    elif layout in ("either", "specialized"):
        inp.dim(0).set_stride(hl.Expr())
        out.dim(0).set_stride(hl.Expr())
        if layout == "specialized":
            interleaved = ((inp.dim(0).stride() == 3) & (inp.dim(2).stride() == 1)
                           & (inp.dim(2).extent() == 3) & (out.dim(0).stride() == 3)
                           & (out.dim(2).stride() == 1) & (out.dim(2).extent() == 3))
            f.specialize((inp.dim(0).stride() == 1) & (out.dim(0).stride() == 1))
            f.specialize(interleaved).reorder(c, x, y).unroll(c)
    return f, inp, off


def image(layout: str, seed: int):
    """(hl.Buffer, numpy array in numpy's axis order c, y, x) of the layout."""
    rng = np.random.default_rng(seed)
    if layout == "planar":
        a = rng.integers(0, 256, (3, H, W), dtype=np.uint8)
        return hl.Buffer(a), a
    a = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    view = a.transpose(2, 0, 1)
    return hl.Buffer(view), view


def output(layout: str):
    if layout == "planar":
        return hl.Buffer(hl.UInt(8), [W, H, 3])
    return hl.Buffer.make_interleaved(hl.UInt(8), W, H, 3)


ACCEPTS = {"planar": ["planar"], "interleaved": ["interleaved"],
           "either": ["planar", "interleaved"], "specialized": ["planar", "interleaved"]}


@pytest.mark.parametrize("layout", list(ACCEPTS))
def test_jit_layouts_match_numpy(layout):
    f, inp, off = brighten(layout)
    for k, kind in enumerate(ACCEPTS[layout]):
        buf, a = image(kind, k)
        out = output(kind)
        assert buf.dim(0).stride() == out.dim(0).stride() == (1 if kind == "planar" else 3)
        inp.set(buf)
        f.realize(out)
        np.testing.assert_array_equal(np.asarray(out), a + np.uint8(5))


def test_default_constraint_still_refuses_strided_input():
    f, inp, off = brighten("planar")
    buf, _ = image("interleaved", 0)
    inp.set(buf)
    with pytest.raises(hl.HalideError, match="stride 3 in dimension 0, but it must be 1"):
        f.realize([W, H, 3])


def test_constant_strides_and_bounds_are_compiled_in():
    """Past the checks, the body uses the constrained values (as Halide does):
    the interleaved layout's loads are stride-3 ramps with constant strides,
    and its channel loop (bounded by set_bounds) is unrolled."""
    f, inp, off = brighten("interleaved")
    from pipelang import ir
    from pipelang.lowering.lower import lower
    text = ir.to_string(lower([f.function], "brighter")[0].body)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("assert"))
    assert "stride.0" not in body and "extent.2" not in body
    assert ", 3, 16)]" in text                   # ramp(base, 3, 16) loads and stores
    assert "for (brighter.s0.c" not in text      # unrolled


def test_specialized_branch_is_dense():
    """The planar specialization learns `stride.0 == 1`: its loads are dense."""
    f, inp, off = brighten("specialized")
    from pipelang import ir
    from pipelang.lowering.lower import lower
    text = ir.to_string(lower([f.function], "brighter")[0].body)
    planar = text.split("stride.0 == 1))) {", 1)[1].split("} else", 1)[0]
    assert ", 1, 16)]" in planar and "stride.0" not in planar


def test_callable_takes_interleaved_buffers():
    f, inp, off = brighten("either")
    call = f.compile_to_callable([inp, off])
    for k, kind in enumerate(("planar", "interleaved")):
        buf, a = image(kind, 10 + k)
        out = output(kind)
        call(buf, 9, out)
        np.testing.assert_array_equal(np.asarray(out), a + np.uint8(9))


@pytest.mark.parametrize("layout", ["interleaved", "specialized"])
def test_aot_layouts_through_load_library(tmp_path, layout):
    f, inp, off = brighten(layout)
    f.compile_to_object(str(tmp_path / "brighten.o"), [inp, off], "brighten")
    lib = hl.load_library(str(tmp_path / "brighten.o"))
    for k, kind in enumerate(ACCEPTS[layout]):
        buf, a = image(kind, 20 + k)
        out = output(kind)
        lib(buf, 3, out)
        np.testing.assert_array_equal(np.asarray(out), a + np.uint8(3))
    if layout == "interleaved":
        buf, _ = image("planar", 0)
        with pytest.raises(hl.PipelineRuntimeError, match=r"error code -8: Constraint violated: "
                                                          r"input_buf.stride.0 \(1\) == 3"):
            lib(buf, 3, output("interleaved"))
