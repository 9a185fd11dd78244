"""The learned cost model: training recovers a ranking, weights round-trip
through a file, `weights=` selects the model the search uses, and the data
pipeline (collect -> train -> evaluate) runs end to end on a tiny sample."""
import gzip
import json

import numpy as np
import pytest

import pipelang as hl
from autoscheduler.collect import FEATURE_VERSION, read_samples, samples_by_pipeline
from autoscheduler.cost_model import ANALYTIC_WEIGHTS, TERMS
from autoscheduler.learned import AnalyticModel, LearnedModel, ranking_metrics
from autoscheduler.params import AutoschedulerError, parse_params
from autoscheduler.random_pipelines import split_of


def _synthetic(seed, pipelines=40, per=10):
    """Timings that follow hidden weights the analytic model gets wrong."""
    rng = np.random.default_rng(seed)
    hidden = ANALYTIC_WEIGHTS.copy()
    hidden[1] *= 6.0          # scalar compute much dearer than the analytic model thinks
    hidden[5] *= 0.1          # DRAM traffic much cheaper
    groups = {}
    for p in range(pipelines):
        T = rng.lognormal(10, 1.5, size=(per, len(TERMS))) * (rng.random((per, len(TERMS))) < 0.7)
        ms = (T @ hidden) * rng.lognormal(0, 0.03, size=per)
        groups[p] = (T, ms)
    return groups


def test_training_recovers_the_ranking_the_analytic_model_misses():
    train, test = _synthetic(0), _synthetic(1)
    model = LearnedModel.train(train, steps=300)
    learned, analytic = ranking_metrics(model, test), ranking_metrics(AnalyticModel(), test)
    assert learned["accuracy"] > analytic["accuracy"] + 0.03
    assert learned["accuracy"] > 0.9
    assert learned["regret_geomean"] <= analytic["regret_geomean"]


def test_weights_round_trip_and_select_the_model(tmp_path):
    model = LearnedModel.train(_synthetic(2, pipelines=10), steps=50)
    model.blend = 0.5
    path = str(tmp_path / "w.npz")
    model.save(path)
    back = LearnedModel.load(path)
    assert np.allclose(back.theta, model.theta) and back.blend == 0.5
    T = np.arange(1.0, len(TERMS) + 1)
    assert back.cost(T) == pytest.approx(model.cost(T))
    assert parse_params(hl.AutoschedulerParams("Adams2019", {"weights_path": path})).weights == path
    with pytest.raises(AutoschedulerError, match="weights: no such file"):
        parse_params(hl.AutoschedulerParams("Adams2019", {"weights": str(tmp_path / "none.npz")}))
    bad = str(tmp_path / "bad.npz")
    np.savez(bad, theta=np.zeros(3), blend=np.array(1.0), terms=np.array(["a", "b", "c"]))
    with pytest.raises(AutoschedulerError, match="retrain"):
        parse_params({"name": "pipelang", "weights": bad})


def test_search_reports_which_model_it_used(tmp_path):
    x, y = hl.Var("x"), hl.Var("y")
    a = np.random.default_rng(0).random((130, 130), dtype=np.float32)
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = hl.Buffer(a)[x, y] * 2.0
    g[x, y] = f[x, y] + f[x + 1, y + 1]
    g.set_estimates([hl.Range(0, 128), hl.Range(0, 128)])
    path = str(tmp_path / "w.npz")
    LearnedModel(np.zeros(len(TERMS)), 1.0).save(path)
    for weights, expect in (("analytic", "analytic"), (path, "learned")):
        r = hl.Pipeline(g).apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams(
            "Adams2019", {"weights": weights, "time_budget_s": 0.5, "parallelism": 2}))
        assert r.report["cost_model"].startswith(expect)
        ref = a[:128, :128] * 2 + a[1:129, 1:129] * 2
        np.testing.assert_allclose(np.asarray(hl.Pipeline(g).realize([128, 128])), ref, rtol=1e-6)


def test_collect_train_evaluate_end_to_end(tmp_path, capsys):
    from autoscheduler.cli import main
    data = str(tmp_path / "d.jsonl.gz")
    # One pipeline timed for real, two schedules (resumable: a rerun skips its seed).
    seed = 176                          # a held-out seed whose pipeline is small and short
    assert split_of(seed) == "test"
    assert main(["collect", "--pipelines", "1", "--start-seed", str(seed), "--per-pipeline", "2",
                 "--data", data, "--parallelism", "2"]) == 0
    rows = read_samples(data)
    assert {r["seed"] for r in rows} == {seed} and all(r["v"] == FEATURE_VERSION for r in rows)
    assert all(r["ms"] > 0 and len(r["terms"]) == len(TERMS) for r in rows if "ms" in r)
    # Synthetic training pipelines appended in the same format, then train and evaluate.
    with gzip.open(data, "at") as f:
        for p, (T, ms) in _synthetic(3, pipelines=30, per=6).items():
            s = 10_000 + p * 8 + 1                      # never a held-out seed
            assert split_of(s) == "train"
            for k in range(len(ms)):
                f.write(json.dumps({"seed": s, "k": k, "state": [], "terms": T[k].tolist(),
                                    "ms": float(ms[k]), "load": 0.5, "v": FEATURE_VERSION}) + "\n")
    assert len(samples_by_pipeline(read_samples(data), "train")) == 30
    weights = str(tmp_path / "w.npz")
    assert main(["train", "--data", data, "-o", weights]) == 0
    assert main(["evaluate", "--data", data, "--weights", weights]) == 0
    out = capsys.readouterr().out
    assert "held-out pipelines" in out and "top-1 regret" in out and "analytic" in out
