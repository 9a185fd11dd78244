"""The search's answer unrolls a short colour loop just outside the vector
(`autotune.short_loops_unrolled`), so a conversion the channels share is
computed once per pixel; Funcs with updates keep their loops; the output is
exact at the estimates and at a size the factors don't divide."""
import warnings

import numpy as np

import pipelang as hl
from autoscheduler.autotune import Tuned, loop_order, plan_for, short_loops_unrolled
from autoscheduler.dag import DAG
from autoscheduler.plan import apply_source, reset_schedules
from autoscheduler.space import Choice

W, H = 200, 96


def _yuv(w=W, h=H):
    """out(x, y, c) = in(x, y, c) * luma(x, y), luma from all three channels."""
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    a = np.random.default_rng(3).uniform(0, 1, size=(3, h, w)).astype(np.float32)
    inp = hl.Buffer(a, "sl_in")
    luma, out = hl.Func("sl_luma"), hl.Func("sl_out")
    luma[x, y] = inp[x, y, 0] * hl.f32(0.3) + inp[x, y, 1] * hl.f32(0.6) + inp[x, y, 2] * hl.f32(0.1)
    out[x, y, c] = inp[x, y, c] * luma[x, y] + hl.f32(1)
    ref = a * (a[0] * np.float32(0.3) + a[1] * np.float32(0.6) + a[2] * np.float32(0.1)) + 1
    return out, ref


def test_short_colour_loop_unrolled_outside_the_vector():
    out, ref = _yuv()
    out.set_estimates([hl.Range(0, W), hl.Range(0, H), hl.Range(0, 3)])
    p = hl.Pipeline(out)
    reset_schedules(p)
    dag = DAG.build(p, hl.get_host_target(), 2)
    name = [n.name for n in dag.nodes if n.name.startswith("sl_out")][0]
    state = {n.name: Choice("root", ("strips", 16)) if n.name == name else Choice("inline")
             for n in dag.nodes}
    edits = short_loops_unrolled(plan_for(dag, state), dag)
    assert edits == [("unroll_dim", name, 0, "c", 3)]
    plan = plan_for(dag, Tuned(state, edits))
    ds = plan.funcs[name].stage(0)
    order = loop_order(ds, dag.node(name).args)
    vec = [d[1] for d in ds if d[0] == "vectorize"][-1]
    cu = [d[3] for d in ds if d[0] == "split" and d[1] == "c"][0]
    assert order[:2] == [vec, cu] and ("unroll", cu) in ds, ds   # the channels inside, unrolled


def test_search_answer_unrolls_the_colour_loop_and_stays_exact():
    out, ref = _yuv()
    out.set_estimates([hl.Range(0, W), hl.Range(0, H), hl.Range(0, 3)])
    p = hl.Pipeline(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = p.apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams(
            "pipelang", {"parallelism": 2, "time_budget_s": 2}))
    assert r.report["chosen"] == "beam search", r.report
    assert ".unroll(cu)" in r.schedule_source, r.schedule_source
    got = np.empty_like(ref)
    p.realize(hl.Buffer(got))
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    out3, ref3 = _yuv(W + 13, H + 7)            # a size no split factor divides
    p3 = hl.Pipeline(out3)
    apply_source(r.schedule_source, p3)
    got3 = np.empty_like(ref3)
    p3.realize(hl.Buffer(got3))
    np.testing.assert_allclose(got3, ref3, rtol=1e-6)


def test_funcs_with_updates_keep_their_loops():
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    a = np.random.default_rng(4).uniform(0, 1, size=(3, H, W)).astype(np.float32)
    inp = hl.Buffer(a, "su_in")
    acc = hl.Func("su_acc")
    acc[x, y, c] = inp[x, y, c]
    acc[x, y, c] = acc[x, y, c] * hl.f32(2)
    acc.set_estimates([hl.Range(0, W), hl.Range(0, H), hl.Range(0, 3)])
    p = hl.Pipeline(acc)
    reset_schedules(p)
    dag = DAG.build(p, hl.get_host_target(), 2)
    state = {n.name: Choice("root", ("strips", 16)) for n in dag.nodes}
    assert short_loops_unrolled(plan_for(dag, state), dag) == []


def test_check_rejects_a_schedule_that_writes_before_the_outputs_min():
    """The winner's check covers the outputs too: a ShiftInwards split of a
    dim shorter than its factor writes before the output buffer's min."""
    from autoscheduler.params import parse_params
    from autoscheduler.validate import check
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.Buffer(np.ones((3, 64), np.float32), "so_in")
    f = hl.Func("so_out")
    f[x, y] = inp[x, hl.clamp(y, 0, 2)] * hl.f32(2)
    f.set_estimates([hl.Range(0, 64), hl.Range(0, 3)])
    p = hl.Pipeline(f)
    reset_schedules(p)
    dag = DAG.build(p, hl.get_host_target(), 2)
    good = ("import pipelang as hl\nfrom autoscheduler import funcs_by_name\n"
            "def apply_schedule(pipeline):\n    f = funcs_by_name(pipeline)['so_out']\n"
            "    y, yi = hl.Var('y'), hl.Var('yi')\n"
            "    f.split(y, y, yi, {}, hl.TailStrategy.ShiftInwards)\n")
    params = parse_params({"parallelism": 2})
    assert check(p, dag, good.format(3), params) is None
    problem = check(p, dag, good.format(4), params)
    assert problem is not None and "writes output so_out" in problem and "dimension 1" in problem, \
        problem
