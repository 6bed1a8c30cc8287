"""Reading uploaded images safely. Plain Python and Pillow, no Django.

This is the one place that opens untrusted image bytes. Both the upload path
(`assets.validators`) and the processing package (`graphics.processing.images`) build on
it; it lives in `assets` because `assets` may not import `graphics`, and it imports no
Django so the processing package keeps its "no Django" promise.

Contract: `image_open` returns an opened (not yet decoded) image whose pixel count has
been checked from the header, or raises `ImageRejected` with code `invalid_image` or
`image_too_large`. `image_probe` additionally decodes the first frame fully, so a
truncated or corrupt file is rejected, and reports the upright size (EXIF orientation
applied) and the MIME type found in the bytes (never the client's claim).

Decoders raise many exception types on hostile bytes (pillow-heif's libheif raises
RuntimeError for a corrupt HEIC or AVIF, plugins raise IndexError, KeyError,
ZeroDivisionError...). Every one of them, raised while untrusted bytes are read, means
"not an image we can read": `invalid_image`, never a 500. Pillow's truncated-image
tolerance (`ImageFile.LOAD_TRUNCATED_IMAGES`) stays off, and JPEG and PNG data is checked
to cover every pixel the header claims (`core.image_integrity`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import struct
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, ImageFile, UnidentifiedImageError

from core import metrics
from core.errors import ImageRejected
from core.image_integrity import IncompleteImage, jpeg_check, png_check

pillow_heif.register_heif_opener()
ImageFile.LOAD_TRUNCATED_IMAGES = False  # the default, restated: a truncated file is an error

logger = logging.getLogger(__name__)

# We check the pixel count ourselves from the header before decoding (image_open), with
# the limit from settings; Pillow's own global bomb guard would use a different number.
Image.MAX_IMAGE_PIXELS = None

ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # multi-picture JPEG from phone cameras: read as its first JPEG
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "HEIF": "image/heic",
    "AVIF": "image/avif",
}
FILE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/heic": ".heic",
    "image/avif": ".avif",
}
# EXIF orientations 5-8 turn the image a quarter: width and height swap.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}
EXIF_ORIENTATION_TAG = 0x0112


# What decoders raise on bytes they cannot read (RuntimeError: libheif, for HEIC and AVIF).
_DECODER_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, MemoryError, RuntimeError)


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int
    size: int
    checksum: str
    extension: str


def image_open(stream: BinaryIO, *, max_pixels: int) -> Image.Image:
    """Open `stream` as an image, reading only the header, and enforce `max_pixels`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(stream, formats=None)
    except UnidentifiedImageError as exc:
        raise ImageRejected(
            "invalid_image",
            "the file is not an image in a supported format "
            "(JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC/HEIF or AVIF)",
        ) from exc
    except _DECODER_ERRORS as exc:
        raise ImageRejected(
            "invalid_image", f"the image header cannot be read ({exc}); upload a complete image"
        ) from exc
    except Exception as exc:  # any other decoder failure on untrusted bytes: still not an image
        logger.warning("unexpected %s while opening an image: %s", type(exc).__name__, exc)
        raise ImageRejected("invalid_image", "the image header cannot be read; upload a complete image") from exc
    if image.format not in ACCEPTED_FORMATS:
        raise ImageRejected(
            "invalid_image",
            f"{image.format} images are not accepted; upload JPEG, PNG, WebP, GIF, BMP, "
            "TIFF, HEIC/HEIF or AVIF",
        )
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageRejected("invalid_image", "the image has no pixels")
    if width * height > max_pixels:
        raise ImageRejected(
            "image_too_large",
            f"the image is {width}x{height} = {width * height} pixels, over the limit of "
            f"{max_pixels} pixels; scale it down and upload it again",
        )
    return image


def _source_bytes(image: Image.Image) -> bytes:
    stream = image.fp
    position = stream.tell()
    stream.seek(0)
    try:
        return stream.read()
    finally:
        stream.seek(position)


def _whole_data_check(image: Image.Image) -> None:
    """JPEG and PNG: the data must hold every pixel the header claims (IncompleteImage)."""
    if image.format in ("JPEG", "MPO"):
        jpeg_check(_source_bytes(image), width=image.width, height=image.height)
    elif image.format == "PNG":
        png_check(_source_bytes(image))


def image_load(image: Image.Image, *, draft: tuple[int, int] | None = None) -> Image.Image:
    """Decode the first frame; a truncated or corrupt file raises ImageRejected.

    `draft` (JPEG only): decode at the smallest DCT scale (1/2, 1/4, 1/8) that is still
    at least this size; the whole data is checked at full size first all the same."""
    try:
        _whole_data_check(image)
        image.seek(0)
        if draft is not None and image.format in ("JPEG", "MPO"):
            image.draft(image.mode if image.mode in ("RGB", "L", "CMYK") else "RGB", draft)
        with metrics.DECODE_SECONDS.labels((image.format or "unknown").lower()).time():
            image.load()
    except IncompleteImage as exc:
        raise ImageRejected("invalid_image", f"{exc}; upload the complete file") from exc
    except _DECODER_ERRORS as exc:
        raise ImageRejected(
            "invalid_image",
            f"the image data is truncated or corrupt ({exc}); upload the complete file",
        ) from exc
    except Exception as exc:  # any other decoder failure on untrusted bytes: still not an image
        logger.warning("unexpected %s while decoding an image: %s", type(exc).__name__, exc)
        raise ImageRejected(
            "invalid_image", "the image data is truncated or corrupt; upload the complete file"
        ) from exc
    return image


def exif_orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(EXIF_ORIENTATION_TAG, 1) or 1)
    except Exception:  # a malformed EXIF block must not reject a decodable image
        return 1


def upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    if exif_orientation(image) in _TRANSPOSING_ORIENTATIONS:
        return height, width
    return width, height


def image_probe(stream: BinaryIO, *, max_pixels: int) -> ImageInfo:
    """Check that `stream` holds a whole, accepted image and describe it.

    Reads the stream from its start; leaves its position at the start again.
    """
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    if size == 0:
        raise ImageRejected("invalid_image", "the file is empty; upload a non-empty image")
    stream.seek(0)
    image = image_open(stream, max_pixels=max_pixels)
    try:
        image_load(image)
        content_type = ACCEPTED_FORMATS[image.format]
        if image.format == "HEIF" and getattr(image, "info", {}).get("brand") == "heif":
            content_type = "image/heif"
        width, height = upright_size(image)
    finally:
        # Pillow 13 closes even a caller's stream on close() (PNG keeps it as `_fp` too):
        # detach it first, so the stream stays open for the caller to store.
        image.fp = image._fp = None
        image.close()
        stream.seek(0)
    return ImageInfo(
        content_type=content_type,
        width=width,
        height=height,
        size=size,
        checksum=digest.hexdigest(),
        extension=FILE_EXTENSIONS[content_type if content_type != "image/heif" else "image/heic"],
    )



def image_describe(data: bytes) -> ImageInfo:
    """Describe bytes the service made itself (a PNG it has just encoded) from the header
    alone. They are not untrusted input, so unlike `image_probe` nothing is decoded: for a
    12-megapixel result that saves decoding the whole image once more."""
    with Image.open(io.BytesIO(data)) as image:
        content_type = ACCEPTED_FORMATS[image.format]
        width, height = upright_size(image)
    return ImageInfo(
        content_type=content_type,
        width=width,
        height=height,
        size=len(data),
        checksum=hashlib.sha256(data).hexdigest(),
        extension=FILE_EXTENSIONS[content_type],
    )


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info


def to_8bit_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> "RGB", or "RGBA" when the image carries transparency.

    16- and 32-bit integer greyscale is scaled to 8 bits by its nominal range (not
    truncated); float images are taken as 0..1 when they fit, else clipped to 0..255.
    """
    mode = image.mode
    if mode in {"RGB", "RGBA"}:
        return image
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, dtype=np.uint32 if mode == "I" else np.uint16).astype(np.uint32)
        scale = 257 if mode.startswith("I;16") or values.max(initial=0) > 255 else 1
        return Image.fromarray((values // scale).clip(0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "F":
        values = np.asarray(image, dtype=np.float32)
        if values.size and values.max() <= 1.0 and values.min() >= 0.0:
            values = values * 255.0
        return Image.fromarray(values.clip(0, 255).round().astype(np.uint8), "L").convert("RGB")
    if _has_transparency(image):
        return image.convert("RGBA")
    return image.convert("RGB")
