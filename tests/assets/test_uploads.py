"""Upload validation of POST assets and POST assets/{id}/content/{name} (SPEC §3 and §7).

Every accepted format is stored byte for byte and described from its bytes; every
rejected upload is a 400/413 in the one error shape that names the field, and leaves
no row and no file behind.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets import services
from assets.models import Asset, Conversion, DEFAULT_SCHEMA_ID
from assets.selectors import account_of
from tests.conftest import stored_files
from tests.images import (
    cmyk_jpeg_bytes,
    decompression_bomb_png_bytes,
    exif_rotated_jpeg_bytes,
    format_samples,
    jpeg_bytes,
    palette_gif_bytes,
    png16_bytes,
    truncated_jpeg_bytes,
)

pytestmark = pytest.mark.django_db

ASSETS_URL = "/api/v1/assets"
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


def upload(client, name: str, body: bytes, **fields):
    return client.post(ASSETS_URL, {"file": SimpleUploadedFile(name, body), **fields}, format="multipart")


def conversion_url(asset_id: str, name: str) -> str:
    return f"/api/v1/assets/{asset_id}/content/{name}"


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def assert_error(response, status: int, code: str, field: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert field in body.get("errors", {}), body
    assert body["errors"][field] and all(isinstance(m, str) and m for m in body["errors"][field])
    assert body.get("request_id") == response["X-Request-Id"]
    return body


def read_streaming(response) -> bytes:
    return b"".join(response.streaming_content)


# --- 1. every accepted format -------------------------------------------------------------


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
    assert read_streaming(download) == body


def test_every_accepted_format_has_a_sample():
    assert sorted(SAMPLES) == sorted(PHOTO_SIZES)
    assert {ct for _, _, ct in SAMPLES.values()} == {
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff", "image/heic", "image/avif",
    }


# --- 2. unusual modes and EXIF orientation ----------------------------------------------------


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


# --- 3. bad inputs ----------------------------------------------------------------------------

BAD_FILES = {
    "truncated_jpeg": ("astronaut.jpg", truncated_jpeg_bytes, "invalid_image"),
    # GIF keeps its stream open for later frames: the error path must still answer 400.
    "truncated_gif": ("astronaut.gif", lambda: palette_gif_bytes()[: len(palette_gif_bytes()) // 2], "invalid_image"),
    "truncated_png": ("coffee.png", lambda: SAMPLES["png"][1][: len(SAMPLES["png"][1]) // 2], "invalid_image"),
    "zero_bytes": ("empty.jpg", lambda: b"", "invalid_image"),
    "text_named_png": ("photo.png", lambda: b"this is a text file, not a picture\n" * 20, "invalid_image"),
    "decompression_bomb": ("bomb.png", decompression_bomb_png_bytes, "image_too_large"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_upload_is_400_and_leaves_nothing(case, admin_client_api, media_root):
    filename, make, code = BAD_FILES[case]
    before_rows = Asset.objects.count()

    response = upload(admin_client_api, filename, make())

    body = assert_error(response, 400, code, "file")
    assert "file" in body["message"]
    assert Asset.objects.count() == before_rows
    assert stored_files(media_root) == []


def test_decompression_bomb_is_rejected_from_its_header(admin_client_api, media_root):
    response = upload(admin_client_api, "bomb.png", decompression_bomb_png_bytes())

    body = assert_error(response, 400, "image_too_large", "file")
    # The count comes from the header (10000 x 10000), and the limit is stated.
    assert "100000000" in body["message"]
    assert "50000000" in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({}, id="empty_form"),
        pytest.param({"data": '{"a": 1}'}, id="only_data"),
        pytest.param({"file": "not-a-file"}, id="file_as_text_field"),
    ],
)
def test_missing_file_field_is_400_required(fields, admin_client_api, media_root):
    response = admin_client_api.post(ASSETS_URL, fields, format="multipart")

    assert_error(response, 400, "required", "file")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


# --- 4. pixel limit from settings ---------------------------------------------------------------


def test_pixel_limit_setting_rejects_a_larger_image(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_PIXELS = 100_000
    response = upload(admin_client_api, "astronaut.jpg", jpeg_bytes("astronaut"))  # 512 x 512

    body = assert_error(response, 400, "image_too_large", "file")
    assert "262144" in body["message"] and "100000" in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_pixel_limit_setting_accepts_an_image_within_it(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_PIXELS = 300_000
    body = jpeg_bytes("astronaut")
    response = upload(admin_client_api, "astronaut.jpg", body)

    assert response.status_code == 201, response.content
    assert (response.json()["width"], response.json()["height"]) == (512, 512)
    assert [p.read_bytes() for p in stored_files(media_root)] == [body]


# --- 5. byte limits ---------------------------------------------------------------------------


def test_file_over_the_byte_limit_is_413_and_leaves_nothing(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_UPLOAD_BYTES = 10_000
    body = jpeg_bytes("astronaut")
    assert len(body) > 10_000

    response = upload(admin_client_api, "astronaut.jpg", body)

    err = assert_error(response, 413, "file_too_large", "file")
    assert "10000" in err["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_file_at_the_byte_limit_is_accepted(settings, admin_client_api, media_root):
    body = jpeg_bytes("astronaut")
    settings.ASSETS_MAX_UPLOAD_BYTES = len(body)
    response = upload(admin_client_api, "astronaut.jpg", body)
    assert response.status_code == 201, response.content
    assert [p.read_bytes() for p in stored_files(media_root)] == [body]


def test_body_over_the_request_limit_is_413_before_parsing(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_UPLOAD_BYTES = 1_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    # Not even a multipart body: were it parsed, the answer would be a 400 parse error.
    garbage = b"x" * 5_000

    response = admin_client_api.generic(
        "POST", ASSETS_URL, garbage, content_type="multipart/form-data; boundary=nothere"
    )

    body = assert_error(response, 413, "request_too_large", "file")
    assert "5000" in body["message"] and "2000" in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_real_upload_over_the_request_limit_is_413(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_UPLOAD_BYTES = 1_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = upload(admin_client_api, "astronaut.jpg", jpeg_bytes("astronaut"))

    assert_error(response, 413, "request_too_large", "file")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_body_within_the_request_limit_reaches_the_parser(settings, admin_client_api, media_root):
    """The control for the test above: the same garbage under the limit is parsed (a 400)."""
    settings.ASSETS_MAX_UPLOAD_BYTES = 10_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = admin_client_api.generic(
        "POST", ASSETS_URL, b"x" * 5_000, content_type="multipart/form-data; boundary=nothere"
    )
    assert response.status_code == 400, response.content
    assert response.json()["status"] == "error"
    assert response.json()["code"] != "request_too_large"
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


# --- 6. the data and data_schema_id fields ------------------------------------------------------

SKU_SCHEMA = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "price": {"type": "number", "minimum": 0}},
    "required": ["sku"],
}


@pytest.fixture
def sku_schema(admin_client_api):
    return services.schema_create(user=admin_client_api.user, name="product", schema=SKU_SCHEMA)


def test_data_json_object_is_stored(admin_client_api, media_root):
    data = {"title": "Astronaut", "tags": ["space", "nasa"], "nested": {"n": 1.5, "ok": True}}
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data=json.dumps(data))

    assert response.status_code == 201, response.content
    assert response.json()["data"] == data
    assert Asset.objects.get(id=response.json()["id"]).data == data
    assert admin_client_api.get(f"{ASSETS_URL}/{response.json()['id']}").json()["data"] == data


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("{not json", id="invalid_json"),
        pytest.param('[1, 2, 3]', id="array"),
        pytest.param('"a string"', id="string"),
        pytest.param("42", id="number"),
    ],
)
def test_data_that_is_not_a_json_object_is_400_naming_data(raw, admin_client_api, media_root):
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data=raw)

    body = assert_error(response, 400, "invalid", "data")
    assert body["message"].startswith("data")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize("schema_id", ["999999", "abc", "-1"])
def test_unknown_data_schema_id_is_400_naming_it(schema_id, admin_client_api, media_root):
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data_schema_id=schema_id)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error"
    assert "data_schema_id" in body["errors"]
    assert "data_schema_id" in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_another_accounts_schema_is_400_naming_data_schema_id(client_for, admin_client_api, media_root):
    other_admin = client_for("ADMIN", account="globex")
    foreign = services.schema_create(user=other_admin.user, name="theirs", schema={"type": "object"})

    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data_schema_id=str(foreign.id))

    assert_error(response, 400, "schema_not_found", "data_schema_id")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("data", "paths"),
    [
        pytest.param({"price": 3}, {"data"}, id="missing_sku"),
        pytest.param({"sku": 12}, {"data.sku"}, id="sku_not_string"),
        pytest.param({"sku": "A1", "price": -1}, {"data.price"}, id="negative_price"),
        pytest.param({"sku": 1, "price": "x"}, {"data.sku", "data.price"}, id="two_violations"),
    ],
)
def test_data_violating_the_schema_is_400_and_leaves_nothing(
    data, paths, sku_schema, admin_client_api, media_root
):
    response = upload(
        admin_client_api, "astro.jpg", jpeg_bytes(), data=json.dumps(data), data_schema_id=str(sku_schema.id)
    )

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == "schema_violation"
    assert set(body["errors"]) == paths
    assert all(body["errors"][p] for p in paths)
    assert str(sku_schema.id) in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_missing_required_key_names_it(sku_schema, admin_client_api, media_root):
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data="{}", data_schema_id=str(sku_schema.id))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "schema_violation"
    assert any("sku" in m for m in response.json()["errors"]["data"])
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_data_satisfying_the_schema_is_stored_with_its_schema(sku_schema, admin_client_api, media_root):
    data = {"sku": "A-100", "price": 9.5}
    body = jpeg_bytes()
    response = upload(admin_client_api, "astro.jpg", body, data=json.dumps(data), data_schema_id=str(sku_schema.id))

    assert response.status_code == 201, response.content
    doc = response.json()
    assert doc["data_schema_id"] == sku_schema.id
    assert doc["data"] == data
    asset = Asset.objects.get(id=doc["id"])
    assert (asset.data_schema_id, asset.data) == (sku_schema.id, data)
    assert [p.read_bytes() for p in stored_files(media_root)] == [body]


# --- 7. conversion uploads ----------------------------------------------------------------------


@pytest.fixture
def existing_asset(admin_client_api):
    user = admin_client_api.user
    return services.asset_create_from_bytes(
        account=account_of(user), user=user, data_bytes=jpeg_bytes("chelsea"), name="chelsea.jpg"
    )


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
    assert read_streaming(download) == body


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

    assert_error(response, 400, code, "file")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == before
    assert Asset.objects.get(id=existing_asset.id).conversions.count() == 0


def test_conversion_upload_without_a_file_is_400_required(existing_asset, admin_client_api, media_root):
    before = stored_files(media_root)
    response = admin_client_api.post(conversion_url(existing_asset.id, "bg_removed"), {}, format="multipart")
    assert_error(response, 400, "required", "file")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == before


def test_conversion_bomb_message_has_the_pixel_count(existing_asset, admin_client_api, media_root):
    response = admin_client_api.post(
        conversion_url(existing_asset.id, "big"),
        {"file": SimpleUploadedFile("bomb.png", decompression_bomb_png_bytes())},
        format="multipart",
    )
    body = assert_error(response, 400, "image_too_large", "file")
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

    body = assert_error(response, 400, "invalid", "name")
    assert body["message"].startswith("name")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == before
    # The original itself is untouched.
    original = admin_client_api.get(conversion_url(existing_asset.id, "original"))
    assert read_streaming(original) == jpeg_bytes("chelsea")


def test_conversion_name_of_30_chars_is_accepted(existing_asset, admin_client_api, media_root):
    name = "a" * 30
    response = admin_client_api.post(
        conversion_url(existing_asset.id, name),
        {"file": SimpleUploadedFile("ok.png", png16_bytes())},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Conversion.objects.filter(asset=existing_asset, name=name).count() == 1


# --- 8. the file name -----------------------------------------------------------------------------


def multipart_body(filename: str, content: bytes, boundary: str = "TestBoundary7MA4YWxk") -> tuple[bytes, str]:
    """A hand-made multipart body, so the client does not clean the filename first."""
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + content + tail, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "sent_name",
    ["../../etc/x.jpg", "/etc/x.jpg", "..\\..\\windows\\x.jpg", "a/b/c/x.jpg"],
)
def test_the_asset_name_is_the_uploads_base_name(sent_name, admin_client_api, media_root, tmp_path):
    content = jpeg_bytes()
    body, content_type = multipart_body(sent_name, content)

    response = admin_client_api.generic("POST", ASSETS_URL, body, content_type=content_type)

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "x.jpg"
    asset = Asset.objects.get(id=response.json()["id"])
    assert asset.name == "x.jpg"
    stored = Path(asset.file.path).resolve()
    assert stored.is_relative_to(media_root.resolve())
    assert stored.read_bytes() == content
    assert [p.resolve() for p in stored_files(media_root)] == [stored]
    # Nothing was written next to the media root by following the "..".
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media"]
    assert not (tmp_path / "etc").exists()


def test_the_asset_name_via_the_test_client_is_the_base_name(admin_client_api, media_root):
    response = upload(admin_client_api, "../../etc/x.jpg", jpeg_bytes())
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "x.jpg"
    assert Path(Asset.objects.get(id=response.json()["id"]).file.path).resolve().is_relative_to(media_root.resolve())


def test_download_of_the_original_uses_the_asset_name(admin_client_api, media_root):
    response = upload(admin_client_api, "my photo.jpg", jpeg_bytes())
    assert response.status_code == 201, response.content
    download = admin_client_api.get(conversion_url(response.json()["id"], "original"))
    assert "my photo.jpg" in download["Content-Disposition"]
