"""Hostile image files for the tests: small real images of every accepted format, byte
mutants of them (seeded, so reproducible), truncations, and hand-made traps."""

from __future__ import annotations

import random
import struct
import zlib

from PIL import Image

from tests.images import (
    cmyk_jpeg_bytes,
    decompression_bomb_png_bytes,
    encode,
    exif_rotated_jpeg_bytes,
    jpeg_bytes,
    photo,
    png16_bytes,
    png_bytes,
)


def seed_files() -> dict[str, bytes]:
    small = photo("chelsea", (48, 32))
    return {
        "jpeg": encode(small, "JPEG", quality=80),
        "jpeg-progressive": encode(small, "JPEG", quality=80, progressive=True),
        "png": encode(small, "PNG"),
        "png-rgba": encode(small.convert("RGBA"), "PNG"),
        "gif": encode(small.convert("P", palette=Image.Palette.ADAPTIVE, colors=32), "GIF"),
        "webp": encode(small, "WEBP", quality=70),
        "webp-lossless": encode(small, "WEBP", lossless=True),
        "tiff": encode(small, "TIFF", compression="tiff_lzw"),
        "heic": encode(small, "HEIF", quality=60),
        "avif": encode(small, "AVIF", quality=60),
    }


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to four edits: overwrite bytes, flip a bit, truncate, delete or insert a run."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if op < 0.45:
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif op < 0.6:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif op < 0.75 and len(b) > 1:
            del b[rng.randrange(1, len(b)) :]
        elif op < 0.88:
            start = rng.randrange(len(b))
            del b[start : start + rng.randint(1, 64)]
        else:
            start = rng.randrange(len(b))
            b[start:start] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        if not b:
            b = bytearray(b"\x00")
    return bytes(b)



def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _traps() -> dict[str, bytes]:
    """Files that are not images, claim to be more than they are, or are valid oddities."""
    small_jpeg = jpeg_bytes(size=(320, 320))
    frame = small_jpeg.index(b"\xff\xc0")
    inflated_jpeg = small_jpeg[: frame + 5] + struct.pack(">HH", 6000, 6000) + small_jpeg[frame + 9 :]
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    huge_ihdr = struct.pack(">IIBBBBB", 65535, 65535, 8, 6, 0, 0, 0)
    return {
        "empty.jpg": b"",
        "one-byte.png": b"\x89",
        "text.jpg": b"hello, I am not an image\n",
        "page.png": b"<html><script>alert(1)</script></html>",
        "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
        "document.pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        "archive.zip": b"PK\x03\x04" + b"\x00" * 40,
        "program.gif": b"\x7fELF\x02\x01\x01" + b"\x00" * 60,
        "polyglot.gif": b"GIF89a/*\x00\x00\x00\x00*/=alert(1);",
        "soi-eoi.jpg": b"\xff\xd8\xff\xd9",
        "signature-only.png": b"\x89PNG\r\n\x1a\n",
        "no-idat.png": b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b""),
        "huge-header.png": b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", huge_ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b""),
        "bomb.png": decompression_bomb_png_bytes(),
        "inflated-header.jpg": inflated_jpeg,
        "cut-with-end-marker.jpg": small_jpeg[: len(small_jpeg) // 2] + b"\xff\xd9",
        "huge-screen.gif": b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;",
        "cmyk.jpg": cmyk_jpeg_bytes(),
        "rotated.jpg": exif_rotated_jpeg_bytes(),
        "sixteen-bit.png": png16_bytes(),
        "tiny.png": png_bytes(size=(1, 1)),
        "animated.gif": _animated_gif(),
    }


def _animated_gif() -> bytes:
    frames = [photo(name, (32, 32)).convert("P", palette=Image.Palette.ADAPTIVE) for name in ("chelsea", "coffee")]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def hostile_corpus(mutants_per_format: int = 12, seed: int = 9) -> list[tuple[str, bytes]]:
    """(file name, bytes) for every hostile file: mutants and truncations of each format,
    then the traps. Deterministic for a given seed."""
    rng = random.Random(seed)
    corpus: list[tuple[str, bytes]] = []
    extensions = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "tiff": "tiff", "heic": "heic", "avif": "avif"}
    for name, original in seed_files().items():
        extension = extensions.get(name.split("-")[0], "bin")
        corpus.append((f"{name}.{extension}", original))
        for index in range(mutants_per_format):
            corpus.append((f"{name}-mutant-{index}.{extension}", mutate(rng, original)))
        for fraction in (0.1, 0.5, 0.9):
            corpus.append((f"{name}-cut-{int(fraction * 100)}.{extension}", original[: max(1, int(len(original) * fraction))]))
    corpus.extend(_traps().items())
    return corpus
