"""Each Halide autoscheduler name accepts that scheduler's own parameter names
(tutorial lesson 21 passes Mullapudi2016's parallelism, last_level_cache_size
and balance), mapped to ours where they mean something; unknown keys stay errors."""
import numpy as np
import pytest

import pipelang as hl
from autoscheduler.cost_model import CostModel
from autoscheduler.dag import DAG
from autoscheduler.heuristic import heuristic_state
from autoscheduler.params import HALIDE_KEYS, AutoschedulerError, parse_params


def _harris_like(n=256):
    a = np.random.default_rng(0).random((n + 4, n + 4), dtype=np.float32)
    inp = hl.Buffer(a)
    x, y = hl.Var("x"), hl.Var("y")
    gx, gy, out = hl.Func("gx"), hl.Func("gy"), hl.Func("out")
    gx[x, y] = inp[x + 2, y + 1] - inp[x, y + 1]
    gy[x, y] = inp[x + 1, y + 2] - inp[x + 1, y]
    out[x, y] = gx[x, y] * gx[x, y] + gy[x, y] * gy[x, y] - gx[x, y + 1] * gy[x + 1, y]
    gxr = a[1:n + 1, 2:n + 2] - a[1:n + 1, 0:n]
    gxd = a[2:n + 2, 2:n + 2] - a[2:n + 2, 0:n]
    gyr = a[2:n + 2, 1:n + 1] - a[0:n, 1:n + 1]
    gyrr = a[2:n + 2, 2:n + 2] - a[0:n, 2:n + 2]
    return out, gxr * gxr + gyr * gyr - gxd * gyrr


def test_lesson_21_mullapudi_parameters_schedule_and_compute_the_same():
    out, ref = _harris_like()
    out.set_estimates([hl.Range(0, 256), hl.Range(0, 256)])
    p = hl.Pipeline(out)
    r = p.apply_autoscheduler(hl.get_host_target(), hl.AutoschedulerParams(
        "Mullapudi2016", {"parallelism": "32", "last_level_cache_size": "16777216",
                          "balance": "40"}))
    assert "apply_schedule" in r.schedule_source
    got = np.asarray(p.realize([256, 256]))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_halide_keys_map_to_ours():
    p = parse_params(hl.AutoschedulerParams("Mullapudi2016", {
        "parallelism": "32", "last_level_cache_size": "16777216", "balance": "20"}))
    assert (p.parallelism, p.last_level_cache_size, p.balance) == (32, 16777216, 20.0)
    p = parse_params(hl.AutoschedulerParams("Adams2019", {
        "parallelism": 4, "beam_size": "16", "random_dropout_seed": "7", "weights_path": "analytic",
        "disable_subtiling": "1", "memory_limit": "1000000", "random_dropout": "50"}))
    assert (p.parallelism, p.beam_size, p.seed, p.weights, p.disable_subtiling,
            p.memory_limit) == (4, 16, 7, "analytic", 1, 1000000)
    assert p.ignored == ["random_dropout"]
    p = parse_params(hl.AutoschedulerParams("Anderson2021", {"shared_memory_limit_kb": "48",
                                                             "num_passes": "3"}))
    assert sorted(p.ignored) == ["num_passes", "shared_memory_limit_kb"]
    assert parse_params(hl.AutoschedulerParams("Li2018", {"parallelism": "8"})).parallelism == 8


@pytest.mark.parametrize("name", ["Adams2019", "Anderson2021", "Mullapudi2016", "Li2018"])
def test_every_halide_key_is_accepted_and_unknown_keys_are_errors(name):
    for key in HALIDE_KEYS[name]:
        value = "analytic" if key == "weights_path" else "1"
        parse_params(hl.AutoschedulerParams(name, {key: value}))
    with pytest.raises(AutoschedulerError, match=rf"Unknown autoscheduler parameter 'cache_size' "
                                                 rf"for {name}.*{name}'s own"):
        parse_params(hl.AutoschedulerParams(name, {"cache_size": "1"}))


def test_other_schedulers_keys_are_not_borrowed():
    with pytest.raises(AutoschedulerError, match="Unknown autoscheduler parameter 'weights_path'"):
        parse_params(hl.AutoschedulerParams("Mullapudi2016", {"weights_path": "w.npz"}))
    with pytest.raises(AutoschedulerError, match="Unknown autoscheduler parameter 'random_dropout'"):
        parse_params(hl.AutoschedulerParams("Li2018", {"random_dropout": "1"}))


def test_balance_and_cache_size_change_the_cost_model():
    out, _ = _harris_like(512)
    out.set_estimates([hl.Range(0, 512), hl.Range(0, 512)])
    dag = DAG.build(hl.Pipeline(out), None, 2)
    state = heuristic_state(dag)
    base = CostModel(dag, None, parse_params({"name": "Mullapudi2016"})).terms(state)
    heavy = CostModel(dag, None, parse_params({"name": "Mullapudi2016", "balance": 80})).terms(state)
    assert heavy[11] == pytest.approx(2 * base[11])            # the input reads cost twice as much
    tiny = CostModel(dag, None, parse_params({"name": "Mullapudi2016",
                                              "last_level_cache_size": 1024})).terms(state)
    assert tiny[5] + tiny[8] > base[5] + base[8]               # more traffic priced at DRAM speed


def test_disable_subtiling_leaves_only_strips():
    from autoscheduler.search import root_options
    out, _ = _harris_like(512)
    out.set_estimates([hl.Range(0, 512), hl.Range(0, 512)])
    dag = DAG.build(hl.Pipeline(out), None, 2)
    node = dag.node(out.name())
    assert any(c.tiling[0] == "tiles" for c in root_options(dag, node))
    assert all(c.tiling[0] in ("flat", "strips") for c in root_options(dag, node, subtiling=False))
