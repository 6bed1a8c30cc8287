"""Conversions through the API (SPEC §3): POST assets/{id}/content/{name} stores or
replaces one (the old file deleted only once committed), a bad name is a 400, DELETE
removes the row and the file; the original cannot be deleted on its own."""

from __future__ import annotations

import pytest

from assets.models import Asset, Conversion
from tests.images import png_bytes
from tests.assets.conftest import API, ASSET_KEYS, content, file_of, sha256, upload
from tests.conftest import add_conversion, assert_error, make_asset, small_png, stored_files

pytestmark = pytest.mark.django_db


# --- conversions -------------------------------------------------------------------------


def test_post_conversion_is_201_and_listed_on_the_asset(client, owner, media_root):
    asset = make_asset(owner, "astro.jpg")
    conv = png_bytes("coffee", (70, 45))
    response = upload(client, "whatever.png", conv, path=f"{API}/assets/{asset.id}/content/bg_removed")

    assert response.status_code == 201, response.content
    doc = response.json()
    assert set(doc) == ASSET_KEYS
    entry = doc["conversions"]["bg_removed"]
    assert (entry["size"], entry["width"], entry["height"]) == (len(conv), 70, 45)
    assert entry["content_type"] == "image/png"
    assert response["Location"] == f"http://testserver{API}/assets/{asset.id}/content/bg_removed"
    row = Conversion.objects.get(asset=asset, name="bg_removed")
    assert row.checksum == sha256(conv)
    assert file_of(media_root, row).read_bytes() == conv
    assert set(stored_files(media_root)) == {file_of(media_root, asset), file_of(media_root, row)}
    assert client.get(f"{API}/assets/{asset.id}").json()["conversions"]["bg_removed"] == entry
    assert content(client.get(entry["url"])) == conv


def test_post_conversion_again_replaces_it_and_deletes_the_old_file(
    client, owner, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(owner, "astro.jpg")
    old_bytes = png_bytes("coffee", (70, 45))
    new_bytes = png_bytes("rocket", (33, 22))
    url = f"{API}/assets/{asset.id}/content/bg"
    assert upload(client, "a.png", old_bytes, path=url).status_code == 201
    old_file = file_of(media_root, Conversion.objects.get(asset=asset, name="bg"))
    assert old_file.read_bytes() == old_bytes

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, "b.png", new_bytes, path=url)
        assert response.status_code == 201, response.content
        assert old_file.exists()  # not deleted before the transaction commits

    assert not old_file.exists()
    rows = Conversion.objects.filter(asset=asset)
    assert rows.count() == 1
    row = rows.get()
    assert row.name == "bg"
    assert (row.size, row.width, row.height, row.checksum) == (len(new_bytes), 33, 22, sha256(new_bytes))
    assert set(stored_files(media_root)) == {file_of(media_root, asset), file_of(media_root, row)}
    entry = response.json()["conversions"]["bg"]
    assert (entry["size"], entry["width"], entry["height"]) == (len(new_bytes), 33, 22)
    download = client.get(url)
    assert download["ETag"] == f'"{sha256(new_bytes)}"'
    assert content(download) == new_bytes


@pytest.mark.parametrize("name", ["original", "x" * 31, "has.dot", "bad name!"])
def test_post_conversion_with_a_bad_name_is_400_naming_name(client, owner, media_root, name):
    asset = make_asset(owner)
    files_before = stored_files(media_root)
    response = upload(client, "a.png", small_png(), path=f"{API}/assets/{asset.id}/content/{name}")
    assert_error(response, 400, field="name")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == files_before


def test_delete_conversion_removes_row_and_file(
    client, owner, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(owner)
    kept = add_conversion(asset, "keep", small_png("rocket", (20, 20)))
    gone = add_conversion(asset, "bg", small_png())
    gone_file = file_of(media_root, gone)
    assert gone_file.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{API}/assets/{asset.id}/content/bg")
    assert response.status_code == 204
    assert response.content == b""
    assert not Conversion.objects.filter(pk=gone.pk).exists()
    assert not gone_file.exists()
    assert set(stored_files(media_root)) == {file_of(media_root, asset), file_of(media_root, kept)}
    assert_error(client.get(f"{API}/assets/{asset.id}/content/bg"), 404, code="conversion_not_found")
    assert set(client.get(f"{API}/assets/{asset.id}").json()["conversions"]) == {"keep"}


def test_delete_original_is_400_naming_name_and_changes_nothing(
    client, owner, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset(owner)
    files_before = stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{API}/assets/{asset.id}/content/original")
    assert_error(response, 400, field="name")
    assert Asset.objects.filter(pk=asset.pk).exists()
    assert stored_files(media_root) == files_before


def test_delete_unknown_conversion_is_404(client, owner, media_root):
    asset = make_asset(owner)
    add_conversion(asset, "bg", small_png())
    files_before = stored_files(media_root)
    response = client.delete(f"{API}/assets/{asset.id}/content/nope")
    assert_error(response, 404, code="conversion_not_found")
    assert Conversion.objects.filter(asset=asset).count() == 1
    assert stored_files(media_root) == files_before
