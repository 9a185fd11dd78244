"""The conformance script on a couple of Halide's own programs.

Needs a Halide source checkout (PIPELANG_HALIDE_CHECKOUT=/path/to/Halide) and
real Halide installed; skipped otherwise. The full table:
`python -m pipelang.testing.conformance $PIPELANG_HALIDE_CHECKOUT`.
"""
import os
from pathlib import Path

import pytest

from pipelang.testing import conformance

CHECKOUT = os.environ.get("PIPELANG_HALIDE_CHECKOUT")


def test_normalize_masks_rates():
    assert conformance.normalize("Compile JIT (from scratch): 595 times/sec\n") == "Compile JIT (from scratch): <rate>\n"


def test_normalize_masks_only_timings_pointers_and_cpu_features():
    text = "took 1.25 ms at 0x7ffd1234abcd on x86-64-linux-avx-avx2-fma; value 1.25\nx86-64-linux\n"
    assert conformance.normalize(text) == ("took <time> at 0x<ptr> on x86-64-linux-<features>; value 1.25\n"
                                           "x86-64-linux\n")


def test_missing_checkout_is_reported_not_run(tmp_path):
    items = conformance.find_items([tmp_path], {"lesson_01", "type"})
    assert [(i.name, i.path) for i in items] == [("lesson_01", None), ("correctness/type", None)]
    assert conformance.compare(items[0]).status == "missing"


@pytest.mark.skipif(not CHECKOUT or not (Path(CHECKOUT) / "python_bindings").is_dir(),
                    reason="set PIPELANG_HALIDE_CHECKOUT to a Halide source checkout")
@pytest.mark.parametrize("name", ["lesson_01", "type"])
def test_halide_program_prints_the_same(name):
    pytest.importorskip("halide")
    item, = conformance.find_items([Path(CHECKOUT)], {name})
    outcome = conformance.compare(item, timeout=300)
    assert outcome.status == "identical", f"{item.name}: {outcome.status}\n{outcome.detail}"
