"""The long differential run, resumable in chunks.

Each chunk of seeds is run (every program under its default schedule plus
``schedules - 1`` random ones, real Halide as the second oracle) and its
counts are appended to a compact JSON file, so a later session continues
where this one stopped:

    python -m pipelang.testing.long_run --first 10000 --programs 2000 \\
        --schedules 5 --chunk 100 --out tests/fuzz/long_run.json

Failures are minimized and written as regression tests to ``--regressions``.
The file records, per chunk, the seeds, the counts of mismatches, crashes
(pipelang raised) and reference disputes (real Halide disagrees with the
reference too), the failing seeds with a one-line detail, and the commit.
After a fix, `--rerun` runs a range again; the chunks it covers are marked
superseded (kept as history) and the totals count each seed's latest run.
Each chunk runs in a child process: one that dies (heap corruption, an LLVM
assertion) is recorded as an aborted chunk with one crash, and the run goes
on. $PIPELANG_FUZZ_COMMIT names the commit when the tree is not a checkout.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time


def _load(path: str) -> dict:
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    return {"chunks": []}


def _superseded(chunks: list) -> list:
    """Per chunk, whether a later chunk with as many schedules re-ran all of
    its seeds (after a fix: `--rerun`); an aborted chunk (0 programs) is
    superseded by a later one starting at the same seed."""
    out = []
    for i, c in enumerate(chunks):
        later = chunks[i + 1:]
        if c["programs"] == 0:
            out.append(any(d["first"] == c["first"] and d["schedules"] == c["schedules"]
                           for d in later))
            continue
        rerun = {seed for d in later if d["schedules"] == c["schedules"]
                 for seed in range(d["first"], d["first"] + d["programs"])}
        out.append(all(seed in rerun for seed in range(c["first"], c["first"] + c["programs"])))
    return out


def _save(path: str, data: dict) -> None:
    chunks = data["chunks"]
    old = _superseded(chunks)
    for c, superseded in zip(chunks, old):
        c.pop("superseded", None)
        if superseded:
            c["superseded"] = True     # kept as history, left out of the totals
    current = [c for c, superseded in zip(chunks, old) if not superseded]
    schedules = {seed: c["schedules"] for c in current  # each seed's latest run
                 for seed in range(c["first"], c["first"] + c["programs"])}
    data["totals"] = {
        "programs": len(schedules),
        "runs": sum(schedules.values()),
        "mismatches": sum(c["mismatches"] for c in current),
        "crashes": sum(c["crashes"] for c in current),
        "reference": sum(c["reference"] for c in current),
        "superseded_chunks": sum(old),
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def _commit() -> str:
    """The commit under test: $PIPELANG_FUZZ_COMMIT (for a copy of the tree
    outside git), else the checkout's HEAD, else "?"."""
    if os.environ.get("PIPELANG_FUZZ_COMMIT"):
        return os.environ["PIPELANG_FUZZ_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _run_isolated(start: int, n: int, schedules: int, out: str, regressions: str | None,
                  module: str) -> None:
    """One chunk in a child process, so a crash of the process (heap
    corruption, an LLVM assertion) is recorded as an aborted chunk (0
    programs, 1 crash, the child's last words) and the run goes on."""
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "pipelang.testing.long_run", "--in-process", "--rerun",
           "--first", str(start), "--programs", str(n), "--chunk", str(n),
           "--schedules", str(schedules), "--out", out, "--module", module]
    if regressions:
        cmd += ["--regressions", regressions]
    child = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stdout.write(child.stdout)
    if child.returncode == 0:
        return
    last = [line for line in child.stderr.splitlines() if line.strip() and not line.startswith("Warning")]
    why = last[-1][:160] if last else f"exit status {child.returncode}"
    data = _load(out)
    data["chunks"].append({
        "first": start, "programs": 0, "schedules": schedules, "commit": _commit(),
        "seconds": round(time.monotonic() - t0, 1), "mismatches": 0, "crashes": 1, "reference": 0,
        "failures": [f"{start}-{start + n - 1} process aborted (status {child.returncode}): {why}"],
    })
    _save(out, data)
    print(f"seeds {start}..{start + n - 1}: process aborted: {why}", flush=True)


def run_chunks(first: int, programs: int, schedules: int, chunk: int, out: str,
               regressions: str | None, module: str = "pipelang", rerun: bool = False,
               isolate: bool = False) -> dict:
    # Every generated program is new, so the on-disk compile cache only costs
    # (each store scans the cache directory to evict): leave it off unless asked.
    os.environ.setdefault("PIPELANG_CACHE", "0")
    from pipelang.testing import differential
    hl = oracle = None
    if not isolate:
        hl = importlib.import_module(module)
        try:
            oracle = importlib.import_module("halide")
        except ImportError:
            pass
    data = _load(out)
    # Seeds already run with this many schedules (an aborted chunk records 0
    # programs, so its seeds are not counted as done and run again).
    done = {(seed, c["schedules"]) for c in data["chunks"]
            for seed in range(c["first"], c["first"] + c["programs"])}
    for start in range(first, first + programs, chunk):
        n = min(chunk, first + programs - start)
        if not rerun and all((seed, schedules) in done for seed in range(start, start + n)):
            continue
        if isolate:
            _run_isolated(start, n, schedules, out, regressions, module)
            data = _load(out)
            continue
        t0 = time.monotonic()
        fails = differential.run(hl, range(start, start + n), schedules, regression_dir=regressions,
                                 oracle=oracle, minimize_budget_s=60.0)
        data["chunks"].append({
            "first": start, "programs": n, "schedules": schedules, "commit": _commit(),
            "seconds": round(time.monotonic() - t0, 1),
            "mismatches": sum(f.kind == "mismatch" for f in fails),
            "crashes": sum(f.kind == "error" for f in fails),
            "reference": sum(f.kind == "reference" for f in fails),
            "failures": [f"{f.seed} {f.kind}: {f.detail.splitlines()[0][:160]}" for f in fails],
        })
        _save(out, data)
        print(f"seeds {start}..{start + n - 1}: {len(fails)} failures "
              f"({time.monotonic() - t0:.0f} s)", flush=True)
    return data


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--first", type=int, default=10_000)
    p.add_argument("--programs", type=int, default=2000)
    p.add_argument("--schedules", type=int, default=5)
    p.add_argument("--chunk", type=int, default=100)
    p.add_argument("--out", default="tests/fuzz/long_run.json")
    p.add_argument("--regressions", default=None,
                   help="directory for minimized regression tests (default: none written)")
    p.add_argument("--module", default="pipelang")
    p.add_argument("--rerun", action="store_true",
                   help="run seeds already in the file again (after a fix); the earlier chunks "
                        "they cover stay as history but leave the totals")
    p.add_argument("--in-process", action="store_true",
                   help="run the chunks in this process (by default each runs in a child "
                        "process, so one that crashes is recorded and the run goes on)")
    a = p.parse_args(argv)
    data = run_chunks(a.first, a.programs, a.schedules, a.chunk, a.out, a.regressions, a.module,
                      a.rerun, isolate=not a.in_process)
    print(json.dumps(data["totals"]))


if __name__ == "__main__":
    main()
