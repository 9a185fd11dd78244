"""Autotuning: the plan edits it explores (each one must stay a correct schedule),
the loop-order bookkeeping they rely on, the output check that drops a wrong
candidate, and a short tune end to end against a numpy reference."""
import warnings

import numpy as np
import pytest

import pipelang as hl
import autoscheduler.autotune as at
from autoscheduler.dag import DAG
from autoscheduler.heuristic import heuristic_state
from autoscheduler.plan import apply_source, render, reset_schedules
from autoscheduler.space import Invalid

W, H = 96, 40


def _rgb():
    """A planar RGB pipeline: luma (shared by the channels), a 3-tap blur of it
    per channel, and the output mixing both: channels unroll, tiles and tails
    all have something to do."""
    inp = hl.ImageParam(hl.Float(32), 3, "rgb_in")
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    luma, blur, out = hl.Func("luma"), hl.Func("blur3"), hl.Func("mix")
    luma[x, y] = 0.25 * inp[x, y, 0] + 0.5 * inp[x, y, 1] + 0.25 * inp[x, y, 2]
    blur[x, y, c] = (inp[x, y, c] + inp[x + 1, y, c] + inp[x + 2, y, c]) / 3
    out[x, y, c] = blur[x, y, c] * luma[x + 1, y] + hl.f32(1)
    arr = np.random.default_rng(1).random((3, H, W + 2)).astype(np.float32)
    inp.set_estimates([hl.Range(0, W + 2), hl.Range(0, H), hl.Range(0, 3)])
    out.set_estimates([hl.Range(0, W), hl.Range(0, H), hl.Range(0, 3)])
    return inp, out, arr


def _ref(a):
    luma = 0.25 * a[0] + 0.5 * a[1] + 0.25 * a[2]
    blur = (a[:, :, 0:W] + a[:, :, 1:W + 1] + a[:, :, 2:W + 2]) / 3
    return blur * luma[None, :, 1:W + 1] + 1


def _dag(out):
    p = hl.Pipeline(out)
    reset_schedules(p)
    return p, DAG.build(p, hl.get_host_target(), 2)


def test_loop_order_follows_splits_fuses_and_reorders():
    ds = [("split", "y", "y", "yi", 8, "GuardWithIf"), ("reorder", ["x", "c", "yi", "y"]),
          ("fuse", "y", "c", "yc"), ("split", "x", "x", "xv", 16, "ShiftInwards")]
    # x y c -> split y: x yi y c -> reorder: x c yi y -> fuse y, c (yc in y's place,
    # c gone): x yi yc -> split x: xv x yi yc.
    assert at.loop_order(ds, ["x", "y", "c"]) == ["xv", "x", "yi", "yc"]
    assert at.loop_order([("split", "q", "q", "qi", 2, "RoundUp")], ["x"]) is None


def test_every_kind_of_edit_keeps_the_output_right():
    inp, out, arr = _rgb()
    inp.set(hl.Buffer(arr))
    p, dag = _dag(out)
    state = heuristic_state(dag)
    edits = at.plan_edits(at.plan_for(dag, state), dag)
    kinds = {}
    for e in edits:                                   # the first edit of each kind
        key = e[0] if e[0] != "factor" else ("factor", e[4] > 16)
        kinds.setdefault(key, e)
    assert {"unroll_dim", "tail", "unroll"} <= set(kinds)
    for e in kinds.values():
        plan = at.plan_for(dag, at.Tuned(state, (e,)))
        src = render(plan, "mix")
        apply_source(src, p)
        got = np.asarray(p.realize([W, H, 3]))
        np.testing.assert_allclose(got, _ref(arr), rtol=1e-5, err_msg=f"{e}\n{src}")
    # The channel unroll puts c just outside the vector, split by its extent.
    plan = at.plan_for(dag, at.Tuned(state, (kinds["unroll_dim"],)))
    fname = kinds["unroll_dim"][1]
    order = at.loop_order(plan.funcs[fname].stages[0], dag.node(fname).args)
    assert order[1] == "cu" and ("unroll", "cu") in plan.funcs[fname].stages[0]


def test_an_edit_that_no_longer_fits_is_invalid():
    inp, out, arr = _rgb()
    _, dag = _dag(out)
    state = heuristic_state(dag)
    with pytest.raises(Invalid, match="not a split"):
        at.plan_for(dag, at.Tuned(state, (("factor", out.name(), 0, 99, 4),)))
    with pytest.raises(Invalid, match="no stage"):
        at.plan_for(dag, at.Tuned(state, (("unroll", "nonexistent", 0, "x", 2),)))


def test_outputs_compare_with_float_rounding_allowed():
    a = np.array([[1, 2], [3, 4]], np.uint8)
    assert at._same([a], [a + np.uint8(1)]) is None            # off by one: float rounding
    assert "differs by up to 2" in at._same([a], [a + np.uint8(2)])
    f = np.linspace(0, 1, 10, dtype=np.float32)
    assert at._same([f], [f * (1 + 1e-5)]) is None
    assert "differs" in at._same([f], [f + 0.1])


def _tune(budget, monkeypatch=None, **extra):
    inp, out, arr = _rgb()
    p = hl.Pipeline(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = p.apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams(
            "Adams2019", {"parallelism": 2, "time_budget_s": 0.5, "autotune_budget_s": budget,
                          "seed": 2, **extra}))
    return inp, p, arr, r


def test_plan_mutations_go_in_priority_order_without_repeats():
    """Driven step by step (no time budget): each plan mutation of the best is
    an edit not yet tried on it, in `plan_edits`' order; each is checked and
    timed, and the output stays right."""
    from autoscheduler.params import parse_params
    import random
    inp, out, arr = _rgb()
    p, dag = _dag(out)
    undo = at._bind_inputs(dag)
    try:
        tuner = at._Tuner(p, dag, parse_params({"parallelism": 2}), {})
        state = at.Tuned(heuristic_state(dag))
        assert tuner.try_state(state, "baseline")
        edits = at.plan_edits(at.plan_for(dag, state), dag)
        rng = random.Random(0)
        proposed = [tuner.plan_mutation(state, rng) for _ in range(2)]
        assert [c.edits for c in proposed] == [(e,) for e in edits[:2]]
        for c in proposed:
            tuner.try_state(c, "plan-mutation")
    finally:
        undo()
        reset_schedules(p)
    assert tuner.by_kind["plan-mutation"][0] + tuner.rejected["failed"] == 2
    best = tuner.ranked()[0][1]
    inp.set(hl.Buffer(arr))
    apply_source(render(at.plan_for(dag, best), "mix"), p)
    np.testing.assert_allclose(np.asarray(p.realize([W, H, 3])), _ref(arr), rtol=1e-5)


def test_short_tune_end_to_end_is_correct_and_reproducible():
    inp, p, arr, r = _tune(4)
    assert r.report["autotune_measured"] >= 1
    assert set(r.report["autotune_rejected"]) == {"slow", "failed", "mismatch"}
    assert inp.get() is None                          # the random inputs were unbound again
    inp.set(hl.Buffer(arr))
    np.testing.assert_allclose(np.asarray(p.realize([W, H, 3])), _ref(arr), rtol=1e-5)
    # The schedule printed reproduces the tuned one (edits included) on a fresh pipeline.
    inp2, out2, _ = _rgb()
    p2 = hl.Pipeline(out2)
    apply_source(r.schedule_source, p2)
    inp2.set(hl.Buffer(arr))
    np.testing.assert_allclose(np.asarray(p2.realize([W, H, 3])), _ref(arr), rtol=1e-5)


def test_a_candidate_with_wrong_output_is_dropped(monkeypatch):
    """The tuner checks each candidate's output against the first one's: one
    that computes something else (here: its output corrupted after it runs)
    is rejected, never ranked."""
    from autoscheduler.params import parse_params
    real = at._Run.__call__
    made = []

    def corrupt_the_second(self):
        real(self)
        if self not in made:
            made.append(self)
        if self is made[-1] and len(made) == 2:
            np.asarray(self.outputs[0])[0, 0, 0] += 5.0
    monkeypatch.setattr(at._Run, "__call__", corrupt_the_second)
    inp, out, arr = _rgb()
    p, dag = _dag(out)
    undo = at._bind_inputs(dag)
    try:
        tuner = at._Tuner(p, dag, parse_params({"parallelism": 2}), {})
        state = heuristic_state(dag)
        edit = at.plan_edits(at.plan_for(dag, state), dag)[0]
        assert tuner.try_state(state, "first")
        assert tuner.try_state(at.Tuned(state, (edit,)), "corrupted")
        assert not tuner.try_state(state, "again")            # a duplicate: not timed twice
    finally:
        undo()
        reset_schedules(p)
    assert tuner.rejected["mismatch"] == 1
    ranked = tuner.ranked()
    assert len(ranked) == 1 and ranked[0][1].edits == ()
