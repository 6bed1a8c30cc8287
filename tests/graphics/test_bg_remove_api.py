"""Remove Background through the API (SPEC §4): the three endpoints, every mode and
disposition, the validation rules, roles, inputs, failed saves and racing saves.

The real model (u2netp) runs; images are kept small. The worker is not running here:
`get_image_and_save` jobs are run in-process with `assets.jobs.job_ring`, the worker's task.
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image, ImageOps
from rest_framework.test import APIClient

from assets import services as asset_services
from tests.images import image_probe_bytes
from assets.jobs import job_ring
from assets.models import Asset, Conversion, DEFAULT_SCHEMA_ID, Job, JobStatus, Role
from graphics import services as graphics_services
from tests.conftest import stored_files
from tests.images import (
    cmyk_jpeg_bytes,
    encode,
    exif_rotated_jpeg_bytes,
    jpeg_bytes,
    palette_gif_bytes,
    photo,
    png16_bytes,
    truncated_jpeg_bytes,
)

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/api/v1/assets/file/addons/bg_remove"
ENDPOINTS = ("upload", "asset_get", "asset_post")
MODES = ("get_image", "save_image", "get_image_and_save")
SAVE_MODES = ("save_image", "get_image_and_save")
DISPOSITIONS = ("add_conversion", "add_new_asset")

SOURCE_NAME = "portrait.jpg"  # the source asset's name: new assets are "portrait_bg_removed.png"
SOURCE_SIZE = (192, 192)  # the source asset's original (astronaut)
UPLOAD_NAME = "upload-photo.jpg"
UPLOAD_SIZE = (240, 160)  # the uploaded image (chelsea), different from the original
SOURCE_DATA = {"title": "Astronaut", "tags": ["space", "portrait"]}


# --- helpers -------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def source_jpeg() -> bytes:
    return jpeg_bytes("astronaut", SOURCE_SIZE)


@lru_cache(maxsize=None)
def upload_jpeg() -> bytes:
    return jpeg_bytes("chelsea", UPLOAD_SIZE)


def asset_url(asset_id: str) -> str:
    return f"/api/v1/assets/{asset_id}/addons/bg_remove"


def input_size(endpoint: str) -> tuple[int, int]:
    """The GET endpoint works on the asset's original; the POST endpoints on the upload."""
    return SOURCE_SIZE if endpoint == "asset_get" else UPLOAD_SIZE


def call(
    client: APIClient,
    endpoint: str,
    asset_id: str | None,
    query: dict[str, str],
    *,
    image: bytes | None = None,
    image_name: str = UPLOAD_NAME,
    send_image: bool = True,
):
    """One request to `endpoint`. On the upload endpoint `asset_id` goes into the query."""
    query = dict(query)
    if endpoint == "upload" and asset_id is not None:
        query.setdefault("asset_id", asset_id)
    url = (UPLOAD_URL if endpoint == "upload" else asset_url(asset_id)) + (
        f"?{urlencode(query)}" if query else ""
    )
    if endpoint == "asset_get":
        return client.get(url)
    body = image if image is not None else upload_jpeg()
    form = {"image": SimpleUploadedFile(image_name, body)} if send_image else {}
    return client.post(url, form, format="multipart")


def snapshot(media_root: Path) -> dict:
    """Everything a request could have created: row counts and every stored file's bytes."""
    return {
        "assets": Asset.objects.count(),
        "conversions": Conversion.objects.count(),
        "jobs": Job.objects.count(),
        "files": {str(p.relative_to(media_root)): p.read_bytes() for p in stored_files(media_root)},
    }


def alpha_bbox(image: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, width, height) of alpha > 127, computed independently of the app."""
    solid = np.asarray(image.getchannel("A")) > 127
    if not solid.any():
        return (0, 0, 0, 0)
    rows = np.flatnonzero(solid.any(axis=1))
    cols = np.flatnonzero(solid.any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def check_png_response(response, size: tuple[int, int]) -> Image.Image:
    """200 image/png, an RGBA PNG of `size`, with X-Model and the foreground headers."""
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.size == size
    assert response["X-Model"] == "u2netp"
    headers = tuple(
        int(response[f"X-Foreground-{side}"]) for side in ("Left", "Top", "Width", "Height")
    )
    assert headers == alpha_bbox(image)
    return image


def decode_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def check_error(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["status"] == "error"
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response["X-Request-Id"]
    if code is not None:
        assert body["code"] == code
    if field is not None:
        assert field in body["errors"], body
        assert field in body["message"], body
    return body


def new_files(before: dict, media_root: Path) -> dict[str, bytes]:
    after = snapshot(media_root)["files"]
    assert set(before["files"]) <= set(after)
    return {name: data for name, data in after.items() if name not in before["files"]}


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def creator(client_for) -> APIClient:
    return client_for(Role.CREATOR)


@pytest.fixture
def make_source():
    def make(client: APIClient, *, name: str = SOURCE_NAME, data_bytes: bytes | None = None, **fields) -> Asset:
        return asset_services.asset_create_from_bytes(
            account=client.user.membership.account,
            user=client.user,
            data_bytes=data_bytes if data_bytes is not None else source_jpeg(),
            name=name,
            **fields,
        )

    return make


@pytest.fixture
def source(creator, make_source) -> Asset:
    """The creator's source asset, with custom data (so "no metadata" is visible as {})."""
    return make_source(creator, data=dict(SOURCE_DATA))


# --- 1. every mode x disposition x endpoint --------------------------------------------------


def _run_job(job_id: str, capture) -> Job:
    with capture(execute=True):
        job_ring(job_id)
    return Job.objects.get(id=job_id)


@pytest.mark.parametrize("disposition", DISPOSITIONS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_mode_disposition_and_endpoint(
    creator, source, media_root, endpoint, mode, disposition, django_capture_on_commit_callbacks
):
    size = input_size(endpoint)
    options = {"strength": "medium", "bg_mode": "auto"}
    query = {"mode": mode, "disposition": disposition, **options}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    before = snapshot(media_root)

    # What get_image gives for the same input and options; it creates nothing.
    reference = call(creator, endpoint, source.id, {"mode": "get_image", **options})
    reference_image = check_png_response(reference, size)
    assert snapshot(media_root) == before

    response = call(creator, endpoint, source.id, query)

    if mode == "get_image":  # the disposition parameters are ignored: nothing is saved
        image = check_png_response(response, size)
        assert response.content == reference.content
        assert "X-Job-Id" not in response
        assert snapshot(media_root) == before
        assert np.array_equal(np.asarray(image), np.asarray(reference_image))
        return

    if mode == "save_image":
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        body = response.json()
        if disposition == "add_conversion":
            assert body == {
                "status": "ok",
                "mode": "save_image",
                "disposition": "add_conversion",
                "asset_id": source.id,
                "conversion_name": "bg_removed",
            }
            _check_conversion(source, reference, before, media_root, creator)
        else:
            new_id = body["new_asset_id"]
            assert body == {
                "status": "ok",
                "mode": "save_image",
                "disposition": "add_new_asset",
                "source_asset_id": source.id,
                "new_asset_id": new_id,
            }
            _check_new_asset(new_id, source, reference, before, media_root, creator)
        assert Job.objects.count() == before["jobs"]
        return

    # get_image_and_save: the PNG now, the save later on the worker.
    check_png_response(response, size)
    assert response.content == reference.content  # the pipeline is deterministic
    job_id = response["X-Job-Id"]
    job = Job.objects.get(id=job_id)
    assert job.status == JobStatus.QUEUED
    assert job.account_id == source.account_id and job.user_id == creator.user.id
    assert job.finished_at is None and job.output == [] and job.error == []
    assert Asset.objects.count() == before["assets"]
    assert Conversion.objects.count() == before["conversions"]
    staged = new_files(before, media_root)
    assert list(staged) == [next(iter(staged))]  # exactly one new file: the staged PNG
    [(staged_name, staged_bytes)] = staged.items()
    assert staged_name.startswith(f"jobs/{job_id}/")
    assert staged_bytes == response.content
    # The job is visible through the API while it waits.
    queued = creator.get(f"/api/v1/jobs/{job_id}")
    assert queued.status_code == 200 and queued.json()["status"] == "QUEUED"

    job = _run_job(job_id, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.OK
    assert job.finished_at is not None
    assert job.error == []
    assert not (media_root / staged_name).exists()  # the staged file is deleted
    if disposition == "add_conversion":
        assert job.output == [{"name": "bg_removed", "asset_id": source.id}]
        _check_conversion(source, response, before, media_root, creator)
    else:
        new_id = Asset.objects.exclude(id=source.id).get().id
        assert job.output == [{"name": None, "asset_id": new_id}]
        _check_new_asset(new_id, source, response, before, media_root, creator)
    finished = creator.get(f"/api/v1/jobs/{job_id}").json()
    assert finished["status"] == "OK"
    assert finished["output"] == job.output

    # Running the job again (a re-delivered task) does nothing.
    state = snapshot(media_root)
    attempts = job.attempts
    again = _run_job(job_id, django_capture_on_commit_callbacks)
    assert snapshot(media_root) == state
    assert again.status == JobStatus.OK and again.attempts == attempts
    assert again.output == job.output


def _check_conversion(source: Asset, image_response, before: dict, media_root: Path, client) -> None:
    """Conversion `bg_removed` of `source` holds exactly the PNG get_image returned."""
    conversion = Conversion.objects.get(asset=source, name="bg_removed")
    assert conversion.content_type == "image/png"
    stored = (media_root / conversion.file.name).read_bytes()
    assert stored == image_response.content  # byte-equal: the pipeline is deterministic
    # (and therefore the alpha channels are equal too)
    assert np.array_equal(
        np.asarray(decode_png(stored).getchannel("A")),
        np.asarray(decode_png(image_response.content).getchannel("A")),
    )
    assert (conversion.width, conversion.height) == decode_png(stored).size
    assert conversion.size == len(stored)
    assert Asset.objects.count() == before["assets"]
    assert Conversion.objects.count() == before["conversions"] + 1
    assert new_files(before, media_root) == {conversion.file.name: stored}
    assert "/conversions/" in conversion.file.name
    download = client.get(f"/api/v1/assets/{source.id}/content/bg_removed")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == stored
    document = client.get(f"/api/v1/assets/{source.id}").json()
    assert document["conversions"]["bg_removed"]["content_type"] == "image/png"


def _check_new_asset(new_id: str, source: Asset, image_response, before: dict, media_root: Path, client) -> None:
    """A new asset `<source stem>_bg_removed.png` derived from `source`, holding the PNG."""
    new = Asset.objects.get(id=new_id)
    assert new.account_id == source.account_id
    assert new.name == "portrait_bg_removed.png"
    assert new.source_asset_id == source.id
    assert new.content_type == "image/png"
    stored = (media_root / new.file.name).read_bytes()
    assert stored == image_response.content
    assert (new.width, new.height) == decode_png(stored).size
    assert new.data == {} and new.data_schema_id == DEFAULT_SCHEMA_ID  # no metadata=inherit
    assert Asset.objects.count() == before["assets"] + 1
    assert Conversion.objects.count() == before["conversions"]
    assert new_files(before, media_root) == {new.file.name: stored}
    lineage = client.get(f"/api/v1/assets/{source.id}/lineage").json()
    assert new_id in lineage["descendants"]
    assert client.get(f"/api/v1/assets/{new_id}/lineage").json()["ancestors"] == [source.id]


@pytest.mark.parametrize("mode", SAVE_MODES)
def test_upload_endpoint_without_asset_id_makes_an_asset_named_after_the_upload(
    creator, media_root, mode, django_capture_on_commit_callbacks
):
    before = snapshot(media_root)
    response = call(
        creator, "upload", None, {"mode": mode, "disposition": "add_new_asset"}, image_name="holiday.cat.jpg"
    )
    if mode == "save_image":
        assert response.status_code == 200, response.content
        body = response.json()
        new_id = body["new_asset_id"]
        # neither source_asset_id nor metadata: they were not given
        assert body == {"status": "ok", "mode": "save_image", "disposition": "add_new_asset", "new_asset_id": new_id}
        png = call(creator, "upload", None, {"mode": "get_image"}).content
    else:
        check_png_response(response, UPLOAD_SIZE)
        png = response.content
        job = _run_job(response["X-Job-Id"], django_capture_on_commit_callbacks)
        new_id = Asset.objects.get().id
        assert job.status == JobStatus.OK
        assert job.output == [{"name": None, "asset_id": new_id}]
    new = Asset.objects.get(id=new_id)
    assert new.name == "holiday.cat_bg_removed.png"
    assert new.source_asset_id is None
    assert new.content_type == "image/png"
    assert new.data == {} and new.data_schema_id == DEFAULT_SCHEMA_ID
    assert (media_root / new.file.name).read_bytes() == png
    assert new_files(before, media_root) == {new.file.name: png}
    assert creator.get(f"/api/v1/assets/{new_id}/lineage").json() == {"ancestors": [], "descendants": []}


def test_add_conversion_replaces_a_conversion_of_the_same_name(
    creator, source, media_root, django_capture_on_commit_callbacks
):
    first = call(
        creator, "asset_post", source.id,
        {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "cutout"},
    )
    assert first.status_code == 200, first.content
    old_path = Conversion.objects.get(asset=source, name="cutout").file.name
    assert (media_root / old_path).is_file()
    other = jpeg_bytes("coffee", (200, 150))
    with django_capture_on_commit_callbacks(execute=True):  # the replaced file goes on commit
        second = call(
            creator, "asset_post", source.id,
            {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "cutout"},
            image=other,
        )
    assert second.status_code == 200, second.content
    conversion = Conversion.objects.get(asset=source, name="cutout")
    assert Conversion.objects.filter(asset=source).count() == 1
    assert (conversion.width, conversion.height) == (200, 150)
    assert conversion.file.name != old_path
    assert not (media_root / old_path).exists()
    expected = call(creator, "asset_post", source.id, {"mode": "get_image"}, image=other).content
    assert (media_root / conversion.file.name).read_bytes() == expected
    assert stored_files(media_root) == sorted([media_root / source.file.name, media_root / conversion.file.name])


@pytest.mark.parametrize(
    "options",
    [
        {"bg_mode": "portrait"},
        {"bg_mode": "product"},
        {"strength": "low"},
        {"strength": "high"},
        {"remove_artifacts": "true"},
        {"remove_artifacts": "false"},
        {"bg_mode": "auto", "strength": "high", "remove_artifacts": "1"},
    ],
    ids=lambda o: "&".join(f"{k}={v}" for k, v in o.items()),
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_valid_option_values_are_accepted(creator, source, media_root, endpoint, options):
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, {"mode": "get_image", **options})
    check_png_response(response, input_size(endpoint))
    assert snapshot(media_root) == before


def test_strength_shapes_the_alpha(creator, source):
    alphas = {}
    for strength in ("low", "medium", "high"):
        response = call(creator, "asset_get", source.id, {"strength": strength})
        alphas[strength] = np.asarray(check_png_response(response, SOURCE_SIZE).getchannel("A")).astype(int)
    partial = {k: int(((a > 0) & (a < 255)).sum()) for k, a in alphas.items()}
    assert partial["medium"] > 0
    assert (alphas["low"] >= alphas["medium"]).all()  # low keeps more of the soft edge
    assert partial["high"] < partial["medium"]  # high is nearly binary


@pytest.mark.parametrize("mode", SAVE_MODES)
@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_saved_result_is_the_image_made_with_the_requested_options(
    creator, source, media_root, mode, disposition, django_capture_on_commit_callbacks
):
    """The save stores the PNG made with the request's options (the job reuses it)."""
    options = {"strength": "high", "remove_artifacts": "true"}
    wanted = call(creator, "asset_post", source.id, {"mode": "get_image", **options}).content
    plain = call(creator, "asset_post", source.id, {"mode": "get_image"}).content
    assert wanted != plain
    query = {"mode": mode, "disposition": disposition, **options}
    if disposition == "add_conversion":
        query["conversion_name"] = "hard_edge"
    response = call(creator, "asset_post", source.id, query)
    assert response.status_code == 200, response.content
    if mode == "get_image_and_save":
        assert response.content == wanted
        assert _run_job(response["X-Job-Id"], django_capture_on_commit_callbacks).status == JobStatus.OK
    if disposition == "add_conversion":
        stored = Conversion.objects.get(asset=source, name="hard_edge").file.name
    else:
        stored = Asset.objects.exclude(id=source.id).get().file.name
    assert (media_root / stored).read_bytes() == wanted


# --- 2. validation -------------------------------------------------------------------------

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
    check_error(response, 400, field)
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
def test_bad_uploads_are_400_invalid_image_and_create_nothing(creator, source, media_root, endpoint, kind, mode):
    name, data, code = BAD_IMAGES[kind]
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_conversion", conversion_name="bg_removed")
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, query, image=data, image_name=name)
    check_error(response, 400, "image", code)
    assert snapshot(media_root) == before


@pytest.mark.parametrize("mode", ["get_image", "save_image"])
@pytest.mark.parametrize("endpoint", ["upload", "asset_post"])
def test_missing_image_is_400_naming_image(creator, source, media_root, endpoint, mode):
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_new_asset")
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, query, send_image=False)
    check_error(response, 400, "image", "required")
    assert snapshot(media_root) == before


def test_image_under_another_field_name_is_missing_image(creator, media_root):
    before = snapshot(media_root)
    response = creator.post(UPLOAD_URL, {"file": SimpleUploadedFile("a.jpg", upload_jpeg())}, format="multipart")
    check_error(response, 400, "image", "required")
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
    check_error(response, 400, "image", "image_too_large")
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
    check_error(response, 413, "image")
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
    creator, client_for, make_source, media_root, whose, disposition, mode
):
    other = client_for(Role.ADMIN, account="globex")
    asset_id = make_source(other).id if whose == "other_account" else "0123456789abcdef0123456789abcdef"
    query = {"mode": mode, "disposition": disposition, "asset_id": asset_id}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    before = snapshot(media_root)
    response = call(creator, "upload", None, query)
    body = check_error(response, 404)
    assert asset_id in body["message"]
    assert snapshot(media_root) == before


# --- 3. metadata=inherit --------------------------------------------------------------------


@pytest.mark.parametrize("mode", SAVE_MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_metadata_inherit_copies_data_and_schema(
    creator, make_source, media_root, endpoint, mode, django_capture_on_commit_callbacks
):
    schema = asset_services.schema_create(
        user=creator.user,
        name="photo",
        schema={
            "type": "object",
            "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
            "required": ["title"],
        },
    )
    source = make_source(creator, data=dict(SOURCE_DATA), data_schema=schema)
    query = {"mode": mode, "disposition": "add_new_asset", "metadata": "inherit"}
    response = call(creator, endpoint, source.id, query)
    if mode == "save_image":
        assert response.status_code == 200, response.content
        body = response.json()
        new_id = body["new_asset_id"]
        assert body == {
            "status": "ok",
            "mode": "save_image",
            "disposition": "add_new_asset",
            "source_asset_id": source.id,
            "metadata": "inherit",
            "new_asset_id": new_id,
        }
    else:
        check_png_response(response, input_size(endpoint))
        job = _run_job(response["X-Job-Id"], django_capture_on_commit_callbacks)
        assert job.status == JobStatus.OK, job.error
        new_id = job.output[0]["asset_id"]
    new = Asset.objects.get(id=new_id)
    assert new.data == SOURCE_DATA
    assert new.data_schema_id == schema.id
    assert new.source_asset_id == source.id
    document = creator.get(f"/api/v1/assets/{new_id}").json()
    assert document["data"] == SOURCE_DATA and document["data_schema_id"] == schema.id
    # A copy: changing the source's data afterwards leaves the new asset's alone.
    asset_services.asset_data_update(
        user=creator.user, asset_id=source.id, data={"title": "changed"}, mode="REPLACE"
    )
    new.refresh_from_db()
    assert new.data == SOURCE_DATA


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_without_metadata_the_new_asset_has_empty_data_and_schema_0(creator, make_source, endpoint):
    schema = asset_services.schema_create(user=creator.user, name="any", schema={"type": "object"})
    source = make_source(creator, data=dict(SOURCE_DATA), data_schema=schema)
    response = call(creator, endpoint, source.id, {"mode": "save_image", "disposition": "add_new_asset"})
    assert response.status_code == 200, response.content
    assert "metadata" not in response.json()
    new = Asset.objects.get(id=response.json()["new_asset_id"])
    assert new.data == {}
    assert new.data_schema_id == DEFAULT_SCHEMA_ID


# --- 4. roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_user_role_may_get_image_on_every_endpoint(client_for, make_source, media_root, endpoint):
    user_client = client_for(Role.USER)
    source = make_source(client_for(Role.CREATOR))
    before = snapshot(media_root)
    response = call(user_client, endpoint, source.id, {"mode": "get_image"})
    check_png_response(response, input_size(endpoint))
    assert snapshot(media_root) == before


@pytest.mark.parametrize("disposition", DISPOSITIONS)
@pytest.mark.parametrize("mode", SAVE_MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_user_role_may_not_save(client_for, make_source, media_root, endpoint, mode, disposition):
    user_client = client_for(Role.USER)
    source = make_source(client_for(Role.CREATOR))
    query = {"mode": mode, "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    before = snapshot(media_root)
    response = call(user_client, endpoint, source.id, query)
    check_error(response, 403, code="permission_denied")
    assert snapshot(media_root) == before


@pytest.mark.parametrize("role", [Role.CREATOR, Role.MANAGER, Role.ADMIN])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_creator_manager_and_admin_may_save(client_for, make_source, endpoint, role):
    client = client_for(role)
    source = make_source(client_for(Role.CREATOR))
    response = call(
        client, endpoint, source.id, {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "cut"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["asset_id"] == source.id
    assert Conversion.objects.filter(asset=source, name="cut").count() == 1


@pytest.mark.parametrize("credentials", ["none", "bad_key"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_or_bad_credentials_are_401(creator, source, media_root, endpoint, credentials):
    client = APIClient()
    if credentials == "bad_key":
        client.credentials(HTTP_X_API_KEY="not-a-key.really")
    before = snapshot(media_root)
    response = call(client, endpoint, source.id, {"mode": "save_image", "disposition": "add_new_asset"})
    check_error(response, 401)
    assert snapshot(media_root) == before


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ["asset_get", "asset_post"])
def test_another_accounts_asset_on_the_asset_endpoints_is_404(
    creator, client_for, make_source, media_root, endpoint, mode
):
    foreign = make_source(client_for(Role.ADMIN, account="globex"))
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_conversion", conversion_name="bg_removed")
    before = snapshot(media_root)
    response = call(creator, endpoint, foreign.id, query)
    check_error(response, 404)
    missing = call(creator, endpoint, "0123456789abcdef0123456789abcdef", query)
    check_error(missing, 404)
    # the foreign answer looks exactly like the missing one, apart from the id
    assert response.json()["code"] == missing.json()["code"]
    assert snapshot(media_root) == before
    assert not Conversion.objects.filter(asset=foreign).exists()


def test_foreign_asset_id_with_get_image_on_the_upload_endpoint_is_ignored(creator, client_for, make_source, media_root):
    """asset_id is a disposition parameter: with get_image it is not even looked up."""
    foreign = make_source(client_for(Role.ADMIN, account="globex"))
    before = snapshot(media_root)
    check_png_response(call(creator, "upload", foreign.id, {"mode": "get_image"}), UPLOAD_SIZE)
    assert snapshot(media_root) == before


# --- 5. inputs ------------------------------------------------------------------------------


def _grey16_reference(data: bytes) -> Image.Image:
    values = np.asarray(Image.open(io.BytesIO(data)), dtype=np.uint16)
    return Image.fromarray((values // 257).astype(np.uint8), "L").convert("RGB")


def _pillow_reference(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    return ImageOps.exif_transpose(image).convert("RGB")


# name -> (file name, bytes maker, upright size, reference RGB maker)
INPUTS = {
    "cmyk_jpeg": ("coffee-cmyk.jpg", lambda: cmyk_jpeg_bytes("coffee"), (600, 400), _pillow_reference),
    "palette_gif": ("astronaut.gif", lambda: palette_gif_bytes("astronaut"), (512, 512), _pillow_reference),
    "png16": ("chelsea16.png", lambda: png16_bytes("chelsea"), (451, 300), _grey16_reference),
    "exif_rotated_jpeg": ("rotated.jpg", lambda: exif_rotated_jpeg_bytes("chelsea"), (300, 451), _pillow_reference),
    "heic": ("rocket.heic", lambda: encode(photo("rocket", (320, 213)), "HEIF", quality=80), (320, 213), _pillow_reference),
}


def _check_colours(result: Image.Image, data: bytes, reference) -> None:
    """Where the result is not fully transparent its colour is the (upright) input's."""
    expected = np.asarray(reference(data))
    rgba = np.asarray(result)
    visible = rgba[..., 3] > 0
    assert visible.sum() > 0.01 * visible.size  # the model kept a subject
    assert (rgba[..., 3] == 0).any() or (rgba[..., 3] < 255).any()  # and removed something
    assert np.array_equal(rgba[..., :3][visible], expected[visible])


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_inputs_through_the_upload_endpoint(creator, kind):
    name, make, size, reference = INPUTS[kind]
    data = make()
    response = call(creator, "upload", None, {"mode": "get_image"}, image=data, image_name=name)
    _check_colours(check_png_response(response, size), data, reference)


@pytest.mark.parametrize("kind", ["exif_rotated_jpeg", "cmyk_jpeg", "heic"])
def test_inputs_stored_as_the_original_through_the_get_endpoint(creator, make_source, kind):
    name, make, size, reference = INPUTS[kind]
    data = make()
    source = make_source(creator, name=name, data_bytes=data)
    assert (source.width, source.height) == size
    response = call(creator, "asset_get", source.id, {"mode": "get_image"})
    _check_colours(check_png_response(response, size), data, reference)


def test_exif_rotated_result_saved_as_a_new_asset_is_upright(creator, media_root):
    name, make, size, _ = INPUTS["exif_rotated_jpeg"]
    response = call(
        creator, "upload", None, {"mode": "save_image", "disposition": "add_new_asset"}, image=make(), image_name=name
    )
    assert response.status_code == 200, response.content
    new = Asset.objects.get(id=response.json()["new_asset_id"])
    assert (new.width, new.height) == (300, 451)
    assert decode_png((media_root / new.file.name).read_bytes()).size == (300, 451)


# --- 6. failed saves ------------------------------------------------------------------------


@pytest.fixture
def failing_storage(settings, media_root):
    """The default storage becomes a real FileSystemStorage at media_root whose writes of
    conversions and PNG originals fail with OSError("disk full")."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tests.graphics.failing_storage.FailingSaveStorage",
            "OPTIONS": {"location": str(media_root), "base_url": "/media/"},
        },
    }
    from django.core.files.storage import default_storage, storages

    from tests.graphics.failing_storage import FailingSaveStorage

    assert type(storages["default"]) is FailingSaveStorage
    default_storage.exists("probe")  # the lazy default storage is rebuilt from the new setting
    assert type(default_storage._wrapped) is FailingSaveStorage
    return media_root


@pytest.fixture
def server_error_client(creator) -> APIClient:
    """The creator's key on a client that returns the 500 response instead of raising."""
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=creator.key)
    client.user = creator.user
    return client


def _check_server_error(response, *, secret: str) -> None:
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"status", "code", "message", "request_id"}
    assert body["status"] == "error" and body["code"] == "server_error"
    assert body["request_id"] and body["request_id"] == response["X-Request-Id"]
    assert body["request_id"] in body["message"]
    assert secret not in response.content.decode()  # internals stay hidden
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize("disposition", DISPOSITIONS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_storage_failure_during_save_image_is_500_and_leaves_nothing(
    creator, source, failing_storage, server_error_client, media_root, endpoint, disposition
):
    original = media_root / source.file.name
    assert stored_files(media_root) == [original]
    before = snapshot(media_root)
    query = {"mode": "save_image", "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    response = call(server_error_client, endpoint, source.id, query)
    _check_server_error(response, secret="disk full")
    assert snapshot(media_root) == before
    assert stored_files(media_root) == [original]  # only the source's original remains
    assert not Conversion.objects.exists()
    assert list(Asset.objects.values_list("id", flat=True)) == [source.id]


@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_storage_failure_in_the_save_job_marks_it_error_and_leaves_nothing(
    creator, source, failing_storage, media_root, disposition, django_capture_on_commit_callbacks
):
    query = {"mode": "get_image_and_save", "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    response = call(creator, "asset_post", source.id, query)
    check_png_response(response, UPLOAD_SIZE)  # the image is answered before the save
    job = _run_job(response["X-Job-Id"], django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [e["asset_id"] for e in job.error] == [source.id]
    assert "disk full" not in job.error[0]["error"]
    assert job.finished_at is not None
    assert stored_files(media_root) == [media_root / source.file.name]  # staged file deleted too
    assert not Conversion.objects.exists()
    assert Asset.objects.count() == 1


@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_database_failure_during_save_image_is_500_and_leaves_nothing(
    creator, source, server_error_client, media_root, disposition
):
    """A real database failure: an SQLite trigger refuses the insert of the saved row.

    (The trigger is DDL inside the test's transaction, so it is rolled back with it.)
    """
    if connection.vendor != "sqlite":
        pytest.skip("the fault is injected with an SQLite trigger")
    table = Conversion._meta.db_table if disposition == "add_conversion" else Asset._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TRIGGER fail_insert BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'injected database failure'); END"
        )
    before = snapshot(media_root)
    query = {"mode": "save_image", "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    response = call(server_error_client, "asset_post", source.id, query)
    _check_server_error(response, secret="injected database failure")
    assert snapshot(media_root) == before
    assert stored_files(media_root) == [media_root / source.file.name]
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER fail_insert")


# --- 7. racing saves ------------------------------------------------------------------------


def _solid_png(colour: tuple[int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 48), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_racing_conversion_saves_leave_one_row_and_one_file(make_user, media_root, settings):
    user, _ = make_user(Role.CREATOR)
    asset = asset_services.asset_create_from_bytes(
        account=user.membership.account, user=user, data_bytes=source_jpeg(), name=SOURCE_NAME
    )
    pngs = (_solid_png((255, 0, 0, 255)), _solid_png((0, 0, 255, 128)))
    assert pngs[0] != pngs[1]

    for _round in range(3):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def save(png: bytes) -> None:
            try:
                target = Asset.objects.get(id=asset.id)
                info = image_probe_bytes(png, max_pixels=settings.ASSETS_MAX_PIXELS)
                barrier.wait(timeout=10)
                asset_services.conversion_save(asset=target, name="bg_removed", content=ContentFile(png), info=info)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=save, args=(png,)) for png in pngs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []

        conversions = list(Conversion.objects.filter(asset_id=asset.id))
        assert len(conversions) == 1
        [conversion] = conversions
        stored = media_root / conversion.file.name
        assert stored.is_file()
        content = stored.read_bytes()
        assert content in pngs
        assert conversion.size == len(content)
        assert conversion.checksum == image_probe_bytes(content, max_pixels=10**8).checksum
        conversion_files = [p for p in stored_files(media_root) if "/conversions/" in p.as_posix()]
        assert conversion_files == [stored]  # the loser's file (and any replaced one) is gone
        assert stored_files(media_root) == sorted([media_root / asset.file.name, stored])
