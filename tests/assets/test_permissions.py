"""SPEC §2: authentication (401), the role table (403) and account isolation (404).

Every refused request is checked for having changed nothing (rows, the asset's data,
files under the media root); every allowed one for its effect.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from tests.images import image_probe_bytes, jpeg_bytes, png_bytes
from assets.models import (
    ApiKey,
    Asset,
    Conversion,
    DataSchema,
    Job,
    JobStatus,
    Membership,
    Role,
)
from assets.services import api_key_create, asset_create_from_bytes, conversion_save
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"
ALL_ROLES = [Role.USER, Role.CREATOR, Role.MANAGER, Role.ADMIN]
ERROR_KEYS = {"status", "code", "message", "request_id"}
MISSING_ASSET_ID = "0" * 31 + "1"
MISSING_JOB_ID = "f" * 32
MISSING_SCHEMA_ID = 987654


# --- set-up ---------------------------------------------------------------------------------


def probe(data: bytes):
    return image_probe_bytes(data, max_pixels=django_settings.ASSETS_MAX_PIXELS)


@pytest.fixture
def world(make_user, media_root):
    """Account "acme" with an asset (data, conversion "thumb", one derived child), a
    spare data schema (not in use) and a finished job."""
    owner, owner_key = make_user(Role.ADMIN, "acme", username="owner-acme")
    account = owner.membership.account
    original = jpeg_bytes("astronaut", (64, 64))
    asset = asset_create_from_bytes(
        account=account, user=owner, data_bytes=original, name="astro.jpg", data={"colour": "red"}
    )
    thumb = png_bytes("chelsea", (30, 20))
    conversion_save(asset=asset, name="thumb", content=ContentFile(thumb), info=probe(thumb))
    child_bytes = png_bytes("coffee", (24, 16))
    child = asset_create_from_bytes(
        account=account, user=owner, data_bytes=child_bytes, name="child.png", source_asset_id=asset.id
    )
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


def snapshot(media_root) -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "assets": {
            a.id: (a.account_id, a.name, a.data, a.data_schema_id, a.source_asset_id, a.checksum,
                   a.file.name, a.update_time)
            for a in Asset.objects.all()
        },
        "conversions": {
            (c.asset_id, c.name): (c.file.name, c.checksum, c.update_time) for c in Conversion.objects.all()
        },
        "schemas": {s.id: (s.account_id, s.name, s.schema, s.updated_at) for s in DataSchema.objects.all()},
        "jobs": {j.id: (j.account_id, j.status, j.output, j.error) for j in Job.objects.all()},
        "memberships": sorted(Membership.objects.values_list("user_id", "account_id", "role")),
        "keys": sorted(ApiKey.objects.values_list("id", "revoked")),
        "files": {
            str(p.relative_to(media_root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in stored_files(media_root)
        },
    }


def file_bytes(media_root, name: str) -> bytes:
    return (media_root / name).read_bytes()


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body  # no "errors": these are not validation failures
    assert body["status"] == "error"
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response["X-Request-Id"]
    return body


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


def upload(name: str = "new.jpg", data: bytes | None = None) -> dict:
    return {"file": SimpleUploadedFile(name, data if data is not None else jpeg_bytes("rocket", (40, 30)))}


# --- the endpoints ----------------------------------------------------------------------------
# Each: (id, method, path template, body maker, request format). `{asset}`, `{schema}` and
# `{job}` are filled from the world, or with ids of another account / ids that do not exist.

ENDPOINTS = {
    "list": ("get", "/api/v1/assets", None, None),
    "upload": ("post", "/api/v1/assets", lambda: upload(), "multipart"),
    "detail": ("get", "/api/v1/assets/{asset}", None, None),
    "delete": ("delete", "/api/v1/assets/{asset}", None, None),
    "content_original": ("get", "/api/v1/assets/{asset}/content/original", None, None),
    "content_conversion": ("get", "/api/v1/assets/{asset}/content/thumb", None, None),
    "content_add": ("post", "/api/v1/assets/{asset}/content/added", lambda: upload("added.png", png_bytes("rocket", (20, 20))), "multipart"),
    "content_delete": ("delete", "/api/v1/assets/{asset}/content/thumb", None, None),
    "data_update": ("post", "/api/v1/assets/{asset}/data/update", lambda: {"data": {"size": "L"}, "mode": "APPEND"}, "json"),
    "lineage": ("get", "/api/v1/assets/{asset}/lineage", None, None),
    "schema_list": ("get", "/api/v1/assetschemas", None, None),
    "schema_create": ("post", "/api/v1/assetschemas", lambda: {"name": "fresh", "schema": {"type": "object"}}, "json"),
    "schema_detail": ("get", "/api/v1/assetschemas/{schema}", None, None),
    "schema_update": ("put", "/api/v1/assetschemas/{schema}", lambda: {"name": "renamed", "schema": {"type": "object", "required": ["n"]}}, "json"),
    "schema_delete": ("delete", "/api/v1/assetschemas/{schema}", None, None),
    "job": ("get", "/api/v1/jobs/{job}", None, None),
}

# The endpoints that take an id of the account's asset, schema or job.
ID_ENDPOINTS = [name for name, (_, path, _, _) in ENDPOINTS.items() if "{" in path]


def call(client, endpoint: str, *, asset: str, schema, job: str, capture=None):
    method, template, body, fmt = ENDPOINTS[endpoint]
    path = template.format(asset=asset, schema=schema, job=job)
    kwargs = {}
    if body is not None:
        kwargs = {"data": body(), "format": fmt}
    if capture is None:
        return getattr(client, method)(path, **kwargs)
    with capture(execute=True):  # run on-commit file deletions as a real commit would
        return getattr(client, method)(path, **kwargs)


def call_world(client, endpoint: str, w, capture=None):
    return call(client, endpoint, asset=w.asset.id, schema=w.schema.id, job=w.job.id, capture=capture)


def call_missing(client, endpoint: str, capture=None):
    return call(client, endpoint, asset=MISSING_ASSET_ID, schema=MISSING_SCHEMA_ID, job=MISSING_JOB_ID, capture=capture)


def key_client(key: str, header: str = "x-api-key") -> APIClient:
    client = APIClient()
    if header == "x-api-key":
        client.credentials(HTTP_X_API_KEY=key)
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


# --- 1. authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_no_credentials_is_401_not_authenticated_with_www_authenticate_and_changes_nothing(
    world, endpoint, django_capture_on_commit_callbacks
):
    before = snapshot(world.media_root)
    response = call_world(APIClient(), endpoint, world, django_capture_on_commit_callbacks)
    body = assert_error_shape(response, 401)
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
    body = assert_error_shape(response, 401)
    assert body["code"] == "authentication_failed"
    assert "Api-Key" in response["WWW-Authenticate"]
    assert wrong not in body["message"]  # the secret is never echoed
    assert snapshot(world.media_root) == before


def test_wrong_key_in_authorization_header_is_401_authentication_failed(world):
    wrong = _wrong_keys(world.owner_key)["right_prefix_wrong_secret"]
    response = key_client(wrong, header="authorization").get(f"/api/v1/assets/{world.asset.id}")
    assert assert_error_shape(response, 401)["code"] == "authentication_failed"


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
    created = client.post("/api/v1/assets", upload("via-authorization.jpg", data), format="multipart")
    assert created.status_code == 201, created.content
    row = Asset.objects.get(id=created.json()["id"])
    assert row.account_id == world.account.id
    assert file_bytes(world.media_root, row.file.name) == data


def test_other_authorization_schemes_are_not_credentials(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.owner_key}")
    response = client.get(f"/api/v1/assets/{world.asset.id}")
    assert assert_error_shape(response, 401)["code"] == "not_authenticated"


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
        client.post("/api/v1/assets", upload(), format="multipart"),
        client.post(
            f"/api/v1/assets/{world.asset.id}/data/update", {"data": {"x": 1}, "mode": "REPLACE"}, format="json"
        ),
    ):
        body = assert_error_shape(response, 401)
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
    assert assert_error_shape(response, 401)["code"] == "authentication_failed"


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
    assert assert_error_shape(client.get("/api/v1/assets"), 401)["code"] == "not_authenticated"


def test_session_writes_without_csrf_token_are_refused_and_change_nothing(world, make_user):
    user, _ = make_user(Role.ADMIN, "acme")
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)
    assert client.get("/api/v1/assets").status_code == 200  # reads need no token
    before = snapshot(world.media_root)
    created = client.post("/api/v1/assets", upload(), format="multipart")
    assert assert_error_shape(created, 403)["code"] == "permission_denied"
    deleted = client.delete(f"/api/v1/assets/{world.asset.id}")
    assert assert_error_shape(deleted, 403)["code"] == "permission_denied"
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
    body = assert_error_shape(response, 403)
    assert body["code"] == "permission_denied"
    assert "account" in body["message"]
    assert snapshot(world.media_root) == before


# --- 2. the role table ---------------------------------------------------------------------------


def _ok_list(w, response, before):
    body = response.json()
    assert body["count"] == 2
    assert [a["id"] for a in body["results"]] == [w.child.id, w.asset.id]  # newest first


def _ok_detail(w, response, before):
    body = response.json()
    assert body["id"] == w.asset.id
    assert body["data"] == {"colour": "red"}
    assert set(body["conversions"]) == {"thumb"}
    assert body["checksum"] == hashlib.sha256(w.original).hexdigest()


def _ok_content_original(w, response, before):
    assert b"".join(response.streaming_content) == w.original
    assert response["Content-Type"] == "image/jpeg"


def _ok_content_conversion(w, response, before):
    assert b"".join(response.streaming_content) == w.thumb
    assert response["Content-Type"] == "image/png"


def _ok_lineage(w, response, before):
    assert response.json() == {"ancestors": [], "descendants": [w.child.id]}


def _ok_job(w, response, before):
    body = response.json()
    assert body["job_id"] == w.job.id
    assert body["status"] == "OK"
    assert body["output"] == [{"name": "thumb", "asset_id": w.asset.id}]


def _ok_schema_list(w, response, before):
    assert {s["id"] for s in response.json()} == {0, w.schema.id}


def _ok_schema_detail(w, response, before):
    body = response.json()
    assert (body["id"], body["name"], body["schema"]) == (w.schema.id, "spare", w.schema.schema)
    assert body["builtin"] is False


def _ok_upload(w, response, before):
    new_id = response.json()["id"]
    assert new_id not in before["assets"]
    row = Asset.objects.get(id=new_id)
    assert row.account_id == w.account.id
    assert Asset.objects.count() == len(before["assets"]) + 1
    stored = file_bytes(w.media_root, row.file.name)
    assert hashlib.sha256(stored).hexdigest() == row.checksum == response.json()["checksum"]
    assert len(stored_files(w.media_root)) == len(before["files"]) + 1


def _ok_content_add(w, response, before):
    conversion = Conversion.objects.get(asset=w.asset, name="added")
    assert Conversion.objects.count() == len(before["conversions"]) + 1
    assert "added" in response.json()["conversions"]
    stored = file_bytes(w.media_root, conversion.file.name)
    assert hashlib.sha256(stored).hexdigest() == conversion.checksum
    assert len(stored_files(w.media_root)) == len(before["files"]) + 1


def _ok_data_update(w, response, before):
    w.asset.refresh_from_db()
    assert w.asset.data == {"colour": "red", "size": "L"}
    assert response.json()["data"] == {"colour": "red", "size": "L"}


def _ok_delete(w, response, before):
    assert not Asset.objects.filter(id=w.asset.id).exists()
    assert not Conversion.objects.filter(asset_id=w.asset.id).exists()
    assert not (w.media_root / w.asset.file.name).exists()
    assert not (w.media_root / w.thumb_path).exists()
    child = Asset.objects.get(id=w.child.id)  # derived assets stay, with a dangling id
    assert child.source_asset_id == w.asset.id
    assert (w.media_root / child.file.name).exists()
    assert len(stored_files(w.media_root)) == len(before["files"]) - 2


def _ok_content_delete(w, response, before):
    assert not Conversion.objects.filter(asset=w.asset, name="thumb").exists()
    assert not (w.media_root / w.thumb_path).exists()
    assert file_bytes(w.media_root, w.asset.file.name) == w.original
    assert len(stored_files(w.media_root)) == len(before["files"]) - 1


def _ok_schema_create(w, response, before):
    created = DataSchema.objects.get(id=response.json()["id"])
    assert (created.account_id, created.name, created.schema) == (w.account.id, "fresh", {"type": "object"})
    assert DataSchema.objects.count() == len(before["schemas"]) + 1


def _ok_schema_update(w, response, before):
    w.schema.refresh_from_db()
    assert (w.schema.name, w.schema.schema) == ("renamed", {"type": "object", "required": ["n"]})


def _ok_schema_delete(w, response, before):
    assert not DataSchema.objects.filter(id=w.schema.id).exists()
    assert DataSchema.objects.count() == len(before["schemas"]) - 1


# endpoint -> (least role allowed, status on success, effect check, changes state)
ROLE_TABLE = {
    "list": (Role.USER, 200, _ok_list, False),
    "detail": (Role.USER, 200, _ok_detail, False),
    "content_original": (Role.USER, 200, _ok_content_original, False),
    "content_conversion": (Role.USER, 200, _ok_content_conversion, False),
    "lineage": (Role.USER, 200, _ok_lineage, False),
    "job": (Role.USER, 200, _ok_job, False),
    "schema_list": (Role.USER, 200, _ok_schema_list, False),
    "schema_detail": (Role.USER, 200, _ok_schema_detail, False),
    "upload": (Role.CREATOR, 201, _ok_upload, True),
    "content_add": (Role.CREATOR, 201, _ok_content_add, True),
    "data_update": (Role.CREATOR, 200, _ok_data_update, True),
    "delete": (Role.MANAGER, 204, _ok_delete, True),
    "content_delete": (Role.MANAGER, 204, _ok_content_delete, True),
    "schema_create": (Role.ADMIN, 201, _ok_schema_create, True),
    "schema_update": (Role.ADMIN, 200, _ok_schema_update, True),
    "schema_delete": (Role.ADMIN, 204, _ok_schema_delete, True),
}


def test_role_table_covers_every_endpoint():
    assert set(ROLE_TABLE) == set(ENDPOINTS)


def assert_permission_denied(response, needed: str, role: str) -> dict:
    body = assert_error_shape(response, 403)
    assert body["code"] == "permission_denied"
    assert needed in body["message"], body["message"]  # names the role needed
    assert role in body["message"], body["message"]
    return body


@pytest.mark.parametrize("endpoint", list(ROLE_TABLE))
@pytest.mark.parametrize("role", ALL_ROLES)
def test_role_table(world, client_for, role, endpoint, django_capture_on_commit_callbacks):
    needed, success_status, effect, changes = ROLE_TABLE[endpoint]
    client = client_for(role, "acme")
    before = snapshot(world.media_root)
    response = call_world(client, endpoint, world, django_capture_on_commit_callbacks)
    if Role.rank(role) >= Role.rank(needed):
        assert response.status_code == success_status, response.content
        effect(world, response, before)
        if not changes:
            assert snapshot(world.media_root) == before
    else:
        assert_permission_denied(response, needed, role)
        assert snapshot(world.media_root) == before


# --- 3. accounts do not see each other ---------------------------------------------------------


def _expected_not_found_code(endpoint: str) -> set[str]:
    if endpoint.startswith("schema"):
        return {"schema_not_found"}
    if endpoint == "job":
        return {"job_not_found"}
    return {"asset_not_found"}


def _as_missing(body: dict, w, endpoint: str) -> dict:
    """The body a missing id got, with the missing id replaced by the world's id."""
    message = (
        body["message"]
        .replace(MISSING_ASSET_ID, w.asset.id)
        .replace(MISSING_JOB_ID, w.job.id)
        .replace(str(MISSING_SCHEMA_ID), str(w.schema.id))
    )
    return {**without_request_id(body), "message": message}


@pytest.mark.parametrize("endpoint", ID_ENDPOINTS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_other_accounts_ids_look_like_missing_ids(world, client_for, role, endpoint, django_capture_on_commit_callbacks):
    """403 when the role lacks the permission (checked before any lookup), else 404; either
    way the answer is the one a never-existing id gets, and nothing changes."""
    other = client_for(role, "other")
    needed = ROLE_TABLE[endpoint][0]
    before = snapshot(world.media_root)

    foreign = call_world(other, endpoint, world, django_capture_on_commit_callbacks)
    missing = call_missing(other, endpoint, django_capture_on_commit_callbacks)

    if Role.rank(role) >= Role.rank(needed):
        foreign_body = assert_error_shape(foreign, 404)
        missing_body = assert_error_shape(missing, 404)
        assert foreign_body["code"] in _expected_not_found_code(endpoint)
        assert foreign_body["code"] == "not_found" or foreign_body["code"].endswith("_not_found")
        assert without_request_id(foreign_body) == _as_missing(missing_body, world, endpoint)
    else:
        foreign_body = assert_permission_denied(foreign, needed, role)
        missing_body = assert_permission_denied(missing, needed, role)
        assert without_request_id(foreign_body) == without_request_id(missing_body)
    for revealing in ("acme", world.owner.username, world.asset.name, "other account"):
        assert revealing not in foreign_body["message"]
    assert snapshot(world.media_root) == before


def test_other_accounts_list_shows_only_its_own_assets(world, client_for):
    other = client_for(Role.ADMIN, "other")
    mine = other.post("/api/v1/assets", upload("mine.jpg"), format="multipart")
    assert mine.status_code == 201, mine.content

    listing = other.get("/api/v1/assets")
    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert [a["id"] for a in listing.json()["results"]] == [mine.json()["id"]]

    derived = other.get("/api/v1/assets", {"source_asset_id": world.asset.id})
    assert derived.status_code == 200
    assert derived.json()["count"] == 0 and derived.json()["results"] == []

    by_name = other.get("/api/v1/assets", {"name": "astro"})
    assert by_name.json()["count"] == 0

    # and the first account still sees only its own two
    acme = client_for(Role.USER, "acme").get("/api/v1/assets")
    assert {a["id"] for a in acme.json()["results"]} == {world.asset.id, world.child.id}


def test_other_accounts_schema_list_hides_the_first_accounts_schemas(world, client_for):
    other = client_for(Role.ADMIN, "other")
    created = other.post("/api/v1/assetschemas", {"name": "theirs", "schema": {"type": "object"}}, format="json")
    assert created.status_code == 201, created.content
    ids = {s["id"] for s in other.get("/api/v1/assetschemas").json()}
    assert ids == {0, created.json()["id"]}
    assert world.schema.id not in ids


def test_foreign_schema_cannot_be_named_in_an_upload_or_data_update(world, client_for):
    other = client_for(Role.ADMIN, "other")
    before = snapshot(world.media_root)
    response = other.post(
        "/api/v1/assets", {**upload(), "data_schema_id": str(world.schema.id)}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "schema_not_found"
    assert "data_schema_id" in response.json()["errors"]
    assert snapshot(world.media_root) == before


# --- 4. malformed ids ------------------------------------------------------------------------


# label -> (method, path template); {id} is the world's asset id, {job} its job id.
MALFORMED = {
    "asset_not_hex": ("get", "/api/v1/assets/NOTHEX"),
    "asset_upper": ("get", "/api/v1/assets/{ID}"),
    "asset_upper_delete": ("delete", "/api/v1/assets/{ID}"),
    "content_upper": ("get", "/api/v1/assets/{ID}/content/original"),
    "content_upper_delete": ("delete", "/api/v1/assets/{ID}/content/thumb"),
    "lineage_upper": ("get", "/api/v1/assets/{ID}/lineage"),
    "data_update_upper": ("post", "/api/v1/assets/{ID}/data/update"),
    "asset_31_chars": ("get", "/api/v1/assets/{short}"),
    "asset_33_chars": ("get", "/api/v1/assets/{id}0"),
    "asset_with_dash": ("get", "/api/v1/assets/{dashed}"),
    "job_not_hex": ("get", "/api/v1/jobs/NOTHEX"),
    "job_upper": ("get", "/api/v1/jobs/{JOB}"),
    "schema_not_number": ("get", "/api/v1/assetschemas/abc"),
    "schema_negative": ("get", "/api/v1/assetschemas/-1"),
    "schema_fraction_delete": ("delete", "/api/v1/assetschemas/1.5"),
}


@pytest.mark.parametrize("label", list(MALFORMED))
def test_malformed_ids_are_404_in_the_one_error_shape(world, client_for, label, django_capture_on_commit_callbacks):
    method, template = MALFORMED[label]
    asset_id = world.asset.id
    path = template.format(
        id=asset_id, ID=asset_id.upper(), short=asset_id[:-1], dashed=f"{asset_id[:8]}-{asset_id[8:]}",
        JOB=world.job.id.upper(),
    )
    client = client_for(Role.ADMIN, "acme")
    before = snapshot(world.media_root)
    with django_capture_on_commit_callbacks(execute=True):
        if method == "post":
            response = client.post(path, {"data": {"x": 1}, "mode": "REPLACE"}, format="json")
        else:
            response = getattr(client, method)(path)
    body = assert_error_shape(response, 404)
    assert body["code"] == "not_found" or body["code"].endswith("_not_found")
    assert "Traceback" not in body["message"]
    assert snapshot(world.media_root) == before
