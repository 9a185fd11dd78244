"""The GPU benchmark script's pipelines are right (tiny sizes, emulated), so the
next session with a GPU can run it as is: python -m pipelang.bench.cuda_bench."""
import shutil
import subprocess

import pytest


def test_cuda_bench_check_mode(monkeypatch, capsys):
    from pipelang.bench import cuda_bench
    monkeypatch.setenv("PIPELANG_CUDA_EMULATE", "1")
    assert cuda_bench.main(["--check"]) == 0
    out = capsys.readouterr().out
    for name in ("blur", "conv_layer", "matmul"):
        assert f"pipeline={name}  correct=True" in out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_cuda_bench_kernels_compile_without_spills(tmp_path):
    import pipelang as hl
    from pipelang.bench import cuda_bench
    sizes = cuda_bench.SIZES["full"]
    built = [cuda_bench.blur(hl, *sizes["blur"]), cuda_bench.conv_layer(hl, *sizes["conv"]),
             cuda_bench.matmul(hl, sizes["matmul"])]
    for n, (func, *_ignored) in enumerate(built):
        path = tmp_path / f"k{n}.cu"
        path.write_text(hl.Pipeline(func).cuda_source(hl.Target("host-cuda")))
        r = subprocess.run(["nvcc", "-cubin", "-arch=sm_90", "-Xptxas", "-v", str(path), "-o",
                            str(tmp_path / f"k{n}.cubin")], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "0 bytes spill stores" in r.stderr, r.stderr
