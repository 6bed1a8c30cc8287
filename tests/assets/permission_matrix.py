"""The endpoints of the permission tests (tests/assets/test_authentication.py,
test_role_table.py, test_account_isolation.py), how to call each one, the least role
allowed to (ROLE_TABLE, with the effect an allowed call must have), and `snapshot`:
everything a refused request must leave as it was. The world they run in is the
`world` fixture of tests/assets/conftest.py.
"""

from __future__ import annotations

import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from assets.models import ApiKey, Asset, Conversion, DataSchema, Job, Membership, Role
from tests.conftest import assert_error, stored_files
from tests.images import jpeg_bytes, png_bytes

PASSWORD = "pw-123456"
ALL_ROLES = [Role.USER, Role.CREATOR, Role.MANAGER, Role.ADMIN]
MISSING_ASSET_ID = "0" * 31 + "1"
MISSING_JOB_ID = "f" * 32
MISSING_SCHEMA_ID = 987654


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


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


def upload_form(name: str = "new.jpg", data: bytes | None = None) -> dict:
    return {"file": SimpleUploadedFile(name, data if data is not None else jpeg_bytes("rocket", (40, 30)))}


# --- the endpoints ----------------------------------------------------------------------------
# Each: (id, method, path template, body maker, request format). `{asset}`, `{schema}` and
# `{job}` are filled from the world, or with ids of another account / ids that do not exist.

ENDPOINTS = {
    "list": ("get", "/api/v1/assets", None, None),
    "upload": ("post", "/api/v1/assets", lambda: upload_form(), "multipart"),
    "detail": ("get", "/api/v1/assets/{asset}", None, None),
    "delete": ("delete", "/api/v1/assets/{asset}", None, None),
    "rename": ("patch", "/api/v1/assets/{asset}", lambda: {"name": "renamed.jpg"}, "json"),
    "content_original": ("get", "/api/v1/assets/{asset}/content/original", None, None),
    "content_conversion": ("get", "/api/v1/assets/{asset}/content/thumb", None, None),
    "content_add": ("post", "/api/v1/assets/{asset}/content/added", lambda: upload_form("added.png", png_bytes("rocket", (20, 20))), "multipart"),
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


def _ok_rename(w, response, before):
    w.asset.refresh_from_db()
    assert w.asset.name == response.json()["name"] == "renamed.jpg"
    assert file_bytes(w.media_root, w.asset.file.name) == w.original  # the stored file stays as it was
    assert len(stored_files(w.media_root)) == len(before["files"])


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
    "rename": (Role.CREATOR, 200, _ok_rename, True),
    "delete": (Role.MANAGER, 204, _ok_delete, True),
    "content_delete": (Role.MANAGER, 204, _ok_content_delete, True),
    "schema_create": (Role.ADMIN, 201, _ok_schema_create, True),
    "schema_update": (Role.ADMIN, 200, _ok_schema_update, True),
    "schema_delete": (Role.ADMIN, 204, _ok_schema_delete, True),
}


def assert_permission_denied(response, needed: str, role: str) -> dict:
    body = assert_error(response, 403, errors=False)
    assert body["code"] == "permission_denied"
    assert needed in body["message"], body["message"]  # names the role needed
    assert role in body["message"], body["message"]
    return body
