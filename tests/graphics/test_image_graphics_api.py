"""Image Graphics through the API (SPEC §5): queueing, validation before queueing, ids and
roles, and jobs run in-process with `assets.jobs.job_ring`, the worker's task.

No worker runs here (tests/graphics/test_worker.py covers the real worker): the job's
enqueue is an on_commit callback, which a non-transactional test never commits, so a
POST leaves a QUEUED row that the test runs itself. No test runs the model: the
operations used are bg_add, border_add and graphics_add (bg_remove appears only in
requests that are rejected or never run).
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from assets import services as asset_services
from tests.images import encode, image_probe_bytes, photo
from assets.models import DEFAULT_SCHEMA_ID, Asset, Conversion, DataSchema, Job, JobStatus, Role
from assets.validators import data_check
from assets.jobs import job_ring
from graphics.image_graphics import JOB_KIND
from graphics.processing.request import GraphicsRequest, parse_request
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

URL = "/api/v1/assets/addons/image_graphics"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
SOURCE_SIZE = (192, 192)
SOURCE_NAME = "astronaut.png"
SOURCE_DATA = {"title": "Astronaut", "tags": ["space", "portrait"], "owner": "nasa"}
OTHER_DATA = {"title": "Coffee", "license": "cc-by"}
# bg_add with a colour only: no model, no other asset; the stage is the working image's size.
PLAIN_OPS = [{"bg_add": {"options": {"color": "#336699"}}}]
# Never run: for requests that are rejected before queueing.
BG_REMOVE_OPS = [{"bg_remove": {"options": {}}}]
TITLE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"title": {"type": "string"}},
    "required": ["title"],
}
PRICE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"price": {"type": "number"}, "title": {"type": "string"}},
    "required": ["price"],
}


def job_url(job_id: str) -> str:
    return f"{URL}/jobs/{job_id}"


# --- images -----------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def source_png() -> bytes:
    """Lossless, so rendered pixels can be compared exactly with the original's."""
    return encode(photo("astronaut", SOURCE_SIZE), "PNG")


@lru_cache(maxsize=None)
def source_pixels() -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(source_png())).convert("RGB"))


@lru_cache(maxsize=None)
def other_png() -> bytes:
    return encode(photo("coffee", (120, 80)), "PNG")


@lru_cache(maxsize=None)
def solid_png(color: tuple[int, int, int], size: tuple[int, int] = (10, 10)) -> bytes:
    return encode(Image.new("RGB", size, color), "PNG")


@lru_cache(maxsize=None)
def border_png() -> bytes:
    """40x40: an opaque red ring 8 px wide around a fully transparent middle."""
    image = Image.new("RGBA", (40, 40), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (8, 8, 32, 32))
    return encode(image, "PNG")


def decode_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def read_file(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


# --- requests and state -------------------------------------------------------------------------


def body_for(asset_id: str, options: dict | None = None, operations: list | None = None) -> dict:
    entry = {asset_id: {"options": options}} if options is not None else {asset_id: {}}
    return {"assets": [entry], "operations": operations if operations is not None else PLAIN_OPS}


def snapshot(media_root: Path) -> dict:
    """Everything a request or a job could create: row counts and every stored file's bytes."""
    return {
        "assets": Asset.objects.count(),
        "conversions": Conversion.objects.count(),
        "jobs": Job.objects.count(),
        "files": {str(p.relative_to(media_root)): p.read_bytes() for p in stored_files(media_root)},
    }


def check_error(response, status: int, *, field: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:800]
    body = response.json()
    assert body["status"] == "error"
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response["X-Request-Id"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert list(body["errors"]) == [field], body
        assert all(isinstance(m, str) and m for m in body["errors"][field])
        assert field in body["message"], body
    return body


def queue(client: APIClient, body: dict) -> Job:
    response = client.post(URL, body, format="json")
    assert response.status_code == 202, response.content[:800]
    return Job.objects.get(id=response.json()["job_id"])


def run(job_id: str, capture) -> Job:
    with capture(execute=True):
        job_ring(job_id)
    return Job.objects.get(id=job_id)


def new_assets_of(source: Asset) -> list[Asset]:
    return list(Asset.objects.filter(source_asset_id=source.id).order_by("upload_time", "id"))


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def creator(client_for) -> APIClient:
    return client_for(Role.CREATOR)


@pytest.fixture
def make_asset():
    def make(client: APIClient, *, name: str = SOURCE_NAME, data_bytes: bytes | None = None, **fields) -> Asset:
        return asset_services.asset_create_from_bytes(
            account=client.user.membership.account,
            user=client.user,
            data_bytes=data_bytes if data_bytes is not None else source_png(),
            name=name,
            **fields,
        )

    return make


@pytest.fixture
def source(creator, make_asset) -> Asset:
    """A 192x192 PNG asset with custom data (so "no metadata" shows as {})."""
    return make_asset(creator, data=dict(SOURCE_DATA))


@pytest.fixture
def other(creator, make_asset) -> Asset:
    """A second asset of the same account, with different data."""
    return make_asset(creator, name="coffee.png", data_bytes=other_png(), data=dict(OTHER_DATA))


@pytest.fixture
def foreign(client_for, make_asset) -> Asset:
    """An asset of another account."""
    return make_asset(client_for(Role.ADMIN, account="globex"), name="secret.png", data={"secret": True})


@pytest.fixture
def red_graphic(creator, make_asset) -> Asset:
    return make_asset(creator, name="red.png", data_bytes=solid_png((255, 0, 0)))


@pytest.fixture
def title_schema(creator) -> DataSchema:
    return DataSchema.objects.create(account=creator.user.membership.account, name="titled", schema=TITLE_SCHEMA)


@pytest.fixture
def price_schema(creator) -> DataSchema:
    return DataSchema.objects.create(account=creator.user.membership.account, name="priced", schema=PRICE_SCHEMA)


# --- 1. queueing and reading the job ------------------------------------------------------------


def test_valid_request_is_202_with_job_id_location_and_a_queued_job_row(creator, source, media_root):
    before = snapshot(media_root)
    body = body_for(source.id, {"size": {"width": 64}, "disposition": {"add_as_conversion": True, "conversion_name": "thumb"}})
    response = creator.post(URL, body, format="json")

    assert response.status_code == 202, response.content
    document = response.json()
    assert set(document) == {"status", "job_id"}
    assert document["status"] == "QUEUED"
    assert HEX32.match(document["job_id"])
    assert urlsplit(response["Location"]).path == f"/api/v1/assets/addons/image_graphics/jobs/{document['job_id']}"

    job = Job.objects.get(id=document["job_id"])
    assert job.status == JobStatus.QUEUED
    assert job.kind == JOB_KIND == "image_graphics"
    # the canonical form of the request, which rebuilds the same typed request on the worker
    assert job.request == parse_request(body).to_json()
    assert GraphicsRequest.from_json(job.request) == parse_request(body)
    assert job.account == creator.user.membership.account
    assert job.user == creator.user
    assert job.output == [] and job.error == [] and job.finished_at is None
    # Queueing renders and saves nothing.
    after = snapshot(media_root)
    assert after["jobs"] == before["jobs"] + 1
    assert (after["assets"], after["conversions"], after["files"]) == (
        before["assets"], before["conversions"], before["files"]
    )


def test_both_job_endpoints_show_the_queued_job(creator, source, client_for):
    job = queue(creator, body_for(source.id))
    reader = client_for(Role.USER)  # reading jobs is for every role of the account
    for url in (job_url(job.id), f"/api/v1/jobs/{job.id}"):
        response = reader.get(url)
        assert response.status_code == 200, response.content
        document = response.json()
        assert document["status"] == "QUEUED"
        assert document["job_id"] == job.id
        assert document["output"] == []
        assert document["error"] == []
        assert document["created_at"]
        assert document["finished_at"] is None


def test_job_of_another_kind_is_404_on_the_image_graphics_path_but_200_on_jobs(creator):
    other_job = Job.objects.create(
        account=creator.user.membership.account, user=creator.user, kind="bg_remove_save", request={}
    )
    check_error(creator.get(job_url(other_job.id)), 404, code="job_not_found")
    response = creator.get(f"/api/v1/jobs/{other_job.id}")
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "bg_remove_save"


def test_image_graphics_job_of_another_account_is_404_on_both_paths(creator, source, client_for):
    job = queue(creator, body_for(source.id))
    outsider = client_for(Role.ADMIN, account="globex")
    for url in (job_url(job.id), f"/api/v1/jobs/{job.id}"):
        body = check_error(outsider.get(url), 404)
        assert body["code"] == "job_not_found"


# --- 2. validation before queueing --------------------------------------------------------------


def _with_options(options: dict, operations: list | None = None):
    return lambda ids: body_for(ids["source"], options, operations)


def _with_ops(operations: list):
    return lambda ids: body_for(ids["source"], None, operations)


# (case id, body maker, the JSON path named in `errors`). The source asset is 192x192.
VALIDATION_CASES = [
    ("body_not_an_object", lambda ids: [body_for(ids["source"])], "body"),
    ("no_assets_key", lambda ids: {"operations": PLAIN_OPS}, "assets"),
    ("assets_empty", lambda ids: {"assets": [], "operations": PLAIN_OPS}, "assets"),
    ("assets_not_a_list", lambda ids: {"assets": {ids["source"]: {}}, "operations": PLAIN_OPS}, "assets"),
    ("no_operations_key", lambda ids: {"assets": [{ids["source"]: {}}]}, "operations"),
    ("operations_empty", lambda ids: {"assets": [{ids["source"]: {}}], "operations": []}, "operations"),
    ("operations_not_a_list", lambda ids: {"assets": [{ids["source"]: {}}], "operations": {"bg_remove": {}}}, "operations"),
    ("unknown_top_level_key", lambda ids: {**body_for(ids["source"]), "priority": "high"}, "priority"),
    ("asset_entry_two_keys", lambda ids: {"assets": [{ids["source"]: {}, ids["other"]: {}}], "operations": PLAIN_OPS}, "assets[0]"),
    ("asset_id_not_hex", lambda ids: {"assets": [{"ABC": {}}], "operations": PLAIN_OPS}, "assets[0]"),
    ("unknown_operation", _with_ops([{"sharpen": {"options": {}}}]), "operations[0]"),
    ("unknown_second_operation", _with_ops([*PLAIN_OPS, {"blur": {}}]), "operations[1]"),
    ("unknown_asset_option", _with_options({"rotate": 90}), "assets[0].options.rotate"),
    ("unknown_asset_entry_key", lambda ids: {"assets": [{ids["source"]: {"opts": {}}}], "operations": PLAIN_OPS}, "assets[0].opts"),
    ("unknown_crop_key", _with_options({"crop": {"left": 0, "top": 0, "right": 10, "bottom": 10, "depth": 1}}), "assets[0].options.crop.depth"),
    ("unknown_disposition_key", _with_options({"disposition": {"create_asset": True, "folder": "x"}}), "assets[0].options.disposition.folder"),
    ("unknown_metadata_key", _with_options({"disposition": {"metadata": {"inherit": True, "copy": 1}}}), "assets[0].options.disposition.metadata.copy"),
    ("unknown_bg_add_option", _with_ops([{"bg_add": {"options": {"color": "#fff", "opacity": 1}}}]), "operations[0].bg_add.options.opacity"),
    ("unknown_bg_remove_option", _with_ops([{"bg_remove": {"options": {"model": "u2net"}}}]), "operations[0].bg_remove.options.model"),
    ("unknown_graphic_option", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_id": "a" * 32, "angle": 3}}]}}]), "operations[0].graphics_add.graphics[0].options.angle"),
    ("crop_left_string", _with_options({"crop": {"left": "0", "top": 0, "right": 10, "bottom": 10}}), "assets[0].options.crop.left"),
    ("crop_bottom_float", _with_options({"crop": {"left": 0, "top": 0, "right": 10, "bottom": 10.5}}), "assets[0].options.crop.bottom"),
    ("crop_missing_side", _with_options({"crop": {"left": 0, "top": 0, "right": 10}}), "assets[0].options.crop.bottom"),
    ("crop_right_not_after_left", _with_options({"crop": {"left": 50, "top": 0, "right": 50, "bottom": 10}}), "assets[0].options.crop.right"),
    ("size_width_bool", _with_options({"size": {"width": True}}), "assets[0].options.size.width"),
    ("size_height_zero", _with_options({"size": {"height": 0}}), "assets[0].options.size.height"),
    ("size_empty", _with_options({"size": {}}), "assets[0].options.size"),
    ("options_not_object", lambda ids: {"assets": [{ids["source"]: {"options": []}}], "operations": PLAIN_OPS}, "assets[0].options"),
    ("canvas_without_size", _with_options({"canvas": {"color": "#fff"}}), "assets[0].options.canvas.size"),
    ("canvas_one_side", _with_options({"canvas": {"size": {"width": 300}}}), "assets[0].options.canvas.size.height"),
    ("position_x_string", _with_options({"canvas": {"size": {"width": 300, "height": 300}}, "position": {"x": "1", "y": 0}}), "assets[0].options.position.x"),
    ("add_as_conversion_string", _with_options({"disposition": {"add_as_conversion": "yes", "conversion_name": "a"}}), "assets[0].options.disposition.add_as_conversion"),
    ("create_asset_number", _with_options({"disposition": {"create_asset": 1}}), "assets[0].options.disposition.create_asset"),
    ("inherit_string", _with_options({"disposition": {"metadata": {"inherit": "true"}}}), "assets[0].options.disposition.metadata.inherit"),
    ("inherit_fields_not_list", _with_options({"disposition": {"metadata": {"inherit_fields": "title"}}}), "assets[0].options.disposition.metadata.inherit_fields"),
    ("metadata_data_list", _with_options({"disposition": {"metadata": {"data": [1, 2]}}}), "assets[0].options.disposition.metadata.data"),
    ("metadata_mode_unknown", _with_options({"disposition": {"metadata": {"mode": "MERGE"}}}), "assets[0].options.disposition.metadata.mode"),
    ("src_asset_id_not_hex", _with_options({"disposition": {"metadata": {"inherit": True, "src_asset_id": "nope"}}}), "assets[0].options.disposition.metadata.src_asset_id"),
    ("data_schema_id_string", _with_options({"disposition": {"data_schema_id": "1"}}), "assets[0].options.disposition.data_schema_id"),
    ("graphics_not_list", _with_ops([{"graphics_add": {"graphics": {"type": "image"}}}]), "operations[0].graphics_add.graphics"),
    ("graphic_type_unknown", _with_ops([{"graphics_add": {"graphics": [{"type": "text", "options": {"image_id": "a" * 32}}]}}]), "operations[0].graphics_add.graphics[0].type"),
    ("bg_add_mode_unknown", _with_ops([{"bg_add": {"options": {"color": "#fff", "mode": "tile"}}}]), "operations[0].bg_add.options.mode"),
    ("bg_remove_strength_unknown", _with_ops([{"bg_remove": {"options": {"strength": "max"}}}]), "operations[0].bg_remove.options.strength"),
    ("canvas_color_five_digits", _with_options({"canvas": {"size": {"width": 300, "height": 300}, "color": "#12345"}}), "assets[0].options.canvas.color"),
    ("canvas_color_no_hash", _with_options({"canvas": {"size": {"width": 300, "height": 300}, "color": "00ff00"}}), "assets[0].options.canvas.color"),
    ("bg_add_color_name", _with_ops([{"bg_add": {"options": {"color": "green"}}}]), "operations[0].bg_add.options.color"),
    ("graphic_color_not_hex", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_id": "a" * 32, "color": "#ggg"}}]}}]), "operations[0].graphics_add.graphics[0].options.color"),
    ("crop_right_beyond_width", _with_options({"crop": {"left": 0, "top": 0, "right": 193, "bottom": 100}}), "assets[0].options.crop.right"),
    ("crop_bottom_beyond_height", _with_options({"crop": {"left": 0, "top": 0, "right": 192, "bottom": 200}}), "assets[0].options.crop.bottom"),
    ("crop_of_second_asset", lambda ids: {"assets": [{ids["source"]: {}}, {ids["other"]: {"options": {"crop": {"left": 0, "top": 0, "right": 121, "bottom": 80}}}}], "operations": PLAIN_OPS}, "assets[1].options.crop.right"),
    # canvas 300x200, the whole 192x192 subject: x + 192 > 300
    ("position_x_outside_canvas", _with_options({"canvas": {"size": {"width": 300, "height": 200}}, "position": {"x": 109, "y": 0}}), "assets[0].options.position.x"),
    # the subject is crop 100x50 resized to width 80 -> 80x40; canvas 100x100: x fits exactly, y does not
    ("position_y_outside_canvas_crop_and_size", _with_options({"crop": {"left": 10, "top": 10, "right": 110, "bottom": 60}, "size": {"width": 80}, "canvas": {"size": {"width": 100, "height": 100}}, "position": {"x": 20, "y": 61}}), "assets[0].options.position.y"),
    # the stage comes from bg_add.size (200x150); the subject resized to 100x100
    ("position_x_outside_bg_add_size", _with_options({"size": {"width": 100}, "position": {"x": 101, "y": 0}}, [{"bg_add": {"options": {"color": "#fff", "size": {"width": 200, "height": 150}}}}]), "assets[0].options.position.x"),
    ("position_y_outside_bg_add_size", _with_options({"size": {"width": 100}, "position": {"x": 100, "y": 51}}, [{"bg_add": {"options": {"color": "#fff", "size": {"width": 200, "height": 150}}}}]), "assets[0].options.position.y"),
    # no canvas and bg_add without size: the stage is the subject itself
    ("position_offset_on_subject_sized_stage", _with_options({"position": {"x": 1, "y": 0}}), "assets[0].options.position.x"),
    ("position_without_canvas_or_bg_add", _with_options({"position": {"x": 0, "y": 0}}, BG_REMOVE_OPS), "assets[0].options.position"),
    ("conversion_name_without_add_as_conversion", _with_options({"disposition": {"create_asset": True, "conversion_name": "thumb"}}), "assets[0].options.disposition.conversion_name"),
    ("metadata_without_new_asset", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "a", "metadata": {"inherit": True}}}), "assets[0].options.disposition.metadata"),
    ("data_schema_id_without_new_asset", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "a", "data_schema_id": 0}}), "assets[0].options.disposition.data_schema_id"),
    ("inherit_fields_not_strings", _with_options({"disposition": {"metadata": {"inherit_fields": ["title", 3]}}}), "assets[0].options.disposition.metadata.inherit_fields"),
    ("add_as_conversion_without_name", _with_options({"disposition": {"add_as_conversion": True}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_with_space", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "my thumb"}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_original", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "original"}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_too_long", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "x" * 31}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_not_string", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": 7}}), "assets[0].options.disposition.conversion_name"),
    ("image_url_host_not_allowed", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_url": "https://example.com/logo.png"}}]}}]), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("image_url_not_http", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_url": "file:///etc/passwd"}}]}}]), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic_needs_one_source", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"size": {"width": 5, "height": 5}}}]}}]), "operations[0].graphics_add.graphics[0].options"),
]


@pytest.mark.parametrize("make_body, field", [c[1:] for c in VALIDATION_CASES], ids=[c[0] for c in VALIDATION_CASES])
def test_invalid_request_is_400_naming_the_json_path_and_queues_nothing(creator, source, other, media_root, make_body, field):
    before = snapshot(media_root)
    response = creator.post(URL, make_body({"source": source.id, "other": other.id}), format="json")
    check_error(response, 400, field=field)
    assert snapshot(media_root) == before


def test_unknown_data_schema_id_is_400_naming_it(creator, source, media_root):
    before = snapshot(media_root)
    body = body_for(source.id, {"disposition": {"create_asset": True, "data_schema_id": 987654}})
    check_error(creator.post(URL, body, format="json"), 400, field="assets[0].options.disposition.data_schema_id")
    assert snapshot(media_root) == before


def test_data_schema_of_another_account_is_400_like_an_unknown_one(creator, source, client_for, media_root):
    outsider = client_for(Role.ADMIN, account="globex")
    theirs = DataSchema.objects.create(account=outsider.user.membership.account, name="theirs", schema=TITLE_SCHEMA)
    before = snapshot(media_root)
    body = body_for(source.id, {"disposition": {"data_schema_id": theirs.id}})
    check_error(creator.post(URL, body, format="json"), 400, field="assets[0].options.disposition.data_schema_id")
    assert snapshot(media_root) == before


@pytest.mark.parametrize(
    "metadata, errors",
    [
        # the price is a string: the violation names the key under metadata.data
        ({"data": {"price": "cheap"}}, {"assets[0].options.disposition.metadata.data.price"}),
        # price missing altogether: the violation is on the data object itself
        ({"data": {"title": "t"}}, {"assets[0].options.disposition.metadata.data"}),
        # inherited data (no price) under the given schema
        ({"inherit": True}, {"assets[0].options.disposition.metadata.data"}),
    ],
    ids=["wrong_type", "missing_required", "inherited_data"],
)
def test_new_asset_data_violating_the_schema_is_400_schema_violation(creator, source, price_schema, media_root, metadata, errors):
    before = snapshot(media_root)
    body = body_for(source.id, {"disposition": {"create_asset": True, "data_schema_id": price_schema.id, "metadata": metadata}})
    response = creator.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    document = response.json()
    assert document["code"] == "schema_violation"
    assert set(document["errors"]) == errors
    assert "assets[0]" in document["message"]
    assert snapshot(media_root) == before


def test_inherited_schema_is_checked_before_queueing_against_the_final_data(creator, make_asset, title_schema, media_root):
    """inherit: true keeps the source's schema; REPLACE-free APPEND data that breaks it is a 400."""
    titled = make_asset(creator, data={"title": "Astronaut"}, data_schema=title_schema)
    before = snapshot(media_root)
    body = body_for(titled.id, {"disposition": {"metadata": {"inherit": True, "data": {"title": 5}}}})
    response = creator.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "schema_violation"
    assert set(response.json()["errors"]) == {"assets[0].options.disposition.metadata.data.title"}
    assert snapshot(media_root) == before


def test_geometry_is_checked_against_the_upright_size_of_an_exif_rotated_original(creator, make_asset, media_root):
    from tests.images import exif_rotated_jpeg_bytes

    rotated = make_asset(creator, name="chelsea.jpg", data_bytes=exif_rotated_jpeg_bytes())
    assert (rotated.width, rotated.height) == (300, 451)
    before = snapshot(media_root)
    crop = {"left": 0, "top": 0, "right": 400, "bottom": 100}  # fits 451 wide stored, not 300 upright
    check_error(creator.post(URL, body_for(rotated.id, {"crop": crop}), format="json"), 400, field="assets[0].options.crop.right")
    assert snapshot(media_root) == before
    crop = {"left": 0, "top": 0, "right": 300, "bottom": 451}
    assert creator.post(URL, body_for(rotated.id, {"crop": crop}), format="json").status_code == 202


# --- 3. ids: 404, never 403, nothing queued -----------------------------------------------------


def _bg_add_image(ids):
    return body_for(ids["source"], None, [{"bg_add": {"options": {"image_id": ids["target"]}}}])


def _border_image(ids):
    return body_for(ids["source"], None, [{"border_add": {"options": {"image_id": ids["target"]}}}])


def _graphic_image(ids):
    return body_for(ids["source"], None, [*PLAIN_OPS, {"graphics_add": {"graphics": [
        {"type": "image", "options": {"image_id": ids["other"]}},
        {"type": "image", "options": {"image_id": ids["target"]}},
    ]}}])


def _asset_itself(ids):
    return {"assets": [{ids["source"]: {}}, {ids["target"]: {}}], "operations": PLAIN_OPS}


def _src_asset(ids):
    return body_for(ids["source"], {"disposition": {"metadata": {"inherit": True, "src_asset_id": ids["target"]}}})


ID_CASES = [
    ("asset", _asset_itself, "assets[1]"),
    ("bg_add_image_id", _bg_add_image, "operations[0].bg_add.options.image_id"),
    ("border_add_image_id", _border_image, "operations[0].border_add.options.image_id"),
    ("graphics_add_image_id", _graphic_image, "operations[1].graphics_add.graphics[1].options.image_id"),
    ("metadata_src_asset_id", _src_asset, "assets[0].options.disposition.metadata.src_asset_id"),
]


@pytest.mark.parametrize("whose", ["unknown", "another_account"])
@pytest.mark.parametrize("make_body, field", [c[1:] for c in ID_CASES], ids=[c[0] for c in ID_CASES])
def test_unknown_or_foreign_id_is_404_naming_its_path_and_queues_nothing(
    creator, source, other, foreign, media_root, make_body, field, whose
):
    target = "0123456789abcdef0123456789abcdef" if whose == "unknown" else foreign.id
    before = snapshot(media_root)
    response = creator.post(URL, make_body({"source": source.id, "other": other.id, "target": target}), format="json")
    body = check_error(response, 404, field=field)
    assert target in body["message"]
    assert "globex" not in response.content.decode() and "secret" not in response.content.decode()
    assert snapshot(media_root) == before


def test_foreign_and_unknown_ids_get_the_same_answer(creator, source, foreign):
    unknown = "0123456789abcdef0123456789abcdef"
    answers = []
    for target in (unknown, foreign.id):
        body = check_error(creator.post(URL, _bg_add_image({"source": source.id, "target": target}), format="json"), 404)
        answers.append((body["code"], body["message"].replace(target, "<id>"), {k: [m.replace(target, "<id>") for m in v] for k, v in body["errors"].items()}))
    assert answers[0] == answers[1]


# --- 4. roles -----------------------------------------------------------------------------------


def test_user_role_is_403_and_queues_nothing(client_for, make_asset, media_root):
    user = client_for(Role.USER)
    asset = make_asset(user)
    before = snapshot(media_root)
    body = check_error(user.post(URL, body_for(asset.id), format="json"), 403, code="permission_denied")
    assert "USER" in body["message"] and "CREATOR" in body["message"]
    assert "image graphics" in body["message"] and "mode=" not in body["message"]
    assert snapshot(media_root) == before


@pytest.mark.parametrize("role", [Role.CREATOR, Role.MANAGER, Role.ADMIN])
def test_creator_and_above_are_202(client_for, make_asset, role):
    client = client_for(role)
    asset = make_asset(client)
    response = client.post(URL, body_for(asset.id), format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(id=response.json()["job_id"])
    assert (job.user, job.status, job.kind) == (client.user, JobStatus.QUEUED, JOB_KIND)


@pytest.mark.parametrize("credentials", [None, "not-a-real-key"], ids=["none", "bad_key"])
def test_no_or_bad_credentials_is_401_and_queues_nothing(source, media_root, credentials):
    client = APIClient()
    if credentials:
        client.credentials(HTTP_X_API_KEY=credentials)
    before = snapshot(media_root)
    check_error(client.post(URL, body_for(source.id), format="json"), 401)
    assert snapshot(media_root) == before
    job = Job.objects.create(account=source.account, kind=JOB_KIND, request={})
    check_error(client.get(job_url(job.id)), 401)


# --- 5. running the job -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "disposition, conversion, new_asset",
    [
        ({"add_as_conversion": True, "conversion_name": "thumb"}, True, False),
        ({"create_asset": True}, False, True),
        ({"add_as_conversion": True, "conversion_name": "thumb", "create_asset": True}, True, True),
        ({}, False, True),
        ({"add_as_conversion": False, "create_asset": False}, False, True),
    ],
    ids=["conversion_only", "create_asset_only", "both", "neither_given", "both_false"],
)
def test_dispositions_store_what_was_asked(creator, source, media_root, django_capture_on_commit_callbacks, disposition, conversion, new_asset):
    job = queue(creator, body_for(source.id, {"size": {"width": 64}, "disposition": disposition}))
    assets_before = set(Asset.objects.values_list("id", flat=True))
    job = run(job.id, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.OK, job.error
    assert job.error == []
    assert job.finished_at is not None
    expected_output = []
    source.refresh_from_db()
    if conversion:
        row = Conversion.objects.get(asset=source, name="thumb")
        assert row.content_type == "image/png"
        assert (row.width, row.height) == (64, 64)
        png = read_file(row.file.name)
        assert len(png) == row.size
        assert decode_png(png).size == (64, 64)
        expected_output.append({"name": "thumb", "asset_id": source.id})
    else:
        assert not Conversion.objects.filter(asset=source).exists()
    created = [a for a in Asset.objects.all() if a.id not in assets_before]
    if new_asset:
        assert len(created) == 1
        made = created[0]
        assert made.name == "astronaut_graphics.png"
        assert made.source_asset_id == source.id
        assert made.content_type == "image/png"
        assert (made.width, made.height) == (64, 64)
        assert made.account == source.account and made.created_by == creator.user
        assert decode_png(read_file(made.file.name)).size == (64, 64)
        expected_output.append({"name": None, "asset_id": made.id})
        lineage = creator.get(f"/api/v1/assets/{source.id}/lineage").json()
        assert lineage["descendants"] == [made.id]
        assert creator.get(f"/api/v1/assets/{made.id}/lineage").json()["ancestors"] == [source.id]
    else:
        assert created == []
    assert job.output == expected_output

    for url in (job_url(job.id), f"/api/v1/jobs/{job.id}"):
        document = creator.get(url).json()
        assert document["status"] == "OK"
        assert document["output"] == expected_output
        assert document["error"] == []
        assert document["finished_at"]


def test_rendered_png_has_the_canvas_colour_the_cropped_photo_and_the_graphic(
    creator, source, red_graphic, django_capture_on_commit_callbacks
):
    """canvas 300x200 #00ff00; a 100x100 crop centred at (100, 50); a red 10x10 graphic at
    the bottom-right corner, drawn after the canvas was built."""
    options = {
        "crop": {"left": 50, "top": 40, "right": 150, "bottom": 140},
        "canvas": {"size": {"width": 300, "height": 200}, "color": "#00ff00"},
        "disposition": {"add_as_conversion": True, "conversion_name": "staged"},
    }
    graphics = [{"type": "image", "options": {"image_id": red_graphic.id, "position": {"x": 290, "y": 190}, "size": {"width": 10, "height": 10}}}]
    job = run(queue(creator, body_for(source.id, options, [{"graphics_add": {"graphics": graphics}}])).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error

    image = decode_png(read_file(Conversion.objects.get(asset=source, name="staged").file.name)).convert("RGBA")
    assert image.size == (300, 200)
    pixels = np.asarray(image)
    assert tuple(pixels[0, 0]) == (0, 255, 0, 255)  # the stage's corner
    assert tuple(pixels[199, 0]) == (0, 255, 0, 255)
    assert tuple(pixels[49, 99]) == (0, 255, 0, 255)  # just outside the subject
    # The subject: exactly the cropped photograph, opaque, at (100, 50).
    original = source_pixels()
    assert np.array_equal(pixels[50:150, 100:200, :3], original[40:140, 50:150])
    assert (pixels[50:150, 100:200, 3] == 255).all()
    assert tuple(pixels[100, 150, :3]) == tuple(original[90, 100])  # the stage's centre
    # The graphic at the bottom-right corner.
    assert (pixels[190:200, 290:300] == (255, 0, 0, 255)).all()
    assert tuple(pixels[189, 289]) == (0, 255, 0, 255)


def test_bg_add_size_stage_with_position_and_border(creator, source, django_capture_on_commit_callbacks, make_asset):
    border = make_asset(creator, name="border.png", data_bytes=border_png())
    options = {"crop": {"left": 0, "top": 0, "right": 100, "bottom": 100}, "position": {"x": 140, "y": 130}}
    operations = [
        {"bg_add": {"options": {"color": "#0000ff", "size": {"width": 250, "height": 240}}}},
        {"border_add": {"options": {"image_id": border.id}}},
    ]
    job = run(queue(creator, body_for(source.id, options, operations)).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error
    (made,) = new_assets_of(source)
    pixels = np.asarray(decode_png(read_file(made.file.name)).convert("RGBA"))
    assert pixels.shape == (240, 250, 4)
    assert tuple(pixels[0, 0]) == (255, 0, 0, 255)  # the border's ring, stretched to the stage
    assert tuple(pixels[239, 249]) == (255, 0, 0, 255)
    assert tuple(pixels[90, 90]) == (0, 0, 255, 255)  # the background colour inside the ring
    # The ring, stretched 6.25x, covers x < 50 and x >= 200 (y < 48, y >= 192); LANCZOS
    # reaches ~19 px further in. Where the ring is clear the subject is the photo, exactly.
    assert np.array_equal(pixels[130:170, 140:175, :3], source_pixels()[0:40, 0:35])
    assert (pixels[130:170, 140:175, 3] == 255).all()
    assert tuple(pixels[230, 230]) == (255, 0, 0, 255)  # the ring covers the subject's corner


# --- metadata of the new asset ------------------------------------------------------------------

META_CASES = [
    ("none", None, lambda s, o: {}),
    ("inherit_all", {"inherit": True}, lambda s, o: dict(SOURCE_DATA)),
    ("inherit_from_src_asset", {"inherit": True, "src_asset_id": "OTHER"}, lambda s, o: dict(OTHER_DATA)),
    ("inherit_fields", {"inherit_fields": ["title", "owner", "absent"]}, lambda s, o: {"title": "Astronaut", "owner": "nasa"}),
    ("inherit_fields_with_inherit", {"inherit": True, "inherit_fields": ["tags"]}, lambda s, o: {"tags": ["space", "portrait"]}),
    ("inherit_fields_from_src", {"inherit_fields": ["license"], "src_asset_id": "OTHER"}, lambda s, o: {"license": "cc-by"}),
    ("data_only", {"data": {"campaign": "spring"}}, lambda s, o: {"campaign": "spring"}),
    ("append_default", {"inherit": True, "data": {"title": "Framed", "campaign": "spring"}}, lambda s, o: {**SOURCE_DATA, "title": "Framed", "campaign": "spring"}),
    ("append_explicit", {"inherit_fields": ["title", "owner"], "data": {"owner": "esa"}, "mode": "APPEND"}, lambda s, o: {"title": "Astronaut", "owner": "esa"}),
    ("replace", {"inherit": True, "data": {"campaign": "spring"}, "mode": "REPLACE"}, lambda s, o: {"campaign": "spring"}),
    ("replace_without_data", {"inherit": True, "mode": "REPLACE"}, lambda s, o: {}),
]


@pytest.mark.parametrize("metadata, expected", [c[1:] for c in META_CASES], ids=[c[0] for c in META_CASES])
def test_new_asset_metadata_follows_the_rules(creator, source, other, django_capture_on_commit_callbacks, metadata, expected):
    disposition: dict = {"create_asset": True}
    if metadata is not None:
        metadata = {k: (other.id if v == "OTHER" else v) for k, v in metadata.items()}
        disposition["metadata"] = metadata
    job = run(queue(creator, body_for(source.id, {"disposition": disposition})).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error
    (made,) = new_assets_of(source)
    assert made.data == expected(source, other)
    assert made.source_asset_id == source.id  # src_asset_id gives data, not lineage
    document = creator.get(f"/api/v1/assets/{made.id}").json()
    assert document["data"] == expected(source, other)
    # The sources are untouched.
    source.refresh_from_db()
    other.refresh_from_db()
    assert source.data == SOURCE_DATA and other.data == OTHER_DATA


# new_asset_schema_id: data_schema_id when given; else the source's schema when all of its
# data is inherited (inherit: true, APPEND, no inherit_fields); else 0.
SCHEMA_CASES = [
    ("no_metadata", None, None, "default"),
    ("inherit_keeps_source_schema", {"inherit": True}, None, "title"),
    ("inherit_append_keeps_source_schema", {"inherit": True, "data": {"campaign": "x"}}, None, "title"),
    ("inherit_replace_is_default", {"inherit": True, "data": {"campaign": "x"}, "mode": "REPLACE"}, None, "default"),
    ("inherit_fields_is_default", {"inherit_fields": ["title"]}, None, "default"),
    ("data_only_is_default", {"data": {"campaign": "x"}}, None, "default"),
    ("inherit_from_src_takes_its_schema", {"inherit": True, "src_asset_id": "OTHER"}, None, "default"),
    ("inherit_from_priced_src_takes_its_schema", {"inherit": True, "src_asset_id": "PRICED"}, None, "price"),
    ("data_schema_id_wins", {"inherit": True, "data": {"price": 9.5}}, "price", "price"),
    ("data_schema_id_without_metadata_data", {"data": {"price": 1}}, "price", "price"),
]


@pytest.mark.parametrize("metadata, given, expected", [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES])
def test_new_asset_schema_follows_the_documented_default(
    creator, make_asset, other, title_schema, price_schema, django_capture_on_commit_callbacks, metadata, given, expected
):
    schemas = {"default": DataSchema.objects.get(id=DEFAULT_SCHEMA_ID), "title": title_schema, "price": price_schema}
    titled = make_asset(creator, data=dict(SOURCE_DATA), data_schema=title_schema)
    priced = make_asset(creator, name="priced.png", data={"price": 3, "title": "p"}, data_schema=price_schema)
    ids = {"OTHER": other.id, "PRICED": priced.id}
    disposition: dict = {"create_asset": True}
    if metadata is not None:
        disposition["metadata"] = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in metadata.items()}
    if given is not None:
        disposition["data_schema_id"] = schemas[given].id
    job = run(queue(creator, body_for(titled.id, {"disposition": disposition})).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error
    (made,) = new_assets_of(titled)
    assert made.data_schema_id == schemas[expected].id
    assert data_check(made.data, made.data_schema.schema) == {}
    assert creator.get(f"/api/v1/assets/{made.id}").json()["data_schema_id"] == schemas[expected].id


# --- per-asset isolation and all-or-nothing saves ----------------------------------------------


def test_an_asset_deleted_after_queueing_is_an_error_and_the_others_still_save(
    creator, source, other, make_user, media_root, django_capture_on_commit_callbacks
):
    disposition = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True}
    body = {
        "assets": [{source.id: {"options": {"disposition": disposition}}}, {other.id: {"options": {"disposition": disposition}}}],
        "operations": PLAIN_OPS,
    }
    job = queue(creator, body)
    manager, _ = make_user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.asset_delete(user=manager, asset_id=other.id)
    assert not any(other.id in str(p) for p in stored_files(media_root))

    job = run(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.finished_at is not None
    (made,) = new_assets_of(source)
    assert job.output == [{"name": "framed", "asset_id": source.id}, {"name": None, "asset_id": made.id}]
    assert len(job.error) == 1
    error = job.error[0]
    assert set(error) == {"name", "asset_id", "error"}
    assert (error["name"], error["asset_id"]) == ("framed", other.id)
    assert other.id in error["error"] and "no longer exists" in error["error"]
    # The first asset's results exist, with files.
    conversion = Conversion.objects.get(asset=source, name="framed")
    assert decode_png(read_file(conversion.file.name)).size == SOURCE_SIZE
    assert decode_png(read_file(made.file.name)).size == SOURCE_SIZE
    # Nothing was made for the deleted one.
    assert not Asset.objects.filter(source_asset_id=other.id).exists()
    assert not Conversion.objects.filter(asset_id=other.id).exists()
    document = creator.get(job_url(job.id)).json()
    assert document["status"] == "ERROR"
    assert document["output"] == job.output and document["error"] == job.error


def test_a_failing_new_asset_leaves_neither_it_nor_the_conversion(
    creator, source, other, price_schema, media_root, django_capture_on_commit_callbacks
):
    """Both dispositions for each asset; the schema changes after queueing so the first
    asset's new data no longer validates. That asset keeps its old conversion (same bytes,
    same file) and gets no new asset; the second asset saves both."""
    old_png = solid_png((1, 2, 3), (20, 20))
    old = asset_services.conversion_save(
        asset=source, name="framed", content=ContentFile(old_png), info=image_probe_bytes(old_png, max_pixels=10**6)
    )
    failing = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True,
               "data_schema_id": price_schema.id, "metadata": {"data": {"price": 10}}}
    fine = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True}
    body = {"assets": [{source.id: {"options": {"disposition": failing}}}, {other.id: {"options": {"disposition": fine}}}],
            "operations": PLAIN_OPS}
    job = queue(creator, body)
    price_schema.schema = {**PRICE_SCHEMA, "properties": {"price": {"type": "string"}}}
    price_schema.save()
    before = snapshot(media_root)

    job = run(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("framed", source.id)]
    assert "schema" in job.error[0]["error"]
    # The failing asset: the old conversion is intact, no new asset.
    conversion = Conversion.objects.get(asset=source, name="framed")
    assert (conversion.file.name, conversion.checksum, conversion.size) == (old.file.name, old.checksum, old.size)
    assert read_file(conversion.file.name) == old_png
    assert new_assets_of(source) == []
    # The other asset saved both.
    (made,) = new_assets_of(other)
    assert job.output == [{"name": "framed", "asset_id": other.id}, {"name": None, "asset_id": made.id}]
    other_conversion = Conversion.objects.get(asset=other, name="framed")
    # Files: exactly the two the other asset produced were added; nothing else changed.
    after = snapshot(media_root)
    added = set(after["files"]) - set(before["files"])
    assert added == {other_conversion.file.name, made.file.name}
    assert all(after["files"][name] == data for name, data in before["files"].items())
    assert (after["assets"], after["conversions"]) == (before["assets"] + 1, before["conversions"] + 1)


def test_a_failing_save_with_no_earlier_conversion_leaves_no_conversion_and_no_file(
    creator, source, price_schema, media_root, django_capture_on_commit_callbacks
):
    disposition = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True,
                   "data_schema_id": price_schema.id, "metadata": {"data": {"price": 10}}}
    job = queue(creator, body_for(source.id, {"disposition": disposition}))
    DataSchema.objects.filter(id=price_schema.id).update(schema={**PRICE_SCHEMA, "required": ["price", "sku"]})
    before = snapshot(media_root)
    job = run(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("framed", source.id)]
    assert "sku" in job.error[0]["error"]
    assert not Conversion.objects.filter(asset=source).exists()
    assert snapshot(media_root) == before


def test_image_url_resolving_to_loopback_is_refused_at_run_time(
    creator, source, settings, media_root, django_capture_on_commit_callbacks
):
    settings.IMAGE_GRAPHICS_URL_HOSTS = ["localhost"]
    graphics = [{"type": "image", "options": {"image_url": "http://localhost:8000/logo.png"}}]
    disposition = {"add_as_conversion": True, "conversion_name": "logo", "create_asset": True}
    response = creator.post(URL, body_for(source.id, {"disposition": disposition}, [*PLAIN_OPS, {"graphics_add": {"graphics": graphics}}]), format="json")
    assert response.status_code == 202, response.content
    before = snapshot(media_root)

    job = run(response.json()["job_id"], django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert len(job.error) == 1
    assert (job.error[0]["name"], job.error[0]["asset_id"]) == ("logo", source.id)
    assert re.search(r"private|reserved|loopback", job.error[0]["error"]), job.error
    assert "localhost" in job.error[0]["error"]
    assert snapshot(media_root) == before


def test_url_host_removed_from_the_setting_after_queueing_is_a_per_asset_error(
    creator, source, other, settings, media_root, django_capture_on_commit_callbacks
):
    """The request was valid when queued; the worker applies the setting as it is now, per
    asset (the job still finishes, and an asset without the URL still saves)."""
    settings.IMAGE_GRAPHICS_URL_HOSTS = ["images.example.com"]
    graphics = [{"type": "image", "options": {"image_url": "https://images.example.com/logo.png"}}]
    body = body_for(source.id, {"disposition": {"add_as_conversion": True, "conversion_name": "logo"}},
                    [*PLAIN_OPS, {"graphics_add": {"graphics": graphics}}])
    job = queue(creator, body)
    settings.IMAGE_GRAPHICS_URL_HOSTS = []
    before = snapshot(media_root)

    job = run(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.finished_at is not None
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("logo", source.id)]
    assert "images.example.com" in job.error[0]["error"] and "allowed" in job.error[0]["error"]
    assert snapshot(media_root) == before


def test_an_image_id_deleted_after_queueing_is_an_error_for_the_assets_using_it(
    creator, source, other, red_graphic, make_user, media_root, django_capture_on_commit_callbacks
):
    graphics = [{"type": "image", "options": {"image_id": red_graphic.id, "size": {"width": 4, "height": 4}}}]
    disposition = {"add_as_conversion": True, "conversion_name": "badge", "create_asset": True}
    job = queue(creator, body_for(source.id, {"disposition": disposition}, [*PLAIN_OPS, {"graphics_add": {"graphics": graphics}}]))
    manager, _ = make_user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.asset_delete(user=manager, asset_id=red_graphic.id)
    before = snapshot(media_root)
    job = run(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("badge", source.id)]
    assert red_graphic.id in job.error[0]["error"] and "no longer exists" in job.error[0]["error"]
    assert snapshot(media_root) == before


def test_a_src_asset_deleted_after_queueing_rolls_back_the_conversion_too(
    creator, source, other, make_user, media_root, django_capture_on_commit_callbacks
):
    disposition = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True,
                   "metadata": {"inherit": True, "src_asset_id": other.id}}
    job = queue(creator, body_for(source.id, {"disposition": disposition}))
    manager, _ = make_user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.asset_delete(user=manager, asset_id=other.id)
    before = snapshot(media_root)
    job = run(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("framed", source.id)]
    assert other.id in job.error[0]["error"]
    assert not Conversion.objects.filter(asset=source).exists()
    assert snapshot(media_root) == before


def test_running_a_job_twice_does_nothing_the_second_time(creator, source, media_root, django_capture_on_commit_callbacks):
    disposition = {"add_as_conversion": True, "conversion_name": "thumb", "create_asset": True}
    job = queue(creator, body_for(source.id, {"size": {"height": 50}, "disposition": disposition}))
    first = run(job.id, django_capture_on_commit_callbacks)
    assert first.status == JobStatus.OK and len(first.output) == 2
    state = snapshot(media_root)
    conversion = Conversion.objects.get(asset=source, name="thumb")

    with django_capture_on_commit_callbacks(execute=True):
        returned = job_ring(job.id)
    second = Job.objects.get(id=job.id)
    assert returned == "nothing to claim"
    assert (second.status, second.output, second.error, second.finished_at, second.attempts) == (
        first.status, first.output, first.error, first.finished_at, first.attempts
    )
    assert snapshot(media_root) == state
    assert Conversion.objects.get(asset=source, name="thumb").file.name == conversion.file.name
    assert len(new_assets_of(source)) == 1


def test_ringing_for_a_missing_job_claims_nothing(db):
    assert job_ring("0123456789abcdef0123456789abcdef") == "nothing to claim"
