"""Shared helpers and fixtures of the Image Graphics API tests (SPEC §5).

No worker runs here (tests/graphics/test_image_graphics_worker.py covers the real one):
the job's enqueue is an on_commit callback, which a non-transactional test never commits,
so a POST leaves a QUEUED row that the test runs itself (`run_job`, tests/graphics/conftest.py).
No test runs the model: the operations used are bg_add, border_add and graphics_add
(bg_remove appears only in requests that are rejected or never run).
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from assets.models import Asset, DataSchema, Job, Role
from tests.conftest import make_asset
from tests.images import encode, photo

URL = "/api/v1/assets/addons/image_graphics"
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


def read_file(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


# --- requests and jobs ------------------------------------------------------------------------


def body_for(asset_id: str, options: dict | None = None, operations: list | None = None) -> dict:
    """A request for one asset, with these options, running `operations` (default PLAIN_OPS)."""
    entry = {asset_id: {"options": options}} if options is not None else {asset_id: {}}
    return {"assets": [entry], "operations": operations if operations is not None else PLAIN_OPS}


def queue(client: APIClient, body: dict) -> Job:
    """POST the request (it must be a 202); the QUEUED job row."""
    response = client.post(URL, body, format="json")
    assert response.status_code == 202, response.content[:800]
    return Job.objects.get(id=response.json()["job_id"])


def new_assets_of(source: Asset) -> list[Asset]:
    return list(Asset.objects.filter(source_asset_id=source.id).order_by("upload_time", "id"))


def make_source(owner, name: str = SOURCE_NAME, body: bytes | None = None, **fields) -> Asset:
    """An asset to render (default: the 192x192 astronaut PNG named astronaut.png)."""
    return make_asset(owner, name, source_png() if body is None else body, **fields)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def source(creator) -> Asset:
    """A 192x192 PNG asset with custom data (so "no metadata" shows as {})."""
    return make_source(creator, data=dict(SOURCE_DATA))


@pytest.fixture
def other(creator) -> Asset:
    """A second asset of the same account, with different data."""
    return make_source(creator, "coffee.png", other_png(), data=dict(OTHER_DATA))


@pytest.fixture
def foreign(client_for) -> Asset:
    """An asset of another account."""
    return make_source(client_for(Role.ADMIN, account="globex"), "secret.png", data={"secret": True})


@pytest.fixture
def red_graphic(creator) -> Asset:
    return make_source(creator, "red.png", solid_png((255, 0, 0)))


@pytest.fixture
def title_schema(creator) -> DataSchema:
    return DataSchema.objects.create(account=creator.user.membership.account, name="titled", schema=TITLE_SCHEMA)


@pytest.fixture
def price_schema(creator) -> DataSchema:
    return DataSchema.objects.create(account=creator.user.membership.account, name="priced", schema=PRICE_SCHEMA)
