"""The compile-time harness: pipelang's split by step beside Halide's (lowering / the rest)."""
import json

import pytest

from pipelang.bench import compile_time


def test_breakdown_beside_halide(tmp_path, capsys, monkeypatch):
    pytest.importorskip("halide")
    monkeypatch.setenv("PIPELANG_CACHE", "0")
    out = tmp_path / "ct.json"
    compile_time.main(["--only", "box_blur", "--json", str(out)])
    r = json.loads(out.read_text())["box_blur"]
    steps = r["steps"]
    assert {"bounds_inference", "codegen", "llvm"} <= steps.keys()
    assert r["lowering_s"] == pytest.approx(
        sum(v for k, v in steps.items() if k not in ("codegen", "llvm", "other")))
    assert 0 < r["lowering_s"] < r["total"]
    # Halide's lowering figure is read from its own report (one per compile).
    assert r["halide_s"] > 0 and r["halide_lowering_s"] > 0
    printed = capsys.readouterr().out
    assert "box_blur: pipelang" in printed and "lowering" in printed and "(Halide" in printed


def test_cache_hits_in_several_fresh_processes():
    r = compile_time.cache_hit("box_blur", "small", reps=2)
    assert r["hit"] is True and r["hit_reps"] == 2
    assert 0 < r["hit_s"] <= r["hit_max_s"] and 0 < r["hit_cpu_s"] <= r["hit_cpu_max_s"]
    assert set(r["hit_steps"]) == {"environment", "cache_key", "cache_load"}
