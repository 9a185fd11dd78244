"""Run Halide's own Python tutorials and correctness tests under real Halide
and under pipelang, and compare what they print.

    python -m pipelang.testing.conformance /path/to/halide-checkout [more checkouts...]

Each listed program is looked up in the checkouts given (the first that has it
wins: `python_bindings/tutorial/` and `python_bindings/test/correctness/`), copied
into a fresh temporary tree where `../../tutorial/images` resolves to the
checkout's images, and run twice in a subprocess: once with `import halide`
meaning real Halide, once with `halide` (and `halide.imageio`) bound to
pipelang. The programs are not edited. Their stdout and exit status are
compared after normalizing only what legitimately differs between runs and
compilers: timings, pointer values and the CPU-feature part of target strings.
Both runs use one thread (HL_NUM_THREADS=1, `--threads` to change it), so
what parallel loops print comes in loop order.

The result is a table of items: `identical`, `different` (the diff is shown
with --diff), `failed` (pipelang exited non-zero where Halide did not; its
stderr tail is shown), `missing` (not in any checkout) or `skipped` (Halide
itself is not installed, or it fails on the program).
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

TUTORIALS = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "13", "14",
             "17", "18", "19", "20", "22", "23", "24")
CORRECTNESS = ("atomics", "basics", "boundary_conditions", "buffer", "division",
               "float_precision_test", "iroperator", "memoize", "multipass_constraints",
               "negate_test", "rdom", "realize_warnings", "serialization", "target",
               "tuple_select", "type", "var")

# Runs the program with `halide` bound to pipelang, as if it had imported halide.
_AS_PIPELANG = """\
import runpy, sys
import pipelang, pipelang.imageio
sys.modules['halide'] = pipelang
sys.modules['halide.imageio'] = pipelang.imageio
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name='__main__')
"""
_AS_HALIDE = """\
import runpy, sys
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name='__main__')
"""

_POINTER = re.compile(r"0x[0-9a-fA-F]{4,}")
_UNIT = r"(?:ms|msec|milliseconds?|us|µs|microseconds?|ns|s|sec|secs|seconds?)"
_TIMING = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?\s*" + _UNIT + r"\b")
# Rates are timings too ("457 times/sec").
_RATE = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?\s*(?:times/sec|times per second|/sec\b)")
_TARGET = re.compile(r"\b((?:x86|arm|powerpc|hexagon|wasm|riscv)-(?:32|64)-[a-z]+)((?:-[a-z0-9_]+)*)")
_CORRECTNESS_FILES = {"negate_test": "negate_test.py", "float_precision_test": "float_precision_test.py"}


@dataclass
class Item:
    name: str  # e.g. "lesson_02" or "correctness/buffer"
    path: Path | None  # the program, None when no checkout has it
    checkout: Path | None
    images: Path | None = None  # tutorial/images of the first checkout that has them


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str


@dataclass
class Outcome:
    item: Item
    status: str  # identical, different, failed, missing, skipped
    detail: str = ""


def normalize(text: str) -> str:
    """Only timings, pointer values and CPU-feature strings are masked."""
    text = _POINTER.sub("0x<ptr>", text)
    text = _TARGET.sub(lambda m: m.group(1) + ("-<features>" if m.group(2) else ""), text)
    return _TIMING.sub("<time>", _RATE.sub("<rate>", text))


def find_items(checkouts: list[Path], only: set[str] | None = None) -> list[Item]:
    items = []
    for lesson in TUTORIALS:
        name = f"lesson_{lesson}"
        found = None
        for root in checkouts:
            hits = sorted((root / "python_bindings" / "tutorial").glob(f"lesson_{lesson}_*.py"))
            if hits:
                found = (hits[0], root)
                break
        items.append(Item(name, *(found or (None, None))))
    for test in CORRECTNESS:
        name = f"correctness/{test}"
        found = None
        for root in checkouts:
            p = root / "python_bindings" / "test" / "correctness" / _CORRECTNESS_FILES.get(test, f"{test}.py")
            if p.exists():
                found = (p, root)
                break
        items.append(Item(name, *(found or (None, None))))
    images = next((c / "tutorial" / "images" for c in checkouts
                   if (c / "tutorial" / "images").is_dir()), None)
    for item in items:
        item.images = images
    if only:
        items = [i for i in items if i.name in only or i.name.split("/")[-1] in only
                 or (i.path is not None and i.path.stem in only)]
    return items


def _run(item: Item, bootstrap: str, timeout: float, threads: int = 1) -> Run:
    """One run of the program in a fresh tree: <tmp>/python_bindings/<sub>/prog.py
    with <tmp>/tutorial/images linked to the checkout's images."""
    assert item.path is not None and item.checkout is not None
    with tempfile.TemporaryDirectory(prefix="pl_conformance_") as tmp:
        tmp = Path(tmp)
        rel = item.path.relative_to(item.checkout)
        dest = tmp / rel
        dest.parent.mkdir(parents=True)
        shutil.copy(item.path, dest)
        images = item.checkout / "tutorial" / "images"
        if not images.is_dir():
            images = item.images    # a checkout of python_bindings/ alone
        if images is not None and images.is_dir():
            (tmp / "tutorial").mkdir()
            (tmp / "tutorial" / "images").symlink_to(images.resolve())
        project_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([project_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        # One thread: what a parallel loop traces then comes in loop order under
        # both compilers, instead of in an order that changes from run to run.
        env["HL_NUM_THREADS"] = str(threads)
        try:
            done = subprocess.run([sys.executable, "-c", bootstrap, str(dest)], cwd=dest.parent, env=env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            return Run(124, out, f"timed out after {timeout:.0f} s")
        return Run(done.returncode, done.stdout, done.stderr)


def _available(module: str) -> bool:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    return done.returncode == 0


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def compare(item: Item, timeout: float = 600, threads: int = 1) -> Outcome:
    if item.path is None:
        return Outcome(item, "missing", "not in any checkout given")
    ref = _run(item, _AS_HALIDE, timeout, threads)
    if ref.rc != 0:
        return Outcome(item, "skipped", f"real Halide exits {ref.rc}: {_tail(ref.stderr, 3)}")
    got = _run(item, _AS_PIPELANG, timeout, threads)
    want_out, got_out = normalize(ref.stdout), normalize(got.stdout)
    if got.rc != 0:
        return Outcome(item, "failed", f"exit {got.rc}:\n{_tail(got.stderr)}")
    if want_out != got_out:
        diff = difflib.unified_diff(want_out.splitlines(), got_out.splitlines(), "halide", "pipelang", lineterm="", n=1)
        return Outcome(item, "different", "\n".join(diff))
    return Outcome(item, "identical")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelang.testing.conformance", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts", nargs="+", type=Path, help="Halide source checkouts, searched in order")
    ap.add_argument("--only", nargs="*", help="run only these items (e.g. lesson_02 buffer)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run (default 600)")
    ap.add_argument("--diff", action="store_true", help="show the diff or error of each item that is not identical")
    ap.add_argument("--threads", type=int, default=1,
                    help="HL_NUM_THREADS for both runs (default 1, so traces from parallel loops are ordered)")
    args = ap.parse_args(argv)
    for module in ("halide", "pipelang"):
        if not _available(module):
            print(f"skipped: `import {module}` fails here, nothing to compare")
            return 0
    checkouts = [c for c in args.checkouts if (c / "python_bindings").is_dir()]
    if not checkouts:
        print("skipped: no Halide checkout (with python_bindings/) among " + ", ".join(map(str, args.checkouts)))
        return 0
    items = find_items(checkouts, set(args.only) if args.only else None)
    outcomes = []
    width = max(len(i.name) for i in items) if items else 10
    for item in items:
        o = compare(item, args.timeout, args.threads)
        outcomes.append(o)
        first = o.detail.splitlines()[-1] if o.detail and o.status in ("failed", "skipped", "missing") else ""
        print(f"{item.name:<{width}}  {o.status:<10} {first[:100]}", flush=True)
        if args.diff and o.status in ("different", "failed"):
            print("    " + o.detail.replace("\n", "\n    "), flush=True)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("identical", "different", "failed", "skipped", "missing")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0 if counts["different"] == 0 and counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
