"""rfactor as a search choice: reductions whose pure loops give no parallelism
(a sum over a large RDom into a scalar or a short row) are split with rfactor,
parallel over the outer RVar and vectorized over the inner one, and still
compute what numpy computes."""
import warnings

import numpy as np
import pytest

import pipelang as hl
from autoscheduler.dag import DAG
from autoscheduler.search import root_options
from autoscheduler.space import rfactor_stage

PARAMS = {"parallelism": 2, "time_budget_s": 2.0}


def _schedule(out, estimates):
    if estimates:
        out.set_estimates([hl.Range(0, e) for e in estimates])
    p = hl.Pipeline(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = p.apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams("Adams2019", PARAMS))
    return p, r


def test_scalar_sum_over_large_rdom_uses_rfactor():
    a = np.random.default_rng(1).random((512, 768), dtype=np.float32)
    r = hl.RDom([(0, 768), (0, 512)], "r")
    total = hl.Func("total")
    total[()] = hl.f32(0)
    total[()] += hl.Buffer(a)[r.x, r.y]
    p, res = _schedule(total, [])
    assert ".rfactor([" in res.schedule_source, res.schedule_source
    assert ".parallel(u)" in res.schedule_source
    got = float(np.asarray(p.realize([])))
    assert got == pytest.approx(float(a.astype(np.float64).sum()), rel=1e-4)


def test_one_dimensional_sum_and_max_use_rfactor():
    a = np.random.default_rng(2).random(300_001, dtype=np.float32)
    inp = hl.Buffer(a)
    r = hl.RDom([(0, a.size)], "r")
    s, m = hl.Func("s"), hl.Func("m")
    s[()] = hl.f32(0)
    s[()] += inp[r]
    m[()] = hl.f32(-1)
    m[()] = hl.max(m[()], inp[r] * 2.0)
    out = hl.Func("out")
    out[()] = s[()] + m[()]
    p, res = _schedule(out, [])
    assert res.schedule_source.count(".rfactor([") == 2, res.schedule_source
    got = float(np.asarray(p.realize([])))
    assert got == pytest.approx(float(a.astype(np.float64).sum() + 2 * a.max()), rel=1e-4)


def test_short_row_of_column_sums_uses_rfactor():
    a = np.random.default_rng(3).random((40960, 8), dtype=np.float32)
    x = hl.Var("x")
    r = hl.RDom([(0, 40960)], "r")
    col = hl.Func("col")
    col[x] = hl.f32(0)
    col[x] += hl.Buffer(a)[x, r] * hl.f32(0.5)
    p, res = _schedule(col, [8])
    assert ".rfactor([" in res.schedule_source, res.schedule_source
    got = np.asarray(p.realize([8]))
    np.testing.assert_allclose(got, (a.astype(np.float64) * 0.5).sum(axis=0), rtol=1e-4)


def test_rfactor_not_offered_where_it_does_not_apply():
    a = np.random.default_rng(4).random((512, 512), dtype=np.float32)
    inp = hl.Buffer(a)
    x, y = hl.Var("x"), hl.Var("y")
    r = hl.RDom([(0, 512), (0, 512)], "r")
    decay = hl.Func("decay")                    # not associative: f = f * 0.5 + e
    decay[()] = hl.f32(0)
    decay[()] = decay[()] * 0.5 + inp[r.x, r.y]
    rows = hl.Func("rows")                      # parallel over y already
    rows[x, y] = hl.f32(0)
    rows[x, y] += inp[r.x, y]
    out = hl.Func("out")
    out[x, y] = rows[x, y] + decay[()]
    out.set_estimates([hl.Range(0, 512), hl.Range(0, 512)])
    dag = DAG.build(hl.Pipeline(out), None, 2)
    for name in ("decay", "rows"):
        node = dag.node(name)
        assert rfactor_stage(dag, node) is None
        assert all(c.tiling != ("rfactor",) for c in root_options(dag, node))


def test_a_rejected_rfactor_candidate_leaves_the_definition_as_it_was():
    """Candidates are applied to the user's pipeline one after another (each
    checked, the rejected ones reset): rfactor replaces the update it splits,
    so the reset restores it, and the next candidate schedules the original."""
    from autoscheduler.plan import apply_source, render, reset_schedules
    from autoscheduler.space import Choice, build_plan
    a = np.random.default_rng(4).random((512, 768), dtype=np.float32)
    r = hl.RDom([(0, 768), (0, 512)], "r")
    total = hl.Func("total")
    total[()] = hl.f32(0)
    total[()] += hl.Buffer(a)[r.x, r.y]
    p = hl.Pipeline(total)
    reset_schedules(p)
    original = list(total.function.updates)
    dag = DAG.build(p, hl.get_host_target(), 2)
    name = dag.nodes[-1].name
    apply_source(render(build_plan(dag, {name: Choice("root", ("rfactor",))}), "t"), p)
    assert total.function.updates[0] is not original[0]          # rfactor replaced it
    reset_schedules(p)
    assert all(u is o for u, o in zip(total.function.updates, original))
    # A plain schedule splitting the original RVars now compiles and is right.
    apply_source(render(build_plan(dag, {name: Choice("root", ("flat",))}), "t"), p)
    got = float(np.asarray(p.realize([])))
    assert got == pytest.approx(float(a.astype(np.float64).sum()), rel=1e-4)
