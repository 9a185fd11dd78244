"""The same computations written with the libraries people would otherwise reach for.

Each peer is ``prepare(inputs) -> (run, result)``: ``prepare`` converts layouts
and allocates outputs (not timed), ``run()`` does the work (timed), ``result()``
returns the latest output in the numpy reference's layout (not timed).
A peer is used only when its library imports; ``PEERS[backend][benchmark]``.

Border handling matches the suite: padded inputs where the suite pads,
edge replication (OpenCV BORDER_REPLICATE, scipy ``mode="nearest"``) where
the suite uses ``repeat_edge``.  Libraries that round differently are checked
against the benchmark's ``peer_tolerance``.
"""

from __future__ import annotations

import importlib
from typing import Callable

import numpy as np

from . import suite
from .apps import stencils

Prepared = tuple[Callable[[], object], Callable[[], np.ndarray]]

LIBRARY = {"numpy": "numpy", "opencv": "cv2", "scipy": "scipy.ndimage", "torch": "torch"}


def load(backend: str):
    """The peer's library module; raises ImportError when it is not installed."""
    return importlib.import_module(LIBRARY[backend])


def set_threads(backend: str, threads: int) -> None:
    if backend == "opencv":
        load("opencv").setNumThreads(threads)
    elif backend == "torch":
        load("torch").set_num_threads(threads)


def _returning(fn, *args) -> Prepared:
    """A peer whose call returns its output array."""
    box = {}

    def run():
        box["out"] = fn(*args)

    return run, lambda: box["out"]


# -- numpy: the reference implementations themselves -----------------------


def _numpy(benchmark):
    return lambda inputs: _returning(benchmark.reference, inputs)


def _numpy_matmul(inputs):
    a, b = inputs["a"], inputs["b"]
    out = np.empty((a.shape[0], b.shape[1]), np.float32)
    return (lambda: np.matmul(a, b, out=out)), (lambda: out)


NUMPY = {name: _numpy(b) for name, b in suite.BENCHMARKS.items()}
NUMPY["matmul"] = _numpy_matmul


# -- OpenCV ----------------------------------------------------------------


def _cv_box_blur(inputs):
    cv2 = load("opencv")
    a = inputs["input"]
    out = np.empty_like(a)

    def run():
        cv2.blur(a, (3, 3), dst=out, borderType=cv2.BORDER_REPLICATE)

    return run, lambda: out[1:-1, 1:-1]


def _cv_gray(cv2, img):
    g = cv2.addWeighted(img[0], stencils.LUMA[0], img[1], stencils.LUMA[1], 0.0)
    return cv2.scaleAdd(img[2], stencils.LUMA[2], g)


def _unsharp_taps():
    k = stencils.unsharp_kernel()
    return np.array(k[:0:-1] + k, np.float32)


def _max_footprint():
    """apps/max_filter's window: column dx spans rows -t .. t, t = its filter height."""
    r = stencils.RADIUS
    mask = np.zeros((2 * r + 3, 2 * r + 1), np.uint8)  # rows -(r + 1) .. r + 1
    for dx in range(-r, r + 1):
        t = min(sum(1 for dy in range(r + 1) if dx * dx + dy * dy < (r + 0.25) ** 2), r + 1)
        mask[r + 1 - t : r + 2 + t, dx + r] = 1
    return mask


def _cv_unsharp(inputs):
    cv2 = load("opencv")
    img = inputs["input"]
    kernel = _unsharp_taps()
    out = np.empty_like(img)

    def run():
        gray = _cv_gray(cv2, img)
        blurred = cv2.sepFilter2D(gray, -1, kernel, kernel, borderType=cv2.BORDER_REPLICATE)
        ratio = cv2.divide(cv2.addWeighted(gray, 2.0, blurred, -1.0, 0.0), gray)
        for c in range(3):
            cv2.multiply(ratio, img[c], dst=out[c])

    return run, lambda: out


def _cv_harris(inputs):
    cv2 = load("opencv")
    img = inputs["input"]
    box = {}

    def run():
        # The suite clamps the input, not each stage: pad gray by the pipeline's
        # 2-pixel reach, then any border mode is right on the cropped result.
        gray = cv2.copyMakeBorder(_cv_gray(cv2, img), 2, 2, 2, 2, cv2.BORDER_REPLICATE)
        ix = cv2.Sobel(gray, -1, 1, 0, ksize=3, scale=1 / 12)
        iy = cv2.Sobel(gray, -1, 0, 1, ksize=3, scale=1 / 12)

        def box3(a):
            return cv2.boxFilter(a, -1, (3, 3), normalize=False)

        sxx, syy, sxy = box3(ix * ix), box3(iy * iy), box3(ix * iy)
        trace = sxx + syy
        box["out"] = (sxx * syy - sxy * sxy - np.float32(0.04) * trace * trace)[2:-2, 2:-2]

    return run, lambda: box["out"]


def _cv_hist_eq(inputs):
    cv2 = load("opencv")
    a = inputs["input"]
    out = np.empty_like(a)
    return (lambda: cv2.equalizeHist(a, dst=out)), (lambda: out)


def _cv_max_filter(inputs):
    cv2 = load("opencv")
    img = inputs["input"]
    mask = _max_footprint()
    out = np.empty_like(img)

    def run():
        for c in range(img.shape[0]):
            cv2.dilate(img[c], mask, dst=out[c], borderType=cv2.BORDER_REPLICATE)

    return run, lambda: out


OPENCV = {
    "box_blur": _cv_box_blur,
    "unsharp": _cv_unsharp,
    "harris": _cv_harris,
    "hist_eq": _cv_hist_eq,
    "max_filter": _cv_max_filter,
}


# -- scipy.ndimage ---------------------------------------------------------


def _sp_box_blur(inputs):
    ndi = load("scipy")
    a = inputs["input"]
    tmp, out = np.empty_like(a), np.empty_like(a)

    def run():
        ndi.uniform_filter1d(a, 3, axis=1, output=tmp, mode="nearest")
        ndi.uniform_filter1d(tmp, 3, axis=0, output=out, mode="nearest")

    return run, lambda: out[1:-1, 1:-1]


def _sp_unsharp(inputs):
    ndi = load("scipy")
    img = inputs["input"]
    kernel = _unsharp_taps()
    out = np.empty_like(img)

    def run():
        gray = stencils.gray_np(img)
        blurred = ndi.correlate1d(ndi.correlate1d(gray, kernel, axis=0, mode="nearest"), kernel, axis=1, mode="nearest")
        np.multiply(((2 * gray - blurred) / gray)[None], img, out=out)

    return run, lambda: out


def _sp_harris(inputs):
    ndi = load("scipy")
    img = inputs["input"]
    box = {}

    def run():
        gray = np.pad(stencils.gray_np(img), 2, mode="edge")  # as in _cv_harris
        ix = ndi.sobel(gray, axis=1) * np.float32(1 / 12)
        iy = ndi.sobel(gray, axis=0) * np.float32(1 / 12)

        def box3(a):
            return ndi.uniform_filter(a, 3) * np.float32(9)

        sxx, syy, sxy = box3(ix * ix), box3(iy * iy), box3(ix * iy)
        trace = sxx + syy
        box["out"] = (sxx * syy - sxy * sxy - np.float32(0.04) * trace * trace)[2:-2, 2:-2]

    return run, lambda: box["out"]


def _sp_max_filter(inputs):
    ndi = load("scipy")
    img = inputs["input"]
    footprint = _max_footprint()[None]
    out = np.empty_like(img)
    return (lambda: ndi.maximum_filter(img, footprint=footprint, output=out, mode="nearest")), (lambda: out)


SCIPY = {
    "box_blur": _sp_box_blur,
    "unsharp": _sp_unsharp,
    "harris": _sp_harris,
    "max_filter": _sp_max_filter,
}


# -- PyTorch (CPU) ---------------------------------------------------------


def _torch_matmul(inputs):
    torch = load("torch")
    a, b = torch.from_numpy(inputs["a"]), torch.from_numpy(inputs["b"])
    out = torch.empty((a.shape[0], b.shape[1]), dtype=torch.float32)
    return (lambda: torch.mm(a, b, out=out)), (lambda: out.numpy())


def _torch_conv_relu(inputs):
    torch = load("torch")
    f = torch.nn.functional
    # NCHW tensors in channels_last memory: the same NHWC bytes, no transposition.
    x = torch.from_numpy(inputs["input"]).permute(0, 3, 1, 2)
    w = torch.from_numpy(np.ascontiguousarray(inputs["filter"].transpose(3, 0, 1, 2)))
    w = w.to(memory_format=torch.channels_last)
    b = torch.from_numpy(inputs["bias"])
    box = {}

    def run():
        with torch.no_grad():
            box["out"] = torch.relu_(f.conv2d(x, w, b))

    return run, lambda: box["out"].permute(0, 2, 3, 1).numpy()


def _torch_unsharp(inputs):
    torch = load("torch")
    f = torch.nn.functional
    img = torch.from_numpy(inputs["input"])
    luma = torch.tensor(stencils.LUMA, dtype=torch.float32).view(3, 1, 1)
    k = torch.from_numpy(_unsharp_taps())
    ky, kx = k.view(1, 1, 7, 1), k.view(1, 1, 1, 7)
    box = {}

    def run():
        with torch.no_grad():
            gray = (img * luma).sum(0)
            g = f.pad(gray[None, None], (3, 3, 3, 3), mode="replicate")
            blurred = f.conv2d(f.conv2d(g, ky), kx)[0, 0]
            box["out"] = ((2 * gray - blurred) / gray) * img

    return run, lambda: box["out"].numpy()


TORCH = {
    "unsharp": _torch_unsharp,
    "matmul": _torch_matmul,
    "conv_relu": _torch_conv_relu,
    # No max_filter: max_pool2d has no uint8 kernel and its stride-1 float path
    # takes seconds at full size.
}


PEERS: dict[str, dict[str, Callable[[dict], Prepared]]] = {
    "numpy": NUMPY,
    "opencv": OPENCV,
    "scipy": SCIPY,
    "torch": TORCH,
}
