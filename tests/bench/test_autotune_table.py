"""The resumable autotuning table of `python -m pipelang.bench.autosched --resume`:
a record per benchmark appended to the file, benchmarks already there skipped,
and `--summary` / `--retime` reading it back."""
import json

from pipelang.bench import autosched


def _args(path, *extra):
    return ["--size", "tiny", "--autotune", "1", "--time-budget", "0.3", "--reps", "2",
            "--budget", "0.01", "--benchmarks", "box_blur", "--resume", str(path), *extra]


def test_resume_appends_records_and_skips_done_benchmarks(tmp_path, capfd):
    path = tmp_path / "table.json"
    assert autosched.main(_args(path)) == 0
    records = json.loads(path.read_text())
    assert len(records) == 1
    r = records[0]
    assert (r["benchmark"], r["size"], r["budget_s"]) == ("box_blur", "tiny", 1.0)
    for k in ("hand_ms", "auto_ms", "tuned_ms"):
        assert r[k] > 0, k
    assert r["tuned_ratio"] == r["tuned_ms"] / r["hand_ms"]
    assert r["candidates"] >= 1 and len(r["load"]) == 2
    assert "def apply_schedule(pipeline)" in r["schedule_source"]
    assert path.read_text().count("\n") == 3                 # one record per line
    capfd.readouterr()
    assert autosched.main(_args(path)) == 0                # done already: skipped
    assert "already in" in capfd.readouterr().out
    assert len(json.loads(path.read_text())) == 1
    assert autosched.main(["--summary", str(path)]) == 0
    out = capfd.readouterr().out
    assert "box_blur" in out and "geomean tuned / hand" in out
    assert autosched.main(["--retime", str(path), "--reps", "2", "--budget", "0.01"]) == 0
    out = capfd.readouterr().out                 # printed by the fresh process re-timing the record
    assert "tuned" in out and "x; recorded" in out, out     # the schedule applied again and timed


def test_resume_needs_a_budget(tmp_path, capsys):
    import pytest
    with pytest.raises(SystemExit):
        autosched.main(["--resume", str(tmp_path / "t.json"), "--benchmarks", "box_blur"])
    assert "--resume needs an --autotune budget" in capsys.readouterr().err


def test_redo_replaces_a_benchmarks_record_in_place():
    old = [{"benchmark": b, "size": "full", "budget_s": 300.0, "tuned_ms": 1.0}
           for b in ("hist", "local_laplacian", "blur")]
    new = {"benchmark": "local_laplacian", "size": "full", "budget_s": 300.0, "tuned_ms": 2.0}
    out = autosched.replace_record(old, new)
    assert [r["benchmark"] for r in out] == ["hist", "local_laplacian", "blur"]
    assert out[1] is new and out[0] is old[0] and out[2] is old[2]
    other_size = {**new, "size": "small"}                       # another table row: appended
    assert autosched.replace_record(old, other_size) == old + [other_size]


def test_redo_needs_resume(tmp_path, capsys):
    import pytest
    with pytest.raises(SystemExit):
        autosched.main(["--redo", "--benchmarks", "box_blur"])
    assert "--redo needs --resume" in capsys.readouterr().err
