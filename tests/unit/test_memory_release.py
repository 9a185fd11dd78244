"""A pipeline nobody references any more is freed: its Funcs, Params, Buffers
and compiled code (the LLVM engine and context). `python -m
pipelang.bench.memory` measures the process's growth; this checks objects."""
import gc
import weakref

import numpy as np

import pipelang as hl


def _compile_and_drop(i: int) -> list:
    x = hl.Var("x")
    data = hl.Buffer(np.arange(16, dtype=np.int32))
    k = hl.Param(hl.Int(32), f"mr_k{i}", i)
    f, g = hl.Func(f"mr_f{i}"), hl.Func(f"mr_g{i}")
    f[x] = data[x] * k + i
    g[x] = f[x] + f[x + 1]
    if i % 2:
        g.vectorize(x, 4)
    out = g.realize([8])
    np.testing.assert_array_equal(np.asarray(out), [(2 * x + 1) * i + 2 * i for x in range(8)])
    c = g._get_pipeline()._compiled
    return [weakref.ref(o) for o in (g.function, f.function, k, data, c, c.jit, c.jit._code)]


def test_unreferenced_pipelines_are_freed(monkeypatch):
    monkeypatch.setenv("PIPELANG_CACHE", "0")
    refs = [r for i in range(24) for r in _compile_and_drop(i)]
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert alive == []


def test_a_consumer_keeps_what_it_calls_alive(monkeypatch):
    # Calls hold only symbols; the symbols keep the Funcs, Params and Buffers
    # they name alive, so dropping the handles must not break the consumer.
    monkeypatch.setenv("PIPELANG_CACHE", "0")
    x = hl.Var("x")
    g = hl.Func("mr_consumer")

    def define():
        f = hl.Func("mr_producer")
        k = hl.Param(hl.Int(32), "mr_scale", 3)
        data = hl.Buffer(np.arange(8, dtype=np.int32))
        f[x] = data[x] * k
        g[x] = f[x] + 1
    define()
    gc.collect()
    np.testing.assert_array_equal(np.asarray(g.realize([8])), np.arange(8) * 3 + 1)


def test_visitor_classes_made_per_call_are_freed():
    # Passes define visitor classes inside functions, one per call; the
    # dispatch tables were global dicts keyed by class, which kept every such
    # class (and its tables) alive: 25 KB a compile.
    from pipelang import ir

    def count_variables(e):
        class Count(ir.IRVisitor):
            n = 0

            def visit_Variable(self, node):
                Count.n += 1

        Count().visit(e)
        mut = type("Rename", (ir.IRMutator,), {"mutate_Variable": lambda self, node: node})
        mut().mutate(e)
        return Count.n, weakref.ref(Count), weakref.ref(mut)

    x = ir.Variable(ir.Int(32), ir.Symbol("x"))
    n, count_cls, mut_cls = count_variables(ir.Add(x, ir.Mul(x, ir.i32(3))))
    assert n == 2
    gc.collect()
    assert count_cls() is None and mut_cls() is None
