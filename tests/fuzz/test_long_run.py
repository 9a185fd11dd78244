"""The long run's bookkeeping: resuming skips seeds already run, an aborted
chunk's seeds run again, and a `--rerun` after a fix supersedes the chunks it
covers so the totals count each seed's latest run."""
import json
import subprocess

from pipelang.testing import long_run


def _chunk(first, programs, mismatches=0, crashes=0):
    return {"first": first, "programs": programs, "schedules": 5, "mismatches": mismatches,
            "crashes": crashes, "reference": 0, "failures": []}


def test_totals_count_each_seeds_latest_run(tmp_path):
    path = str(tmp_path / "run.json")
    data = {"chunks": [
        _chunk(0, 50), _chunk(50, 0, crashes=1),          # 50..74 aborted
        _chunk(75, 25, mismatches=1), _chunk(50, 25),      # aborted chunk re-run
        _chunk(75, 25),                                    # 75..99 re-run after a fix
    ]}
    long_run._save(path, data)
    saved = json.load(open(path))
    assert [c.get("superseded", False) for c in saved["chunks"]] == [False, True, True, False, False]
    assert saved["totals"] == {"programs": 100, "runs": 500, "mismatches": 0, "crashes": 0,
                               "reference": 0, "superseded_chunks": 2}


def test_partly_rerun_chunk_still_counts(tmp_path):
    path = str(tmp_path / "run.json")
    long_run._save(path, {"chunks": [_chunk(0, 50, mismatches=1), _chunk(0, 25)]})
    saved = json.load(open(path))
    assert "superseded" not in saved["chunks"][0]
    assert saved["totals"]["mismatches"] == 1 and saved["totals"]["programs"] == 50


def test_resume_skips_done_seeds_and_reruns_aborted_ones(tmp_path, monkeypatch):
    path = str(tmp_path / "run.json")
    long_run._save(path, {"chunks": [_chunk(0, 2), _chunk(2, 0, crashes=1)]})
    ran = []

    def fake_run(hl, seeds, schedules, **kw):
        ran.append(list(seeds))
        return []
    monkeypatch.setattr("pipelang.testing.differential.run", fake_run)
    long_run.run_chunks(0, 4, 5, 2, path, None)
    assert ran == [[2, 3]]
    long_run.run_chunks(0, 4, 5, 2, path, None, rerun=True)
    assert ran == [[2, 3], [0, 1], [2, 3]]
    totals = json.load(open(path))["totals"]
    assert totals["programs"] == 4 and totals["crashes"] == 0


def test_a_chunk_whose_process_dies_is_recorded(tmp_path, monkeypatch):
    path = str(tmp_path / "run.json")
    calls = []

    def fake_child(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, -6, stdout="", stderr="Warning: x\ndouble free or corruption (out)\n")
    monkeypatch.setattr(long_run.subprocess, "run", fake_child)
    monkeypatch.setenv("PIPELANG_FUZZ_COMMIT", "abc1234")
    long_run.run_chunks(10, 4, 5, 2, path, None, isolate=True)
    assert len(calls) == 2 and "--in-process" in calls[0]
    saved = json.load(open(path))
    assert [(c["first"], c["programs"], c["crashes"], c["commit"]) for c in saved["chunks"]] == [
        (10, 0, 1, "abc1234"), (12, 0, 1, "abc1234")]
    assert saved["chunks"][0]["failures"] == [
        "10-11 process aborted (status -6): double free or corruption (out)"]
    assert saved["totals"]["crashes"] == 2
