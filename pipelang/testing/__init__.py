"""Reliability machinery: random pipelines and schedules, a numpy reference
evaluator, and a differential harness that minimizes failures.

Everything here takes the module under test as a parameter ``hl`` (``pipelang``
or real ``halide``), so the same generated programs test both.

- desc: pipeline descriptions (plain frozen data);
- analysis: value ranges that keep descriptions free of undefined behaviour;
- random_pipeline / random_schedule: seeded generators;
- printer: descriptions as Halide-API Python source, built by executing it;
- reference: the numpy evaluator, Halide's semantics implemented directly;
- differential: run, compare, minimize, write regression tests.

    from pipelang.testing import differential
    failures = differential.run(hl, seeds=range(50), schedules_per_program=3)
"""
