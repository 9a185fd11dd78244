"""Halide's lesson 12 (using the GPU) prints what real Halide prints on this machine
(timings aside): without a usable GPU API it reports so and runs on the CPU."""
import os
import pathlib
import subprocess
import sys

import pytest

LESSON = pathlib.Path("/work/halide-v21/python_bindings/tutorial/lesson_12_using_the_gpu.py")


def _run(module: str, tmp_path) -> list:
    # The lesson reads ../../tutorial/images/rgb.png relative to itself.
    d = tmp_path / module / "a" / "b"
    d.mkdir(parents=True)
    (tmp_path / module / "tutorial").mkdir()
    (tmp_path / module / "tutorial" / "images").symlink_to(LESSON.parents[2] / "tutorial" / "images")
    text = LESSON.read_text().replace("import halide as hl", f"import {module} as hl")
    (d / "lesson12.py").write_text(text)
    env = {**os.environ, "PIPELANG_CUDA_EMULATE": ""}
    r = subprocess.run([sys.executable, str(d / "lesson12.py")], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if "milliseconds" not in line]


@pytest.mark.slow
def test_lesson12_prints_as_halide(tmp_path):
    pytest.importorskip("halide")
    if not LESSON.exists():
        pytest.skip("Halide's sources are not checked out here")
    assert _run("pipelang", tmp_path) == _run("halide", tmp_path)
