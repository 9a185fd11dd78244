"""A strip leader that reads a producer transposed tiles x within its strips
(its members then computed per strip, never per row); the output is exact."""
import warnings

import numpy as np

import pipelang as hl
from autoscheduler import search
from autoscheduler.dag import DAG
from autoscheduler.plan import apply_source, render, reset_schedules
from autoscheduler.space import Choice, build_plan, transposed_tiles

N = 256


def _transpose():
    x, y = hl.Var("x"), hl.Var("y")
    a = np.random.default_rng(5).uniform(0, 1, size=(N, N)).astype(np.float32)
    inp = hl.Buffer(a, "tt_in")
    sq, out = hl.Func("tt_sq"), hl.Func("tt_out")
    sq[x, y] = inp[x, y] * inp[x, y] + hl.f32(1)
    out[x, y] = sq[y, x] * hl.f32(2)
    out.set_estimates([hl.Range(0, N), hl.Range(0, N)])
    p = hl.Pipeline(out)
    reset_schedules(p)
    return p, DAG.build(p, hl.get_host_target(), 2), np.ascontiguousarray(((a * a + 1) * 2).T)


def _node(dag, prefix):
    (n,) = [n for n in dag.nodes if n.name.split("$")[0] == prefix]
    return n


def test_transposed_strips_tile_x_and_compute_members_per_strip():
    p, dag, ref = _transpose()
    out, sq = _node(dag, "tt_out"), _node(dag, "tt_sq")
    assert transposed_tiles(dag, out) and not transposed_tiles(dag, sq)
    state = {out.name: Choice("root", ("strips", 32))}
    assert not search.member_ok(dag, state, sq, "row")
    assert search.member_ok(dag, state, sq, "tile")
    state[sq.name] = Choice("tile")
    plan = build_plan(dag, state)
    splits = [d for d in plan.funcs[out.name].stage(0) if d[0] == "split"]
    assert [d[1] for d in splits[:2]] == ["y", "x"], splits
    src = render(plan, "transpose")
    reset_schedules(p)
    apply_source(src, p)
    got = np.empty_like(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p.realize(hl.Buffer(got))
    np.testing.assert_allclose(got, ref, rtol=1e-6)
