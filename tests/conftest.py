"""Shared fixtures: a temporary MEDIA_ROOT for every test, users with roles and keys,
API clients authenticated as them.

Transactional tests use plain `django_db(transaction=True)`, never serialized_rollback:
the flush after each one re-creates data schema 0 through the post_migrate signal
(assets.apps), while serialized_rollback would skip that signal and, restored after a
plain transactional test, collide with the re-created row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
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
