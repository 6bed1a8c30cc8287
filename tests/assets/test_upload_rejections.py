"""Rejected uploads of POST assets: bad files, the pixel limit and the byte limits are a
400/413 in the one error shape naming `file`, and leave no row and no file behind
(the accepting controls sit next to each rejection)."""

from __future__ import annotations

import pytest

from assets.models import Asset
from tests.assets.conftest import ASSETS_URL, BAD_FILES, upload
from tests.conftest import assert_error, stored_files
from tests.images import decompression_bomb_png_bytes, jpeg_bytes

pytestmark = pytest.mark.django_db


# --- bad inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_upload_is_400_and_leaves_nothing(case, admin_client_api, media_root):
    filename, make, code = BAD_FILES[case]
    before_rows = Asset.objects.count()

    response = upload(admin_client_api, filename, make())

    body = assert_error(response, 400, code=code, field="file")
    assert "file" in body["message"]
    assert Asset.objects.count() == before_rows
    assert stored_files(media_root) == []


def test_decompression_bomb_is_rejected_from_its_header(admin_client_api, media_root):
    response = upload(admin_client_api, "bomb.png", decompression_bomb_png_bytes())

    body = assert_error(response, 400, code="image_too_large", field="file")
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

    assert_error(response, 400, code="required", field="file")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


# --- pixel limit from settings ---------------------------------------------------------------


def test_pixel_limit_setting_rejects_a_larger_image(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_PIXELS = 100_000
    response = upload(admin_client_api, "astronaut.jpg", jpeg_bytes("astronaut"))  # 512 x 512

    body = assert_error(response, 400, code="image_too_large", field="file")
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


# --- byte limits ---------------------------------------------------------------------------


def test_file_over_the_byte_limit_is_413_and_leaves_nothing(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_UPLOAD_BYTES = 10_000
    body = jpeg_bytes("astronaut")
    assert len(body) > 10_000

    response = upload(admin_client_api, "astronaut.jpg", body)

    err = assert_error(response, 413, code="file_too_large", field="file")
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

    body = assert_error(response, 413, code="request_too_large", field="file")
    assert "5000" in body["message"] and "2000" in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_real_upload_over_the_request_limit_is_413(settings, admin_client_api, media_root):
    settings.ASSETS_MAX_UPLOAD_BYTES = 1_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = upload(admin_client_api, "astronaut.jpg", jpeg_bytes("astronaut"))

    assert_error(response, 413, code="request_too_large", field="file")
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
