"""Every endpoint answers in one order: 401 (no credentials), then 403 (the role), then 404
(an id in the path), then 400 (the input). Each case below is wrong in every later way
too, so only the first check decides (docs/api.md, "Authentication and roles")."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from assets.models import Role
from tests.images import png_bytes

pytestmark = pytest.mark.django_db

MISSING = "0" * 32
BAD_MODE = {"mode": "get_image_and_save", "disposition": "nonsense"}


def _calls(asset_id: str):
    """(name, method, path, data, format) for each write endpoint, all with bad input."""
    bad_upload = {"file": SimpleUploadedFile("x.txt", b"not an image")}
    return [
        ("upload", "post", "/api/v1/assets", bad_upload, "multipart"),
        ("delete asset", "delete", f"/api/v1/assets/{asset_id}", None, None),
        ("add conversion", "post", f"/api/v1/assets/{asset_id}/content/bad name!", bad_upload, "multipart"),
        ("delete conversion", "delete", f"/api/v1/assets/{asset_id}/content/bad name!", None, None),
        ("update data", "post", f"/api/v1/assets/{asset_id}/data/update", {"data": [], "mode": "?"}, "json"),
        ("bg_remove save by GET", "get", f"/api/v1/assets/{asset_id}/addons/bg_remove?mode=get_image_and_save", None, None),
        ("bg_remove save by POST", "post", f"/api/v1/assets/{asset_id}/addons/bg_remove?mode=save_image", {}, "multipart"),
        ("image graphics", "post", "/api/v1/assets/addons/image_graphics", {"assets": "?"}, "json"),
        ("schema", "put", "/api/v1/assetschemas/999", {"schema": "?"}, "json"),
    ]


def _send(client: APIClient, method: str, path: str, data, fmt):
    return getattr(client, method)(path, data, format=fmt) if data is not None else getattr(client, method)(path)


@pytest.mark.parametrize("index", range(9), ids=[c[0] for c in _calls(MISSING)])
def test_without_credentials_every_write_is_401(index):
    _, method, path, data, fmt = _calls(MISSING)[index]
    assert _send(APIClient(), method, path, data, fmt).status_code == 401


@pytest.mark.parametrize("index", range(9), ids=[c[0] for c in _calls(MISSING)])
def test_a_user_role_gets_403_before_404_and_400(client_for, index):
    _, method, path, data, fmt = _calls(MISSING)[index]
    response = _send(client_for(Role.USER), method, path, data, fmt)
    assert response.status_code == 403, response.content
    assert response.json()["code"] in {"permission_denied", "csrf_required"}


def test_missing_asset_is_404_before_bad_input_for_a_role_that_may_write(client_for):
    admin = client_for(Role.ADMIN)
    for name, method, path, data, fmt in _calls(MISSING):
        if MISSING not in path:
            continue
        response = _send(admin, method, path, data, fmt)
        assert response.status_code == 404, (name, response.content)


def test_existing_asset_with_bad_input_is_400(client_for):
    admin = client_for(Role.ADMIN)
    created = admin.post("/api/v1/assets", {"file": SimpleUploadedFile("p.png", png_bytes("coffee", (40, 30)))},
                         format="multipart")
    asset_id = created.json()["id"]
    for name, method, path, data, fmt in _calls(asset_id):
        if name in {"delete asset", "delete conversion", "schema"}:
            continue  # only path elements, which are 404 when wrong / no asset in the path
        response = _send(admin, method, path, data, fmt)
        assert response.status_code == 400, (name, response.content)
        assert response.json()["status"] == "error" and response.json()["errors"], (name, response.content)
