"""Checks that a JPEG or PNG holds data for every pixel its header claims. No Django.

Pillow decodes what is there and makes up the rest: when a JPEG's entropy-coded data
stops early at a marker, libjpeg warns "premature end of data segment" and fills the
remaining blocks with grey, and Pillow never surfaces the warning; when a PNG's zlib
stream ends before the last row, Pillow's decoder stops there without an error. So a
26 KB JPEG whose header says 6000x6000 used to be stored as a 6000x6000 image, and
every later step (a background removal, a rendition) paid for 36 million made-up
pixels. SPEC §7 calls such files truncated: `invalid_image`.

- JPEG: libjpeg-turbo (through simplejpeg) decodes the file in strict mode, where any
  warning is an error, at 1/8 scale: every scan's entropy data is still read in full,
  but the inverse DCT and colour conversion cost almost nothing.
- PNG: the IDAT chunks are inflated once more, counting bytes without keeping them, and
  must hold at least the filtered rows the header promises (Adam7 passes included).

Both raise `IncompleteImage`, whose message says what is missing.
"""

from __future__ import annotations

import struct
import zlib

import simplejpeg

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
# Adam7: (first column, first row, column step, row step) of each of the seven passes.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_INFLATE_STEP = 1 << 20
# libjpeg warnings about the file's bookkeeping, not its pixel data: bytes between a scan
# and the next marker (some cameras write them), an unknown JFIF or Adobe version, a bad
# ICC profile marker, loose SOS parameters from some encoders. Strict decoding stops at
# the first warning, so after one of these only the lower bound below is checked.
_HARMLESS_JPEG_WARNINGS = (
    "extraneous bytes before marker",
    "unknown JFIF revision",
    "Unknown Adobe color transform",
    "bad ICC marker",
    "Invalid SOS parameters for sequential JPEG",
)


class IncompleteImage(ValueError):
    """The file's pixel data ends before the image its header describes."""


def jpeg_check(data: bytes, *, width: int, height: int) -> None:
    """Raise IncompleteImage unless every scan of the JPEG `data` decodes without a warning.

    `width` and `height` are the header's (Pillow's reading of it), for the lower bound
    used where strict decoding cannot judge the file.
    """
    try:
        _, _, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        # TurboJPEG's header reader refuses some sampling layouts that libjpeg (and so
        # Pillow) decodes; a corrupt header fails in Pillow right after this check.
        _jpeg_lower_bound_check(data, width, height)
        return
    target = {"CMYK": "CMYK", "YCCK": "CMYK", "Gray": "GRAY"}.get(colorspace, "RGB")
    try:
        simplejpeg.decode_jpeg(data, colorspace=target, min_factor=8, min_width=1, min_height=1, strict=True)
    except ValueError as exc:
        if not any(harmless in str(exc) for harmless in _HARMLESS_JPEG_WARNINGS):
            raise IncompleteImage(f"the JPEG data is incomplete or corrupt ({exc})") from None
        _jpeg_lower_bound_check(data, width, height)


def _jpeg_lower_bound_check(data: bytes, width: int, height: int) -> None:
    """Every 8x8 block of the first component costs at least one bit (its DC code), in
    baseline and progressive files alike: a file with fewer bits cannot hold the image."""
    blocks = -(-width // 8) * -(-height // 8)
    if len(data) * 8 < blocks:
        raise IncompleteImage(
            f"the JPEG data is incomplete: {len(data)} bytes cannot hold the {width}x{height} "
            "image its header claims"
        )


def _png_filtered_size(width: int, height: int, bit_depth: int, color_type: int, interlace: int) -> int:
    """Bytes of filtered scanlines (one filter byte per row) the image data must inflate to."""
    bits_per_pixel = bit_depth * _PNG_CHANNELS.get(color_type, 1)
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        pass_width = (width - x0 + dx - 1) // dx if width > x0 else 0
        pass_height = (height - y0 + dy - 1) // dy if height > y0 else 0
        if pass_width and pass_height:
            total += pass_height * (1 + (pass_width * bits_per_pixel + 7) // 8)
    return total


def png_check(data: bytes) -> None:
    """Raise IncompleteImage unless the PNG's IDAT stream holds every row of the image."""
    if not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 33:
        raise IncompleteImage("the PNG has no image header")
    width, height, bit_depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    expected = _png_filtered_size(width, height, bit_depth, color_type, interlace)
    inflater = zlib.decompressobj()
    produced = 0
    position = 8
    try:
        while position + 8 <= len(data) and produced < expected and not inflater.eof:
            length, kind = struct.unpack(">I4s", data[position : position + 8])
            payload = data[position + 8 : position + 8 + length]
            position += 12 + length
            if kind == b"IEND":
                break
            if kind != b"IDAT":
                continue
            pending = payload
            while pending and produced < expected and not inflater.eof:
                produced += len(inflater.decompress(pending, _INFLATE_STEP))
                pending = inflater.unconsumed_tail
        if produced < expected:
            produced += len(inflater.flush())  # output zlib held back when a step filled up
    except zlib.error as exc:
        raise IncompleteImage(f"the PNG image data is corrupt ({exc})") from None
    if produced < expected:
        raise IncompleteImage(
            f"the PNG image data ends early: it holds {produced} of the {expected} bytes of rows "
            f"its {width}x{height} header promises"
        )
