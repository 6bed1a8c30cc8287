"""SPEC §2 authentication: no key, a wrong, revoked or expired key, an inactive user or
a user without an account is a 401 (403 for a session without an account or without a
CSRF token) that changes nothing; X-Api-Key and Authorization: Api-Key both work, and so
does a session login for reading."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from assets.models import ApiKey, Asset, Role
from assets.services import api_key_create
from tests.assets.permission_matrix import (
    ALL_ROLES,
    ENDPOINTS,
    PASSWORD,
    call_world,
    file_bytes,
    key_client,
    snapshot,
    upload_form,
)
from tests.conftest import assert_error
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_no_credentials_is_401_not_authenticated_with_www_authenticate_and_changes_nothing(
    world, endpoint, django_capture_on_commit_callbacks
):
    before = snapshot(world.media_root)
    response = call_world(APIClient(), endpoint, world, django_capture_on_commit_callbacks)
    body = assert_error(response, 401, errors=False)
    assert body["code"] == "not_authenticated"
    assert "X-Api-Key" in body["message"]
    assert "Api-Key" in response["WWW-Authenticate"]
    assert snapshot(world.media_root) == before


def _wrong_keys(real_key: str) -> dict[str, str]:
    prefix, _, secret = real_key.partition(".")
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    return {
        "garbage": "not-a-key",
        "right_prefix_wrong_secret": f"{prefix}.{flipped}",
        "unknown_prefix": f"zzzzzzzz.{secret}",
    }


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("kind", ["garbage", "right_prefix_wrong_secret", "unknown_prefix"])
def test_wrong_key_is_401_authentication_failed_and_changes_nothing(
    world, endpoint, kind, django_capture_on_commit_callbacks
):
    wrong = _wrong_keys(world.owner_key)[kind]
    before = snapshot(world.media_root)
    response = call_world(key_client(wrong), endpoint, world, django_capture_on_commit_callbacks)
    body = assert_error(response, 401, errors=False)
    assert body["code"] == "authentication_failed"
    assert "Api-Key" in response["WWW-Authenticate"]
    assert wrong not in body["message"]  # the secret is never echoed
    assert snapshot(world.media_root) == before


def test_wrong_key_in_authorization_header_is_401_authentication_failed(world):
    wrong = _wrong_keys(world.owner_key)["right_prefix_wrong_secret"]
    response = key_client(wrong, header="authorization").get(f"/api/v1/assets/{world.asset.id}")
    assert assert_error(response, 401, errors=False)["code"] == "authentication_failed"


def test_authorization_api_key_header_reads_and_writes_like_x_api_key(world, make_user):
    _, key = make_user(Role.CREATOR, "acme")
    client = key_client(key, header="authorization")

    detail = client.get(f"/api/v1/assets/{world.asset.id}")
    assert detail.status_code == 200, detail.content
    assert detail.json()["id"] == world.asset.id
    assert detail.json()["data"] == {"colour": "red"}

    download = client.get(f"/api/v1/assets/{world.asset.id}/content/original")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == world.original

    data = jpeg_bytes("rocket", (40, 30))
    created = client.post("/api/v1/assets", upload_form("via-authorization.jpg", data), format="multipart")
    assert created.status_code == 201, created.content
    row = Asset.objects.get(id=created.json()["id"])
    assert row.account_id == world.account.id
    assert file_bytes(world.media_root, row.file.name) == data


def test_other_authorization_schemes_are_not_credentials(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.owner_key}")
    response = client.get(f"/api/v1/assets/{world.asset.id}")
    assert assert_error(response, 401, errors=False)["code"] == "not_authenticated"


def _spoil(kind: str, user, key: str) -> None:
    if kind == "revoked":
        api_key = ApiKey.objects.get_from_key(key)
        api_key.revoked = True
        api_key.save()
    elif kind == "expired":
        api_key = ApiKey.objects.get_from_key(key)
        api_key.expiry_date = timezone.now() - timedelta(minutes=1)
        api_key.save()
    elif kind == "inactive_user":
        user.is_active = False
        user.save(update_fields=["is_active"])
    else:  # pragma: no cover
        raise AssertionError(kind)


@pytest.mark.parametrize("header", ["x-api-key", "authorization"])
@pytest.mark.parametrize("kind", ["revoked", "expired", "inactive_user"])
def test_revoked_expired_or_inactive_users_key_is_401_and_changes_nothing(world, make_user, kind, header):
    user, key = make_user(Role.ADMIN, "acme")
    client = key_client(key, header=header)
    assert client.get(f"/api/v1/assets/{world.asset.id}").status_code == 200  # works before

    _spoil(kind, user, key)
    before = snapshot(world.media_root)
    for response in (
        client.get(f"/api/v1/assets/{world.asset.id}"),
        client.get(f"/api/v1/assets/{world.asset.id}/content/original"),
        client.post("/api/v1/assets", upload_form(), format="multipart"),
        client.post(
            f"/api/v1/assets/{world.asset.id}/data/update", {"data": {"x": 1}, "mode": "REPLACE"}, format="json"
        ),
    ):
        body = assert_error(response, 401, errors=False)
        assert body["code"] == "authentication_failed"
        assert "Api-Key" in response["WWW-Authenticate"]
    assert snapshot(world.media_root) == before


def test_revoking_one_key_leaves_the_users_other_key_working(world, make_user):
    user, key = make_user(Role.USER, "acme")
    _, other_key = api_key_create(user=user, name="second")
    _spoil("revoked", user, key)
    assert key_client(key).get("/api/v1/assets").status_code == 401
    response = key_client(other_key).get("/api/v1/assets")
    assert response.status_code == 200, response.content


def test_key_of_a_user_without_an_account_is_401(world):
    plain = get_user_model().objects.create_user("keyed-plain", password=PASSWORD)
    _, key = api_key_create(user=plain, name="orphan")
    response = key_client(key).get("/api/v1/assets")
    assert assert_error(response, 401, errors=False)["code"] == "authentication_failed"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_session_login_can_list_read_and_download_assets(world, make_user, role):
    user, _ = make_user(role, "acme")
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)

    listing = client.get("/api/v1/assets")
    assert listing.status_code == 200, listing.content
    assert {a["id"] for a in listing.json()["results"]} == {world.asset.id, world.child.id}

    detail = client.get(f"/api/v1/assets/{world.asset.id}")
    assert detail.status_code == 200
    assert detail.json()["data"] == {"colour": "red"}

    original = client.get(f"/api/v1/assets/{world.asset.id}/content/original")
    assert original.status_code == 200
    assert b"".join(original.streaming_content) == world.original

    thumb = client.get(f"/api/v1/assets/{world.asset.id}/content/thumb")
    assert thumb.status_code == 200
    assert b"".join(thumb.streaming_content) == world.thumb


def test_session_login_of_an_inactive_user_fails_and_api_stays_401(world, make_user):
    user, _ = make_user(Role.ADMIN, "acme")
    user.is_active = False
    user.save(update_fields=["is_active"])
    client = APIClient()
    assert not client.login(username=user.username, password=PASSWORD)
    assert assert_error(client.get("/api/v1/assets"), 401, errors=False)["code"] == "not_authenticated"


def test_session_writes_without_csrf_token_are_refused_and_change_nothing(world, make_user):
    user, _ = make_user(Role.ADMIN, "acme")
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)
    assert client.get("/api/v1/assets").status_code == 200  # reads need no token
    before = snapshot(world.media_root)
    created = client.post("/api/v1/assets", upload_form(), format="multipart")
    assert assert_error(created, 403, errors=False)["code"] == "permission_denied"
    deleted = client.delete(f"/api/v1/assets/{world.asset.id}")
    assert assert_error(deleted, 403, errors=False)["code"] == "permission_denied"
    assert snapshot(world.media_root) == before


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_logged_in_user_without_membership_gets_403_and_changes_nothing(
    world, endpoint, django_capture_on_commit_callbacks
):
    plain = get_user_model().objects.create_user("plain", password=PASSWORD)
    client = APIClient()
    assert client.login(username=plain.username, password=PASSWORD)
    before = snapshot(world.media_root)
    response = call_world(client, endpoint, world, django_capture_on_commit_callbacks)
    body = assert_error(response, 403, errors=False)
    assert body["code"] == "permission_denied"
    assert "account" in body["message"]
    assert snapshot(world.media_root) == before


# --- the process's memory of valid keys ---------------------------------------------------------


def test_a_valid_key_is_looked_up_once_for_a_burst_and_again_once_its_time_is_up(
    world, make_user, settings, django_assert_num_queries, monkeypatch
):
    """API_KEY_CACHE_SECONDS: within it a second request runs no key query; a key revoked
    meanwhile still works until the time is up, then is a 401; an unknown key is never
    remembered."""
    from assets import auth

    settings.API_KEY_CACHE_SECONDS = 5
    monkeypatch.setattr(auth, "_recent", {})
    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    user, key = make_user(Role.USER)
    client = APIClient(HTTP_X_API_KEY=key)
    assert client.get("/api/v1/assets").status_code == 200
    with django_assert_num_queries(0):
        assert auth.api_key_get_recent(key) is not None
    ApiKey.objects.filter(user=user).update(revoked=True)
    assert client.get("/api/v1/assets").status_code == 200  # remembered: revocation within 5 s
    clock[0] += 5.5
    assert_error(client.get("/api/v1/assets"), 401)
    assert auth.api_key_get_recent(key) is None and len(auth._recent) == 0  # not remembered once refused
    wrong = key[:-4] + "abcd"
    for _ in range(2):
        assert_error(APIClient(HTTP_X_API_KEY=wrong).get("/api/v1/assets"), 401)
    assert len(auth._recent) == 0
