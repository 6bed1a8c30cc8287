"""Shared helpers and fixtures of the Remove Background API tests (SPEC §4).

Three endpoints (ENDPOINTS): "upload" (POST assets/file/addons/bg_remove, the image in
the form, an optional asset_id in the query), "asset_get" (GET assets/{id}/addons/bg_remove,
the asset's original) and "asset_post" (POST assets/{id}/addons/bg_remove, the image in the
form); `call` sends one request to any of them. The real model (u2netp) runs; images are
kept small. `snapshot`, `decode_png` and `run_job` come from tests/graphics/conftest.py.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from assets.models import Asset
from tests.conftest import make_asset
from tests.graphics.conftest import snapshot
from tests.images import jpeg_bytes

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


def new_files(before: dict, media_root: Path) -> dict[str, bytes]:
    """The files stored since `before` (a `snapshot`), none of the earlier ones gone."""
    after = snapshot(media_root)["files"]
    assert set(before["files"]) <= set(after)
    return {name: data for name, data in after.items() if name not in before["files"]}


def make_source(owner, name: str = SOURCE_NAME, body: bytes | None = None, **fields) -> Asset:
    """A source asset (default: the 192x192 astronaut JPEG named portrait.jpg)."""
    return make_asset(owner, name, source_jpeg() if body is None else body, **fields)


@pytest.fixture
def source(creator) -> Asset:
    """The creator's source asset, with custom data (so "no metadata" is visible as {})."""
    return make_source(creator, data=dict(SOURCE_DATA))
