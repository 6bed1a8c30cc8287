"""Remove Background's validation (SPEC §4): each query rule is a 400 naming the
parameter, a bad, missing, too large or too heavy image a 400/413 naming `image`, an
unknown or foreign asset_id a 404, and none of them creates anything."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Role
from tests.conftest import assert_error
from tests.graphics.bg_remove.conftest import (
    DISPOSITIONS,
    ENDPOINTS,
    SAVE_MODES,
    SOURCE_SIZE,
    UPLOAD_SIZE,
    UPLOAD_URL,
    call,
    check_png_response,
    input_size,
    make_source,
    upload_jpeg,
)
from tests.graphics.conftest import snapshot
from tests.images import truncated_jpeg_bytes

pytestmark = pytest.mark.django_db


# --- validation -------------------------------------------------------------------------

# (query, the parameter the 400 must name, endpoints it applies to)
QUERY_RULES = [
    ({"mode": "fast"}, "mode", ENDPOINTS),
    ({"mode": "GET_IMAGE"}, "mode", ("upload",)),
    ({"mode": "save_image", "disposition": "add_everything"}, "disposition", ENDPOINTS),
    ({"mode": "get_image_and_save", "disposition": "nonsense"}, "disposition", ENDPOINTS),
    ({"mode": "save_image"}, "disposition", ENDPOINTS),
    ({"mode": "get_image_and_save"}, "disposition", ENDPOINTS),
    ({"mode": "save_image", "disposition": ""}, "disposition", ("upload",)),
    (
        {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "bg_removed", "asset_id": None},
        "asset_id",
        ("upload",),
    ),
    (
        {"mode": "get_image_and_save", "disposition": "add_conversion", "conversion_name": "x", "asset_id": None},
        "asset_id",
        ("upload",),
    ),
    ({"mode": "save_image", "disposition": "add_conversion"}, "conversion_name", ENDPOINTS),
    ({"mode": "get_image_and_save", "disposition": "add_conversion"}, "conversion_name", ENDPOINTS),
    ({"mode": "save_image", "disposition": "add_conversion", "conversion_name": "bad name!"}, "conversion_name", ENDPOINTS),
    ({"mode": "save_image", "disposition": "add_conversion", "conversion_name": "a" * 31}, "conversion_name", ENDPOINTS),
    ({"mode": "save_image", "disposition": "add_conversion", "conversion_name": "original"}, "conversion_name", ENDPOINTS),
    (
        {"mode": "get_image_and_save", "disposition": "add_conversion", "conversion_name": "original"},
        "conversion_name",
        ("upload",),
    ),
    (
        {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "bg", "metadata": "inherit"},
        "metadata",
        ENDPOINTS,
    ),
    ({"mode": "save_image", "disposition": "add_new_asset", "metadata": "other"}, "metadata", ENDPOINTS),
    ({"mode": "get_image_and_save", "disposition": "add_new_asset", "metadata": "copy"}, "metadata", ("upload",)),
    (
        {"mode": "save_image", "disposition": "add_new_asset", "metadata": "inherit", "asset_id": None},
        "asset_id",
        ("upload",),
    ),
    (
        {"mode": "get_image_and_save", "disposition": "add_new_asset", "metadata": "inherit", "asset_id": None},
        "asset_id",
        ("upload",),
    ),
    ({"mode": "save_image", "disposition": "add_new_asset", "asset_id": "not-an-id"}, "asset_id", ("upload",)),
    ({"mode": "save_image", "disposition": "add_conversion", "conversion_name": "x", "asset_id": "A" * 32}, "asset_id", ("upload",)),
    ({"bg_mode": "fancy"}, "bg_mode", ENDPOINTS),
    ({"strength": "extreme"}, "strength", ENDPOINTS),
    ({"remove_artifacts": "maybe"}, "remove_artifacts", ENDPOINTS),
    ({"mode": "save_image", "disposition": "add_new_asset", "bg_mode": "fancy"}, "bg_mode", ("upload",)),
    ({"mode": "save_image", "disposition": "add_new_asset", "strength": "MEDIUM"}, "strength", ("asset_get",)),
    ({"mode": "get_image_and_save", "disposition": "add_new_asset", "remove_artifacts": "2"}, "remove_artifacts", ("asset_post",)),
]


def _rule_cases():
    for query, field, endpoints in QUERY_RULES:
        for endpoint in endpoints:
            label = "&".join(f"{k}={v}" for k, v in query.items())
            yield pytest.param(endpoint, query, field, id=f"{endpoint}:{label}")


@pytest.mark.parametrize(("endpoint", "query", "field"), list(_rule_cases()))
def test_each_query_rule_is_a_400_naming_the_parameter_and_creates_nothing(
    creator, source, media_root, endpoint, query, field
):
    before = snapshot(media_root)
    # "asset_id": None means: the upload endpoint without asset_id.
    asset_id = None if query.get("asset_id", "") is None else source.id
    query = {k: v for k, v in query.items() if v is not None}
    response = call(creator, endpoint, asset_id, query)
    assert_error(response, 400, field=field)
    assert snapshot(media_root) == before


# (file name, bytes, code)
BAD_IMAGES = {
    "empty": ("empty.jpg", b"", "invalid_image"),
    "text": ("notes.jpg", b"This is a text file, not an image.\n" * 20, "invalid_image"),
    "truncated_jpeg": ("half.jpg", truncated_jpeg_bytes("astronaut"), "invalid_image"),
}


@pytest.mark.parametrize("mode", ["get_image", "save_image", "get_image_and_save"])
@pytest.mark.parametrize("kind", sorted(BAD_IMAGES))
@pytest.mark.parametrize("endpoint", ["upload", "asset_post"])
def test_bad_uploads_are_400_invalid_image_and_create_nothing(
    creator, source, media_root, endpoint, kind, mode
):
    name, data, code = BAD_IMAGES[kind]
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_conversion", conversion_name="bg_removed")
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, query, image=data, image_name=name)
    assert_error(response, 400, field="image", code=code)
    assert snapshot(media_root) == before


@pytest.mark.parametrize("mode", ["get_image", "save_image"])
@pytest.mark.parametrize("endpoint", ["upload", "asset_post"])
def test_missing_image_is_400_naming_image(creator, source, media_root, endpoint, mode):
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_new_asset")
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, query, send_image=False)
    assert_error(response, 400, field="image", code="required")
    assert snapshot(media_root) == before


def test_image_under_another_field_name_is_missing_image(creator, media_root):
    before = snapshot(media_root)
    response = creator.post(UPLOAD_URL, {"file": SimpleUploadedFile("a.jpg", upload_jpeg())}, format="multipart")
    assert_error(response, 400, field="image", code="required")
    assert snapshot(media_root) == before


@pytest.mark.parametrize("mode", ["get_image", "save_image"])
@pytest.mark.parametrize("endpoint", ["upload", "asset_post"])
def test_pixel_limit_is_400_image_too_large(creator, source, media_root, settings, endpoint, mode):
    settings.ASSETS_MAX_PIXELS = UPLOAD_SIZE[0] * UPLOAD_SIZE[1] - 1
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_new_asset")
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, query)
    assert_error(response, 400, field="image", code="image_too_large")
    assert snapshot(media_root) == before


def test_pixel_limit_is_exclusive_of_an_image_exactly_at_the_limit(creator, settings):
    settings.ASSETS_MAX_PIXELS = UPLOAD_SIZE[0] * UPLOAD_SIZE[1]
    check_png_response(call(creator, "upload", None, {}), UPLOAD_SIZE)


@pytest.mark.parametrize("mode", ["get_image", "save_image", "get_image_and_save"])
@pytest.mark.parametrize("endpoint", ["upload", "asset_post"])
def test_image_over_the_upload_limit_is_413(creator, source, media_root, settings, endpoint, mode):
    settings.ASSETS_MAX_UPLOAD_BYTES = len(upload_jpeg()) - 1
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_new_asset")
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, query)
    assert_error(response, 413, field="image")
    assert snapshot(media_root) == before


def test_image_exactly_at_the_upload_limit_is_accepted(creator, settings):
    settings.ASSETS_MAX_UPLOAD_BYTES = len(upload_jpeg())
    check_png_response(call(creator, "upload", None, {}), UPLOAD_SIZE)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_get_image_ignores_the_disposition_parameters(creator, source, media_root, endpoint):
    before = snapshot(media_root)
    response = call(
        creator,
        endpoint,
        source.id,
        {"mode": "get_image", "disposition": "nonsense", "conversion_name": "bad!!", "metadata": "other"},
    )
    check_png_response(response, input_size(endpoint))
    assert "X-Job-Id" not in response
    assert snapshot(media_root) == before


def test_default_mode_is_get_image(creator, source, media_root):
    before = snapshot(media_root)
    response = call(creator, "asset_get", source.id, {})
    check_png_response(response, SOURCE_SIZE)
    assert snapshot(media_root) == before


@pytest.mark.parametrize("mode", SAVE_MODES)
@pytest.mark.parametrize("disposition", DISPOSITIONS)
@pytest.mark.parametrize("whose", ["other_account", "nonexistent"])
def test_unknown_or_foreign_asset_id_on_the_upload_endpoint_is_404(
    creator, client_for, media_root, whose, disposition, mode
):
    other = client_for(Role.ADMIN, account="globex")
    asset_id = make_source(other).id if whose == "other_account" else "0123456789abcdef0123456789abcdef"
    query = {"mode": mode, "disposition": disposition, "asset_id": asset_id}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    before = snapshot(media_root)
    response = call(creator, "upload", None, query)
    body = assert_error(response, 404)
    assert asset_id in body["message"]
    assert snapshot(media_root) == before
