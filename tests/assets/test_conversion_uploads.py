"""POST assets/{id}/content/{name}: a good image under a good name is stored; a bad file,
a missing file or a bad name is a 400 that leaves only the original."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Asset, Conversion
from tests.assets.conftest import BAD_FILES, content, conversion_url, sha256
from tests.conftest import assert_error, make_asset, stored_files
from tests.images import decompression_bomb_png_bytes, jpeg_bytes, png16_bytes

pytestmark = pytest.mark.django_db


# --- conversion uploads ----------------------------------------------------------------------


@pytest.fixture
def existing_asset(admin_client_api):
    return make_asset(admin_client_api, "chelsea.jpg", jpeg_bytes("chelsea"))


def test_conversion_upload_stores_the_file(existing_asset, admin_client_api, media_root):
    """The control for the rejections below: a good image under a good name is stored."""
    body = png16_bytes()
    response = admin_client_api.post(
        conversion_url(existing_asset.id, "thumb_1"),
        {"file": SimpleUploadedFile("thumb.png", body)},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    conv = response.json()["conversions"]["thumb_1"]
    assert (conv["content_type"], conv["size"], conv["width"], conv["height"]) == ("image/png", len(body), 451, 300)
    row = Conversion.objects.get(asset=existing_asset, name="thumb_1")
    assert row.checksum == sha256(body)
    assert sorted(p.read_bytes() for p in stored_files(media_root)) == sorted([body, jpeg_bytes("chelsea")])
    download = admin_client_api.get(conversion_url(existing_asset.id, "thumb_1"))
    assert download["Content-Type"] == "image/png"
    assert content(download) == body


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_conversion_upload_is_400_and_leaves_only_the_original(
    case, existing_asset, admin_client_api, media_root
):
    filename, make, code = BAD_FILES[case]
    before = stored_files(media_root)
    assert [p.read_bytes() for p in before] == [jpeg_bytes("chelsea")]

    response = admin_client_api.post(
        conversion_url(existing_asset.id, "bg_removed"),
        {"file": SimpleUploadedFile(filename, make())},
        format="multipart",
    )

    assert_error(response, 400, code=code, field="file")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == before
    assert Asset.objects.get(id=existing_asset.id).conversions.count() == 0


def test_conversion_upload_without_a_file_is_400_required(existing_asset, admin_client_api, media_root):
    before = stored_files(media_root)
    response = admin_client_api.post(conversion_url(existing_asset.id, "bg_removed"), {}, format="multipart")
    assert_error(response, 400, code="required", field="file")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == before


def test_conversion_bomb_message_has_the_pixel_count(existing_asset, admin_client_api, media_root):
    response = admin_client_api.post(
        conversion_url(existing_asset.id, "big"),
        {"file": SimpleUploadedFile("bomb.png", decompression_bomb_png_bytes())},
        format="multipart",
    )
    body = assert_error(response, 400, code="image_too_large", field="file")
    assert "100000000" in body["message"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("bad name!", id="space_and_bang"),
        pytest.param("a" * 31, id="31_chars"),
        pytest.param("dot.name", id="dot"),
        pytest.param("original", id="reserved_original"),
    ],
)
def test_invalid_conversion_name_is_400_naming_name(name, existing_asset, admin_client_api, media_root):
    from urllib.parse import quote

    before = stored_files(media_root)
    response = admin_client_api.post(
        conversion_url(existing_asset.id, quote(name)),
        {"file": SimpleUploadedFile("ok.png", png16_bytes())},
        format="multipart",
    )

    body = assert_error(response, 400, code="invalid", field="name")
    assert body["message"].startswith("name")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == before
    # The original itself is untouched.
    original = admin_client_api.get(conversion_url(existing_asset.id, "original"))
    assert content(original) == jpeg_bytes("chelsea")


def test_conversion_name_of_30_chars_is_accepted(existing_asset, admin_client_api, media_root):
    name = "a" * 30
    response = admin_client_api.post(
        conversion_url(existing_asset.id, name),
        {"file": SimpleUploadedFile("ok.png", png16_bytes())},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Conversion.objects.filter(asset=existing_asset, name=name).count() == 1
