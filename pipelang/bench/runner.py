"""Running the suite: build and compile per backend, check agreement, time warm runs, roofline.

Two kinds of backend:
- compilers, ``pipelang`` and ``halide``: the suite's algorithm and schedule are
  built with the backend's module, JIT-compiled (timed as compile time) and
  realized into a preallocated output buffer that wraps a numpy array;
- peers (``numpy``, ``opencv``, ``scipy``, ``torch``): see ``peers.py``.

Every backend's output is compared with the numpy reference before it is timed;
a failure in one backend on one benchmark is recorded, never raised.
Thread counts are fixed by the caller before the libraries are imported
(``HL_NUM_THREADS`` for both compilers, BLAS variables for numpy).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import platform
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import numpy as np

from . import peers, suite

COMPILERS = ("pipelang", "halide")
PEER_BACKENDS = ("numpy", "opencv", "scipy", "torch")
ALL_BACKENDS = COMPILERS + PEER_BACKENDS


@dataclass
class Result:
    benchmark: str
    backend: str
    status: str  # "ok" | "mismatch" | "error"
    min_ms: float | None = None
    median_ms: float | None = None
    runs: int = 0
    compile_s: float | None = None  # compilers only: building the Funcs plus compile_jit
    max_error: float | None = None
    tolerance: float | None = None
    message: str = ""
    traceback: str = ""  # of an error, for the JSON report


@dataclass
class BenchmarkInfo:
    name: str
    description: str
    size: str
    params: dict
    bytes_moved: int  # inputs read once plus output written once
    flops: float
    limit_ms: float  # max(bytes / copy bandwidth, flops / BLAS throughput)
    limit_kind: str  # "memory" or "compute"
    reference_ms: float


@dataclass
class Machine:
    cpu: str
    threads: int
    copy_gb_s: float
    blas_gflop_s: float
    python: str = field(default_factory=platform.python_version)
    numpy: str = field(default_factory=lambda: np.__version__)
    versions: dict = field(default_factory=dict)
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    load_average: float = field(default_factory=lambda: os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0)


# -- backends ----------------------------------------------------------------


def load_compiler(name: str):
    """The compiler module, or raise ImportError with the reason it is not usable."""
    module = importlib.import_module(name)
    missing = [api for api in ("Func", "Var", "Buffer", "Pipeline") if not hasattr(module, api)]
    if missing:
        raise ImportError(f"{name} does not provide {', '.join(missing)} yet")
    return module


def compiler_installed(name: str) -> str | None:
    """None when the compiler package is there, else why not.

    Only presence is checked: a pipelang that is present but fails to import or
    to compile is a result ('error: ...') in every benchmark, not a skip.
    A bare ``pipelang/`` without ``__init__.py`` (a namespace package, as while
    the compiler is being written) counts as absent.
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as e:
        return str(e)
    if spec is None:
        return f"{name} is not installed"
    if spec.origin in (None, "namespace"):
        return f"{name} has no __init__.py yet (a namespace package)"
    return None


def available_backends(requested: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Split the requested backends into those installed and, for the rest, why not."""
    usable, skipped = [], {}
    for name in requested:
        if name in COMPILERS:
            why_not = compiler_installed(name)
        else:
            try:
                peers.load(name)
                why_not = None
            except ImportError as e:
                why_not = str(e)
        if why_not is None:
            usable.append(name)
        else:
            skipped[name] = why_not
    return usable, skipped


def backend_versions(backends: Iterable[str]) -> dict[str, str]:
    versions = {}
    for name in backends:
        module_name = {"opencv": "cv2", "scipy": "scipy"}.get(name, name)
        try:
            version = getattr(importlib.import_module(module_name), "__version__", None)
            versions[name] = str(version or importlib.metadata.version(name))
        except (ImportError, importlib.metadata.PackageNotFoundError):
            versions[name] = "?"
    return versions


def set_threads(backends: Iterable[str], threads: int) -> None:
    for name in backends:
        if name in PEER_BACKENDS:
            peers.set_threads(name, threads)


# -- measurement -------------------------------------------------------------


def time_runs(run: Callable[[], object], reps: int, budget_s: float) -> list[float]:
    """Seconds for up to ``reps`` warm runs.

    Stops early once ``budget_s`` is spent and 3 runs are in, or once 1.5 x
    ``budget_s`` is spent whatever the count, so slow peers take a few seconds.
    """
    times: list[float] = []
    while len(times) < reps:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        spent = sum(times)
        if (len(times) >= 3 and spent > budget_s) or spent > 1.5 * budget_s:
            break
    return times


def measure_machine(threads: int) -> Machine:
    """Copy bandwidth from a large numpy copy; float32 throughput from numpy's BLAS."""
    src = np.ones(32 * 2**20, np.float32)  # 128 MiB, well past the caches
    dst = np.empty_like(src)
    np.copyto(dst, src)
    copy_s = min(time_runs(lambda: np.copyto(dst, src), 5, 1.0))
    n = 2048  # large enough that thread start-up and stalls on a busy machine matter little
    a = np.ones((n, n), np.float32)
    c = np.empty_like(a)
    np.matmul(a, a, out=c)
    blas_s = min(time_runs(lambda: np.matmul(a, a, out=c), 3, 0.5))
    return Machine(
        cpu=_cpu_name(),
        threads=threads,
        copy_gb_s=2 * src.nbytes / copy_s / 1e9,
        blas_gflop_s=2 * n**3 / blas_s / 1e9,
    )


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def roofline(moved: int, flops: float, machine: Machine) -> tuple[float, str]:
    """The lower bound in ms: moving every byte once, or doing every FLOP at BLAS speed."""
    memory_ms = moved / (machine.copy_gb_s * 1e9) * 1e3
    compute_ms = flops / (machine.blas_gflop_s * 1e9) * 1e3
    return (compute_ms, "compute") if compute_ms > memory_ms else (memory_ms, "memory")


def _agreement(out: np.ndarray, ref: np.ndarray, tolerance: suite.Tolerance) -> tuple[float, float]:
    out = np.asarray(out)
    if out.shape != ref.shape:
        raise ValueError(f"output shape {out.shape} differs from the reference's {ref.shape}")
    if isinstance(ref, suite.Envelope) and ref.lo is not None:
        return ref.distance(out), tolerance.bound(np.asarray(ref))
    error = float(np.max(np.abs(out.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
    return error, tolerance.bound(ref)


def _describe(e: BaseException) -> str:
    """The exception on one line: its type and the start of its message (the JSON has the traceback)."""
    text = " ".join(line.strip() for line in str(e).strip().splitlines()[:3])
    if len(text) > 240:
        text = text[:237] + "..."
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# -- one benchmark on one backend -------------------------------------------


def _prepare_compiler(name, bench, inputs, ref):
    hl = load_compiler(name)
    start = time.perf_counter()
    pipeline = hl.Pipeline(bench.build(hl, inputs))
    pipeline.compile_jit()
    compile_s = time.perf_counter() - start
    out = np.empty_like(ref)
    buffer = hl.Buffer(out)  # zero-copy: realize writes straight into `out`
    return (lambda: pipeline.realize(buffer)), (lambda: out), compile_s, bench.tolerance


def _prepare_peer(name, bench, inputs, ref):
    run, result = peers.PEERS[name][bench.name](inputs)
    return run, result, None, bench.peer_tolerance


def run_one(backend: str, bench: suite.Benchmark, inputs, ref, reps: int, budget_s: float) -> Result:
    """Build, check and time; every failure becomes a Result with status 'error' or 'mismatch'."""
    result = Result(bench.name, backend, status="error")
    try:
        prepare = _prepare_compiler if backend in COMPILERS else _prepare_peer
        run, output, result.compile_s, tolerance = prepare(backend, bench, inputs, ref)
        run()  # warm-up, and the run whose output is checked
        result.max_error, result.tolerance = _agreement(output(), ref, tolerance)
        if not result.max_error <= result.tolerance:
            result.status = "mismatch"
            result.message = f"max |out - ref| = {result.max_error:.3g} > {result.tolerance:.3g}"
            return result
        times = time_runs(run, reps, budget_s)
    except Exception as e:  # a broken backend must not stop the run
        result.message = _describe(e)
        result.traceback = traceback.format_exc()
        return result
    result.status = "ok"
    result.runs = len(times)
    result.min_ms = min(times) * 1e3
    result.median_ms = statistics.median(times) * 1e3
    return result


def _run_in_child(backend: str, name: str, size: str, reps: int, budget_s: float) -> Result:
    bench = suite.BENCHMARKS[name]
    inputs = bench.inputs(size)  # deterministic: the same data as the parent's
    return run_one(backend, bench, inputs, bench.reference(inputs), reps, budget_s)


def _child(conn, backend, name, size, reps, budget_s):
    conn.send(_run_in_child(backend, name, size, reps, budget_s))
    conn.close()


def run_isolated(
    backend: str, name: str, size: str, reps: int, budget_s: float, timeout_s: float | None = None
) -> Result:
    """run_one in a fresh process, so that a compiler that crashes the interpreter
    (a segfault in JIT-compiled code) costs one result, not the whole run, and
    one that takes longer than ``timeout_s`` (to compile, say) is stopped."""
    import multiprocessing

    # spawn, not fork: a forked child would inherit the parent's thread pools half-dead.
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, backend, name, size, reps, budget_s), daemon=True)
    child.start()
    send.close()
    try:
        if receive.poll(timeout_s):
            return receive.recv()
        if child.is_alive():
            return Result(name, backend, "error", message=f"timed out: no result within {timeout_s:.0f} s")
        return Result(name, backend, "error", message="crashed: the process died (a segfault in compiled code?)")
    except EOFError:
        return Result(name, backend, "error", message="crashed: the process died (a segfault in compiled code?)")
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()


def supports(backend: str, bench_name: str) -> bool:
    return backend in COMPILERS or bench_name in peers.PEERS[backend]


# -- the suite ---------------------------------------------------------------


@dataclass
class Report:
    machine: Machine
    size: str
    reps: int
    backends: list[str]
    skipped_backends: dict[str, str]
    benchmarks: list[BenchmarkInfo]
    results: list[Result]

    def to_json(self) -> dict:
        return {
            "machine": asdict(self.machine),
            "size": self.size,
            "reps": self.reps,
            "backends": self.backends,
            "skipped_backends": self.skipped_backends,
            "benchmarks": [asdict(b) for b in self.benchmarks],
            "results": [asdict(r) for r in self.results],
        }


class Progress:
    """One status line on stderr, rewritten in place on a terminal."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.start = time.perf_counter()

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        line = f"[{self.done}/{self.total} {time.perf_counter() - self.start:5.1f}s] {text}"
        if self.tty:
            self.stream.write("\r\033[K" + line[:150])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step(self) -> None:
        self.done += 1

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def run_suite(
    names: list[str],
    size: str,
    backends: list[str],
    reps: int = 10,
    threads: int | None = None,
    budget_s: float = 2.0,
    progress: bool = True,
    isolate: Iterable[str] = (),
    timeout_s: float | None = None,
) -> Report:
    """Run every named benchmark on every usable backend among ``backends``.

    Backends named in ``isolate`` run each benchmark in a child process,
    stopped after ``timeout_s`` seconds.
    """
    threads = threads or os.cpu_count() or 1
    usable, skipped = available_backends(backends)
    set_threads(usable, threads)
    bar = Progress(sum(1 + sum(supports(b, n) for b in usable) for n in names) + 1, enabled=progress)
    bar.show("measuring copy bandwidth and BLAS throughput")
    machine = measure_machine(threads)
    machine.versions = backend_versions(usable)

    infos, results = [], []
    for name in names:
        bench = suite.BENCHMARKS[name]
        bar.show(f"{name}: inputs and numpy reference")
        inputs = bench.inputs(size)
        start = time.perf_counter()
        ref = bench.reference(inputs)
        reference_ms = (time.perf_counter() - start) * 1e3
        infos.append(
            BenchmarkInfo(
                name=name,
                description=bench.description,
                size=size,
                params=dict(bench.sizes[size]),
                bytes_moved=sum(a.nbytes for a in inputs.values()) + ref.nbytes,
                flops=bench.flops(inputs),
                limit_ms=0.0,  # set below, from the machine's best measurement
                limit_kind="",
                reference_ms=reference_ms,
            )
        )
        bar.step()
        for backend in usable:
            if not supports(backend, name):
                continue
            bar.show(f"{name}: {backend}")
            if backend in isolate:
                results.append(run_isolated(backend, name, size, reps, budget_s, timeout_s))
            else:
                results.append(run_one(backend, bench, inputs, ref, reps, budget_s))
            bar.step()

    # Other work on the machine only ever slows a measurement down: measure the
    # limits again at the end and keep the better of the two.
    bar.show("measuring copy bandwidth and BLAS throughput again")
    again = measure_machine(threads)
    machine.copy_gb_s = max(machine.copy_gb_s, again.copy_gb_s)
    machine.blas_gflop_s = max(machine.blas_gflop_s, again.blas_gflop_s)
    for info in infos:
        info.limit_ms, info.limit_kind = roofline(info.bytes_moved, info.flops, machine)
    bar.step()
    bar.close()
    return Report(machine, size, reps, usable, skipped, infos, results)
