"""Random pipelines x random schedules against the reference evaluator.

CI size: 40 programs x 3 schedules (the default schedule plus two random
ones) per module: about 20 s with real Halide and 40 s with pipelang on this
2-core machine.  The slow sweep (`pytest -m slow tests/fuzz`) runs 2000
programs x 5 schedules.  Failures are minimized (within a session budget of
$PIPELANG_FUZZ_MINIMIZE_S, default 90 s; real Halide keeps the minimized
programs legal) and written to tests/fuzz/regressions/ (or $PIPELANG_FUZZ_OUT)."""
import os
import time

import numpy as np
import pytest

from pipelang.testing import differential
from pipelang.testing.random_pipeline import IDIOM_SEEDS, random_pipeline
from pipelang.testing.random_schedule import random_schedule, schedule_source
from pipelang.testing.reference import evaluate

REGRESSIONS = os.environ.get("PIPELANG_FUZZ_OUT",
                             os.path.join(os.path.dirname(__file__), "regressions"))
CI_PROGRAMS, CI_SCHEDULES, BATCH = 40, 3, 5
# Seconds of minimization for the whole session, so a badly broken module
# does not turn the CI run into an hour of delta debugging.
_MINIMIZE = {"left": float(os.environ.get("PIPELANG_FUZZ_MINIMIZE_S", "90"))}


def _check(hl, seeds, schedules, oracle):
    oracle = oracle if oracle is not None and oracle is not hl else None
    start = time.monotonic()
    failures = differential.run(hl, seeds, schedules, regression_dir=REGRESSIONS, oracle=oracle,
                                minimize_budget_s=_MINIMIZE["left"])
    if failures:
        _MINIMIZE["left"] = max(0.0, _MINIMIZE["left"] - (time.monotonic() - start))
    msgs = [f"seed {f.seed}: {f.kind}: {f.detail[:300]}" for f in failures]
    assert not failures, "\n".join(msgs) + f"\nminimized regressions written to {REGRESSIONS}"


@pytest.mark.parametrize("first", range(0, CI_PROGRAMS, BATCH))
def test_random_pipelines(hl_module, halide_oracle, first):
    _check(hl_module, range(first, first + BATCH), CI_SCHEDULES, halide_oracle)


def test_random_pipelines_with_idioms(hl_module, halide_oracle):
    # Seeds from IDIOM_SEEDS on also draw the code generator's fast-path
    # patterns (averages, int32 sums of 16-bit products, float clamps before
    # casts, repeated subexpressions, quotients under min/max) and 16-64 lanes.
    _check(hl_module, range(IDIOM_SEEDS, IDIOM_SEEDS + BATCH), CI_SCHEDULES, halide_oracle)


def _idioms_in(desc):
    """Which fast-path patterns `desc` holds (matched on the description)."""
    from pipelang.testing.desc import Bin, BinOp, Cast, Clamp, I32, stage_exprs, walk
    found = set()
    for s in desc.stages:
        for e in stage_exprs(s) if hasattr(s, "value") else ():
            for n in walk(e):
                if isinstance(n, Cast) and n.ty.bits in (8, 16) and not n.ty.is_float:
                    v = n.a
                    if isinstance(v, Bin) and v.op in (BinOp.DIV, BinOp.SHR) and v.a.ty.bits > n.ty.bits:
                        found.add("avg")
                    if (isinstance(v, (Clamp, Bin)) and v.ty.is_float):
                        found.add("fclamp")
                if isinstance(n, Bin) and n.op is BinOp.ADD and n.ty == I32:
                    muls = [m for m in (n.a, n.b) if isinstance(m, Bin) and m.op is BinOp.MUL
                            and isinstance(m.a, Cast) and m.a.a.ty.bits <= 16]
                    if len(muls) == 2:
                        found.add("madd")
                if (isinstance(n, Bin) and n.op in (BinOp.MIN, BinOp.MAX) and isinstance(n.a, Bin)
                        and n.a.op is BinOp.DIV and isinstance(n.b, Bin) and n.b.op is BinOp.DIV):
                    found.add("quot")
    return found


def test_idiom_seeds_draw_the_fast_path_patterns():
    # Earlier seeds are unchanged (the idioms draw only from IDIOM_SEEDS on);
    # later ones hold each pattern with real probability.
    assert random_pipeline(7) == random_pipeline(7, idioms=False)
    counts = {}
    for seed in range(IDIOM_SEEDS, IDIOM_SEEDS + 60):
        for kind in _idioms_in(random_pipeline(seed)):
            counts[kind] = counts.get(kind, 0) + 1
    assert all(counts.get(k, 0) >= 3 for k in ("avg", "madd", "fclamp", "quot")), counts


def _prefetching(first: int, n: int) -> list:
    """(seed, program, schedule) of the first `n` random schedules from program
    seed `first` on that hold a prefetch."""
    from pipelang.testing.random_schedule import Prefetch
    found, seed = [], first
    while len(found) < n:
        desc = random_pipeline(seed)
        for k in range(1, 5):
            sched = random_schedule(desc, seed * 1000 + k)
            if any(isinstance(d, Prefetch) for d in sched.directives):
                found.append((seed, desc, sched))
        seed += 1
    return found[:n]


def test_random_pipelines_with_prefetch(hl_module):
    """Schedules of programs from PREFETCH_SEEDS on add a prefetch to one in three."""
    from pipelang.testing.random_schedule import PREFETCH_SEEDS
    failures = [(seed, f.kind, f.detail[:300]) for seed, desc, sched in _prefetching(PREFETCH_SEEDS, 6)
                for f in [differential.run_one(hl_module, desc, sched)] if f is not None]
    assert not failures


def test_prefetch_seeds_leave_earlier_schedules_alone():
    from pipelang.testing.random_schedule import PREFETCH_SEEDS
    desc = random_pipeline(IDIOM_SEEDS + 7)
    for k in range(1, 6):
        seed = (IDIOM_SEEDS + 7) * 1000 + k
        assert random_schedule(desc, seed) == random_schedule(desc, seed, prefetch=False)
        with_prefetch = random_schedule(desc, seed, prefetch=True).directives
        assert with_prefetch[:len(random_schedule(desc, seed).directives)] == random_schedule(desc, seed).directives
    assert PREFETCH_SEEDS > IDIOM_SEEDS


@pytest.mark.slow
@pytest.mark.parametrize("first", range(10_000, 12_000, 100))
def test_random_pipelines_long(hl_module, halide_oracle, first):
    _check(hl_module, range(first, first + 100), 5, halide_oracle)


def test_generation_is_reproducible():
    for seed in range(20):
        a, b = random_pipeline(seed), random_pipeline(seed)
        assert a == b
        assert random_schedule(a, seed) == random_schedule(b, seed)
        np.testing.assert_array_equal(evaluate(a), evaluate(b))


def test_schedules_print_as_source():
    desc = random_pipeline(3)
    for k in range(5):
        for line in schedule_source(random_schedule(desc, k)):
            compile(line, "<schedule>", "exec")


class _MinIsMax:
    """A deliberately broken compiler: real Halide with hl.min computing max."""

    def __init__(self, hl):
        self._hl = hl
        self.__name__ = "broken_min"

    def __getattr__(self, name):
        return self._hl.max if name == "min" else getattr(self._hl, name)


def test_minimizer_shrinks_an_injected_bug(tmp_path):
    hl = pytest.importorskip("halide")
    broken = _MinIsMax(hl)
    for seed in range(200):
        desc = random_pipeline(seed)
        if "hl.min(" in "\n".join(differential.pipeline_source(desc)):
            f = differential.run_one(broken, desc, random_schedule(desc, seed))
            if f is not None:
                break
    else:
        pytest.fail("no program exposed the injected bug")
    f.seed = seed
    small = differential.minimize(broken, f, oracle=hl)
    src = "\n".join(differential.pipeline_source(small.desc))
    assert src.count("hl.min(") >= 1 and len(small.desc.stages) <= len(f.desc.stages)
    assert differential._size(small.desc, small.schedule) < differential._size(f.desc, f.schedule)
    path = differential.write_regression(small, str(tmp_path), "broken_min")
    ns = {}
    exec(compile(open(path).read(), path, "exec"), ns)
    ns["test_regression"](hl)  # the regression passes on a correct compiler
    with pytest.raises(AssertionError):
        ns["test_regression"](broken)  # and fails on the broken one


def test_reference_abs_of_unsigned_is_the_value():
    # Halide's abs of an unsigned value is that value, uint64 above 2**63 included
    # (the reference used to go through int64 and negate those; autoscheduler seed 1064).
    from pipelang.testing import reference
    from pipelang.testing.desc import Ty, TypeCode
    u64 = Ty(TypeCode.UINT, 64)
    a = np.array([1, 2**63 + 5, 2**64 - 1], dtype=np.uint64)
    assert np.array_equal(reference._unary(reference.UnOp.ABS, a, u64, u64), a)
    i8, u8 = Ty(TypeCode.INT, 8), Ty(TypeCode.UINT, 8)
    got = reference._unary(reference.UnOp.ABS, np.array([-128, -3, 5], np.int8), i8, u8)
    assert got.tolist() == [128, 3, 5]


def test_reference_divides_64_bit_scalars_exactly():
    # Fuzz seed 21175: 2 / (2**64 - 12) in uint64 on 0-d operands crashed the
    # reference (its ufuncs gave Python ints, which np.where made int64).
    from pipelang.testing.desc import I64, U64, BinOp
    from pipelang.testing.reference import _binary
    a, b = np.asarray(np.uint64(2)), np.asarray(np.uint64(2**64 - 12))
    assert int(_binary(BinOp.DIV, a, b, U64, U64)) == 0
    assert int(_binary(BinOp.MOD, a, b, U64, U64)) == 2
    assert int(_binary(BinOp.MOD, b, a, U64, U64)) == 0
    # Euclidean on int64, as Halide: -7 = -2 * 4 + 1.
    n, d = np.asarray(np.int64(-7)), np.asarray(np.int64(-2))
    assert int(_binary(BinOp.DIV, n, d, I64, I64)) == 4
    assert int(_binary(BinOp.MOD, n, d, I64, I64)) == 1
    big = np.asarray(np.int64(-2**63))
    assert int(_binary(BinOp.DIV, big, np.asarray(np.int64(3)), I64, I64)) == -(2**63) // 3


def test_the_long_sweep_stays_behind_the_slow_marker():
    # A helper defined between the decorators once took the marker, and CI
    # ran all 40 batches of the long sweep.
    assert "slow" in {m.name for m in test_random_pipelines_long.pytestmark}
