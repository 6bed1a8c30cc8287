"""Shared fixtures and helpers of tests/assets (the asset API, its services and selectors).

In this directory `client` is an ADMIN's API client of account "acme" (not
pytest-django's plain Client) and `owner` is its user; `world` is the account the
permission tests run in (tests/assets/permission_matrix.py has the endpoints). Also here:
the request helpers (`upload`, `content`, `ids`, ...), BAD_FILES (uploads every endpoint
must refuse) and the data-schema helpers (PRODUCT_SCHEMA, `make_schema`, `row_of`, ...).
The factories (`make_asset`, `add_conversion`) and `assert_error` come from
tests/conftest.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from assets.models import Asset, DataSchema, Job, JobStatus, Role
from assets.services import schema_create
from tests.conftest import add_conversion, make_asset
from tests.images import decompression_bomb_png_bytes, jpeg_bytes, palette_gif_bytes, png_bytes, truncated_jpeg_bytes

API = "/api/v1"
ASSETS_URL = f"{API}/assets"
HEX32 = re.compile(r"[0-9a-f]{32}")
ASSET_KEYS = {
    "id", "name", "status", "content_type", "size", "checksum", "width", "height",
    "upload_time", "update_time", "data_schema_id", "data", "source_asset_id",
    "conversions", "url", "thumbnail_url",  # thumbnail_url: SPEC §9
}
CONVERSION_KEYS = {"content_type", "size", "width", "height", "url", "update_time"}

# Uploads every endpoint taking a file must refuse: name -> (file name, bytes maker, code).
BAD_FILES = {
    "truncated_jpeg": ("astronaut.jpg", truncated_jpeg_bytes, "invalid_image"),
    # GIF keeps its stream open for later frames: the error path must still answer 400.
    "truncated_gif": ("astronaut.gif", lambda: palette_gif_bytes()[: len(palette_gif_bytes()) // 2], "invalid_image"),
    # format_samples()'s PNG (the whole coffee photograph), cut in half
    "truncated_png": ("coffee.png", lambda: png_bytes("coffee")[: len(png_bytes("coffee")) // 2], "invalid_image"),
    "zero_bytes": ("empty.jpg", lambda: b"", "invalid_image"),
    "text_named_png": ("photo.png", lambda: b"this is a text file, not a picture\n" * 20, "invalid_image"),
    "decompression_bomb": ("bomb.png", decompression_bomb_png_bytes, "image_too_large"),
}

# --- data and data schemas ----------------------------------------------------------------

SMALL_PNG = png_bytes("astronaut", (32, 32))
# Required keys, types, a pattern and an enum (and an array whose items are typed).
PRODUCT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["sku", "title"],
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "title": {"type": "string"},
        "price": {"type": "number", "minimum": 0},
        "color": {"enum": ["red", "green", "blue"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
VALID_PRODUCT = {"sku": "ABC-1234", "title": "Mug", "price": 9.5, "color": "red", "tags": ["a", "b"]}


def make_schema(user, schema=None, name="product") -> DataSchema:
    """A data schema of the user's account, made by assets.services.schema_create."""
    return schema_create(user=user, name=name, schema=schema or PRODUCT_SCHEMA)


def update_url(asset_id: str) -> str:
    return f"{API}/assets/{asset_id}/data/update"


def post_json(client, url, body):
    return client.post(url, body, format="json")


def row_of(asset: Asset) -> tuple:
    """What a refused data update must leave as it was: (data, data_schema_id, update_time)."""
    fresh = Asset.objects.get(pk=asset.pk)
    return fresh.data, fresh.data_schema_id, fresh.update_time


# --- requests and responses ---------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(client: APIClient, name: str, body: bytes, path: str = ASSETS_URL, **fields):
    """POST `body` as the multipart field `file` (plus any form `fields`) to `path`."""
    return client.post(path, {"file": SimpleUploadedFile(name, body), **fields}, format="multipart")


def conversion_url(asset_id: str, name: str) -> str:
    return f"{API}/assets/{asset_id}/content/{name}"


def content(response) -> bytes:
    """The body of a streamed download."""
    return b"".join(response.streaming_content)


def file_of(media_root: Path, stored) -> Path:
    """The file under the media root of an asset's original or of a conversion."""
    return media_root / stored.file.name


def ids(response) -> list[str]:
    """The asset ids of a list response, in order."""
    return [doc["id"] for doc in response.json()["results"]]


@pytest.fixture
def client(admin_client_api) -> APIClient:
    """An ADMIN's API client (overrides pytest-django's `client` in tests/assets)."""
    return admin_client_api


@pytest.fixture
def owner(client):
    """The user behind `client`: the default owner of the assets a test makes."""
    return client.user


@pytest.fixture
def world(make_user, media_root):
    """The permission tests' world: account "acme" with an asset (data, conversion "thumb",
    one derived child), a spare data schema (not in use) and a finished job."""
    owner, owner_key = make_user(Role.ADMIN, "acme", username="owner-acme")
    account = owner.membership.account
    original = jpeg_bytes("astronaut", (64, 64))
    asset = make_asset(owner, "astro.jpg", original, data={"colour": "red"})
    thumb = png_bytes("chelsea", (30, 20))
    add_conversion(asset, "thumb", thumb)
    child = make_asset(owner, "child.png", png_bytes("coffee", (24, 16)), source=asset)
    schema = DataSchema.objects.create(
        account=account, name="spare", schema={"type": "object", "properties": {"n": {"type": "integer"}}}
    )
    job = Job.objects.create(
        account=account,
        user=owner,
        kind="image_graphics",
        status=JobStatus.OK,
        output=[{"name": "thumb", "asset_id": asset.id}],
        finished_at=timezone.now(),
    )
    asset.refresh_from_db()
    return SimpleNamespace(
        owner=owner,
        owner_key=owner_key,
        account=account,
        asset=asset,
        original=original,
        thumb=thumb,
        thumb_path=asset.conversions.get(name="thumb").file.name,
        child=child,
        schema=schema,
        job=job,
        media_root=media_root,
    )
