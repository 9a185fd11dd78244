"""``python -m pipelang.bench`` / ``pipelang-bench``: run the benchmark suite and report.

Thread counts must be fixed before numpy, Halide or pipelang is imported
(their thread pools read the environment once), so this module parses its
arguments and sets the environment before importing the rest of the harness.
"""

from __future__ import annotations

import argparse
import faulthandler
import io
import os
import sys

SIZES = ("tiny", "small", "medium", "full")
BACKENDS = ("pipelang", "halide", "numpy", "opencv", "scipy", "torch")


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="pipelang-bench",
        description="Time pipelang against real Halide (same algorithm and schedule), numpy, "
        "OpenCV, scipy.ndimage and PyTorch, and against the machine's memory/FLOP limit.",
    )
    p.add_argument(
        "--only", type=_csv, default=None, metavar="NAMES", help="comma-separated benchmarks (default: all; see --list)"
    )
    p.add_argument("--size", choices=SIZES, default="full", help="problem sizes (default: full, 5-200 ms each)")
    p.add_argument("--threads", type=int, default=None, help="threads for every backend (default: all cores)")
    p.add_argument("--reps", type=int, default=10, help="timed warm runs per result, after one warm-up (default: 10)")
    p.add_argument(
        "--budget",
        type=float,
        default=2.0,
        metavar="S",
        help="stop timing a result after S seconds and 3 runs (default: 2)",
    )
    p.add_argument(
        "--backends",
        type=_csv,
        default=list(BACKENDS),
        metavar="NAMES",
        help=f"comma-separated, from {','.join(BACKENDS)} (default: all installed)",
    )
    p.add_argument("--json", default="bench_results/bench.json", metavar="PATH", help="JSON results ('' for none)")
    p.add_argument(
        "--png", default="bench_results/bench.png", metavar="PATH", help="chart, needs matplotlib ('' for none)"
    )
    p.add_argument("--markdown", default="", metavar="PATH", help="also write the README's table (Markdown) here")
    p.add_argument(
        "--isolate",
        type=_csv,
        default=["pipelang"],
        metavar="NAMES",
        help="backends run in a child process per benchmark, so that a crash costs one result, "
        "not the run (default: pipelang; '' for none)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        metavar="S",
        help="stop an isolated backend's benchmark after S seconds, compiling included (default: 600)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    p.add_argument("--strict", action="store_true", help="exit 1 when any result errors or disagrees with numpy")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = p.parse_args(argv)
    unknown = [b for b in args.backends if b not in BACKENDS]
    if unknown:
        p.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    if args.reps < 1:
        p.error("--reps must be at least 1")
    return args


def set_thread_environment(threads: int) -> None:
    """Before any import: Halide's and pipelang's runtime, and numpy's BLAS."""
    for var in ("HL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


# Other measurements, each its own module: `--compile-breakdown [its flags]` runs
# pipelang.bench.compile_time, `--call-overhead` call_overhead, `--memory` memory.
_MODES = {"--compile-breakdown": "compile_time", "--call-overhead": "call_overhead",
          "--memory": "memory"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in _MODES:
        import importlib
        importlib.import_module(f"pipelang.bench.{_MODES[argv[0]]}").main(argv[1:])
        return 0
    args = parse_args(argv)
    try:
        faulthandler.enable()  # a crash in compiled code prints where, at least
    except (AttributeError, ValueError, io.UnsupportedOperation):
        pass  # stderr is not a real file (captured): no traceback on a crash
    threads = args.threads or os.cpu_count() or 1
    set_thread_environment(threads)

    from . import report, runner, suite  # numpy and the backends load only now

    if args.list:
        for b in suite.BENCHMARKS.values():
            print(f"{b.name:12s} {b.description}")
        return 0
    names = args.only or list(suite.BENCHMARKS)
    unknown = [n for n in names if n not in suite.BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(suite.BENCHMARKS)}", file=sys.stderr)
        return 2

    result = runner.run_suite(
        names,
        args.size,
        args.backends,
        reps=args.reps,
        threads=threads,
        budget_s=args.budget,
        progress=not args.no_progress,
        isolate=args.isolate,
        timeout_s=args.timeout,
    )
    # Files first: the table may go to a pipe that closes early (| head).
    written = []
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        report.write_json(result, args.json)
        written.append(f"JSON: {args.json}")
    if args.markdown:
        os.makedirs(os.path.dirname(args.markdown) or ".", exist_ok=True)
        with open(args.markdown, "w") as f:
            f.write(report.format_markdown(result) + "\n")
        written.append(f"Markdown table: {args.markdown}")
    if args.png:
        os.makedirs(os.path.dirname(args.png) or ".", exist_ok=True)
        why_not = report.write_png(result, args.png)
        written.append(f"chart: {args.png}" if why_not is None else f"no chart: {why_not}")
    print(report.format_table(result))
    if written:
        print("\n" + "\n".join(written))
    if args.strict and any(r.status != "ok" for r in result.results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
