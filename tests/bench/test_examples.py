"""Every example runs to completion and checks itself against numpy, on each installed compiler.

The examples assert their own results; here they only have to exit 0 and
write their PNGs (into a temporary folder).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelang.bench import runner

EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.py") if p.name != "common.py")
USABLE, SKIPPED = runner.available_backends(runner.COMPILERS)


def _cases():
    for example in EXAMPLES:
        for compiler in runner.COMPILERS:
            marks = pytest.mark.skip(reason=SKIPPED[compiler]) if compiler in SKIPPED else ()
            yield pytest.param(example, compiler, marks=marks, id=f"{example.stem}-{compiler}")


def test_the_readme_examples_exist():
    assert {"blur", "brightness"} <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("example,compiler", list(_cases()))
def test_example_runs(example, compiler, tmp_path):
    args = [sys.executable, str(example), "--out", str(tmp_path)] + (["--halide"] if compiler == "halide" else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, "HL_NUM_THREADS": "2"})
    assert done.returncode == 0, f"{example.name} failed:\n{done.stdout}\n{done.stderr}"
    if compiler == "pipelang":
        assert "running on real Halide instead" not in done.stderr
    assert "matches numpy" in done.stdout
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes().startswith(b"\x89PNG")
