"""`pipelang-autoschedule collect | train | evaluate`: regenerate the learned
cost model's training data and weights on this machine.

    pipelang-autoschedule collect --pipelines 50 [--start-seed 0] [--data FILE]
    pipelang-autoschedule train [--data FILE] [-o WEIGHTS.npz]
    pipelang-autoschedule evaluate [--data FILE] [--weights WEIGHTS.npz]
"""
from __future__ import annotations

import argparse


def main(argv) -> int:
    from autoscheduler.collect import DEFAULT_DATA
    from autoscheduler.learned import DEFAULT_WEIGHTS
    ap = argparse.ArgumentParser(prog="pipelang-autoschedule", description=__doc__.split("\\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect", help="time random pipelines x sampled schedules (resumable)")
    c.add_argument("--pipelines", type=int, default=20, help="new pipelines to time in this run")
    c.add_argument("--start-seed", type=int, default=0)
    c.add_argument("--per-pipeline", type=int, default=12, help="schedules per pipeline")
    c.add_argument("--parallelism", type=int, default=0)
    c.add_argument("--data", default=DEFAULT_DATA)
    t = sub.add_parser("train", help="fit the cost model's weights to the training pipelines")
    t.add_argument("--data", nargs="+", default=[DEFAULT_DATA], help="one or more data files")
    t.add_argument("-o", "--output", default=DEFAULT_WEIGHTS)
    t.add_argument("--max-load", type=float, default=1e9,
                   help="drop samples timed at a higher load average")
    e = sub.add_parser("evaluate", help="ranking accuracy and top-1 regret on held-out pipelines")
    e.add_argument("--data", nargs="+", default=[DEFAULT_DATA], help="one or more data files")
    e.add_argument("--weights", default=DEFAULT_WEIGHTS)
    e.add_argument("--max-load", type=float, default=1e9)
    a = ap.parse_args(argv)
    if a.cmd == "collect":
        from autoscheduler.collect import collect
        n = collect(a.pipelines, a.start_seed, a.per_pipeline, a.data, a.parallelism)
        print(f"collect: added {n} samples to {a.data}")
        return 0
    from autoscheduler.collect import read_samples, samples_by_pipeline
    records = [r for path in a.data for r in read_samples(path)]
    if a.cmd == "train":
        return _train(records, a)
    return _evaluate(records, a)


def _train(records, a) -> int:
    import time
    from autoscheduler.collect import samples_by_pipeline
    from autoscheduler.learned import fit_and_choose, ranking_metrics
    groups = samples_by_pipeline(records, "train", a.max_load)
    if len(groups) < 5:
        raise SystemExit(f"pipelang-autoschedule train: only {len(groups)} training pipelines in "
                         f"{a.data}; run 'pipelang-autoschedule collect' first")
    t0 = time.perf_counter()
    model = fit_and_choose(groups)
    acc = ranking_metrics(model, groups)
    model.save(a.output)
    n = sum(len(ms) for _, ms in groups.values())
    print(f"train: {n} samples from {len(groups)} pipelines in {time.perf_counter() - t0:.1f} s; "
          f"blend {model.blend}; training accuracy {acc['accuracy']:.3f}; wrote {a.output}")
    return 0


def _evaluate(records, a) -> int:
    from autoscheduler.collect import samples_by_pipeline
    from autoscheduler.learned import (AnalyticModel, LearnedModel, LogLinearRanker,
                                       ranking_metrics)
    train = samples_by_pipeline(records, "train", a.max_load)
    test = samples_by_pipeline(records, "test", a.max_load)
    if not test:
        raise SystemExit(f"pipelang-autoschedule evaluate: no held-out pipelines in {a.data}")
    model = LearnedModel.load(a.weights)
    rows = [("analytic", AnalyticModel()), (f"learned (blend {model.blend})", model)]
    pure = LearnedModel(model.theta, 1.0)
    if model.blend != 1.0:
        rows.append(("learned alone", pure))
    if train:
        rows.append(("log-linear ranker", LogLinearRanker.train(train)))
    n = sum(len(ms) for _, ms in test.values())
    print(f"evaluate: {len(test)} held-out pipelines, {n} schedules (never trained on); "
          f"pairs > 1.3x apart")
    for name, m in rows:
        r = ranking_metrics(m, test)
        print(f"  {name:28s} accuracy {r['accuracy']:.3f} over {r['pairs']} pairs; top-1 regret "
              f"geomean {r['regret_geomean']:.3f}, worst {r['regret_max']:.2f}")
    return 0
