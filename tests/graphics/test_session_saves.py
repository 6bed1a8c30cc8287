"""A browser session may only read with GET: `GET assets/{id}/addons/bg_remove` with a
saving mode and only the session cookie is a 403 that saves nothing (a link or an <img>
on another site could otherwise make a signed-in browser save). Saving needs a POST with
the CSRF token. API keys, which a browser never sends on its own, keep the contract's GET."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from assets.models import Asset, Conversion, Job
from tests.conftest import make_asset, stored_files
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db
CSRF_TOKEN = "a" * 32  # any 32 alphanumerics: Django compares the cookie with the header

SAVING_QUERIES = [
    "mode=save_image&disposition=add_conversion&conversion_name=cutout",
    "mode=save_image&disposition=add_new_asset",
    "mode=get_image_and_save&disposition=add_conversion&conversion_name=cutout",
    "mode=get_image_and_save&disposition=add_new_asset&metadata=inherit",
]


@pytest.fixture
def asset(creator):
    return make_asset(creator, "photo.jpg", jpeg_bytes(size=(96, 64)))


@pytest.fixture
def browser(creator) -> APIClient:
    """A signed-in browser: the session cookie only, and CSRF checks as in production."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(creator.user)
    return client


def world(media_root) -> tuple:
    return Asset.objects.count(), Conversion.objects.count(), Job.objects.count(), stored_files(media_root)


@pytest.mark.parametrize("query", SAVING_QUERIES)
def test_a_session_get_with_a_saving_mode_is_403_and_saves_nothing(browser, asset, media_root, query):
    before = world(media_root)
    response = browser.get(f"/api/v1/assets/{asset.id}/addons/bg_remove?{query}")
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "csrf_required"
    assert "POST" in body["message"] and "CSRF" in body["message"]
    assert world(media_root) == before


def test_a_session_get_with_get_image_still_answers_the_cut_out(browser, asset, media_root):
    before = world(media_root)
    response = browser.get(f"/api/v1/assets/{asset.id}/addons/bg_remove?mode=get_image")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png" and response.content.startswith(b"\x89PNG")
    assert world(media_root) == before


def test_the_same_saving_get_with_an_api_key_saves(creator, asset, media_root):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=creator.key)
    response = client.get(f"/api/v1/assets/{asset.id}/addons/bg_remove?{SAVING_QUERIES[0]}")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok", "mode": "save_image", "disposition": "add_conversion", "asset_id": asset.id, "conversion_name": "cutout",
    }
    conversion = Conversion.objects.get(asset=asset, name="cutout")
    stored = media_root / conversion.file.name
    assert stored.read_bytes().startswith(b"\x89PNG") and stored.stat().st_size == conversion.size


def test_a_session_post_saves_only_with_the_csrf_token(browser, asset, media_root):
    url = f"/api/v1/assets/{asset.id}/addons/bg_remove?{SAVING_QUERIES[0]}"
    before = world(media_root)
    refused = browser.post(url, {"image": _upload()}, format="multipart")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    assert world(media_root) == before

    browser.cookies["csrftoken"] = CSRF_TOKEN
    saved = browser.post(url, {"image": _upload()}, format="multipart", HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    assert saved.status_code == 200, saved.content
    conversion = Conversion.objects.get(asset=asset, name="cutout")
    assert (media_root / conversion.file.name).read_bytes().startswith(b"\x89PNG")


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", jpeg_bytes(size=(96, 64)))
