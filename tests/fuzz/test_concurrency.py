"""Several Python threads realizing the same compiled pipeline at once."""
import threading

import numpy as np

from pipelang.testing.printer import build, realize
from pipelang.testing.random_pipeline import random_pipeline
from pipelang.testing.random_schedule import random_schedule, schedule_source
from pipelang.testing.reference import evaluate

THREADS, ROUNDS = 8, 5


def test_threads_share_a_compiled_pipeline(hl_module):
    hl = hl_module
    desc = random_pipeline(11)
    built = build(desc, hl, schedule_source(random_schedule(desc, 2)))
    built.output.compile_jit()
    expected = evaluate(desc)
    realize(hl, desc, built)  # warm: the first call may finish compiling
    results, errors = [], []
    start = threading.Barrier(THREADS)

    def worker():
        try:
            start.wait()
            for _ in range(ROUNDS):
                results.append(realize(hl, desc, built))
        except Exception as e:  # reported below, on the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == THREADS * ROUNDS
    for got in results:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_threads_with_parallel_schedule(hl_module):
    """Python threads on top of Halide's own thread pool."""
    hl = hl_module
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = hl.cast(hl.Int(32), x * 3 + y * 7)
    g = hl.Func("g")
    g[x, y] = f[x, y] + f[x + 1, y] + f[x, y + 1]
    f.compute_root().parallel(y)
    g.parallel(y).vectorize(x, 4)
    g.compile_jit()
    xs, ys = np.meshgrid(np.arange(37), np.arange(29), indexing="ij")
    ff = lambda a, b: a * 3 + b * 7
    expected = ff(xs, ys) + ff(xs + 1, ys) + ff(xs, ys + 1)
    errors = []

    def worker():
        try:
            for _ in range(ROUNDS):
                got = np.asarray(g.realize([37, 29])).T
                np.testing.assert_array_equal(got, expected)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
