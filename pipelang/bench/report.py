"""Presenting a run: a terminal table, a JSON file and a PNG chart (when matplotlib is installed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .runner import COMPILERS, Report, Result

CELL = 22  # width of one backend's column


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _cell(r: Result | None, limit_ms: float) -> str:
    if r is None:
        return "-"
    if r.status == "ok":
        times = f"{_ms(r.min_ms)}/{_ms(r.median_ms)}"
        return f"{times} ({r.min_ms / limit_ms:.1f}x)" if limit_ms > 0 else times
    if r.status == "mismatch":
        return f"mismatch: {r.max_error:.2g}"
    text = f"error: {r.message.split(':')[0]}"  # the exception's type; the message is listed below
    return text if len(text) <= CELL else text[: CELL - 3] + "..."


def _table(header: list[str], rows: list[list[str]], widths: list[int]) -> list[str]:
    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def format_table(report: Report) -> str:
    m = report.machine
    by_key = {(r.benchmark, r.backend): r for r in report.results}
    lines = [
        f"pipelang-bench: size {report.size}, {m.threads} threads, {m.cpu}",
        f"machine limit: copy {m.copy_gb_s:.1f} GB/s (numpy copy), float32 {m.blas_gflop_s:.0f} GFLOP/s (numpy BLAS)",
        "cells: min/median ms of the warm runs (min as a multiple of the machine limit)",
    ]
    if m.load_average > 0.5 * m.cores:
        lines.append(f"warning: load average {m.load_average:.1f} on {m.cores} cores: other work slows these timings")
    lines.append("")
    header = ["benchmark", "limit ms"] + report.backends
    rows = []
    for info in report.benchmarks:
        kind = "mem" if info.limit_kind == "memory" else "flop"
        rows.append(
            [info.name, f"{_ms(info.limit_ms)} {kind}"]
            + [_cell(by_key.get((info.name, b)), info.limit_ms) for b in report.backends]
        )
    widths = [max(len(r[0]) for r in rows + [header]), 11] + [CELL] * len(report.backends)
    lines += _table(header, rows, widths)

    compilers = [b for b in report.backends if b in COMPILERS]
    if compilers:
        lines += ["", "compile time, s (building the Funcs and compile_jit):"]
        rows = []
        for info in report.benchmarks:
            cells = []
            for b in compilers:
                r = by_key.get((info.name, b))
                cells.append(f"{r.compile_s:.2f}" if r and r.compile_s is not None else "-")
            rows.append([info.name] + cells)
        lines += _table(["benchmark"] + compilers, rows, [widths[0]] + [10] * len(compilers))

    failures = [r for r in report.results if r.status != "ok"]
    if failures:
        lines += ["", "failures:"]
        lines += [f"  {r.benchmark} on {r.backend}: {r.status}: {r.message}" for r in failures]
    if report.skipped_backends:
        lines += ["", "not installed or not usable:"]
        lines += [f"  {name}: {why}" for name, why in report.skipped_backends.items()]
    return "\n".join(lines)


def ratio_geomean(report: Report) -> tuple[dict[str, float], float | None]:
    """pipelang's min time over Halide's, per benchmark both ran, and their geometric mean."""
    by_key = {(r.benchmark, r.backend): r for r in report.results}
    ratios = {}
    for info in report.benchmarks:
        ours, theirs = by_key.get((info.name, "pipelang")), by_key.get((info.name, "halide"))
        if ours and theirs and ours.status == theirs.status == "ok":
            ratios[info.name] = ours.min_ms / theirs.min_ms
    if not ratios:
        return ratios, None
    return ratios, math.exp(sum(math.log(v) for v in ratios.values()) / len(ratios))


def format_markdown(report: Report) -> str:
    """The README's performance table: min ms per backend, pipelang/Halide, compile seconds."""
    by_key = {(r.benchmark, r.backend): r for r in report.results}
    ratios, geomean = ratio_geomean(report)
    peers = [b for b in report.backends if b not in COMPILERS]
    names = {"pipelang": "pipelang", "halide": "Halide 21", "numpy": "numpy", "opencv": "OpenCV", "scipy": "scipy",
             "torch": "torch"}
    header = ["benchmark", "pipelang ms", "Halide ms", "pipelang/Halide"] + [f"{names[b]} ms" for b in peers]
    header += ["compile s (pipelang / Halide)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def cell(r):
        if r is None:
            return "–"
        return _ms(r.min_ms) if r.status == "ok" else r.status + (": timed out" if "timed out" in r.message else "")

    for info in report.benchmarks:
        row = [info.name]
        row += [cell(by_key.get((info.name, b))) for b in COMPILERS]
        row.append(f"{ratios[info.name]:.2f}" if info.name in ratios else "–")
        row += [cell(by_key.get((info.name, b))) for b in peers]
        compile_s = [by_key.get((info.name, b)) for b in COMPILERS]
        row.append(" / ".join(f"{r.compile_s:.1f}" if r and r.compile_s is not None else "–" for r in compile_s))
        lines.append("| " + " | ".join(row) + " |")
    if geomean is not None:
        worst = max(ratios, key=ratios.get)
        lines += ["", f"Geometric mean of pipelang/Halide over the {len(ratios)} benchmarks both ran: "
                  f"**{geomean:.2f}** (highest: {worst}, {ratios[worst]:.2f})."]
    return "\n".join(lines)


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report.to_json(), indent=2) + "\n")


def write_png(report: Report, path: str | Path) -> str | None:
    """A bar chart of each result's distance from the machine limit; returns why not, if not drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed"

    by_key = {(r.benchmark, r.backend): r for r in report.results}
    names = [b.name for b in report.benchmarks]
    limits = {b.name: b.limit_ms for b in report.benchmarks}
    backends = report.backends
    height = 0.8 / max(len(backends), 1)
    fig, ax = plt.subplots(figsize=(10, 0.6 + 0.5 * len(names) * max(1, len(backends) / 3)))
    for j, backend in enumerate(backends):
        ys, xs = [], []
        for i, name in enumerate(names):
            r = by_key.get((name, backend))
            if r is not None and r.status == "ok" and limits[name] > 0:
                ys.append(i + (j - (len(backends) - 1) / 2) * height)
                xs.append(r.min_ms / limits[name])
        bars = ax.barh(ys, xs, height=height, label=backend)
        for i, name in enumerate(names):  # say where a bar is missing because the run failed
            r = by_key.get((name, backend))
            if r is not None and r.status != "ok":
                y = i + (j - (len(backends) - 1) / 2) * height
                ax.text(
                    0.01,
                    y,
                    f"{backend}: {r.status}",
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    fontsize=7,
                    color=bars.patches[0].get_facecolor() if bars.patches else "black",
                )
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("best time / machine limit (1 = memory- or FLOP-bound optimum; lower is better)")
    m = report.machine
    ax.set_title(f"pipelang-bench, size {report.size}, {m.threads} threads", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None
