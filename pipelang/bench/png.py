"""A tiny PNG writer and reader in numpy and zlib, so the examples need no imaging library.

Supported: 8- and 16-bit gray (H, W), RGB (H, W, 3) and RGBA (H, W, 4),
non-interlaced.  The reader undoes all five PNG row filters, so it also reads
files written by other tools in those formats.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type
_CHANNELS = {v: k for k, v in _COLOR_TYPE.items()}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """The PNG file of a uint8 or uint16 image of shape (H, W), (H, W, 3) or (H, W, 4)."""
    image = np.asarray(image)
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"write_png takes uint8 or uint16 pixels, not {image.dtype}; scale and cast first")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in _COLOR_TYPE:
        raise ValueError(f"write_png takes shape (H, W), (H, W, 3) or (H, W, 4), not {image.shape}")
    height, width, channels = image.shape
    bits = image.dtype.itemsize * 8
    rows = image.astype(image.dtype.newbyteorder(">")).reshape(height, -1).view(np.uint8)
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows])  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", width, height, bits, _COLOR_TYPE[channels], 0, 0, 0)
    return (
        _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _chunk(b"IEND", b"")
    )


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write a uint8 or uint16 image of shape (H, W), (H, W, 3) or (H, W, 4)."""
    Path(path).write_bytes(encode_png(image))


def read_png(path: str | Path) -> np.ndarray:
    """Read a PNG written by write_png (or any 8/16-bit gray, RGB or RGBA non-interlaced PNG)."""
    data = Path(path).read_bytes()
    if not data.startswith(_SIGNATURE):
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, header = len(_SIGNATURE), [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, bits, color_type, _, _, interlace = header
    if bits not in (8, 16) or color_type not in _CHANNELS or interlace:
        raise ValueError(f"{path}: only 8/16-bit gray, RGB or RGBA non-interlaced PNGs are supported")
    channels = _CHANNELS[color_type]
    bpp = channels * bits // 8  # bytes per pixel, the filters' unit
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 0:
            row = line
        elif kind == 2:
            row = line + prev
        else:  # Sub, Average and Paeth depend on the pixel to the left: go byte by byte
            row = np.zeros(stride, np.int32)
            for i in range(stride):
                a = int(row[i - bpp]) if i >= bpp else 0
                b = int(prev[i])
                c = int(prev[i - bpp]) if i >= bpp else 0
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[i] = (line[i] + pred) & 0xFF
        out[y] = row & 0xFF
        prev = out[y]
    pixels = out.view(">u2").astype(np.uint16) if bits == 16 else out
    pixels = pixels.reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels
