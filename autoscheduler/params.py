"""The autoscheduler's parameters: a typed, documented set, parsed from
Halide's `AutoschedulerParams(name, {key: value})` (values may be strings, as
Halide passes them). Unknown keys are an error, never silently ignored.

Halide's autoscheduler names all run pipelang's one autoscheduler:

| Halide name     | pipelang runs                                               |
|-----------------|-------------------------------------------------------------|
| Adams2019       | beam search with the cost model (the default)               |
| Anderson2021    | the same beam search (its GPU search space is not modelled) |
| Mullapudi2016   | the greedy heuristic only (no search)                       |
| Li2018          | the greedy heuristic only (no search)                       |
| pipelang        | beam search (our own name)                                  |
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields

from pipelang.errors import HalideError

# Halide's names and ours -> the search we run.
NAMES = {
    "pipelang": "beam",
    "Adams2019": "beam",
    "Anderson2021": "beam",
    "Mullapudi2016": "heuristic",
    "Li2018": "heuristic",
}
# Halide's plugin library names (load_plugin) -> the autoscheduler name.
PLUGINS = {
    "autoschedule_adams2019": "Adams2019",
    "autoschedule_anderson2021": "Anderson2021",
    "autoschedule_mullapudi2016": "Mullapudi2016",
    "autoschedule_li2018": "Li2018",
}


class AutoschedulerError(HalideError):
    """The autoscheduler was asked for something it can't do (bad parameters,
    missing estimates)."""


def check_plugin_name(lib_name: str) -> str:
    """Halide's `load_plugin` argument -> our autoscheduler name."""
    base = os.path.basename(str(lib_name))
    base = re.sub(r"\.(so|dylib|dll)$", "", base)
    base = base[3:] if base.startswith("lib") else base
    if base not in PLUGINS:
        raise AutoschedulerError(f"Unknown autoscheduler plugin {lib_name!r}: pipelang's "
                                 f"autoscheduler is built in and accepts Halide's plugin names "
                                 f"{', '.join(sorted(PLUGINS))}")
    return PLUGINS[base]


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass
class Params:
    """Every parameter, its type and default.

    parallelism: cores the schedule should keep busy (default: this machine's).
    beam_size: states kept per round of beam search (1 = greedy).
    time_budget_s: wall-clock limit of the search, in seconds.
    seed: the random seed (search tie-breaks and autotuning mutations).
    autotune_budget_s: > 0 times candidates for real for this long and keeps the fastest.
    weights: reserved for learned cost-model weights; the model is analytic for now, so
        setting it is an error rather than silently ignored.
    memory_limit: bytes the schedule's allocations may take in all (-1 = no limit).
    verbose: print the effective parameters and the search's progress (0, 1 or 2).
    """
    parallelism: int = 0
    beam_size: int = 8
    time_budget_s: float = 10.0
    seed: int = 0
    autotune_budget_s: float = 0.0
    weights: str = ""
    memory_limit: int = -1
    verbose: int = 0
    name: str = "pipelang"

    def __post_init__(self):
        if self.parallelism <= 0:
            self.parallelism = _cores()

    @property
    def search(self) -> str:
        return NAMES[self.name]

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))


_TYPES = {f.name: f.type for f in fields(Params)}


def _convert(key: str, value, kind: str):
    try:
        if kind == "int":
            if isinstance(value, str):
                value = value.strip()
            return int(float(value)) if not isinstance(value, bool) else int(value)
        if kind == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise AutoschedulerError(f"Autoscheduler parameter {key!r} must be {kind}, "
                                 f"not {value!r}") from None


def parse_params(params) -> Params:
    """`hl.AutoschedulerParams`, a dict, a `Params` or None -> `Params`."""
    if params is None:
        return Params()
    if isinstance(params, Params):
        return params
    if isinstance(params, dict):
        name, extra = params.get("name", "pipelang"), {k: v for k, v in params.items() if k != "name"}
    else:
        name, extra = getattr(params, "name", "") or "pipelang", dict(getattr(params, "extra", {}))
    if name not in NAMES:
        raise AutoschedulerError(f"Unknown autoscheduler {name!r}; known: {', '.join(NAMES)} "
                                 f"(Halide's names all map to pipelang's autoscheduler)")
    values = {}
    for k, v in extra.items():
        if k not in _TYPES or k == "name":
            known = ", ".join(n for n in _TYPES if n != "name")
            raise AutoschedulerError(f"Unknown autoscheduler parameter {k!r}; known: {known}")
        values[k] = _convert(k, v, _TYPES[k])
    p = Params(name=name, **values)
    if p.beam_size < 1:
        raise AutoschedulerError(f"beam_size must be at least 1, not {p.beam_size}")
    if p.weights:
        raise AutoschedulerError("weights: pipelang's cost model is analytic in this version (no "
                                 "learned weights to load); leave 'weights' unset")
    if p.time_budget_s < 0 or p.autotune_budget_s < 0:
        raise AutoschedulerError("time_budget_s and autotune_budget_s must not be negative")
    return p
