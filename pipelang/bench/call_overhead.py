"""``python -m pipelang.bench.call_overhead``: the cost of calling compiled code.

Times, for pipelang and real Halide side by side in one process, the three
ways of running an already compiled pipeline on a tiny (4 x 4) problem, so
the figure is the Python-side overhead: `Pipeline.realize(buffer)`,
`Pipeline.realize([sizes])` and a `Callable` from `compile_to_callable`;
and the two realizes of a Func whose value is a Tuple of two (its two
output buffers).
Each figure is the best of many repeats of a few hundred calls, pipelang's
and Halide's repeats taking turns. (Short repeats: on a shared machine with
a CPU quota, repeats of tens of thousands of calls were throttled alike on
both sides and gave nearly equal, inflated figures.)
"""
from __future__ import annotations

import argparse
import importlib
import timeit

import numpy as np


def _pipeline(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("call_overhead")
    k = hl.Param(hl.Int(32), "k", 3)
    im = hl.ImageParam(hl.Int(32), 2, "im")
    f[x, y] = x + y + k + im[x, y]
    inp = hl.Buffer(np.zeros((4, 4), np.int32))
    im.set(inp)
    p = hl.Pipeline(f)
    p.compile_jit()
    return p, inp


def _tuple_pipeline(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("call_overhead_tuple")
    f[x, y] = (x + y, hl.f32(x) * 2)
    p = hl.Pipeline(f)
    p.compile_jit()
    return p


def _cases(module: str) -> dict:
    """The calls to time, under `module`, each made once already."""
    hl = importlib.import_module(module)
    p, inp = _pipeline(hl)
    out = hl.Buffer(hl.Int(32), [4, 4])
    c = p.compile_to_callable(p.infer_arguments())
    pt = _tuple_pipeline(hl)
    outs = [hl.Buffer(hl.Int(32), [4, 4]), hl.Buffer(hl.Float(32), [4, 4])]
    cases = {
        "realize(buffer)": lambda: p.realize(out),
        "realize(sizes)": lambda: p.realize([4, 4]),
        "Callable": lambda: c(inp, 3, out),
        "Tuple realize(buffers)": lambda: pt.realize(outs),
        "Tuple realize(sizes)": lambda: pt.realize([4, 4]),
    }
    for fn in cases.values():
        fn()
    return cases


def measure(modules=("pipelang", "halide"), number: int = 500, repeat: int = 200) -> dict:
    """{module: {call: microseconds per call}}: the best of `repeat` runs of
    `number` calls. The modules take turns, run by run, so that a change in
    the machine's load falls on both alike (modules that can't be imported
    are left out)."""
    cases = {}
    for module in modules:
        try:
            cases[module] = _cases(module)
        except ImportError:
            pass
    best = {m: {} for m in cases}
    for name in cases[modules[0]]:
        for _ in range(repeat):
            for m, fns in cases.items():
                t = timeit.timeit(fns[name], number=number) / number * 1e6
                best[m][name] = min(best[m].get(name, t), t)
    return best


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--number", type=int, default=500, help="calls per repeat")
    ap.add_argument("--repeat", type=int, default=200, help="repeats (the best one counts)")
    args = ap.parse_args(argv)
    results = measure(number=args.number, repeat=args.repeat)
    print(f"{'call':24s} {'pipelang us':>12s} {'halide us':>10s} {'ratio':>6s}")
    for name, ours in results["pipelang"].items():
        theirs = results.get("halide", {}).get(name)
        ratio = f"{ours / theirs:6.2f}" if theirs else "     -"
        theirs_s = f"{theirs:10.2f}" if theirs else "         -"
        print(f"{name:24s} {ours:12.2f} {theirs_s} {ratio}")


if __name__ == "__main__":
    main()
