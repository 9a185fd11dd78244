"""Training data for the learned cost model: random pipelines
(`random_pipelines.py`) x sampled schedules, compiled and timed on this
machine, appended to a gzip'd JSON-lines file, one line per timed schedule.

    pipelang-autoschedule collect --pipelines 20             # resumable, in chunks
    pipelang-autoschedule collect --pipelines 20 --data my_samples.jsonl.gz

Each run skips the pipeline seeds already in the file, so it can be stopped
and rerun for hours (each chunk in a fresh process, so JIT memory never
grows). Per pipeline: the beam search's picks, the greedy baseline, random
legal schedules (every Func's choice drawn from its legal options, consumers
first) and mutations of the search's best. Each schedule is timed as the
minimum of several runs; the load average at the time is recorded, so noisy
samples can be dropped or down-weighted at training time. A record:

    {"seed": 12, "k": 3, "state": [["root", ["strips", 16]], ...],   # dag.nodes order
     "terms": [...], "ms": 1.93, "load": 1.4, "v": 1, "host": "...", "compile_s": 0.8}
"""
from __future__ import annotations

import gzip
import json
import os
import platform
import random
import sys
import time

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
DEFAULT_DATA = os.path.join(DATA_DIR, "samples.jsonl.gz")
FEATURE_VERSION = 1          # bump when cost_model.TERMS changes meaning


def read_samples(path: str) -> list:
    """Every record of a data file (its gzip members concatenated); [] if absent."""
    if not os.path.exists(path):
        return []
    out = []
    with gzip.open(path, "rt") as f:
        try:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
        except (EOFError, OSError, json.JSONDecodeError):
            pass                 # a chunk cut off mid-write: keep what came before
    return out


def encode_state(dag, state: dict) -> list:
    return [[state[n.name].place, list(state[n.name].tiling)] for n in dag.nodes]


def decode_state(dag, enc: list) -> dict:
    from autoscheduler.space import Choice
    return {n.name: Choice(p, tuple(t)) for n, (p, t) in zip(dag.nodes, enc)}


def random_state(dag, rng: random.Random, default: dict) -> dict:
    """A uniformly drawn legal state: each Func's choice among its legal options,
    consumers first."""
    from autoscheduler.search import complete, options
    decided: dict = {}
    for node in reversed(dag.nodes):
        opts = options(dag, decided, node)
        decided[node.name] = rng.choice(opts) if opts else default[node.name]
    return complete(dag, decided, default)


def mutate(dag, state: dict, rng: random.Random, default: dict) -> dict:
    from autoscheduler.search import complete, options
    order = list(reversed(dag.nodes))
    node = rng.choice(order)
    i = order.index(node)
    decided = {n.name: state[n.name] for n in order[:i]}
    opts = options(dag, decided, node)
    if opts:
        decided[node.name] = rng.choice(opts)
    return complete(dag, decided, {**default, **state})


def sample_states(dag, params, rng: random.Random, n: int) -> list:
    """Up to `n` distinct states: search picks, baseline, random, mutations."""
    from autoscheduler.heuristic import heuristic_state
    from autoscheduler.search import beam_search
    from autoscheduler.space import build_plan
    default = heuristic_state(dag)
    states = [default]
    try:
        states += [s for s, _ in beam_search(dag, params, {})]
    except Exception:        # noqa: BLE001 - data collection goes on without the search
        pass
    best = states[-1]
    tries = 0
    while len(states) < 3 * n and tries < 20 * n:
        tries += 1
        try:
            states.append(random_state(dag, rng, default) if rng.random() < 0.6
                          else mutate(dag, rng.choice(states[:4] + [best]), rng, default))
        except Exception:    # noqa: BLE001 - an illegal draw is skipped
            continue
    out, seen = [], set()
    for st in states:
        try:
            key = build_plan(dag, st).key()
        except Exception:    # noqa: BLE001
            continue
        if key not in seen:
            seen.add(key)
            out.append(st)
        if len(out) >= n:
            break
    return out


def time_schedule(pipeline, dag, source: str, min_total_s: float = 0.15) -> tuple:
    """(compile seconds, best-of-runs ms) of `source` applied to `pipeline`."""
    from autoscheduler.autotune import _outputs
    from autoscheduler.plan import apply_source
    apply_source(source, pipeline)
    t0 = time.perf_counter()
    pipeline.compile_jit()
    compile_s = time.perf_counter() - t0
    outs = _outputs(dag)
    t0 = time.perf_counter()
    pipeline.realize(outs)
    first = time.perf_counter() - t0
    times = [first]
    reps = 2 if first > 0.5 else max(3, min(30, int(min_total_s / max(first, 1e-5))))
    for _ in range(reps):
        t0 = time.perf_counter()
        pipeline.realize(outs)
        times.append(time.perf_counter() - t0)
    return compile_s, min(times) * 1e3


def collect(pipelines: int, start_seed: int = 0, per_pipeline: int = 12, data: str = DEFAULT_DATA,
            parallelism: int = 0, verbose: bool = True) -> int:
    """Time `per_pipeline` schedules of each of `pipelines` new random pipelines
    (seeds from `start_seed`, skipping those already in `data`); returns samples added."""
    import warnings
    from autoscheduler.cost_model import CostModel
    from autoscheduler.dag import DAG
    from autoscheduler.params import Params
    from autoscheduler.plan import render
    from autoscheduler.random_pipelines import random_perf_pipeline
    from autoscheduler.space import build_plan
    done = {r["seed"] for r in read_samples(data)}
    os.makedirs(os.path.dirname(os.path.abspath(data)), exist_ok=True)
    params = Params(parallelism=parallelism, time_budget_s=1.0, beam_size=4)
    host = f"{platform.node()}/{platform.machine()}/{params.parallelism}"
    added, seed, new_pipelines = 0, start_seed, 0
    while new_pipelines < pipelines:
        if seed in done:
            seed += 1
            continue
        rng = random.Random(seed)
        rows = []
        t_pipe = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pipeline, text = random_perf_pipeline(seed)
                dag = DAG.build(pipeline, None, params.parallelism)
                model = CostModel(dag)
                states = sample_states(dag, params, rng, per_pipeline)
            except Exception as e:   # noqa: BLE001 - a generator bug skips the seed, logged
                print(f"collect: seed {seed}: skipped ({type(e).__name__}: {e})", file=sys.stderr)
                states = []
            for k, st in enumerate(states):
                try:
                    src = render(build_plan(dag, st), "sample")
                    compile_s, ms = time_schedule(pipeline, dag, src)
                except Exception as e:   # noqa: BLE001 - a failing schedule is dropped
                    if verbose:
                        print(f"collect: seed {seed} schedule {k}: dropped "
                              f"({type(e).__name__}: {str(e)[:100]})", file=sys.stderr)
                    continue
                rows.append({"seed": seed, "k": k, "state": encode_state(dag, st),
                             "terms": [round(float(t), 3) for t in model.terms(st)],
                             "ms": round(ms, 5), "load": round(os.getloadavg()[0], 2),
                             "v": FEATURE_VERSION, "host": host, "compile_s": round(compile_s, 3)})
        if not rows:                 # recorded as done, so a rerun doesn't retry it forever
            rows.append({"seed": seed, "k": -1, "skipped": True})
        with gzip.open(data, "at") as f:
            f.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
        n_ok = sum(1 for r in rows if "ms" in r)
        added += n_ok
        new_pipelines += 1
        if verbose:
            ms = [r["ms"] for r in rows if "ms" in r]
            spread = f"{min(ms):.2f}..{max(ms):.2f} ms" if ms else "-"
            print(f"collect: seed {seed}: {n_ok} schedules ({spread}) in "
                  f"{time.perf_counter() - t_pipe:.1f} s, load {os.getloadavg()[0]:.2f}", flush=True)
        seed += 1
    return added


def samples_by_pipeline(records: list, split: str | None = None, max_load: float = 1e9) -> dict:
    """seed -> (terms array [n, TERMS], ms array [n]), for usable records of the
    current feature version (`split`: 'train', 'test' or None for both)."""
    from autoscheduler.random_pipelines import split_of
    groups: dict = {}
    for r in records:
        if "ms" not in r or r.get("v") != FEATURE_VERSION or r["load"] > max_load:
            continue
        if split is not None and split_of(r["seed"]) != split:
            continue
        if not all(np.isfinite(r["terms"])) or r["ms"] <= 0:
            continue
        groups.setdefault(r["seed"], []).append(r)
    out = {}
    for seed, rs in groups.items():
        if len(rs) >= 2:
            out[seed] = (np.array([r["terms"] for r in rs], dtype=np.float64),
                         np.array([r["ms"] for r in rs], dtype=np.float64))
    return out
