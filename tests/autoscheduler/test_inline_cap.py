"""Inlining multiplies what a Func reads: a pyramid level with coarser levels
inlined into it reads taps**levels values a point, a tree that value
numbering can't shrink when each tap clamps its coordinates. The search
prices a state whose computed Funcs read more than INLINED_READS_MAX values
a point through inlined Funcs as infeasible (lens_blur's winner read 1,040
and took 110 s to compile)."""
import warnings

import numpy as np

import pipelang as hl
from autoscheduler import space
from autoscheduler.dag import DAG
from autoscheduler.params import parse_params
from autoscheduler.plan import reset_schedules
from autoscheduler.search import beam_search
from autoscheduler.space import Choice

W = H = 256
LEVELS = 3


def _levels():
    """Three 3x3 box downsamplings of a clamped input, each read through a
    clamp, and an output adding the coarsest level back at full resolution;
    integers, so every schedule gives the same bits as the numpy reference."""
    x, y = hl.Var("x"), hl.Var("y")
    a = np.random.default_rng(5).integers(0, 1000, size=(H, W)).astype(np.int32)
    inp = hl.BoundaryConditions.repeat_edge(hl.Buffer(a, "cap_in"))
    prev, size = inp, W
    for k in range(LEVELS):
        size //= 2
        f = hl.Func(f"cap_down{k}")
        taps = [prev[hl.clamp(2 * x + i, 0, 2 * size - 1), hl.clamp(2 * y + j, 0, 2 * size - 1)]
                for i in (-1, 0, 1) for j in (-1, 0, 1)]
        f[x, y] = sum(taps[1:], taps[0]) / 9
        prev = f
    out = hl.Func("cap_out")
    out[x, y] = inp[x, y] + prev[x // 8, y // 8]
    out.set_estimates([hl.Range(0, W), hl.Range(0, H)])
    p = hl.Pipeline(out)
    reset_schedules(p)
    return p, _reference(a)


def _reference(a):
    prev = a
    for _ in range(LEVELS):
        n = prev.shape[0] // 2
        padded = np.pad(prev, 1, mode="edge")
        prev = sum(padded[1 + j:1 + j + 2 * n:2, 1 + i:1 + i + 2 * n:2]
                   for i in (-1, 0, 1) for j in (-1, 0, 1)) // 9
    return a + np.repeat(np.repeat(prev, 8, 0), 8, 1)


def _node(dag, prefix):
    (n,) = [n for n in dag.nodes if n.name.split("$")[0] == prefix]
    return n


def test_inlined_reads_multiply_through_inlined_levels():
    p, _ = _levels()
    dag = DAG.build(p, hl.get_host_target(), 2)
    root = {n.name: Choice("root", ("flat",)) for n in dag.nodes}
    inline = {n.name: (Choice("inline") if space.can_inline(n) else Choice("root", ("flat",)))
              for n in dag.nodes}
    out = _node(dag, "cap_out")
    assert space.inlined_reads(dag, root, out) == 2
    # The coarsest level with the two finer ones (and the boundary condition)
    # inlined: 9 * 9 * 9 reads of the input a point.
    assert space.inlined_reads(dag, inline, out) == 1 + 9 ** LEVELS
    assert space.too_much_inlined(dag, root) is None
    assert "cap_out" in space.too_much_inlined(dag, inline)


def test_search_keeps_inlined_trees_small_and_output_right():
    p, ref = _levels()
    prm = parse_params(hl.AutoschedulerParams("pipelang", {"time_budget_s": 2}))
    dag = DAG.build(p, hl.get_host_target(), prm.parallelism)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = beam_search(dag, prm, {})
    for state, cost in results:
        if cost < float("inf"):
            assert space.too_much_inlined(dag, state) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p.apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams("pipelang", {"time_budget_s": 2}))
    np.testing.assert_array_equal(np.asarray(p.realize([W, H])), ref)


def test_lens_blur_pyramid_is_not_inlined_into_one_tree():
    # At its full-size estimates the search once inlined three cost-pyramid
    # levels into a fourth: 1,040 reads a point, 110 s to compile.
    from pipelang.bench import suite
    from pipelang.bench.autosched import unscheduled_module
    bench = suite.BENCHMARKS["lens_blur"]
    inputs = bench.inputs("full")
    out = bench.build(unscheduled_module(hl), inputs)
    p = hl.Pipeline(out)
    reset_schedules(p)
    out.set_estimates([hl.Range(0, int(s)) for s in inputs["left"].shape[::-1]])
    prm = parse_params(hl.AutoschedulerParams("pipelang", {}))     # the default budget finds it
    dag = DAG.build(p, hl.get_host_target(), prm.parallelism)
    state = beam_search(dag, prm, {})[0][0]
    most = max(space.inlined_reads(dag, state, n) for n in dag.nodes if state[n.name].place != "inline")
    assert most <= space.INLINED_READS_MAX
