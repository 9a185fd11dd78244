"""The benchmark harness on tiny sizes: every installed backend agrees with numpy.

One test per (benchmark, backend).  Backends that are not installed are skipped;
pipelang counts as installed once ``pipelang/__init__.py`` exists, and from
then on a pipelang failure fails its test (no xfail): the harness runs the very
algorithm and schedule that real Halide passes here.
Speed is never asserted: that is the harness's report, not a test.
"""

import contextlib
import dataclasses
import io
import json

import numpy as np
import pytest

from pipelang.bench import __main__ as cli
from pipelang.bench import peers, runner, suite

USABLE, SKIPPED = runner.available_backends(runner.ALL_BACKENDS)

# The deep pipelines run one per process in the test below (a few seconds each
# to compile at tiny size: 3-8 s of CPU), not in the quick run of the harness.
SLOW = {
    "local_laplacian": "8-level pyramids",
    "stencil_chain": "12 chained stencils",
    "interpolate": "10 pyramid levels",
    "lens_blur": "an 8-level push-pull pyramid",
}
QUICK = [name for name in suite.BENCHMARKS if name not in SLOW]


def _cases():
    for name in QUICK:
        for backend in runner.ALL_BACKENDS:
            if backend in SKIPPED:
                marks = pytest.mark.skip(reason=SKIPPED[backend])
            elif not runner.supports(backend, name):
                continue
            else:
                marks = ()
            yield pytest.param(backend, name, marks=marks, id=f"{name}-{backend}")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The whole harness, once, as a user runs it: every backend on tiny sizes."""
    folder = tmp_path_factory.mktemp("bench")
    out_json, out_png = folder / "bench.json", folder / "bench.png"
    argv = ["--size", "tiny", "--reps", "2", "--no-progress", "--json", str(out_json), "--png", str(out_png)]
    argv += ["--only", ",".join(QUICK)]
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        rc = cli.main(argv)
    report = json.loads(out_json.read_text())
    results = {(r["benchmark"], r["backend"]): r for r in report["results"]}
    return rc, table.getvalue(), report, results, out_png


@pytest.mark.parametrize("backend,name", list(_cases()))
def test_backend_agrees_with_numpy(backend, name, tiny_run):
    _, _, _, results, _ = tiny_run
    r = results[(name, backend)]
    assert r["status"] == "ok", f"{name} on {backend}: {r['message']}\n{r['traceback']}"
    assert 1 <= r["runs"] <= 2 and r["min_ms"] > 0 and r["max_error"] <= r["tolerance"]


def test_command_line_prints_and_writes_every_result(tiny_run):
    rc, table, report, results, png = tiny_run
    assert rc == 0, table
    assert {b["name"] for b in report["benchmarks"]} == set(QUICK)
    assert all(b["limit_ms"] > 0 for b in report["benchmarks"])
    assert report["backends"] == USABLE
    expected = {(n, b) for n in QUICK for b in USABLE if runner.supports(b, n)}
    assert set(results) == expected
    for backend in USABLE:
        assert backend in table
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no chart" in table
    else:
        assert png.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", list(SLOW))
@pytest.mark.parametrize("backend", runner.COMPILERS)
def test_deep_benchmark_agrees_with_numpy(backend, name):
    if backend in SKIPPED:
        pytest.skip(SKIPPED[backend])
    result = runner.run_isolated(backend, name, "tiny", reps=1, budget_s=0.0, timeout_s=1800)
    assert result.status == "ok", f"{name} on {backend}: {result.message}\n{result.traceback}"


def test_every_app_is_a_benchmark():
    from pipelang.bench.apps import APPS

    halide_apps = {
        "blur", "unsharp", "harris", "local_laplacian", "bilateral_grid", "iir_blur", "max_filter", "hist",
        "nl_means", "stencil_chain", "conv_layer", "depthwise_separable_conv", "matmul", "camera_pipe", "interpolate",
        "lens_blur",
    }
    assert halide_apps <= set(APPS)
    assert all(suite.BENCHMARKS[name] is app for name, app in APPS.items())


@pytest.mark.parametrize("name", list(suite.BENCHMARKS))
def test_reference_is_deterministic_and_sized(name):
    bench = suite.BENCHMARKS[name]
    assert set(bench.sizes) == set(suite.SIZE_LEVELS)
    a, b = bench.reference(bench.inputs("tiny")), bench.reference(bench.inputs("tiny"))
    np.testing.assert_array_equal(a, b)
    assert a.size > 0


def test_every_peer_names_a_benchmark():
    for backend, table in peers.PEERS.items():
        assert set(table) <= set(suite.BENCHMARKS), backend


@pytest.mark.skipif("halide" not in USABLE, reason="real Halide is not installed")
def test_a_failing_backend_is_reported_not_raised():
    def broken_schedule(hl, inputs):
        raise RuntimeError("scheduling went wrong")

    bench = dataclasses.replace(suite.BENCHMARKS["box_blur"], build=broken_schedule)
    inputs = bench.inputs("tiny")
    result = runner.run_one("halide", bench, inputs, bench.reference(inputs), reps=1, budget_s=0.0)
    assert result.status == "error"
    assert result.message == "RuntimeError: scheduling went wrong"


def test_only_and_backends_flags(tmp_path, capsys):
    rc = cli.main(
        [
            "--size",
            "tiny",
            "--reps",
            "1",
            "--no-progress",
            "--only",
            "matmul",
            "--backends",
            "numpy",
            "--json",
            str(tmp_path / "r.json"),
            "--png",
            "",
        ]
    )
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert [(r["benchmark"], r["backend"]) for r in report["results"]] == [("matmul", "numpy")]


@pytest.mark.skipif("halide" not in USABLE, reason="real Halide is not installed")
def test_isolated_run_gives_the_same_result():
    result = runner.run_isolated("halide", "max_filter", "tiny", reps=1, budget_s=0.0)
    assert result.status == "ok", result.message
    assert result.backend == "halide" and result.runs == 1
