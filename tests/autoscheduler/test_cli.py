"""The command line writes a schedule module that reproduces the schedule."""
import os
import subprocess
import sys
import textwrap

import numpy as np

import pipelang as hl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ALGORITHM = textwrap.dedent("""
    import pipelang as hl

    def make_blur():
        inp = hl.ImageParam(hl.UInt(16), 2, "input")
        x, y = hl.Var("x"), hl.Var("y")
        bx, by = hl.Func("blur_x"), hl.Func("blur_y")
        bx[x, y] = (inp[x, y] + inp[x + 1, y] + inp[x + 2, y]) // 3
        by[x, y] = (bx[x, y] + bx[x, y + 1] + bx[x, y + 2]) // 3
        inp.set_estimates([hl.Range(0, 258), hl.Range(0, 194)])
        by.set_estimates([hl.Range(0, 256), hl.Range(0, 192)])
        return inp, by

    def pipeline():
        return hl.Pipeline(make_blur()[1])
""")


def test_cli_writes_a_schedule_that_pastes_back(tmp_path):
    src = tmp_path / "blur.py"
    src.write_text(ALGORITHM)
    out = tmp_path / "schedule.py"
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "autoscheduler", f"{src}:pipeline", "-o", str(out),
                        "--time-budget", "0.5", "--parallelism", "2", "--seed", "1"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "chose:" in r.stdout and f"wrote {out}" in r.stdout
    # Paste: build the algorithm, apply the written schedule, compare with numpy.
    ns = {}
    exec(ALGORITHM, ns)
    inp, by = ns["make_blur"]()
    sched = {}
    exec(out.read_text(), sched)
    p = hl.Pipeline(by)
    sched["apply_schedule"](p)
    a = np.random.default_rng(1).integers(0, 1 << 14, size=(194, 258)).astype(np.uint16)
    inp.set(hl.Buffer(a))
    got = np.asarray(p.realize([256, 192]))
    bx = (a[:, :256] + a[:, 1:257] + a[:, 2:258]) // 3
    np.testing.assert_array_equal(got, (bx[:192] + bx[1:193] + bx[2:194]) // 3)


def test_cli_reports_missing_estimates(tmp_path):
    src = tmp_path / "f.py"
    src.write_text("import pipelang as hl\nx = hl.Var('x')\nf = hl.Func('f')\nf[x] = x * 2\n"
                   "def get():\n    return f\n")
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "autoscheduler", f"{src}:get"], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 2
    assert "f has no estimate for dimension x" in r.stderr
