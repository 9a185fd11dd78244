"""The lowered-statement HTML page in a real headless browser (Chromium, from
the system packages): the page renders (a screenshot with content in it), its
script runs, and the navigation links and collapsible loops are live in the DOM
the browser built. Skipped where Chromium is not installed."""
import re
import shutil
import struct
import subprocess
import zlib

import numpy as np
import pytest

import pipelang as hl

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--hide-scrollbars", "--no-first-run", "--virtual-time-budget=2000"]


def _page(tmp_path):
    x, y = hl.vars("x y")
    g, f = hl.Func("g"), hl.Func("f")
    g[x, y] = x + y
    f[x, y] = g[x, y] + g[x + 1, y]
    g.compute_at(f, y)
    f.vectorize(x, 8).parallel(y)
    path = tmp_path / "f.html"
    f.compile_to_lowered_stmt(str(path), [], hl.StmtOutputFormat.HTML)
    return path


def _browser(*args, timeout=90):
    done = subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=timeout)
    return done


def _png_pixels(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    rows, prev = [], np.zeros(width * channels, np.int32)
    for line in raw:                       # undo the per-row PNG filters
        f, cur = line[0], line[1:].astype(np.int32)
        out = np.zeros_like(cur)
        for i in range(len(cur)):
            a = out[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 0:
                p = 0
            elif f == 1:
                p = a
            elif f == 2:
                p = b
            elif f == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[i] = (cur[i] + p) & 255
        rows.append(out)
        prev = out
    return np.array(rows).reshape(height, width, channels)


def test_page_renders_in_chromium(tmp_path):
    page = _page(tmp_path)
    shot = tmp_path / "shot.png"
    done = _browser(f"--screenshot={shot}", "--window-size=400,300", page.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    pixels = _png_pixels(shot.read_bytes())[:, :, :3]
    assert pixels.shape[:2] == (300, 400)
    # Not a blank page: text and the navigation pane draw dark pixels on white.
    dark = (pixels.sum(axis=2) < 300).mean()
    assert 0.002 < dark < 0.5, f"{dark:.4f} of the screenshot is dark"


def test_dom_has_live_navigation(tmp_path):
    page = _page(tmp_path)
    done = _browser("--dump-dom", page.as_uri())
    dom = done.stdout
    assert "<main" in dom and "<nav" in dom, done.stderr[-2000:]
    links = re.findall(r'href="#([^"]+)"', dom)
    ids = set(re.findall(r'id="([^"]+)"', dom))
    assert links and set(links) <= ids
    assert dom.count("<details") >= 3 and "produce" in dom and "vectorized" in dom
