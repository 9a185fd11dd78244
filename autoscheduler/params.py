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

Each name also accepts its Halide scheduler's own parameter names (`HALIDE_KEYS`),
so Halide programs (e.g. tutorial lesson 21's Mullapudi2016 parameters) run
unchanged. Where a Halide parameter has a meaning here it sets ours:

| Halide key (scheduler)                  | effect here                                         |
|-----------------------------------------|-----------------------------------------------------|
| parallelism (all)                       | `parallelism`                                       |
| beam_size, memory_limit (Adams/Anderson) | `beam_size`, `memory_limit`                        |
| random_dropout_seed (Adams/Anderson)    | `seed`                                              |
| weights_path (Adams/Anderson)           | `weights` (a .npz from `pipelang-autoschedule train`; Halide's .weights files are not read) |
| disable_subtiling (Adams/Anderson)      | `disable_subtiling`: 1 = no 2-D tiles or register blocks (strips only) |
| last_level_cache_size (Mullapudi2016)   | `last_level_cache_size`: the cache the cost model fits working sets into |
| balance (Mullapudi2016)                 | `balance`: memory-to-compute cost ratio (40 = the cost model's default) |

The others are accepted and have no effect on a CPU schedule, and say so at verbose
level: random_dropout, disable_memoized_features, disable_memoized_blocks (our
features are always memoized); Anderson2021's GPU and search-shape options; Mullapudi2016's
experimental_gpu_schedule. Any other key is an error.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields

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


_ADAMS = {"parallelism": "parallelism", "beam_size": "beam_size", "memory_limit": "memory_limit",
          "random_dropout_seed": "seed", "weights_path": "weights",
          "disable_subtiling": "disable_subtiling", "random_dropout": None,
          "disable_memoized_features": None, "disable_memoized_blocks": None}
# Halide name -> {Halide key: our Params field, or None (accepted, no effect here)}.
HALIDE_KEYS = {
    "Adams2019": _ADAMS,
    "Anderson2021": {**_ADAMS, **{k: None for k in (
        "randomize_tilings", "search_space_options", "freeze_inline_compute_root",
        "partial_schedule_path", "num_passes", "stack_factor", "shared_memory_limit_kb",
        "shared_memory_sm_limit_kb", "active_block_limit", "active_warp_limit")}},
    "Mullapudi2016": {"parallelism": "parallelism", "last_level_cache_size": "last_level_cache_size",
                      "balance": "balance", "experimental_gpu_schedule": None},
    "Li2018": {"parallelism": "parallelism"},
    "pipelang": {},
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
    weights: the cost model: "" (default) the learned weights shipped in the package,
        "analytic" the hand-written analytic model, or a path to a .npz written by
        `pipelang-autoschedule train` (a missing or incompatible file is an error).
    memory_limit: bytes the schedule's allocations may take in all (-1 = no limit).
    verbose: print the effective parameters and the search's progress (0, 1 or 2).
    disable_subtiling: 1 restricts root Funcs to strips (no 2-D tiles, no register blocks).
    last_level_cache_size: bytes of the last-level cache the cost model assumes (0 = 1 MiB
        per core, its default).
    balance: the cost of moving a byte relative to an arithmetic op, as Mullapudi2016's
        (default 40); scales the cost model's memory terms by balance / 40.
    """
    parallelism: int = 0
    beam_size: int = 8
    time_budget_s: float = 10.0
    seed: int = 0
    autotune_budget_s: float = 0.0
    weights: str = ""
    memory_limit: int = -1
    verbose: int = 0
    disable_subtiling: int = 0
    last_level_cache_size: int = 0
    balance: float = 40.0
    name: str = "pipelang"
    ignored: list = field(default_factory=list)      # Halide keys accepted with no effect

    def __post_init__(self):
        if self.parallelism <= 0:
            self.parallelism = _cores()

    @property
    def search(self) -> str:
        return NAMES[self.name]

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))


_TYPES = {f.name: f.type for f in fields(Params) if f.name != "ignored"}


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
    values, ignored = {}, []
    halide = HALIDE_KEYS.get(name, {})
    for k, v in extra.items():
        if k in halide:
            field_name = halide[k]
            if field_name is None:
                ignored.append(k)
                continue
            values[field_name] = _convert(k, v, _TYPES[field_name])
            continue
        if k not in _TYPES or k == "name":
            known = ", ".join(n for n in _TYPES if n != "name")
            theirs = f"; {name}'s own: {', '.join(halide)}" if halide else ""
            raise AutoschedulerError(f"Unknown autoscheduler parameter {k!r} for {name}; "
                                     f"known: {known}{theirs}")
        values[k] = _convert(k, v, _TYPES[k])
    p = Params(name=name, ignored=ignored, **values)
    if ignored and p.verbose:
        print(f"autoscheduler: {name} parameters {', '.join(ignored)} are accepted and have no "
              f"effect on pipelang's CPU schedules")
    if p.beam_size < 1:
        raise AutoschedulerError(f"beam_size must be at least 1, not {p.beam_size}")
    if p.weights:
        from autoscheduler.cost_model import load_model
        load_model(p.weights)                # a missing or incompatible file fails here
    if p.time_budget_s < 0 or p.autotune_budget_s < 0:
        raise AutoschedulerError("time_budget_s and autotune_budget_s must not be negative")
    return p
