"""Focused random differential tests of the code generator's fast paths
(pipelang/testing/mechanisms.py): narrow averages (pavgb/pavgw), int32 sums
of 16-bit products (pmaddwd), float clamps before integer casts, reuse of
equal subexpressions, min/max of quotients, 32-64-lane lookups, sliding
windows with RoundUp splits and sliding windows with a producer computed
inside the sliding Func, each under a random schedule (8-64 lanes,
GuardWithIf/ShiftInwards tails, unrolling, parallel rows), compared with
numpy bit for bit on inputs with the types' extremes.

Real Halide runs a few of the same programs, which checks numpy's reading of
the semantics. The slow sweep (`pytest -m slow`) runs 200 seeds per kind."""
import pytest

from pipelang.testing.mechanisms import KINDS, run_case

CI_SEEDS = {"pipelang": 8, "halide": 2}


@pytest.mark.parametrize("kind", KINDS)
def test_mechanism(hl_module, kind):
    n = CI_SEEDS[hl_module.__name__]
    failures = [m for seed in range(n) if (m := run_case(hl_module, kind, seed))]
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_mechanism_sweep(kind):
    import pipelang
    failures = [m for seed in range(1000, 1200) if (m := run_case(pipelang, kind, seed))]
    assert not failures, "\n".join(failures)
