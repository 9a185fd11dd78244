"""Func.prefetch / Stage.prefetch: results unchanged on many schedules and
every bound strategy (against numpy and real Halide), the prefetch at the
loop the schedule names in the lowered IR, and llvm.prefetch in the code."""
import numpy as np
import pytest

import pipelang as hl
from pipelang import ir

S = hl.PrefetchBoundStrategy
W, H = 67, 41          # odd sizes: split tails everywhere


def _input(w=W + 2, h=H + 2, dtype=np.uint16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1000, size=(h, w)).astype(dtype)


def _stencil(inp):
    """f(x, y) = g(x, y) + g(x + 1, y + 2), g = 2 * inp (both computed)."""
    x, y = hl.Var("x"), hl.Var("y")
    g, f = hl.Func("g"), hl.Func("f")
    g[x, y] = inp[x, y] * 2
    f[x, y] = g[x, y] + g[x + 1, y + 2] + inp[x + 2, y]
    return f, g, x, y


def _reference(a):
    a = a.astype(np.uint16)
    g = (a * 2).astype(np.uint16)
    return (g[:H, :W] + g[2:H + 2, 1:W + 1] + a[:H, 2:W + 2]).astype(np.uint16)


def _sched_y(f, g, inp, x, y, s):
    g.compute_root()
    f.prefetch(inp, y, y, 2, s).prefetch(g, y, y, 1, s)
    return [inp, g]


def _sched_vec_outer(f, g, inp, x, y, s):
    g.compute_root().vectorize(x, 8)
    xo, yo, xi, yi = hl.Var("xo"), hl.Var("yo"), hl.Var("xi"), hl.Var("yi")
    f.tile(x, y, xo, yo, xi, yi, 16, 8).vectorize(xi, 8)
    f.prefetch(g, xo, xo, 1, s).prefetch(inp, yi, yo, 1, s)
    return [inp, g]


def _sched_compute_at(f, g, inp, x, y, s):
    g.compute_at(f, y).vectorize(x, 8)
    g.prefetch(inp, y, y, 4, s)
    f.parallel(y).prefetch(inp, y, y, 3, s)
    return [inp]


def _sched_unrolled(f, g, inp, x, y, s):
    g.compute_root()
    xo, xi = hl.Var("xo"), hl.Var("xi")
    f.split(x, xo, xi, 4).unroll(xi).prefetch(g, xi, xo, 2, s)
    return [g]


def _sched_sliding(f, g, inp, x, y, s):
    g.store_root().compute_at(f, y).prefetch(inp, y, y, 2, s)
    f.prefetch(g, y, y, -1, s)
    return [inp, g]


def _sched_reorder_storage(f, g, inp, x, y, s):
    g.compute_root().reorder_storage(y, x)
    f.reorder(y, x).prefetch(g, x, x, 3, s)
    return [g]


SCHEDULES = [_sched_y, _sched_vec_outer, _sched_compute_at, _sched_unrolled, _sched_sliding,
             _sched_reorder_storage]


@pytest.mark.parametrize("strategy", [S.GuardWithIf, S.Clamp, S.NonFaulting])
@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s.__name__[7:])
def test_results_unchanged(schedule, strategy):
    a = _input()
    inp = hl.ImageParam(hl.UInt(16), 2, "inp")
    f, g, x, y = _stencil(inp)
    targets = schedule(f, g, inp, x, y, strategy)
    inp.set(hl.Buffer(a))
    out = np.asarray(f.realize([W, H]))
    np.testing.assert_array_equal(out, _reference(a))
    fetched = set(_find(_lowered(f)).bufs)
    assert fetched == {t._sym if t is inp else t.function.sym for t in targets}


def test_buffer_input_and_far_offsets_never_fault():
    """A prefetch far outside the input (NonFaulting) reads nothing."""
    a = _input()
    buf = hl.Buffer(a, "b")
    f, g, x, y = _stencil(buf)
    g.compute_root()
    f.prefetch(buf, y, y, 1 << 20, S.NonFaulting).prefetch(g, y, y, -(1 << 20), S.NonFaulting)
    np.testing.assert_array_equal(np.asarray(f.realize([W, H])), _reference(a))


def test_param_offset_and_input_with_nonzero_min():
    a = _input()
    inp = hl.ImageParam(hl.UInt(16), 2, "inp")
    off = hl.Param(hl.Int(32), "off", 3)
    f, g, x, y = _stencil(inp)
    g.compute_root()
    f.prefetch(inp, y, y, off).prefetch(g, y, y, off * 2, S.Clamp)
    b = hl.Buffer(a)
    b.set_min([-5, 7])
    inp.set(b)
    out = hl.Buffer(hl.UInt(16), [W, H])
    out.set_min([-5, 7])
    f.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _reference(a))


def test_update_stage_tuple_and_rvar_loop():
    """Stage.prefetch in an update, at an RVar's loop, of a Tuple-valued Func."""
    a = _input(40, 30).astype(np.int32)
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.Buffer(a, "a")
    t = hl.Func("t")
    t[x, y] = (inp[x, y], inp[x, y] * 3)
    t.compute_root()
    r = hl.RDom([(0, 30)], "r")
    f = hl.Func("f")
    f[x] = 0
    f[x] += t[x, r.x][0] + t[x, r.x][1]
    stage = f.update(0).prefetch(t, r.x, r.x, 2, S.GuardWithIf)
    assert isinstance(stage, hl.Stage)
    out = np.asarray(f.realize([40]))
    np.testing.assert_array_equal(out, (a * 4).sum(axis=0))


def test_same_program_as_halide():
    halide = pytest.importorskip("halide")
    a = _input()
    outs = []
    for m in (hl, halide):
        x, y = m.Var("x"), m.Var("y")
        inp = m.ImageParam(m.UInt(16), 2, "inp")
        g, f = m.Func("g"), m.Func("f")
        g[x, y] = inp[x, y] * 2
        f[x, y] = g[x, y] + g[x + 1, y + 2] + inp[x + 2, y]
        g.compute_root()
        f.split(y, y, m.Var("yi"), 4).prefetch(g, y, y, 1, m.PrefetchBoundStrategy.Clamp)
        f.prefetch(image=inp, at=y, **{"from": y}, offset=2, strategy=m.PrefetchBoundStrategy.NonFaulting)
        inp.set(m.Buffer(a))
        outs.append(np.asarray(f.realize([W, H])).copy())
    np.testing.assert_array_equal(outs[0], outs[1])


def test_print_loop_nest_like_halide(capfd):
    """Halide's print_loop_nest shows no prefetches; nor does pipelang's."""
    halide = pytest.importorskip("halide")
    texts = []
    for m in (hl, halide):
        x, y = m.Var("x"), m.Var("y")
        inp = m.ImageParam(m.UInt(16), 2, "inp")
        f = m.Func("f")
        f[x, y] = inp[x, y] + inp[x, y + 1]
        f.prefetch(image=inp, at=y, **{"from": y}, offset=2)
        capfd.readouterr()
        f.print_loop_nest()
        texts.append(capfd.readouterr().out)
    assert texts[0] == texts[1]


def _lowered(f, inp=None):
    from pipelang.lowering.lower import lower
    lowered, *_ = lower([f.function], name=f.name())
    return lowered.body


class _Prefetches(ir.IRVisitor):
    def __init__(self):
        self.loops, self.found, self.guarded, self.bufs = [], [], [], []
        self.ifs = 0

    def visit_For(self, node):
        self.loops.append(node.sym.name)
        self.generic_visit(node)
        self.loops.pop()

    def visit_IfThenElse(self, node):
        self.ifs += 1
        self.generic_visit(node)
        self.ifs -= 1

    def visit_PrefetchAddress(self, node):
        outer = [n for n in self.loops if not n.startswith("prefetch_")]
        self.found.append((node.buf.name, outer[-1] if outer else None))
        self.guarded.append(self.ifs > 0)
        self.bufs.append(node.buf)
        self.generic_visit(node)


def _find(stmt):
    v = _Prefetches()
    v.visit(stmt)
    return v


@pytest.mark.parametrize("strategy,guarded", [(S.GuardWithIf, True), (S.Clamp, False),
                                              (S.NonFaulting, False)])
def test_lowered_ir_has_prefetch_at_the_loop(strategy, guarded):
    inp = hl.ImageParam(hl.Float(32), 2, "pin")
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("pf")
    f[x, y] = inp[x, y] + inp[x + 1, y + 1]
    xo, xi = hl.Var("xo"), hl.Var("xi")
    f.split(x, xo, xi, 64).prefetch(inp, xo, y, 1, strategy)
    v = _find(_lowered(f))
    assert v.found and all(found == ("pin", f"{f.name()}.s0.x.xo") for found in v.found)
    # Only GuardWithIf guards it (the split's tail is ShiftInwards: no `if`).
    assert v.guarded == [guarded] * len(v.found)


def test_one_prefetch_per_cache_line():
    """A row of 1000 float32s is 4000 bytes: 63 lines of 64 bytes, 16 floats apart."""
    inp = hl.ImageParam(hl.Float(32), 2, "pin")
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("pf")
    f[x, y] = inp[x, y]
    f.bound(x, 0, 1000).prefetch(inp, y, y, 1, S.NonFaulting)
    text = ir.to_string(_lowered(f))
    assert "for (prefetch_split_pin.0, 0, 63)" in text
    assert "(float32)prefetch(pin, " in text and ", 1, 16)" in text
    assert "prefetch_split_pin.0*16" in text


def test_stmt_text_and_llvm_ir(tmp_path):
    inp = hl.ImageParam(hl.UInt(8), 2, "pin")
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("pf")
    f[x, y] = inp[x, y] + inp[x, y + 1]
    f.vectorize(x, 32).prefetch(inp, y, y, 2)
    stmt = tmp_path / "f.stmt"
    f.compile_to_lowered_stmt(str(stmt), [inp], hl.StmtOutputFormat.Text)
    text = stmt.read_text()
    assert "(uint8)prefetch(pin, " in text and ", 1, 64)" in text
    html = tmp_path / "f.html"
    f.compile_to_lowered_stmt(str(html), [inp], hl.StmtOutputFormat.HTML)
    assert "prefetch(pin, " in html.read_text()
    ll = tmp_path / "f.ll"
    f.compile_to_llvm_assembly(str(ll), [inp], "pf")
    llvm = ll.read_text()
    assert "call void @llvm.prefetch.p0(" in llvm
    c = tmp_path / "f.c"
    f.compile_to_c(str(c), [inp], "pf")
    assert "__builtin_prefetch(" in c.read_text()


def test_inlined_target_warns_and_is_dropped(capsys, monkeypatch):
    monkeypatch.setenv("PIPELANG_CACHE", "0")   # lowering warns: a cache hit skips it
    a = _input()
    inp = hl.ImageParam(hl.UInt(16), 2, "inp")
    f, g, x, y = _stencil(inp)
    f.prefetch(g, y, y, 2)             # g is inlined: nothing of it is stored
    inp.set(hl.Buffer(a))
    out = np.asarray(f.realize([W, H]))
    np.testing.assert_array_equal(out, _reference(a))
    assert "Warning: Removing prefetch of g" in capsys.readouterr().out


def test_chaining_and_enum():
    inp = hl.ImageParam(hl.UInt(16), 2, "inp")
    f, g, x, y = _stencil(inp)
    assert f.prefetch(inp, y, y) is f
    assert f.prefetch(func=inp, at=y, from_=y, offset=1, strategy=S.Clamp) is f
    assert [m.name for m in hl.PrefetchBoundStrategy] == ["Clamp", "GuardWithIf", "NonFaulting"]
    assert int(S.GuardWithIf) == 1
    p = f.function.init.schedule.prefetches
    assert len(p) == 2 and p[0].strategy is S.GuardWithIf and p[1].strategy is S.Clamp


def test_unrolled_copies_prefetch_first():
    """Halide's hoist_prefetches: the prefetches of the copies of an unrolled
    `at` loop go ahead of the copies' work."""
    inp = hl.ImageParam(hl.UInt(16), 2, "inp")
    f, g, x, y = _stencil(inp)
    _sched_unrolled(f, g, inp, x, y, S.NonFaulting)
    order = []

    class _Order(ir.IRVisitor):
        def visit_PrefetchAddress(self, node):
            order.append("prefetch")

        def visit_Store(self, node):
            if node.buf is f.function.sym:
                order.append("store")
    _Order().visit(_lowered(f))
    assert order == ["prefetch"] * 4 + ["store"] * 4


def test_serialized_pipeline_keeps_its_prefetches():
    a = _input()
    inp = hl.ImageParam(hl.UInt(16), 2, "inp")
    f, g, x, y = _stencil(inp)
    g.compute_root()
    f.prefetch(inp, y, y, 2).prefetch(g, y, y, 1, S.Clamp)
    q = hl.deserialize_pipeline(hl.serialize_pipeline(hl.Pipeline(f)), {"inp": inp.parameter()})
    assert q.lowered_stmt().count("prefetch(") == hl.Pipeline(f).lowered_stmt().count("prefetch(") > 0
    inp.set(hl.Buffer(a))
    np.testing.assert_array_equal(np.asarray(q.realize([W, H])), _reference(a))


def test_zero_dimensional_func():
    x, y = hl.Var("x"), hl.Var("y")
    s = hl.Func("s")
    s[()] = hl.i32(7)
    s.compute_root()
    f = hl.Func("f")
    f[x, y] = x + y + s[()]
    f.prefetch(s, y, y)
    assert hl.Pipeline(f).lowered_stmt().count("prefetch(s") == 1
    np.testing.assert_array_equal(np.asarray(f.realize([5, 4])), np.add.outer(np.arange(4), np.arange(5)) + 7)


def test_vectorized_at_loop_stays_vectorized():
    """At (or inside) a vectorized loop the prefetch covers every lane's box
    (Halide prefetches per lane), as one scalar statement: the loop's
    vector code stays."""
    a = np.random.default_rng(0).random((20, 12), dtype=np.float32)
    inp = hl.ImageParam(hl.Float(32), 2, "inp")
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = inp[x, y] + inp[x + 1, y + 1]
    f.bound(x, 0, 8).vectorize(x).prefetch(inp, x, y, 2)
    inp.set(hl.Buffer(a))
    np.testing.assert_array_equal(np.asarray(f.realize([8, 17])), a[:17, :8] + a[1:18, 1:9])
    text = ir.to_string(_lowered(f))
    assert "f.s0.x" not in text.split("prefetch(inp")[1].split("\n")[0]    # no lane in the address
    assert f"{f.name()}[ramp(" in text                                    # a vector store


def test_at_var_outermost():
    """Halide: at Var.outermost(), everything the stage touches, ahead of its loops."""
    a = _input()
    inp = hl.ImageParam(hl.UInt(16), 2, "inp")
    f, g, x, y = _stencil(inp)
    g.compute_root()
    o = hl.Var.outermost()
    f.prefetch(inp, o, o).prefetch(g, y, o, 1, S.Clamp)
    inp.set(hl.Buffer(a))
    np.testing.assert_array_equal(np.asarray(f.realize([W, H])), _reference(a))
    order = []

    class _Order(ir.IRVisitor):
        def visit_For(self, node):
            if not node.sym.name.startswith("prefetch"):
                order.append(node.sym.name.split(".")[0].split("$")[0])
            self.generic_visit(node)

        def visit_PrefetchAddress(self, node):
            order.append("prefetch " + node.buf.name.split("$")[0])
    _Order().visit(_lowered(f))
    # g's loops, then the whole box of inp that f reads, then f's loops with g's prefetch inside.
    assert order.index("prefetch inp") > order.index("g") and order.index("prefetch inp") < order.index("f")
    assert order.index("prefetch g") > order.index("f")
    with pytest.raises(hl.ScheduleError, match="inside the 'at' loop Var.outermost"):
        f2, g2, x2, y2 = _stencil(inp)
        f2.prefetch(inp, o, y2)
        f2.compile_jit()
