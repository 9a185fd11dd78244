"""`pipelang-autoschedule FILE.py:NAME -o schedule.py` (also `python -m autoscheduler`).

NAME is a function in FILE.py returning a Func, a list of Funcs or a
Pipeline, with estimates set on its outputs (and on any ImageParams). The
schedule is written as a Python module defining `apply_schedule(pipeline)`.

    pipelang-autoschedule blur.py:make_blur -o blur_schedule.py --time-budget 5
    pipelang-autoschedule blur.py:make_blur --autotune 60 --benchmark

The learned cost model's data and weights (see `learn_cli.py`):

    pipelang-autoschedule collect --pipelines 50      # resumable
    pipelang-autoschedule train
    pipelang-autoschedule evaluate
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time


def _load(spec: str):
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"pipelang-autoschedule: expected FILE.py:NAME, got {spec!r}")
    if not os.path.exists(path):
        raise SystemExit(f"pipelang-autoschedule: no such file {path!r}")
    mod_spec = importlib.util.spec_from_file_location("_autoschedule_target", path)
    mod = importlib.util.module_from_spec(mod_spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    mod_spec.loader.exec_module(mod)
    if not hasattr(mod, name):
        raise SystemExit(f"pipelang-autoschedule: {path} defines no {name!r}")
    obj = getattr(mod, name)
    return obj() if callable(obj) and not hasattr(obj, "realize") else obj


def _pipeline(obj):
    import pipelang as hl
    if isinstance(obj, hl.Pipeline):
        return obj
    if isinstance(obj, hl.Func):
        return hl.Pipeline(obj)
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(f, hl.Func) for f in obj):
        return hl.Pipeline(list(obj))
    raise SystemExit(f"pipelang-autoschedule: NAME must give a Func, a list of Funcs or a "
                     f"Pipeline, not {type(obj).__name__}")


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="pipelang-autoschedule", description=__doc__.split("\n")[0])
    ap.add_argument("target", help="FILE.py:NAME")
    ap.add_argument("-o", "--output", help="write the schedule module here (default: stdout)")
    ap.add_argument("--name", default="pipelang",
                    help="autoscheduler: pipelang (default), or Halide's Adams2019, Anderson2021, "
                         "Mullapudi2016, Li2018")
    ap.add_argument("--time-budget", type=float, default=10.0, help="search time, seconds")
    ap.add_argument("--autotune", type=float, default=0.0, help="autotuning budget, seconds")
    ap.add_argument("--parallelism", type=int, default=0, help="cores (default: this machine's)")
    ap.add_argument("--beam-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--memory-limit", type=int, default=-1)
    ap.add_argument("--benchmark", action="store_true",
                    help="time the schedule (and the default schedule) at the estimated sizes")
    ap.add_argument("-v", "--verbose", action="count", default=0)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("collect", "train", "evaluate"):
        from autoscheduler.learn_cli import main as learn_main
        return learn_main(argv)
    a = parse_args(argv)
    import pipelang as hl
    from autoscheduler import autoschedule
    from autoscheduler.params import AutoschedulerError
    pipeline = _pipeline(_load(a.target))
    extra = {"time_budget_s": a.time_budget, "autotune_budget_s": a.autotune,
             "beam_size": a.beam_size, "seed": a.seed, "memory_limit": a.memory_limit,
             "verbose": a.verbose}
    if a.parallelism:
        extra["parallelism"] = a.parallelism
    try:
        source, report = autoschedule(pipeline, hl.get_host_target(),
                                      hl.AutoschedulerParams(a.name, extra))
    except AutoschedulerError as e:
        print(f"pipelang-autoschedule: {e}", file=sys.stderr)
        return 2
    if a.output:
        with open(a.output, "w") as f:
            f.write(source)
    else:
        sys.stdout.write(source)
    say = (lambda *x: print(*x, file=sys.stderr)) if not a.output else print
    say(f"chose: {report['chosen']} in {report['total_s']:.2f} s "
        f"(search {report.get('search_time_s', 0):.2f} s)")
    if report.get("predicted_best") is not None:
        say(f"predicted: {report['predicted_best']:.4g} cycles "
            f"(greedy baseline {report['predicted_baseline']:.4g})")
    for fb in report.get("fallbacks", []):
        say(f"fallback: {fb}")
    if a.benchmark or a.autotune:
        from autoscheduler.autotune import _bind_inputs, measure
        from autoscheduler.dag import DAG
        from autoscheduler.plan import Plan, render
        from autoscheduler.params import parse_params
        dag = DAG.build(pipeline, None, parse_params(hl.AutoschedulerParams(a.name, extra)).parallelism)
        undo = _bind_inputs(dag)
        try:
            ms = measure(pipeline, dag, source, budget_s=1.0)
            base = measure(pipeline, dag, render(Plan(), "default"), budget_s=1.0)
        finally:
            undo()
        say(f"measured: {ms:.3f} ms (default schedule {base:.3f} ms)")
    if a.output:
        print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
