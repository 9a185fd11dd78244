"""Reliability machinery: random pipelines and schedules, a numpy reference
evaluator, and a differential harness that minimizes failures.

Everything here takes the module under test as a parameter ``hl`` (``pipelang``
or real ``halide``), so the same generated programs test both.

    from pipelang.testing import random_pipeline, random_schedule, differential
    desc = random_pipeline.random_pipeline(seed=7)
    sched = random_schedule.random_schedule(desc, seed=3)
    result = differential.check(hl, desc, sched)
"""
