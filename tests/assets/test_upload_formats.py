"""Every accepted upload format of POST assets (SPEC §3 and §7) is stored byte for byte
and described from its bytes; so are unusual image modes (CMYK, 16-bit, palette), and an
EXIF-rotated JPEG is described upright."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.models import Asset, DEFAULT_SCHEMA_ID
from tests.assets.conftest import content, conversion_url, sha256, upload
from tests.conftest import stored_files
from tests.images import (
    cmyk_jpeg_bytes,
    exif_rotated_jpeg_bytes,
    format_samples,
    palette_gif_bytes,
    png16_bytes,
)

pytestmark = pytest.mark.django_db

SAMPLES = format_samples()
# The skimage photos behind format_samples(): chelsea 451x300, coffee 600x400,
# rocket 640x427, astronaut 512x512.
PHOTO_SIZES = {
    "jpeg": (451, 300),
    "png": (600, 400),
    "webp": (640, 427),
    "gif": (512, 512),
    "bmp": (451, 300),
    "tiff": (600, 400),
    "heic": (640, 427),
    "avif": (512, 512),
}


# --- every accepted format -------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_each_accepted_format_is_stored_as_uploaded_and_described_from_its_bytes(
    fmt, admin_client_api, media_root
):
    filename, body, content_type = SAMPLES[fmt]
    expected_size = PHOTO_SIZES[fmt]

    response = upload(admin_client_api, filename, body)

    assert response.status_code == 201, response.content
    doc = response.json()
    assert doc["content_type"] == content_type
    assert (doc["width"], doc["height"]) == expected_size
    assert doc["size"] == len(body)
    assert doc["checksum"] == sha256(body)
    assert doc["name"] == filename
    assert doc["status"] == "OK"
    assert doc["data"] == {}
    assert doc["data_schema_id"] == DEFAULT_SCHEMA_ID
    assert response["Location"].endswith(f"/api/v1/assets/{doc['id']}")

    asset = Asset.objects.get(id=doc["id"])
    assert asset.content_type == content_type
    assert (asset.width, asset.height, asset.size, asset.checksum) == (
        *expected_size,
        len(body),
        sha256(body),
    )
    files = stored_files(media_root)
    assert len(files) == 1
    assert files[0].read_bytes() == body
    assert Path(asset.file.path).resolve() == files[0].resolve()

    download = admin_client_api.get(conversion_url(asset.id, "original"))
    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    assert int(download["Content-Length"]) == len(body)
    assert content(download) == body


def test_every_accepted_format_has_a_sample():
    assert sorted(SAMPLES) == sorted(PHOTO_SIZES)
    assert {ct for _, _, ct in SAMPLES.values()} == {
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff", "image/heic", "image/avif",
    }


# --- unusual modes and EXIF orientation ----------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "make", "content_type", "size"),
    [
        ("coffee-cmyk.jpg", cmyk_jpeg_bytes, "image/jpeg", (600, 400)),
        ("chelsea-16bit.png", png16_bytes, "image/png", (451, 300)),
        ("astronaut-palette.gif", palette_gif_bytes, "image/gif", (512, 512)),
    ],
)
def test_unusual_image_modes_are_accepted(filename, make, content_type, size, admin_client_api, media_root):
    body = make()
    response = upload(admin_client_api, filename, body)
    assert response.status_code == 201, response.content
    doc = response.json()
    assert doc["content_type"] == content_type
    assert (doc["width"], doc["height"]) == size
    assert doc["size"] == len(body)
    assert doc["checksum"] == sha256(body)
    assert [p.read_bytes() for p in stored_files(media_root)] == [body]


def test_the_16_bit_sample_really_is_16_bit():
    """IHDR of png16_bytes(): bit depth 16, greyscale, so the test above is not a plain PNG."""
    body = png16_bytes()
    assert body[12:16] == b"IHDR"
    assert (body[24], body[25]) == (16, 0)


def test_exif_rotated_jpeg_is_described_upright(admin_client_api, media_root):
    from PIL import Image
    import io

    body = exif_rotated_jpeg_bytes()
    assert Image.open(io.BytesIO(body)).size == (451, 300)  # the stored pixels are landscape

    response = upload(admin_client_api, "rotated.jpg", body)

    assert response.status_code == 201, response.content
    doc = response.json()
    assert (doc["width"], doc["height"]) == (300, 451)
    asset = Asset.objects.get(id=doc["id"])
    assert (asset.width, asset.height) == (300, 451)
    # The original is kept as uploaded (orientation tag and all), not re-encoded.
    assert [p.read_bytes() for p in stored_files(media_root)] == [body]
