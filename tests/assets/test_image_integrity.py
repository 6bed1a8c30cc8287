"""A JPEG or PNG whose data ends before the image its header claims is `invalid_image`
(SPEC §7, truncated): nothing is stored, whatever size the header promises. Whole images
of every kind are still accepted."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.image_integrity import _ADAM7, IncompleteImage, jpeg_check, png_check
from core.imaging import ImageRejected
from tests.images import cmyk_jpeg_bytes, encode, exif_rotated_jpeg_bytes, image_probe_bytes, jpeg_bytes, photo, png16_bytes, png_bytes
from assets.models import Asset
from tests.conftest import stored_files

MAX_PIXELS = 50_000_000


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png(ihdr: bytes, idat: bytes) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def jpeg_claiming(data: bytes, width: int, height: int) -> bytes:
    """`data` with its frame header (SOF0/1/2) rewritten to claim width x height."""
    i = 2
    while i < len(data):
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return data[: i + 5] + struct.pack(">HH", height, width) + data[i + 9 :]
        i += 2 + length
    raise ValueError("no frame header")


def png_parts(data: bytes) -> tuple[bytes, bytes]:
    """(IHDR payload, all IDAT payloads joined) of a PNG."""
    i, ihdr, idat = 8, b"", b""
    while i < len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        payload = data[i + 8 : i + 8 + length]
        ihdr = payload if kind == b"IHDR" else ihdr
        idat += payload if kind == b"IDAT" else b""
        i += 12 + length
    return ihdr, idat


def interlaced_png(image: Image.Image) -> tuple[bytes, bytes, bytes]:
    """An Adam7-interlaced 8-bit PNG written by hand (Pillow writes none): (file, raw rows, IHDR)."""
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    raw = b"".join(
        b"\x00" + row.tobytes()
        for x0, y0, dx, dy in _ADAM7
        for row in pixels[y0::dy, x0::dx]
        if row.size
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, {"RGB": 2, "RGBA": 6, "L": 0}[image.mode], 0, 0, 1)
    return _png(ihdr, zlib.compress(raw)), raw, ihdr


# --- the checks on their own -------------------------------------------------------------------


def test_a_26_kb_jpeg_whose_header_claims_6000x6000_is_refused_before_decoding():
    small = jpeg_bytes(size=(320, 320))
    inflated = jpeg_claiming(small, 6000, 6000)
    assert len(inflated) < 40_000
    with pytest.raises(ImageRejected) as refused:
        image_probe_bytes(inflated, max_pixels=MAX_PIXELS)
    assert refused.value.code == "invalid_image"
    assert "incomplete" in refused.value.message


@pytest.mark.parametrize("progressive", [False, True])
def test_a_jpeg_cut_in_half_with_an_end_marker_appended_is_incomplete(progressive):
    whole = encode(photo("coffee"), "JPEG", quality=90, progressive=progressive)
    Image.open(io.BytesIO(whole[: len(whole) // 2] + b"\xff\xd9")).load()  # Pillow alone accepts it
    with pytest.raises(IncompleteImage):
        jpeg_check(whole[: len(whole) // 2] + b"\xff\xd9", width=600, height=400)
    with pytest.raises(ImageRejected):
        image_probe_bytes(whole[: len(whole) // 2] + b"\xff\xd9", max_pixels=MAX_PIXELS)


def test_a_png_whose_zlib_stream_holds_half_the_rows_is_incomplete():
    ihdr, idat = png_parts(png_bytes(size=(320, 320)))
    rows = zlib.decompress(idat)
    short = _png(ihdr, zlib.compress(rows[: len(rows) // 2]))  # a complete zlib stream, half the rows
    Image.open(io.BytesIO(short)).load()  # Pillow alone accepts it
    with pytest.raises(IncompleteImage, match="ends early"):
        png_check(short)
    with pytest.raises(ImageRejected):
        image_probe_bytes(short, max_pixels=MAX_PIXELS)


def test_a_png_whose_header_claims_more_rows_than_its_data_is_incomplete():
    ihdr, idat = png_parts(png_bytes(size=(320, 320)))
    claiming = _png(struct.pack(">II", 6000, 6000) + ihdr[8:], idat)
    with pytest.raises(ImageRejected) as refused:
        image_probe_bytes(claiming, max_pixels=MAX_PIXELS)
    assert refused.value.code == "invalid_image"


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (9, 1), (37, 23), (8, 8)])
def test_interlaced_pngs_are_whole_and_one_byte_short_is_not(mode, size):
    image = photo("coffee", size).convert(mode)
    data, raw, ihdr = interlaced_png(image)
    with Image.open(io.BytesIO(data)) as decoded:
        assert np.array_equal(np.asarray(decoded.convert(mode)), np.asarray(image))
    png_check(data)
    with pytest.raises(IncompleteImage):
        png_check(_png(ihdr, zlib.compress(raw[:-1])))


@pytest.mark.parametrize(
    "label, data",
    [
        ("baseline", jpeg_bytes()),
        ("progressive", encode(photo("rocket"), "JPEG", quality=85, progressive=True)),
        ("cmyk", cmyk_jpeg_bytes()),
        ("greyscale", encode(photo("chelsea").convert("L"), "JPEG")),
        ("exif-rotated", exif_rotated_jpeg_bytes()),
        ("4:4:4", encode(photo("coffee"), "JPEG", quality=95, subsampling=0)),
        ("png-rgb", png_bytes()),
        ("png-16-bit", png16_bytes()),
        ("png-palette-4-bit", encode(photo("chelsea", (33, 17)).convert("P", colors=16), "PNG", bits=4)),
        ("png-1-bit", encode(photo("chelsea", (33, 17)).convert("1"), "PNG")),
        ("png-la", encode(photo("chelsea", (33, 17)).convert("LA"), "PNG")),
    ],
)
def test_whole_jpegs_and_pngs_of_every_kind_are_accepted(label, data):
    info = image_probe_bytes(data, max_pixels=MAX_PIXELS)
    assert info.width > 0 and info.height > 0


# --- through the API ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, make",
    [
        ("inflated.jpg", lambda: jpeg_claiming(jpeg_bytes(size=(320, 320)), 6000, 6000)),
        ("cut.jpg", lambda: jpeg_bytes()[: len(jpeg_bytes()) // 2] + b"\xff\xd9"),
        ("short.png", lambda: _png(png_parts(png_bytes(size=(64, 64)))[0], zlib.compress(b"\x00" * 100))),
    ],
)
def test_an_incomplete_upload_is_400_invalid_image_and_stores_nothing(admin_client_api, media_root, name, make):
    response = admin_client_api.post("/api/v1/assets", {"file": SimpleUploadedFile(name, make())}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_image" and "file" in body["errors"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []
