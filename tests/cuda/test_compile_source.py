"""The CUDA C emitted for every GPU test pipeline compiles, for sm_80 and sm_90:
with nvcc where it is on PATH (all cases in one translation unit, one call per
architecture) and with NVRTC where its wheel is installed (a representative
few; every case with PIPELANG_SLOW_TESTS=1). No GPU needed."""
import os
import shutil
import subprocess

import pytest

import pipelang as hl
from gpu_cases import CASES

NVCC_CASES = ["blur_shared_producer", "lesson12_sharpen_lut", "matmul_staged_shared_tile",
              "euclidean_div_mod", "float_math_select", "scan_single_thread"]


def _source(name):
    outputs, _, _ = CASES[name]()
    return hl.Pipeline(outputs).cuda_source(hl.Target("host-cuda"))


def test_source_shape():
    src = _source("blur_shared_producer")
    assert src.count('extern "C" __global__') == 1
    for piece in ("__launch_bounds__(320)", "__restrict__", "__syncthreads();",
                  "extern __shared__", "threadIdx.y", "blockIdx.x", "kernel_blur_y"):
        assert piece in src, piece
    assert _source("blur_two_kernels").count('extern "C" __global__') == 2


def one_translation_unit(names) -> str:
    """Every case's kernels in one .cu (each in its own namespace, one preamble),
    so that one nvcc call compiles them all."""
    preamble, parts = None, []
    for n, name in enumerate(names):
        src = _source(name)
        head, sep, rest = src.partition("#endif\n")
        preamble = preamble or head + sep
        parts.append(f"namespace pl_case_{n} {{  // {name}\n{rest}\n}}\n")
    return preamble + "\n".join(parts)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
def test_nvcc_compiles_every_case(tmp_path):
    """Every case, sm_80 and sm_90, warnings as errors: one translation unit, one call per arch."""
    path = tmp_path / "all_cases.cu"
    path.write_text(one_translation_unit(sorted(CASES)))
    for arch in ("sm_80", "sm_90"):
        r = subprocess.run(["nvcc", "-cubin", f"-arch={arch}", "-Werror", "all-warnings", str(path),
                            "-o", str(tmp_path / f"{arch}.cubin")],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / f"{arch}.cubin").read_bytes()[:4] == b"\x7fELF"


def test_nvrtc_compiles_every_case(monkeypatch):
    nvrtc = pytest.importorskip("pipelang.backends.cuda.nvrtc")
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed (pip install 'pipelang[cuda]')")
    monkeypatch.setenv("PIPELANG_CACHE", "0")
    # nvcc compiles every case (above); NVRTC, the compiler the runtime uses,
    # a representative few (all of them with -m slow).
    names = sorted(CASES) if os.environ.get("PIPELANG_SLOW_TESTS") else NVCC_CASES
    for name in names:
        src = _source(name)
        for arch in ("sm_80", "sm_90"):
            image = nvrtc.compile_cuda(src, arch)
            assert image[:4] == b"\x7fELF", (name, arch)
    ptx = nvrtc.compile_cuda(_source("blur_shared_producer"), "sm_90", output="ptx")
    assert b".entry" in ptx and b"kernel_blur_y" in ptx and b"bar.sync" in ptx


def test_nvrtc_reports_errors():
    nvrtc = pytest.importorskip("pipelang.backends.cuda.nvrtc")
    if not nvrtc.available():
        pytest.skip("NVRTC is not installed")
    with pytest.raises(nvrtc.NVRTCError, match="undefined"):
        nvrtc.compile_cuda('extern "C" __global__ void k() { undefined_thing(); }', "sm_80")
