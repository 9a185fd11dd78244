"""The compile cache's key is taken before lowering (pipelang/fingerprint.py):
every change that can change the code must change it. Each variant below
changes one thing of a base pipeline (a schedule directive, a type, an
estimate, a constraint, a target feature, a tracing option) and must get a
key of its own; rebuilding the base in the same way gets the base's key."""
import pytest

import pipelang as hl
from pipelang import fingerprint
from pipelang.function import registry
from pipelang.lowering.analysis.arguments import find_arguments
from pipelang.lowering.analysis.environment import find_environment
from pipelang.lowering.wrap_calls import wrap_calls
from pipelang.pipeline import _functions, _target_key
from pipelang.cache import make_key


@pytest.fixture(autouse=True)
def _fresh_names(monkeypatch):
    # Each build names its Funcs as a new process would ("g", not "g$1"),
    # so that only the change made tells the keys apart.
    from pipelang import func
    monkeypatch.setattr(func, "_names_used", {})
    yield func


def _build(ktype=hl.Int(32), itype=hl.Int(32), const=3):
    from pipelang import func
    func._names_used.clear()
    x, y = hl.Var("x"), hl.Var("y")
    k = hl.Param(ktype, "k")
    im = hl.ImageParam(itype, 2, "im")
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = hl.cast(hl.Int(32), im[x, y]) * const + x
    g[x, y] = f[x, y] + f[x + 1, y] + hl.cast(hl.Int(32), k)
    return g, f, im, k, x, y


def _key(g, target="host"):
    fns = _functions([g])
    wrapped, functions = wrap_calls(fns, registry)
    env, order = find_environment(wrapped, functions)
    args = find_arguments(env, wrapped)
    fp = fingerprint.pipeline(order, fns, args, fns[0].name)
    t = _target_key(hl.Target(target) if target != "host" else None)
    return make_key("toolchain", "pipeline", t, fp.digest())


def _schedule(change):
    g, f, im, k, x, y = _build()
    xo, xi, yo, yi = hl.Var("xo"), hl.Var("xi"), hl.Var("yo"), hl.Var("yi")
    change(g, f, im, k, x, y, xo, xi, yo, yi)
    return _key(g)


SCHEDULES = {
    "split": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.split(x, xo, xi, 8),
    "split 4": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.split(x, xo, xi, 4),
    "split RoundUp": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.split(x, xo, xi, 8, hl.TailStrategy.RoundUp),
    "vectorize": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.vectorize(x, 8),
    "parallel": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.parallel(y),
    "unroll": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.unroll(x, 2),
    "reorder": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.reorder(y, x),
    "tile": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.tile(x, y, xo, yo, xi, yi, 8, 8),
    "fuse": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.fuse(x, y, xo),
    "compute_root": lambda g, f, im, k, x, y, xo, xi, yo, yi: f.compute_root(),
    "compute_at": lambda g, f, im, k, x, y, xo, xi, yo, yi: f.compute_at(g, y),
    "store_root": lambda g, f, im, k, x, y, xo, xi, yo, yi: f.compute_at(g, y).store_root(),
    "bound": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.bound(x, 0, 64),
    "estimate": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.set_estimate(x, 0, 64),
    "estimate 128": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.set_estimate(x, 0, 128),
    "reorder_storage": lambda g, f, im, k, x, y, xo, xi, yo, yi: f.compute_root().reorder_storage(y, x),
    "fold_storage": lambda g, f, im, k, x, y, xo, xi, yo, yi: f.compute_at(g, y).store_root().fold_storage(y, 4),
    "memoize": lambda g, f, im, k, x, y, xo, xi, yo, yi: f.compute_root().memoize(),
    "store_in": lambda g, f, im, k, x, y, xo, xi, yo, yi: f.compute_root().store_in(hl.MemoryType.Heap),
    "trace_stores": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.trace_stores(),
    "trace_loads": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.trace_loads(),
    "trace_realizations": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.trace_realizations(),
    "never_partition": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.never_partition(x),
    "specialize": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.specialize(k > 0).vectorize(x, 4),
    "input min": lambda g, f, im, k, x, y, xo, xi, yo, yi: im.dim(0).set_min(0),
    "input stride": lambda g, f, im, k, x, y, xo, xi, yo, yi: im.dim(1).set_stride(64),
    "output extent": lambda g, f, im, k, x, y, xo, xi, yo, yi: g.output_buffer().dim(0).set_extent(64),
}


# (An ImageParam's estimates are read by the autoscheduler only, never by
# lowering, so they are not in the key.)
def test_every_schedule_change_has_a_key_of_its_own():
    base = _schedule(lambda *a: None)
    assert _schedule(lambda *a: None) == base        # the same program: the same key
    keys = {name: _schedule(change) for name, change in SCHEDULES.items()}
    keys["base"] = base
    by_key: dict = {}
    for name, key in keys.items():
        by_key.setdefault(key, []).append(name)
    assert [names for names in by_key.values() if len(names) > 1] == []


def test_types_constants_and_targets_are_in_the_key():
    keys = {
        "base": _key(_build()[0]),
        "Param type": _key(_build(ktype=hl.Int(16))[0]),
        "ImageParam type": _key(_build(itype=hl.UInt(8))[0]),
        "constant": _key(_build(const=4)[0]),
    }
    for feature in ("strict_float", "no_asserts", "no_bounds_query", "enable_llvm_loop_opt",
                    "trace_all"):
        keys[feature] = _key(_build()[0], f"host-{feature}")
    assert len(set(keys.values())) == len(keys), keys


def test_a_pipeline_with_an_unknown_object_is_not_keyed():
    # Something the fingerprint can't describe makes the pipeline unkeyable
    # (it is compiled), never keyed by a guess.
    fp = fingerprint.Fingerprint()
    with pytest.raises(fingerprint.Unkeyable):
        fp.add(object())
    fp.add([1, "1", 1.0, True, None, hl.Int(32), (), {}])
    other = fingerprint.Fingerprint()
    other.add([1, "1", 1.0, 1, None, hl.Int(32), (), {}])
    assert fp.digest() != other.digest()
    # Plain strings never read as the structure around them.
    for a, b in ((["[", 1, 5], [[5]]), (["S=", "x", 0], [hl.Var("x")._to_ir().sym]),
                 (["DVariable"], [hl.Var("x")._to_ir()])):
        fa, fb = fingerprint.Fingerprint(), fingerprint.Fingerprint()
        for v in a:
            fa.add(v)
        for v in b:
            fb.add(v)
        assert fa.digest() != fb.digest()
