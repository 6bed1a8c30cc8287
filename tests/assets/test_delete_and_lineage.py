"""Deleting an asset (rows and files go, derived assets stay with a dangling
source_asset_id) and GET assets/{id}/lineage (ancestors nearest first, descendants
breadth first, a deleted ancestor's id still reported)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import Asset, Conversion
from tests.assets.conftest import API, content, file_of
from tests.conftest import add_conversion, assert_error, make_asset, small_jpeg, small_png, stored_files

pytestmark = pytest.mark.django_db


# --- deleting an asset -------------------------------------------------------------------


def test_delete_asset_removes_rows_and_files_but_not_derived_assets(
    client, owner, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(owner, "source.jpg")
    add_conversion(asset, "bg", small_png())
    add_conversion(asset, "thumb", small_png("rocket", (20, 20)))
    derived = make_asset(owner, "derived.png", body=small_png("chelsea", (30, 30)), source=asset)
    unrelated = make_asset(owner, "unrelated.jpg", body=small_jpeg("coffee"))
    asset_files = {file_of(media_root, asset), *(file_of(media_root, c) for c in asset.conversions.all())}
    assert len(asset_files) == 3 and all(p.exists() for p in asset_files)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{API}/assets/{asset.id}")
    assert response.status_code == 204
    assert response.content == b""

    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert not Conversion.objects.filter(asset_id=asset.id).exists()
    assert not any(p.exists() for p in asset_files)
    assert set(stored_files(media_root)) == {file_of(media_root, derived), file_of(media_root, unrelated)}
    assert_error(client.get(f"{API}/assets/{asset.id}"), 404, code="asset_not_found")
    assert_error(client.get(f"{API}/assets/{asset.id}/content/original"), 404, code="asset_not_found")

    derived.refresh_from_db()
    assert derived.source_asset_id == asset.id
    doc = client.get(f"{API}/assets/{derived.id}").json()
    assert doc["source_asset_id"] == asset.id
    assert content(client.get(doc["url"])) == small_png("chelsea", (30, 30))


def test_delete_unknown_asset_is_404(client, owner, media_root):
    make_asset(owner)
    files_before = stored_files(media_root)
    assert_error(client.delete(f"{API}/assets/{uuid.uuid4().hex}"), 404, code="asset_not_found")
    assert Asset.objects.count() == 1
    assert stored_files(media_root) == files_before


# --- lineage -----------------------------------------------------------------------------


@pytest.fixture
def family(owner):
    """A <- B <- C and A <- D, made in the order A, B, C, D."""
    now = timezone.now()
    a = make_asset(owner, "a.jpg", upload_time=now - timedelta(minutes=4))
    b = make_asset(owner, "b.jpg", source=a, upload_time=now - timedelta(minutes=3))
    c = make_asset(owner, "c.jpg", source=b, upload_time=now - timedelta(minutes=2))
    d = make_asset(owner, "d.jpg", source=a, upload_time=now - timedelta(minutes=1))
    return a, b, c, d


def lineage(client, asset_id: str) -> dict:
    response = client.get(f"{API}/assets/{asset_id}/lineage")
    assert response.status_code == 200, response.content
    return response.json()


def test_lineage_walks_ancestors_nearest_first_and_descendants_breadth_first(client, family):
    a, b, c, d = family
    assert lineage(client, c.id) == {"ancestors": [b.id, a.id], "descendants": []}
    assert lineage(client, a.id) == {"ancestors": [], "descendants": [b.id, d.id, c.id]}
    assert lineage(client, b.id) == {"ancestors": [a.id], "descendants": [c.id]}
    assert lineage(client, d.id) == {"ancestors": [a.id], "descendants": []}


def test_lineage_after_deleting_the_root_still_reports_its_dangling_id(
    client, family, django_capture_on_commit_callbacks
):
    a, b, c, d = family
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{API}/assets/{a.id}").status_code == 204
    assert lineage(client, b.id) == {"ancestors": [a.id], "descendants": [c.id]}
    assert lineage(client, c.id) == {"ancestors": [b.id, a.id], "descendants": []}
    assert lineage(client, d.id) == {"ancestors": [a.id], "descendants": []}
    assert_error(client.get(f"{API}/assets/{a.id}/lineage"), 404, code="asset_not_found")


def test_lineage_of_unknown_asset_is_404(client):
    assert_error(client.get(f"{API}/assets/{uuid.uuid4().hex}/lineage"), 404, code="asset_not_found")
