"""Pyramid levels in the search space: a coarser level is computed per tile of
a finer Func only when it computes a few vectors of x per tile (else at root),
and no split rounds a region up where a shifted last vector fits (rounded-up
regions compound through the levels: each coarser level's extra points double
the region of the finer level computed from it)."""
import warnings

import numpy as np

import pipelang as hl
from autoscheduler import search
from autoscheduler.dag import DAG
from autoscheduler.plan import apply_source, render, reset_schedules
from autoscheduler.space import Choice, build_plan

W = H = 512


def _pyramid():
    """out = input + two levels down and back up (nearest-neighbour): the
    levels at 1/2 and 1/4 of the output's resolution."""
    x, y = hl.Var("x"), hl.Var("y")
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, size=(H, W)).astype(np.float32)
    inp = hl.Buffer(a, "pyr_in")
    down1, down2, out = hl.Func("pyr_down1"), hl.Func("pyr_down2"), hl.Func("pyr_out")
    down1[x, y] = (inp[2 * x, 2 * y] + inp[2 * x + 1, 2 * y + 1]) * hl.f32(0.5)
    down2[x, y] = (down1[2 * x, 2 * y] + down1[2 * x + 1, 2 * y + 1]) * hl.f32(0.5)
    out[x, y] = inp[x, y] + down1[x // 2, y // 2] + down2[x // 4, y // 4]
    out.set_estimates([hl.Range(0, W), hl.Range(0, H)])
    d1 = (a[0::2, 0::2] + a[1::2, 1::2]) * np.float32(0.5)
    d2 = (d1[0::2, 0::2] + d1[1::2, 1::2]) * np.float32(0.5)
    ref = a + np.repeat(np.repeat(d1, 2, 0), 2, 1) + np.repeat(np.repeat(d2, 4, 0), 4, 1)
    p = hl.Pipeline(out)
    reset_schedules(p)
    return p, DAG.build(p, hl.get_host_target(), 2), ref


def _node(dag, prefix):
    (n,) = [n for n in dag.nodes if n.name.split("$")[0] == prefix]
    return n


def test_coarse_level_joins_a_tile_only_when_a_few_vectors_wide():
    p, dag, _ = _pyramid()
    out, d1, d2 = (_node(dag, k) for k in ("pyr_out", "pyr_down1", "pyr_down2"))
    vec = dag.vector_width(d1)
    # Tiles 4 vectors wide: down1 gets 2 vectors per tile, down2 one: both root.
    small = {out.name: Choice("root", ("tiles", 4 * vec, 16))}
    assert not search.member_ok(dag, {**small, d2.name: Choice("inline")}, d1, "tile")
    assert not search.member_ok(dag, {**small, d1.name: Choice("inline")}, d2, "tile")
    # Tiles 16 vectors wide: 8 and 4 vectors per tile: both may join.
    wide = {out.name: Choice("root", ("tiles", 16 * vec, 16))}
    assert search.member_ok(dag, {**wide, d2.name: Choice("inline")}, d1, "tile")
    assert search.member_ok(dag, {**wide, d1.name: Choice("tile")}, d2, "tile")


def test_no_rounded_up_tails_on_pure_levels_and_output_exact():
    p, dag, ref = _pyramid()
    out, d1, d2 = (_node(dag, k) for k in ("pyr_out", "pyr_down1", "pyr_down2"))
    vec = dag.vector_width(d1)
    tiled = {out.name: Choice("root", ("tiles", 16 * vec, 16)), d1.name: Choice("tile"),
             d2.name: Choice("tile")}
    src = render(build_plan(dag, tiled), "pyramid")
    assert "RoundUp" not in src and "ShiftInwards" in src, src
    # (Not realized: pipelang's bounds of a member computed at a tile loop are
    # wider than Halide's, and this one reads before the input; the
    # autoscheduler's region check rejects such a candidate.)
    roots = {out.name: Choice("root", ("strips", 16)), d1.name: Choice("root", ("strips", 8)),
             d2.name: Choice("root", ("flat",))}
    src = render(build_plan(dag, roots), "pyramid")
    assert "RoundUp" not in src and "ShiftInwards" in src, src
    reset_schedules(p)
    apply_source(src, p)
    got = np.empty_like(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p.realize(hl.Buffer(got))
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


def test_narrow_member_is_guarded_not_shifted():
    """A member computing fewer than a few vectors per iteration of its leader's
    loop is not shifted (the shifted vector would start before its region)."""
    p, dag, ref = _pyramid()
    out, d1, d2 = (_node(dag, k) for k in ("pyr_out", "pyr_down1", "pyr_down2"))
    state = {out.name: Choice("root", ("strips", 16)), d1.name: Choice("root", ("flat",)),
             d2.name: Choice("root", ("flat",))}
    src = render(build_plan(dag, state), "pyramid")
    assert "RoundUp" not in src
    # A row member of a strip leader over 1/4 of the width: 8 vectors, shifted.
    state[d2.name] = Choice("row")
    plan = build_plan(dag, state)
    tails = [d[5] for d in plan.funcs[d2.name].stage(0) if d[0] == "split"]
    assert tails == ["ShiftInwards"], plan.funcs[d2.name].stages
