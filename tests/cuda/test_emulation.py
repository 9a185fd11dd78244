"""GPU-scheduled pipelines run in emulation (PIPELANG_CUDA_EMULATE=1) equal numpy.

Emulation runs the GPU-lowered loop nest (fused thread loops, barriers,
shared memory) on the CPU through the LLVM backend, so the GPU lowering is
checked for results on every machine.
"""
import numpy as np
import pytest

import pipelang as hl
from gpu_cases import CASES

CUDA = hl.Target("host-cuda")


def realize_emulated(outputs, sizes, monkeypatch):
    monkeypatch.setenv("PIPELANG_CUDA_EMULATE", "1")
    p = hl.Pipeline(outputs)
    p.compile_jit(CUDA)
    out = p.realize(sizes)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def check(out, ref, name):
    got = np.asarray(out)
    assert got.shape == ref.shape, (name, got.shape, ref.shape)
    if ref.dtype.kind == "f":
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5, err_msg=name)
    else:
        np.testing.assert_array_equal(got, ref, err_msg=name)


def test_enough_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_emulated_equals_reference(name, monkeypatch):
    outputs, sizes, refs = CASES[name]()
    outs = realize_emulated(outputs, sizes, monkeypatch)
    assert len(outs) == len(refs)
    for out, ref in zip(outs, refs):
        check(out, ref, name)


def test_gpu_schedule_on_host_target_is_halides_error(monkeypatch):
    monkeypatch.delenv("HL_JIT_TARGET", raising=False)
    outputs, sizes, _ = CASES["blur_shared_producer"]()
    with pytest.raises(hl.HalideError, match=r"Schedule for Func blur_y\S* requires <Default_GPU> "
                                             r"but no compatible target feature is enabled"):
        hl.Pipeline(outputs).realize(sizes)


def test_hl_jit_target_selects_cuda(monkeypatch):
    monkeypatch.setenv("HL_JIT_TARGET", "host-cuda")
    monkeypatch.setenv("PIPELANG_CUDA_EMULATE", "1")
    outputs, sizes, refs = CASES["pointwise_1d_shift_inwards"]()
    check(outputs[0].realize(sizes), refs[0], "HL_JIT_TARGET")


def test_emulated_lowering_has_no_gpu_loops_and_logs_gpu_passes(monkeypatch, capsys):
    from pipelang.lowering.lower import lower
    monkeypatch.setenv("PIPELANG_CUDA_EMULATE", "1")
    outputs, _, _ = CASES["blur_shared_producer"]()
    logged = []
    lowered = lower([f.function for f in outputs], "blur", log=logged.append, target=CUDA)[0]
    text = hl.ir.to_string(lowered) if hasattr(hl, "ir") else str(lowered)
    names = [entry.split(":", 1)[0] for entry in logged]
    for step in ("gpu_check_loops", "gpu_fuse_thread_loops", "gpu_emulate"):
        assert f"-- after {step}" in names
    fused = next(e for e in logged if e.startswith("-- after gpu_fuse_thread_loops"))
    assert "gpu_thread_barrier()" in fused and "in gpu_shared" in fused
    assert "gpu_block" not in text and "gpu_thread" not in text
