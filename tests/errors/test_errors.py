"""Every user error raises hl.HalideError (or a subclass) with a message that names the culprit.

Messages are matched on key words only (case-insensitive regexes), never on Halide's exact
wording: the Func / buffer / Var involved, the dimension, the offending types. Where Halide
raises at definition time and pipelang might raise at realize time (or the reverse), the whole
sequence is inside the `expect_error` block.

All of these raise a Python exception under Halide 21 (none abort the process).
"""

import contextlib
import re

import numpy as np
import pytest

import pipelang as hl


@contextlib.contextmanager
def expect_error(*patterns):
    with pytest.raises(hl.HalideError) as info:
        yield
    msg = str(info.value)
    missing = [p for p in patterns if not re.search(p, msg, re.IGNORECASE)]
    assert not missing, f"error message lacks {missing!r}:\n{msg}"


def vars_():
    return hl.Var("x"), hl.Var("y")


def dim(n):
    """'dimension 1', 'dim 1', 'dim(1)' ..."""
    return rf"dim\w*\W*{n}\b"


# ---------------------------------------------------------------- inputs too small

def test_input_buffer_too_small_past_the_max():
    x, y = vars_()
    keep = np.zeros((4, 10), np.uint8)
    b = hl.Buffer(keep, "small_input")
    f = hl.Func("f")
    f[x, y] = b[x + 5, y]
    with expect_error("small_input", dim(0)):
        f.realize([10, 4])


def test_input_buffer_too_small_before_the_min():
    x, y = vars_()
    keep = np.zeros((4, 10), np.uint8)
    b = hl.Buffer(keep, "small_input")
    f = hl.Func("f")
    f[x, y] = b[x - 3, y]
    with expect_error("small_input", dim(0)):
        f.realize([10, 4])


def test_input_buffer_too_small_in_y():
    x, y = vars_()
    keep = np.zeros((4, 10), np.uint8)
    b = hl.Buffer(keep, "small_input")
    f = hl.Func("f")
    f[x, y] = b[x, y + 1]
    with expect_error("small_input", dim(1)):
        f.realize([10, 4])


def test_input_buffer_too_small_in_third_dimension():
    x, y, z = hl.Var("x"), hl.Var("y"), hl.Var("z")
    keep = np.zeros((2, 4, 10), np.uint8)
    b = hl.Buffer(keep, "volume")
    f = hl.Func("f")
    f[x, y, z] = b[x, y, z]
    with expect_error("volume", dim(2)):
        f.realize([10, 4, 3])


def test_image_param_too_small():
    x, y = vars_()
    ip = hl.ImageParam(hl.UInt(8), 2, "my_input")
    f = hl.Func("f")
    f[x, y] = ip[x, y + 2]
    keep = np.zeros((5, 7), np.uint8)
    ip.set(hl.Buffer(keep))
    with expect_error("my_input", dim(1)):
        f.realize([7, 5])


def test_image_param_fits_after_rebinding_a_larger_buffer():
    """The size check is per realize: a too-small binding fails, a big enough one then works."""
    x, y = vars_()
    ip = hl.ImageParam(hl.UInt(8), 2, "my_input")
    f = hl.Func("f")
    f[x, y] = ip[x + 1, y]
    small = np.zeros((3, 4), np.uint8)
    ip.set(hl.Buffer(small))
    with expect_error("my_input", dim(0)):
        f.realize([4, 3])
    big = np.arange(15, dtype=np.uint8).reshape(3, 5)
    ip.set(hl.Buffer(big))
    np.testing.assert_array_equal(np.asarray(f.realize([4, 3])), big[:, 1:])


# ---------------------------------------------------------------- ImageParam bindings

def test_image_param_bound_to_wrong_type():
    x, y = vars_()
    ip = hl.ImageParam(hl.UInt(8), 2, "my_input")
    f = hl.Func("f")
    f[x, y] = ip[x, y]
    keep = np.zeros((5, 7), np.float32)
    with expect_error("my_input", "uint8", "float32"):
        ip.set(hl.Buffer(keep))  # Halide raises here; raising at realize is fine too
        f.realize([7, 5])


def test_image_param_bound_to_wrong_number_of_dimensions():
    x, y = vars_()
    ip = hl.ImageParam(hl.UInt(8), 2, "my_input")
    f = hl.Func("f")
    f[x, y] = ip[x, y]
    keep = np.zeros((3, 5, 7), np.uint8)
    with expect_error("my_input", r"\b2\b", r"\b3\b"):
        ip.set(hl.Buffer(keep))
        f.realize([7, 5])


def test_image_param_not_bound():
    x, y = vars_()
    ip = hl.ImageParam(hl.UInt(8), 2, "my_input")
    f = hl.Func("f")
    f[x, y] = ip[x, y]
    with expect_error("my_input"):
        f.realize([7, 5])


def test_image_param_requires_unit_stride_in_x():
    """By default an ImageParam's dim(0).stride() must be 1 (a transposed array has stride 7)."""
    x, y = vars_()
    ip = hl.ImageParam(hl.UInt(8), 2, "my_input")
    f = hl.Func("f")
    f[x, y] = ip[x, y]
    keep = np.zeros((5, 7), np.uint8).T
    with expect_error("my_input", "stride"):
        ip.set(hl.Buffer(keep))
        f.realize([5, 7])


def test_param_set_to_unrepresentable_value():
    p = hl.Param(hl.UInt(8), "p")
    with expect_error("300", "uint8"):
        p.set(300)


# ---------------------------------------------------------------- calling Funcs

def test_calling_an_undefined_func():
    x = hl.Var("x")
    f = hl.Func("never_defined")
    g = hl.Func("g")
    with expect_error("never_defined"):
        g[x] = f[x] + 1
        g.realize([3])


def test_calling_an_undefined_func_directly():
    x = hl.Var("x")
    f = hl.Func("never_defined")
    g = hl.Func("g")
    with expect_error("never_defined"):
        g[x] = f[x]
        g.realize([3])


def test_realizing_an_undefined_func():
    f = hl.Func("empty")
    with expect_error("undefined"):
        f.realize([3])


def test_calling_a_func_with_too_few_arguments():
    x, y = vars_()
    f = hl.Func("two_d")
    f[x, y] = x + y
    g = hl.Func("g")
    with expect_error("two_d", r"\b1\b", r"\b2\b"):
        g[x] = f[x]
        g.realize([3])


def test_calling_a_func_with_too_many_arguments():
    x, y = vars_()
    f = hl.Func("one_d")
    f[x] = x
    g = hl.Func("g")
    with expect_error("one_d", r"\b1\b", r"\b2\b"):
        g[x, y] = f[x, y]
        g.realize([3, 3])


def test_calling_an_image_param_with_wrong_number_of_arguments():
    x = hl.Var("x")
    ip = hl.ImageParam(hl.UInt(8), 2, "my_input")
    g = hl.Func("g")
    with expect_error("my_input", r"\b1\b", r"\b2\b"):
        g[x] = ip[x]
        g.realize([3])


def test_calling_a_func_with_a_float_coordinate():
    x = hl.Var("x")
    f = hl.Func("int_indexed")
    f[x] = x
    g = hl.Func("g")
    with expect_error("int_indexed", "float"):
        g[x] = f[hl.f32(x)]
        g.realize([3])


# ---------------------------------------------------------------- malformed definitions

def test_definition_lhs_is_not_a_var():
    x = hl.Var("x")
    f = hl.Func("lhs_func")
    with expect_error("lhs_func", "var"):
        f[x + 1] = x
        f.realize([3])


def test_definition_repeats_a_var():
    x = hl.Var("x")
    f = hl.Func("dup_func")
    with expect_error("dup_func", r"\bx\b"):
        f[x, x] = x
        f.realize([3, 3])


def test_definition_uses_a_free_var():
    x, y = vars_()
    f = hl.Func("free_func")
    with expect_error("free_func", r"\by\b"):
        f[x] = x + y
        f.realize([3])


# ---------------------------------------------------------------- realize

def test_realize_with_too_few_sizes():
    x, y = vars_()
    f = hl.Func("two_d")
    f[x, y] = x + y
    with expect_error("two_d", r"\b2\b", r"\b1\b"):
        f.realize([5])


def test_realize_with_too_many_sizes():
    x, y = vars_()
    f = hl.Func("two_d")
    f[x, y] = x + y
    with expect_error("two_d", r"\b2\b", r"\b3\b"):
        f.realize([5, 4, 3])


def test_pipeline_realize_with_wrong_number_of_sizes():
    x, y = vars_()
    f, g = hl.Func("first_out"), hl.Func("second_out")
    f[x, y] = x
    g[x, y] = y
    with expect_error("first_out|second_out", r"\b2\b", r"\b1\b"):
        hl.Pipeline([f, g]).realize([3])


def test_realize_into_buffer_of_wrong_dimensions():
    x, y = vars_()
    f = hl.Func("two_d")
    f[x, y] = x + y
    with expect_error("two_d", r"\b2\b", r"\b1\b"):
        f.realize(hl.Buffer(hl.Int(32), [5]))


def test_realize_into_buffer_of_wrong_type():
    x, y = vars_()
    f = hl.Func("two_d")
    f[x, y] = x + y
    with expect_error("two_d", "int32", "uint8"):
        f.realize(hl.Buffer(hl.UInt(8), [5, 4]))


# ---------------------------------------------------------------- types and literals

@pytest.mark.parametrize(
    "build,words",
    [
        (lambda x: hl.u8(x) + 300, ["300", "uint8"]),
        (lambda x: 300 + hl.u8(x), ["300", "uint8"]),
        (lambda x: hl.u8(x) + (-1), ["-1", "uint8"]),
        (lambda x: hl.u16(x) * -1, ["-1", "uint16"]),
        (lambda x: hl.i8(x) + 200, ["200", "int8"]),
        (lambda x: hl.i8(x) == 200, ["200", "int8"]),
        (lambda x: hl.u8(x) < -1, ["-1", "uint8"]),
        (lambda x: hl.u8(x) % 256, ["256", "uint8"]),
    ],
    ids=["u8+300", "300+u8", "u8+(-1)", "u16*-1", "i8+200", "i8==200", "u8<-1", "u8%256"],
)
def test_out_of_range_literal(build, words):
    x = hl.Var("x")
    with expect_error(*words):
        build(x)


def test_bitwise_op_on_mixed_signedness():
    x = hl.Var("x")
    with expect_error("uint8", "int16"):
        hl.u8(x) & hl.i16(x)


def test_select_with_mismatched_types():
    x = hl.Var("x")
    with expect_error("uint8", "int16"):
        hl.select(x > 0, hl.u8(x), hl.i16(x))


def test_clamp_bound_not_representable():
    x = hl.Var("x")
    with expect_error("uint8", "300|int32"):
        hl.clamp(hl.u8(x), 0, 300)


# ---------------------------------------------------------------- scheduling errors

def _producer_consumer():
    x, y = vars_()
    producer, consumer, other, out = hl.Func("producer"), hl.Func("consumer"), hl.Func("other"), hl.Func("out")
    producer[x, y] = x + y
    consumer[x, y] = producer[x, y] * 2
    other[x, y] = x - y
    out[x, y] = consumer[x, y] + other[x, y]
    return producer, consumer, other, out, x, y


def test_compute_at_a_func_that_does_not_use_it():
    producer, consumer, other, out, x, y = _producer_consumer()
    with expect_error("producer", "other", "compute_root"):
        producer.compute_at(other, y)
        out.realize([4, 4])


def test_compute_at_a_var_not_in_the_consumer():
    producer, consumer, other, out, x, y = _producer_consumer()
    not_a_dim = hl.Var("not_a_dim")
    with expect_error("producer", "not_a_dim"):
        producer.compute_at(consumer, not_a_dim)
        out.realize([4, 4])


def test_store_at_inside_compute_at():
    producer, consumer, other, out, x, y = _producer_consumer()
    with expect_error("producer", "store_at|store"):
        producer.compute_at(consumer, y).store_at(consumer, x)
        out.realize([4, 4])


SCHEDULE_ON_MISSING_VAR = {
    "split": lambda f, x, z: f.split(z, hl.Var("zo"), hl.Var("zi"), 4),
    "vectorize": lambda f, x, z: f.vectorize(z, 4),
    "unroll": lambda f, x, z: f.unroll(z),
    "parallel": lambda f, x, z: f.parallel(z),
    "reorder": lambda f, x, z: f.reorder(z, x),
    "fuse": lambda f, x, z: f.fuse(x, z, hl.Var("fused")),
    "tile": lambda f, x, z: f.tile(x, z, hl.Var("xo"), hl.Var("zo"), hl.Var("xi"), hl.Var("zi"), 2, 2),
}


@pytest.mark.parametrize("directive", list(SCHEDULE_ON_MISSING_VAR))
def test_schedule_directive_on_a_var_that_does_not_exist(directive):
    x, y = vars_()
    f = hl.Func("my_func")
    f[x, y] = x + y
    not_a_dim = hl.Var("not_a_dim")
    with expect_error("my_func", "not_a_dim"):
        SCHEDULE_ON_MISSING_VAR[directive](f, x, not_a_dim)
        f.realize([4, 4])


def test_vectorize_a_var_that_was_split_away():
    x, y = vars_()
    f = hl.Func("my_func")
    f[x, y] = x + y
    with expect_error("my_func", r"\bx\b"):
        f.split(x, hl.Var("xo"), hl.Var("xi"), 2)
        f.vectorize(x, 4)
        f.realize([4, 4])


def test_reorder_the_same_var_twice():
    x, y = vars_()
    f = hl.Func("my_func")
    f[x, y] = x + y
    with expect_error("my_func", r"\bx\b"):
        f.reorder(x, x)
        f.realize([4, 4])


def test_split_reusing_a_var_name():
    x = hl.Var("x")
    f = hl.Func("my_func")
    f[x] = x
    xo, xi = hl.Var("xo"), hl.Var("xi")
    with expect_error("my_func", r"\bxi\b"):
        f.split(x, xo, xi, 4).split(xo, hl.Var("xoo"), xi, 2)
        f.realize([8])


def test_realize_into_exact_buffer_too_small_for_round_up():
    """Unlike realize(sizes), realize(buffer) cannot grow the output: RoundUp writing past it is an error."""
    x, xo, xi = hl.Var("x"), hl.Var("xo"), hl.Var("xi")
    f = hl.Func("rounded_out")
    f[x] = x
    f.split(x, xo, xi, 4, hl.TailStrategy.RoundUp)
    with expect_error("rounded_out", dim(0)):
        f.realize(hl.Buffer(hl.Int(32), [10]))


def test_realize_into_buffer_narrower_than_vector_width():
    x = hl.Var("x")
    f = hl.Func("vec_out")
    f[x] = x
    f.vectorize(x, 8)  # ShiftInwards would write [-5, 3) for a 3-wide buffer
    with expect_error("vec_out", dim(0)):
        f.realize(hl.Buffer(hl.Int(32), [3]))
