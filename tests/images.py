"""Real test images, made in memory from scikit-image's bundled photographs.

Every helper returns encoded bytes; nothing is written to disk.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache

import numpy as np
import pillow_heif
from PIL import Image
from skimage import data as skdata

from core.imaging import ImageInfo, image_probe

pillow_heif.register_heif_opener()

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


@lru_cache(maxsize=None)
def photo_array(name: str = "astronaut") -> np.ndarray:
    return getattr(skdata, name)()


def photo(name: str = "astronaut", size: tuple[int, int] | None = None) -> Image.Image:
    image = Image.fromarray(photo_array(name)).convert("RGB")
    if size is not None:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def jpeg_bytes(name: str = "astronaut", size: tuple[int, int] | None = None, quality: int = 90) -> bytes:
    return encode(photo(name, size), "JPEG", quality=quality)


def png_bytes(name: str = "astronaut", size: tuple[int, int] | None = None) -> bytes:
    return encode(photo(name, size), "PNG")


# format name -> (file name, bytes maker, expected content type)
def format_samples() -> dict[str, tuple[str, bytes, str]]:
    chelsea = photo("chelsea")  # 451 x 300
    coffee = photo("coffee")  # 600 x 400
    rocket = photo("rocket")  # 640 x 427
    astronaut = photo("astronaut")  # 512 x 512
    return {
        "jpeg": ("chelsea.jpg", encode(chelsea, "JPEG", quality=90), "image/jpeg"),
        "png": ("coffee.png", encode(coffee, "PNG"), "image/png"),
        "webp": ("rocket.webp", encode(rocket, "WEBP", quality=85), "image/webp"),
        "gif": ("astronaut.gif", encode(astronaut.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"), "image/gif"),
        "bmp": ("chelsea.bmp", encode(chelsea, "BMP"), "image/bmp"),
        "tiff": ("coffee.tiff", encode(coffee, "TIFF", compression="tiff_lzw"), "image/tiff"),
        "heic": ("rocket.heic", encode(rocket, "HEIF", quality=80), "image/heic"),
        "avif": ("astronaut.avif", encode(astronaut, "AVIF", quality=70), "image/avif"),
    }


def cmyk_jpeg_bytes(name: str = "coffee") -> bytes:
    return encode(photo(name).convert("CMYK"), "JPEG", quality=90)


def png16_bytes(name: str = "chelsea") -> bytes:
    """A 16-bit greyscale PNG (mode I;16) with the photograph's full tonal range."""
    grey = np.asarray(photo(name).convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(grey), "PNG")  # uint16 -> mode I;16 (Pillow 13 rejects mode=)


def palette_gif_bytes(name: str = "astronaut") -> bytes:
    return encode(photo(name).convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "GIF")


def exif_rotated_jpeg_bytes(name: str = "chelsea", orientation: int = 6) -> bytes:
    """Stored 451x300 landscape with EXIF orientation 6: shown upright as 300x451."""
    image = photo(name)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=90, exif=exif.tobytes())


def truncated_jpeg_bytes(name: str = "astronaut") -> bytes:
    whole = jpeg_bytes(name)
    return whole[: len(whole) // 2]


def decompression_bomb_png_bytes(width: int = 10_000, height: int = 10_000) -> bytes:
    """A tiny PNG (a few KB) that would decode to width*height pixels of greyscale.

    Written by hand (IHDR + one zlib stream of zero rows) so the test never holds the
    decoded pixels in memory.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one byte per pixel
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def image_probe_bytes(data: bytes, *, max_pixels: int) -> ImageInfo:
    """What an upload of `data` is described as: core.imaging.image_probe on the bytes."""
    return image_probe(io.BytesIO(data), max_pixels=max_pixels)
