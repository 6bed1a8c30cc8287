"""Shared fixtures and helpers of tests/assets (the asset API, its services and selectors).

In this directory `client` is an ADMIN's API client of account "acme" (not
pytest-django's plain Client) and `owner` is its user. The factories (`make_asset`,
`add_conversion`) and `assert_error` come from tests/conftest.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

API = "/api/v1"
ASSETS_URL = f"{API}/assets"
HEX32 = re.compile(r"[0-9a-f]{32}")
ASSET_KEYS = {
    "id", "name", "status", "content_type", "size", "checksum", "width", "height",
    "upload_time", "update_time", "data_schema_id", "data", "source_asset_id",
    "conversions", "url",
}
CONVERSION_KEYS = {"content_type", "size", "width", "height", "url", "update_time"}


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
