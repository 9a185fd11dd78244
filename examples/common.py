"""What the examples share: choosing the compiler, synthetic test images, writing PNGs.

Every example is written against Halide's Python API, so it runs with pipelang
(`import pipelang as hl`) or, unchanged, with real Halide (`import halide as hl`):

    python examples/blur.py             # pipelang
    python examples/blur.py --halide    # the same program on real Halide

While pipelang cannot run a program yet, the examples say so and use real Halide.
"""

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("pipelang") is None:  # running from a checkout, not installed
    sys.path.insert(0, str(REPO))

from pipelang.bench.png import write_png  # noqa: E402  (a 40-line PNG writer: numpy + zlib)


def _parse_args():
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--halide", action="store_true", help="run on real Halide instead of pipelang")
    p.add_argument("--out", default=str(REPO / "examples" / "out"), help="where to write PNGs")
    args, _ = p.parse_known_args()
    return args


def _import_hl(use_halide: bool):
    if not use_halide:
        try:
            module = importlib.import_module("pipelang")
            if hasattr(module, "Func"):
                return module
            why = "pipelang does not export its API yet"
        except ImportError as e:
            why = f"pipelang does not import ({e})"
        print(f"[{why}: running on real Halide instead]", file=sys.stderr)
    return importlib.import_module("halide")


ARGS = _parse_args()
hl = _import_hl(ARGS.halide)
OUT = Path(ARGS.out)


def save_png(name: str, image: np.ndarray) -> Path:
    """Write examples/out/NAME (uint8 or uint16; (H, W) gray or (H, W, 3) colour)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    write_png(path, image)
    print(f"wrote {path}")
    return path


def to_8bit(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """Scale [low, high] to [0, 255] for viewing."""
    return (np.clip((image - low) / (high - low), 0, 1) * 255 + 0.5).astype(np.uint8)


def scene(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A synthetic photo-like scene in [0, 1], float32 (H, W): shapes, edges, a gradient, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = xx / width, yy / height
    scene = 0.25 + 0.35 * u  # a horizontal gradient
    scene += 0.15 * np.sin(2 * np.pi * 6 * u) * np.cos(2 * np.pi * 4 * v)  # smooth texture
    scene = np.where((u - 0.3) ** 2 + (v - 0.4) ** 2 < 0.04, 0.9, scene)  # a bright disc
    scene = np.where((abs(u - 0.72) < 0.12) & (abs(v - 0.62) < 0.2), 0.1, scene)  # a dark box
    scene += rng.normal(0, 0.02, size=scene.shape)
    return np.clip(scene, 0, 1).astype(np.float32)


def colour_scene(width: int, height: int) -> np.ndarray:
    """Planar float32 RGB (3, H, W) in [0.1, 1]: the scene tinted differently per channel."""
    s = scene(width, height)
    return np.clip(np.stack([s, s[:, ::-1], 0.5 * (s + s[::-1])]), 0.1, 1.0).astype(np.float32)


def print_loop_nest(f) -> None:
    """f.print_loop_nest() writes from native code: flush Python's stdout first to keep order."""
    print(f"\nloop nest of {f.name()}:", flush=True)
    f.print_loop_nest()
    sys.stdout.flush()
