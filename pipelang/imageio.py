"""Reading and writing images with Halide's layout conventions.

Image files hold pixels interleaved, numpy's (rows, columns, channels) array.
Halide's Python bindings read them *planar* instead: `imread` returns a
C-contiguous (channels, rows, columns) array, which `Buffer` sees, reversing
the axes, as (x, y, c) with x dense: the layout Halide's tutorials schedule
for. `imwrite` takes such a planar array (or Buffer) back and writes it
interleaved. Arrays that are not 3-D, or 3-D arrays whose last axis is dense
with at most 4 entries ("already interleaved"), pass through unchanged, as in
Halide's module.

    im = imageio.imread("rgb.png")        # uint8, shape (3, H, W)
    buf = Buffer(im)                       # x, y, c with extents W, H, 3
    imageio.imwrite("out.png", buf)

`load(path)` and `save(path, buf)` are the same, returning and taking Buffers.

The files are read and written with the `imageio` package (the library Halide's
module wraps, so pixel values, dtypes and supported formats are the same);
where it is not installed, Pillow is used for the formats it knows. Neither is
a hard dependency of pipelang: `pip install pipelang[image]`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["imread", "imwrite", "load", "save", "is_interleaved", "copy_to_interleaved", "copy_to_planar"]

_INSTALL = "pipelang.imageio needs the `imageio` package (or Pillow): pip install 'pipelang[image]'"


def _as_array(im) -> np.ndarray:
    # A Buffer converts with its axes reversed (dimension 0 last), as Halide's
    # buffer protocol exposes it.
    return np.asarray(im)


def is_interleaved(im) -> bool:
    """Whether `im` is 3-D with a dense last axis of 1 to 4 channels."""
    a = _as_array(im)
    return a.ndim == 3 and a.strides[2] == a.itemsize and a.shape[2] in (1, 2, 3, 4)


def copy_to_interleaved(im):
    """A (rows, columns, channels) copy of a planar (channels, rows, columns)
    3-D image, stored with the channel axis dense; anything else unchanged."""
    a = _as_array(im)
    if a.ndim == 3 and not is_interleaved(a):
        return np.copy(np.moveaxis(a, 0, 2), order="F")
    return im


def copy_to_planar(im):
    """A C-contiguous (channels, rows, columns) copy of an interleaved 3-D
    image; anything else unchanged."""
    a = _as_array(im)
    if is_interleaved(a):
        return np.copy(np.moveaxis(a, 2, 0), order="C")
    return im


def _backend():
    try:
        import imageio.v2 as iio
        return iio
    except ImportError:
        try:
            import imageio as iio
            return iio
        except ImportError:
            return None


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(_INSTALL) from None
    return Image


def imread(uri, format=None, **kwargs):
    """The image at `uri` as a numpy array, 3-D images planar (channels, rows, columns)."""
    iio = _backend()
    if iio is not None:
        return copy_to_planar(iio.imread(uri, format, **kwargs))
    with _pillow().open(uri, formats=[format] if format else None) as img:
        return copy_to_planar(np.asarray(img, **kwargs))


def imwrite(uri, im, format=None, **kwargs):
    """Write `im` (a numpy array or Buffer; 3-D planar images are interleaved first)."""
    data = copy_to_interleaved(_as_array(im))
    iio = _backend()
    if iio is not None:
        iio.imwrite(uri, data, format, **kwargs)
        return
    a = np.asarray(data)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    _pillow().fromarray(np.ascontiguousarray(a)).save(uri, format=format, **kwargs)


def load(path):
    """The image at `path` as a Buffer indexed (x, y[, c])."""
    from pipelang.buffer import Buffer
    return Buffer(imread(path))


def save(path, buf) -> None:
    """Write a Buffer (or array) indexed (x, y[, c]) to `path`."""
    imwrite(path, buf)
