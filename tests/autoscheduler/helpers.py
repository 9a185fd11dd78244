"""Random pipelines autoscheduled and compared with the reference evaluator."""
from __future__ import annotations

import warnings

import numpy as np

import pipelang as hl
from pipelang.testing.differential import outputs_match, tolerance
from pipelang.testing.printer import build, realize
from pipelang.testing.random_pipeline import random_pipeline


def autoschedule_random(seed: int, params: dict, max_stages: int = 6, name: str = "Adams2019"):
    """(mismatch message or None, report) for random pipeline `seed`: the
    autoscheduled output must equal the unscheduled one (the issue's criterion;
    the reference evaluator is checked against the unscheduled output elsewhere,
    and disagrees with Halide on a few corners, e.g. abs of a 64-bit unsigned)."""
    desc = random_pipeline(seed, max_stages=max_stages)
    ref = realize(hl, desc, build(desc, hl))      # unscheduled
    built = build(desc, hl)
    out = built.output
    for d, (lo, ext) in enumerate(zip(desc.out_min, desc.out_size)):
        out.set_estimate(out.args()[d], lo, ext)
    p = hl.Pipeline(out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = p.apply_autoscheduler(hl.get_host_target(),
                                       hl.AutoschedulerParams(name, params))
    got = realize(hl, desc, built)
    if not outputs_match(got, ref, tolerance(desc)):
        return (f"seed {seed}: autoscheduled output differs from the reference\n"
                f"{result.schedule_source}"), result.report
    return None, dict(result.report, warnings=[str(w.message) for w in caught])
