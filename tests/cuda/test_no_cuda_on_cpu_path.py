"""Nothing CUDA is imported on the CPU path, nor for emitting or emulating."""
import subprocess
import sys

PROGRAM = """
import sys
import pipelang as hl
x, xi = hl.Var("x"), hl.Var("xi")
f = hl.Func("f")
f[x] = x * 2
assert list(f.realize([4])) == [0, 2, 4, 6]
g = hl.Func("g")
g[x] = x + 1
g.gpu_tile(x, xi, 8)
assert "__global__" in hl.Pipeline(g).cuda_source(hl.Target("host-cuda"))
import os
os.environ["PIPELANG_CUDA_EMULATE"] = "1"
g.compile_jit(hl.Target("host-cuda"))
assert list(g.realize([16]))[:3] == [1, 2, 3]
loaded = sorted(m for m in sys.modules if m == "cuda" or m.startswith(("cuda.", "nvidia"))
                or m in ("pipelang.backends.cuda.runtime", "pipelang.backends.cuda.nvrtc"))
print(loaded)
"""


def test_cpu_emit_and_emulate_import_nothing_cuda():
    r = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
