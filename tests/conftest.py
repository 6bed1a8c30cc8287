"""Shared fixtures: a temporary MEDIA_ROOT for every test, users with roles and keys,
API clients authenticated as them.

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

import boto3
import pytest
from botocore.config import Config
from rest_framework.test import APIClient

from assets.models import Account, Role
from assets.services import account_user_create, api_key_create


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
