"""Bytes -> an upright 8-bit RGB/RGBA image, and RGBA -> PNG bytes. No Django.

Decoding builds on `core.imaging` (the one place that opens untrusted bytes, Django-free
as well): the pixel limit is checked from the header before decoding, and a truncated or
corrupt file raises `ImageRejected` with the API's error code.

PNG encoding is ours rather than Pillow's because it is the slowest step of a background
removal on a large photo: Pillow tries every PNG filter on every row and compresses on
one core. `png_encode` applies the "Up" filter to all rows at once with NumPy (on
photographs it compresses as well as Pillow's adaptive choice) and deflates horizontal
bands on a small thread pool (zlib releases the GIL), joined into one valid zlib stream
with full flushes. Deflate is zlib-ng's (the `zlib-ng` package): at level 2 it is 1.75x
as fast as zlib on a 12-megapixel cut-out, for a slightly smaller file. The compression level is a parameter (setting `BG_REMOVE_PNG_LEVEL`).
`bench/bg_remove.py` shows the measurements behind the defaults.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from PIL import Image, ImageOps
from zlib_ng import zlib_ng

from core import metrics
from core.imaging import ImageRejected, image_load, image_open, to_8bit_rgb_or_rgba, exif_orientation

__all__ = ["ImageRejected", "decode", "decode_reduced", "to_8bit_rgb_or_rgba", "png_encode"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOR_TYPES = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
_BAND_ROWS_MIN = 64
_pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="png")


def decode(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode the first frame of `data` upright (EXIF orientation applied), as RGB or RGBA."""
    image = image_open(io.BytesIO(data), max_pixels=max_pixels)
    image_load(image)
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block: keep the pixels as stored
        pass
    return to_8bit_rgb_or_rgba(image)


def decode_reduced(
    data: bytes, *, max_pixels: int, target: Callable[[tuple[int, int]], tuple[int, int]]
) -> tuple[Image.Image, tuple[int, int]]:
    """`decode`, reduced to `target(size)` (LANCZOS), and the upright size before reduction.
    `target` must keep the aspect ratio (it is asked with the stored, not upright, size).

    A JPEG asked to shrink is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that keeps it
    at least that big, which is most of the time saved for a small result."""
    image = image_open(io.BytesIO(data), max_pixels=max_pixels)
    stored = image.size
    size = target(stored)  # the target keeps the aspect ratio: the same in either orientation
    image_load(image, draft=size if size != stored else None)
    if exif_orientation(image) in (5, 6, 7, 8):  # read once loaded: a quarter turn swaps the sides
        stored, size = stored[::-1], size[::-1]
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block: keep the pixels as stored
        pass
    image = to_8bit_rgb_or_rgba(image)
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return image, stored


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _deflate_band(band: memoryview, level: int, last: bool) -> bytes:
    compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15)
    return compressor.compress(band) + compressor.flush(zlib_ng.Z_FINISH if last else zlib_ng.Z_FULL_FLUSH)


def png_encode(image: Image.Image, *, level: int = 2, bands: int = 4) -> bytes:
    """Encode an 8-bit L/LA/RGB/RGBA image as PNG (Up filter, deflate `level` 0-9)."""
    with metrics.ENCODE_SECONDS.labels("png").time():
        return _png_encode(image, level=level, bands=bands)


def _png_encode(image: Image.Image, *, level: int, bands: int) -> bytes:
    if image.mode not in _PNG_COLOR_TYPES:
        raise ValueError(f"png_encode takes L, LA, RGB or RGBA images, not {image.mode}")
    if not 0 <= level <= 9:
        raise ValueError("PNG compression level must be 0-9")
    width, height = image.size
    pixels = np.asarray(image, dtype=np.uint8).reshape(height, width * len(image.mode))
    raw = np.empty((height, pixels.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = 2  # filter type "Up" on every row: the difference to the row above
    raw[0, 1:] = pixels[0]
    np.subtract(pixels[1:], pixels[:-1], out=raw[1:, 1:])  # uint8 arithmetic wraps, as PNG wants
    flat = memoryview(raw).cast("B")
    row_bytes = raw.shape[1]
    band_rows = max(_BAND_ROWS_MIN, -(-height // max(1, bands)))
    edges = list(range(0, height, band_rows)) + [height]
    jobs = [
        (flat[start * row_bytes : end * row_bytes], end == height)
        for start, end in zip(edges[:-1], edges[1:])
    ]
    if len(jobs) == 1:
        parts = [_deflate_band(jobs[0][0], level, True)]
    else:
        parts = list(_pool.map(lambda job: _deflate_band(job[0], level, job[1]), jobs))
    header = b"\x78\x01"  # zlib header: deflate, 32K window (levels are interchangeable here)
    stream = header + b"".join(parts) + struct.pack(">I", zlib_ng.adler32(flat))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[image.mode], 0, 0, 0)
    return _PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


class LargeImageGate:
    """At most `slots` large images (over `pixels`) in work at once in this process.

    A 12-megapixel cut-out passes through full-size buffers of 36-48 MB each (decoded
    pixels, mask, cut-out, PNG bands): two such requests at once in one web worker made its
    peak 1256 MiB in bench/serving.py. Smaller images are not held back, so throughput on
    ordinary photos is unchanged; a large one waits for the one before it.
    """

    def __init__(self, pixels: int, slots: int):
        self.pixels = pixels
        self._slots = threading.BoundedSemaphore(max(1, slots))

    @contextmanager
    def turn(self, data: bytes) -> Iterator[None]:
        """Hold a slot for `data` if its header says it is large (bytes that cannot be
        read are not held back: decoding rejects them)."""
        large = False
        if self.pixels:
            try:
                width, height = image_open(io.BytesIO(data), max_pixels=2**62).size
                large = width * height > self.pixels
            except ImageRejected:
                pass
        if not large:
            yield
            return
        with self._slots:
            yield
