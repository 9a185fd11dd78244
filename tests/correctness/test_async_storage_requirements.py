"""async_, hoist_storage, ring_buffer (recorded and checked; results and loop
nests as Halide's), add_requirement and unscheduled."""
import numpy as np
import pytest

import pipelang
import pipelang as hl


def _lesson24(hl, variant):
    x, y, c, xo, yo, xi, yi = (hl.Var(n) for n in "x y c xo yo xi yi".split())
    producer, consumer = hl.Func("as_producer"), hl.Func("as_consumer")
    producer[x, y, c] = (x + y) * (c + 1)
    consumer[x, y, c] = producer[x - 1, y - 1, c] + producer[x, y, c] + producer[x + 1, y + 1, c]
    consumer.compute_root()
    if variant == "root":
        producer.compute_root().async_()
    elif variant == "fold":
        producer.async_().compute_at(consumer, c).store_at(consumer, hl.Var.outermost()).fold_storage(c, 2)
    elif variant == "ring":
        producer.async_().compute_at(consumer, c).hoist_storage(consumer, hl.Var.outermost()).ring_buffer(2)
    else:
        consumer.tile(x, y, xo, yo, xi, yi, 16, 16, hl.TailStrategy.Auto)
        producer.async_().compute_at(consumer, xo).hoist_storage(consumer, hl.Var.outermost()).ring_buffer(2)
    return consumer


@pytest.mark.parametrize("variant", ["root", "fold", "ring", "tiled"])
def test_async_variants_values_and_loop_nest(variant, capfd):
    out = np.asarray(_lesson24(hl, variant).realize([20, 18, 3]))
    c, y, x = np.mgrid[0:3, 0:18, 0:20]
    want = ((x - 1 + y - 1) + (x + y) + (x + 1 + y + 1)) * (c + 1)
    np.testing.assert_array_equal(out, want)
    halide = pytest.importorskip("halide")
    capfd.readouterr()
    _lesson24(hl, variant).print_loop_nest()
    ours = capfd.readouterr().err
    _lesson24(halide, variant).print_loop_nest()
    assert ours == capfd.readouterr().err


def test_ring_buffer_needs_hoist_storage():
    x = hl.Var("x")
    f, g = hl.Func("rb_f"), hl.Func("rb_g")
    f[x] = x
    g[x] = f[x] + 1
    f.compute_at(g, x).ring_buffer(2)
    with pytest.raises(hl.HalideError, match="ring_buffer\\(\\), but has matching store_at and "
                                             "hoist_storage levels"):
        g.realize([4])
    with pytest.raises(hl.HalideError, match="positive"):
        f.ring_buffer(0)


def test_add_requirement():
    x = hl.Var("x")
    p = hl.Param(hl.Int(32), "rq_p", 3)
    img = hl.ImageParam(hl.Int(32), 1, "rq_img")
    f = hl.Func("rq_f")
    f[x] = x * p + img[x]
    img.set(hl.Buffer(np.arange(8, dtype=np.int32)))
    pl = hl.Pipeline(f)
    pl.add_requirement(p > 5, "p is", p, "but must be >", 5)
    pl.add_requirement(img.width() >= 8)
    with pytest.raises(hl.HalideError, match=r"Requirement Failed: \(false\) p is 3 but must be > 5"):
        pl.realize([4])
    p.set(7)
    np.testing.assert_array_equal(np.asarray(pl.realize([4])), np.arange(4) * 8)
    img.set(hl.Buffer(np.arange(6, dtype=np.int32)))
    with pytest.raises(hl.HalideError, match="Requirement Failed"):
        pl.realize([4])
    with pytest.raises(hl.HalideError, match="boolean"):
        pl.add_requirement(p + 1)


def test_unscheduled_rules_match_halide():
    x = hl.Var("x")
    f = hl.Func("un_f")
    f[x] = x
    f[x] += 1
    f.update().unscheduled()
    with pytest.raises(hl.HalideError, match="unscheduled called on an update definition with a schedule"):
        f.update().unscheduled()
    g = hl.Func("un_g")
    g[x] = x
    g[x] += 1
    g.update().vectorize(x, 4)
    with pytest.raises(hl.HalideError, match="with a schedule"):
        g.update().unscheduled()


def _stmt(f, tmp_path):
    path = tmp_path / "f.stmt"
    f.compile_to_lowered_stmt(str(path), [])
    return path.read_text()


def test_hoist_storage_allocates_once_outside_the_loops(tmp_path):
    for variant in ("ring", "tiled"):
        text = _stmt(_lesson24(hl, variant), tmp_path)
        alloc = text.index("allocate as_producer")
        assert alloc < text.index("for ("), text          # allocated before every loop
        assert text.count("allocate as_producer") == 1
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("hr_f"), hl.Func("hr_g")
    f[x, y] = x * y
    g[x, y] = f[x, y] + f[x + 1, y]
    f.compute_at(g, y).hoist_storage_root()
    text = _stmt(g, tmp_path)
    assert text.index("allocate hr_f") < text.index("for (")
    np.testing.assert_array_equal(np.asarray(g.realize([6, 5])),
                                  np.fromfunction(lambda y, x: x * y + (x + 1) * y, (5, 6), dtype=int))


def test_hoist_storage_across_a_parallel_loop_is_refused():
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("hp_f"), hl.Func("hp_g")
    f[x, y] = x * y
    g[x, y] = f[x, y] + 1
    g.parallel(y)
    f.compute_at(g, y).hoist_storage_root()
    with pytest.raises(hl.HalideError, match="parallel loop lies between"):
        g.realize([4, 4])
