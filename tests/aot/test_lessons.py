"""Halide's own AOT programs under pipelang: tutorial lessons 10 and 11 and the
`compile_to` test (Halide's Python sources with `import pipelang as hl`),
Python ports of the C++ lessons 15 and 21 (tests/aot/lessons/), and Halide's
Python test generators built into extensions and checked by Halide's tests.

Halide's sources are read from its checkout (skipped where it is absent);
steps that need a C/C++ compiler skip without one; the slow ones (several
generator processes, C++ builds) are marked slow."""
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

import pipelang as hl

HALIDE = os.environ.get("HALIDE_SRC", "/work/halide-v21")
PY_BINDINGS = os.path.join(HALIDE, "python_bindings")
LESSONS = os.path.join(os.path.dirname(__file__), "lessons")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CC = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
CXX = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")

needs_halide_sources = pytest.mark.skipif(not os.path.isdir(PY_BINDINGS),
                                          reason="Halide's sources are not checked out")


def ported(src: str, dst) -> str:
    """Halide's Python program `src`, importing pipelang instead, written to `dst`."""
    with open(os.path.join(PY_BINDINGS, src)) as f:
        text = f.read().replace("import halide as hl", "import pipelang as hl")
    dst.write_text(text)
    return str(dst)


def run_py(script, cwd, *args, extra_path=()):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, str(cwd), *extra_path]))
    r = subprocess.run([sys.executable, str(script), *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@needs_halide_sources
@pytest.mark.slow      # test_aot.py checks the same object formats in-process
def test_lesson_11_cross_compilation(tmp_path):
    out = run_py(ported("tutorial/lesson_11_cross_compilation.py", tmp_path / "l11.py"), tmp_path)
    assert "Success!" in out
    assert {"lesson_11_arm_32_android.o", "lesson_11_x86_64_windows.obj",
            "lesson_11_arm_32_ios.o", "lesson_11_host.o"} <= set(os.listdir(tmp_path))


@needs_halide_sources
@pytest.mark.slow
@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_lesson_10_generate_and_run(tmp_path):
    out = run_py(ported("tutorial/lesson_10_aot_compilation_generate.py", tmp_path / "gen.py"),
                 tmp_path)
    assert "Halide pipeline compiled, but not yet run." in out
    ext = "lesson_10_halide" + sysconfig.get_config_var("EXT_SUFFIX")
    subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"],
                    "-I", os.path.join(hl.install_dir(), "include"), "lesson_10_halide.py.cpp",
                    "lesson_10_halide.o", "-o", ext], cwd=tmp_path, check=True)
    shutil.copy(os.path.join(PY_BINDINGS, "tutorial/lesson_10_aot_compilation_run.py"), tmp_path)
    assert "Success!" in run_py(tmp_path / "lesson_10_aot_compilation_run.py", tmp_path)


@needs_halide_sources
@pytest.mark.slow      # test_aot.py writes the same files in-process
def test_halide_compile_to_test(tmp_path):
    """Halide's test/correctness/compile_to.py."""
    run_py(ported("test/correctness/compile_to.py", tmp_path / "compile_to.py"), tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nm") is None or shutil.which("ar") is None
                    or shutil.which("bash") is None, reason="needs bash, nm and ar")
def test_lesson_15_usage_script(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHON=sys.executable)
    r = subprocess.run(["bash", os.path.join(LESSONS, "lesson_15_generators_usage.sh")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success!" in r.stdout


@pytest.mark.slow
@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_lesson_21_manual_and_autoscheduled_agree(tmp_path):
    gen = os.path.join(LESSONS, "lesson_21_auto_scheduler_generate.py")
    run_py(gen, tmp_path, "-g", "auto_schedule_gen", "-f", "auto_schedule_false", "-o", ".",
           "target=host")
    run_py(gen, tmp_path, "-g", "auto_schedule_gen", "-f", "auto_schedule_true", "-o", ".",
           "target=host", "autoscheduler=Mullapudi2016", "autoscheduler.parallelism=32")
    subprocess.run([CC, "-O2", "-I.", os.path.join(LESSONS, "lesson_21_auto_scheduler_run.c"),
                    "auto_schedule_false.a", "auto_schedule_true.a", "-lpthread", "-lm", "-ldl",
                    "-o", "run21"], cwd=tmp_path, check=True)
    r = subprocess.run(["./run21"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Success!" in r.stdout, r.stdout + r.stderr


TEST_GENERATORS = {
    "addconstantpy": ["addconstantpy", "addconstantpy_with_offset_42",
                      "addconstantpy_with_negative_offset"],
    "bitpy": ["bitpy"],
}


@needs_halide_sources
@pytest.mark.slow
@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
@pytest.mark.parametrize("source, test", [("addconstantpy", "addconstant_test.py"),
                                          ("bitpy", "bit_test.py")])
def test_halide_test_generators_as_extensions(tmp_path, source, test):
    """Halide's generators built by hl.main into Python extensions, checked by
    Halide's own tests (their C++-generator halves removed)."""
    gen = ported(f"test/generators/{source}_generator.py", tmp_path / f"{source}_generator.py")
    for name in TEST_GENERATORS[source]:
        run_py(gen, tmp_path, "-g", name, "-o", ".", "-e", "static_library,c_header,"
               "python_extension", "target=host")
        subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"],
                        "-I", os.path.join(hl.install_dir(), "include"), f"{name}.py.cpp",
                        f"{name}.a", "-o", name + sysconfig.get_config_var("EXT_SUFFIX")],
                       cwd=tmp_path, check=True)
    text = open(os.path.join(PY_BINDINGS, "test/correctness", test)).read()
    text = "\n".join(line for line in text.splitlines() if "cpp" not in line)
    (tmp_path / test).write_text(text)
    run_py(tmp_path / test, tmp_path)


@needs_halide_sources
@pytest.mark.slow
def test_halide_simplepy_stub_and_callable(tmp_path):
    """Halide's pystub and callable tests for the Python generators (no C++ parts)."""
    ported("test/generators/simplepy_generator.py", tmp_path / "simplepy_generator.py")
    ported("test/generators/complexpy_generator.py", tmp_path / "complexpy_generator.py")
    for test in ("pystub.py", "callable.py"):
        text = open(os.path.join(PY_BINDINGS, "test/correctness", test)).read()
        text = text.replace("import halide as hl", "import pipelang as hl")
        head, main = text.split('if __name__ == "__main__":')
        head = "\n".join(line for line in head.splitlines() if "cpp_pystub" not in line)
        if test == "pystub.py":
            main = ("\n    target = hl.get_jit_target_from_environment()\n"
                    "    with hl.GeneratorContext(target):\n"
                    "        test_simple(SimplePy)\n"
                    "        test_complex(ComplexPy)\n"
                    "        test_complex(ComplexPy, extra_input_name='foo_input')\n")
        else:
            main = ("\n"
                    "    def via_simplepy(target, generator_params):\n"
                    "        with hl.GeneratorContext(target):\n"
                    "            return SimplePy(generator_params=generator_params)"
                    ".compile_to_callable()\n"
                    "    def via_create(target, generator_params):\n"
                    "        return hl.create_callable_from_generator(target, 'simplepy', "
                    "generator_params)\n"
                    "    test_simple(via_simplepy)\n    test_simple(via_create)\n")
        (tmp_path / test).write_text(head + 'if __name__ == "__main__":' + main)
        run_py(tmp_path / test, tmp_path)


def _extension(tmp_path, source_dir, module, *args):
    gen = ported(f"{source_dir}/{module}_generator.py", tmp_path / f"{module}_generator.py")
    run_py(gen, tmp_path, "-g", module, "-o", ".", "-e", "static_library,c_header,"
           "python_extension", "target=host", *args)
    subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"],
                    "-I", os.path.join(hl.install_dir(), "include"), f"{module}.py.cpp",
                    f"{module}.a", "-o", module + sysconfig.get_config_var("EXT_SUFFIX")],
                   cwd=tmp_path, check=True)


@needs_halide_sources
@pytest.mark.slow
@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_halide_apps_identity_and_blur(tmp_path):
    """Halide's identity and blur app generators as extensions: identity_app.py
    as Halide wrote it (numpy arrays and an hl.Buffer with a min), blur against numpy."""
    _extension(tmp_path, "apps", "identity")
    assert "Success!" in run_py(ported("apps/identity_app.py", tmp_path / "identity_app.py"),
                                tmp_path)
    _extension(tmp_path, "apps", "blur")
    (tmp_path / "check_blur.py").write_text(
        "import numpy as np\n"
        "from blur import blur\n"
        "a = np.random.default_rng(0).integers(0, 65536, (37, 53), dtype=np.uint16)\n"
        "out = np.empty_like(a)\n"
        "blur(a, out)\n"
        "p = np.pad(a.astype(np.int64), ((0, 2), (0, 2)), mode='edge')\n"
        "bx = ((p[:, :-2] + p[:, 1:-1] + p[:, 2:]) % 65536) // 3\n"   # uint16 wraps
        "by = ((bx[:-2] + bx[1:-1] + bx[2:]) % 65536) // 3\n"
        "assert (out == by).all()\n"
        "print('Success!')\n")
    assert "Success!" in run_py(tmp_path / "check_blur.py", tmp_path)


HALIDE_MAIN = "/work/.mirror/halide+Halide/repo"     # lessons 16+ are only in Halide's main


def _halide_main_file(path: str, dst) -> str:
    """A file of Halide's main branch (lessons 16 and later), importing pipelang."""
    r = subprocess.run(["git", "show", f"main:python_bindings/{path}"], cwd=HALIDE_MAIN,
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"Halide's main branch is not mirrored ({path})")
    dst.write_text(r.stdout.replace("import halide as hl", "import pipelang as hl"))
    return str(dst)


LESSON_16_CHECK = """
import numpy as np
import pipelang as hl
import brighten_either, brighten_interleaved, brighten_planar, brighten_specialized
W, H = 37, 11
rng = np.random.default_rng(0)
def make(kind, a=None):
    if kind == "planar":
        a = rng.integers(0, 256, (3, H, W), dtype=np.uint8) if a is None else a
        return hl.Buffer(a), a
    a = rng.integers(0, 256, (H, W, 3), dtype=np.uint8).transpose(2, 0, 1)
    return hl.Buffer(a), a
for fn, kinds in [(brighten_planar.brighten_planar, ["planar"]),
                  (brighten_interleaved.brighten_interleaved, ["interleaved"]),
                  (brighten_either.brighten_either, ["planar", "interleaved"]),
                  (brighten_specialized.brighten_specialized, ["planar", "interleaved"])]:
    for kind in kinds:
        inp, a = make(kind)
        out = (hl.Buffer(hl.UInt(8), [W, H, 3]) if kind == "planar"
               else hl.Buffer.make_interleaved(hl.UInt(8), W, H, 3))
        fn(inp, 7, out)
        assert (np.asarray(out) == a + np.uint8(7)).all(), (fn, kind)
try:
    brighten_planar.brighten_planar(make("interleaved")[0], 1, make("interleaved")[0])
except RuntimeError as e:
    assert "-8" in str(e)          # halide_error_code_constraint_violated
else:
    raise AssertionError("a planar pipeline accepted an interleaved buffer")
print("Success!")
"""


@pytest.mark.slow
@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_lesson_16_generate_and_run(tmp_path):
    """Lesson 16's four layouts built by hl.main into Python extensions; Halide's
    run step (timings only) and a check of every layout against numpy."""
    gen = _halide_main_file("tutorial/lesson_16_rgb_generate.py", tmp_path / "gen16.py")
    for layout in ("planar", "interleaved", "either", "specialized"):
        name = f"brighten_{layout}"
        run_py(gen, tmp_path, "-g", "brighten", "-f", name, "-o", ".", "-e",
               "static_library,c_header,python_extension", "target=host", f"layout={layout}")
        subprocess.run([CXX, "-O1", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"],
                        "-I", os.path.join(hl.install_dir(), "include"), f"{name}.py.cpp",
                        f"{name}.a", "-o", name + sysconfig.get_config_var("EXT_SUFFIX")],
                       cwd=tmp_path, check=True)
    (tmp_path / "check16.py").write_text(LESSON_16_CHECK)
    assert "Success!" in run_py(tmp_path / "check16.py", tmp_path)
    run = _halide_main_file("tutorial/lesson_16_rgb_run.py", tmp_path / "run16.py")
    text = open(run).read().replace("iterations = 1000", "iterations = 10")
    (tmp_path / "run16.py").write_text(text)
    out = run_py(tmp_path / "run16.py", tmp_path)
    assert "brighten_specialized on interleaved images" in out
