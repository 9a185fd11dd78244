"""Ahead-of-time compilation: objects, static libraries and headers against
the JIT (through a C program where a C compiler exists, and through
`hl.load_library` always), cross-compiled object formats, and errors."""
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

import pipelang as hl

CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def brighter():
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.ImageParam(hl.UInt(8), 2, "input")
    off = hl.Param(hl.UInt(8), "offset")
    f = hl.Func("brighter")
    f[x, y] = inp[x, y] + off
    f.vectorize(x, 16).parallel(y)
    return f, inp, off


def blur():
    """Float math, a compute_root producer, a float Param, parallel tiles."""
    x, y, xi, yi = hl.Var("x"), hl.Var("y"), hl.Var("xi"), hl.Var("yi")
    inp = hl.ImageParam(hl.Float(32), 2, "input")
    gain = hl.Param(hl.Float(32), "gain")
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    bx = hl.Func("bx")
    bx[x, y] = (clamped[x - 1, y] + clamped[x, y] + clamped[x + 1, y]) / 3
    out = hl.Func("blur")
    out[x, y] = gain * (bx[x, y - 1] + bx[x, y] + bx[x, y + 1]) / 3
    out.tile(x, y, xi, yi, 8, 4).parallel(y).vectorize(xi, 8)
    bx.compute_at(out, x).vectorize(x, 8)
    return out, inp, gain


def test_static_library_files_and_header(tmp_path):
    f, inp, off = brighter()
    f.compile_to_static_library(str(tmp_path / "brighter"), [inp, off], "brighter")
    assert (tmp_path / "brighter.a").read_bytes().startswith(b"!<arch>\n")
    header = (tmp_path / "brighter.h").read_text()
    assert re.search(r"int brighter\(struct halide_buffer_t \*_input_buffer, uint8_t _offset, "
                     r"struct halide_buffer_t \*_brighter(_\d+)?_buffer\);", header)
    assert "int brighter_argv(void **args);" in header
    assert "const struct halide_filter_metadata_t *brighter_metadata();" in header
    assert "struct halide_buffer_t {" in header or "typedef struct halide_buffer_t {" in header


def test_install_dir_has_runtime_header():
    d = hl.install_dir()
    assert os.path.isfile(os.path.join(d, "include", "HalideRuntime.h"))
    assert os.path.isdir(os.path.join(d, "lib"))


C_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "brighter.h"
#include "blur.h"

static char last_error[1024];
void halide_error(void *uc, const char *msg) { strncpy(last_error, msg, sizeof last_error - 1); }

static halide_buffer_t make(void *host, halide_dimension_t *dim, uint8_t code, uint8_t bits) {
    halide_buffer_t b;
    memset(&b, 0, sizeof b);
    b.host = (uint8_t *)host; b.dim = dim; b.dimensions = 2;
    b.type.code = code; b.type.bits = bits; b.type.lanes = 1;
    return b;
}

int main(int argc, char **argv) {
    int W = 37, H = 11;
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    uint8_t *a = malloc(W * H), *b = malloc(W * H);
    float *fa = malloc(4 * W * H), *fb = malloc(4 * W * H);
    if (fread(a, 1, W * H, in) != (size_t)(W * H)) return 2;
    if (fread(fa, 4, W * H, in) != (size_t)(W * H)) return 2;
    halide_dimension_t d1[2] = {{0, W, 1, 0}, {0, H, W, 0}}, d2[2] = {{0, W, 1, 0}, {0, H, W, 0}};
    halide_buffer_t ba = make(a, d1, halide_type_uint, 8), bb = make(b, d2, halide_type_uint, 8);
    if (brighter(&ba, 42, &bb) != 0) return 3;
    halide_buffer_t fba = make(fa, d1, halide_type_float, 32), fbb = make(fb, d2, halide_type_float, 32);
    if (blur(&fba, 1.5f, &fbb) != 0) return 4;
    fwrite(b, 1, W * H, out);
    fwrite(fb, 4, W * H, out);
    /* An output larger than the input: the entry check fails with Halide's code. */
    d2[0].extent = W + 1;
    int rc = brighter(&ba, 1, &bb);
    const struct halide_filter_metadata_t *md = brighter_metadata();
    fprintf(out, "%d|%s|%s|%d|%s", rc, last_error, md->name, md->num_arguments, md->arguments[1].name);
    /* A bounds query: the input has no host; it gets the region the output needs. */
    d2[0].extent = W + 5;
    halide_dimension_t dq[2];
    memset(dq, 0, sizeof dq);
    halide_buffer_t bq = make(NULL, dq, halide_type_uint, 8);
    rc = brighter(&bq, 1, &bb);
    fprintf(out, "|%d %d %d %d %d %d", rc, dq[0].min, dq[0].extent, dq[1].min, dq[1].extent, dq[1].stride);
    fclose(out);
    return 0;
}
"""


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_c_program_matches_jit(tmp_path):
    f, inp, off = brighter()
    g, finp, gain = blur()
    f.compile_to_static_library(str(tmp_path / "brighter"), [inp, off], "brighter")
    g.compile_to_static_library(str(tmp_path / "blur"), [finp, gain], "blur")
    (tmp_path / "main.c").write_text(C_MAIN)
    exe = tmp_path / "main"
    subprocess.run([CC, "-O1", "-Wall", "-Werror", "-I", os.path.join(hl.install_dir(), "include"),
                    str(tmp_path / "main.c"), str(tmp_path / "brighter.a"), str(tmp_path / "blur.a"),
                    "-lpthread", "-lm", "-ldl", "-o", str(exe)], check=True, cwd=tmp_path)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (11, 37), dtype=np.uint8)
    fa = rng.random((11, 37), dtype=np.float32)
    (tmp_path / "in.bin").write_bytes(a.tobytes() + fa.tobytes())
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")], check=True)
    data = (tmp_path / "out.bin").read_bytes()
    n = 11 * 37
    got_b = np.frombuffer(data[:n], np.uint8).reshape(11, 37)
    got_f = np.frombuffer(data[n:5 * n], np.float32).reshape(11, 37)
    rc, message, name, nargs, arg1, query = data[5 * n:].decode().split("|")

    inp.set(a)
    off.set(42)
    np.testing.assert_array_equal(got_b, np.asarray(f.realize([37, 11])))
    finp.set(fa)
    gain.set(1.5)
    np.testing.assert_array_equal(got_f, np.asarray(g.realize([37, 11])))
    assert int(rc) == -4      # halide_error_code_access_out_of_bounds
    assert message == "Input buffer input is accessed at 37, which is beyond the max (36) in dimension 0"
    assert (name, nargs, arg1) == ("brighter", "3", "offset")
    assert query == "0 0 42 0 11 42"


C_SOURCE_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blur.h"
int main(int argc, char **argv) {
    int W = 37, H = 11;
    float *a = malloc(4 * W * H), *b = malloc(4 * W * H);
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (fread(a, 4, W * H, in) != (size_t)(W * H)) return 2;
    halide_dimension_t d1[2] = {{0, W, 1, 0}, {0, H, W, 0}}, d2[2] = {{0, W, 1, 0}, {0, H, W, 0}};
    halide_buffer_t ba, bb;
    memset(&ba, 0, sizeof ba);
    ba.host = (uint8_t *)a; ba.dim = d1; ba.dimensions = 2;
    ba.type.code = halide_type_float; ba.type.bits = 32; ba.type.lanes = 1;
    bb = ba; bb.host = (uint8_t *)b; bb.dim = d2;
    if (blur(&ba, 1.5f, &bb) != 0) return 3;
    fwrite(b, 4, W * H, out);
    ba.type.bits = 16;
    fprintf(out, "%d", blur(&ba, 1.5f, &bb));
    fclose(out);
    return 0;
}
"""


def _c_blur(schedule: str):
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.ImageParam(hl.Float(32), 2, "input")
    gain = hl.Param(hl.Float(32), "gain")
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    bx, g = hl.Func("bx"), hl.Func("blur")
    bx[x, y] = (clamped[x - 1, y] + clamped[x, y] + clamped[x + 1, y]) / 3
    g[x, y] = gain * hl.select(x % 2 == 0, bx[x, y - 1] + bx[x, y + 1], bx[x, y] // 2)
    bx.compute_root()
    g.parallel(y)
    if schedule == "vectorized":
        # Vector selects, loads at three offsets, a ShiftInwards tail, and a
        # vectorized reduction-free stage feeding another.
        bx.vectorize(x, 8)
        g.vectorize(x, 4)
    elif schedule == "vectorized_tiles":
        xi, yi = hl.Var("xi"), hl.Var("yi")
        bx.vectorize(x, 4, hl.TailStrategy.GuardWithIf)
        g.tile(x, y, xi, yi, 8, 2).vectorize(xi).unroll(yi)
    elif schedule == "prefetched":
        # __builtin_prefetch of the rows two iterations on (one past the input: NonFaulting).
        bx.vectorize(x, 8)
        g.prefetch(bx, y, y, 2).prefetch(inp, y, y, 2, hl.PrefetchBoundStrategy.NonFaulting)
    return g, inp, gain


@pytest.mark.skipif(CC is None, reason="no C compiler")
@pytest.mark.parametrize("schedule", ["scalar", "vectorized", "prefetched",
                                      pytest.param("vectorized_tiles", marks=pytest.mark.slow)])
def test_compile_to_c_matches_jit(tmp_path, schedule):
    """compile_to_c's source, built with the C compiler and linked with the
    standalone runtime, computes what the JIT computes (and fails its checks
    alike); vectorized schedules print as per-lane scalar code."""
    g, inp, gain = _c_blur(schedule)
    g.compile_to_c(str(tmp_path / "blur.c"), [inp, gain], "blur")
    g.compile_to_header(str(tmp_path / "blur.h"), [inp, gain], "blur")
    lanes = re.search(r"blur\w*_value3\b", (tmp_path / "blur.c").read_text())   # the 4th lane
    assert (lanes is not None) == (schedule not in ("scalar", "prefetched"))
    assert ("__builtin_prefetch(" in (tmp_path / "blur.c").read_text()) == (schedule == "prefetched")
    hl.compile_standalone_runtime(str(tmp_path / "runtime.o"))
    (tmp_path / "main.c").write_text(C_SOURCE_MAIN)
    subprocess.run([CC, "-O1", "-Wall", "-o", "main", "main.c", "blur.c", "runtime.o",
                    "-lpthread", "-lm", "-ldl"], cwd=tmp_path, check=True)
    a = np.random.default_rng(2).random((11, 37), dtype=np.float32)
    (tmp_path / "in.bin").write_bytes(a.tobytes())
    subprocess.run(["./main", "in.bin", "out.bin"], cwd=tmp_path, check=True)
    data = (tmp_path / "out.bin").read_bytes()
    inp.set(a)
    gain.set(1.5)
    expect = np.asarray(g.realize([37, 11]))
    # Within a rounding step or two, not bit for bit: the JIT lets LLVM regroup
    # float sums (reassociation is allowed, as in Halide, unless strict_float),
    # the C compiler evaluates them as printed.
    np.testing.assert_allclose(np.frombuffer(data[:4 * a.size], np.float32).reshape(a.shape),
                               expect, rtol=1e-6, atol=0)
    assert data[4 * a.size:] == b"-3"       # a float16 input: halide_error_code_bad_type


C_INTERLEAVED_MAIN = r"""
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "brighten.h"
int main(int argc, char **argv) {
    enum { W = 37, H = 5 };
    static uint8_t a[W * H * 3], b[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) a[i] = (uint8_t)(i * 7 + 3);
    halide_dimension_t d1[3] = {{0, W, 3, 0}, {0, H, 3 * W, 0}, {0, 3, 1, 0}};
    halide_dimension_t d2[3] = {{0, W, 3, 0}, {0, H, 3 * W, 0}, {0, 3, 1, 0}};
    halide_buffer_t ba, bb;
    memset(&ba, 0, sizeof ba);
    ba.host = a; ba.dim = d1; ba.dimensions = 3;
    ba.type.code = halide_type_uint; ba.type.bits = 8; ba.type.lanes = 1;
    bb = ba; bb.host = b; bb.dim = d2;
    int rc = brighten(&ba, 200, &bb);
    fwrite(b, 1, sizeof b, stdout);
    return rc;
}
"""


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_compile_to_c_interleaved_specialized(tmp_path):
    """Lesson 16's specialized brighten (uint8 wrap-around, stride-3 vector
    loads, an unrolled channel loop) as C, on an interleaved image."""
    from test_strides import brighten
    f, inp, off = brighten("specialized")
    f.compile_to_c(str(tmp_path / "brighten.c"), [inp, off], "brighten")
    f.compile_to_header(str(tmp_path / "brighten.h"), [inp, off], "brighten")
    hl.compile_standalone_runtime(str(tmp_path / "runtime.o"))
    (tmp_path / "main.c").write_text(C_INTERLEAVED_MAIN)
    subprocess.run([CC, "-O2", "-Wall", "-o", "main", "main.c", "brighten.c", "runtime.o",
                    "-lpthread", "-lm", "-ldl"], cwd=tmp_path, check=True)
    r = subprocess.run(["./main"], cwd=tmp_path, capture_output=True, check=True)
    a = (np.arange(37 * 5 * 3) * 7 + 3).astype(np.uint8)
    np.testing.assert_array_equal(np.frombuffer(r.stdout, np.uint8), a + np.uint8(200))


def test_load_library_matches_jit(tmp_path):
    g, finp, gain = blur()
    g.compile_to({hl.OutputFileType.static_library: str(tmp_path / "blur.a"),
                  hl.OutputFileType.object: str(tmp_path / "blur.o")}, [finp, gain], "blur")
    a = np.random.default_rng(1).random((20, 30), dtype=np.float32)
    finp.set(a)
    gain.set(0.5)
    expect = np.asarray(g.realize([30, 20]))
    for suffix in (".a", ".o"):
        lib = hl.load_library(str(tmp_path / ("blur" + suffix)))
        names = [arg[0] for arg in lib.arguments]
        assert names[:2] == ["input", "gain"] and names[2].startswith("blur")  # "blur$1" if reused
        out = np.zeros_like(a)
        lib(a, 0.5, out)
        np.testing.assert_array_equal(out, expect)
    # hl.Buffer outputs with a nonzero min work too.
    buf = hl.Buffer(hl.Float(32), [10, 5])
    buf.set_min([3, 4])
    lib(hl.Buffer(a), 0.5, buf)
    np.testing.assert_array_equal(np.asarray(buf), expect[4:9, 3:13])


def test_load_library_checks_arguments(tmp_path):
    f, inp, off = brighter()
    f.compile_to_object(str(tmp_path / "brighter.o"), [inp, off], "brighter")
    lib = hl.load_library(str(tmp_path / "brighter.o"))
    a = np.zeros((4, 40), np.uint8)
    with pytest.raises(hl.HalideError, match="Expected exactly 3 positional arguments, but saw 2"):
        lib(a, 1)
    with pytest.raises(hl.HalideError, match="Unknown argument 'gain' specified via keyword"):
        lib(a, gain=1)
    with pytest.raises(hl.HalideError, match="Argument brighter.* was not specified"):
        lib(a, offset=1)
    out = np.zeros_like(a)
    lib(offset=3, input=a, **{lib.arguments[2][0]: out})
    np.testing.assert_array_equal(out, a + 3)
    with pytest.raises(hl.HalideError, match="Input buffer input has type uint8 but the buffer "
                                             "passed in has type float32"):
        lib(a.astype(np.float32), 1, a.copy())
    with pytest.raises(hl.HalideError, match="requires a buffer of exactly 2 dimensions"):
        lib(a[0], 1, a.copy())
    with pytest.raises(hl.HalideError, match="cannot be losslessly converted to type uint8"):
        lib(a, 256, a.copy())
    with pytest.raises(hl.PipelineRuntimeError, match="error code -4: Input buffer input is "
                                                      "accessed at 40, which is beyond the max"):
        lib(a, 1, np.zeros((4, 41), np.uint8))


def test_buffer_constraints_fail_with_halide_code(tmp_path):
    x = hl.Var("x")
    inp = hl.ImageParam(hl.Int(32), 1, "input")
    inp.dim(0).set_min(0)
    f = hl.Func("shifted")
    f[x] = inp[x] * 2
    f.compile_to_object(str(tmp_path / "shifted.o"), [inp], "shifted")
    lib = hl.load_library(str(tmp_path / "shifted.o"))
    a = np.arange(40, dtype=np.int32)
    out = np.zeros_like(a)
    lib(a, out)
    np.testing.assert_array_equal(out, a * 2)
    moved, moved_out = hl.Buffer(a), hl.Buffer(out)
    moved.set_min([3])
    moved_out.set_min([3])
    with pytest.raises(hl.PipelineRuntimeError,
                       match=r"error code -8: Constraint violated: input.min.0 \(3\) == 0 \(0\)"):
        lib(moved, moved_out)


def test_user_context_target(tmp_path):
    f, inp, off = brighter()
    f.compile_to_file(str(tmp_path / "uc"), [inp, off], "uc",
                      hl.Target("host").with_feature(hl.TargetFeature.UserContext))
    assert "int uc(void *__user_context, struct halide_buffer_t *_input_buffer" in \
        (tmp_path / "uc.h").read_text()
    lib = hl.load_library(str(tmp_path / "uc.o"))
    a = np.arange(64, dtype=np.uint8).reshape(2, 32)
    out = np.zeros_like(a)
    lib(a, 2, out)
    np.testing.assert_array_equal(out, a + 2)


def test_embedded_buffer_is_compiled_in(tmp_path):
    x = hl.Var("x")
    table = hl.Buffer(np.arange(16, dtype=np.int32) * 3, name="table")
    p = hl.Param(hl.Int(32), "k")
    f = hl.Func("lookup")
    f[x] = table[x % 16] + p
    f.compile_to_object(str(tmp_path / "lookup.o"), [p], "lookup")
    lib = hl.load_library(str(tmp_path / "lookup.o"))
    out = np.zeros(40, np.int32)
    lib(5, out)
    np.testing.assert_array_equal(out, (np.arange(40) % 16) * 3 + 5)


def _magic(path, n):
    with open(path, "rb") as fh:
        return fh.read(n)


@pytest.mark.parametrize("target, suffix, check", [
    ("arm-32-android", ".o", lambda m: m[:7] == b"\x7fELF\x01\x01\x01"
                                       and struct.unpack("<H", m[18:20])[0] == 40),
    ("arm-64-linux", ".o", lambda m: m[:5] == b"\x7fELF\x02"
                                     and struct.unpack("<H", m[18:20])[0] == 183),
    ("x86-64-windows-avx-sse41", ".obj", lambda m: m[:2] == b"\x64\x86"),
    ("x86-64-osx", ".o", lambda m: struct.unpack("<II", m[:8]) == (0xFEEDFACF, 0x01000007)),
    ("arm-64-osx", ".o", lambda m: struct.unpack("<II", m[:8]) == (0xFEEDFACF, 0x0100000C)),
    ("host", ".o", lambda m: m[:4] == b"\x7fELF"),
])
def test_cross_compilation_object_formats(tmp_path, target, suffix, check):
    f, inp, off = brighter()
    prefix = str(tmp_path / "b")
    f.compile_to_file(prefix, [inp, off], "b", hl.Target(target))
    assert os.path.isfile(prefix + ".h")
    assert check(_magic(prefix + suffix, 20)), _magic(prefix + suffix, 20)


def test_compile_to_writes_each_file(tmp_path):
    f, inp, off = brighter()
    kinds = {hl.OutputFileType.assembly: "b.s", hl.OutputFileType.bitcode: "b.bc",
             hl.OutputFileType.llvm_assembly: "b.ll", hl.OutputFileType.object: "b.o",
             hl.OutputFileType.c_header: "b.h", hl.OutputFileType.stmt: "b.stmt",
             hl.OutputFileType.stmt_html: "b.stmt.html",
             hl.OutputFileType.static_library: "b.a"}
    f.compile_to({k: str(tmp_path / v) for k, v in kinds.items()}, [inp, off], "b")
    assert "define" in (tmp_path / "b.ll").read_text() and "@b(" in (tmp_path / "b.ll").read_text()
    assert (tmp_path / "b.bc").read_bytes()[:4] == b"BC\xc0\xde"
    assert "b:" in (tmp_path / "b.s").read_text()
    assert "<html>" in (tmp_path / "b.stmt.html").read_text()


def test_errors(tmp_path):
    f, inp, off = brighter()
    with pytest.raises(hl.HalideError, match="Did not understand Halide target x86-65-linux"):
        hl.Target("x86-65-linux")
    with pytest.raises(hl.CompileError, match="Can't compile for target hexagon-32-qurt"):
        f.compile_to_object(str(tmp_path / "b.o"), [inp, off], "b", hl.Target("hexagon-32-qurt"))
    with pytest.raises(hl.CompileError, match="refers to parameter offset, which was not found "
                                              "in the argument list"):
        f.compile_to_object(str(tmp_path / "b.o"), [inp], "b")
    with pytest.raises(hl.CompileError, match="image parameter input, which was not found"):
        f.compile_to_object(str(tmp_path / "b.o"), [off], "b")
    with pytest.raises(hl.CompileError, match="AOT output runs on the CPU only"):
        f.compile_to_object(str(tmp_path / "b.o"), [inp, off], "b", hl.Target("host-cuda"))
    with pytest.raises(hl.CompileError, match="is not a C identifier"):
        f.compile_to_object(str(tmp_path / "b.o"), [inp, off], "my-func")
    with pytest.raises(hl.CompileError, match="can't emit OutputFileType.hlpipe"):
        f.compile_to({hl.OutputFileType.hlpipe: str(tmp_path / "b.hlpipe")}, [inp, off], "b")


def test_header_matches_halide_prototype(tmp_path):
    # The output Func is named after nothing else in the test suite: a Func
    # named like an earlier one is uniquified (name$1), in Halide as here.
    halide = pytest.importorskip("halide")
    x, y = halide.Var("x"), halide.Var("y")
    hinp = halide.ImageParam(halide.Float(32), 2, "input")
    hk = halide.Param(halide.Int(16), "k")
    hf = halide.Func("proto_scaled")
    hf[x, y] = hinp[x, y] * hk
    hf.compile_to_header(str(tmp_path / "h.h"), [hinp, hk], "scaled")
    xx, yy = hl.Var("x"), hl.Var("y")
    inp = hl.ImageParam(hl.Float(32), 2, "input")
    k = hl.Param(hl.Int(16), "k")
    f = hl.Func("proto_scaled")
    f[xx, yy] = inp[xx, yy] * k
    f.compile_to_header(str(tmp_path / "p.h"), [inp, k], "scaled")

    def prototypes(path):
        # (A Func named like an earlier one of the same process is proto_scaled$n,
        # its buffer _proto_scaled__n_buffer: each compiler counts its own.)
        return [re.sub(r"__\d+_buffer", "_buffer", line) for line in open(path)
                if line.startswith(("int scaled", "const struct"))]
    assert len(prototypes(tmp_path / "h.h")) == 3
    assert prototypes(tmp_path / "p.h") == prototypes(tmp_path / "h.h")


def test_loaded_code_outlives_its_thread_pool(tmp_path):
    # An artifact's own thread pool keeps worker threads in its code, so the
    # code is never freed; loading the same artifact again reuses it (a fresh
    # load per call once freed code that parked workers later woke into).
    script = tmp_path / "reload.py"
    script.write_text(
        "import gc, os, sys, numpy as np\n"
        "import pipelang as hl\n"
        "x, y = hl.Var('x'), hl.Var('y')\n"
        "paths = []\n"
        "for k in range(3):\n"
        "    inp = hl.ImageParam(hl.UInt(8), 2, 'input'); off = hl.Param(hl.UInt(8), 'offset')\n"
        "    f = hl.Func('brighter%d' % k); e = inp[x, y] + off\n"
        "    for j in range(k): e = e * 3 + inp[x, y]\n"
        "    f[x, y] = e\n"
        "    f.vectorize(x, 16).parallel(y)\n"
        "    p = os.path.join(sys.argv[1], 'brighter%d.o' % k)\n"
        "    f.compile_to_object(p, [inp, off], 'brighter%d' % k); paths.append(p)\n"
        "a = np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)\n"
        "for i in range(90):\n"
        "    lib = hl.load_library(paths[i % 3]); out = np.zeros_like(a); lib(a, 3, out)\n"
        "    assert out[5, 7] == np.uint8(a[5, 7] + 3) or i % 3\n"
        "    del lib; gc.collect()\n"
        "print(len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else 0)\n")
    env = dict(os.environ, HL_NUM_THREADS="2")
    run = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout.split()[-1]) < 12     # three pools, not ninety


C_MINMAX_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "clampf.h"
int main(int argc, char **argv) {
    enum { N = 8 };
    float a[N + 1] = {0.25f, 2.0f, -3.0f, 0.0f / 0.0f, 1.0f, 0.0f / 0.0f, -0.0f, 0.75f, 0.0f / 0.0f};
    float b[N];
    halide_dimension_t d1[1] = {{0, N + 1, 1, 0}}, d2[1] = {{0, N, 1, 0}};
    halide_buffer_t ba, bb;
    memset(&ba, 0, sizeof ba);
    ba.host = (uint8_t *)a; ba.dim = d1; ba.dimensions = 1;
    ba.type.code = halide_type_float; ba.type.bits = 32; ba.type.lanes = 1;
    bb = ba; bb.host = (uint8_t *)b; bb.dim = d2;
    int rc = clampf(&ba, &bb);
    fwrite(b, 4, N, stdout);
    return rc;
}
"""


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_compile_to_c_float_min_max_nan(tmp_path):
    """Float min and max print as Halide's select(a < b, a, b), not fminf:
    with a NaN operand the C code gives what the JIT gives."""
    x = hl.Var("x")
    inp = hl.ImageParam(hl.Float(32), 1, "input")
    f = hl.Func("clampf")
    f[x] = hl.max(hl.min(inp[x], inp[x + 1]), hl.f32(-1.0)) + hl.min(hl.f32(0.5), inp[x])
    f.compile_to_c(str(tmp_path / "clampf.c"), [inp], "clampf")
    f.compile_to_header(str(tmp_path / "clampf.h"), [inp], "clampf")
    assert "fminf" not in (tmp_path / "clampf.c").read_text()
    hl.compile_standalone_runtime(str(tmp_path / "runtime.o"))
    (tmp_path / "main.c").write_text(C_MINMAX_MAIN)
    subprocess.run([CC, "-O1", "-Wall", "-o", "main", "main.c", "clampf.c", "runtime.o",
                    "-lpthread", "-lm", "-ldl"], cwd=tmp_path, check=True)
    r = subprocess.run(["./main"], cwd=tmp_path, capture_output=True, check=True)
    got = np.frombuffer(r.stdout, np.float32)
    nan = np.float32("nan")
    a = np.array([0.25, 2, -3, nan, 1, nan, -0.0, 0.75, nan], np.float32)
    inp.set(a)
    np.testing.assert_array_equal(got, np.asarray(f.realize([8])))

    def hmin(p, q):                  # Halide: select(p < q, p, q)
        return np.where(p < q, p, q)

    def hmax(p, q):
        return np.where(p > q, p, q)

    expect = hmax(hmin(a[:-1], a[1:]), np.float32(-1)) + hmin(np.float32(0.5), a[:-1])
    np.testing.assert_array_equal(got, expect)
