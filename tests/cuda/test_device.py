"""Execution on a real CUDA device, compared with numpy (skipped without one).

Run on a GPU machine: `PYTHONPATH=. python -m pytest -m gpu tests/cuda`.
Integers must be bit-exact; floats within 1e-4 relative (NVRTC contracts
a*b+c into FMA, the CPU backend may not).
"""
import numpy as np
import pytest

import pipelang as hl
from gpu_cases import CASES
from pipelang.backends.cuda import runtime

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not runtime.device_available(), reason="no CUDA device here")]


@pytest.fixture(autouse=True)
def _on_device(monkeypatch):
    monkeypatch.delenv("PIPELANG_CUDA_EMULATE", raising=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_device_equals_reference(name):
    outputs, sizes, refs = CASES[name]()
    p = hl.Pipeline(outputs)
    p.compile_jit(hl.Target("host-cuda"))
    outs = p.realize(sizes)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    for out, ref in zip(outs, refs):
        got = np.asarray(out)
        assert not out.device_dirty()
        if ref.dtype.kind == "f":
            np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4, err_msg=name)
        else:
            np.testing.assert_array_equal(got, ref, err_msg=name)


def test_realize_buffer_leaves_output_on_device():
    outputs, sizes, refs = CASES["blur_shared_producer"]()
    f = outputs[0]
    f.compile_jit(hl.Target("host-cuda"))
    out = hl.Buffer(hl.UInt(16), sizes)
    f.realize(out)
    assert out.device_dirty()
    out.copy_to_host()
    np.testing.assert_array_equal(np.asarray(out), refs[0])


def test_cuda_errors_are_named():
    dev = runtime.get_device()
    with pytest.raises(runtime.CudaError, match="CUDA_ERROR_"):
        dev.load_module(b"not a cubin")
