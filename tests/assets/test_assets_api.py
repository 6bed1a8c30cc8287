"""SPEC §3 endpoints (except data update and schemas) and the error shape of §2 for
errors raised outside DRF: the asset document, the list with its pagination and filters,
detail, downloads with conditional and Range requests, conversions, deletion, lineage,
request ids and the 500 handler."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from assets import services
from tests.images import image_probe_bytes, jpeg_bytes, png_bytes
from assets.models import Asset, Conversion, Role
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

API = "/api/v1"
HEX32 = re.compile(r"[0-9a-f]{32}")
ASSET_KEYS = {
    "id", "name", "status", "content_type", "size", "checksum", "width", "height",
    "upload_time", "update_time", "data_schema_id", "data", "source_asset_id",
    "conversions", "url",
}
CONVERSION_KEYS = {"content_type", "size", "width", "height", "url", "update_time"}
ERROR_KEYS = {"status", "code", "message", "errors", "request_id"}


# --- image bytes (small, so every test stays fast) ------------------------------------------


@lru_cache(maxsize=None)
def small_jpeg(name: str = "astronaut", size: tuple[int, int] = (96, 64)) -> bytes:
    return jpeg_bytes(name, size)


@lru_cache(maxsize=None)
def small_png(name: str = "coffee", size: tuple[int, int] = (60, 40)) -> bytes:
    return png_bytes(name, size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- helpers --------------------------------------------------------------------------------


def upload(client: APIClient, name: str, body: bytes, path: str = f"{API}/assets"):
    return client.post(path, {"file": SimpleUploadedFile(name, body)}, format="multipart")


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The one error shape of SPEC §2, with the request id of the response header."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "error"
    assert {"status", "code", "message", "request_id"} <= set(body) <= ERROR_KEYS
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response["X-Request-Id"]
    if code is not None:
        assert body["code"] == code
    if field is not None:
        assert field.lower() in body["message"].lower()
        assert field in body["errors"]
    return body


def file_of(media_root: Path, stored) -> Path:
    return media_root / stored.file.name


@pytest.fixture
def client(admin_client_api) -> APIClient:
    return admin_client_api


@pytest.fixture
def owner(client):
    return client.user


@pytest.fixture
def make_asset(owner):
    """make_asset(name, body=None, source=None, upload_time=None) -> Asset (via the service)."""

    def make(name: str = "photo.jpg", body: bytes | None = None, source: Asset | str | None = None,
             upload_time: datetime | None = None, user=None) -> Asset:
        user = user or owner
        source_id = source.id if isinstance(source, Asset) else source
        asset = services.asset_create_from_bytes(
            account=user.membership.account, user=user, data_bytes=body or small_jpeg(),
            name=name, source_asset_id=source_id,
        )
        if upload_time is not None:
            Asset.objects.filter(pk=asset.pk).update(upload_time=upload_time)
            asset.refresh_from_db()
        return asset

    return make


def add_conversion(asset: Asset, name: str, body: bytes) -> Conversion:
    return services.conversion_save(
        asset=asset, name=name, content=ContentFile(body),
        info=image_probe_bytes(body, max_pixels=django_settings.ASSETS_MAX_PIXELS),
    )


def ids(response) -> list[str]:
    return [doc["id"] for doc in response.json()["results"]]


# --- 1. the asset document ------------------------------------------------------------------


def test_post_asset_is_201_with_location_and_exactly_the_spec_document(client, media_root):
    body = jpeg_bytes("chelsea")  # 451 x 300
    response = upload(client, "chelsea.jpg", body)

    assert response.status_code == 201, response.content
    doc = response.json()
    assert set(doc) == ASSET_KEYS
    assert HEX32.fullmatch(doc["id"])
    assert response["Location"] == f"http://testserver{API}/assets/{doc['id']}"
    assert doc["url"] == f"http://testserver{API}/assets/{doc['id']}/content/original"
    assert doc["name"] == "chelsea.jpg"
    assert doc["status"] == "OK"
    assert doc["content_type"] == "image/jpeg"
    assert doc["size"] == len(body)
    assert doc["checksum"] == sha256(body)
    assert (doc["width"], doc["height"]) == (451, 300)
    assert doc["data_schema_id"] == 0
    assert doc["data"] == {}
    assert doc["source_asset_id"] is None
    assert doc["conversions"] == {}
    for key in ("upload_time", "update_time"):
        assert datetime.fromisoformat(doc[key].replace("Z", "+00:00")).tzinfo is not None

    asset = Asset.objects.get(id=doc["id"])
    assert stored_files(media_root) == [file_of(media_root, asset)]
    assert file_of(media_root, asset).read_bytes() == body
    # the Location answers with the same document
    again = client.get(response["Location"])
    assert again.status_code == 200
    assert again.json() == doc
    # the url serves the original
    assert content(client.get(doc["url"])) == body


def test_conversion_entries_have_exactly_the_spec_keys(client, make_asset):
    asset = make_asset("astro.jpg")
    conv = small_png("rocket", (50, 30))
    add_conversion(asset, "bg_removed", conv)

    doc = client.get(f"{API}/assets/{asset.id}").json()
    assert set(doc) == ASSET_KEYS
    assert set(doc["conversions"]) == {"bg_removed"}
    entry = doc["conversions"]["bg_removed"]
    assert set(entry) == CONVERSION_KEYS
    assert entry["content_type"] == "image/png"
    assert entry["size"] == len(conv)
    assert (entry["width"], entry["height"]) == (50, 30)
    assert entry["url"] == f"http://testserver{API}/assets/{asset.id}/content/bg_removed"
    assert datetime.fromisoformat(entry["update_time"].replace("Z", "+00:00")).tzinfo is not None
    assert content(client.get(entry["url"])) == conv


# --- 2. the list ----------------------------------------------------------------------------


def test_list_is_paginated_newest_first_and_only_the_callers_account(client, make_asset, client_for):
    now = timezone.now()
    first = make_asset("first.jpg", upload_time=now - timedelta(minutes=3))
    second = make_asset("second.jpg", upload_time=now - timedelta(minutes=1))
    third = make_asset("third.jpg", upload_time=now - timedelta(minutes=2))
    other = client_for(Role.ADMIN, account="globex")
    make_asset("foreign.jpg", user=other.user)

    response = client.get(f"{API}/assets")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    assert ids(response) == [second.id, third.id, first.id]
    assert all(set(doc) == ASSET_KEYS for doc in body["results"])


def test_list_pages_with_page_size(client, make_asset):
    now = timezone.now()
    assets = [make_asset(f"a{i}.jpg", upload_time=now - timedelta(minutes=i)) for i in range(5)]
    newest_first = [a.id for a in assets]

    page1 = client.get(f"{API}/assets", {"page_size": 2})
    assert page1.status_code == 200
    assert page1.json()["count"] == 5
    assert ids(page1) == newest_first[:2]
    assert page1.json()["previous"] is None
    assert "page=2" in page1.json()["next"] and "page_size=2" in page1.json()["next"]

    page2 = client.get(page1.json()["next"])
    assert ids(page2) == newest_first[2:4]
    assert page2.json()["previous"] is not None

    page3 = client.get(page2.json()["next"])
    assert ids(page3) == newest_first[4:]
    assert page3.json()["next"] is None

    largest = client.get(f"{API}/assets", {"page_size": 200})
    assert largest.status_code == 200
    assert ids(largest) == newest_first


@pytest.mark.parametrize("page_size", ["0", "500", "201", "x", "-1", "\u00b2", "\u0661"])
def test_bad_page_size_is_400_naming_page_size(client, make_asset, page_size):
    make_asset()
    response = client.get(f"{API}/assets", {"page_size": page_size})
    assert_error(response, 400, field="page_size")


@pytest.mark.parametrize("page", ["0", "x", "-1", "\u00b2", "1.0", "9999999999"])
def test_malformed_page_is_400_naming_page(client, make_asset, page):
    make_asset()
    response = client.get(f"{API}/assets", {"page": page})
    assert_error(response, 400, field="page")


@pytest.mark.parametrize("page", ["2", "99"])
def test_page_past_the_end_is_404_naming_page(client, make_asset, page):
    make_asset()
    make_asset()
    response = client.get(f"{API}/assets", {"page": page})
    assert_error(response, 404, field="page")


def test_empty_list_first_page_is_200(client):
    response = client.get(f"{API}/assets")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_filter_name_is_contains_and_case_insensitive(client, make_asset):
    red = make_asset("Red Car.jpg")
    blue = make_asset("blue CAR.png", body=small_png())
    make_asset("tree.jpg")

    response = client.get(f"{API}/assets", {"name": "car"})
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted([red.id, blue.id])
    assert response.json()["count"] == 2
    assert ids(client.get(f"{API}/assets", {"name": "D CA"})) == [red.id]
    assert ids(client.get(f"{API}/assets", {"name": "nothing"})) == []


def test_filter_content_type_is_exact(client, make_asset):
    make_asset("a.jpg")
    png = make_asset("b.png", body=small_png())

    assert ids(client.get(f"{API}/assets", {"content_type": "image/png"})) == [png.id]
    assert ids(client.get(f"{API}/assets", {"content_type": "image/pn"})) == []
    assert ids(client.get(f"{API}/assets", {"content_type": "png"})) == []


def test_filter_source_asset_id_is_exact(client, make_asset):
    root = make_asset("root.jpg")
    other_root = make_asset("other.jpg")
    child = make_asset("child.jpg", source=root)
    make_asset("grandchild.jpg", source=child)
    make_asset("cousin.jpg", source=other_root)

    assert ids(client.get(f"{API}/assets", {"source_asset_id": root.id})) == [child.id]
    assert ids(client.get(f"{API}/assets", {"source_asset_id": uuid.uuid4().hex})) == []


@pytest.mark.parametrize("value", ["nothex", "ABCDEF" + "0" * 26, "0" * 31, "0" * 33])
def test_malformed_source_asset_id_filter_is_400_naming_it(client, make_asset, value):
    make_asset()
    assert_error(client.get(f"{API}/assets", {"source_asset_id": value}), 400, field="source_asset_id")


def test_filter_has_conversion(client, make_asset):
    only_bg = make_asset("only_bg.jpg")
    both = make_asset("both.jpg")
    none = make_asset("none.jpg")
    add_conversion(only_bg, "bg", small_png())
    add_conversion(both, "bg", small_png())
    add_conversion(both, "thumb", small_png("rocket", (20, 20)))

    def listed(value: str) -> set[str]:
        response = client.get(f"{API}/assets", {"has_conversion": value})
        assert response.status_code == 200, response.content
        found = ids(response)
        assert len(found) == len(set(found)) == response.json()["count"]  # no duplicates
        return set(found)

    assert listed("true") == {only_bg.id, both.id}
    assert listed("false") == {none.id}
    assert listed("bg") == {only_bg.id, both.id}
    assert listed("thumb") == {both.id}
    assert listed("missing") == set()


@pytest.mark.parametrize("value", ["bad name!", "x" * 31, "original"])
def test_invalid_has_conversion_is_400_naming_it(client, make_asset, value):
    make_asset()
    assert_error(client.get(f"{API}/assets", {"has_conversion": value}), 400, field="has_conversion")


# --- 3. detail ------------------------------------------------------------------------------


def test_get_detail_is_200_with_the_asset(client, make_asset):
    asset = make_asset("x.jpg")
    response = client.get(f"{API}/assets/{asset.id}")
    assert response.status_code == 200
    doc = response.json()
    assert doc["id"] == asset.id
    assert doc["checksum"] == sha256(small_jpeg())
    assert set(doc) == ASSET_KEYS


def test_unknown_asset_is_404_asset_not_found(client, make_asset):
    make_asset()
    missing = uuid.uuid4().hex
    body = assert_error(client.get(f"{API}/assets/{missing}"), 404, code="asset_not_found")
    assert missing in body["message"]


def test_another_accounts_asset_is_404_like_a_missing_one(client, make_asset, client_for):
    foreign = make_asset(user=client_for(Role.ADMIN, account="globex").user)
    assert_error(client.get(f"{API}/assets/{foreign.id}"), 404, code="asset_not_found")


# --- 4. downloads ---------------------------------------------------------------------------


@pytest.fixture(params=["original", "conversion"])
def stored(request, make_asset):
    """(url, bytes, content type) of an original or of a conversion."""
    body = jpeg_bytes("chelsea", (200, 150))
    asset = make_asset("cat.jpg", body=body)
    if request.param == "original":
        return f"{API}/assets/{asset.id}/content/original", body, "image/jpeg"
    conv = png_bytes("rocket", (80, 50))
    add_conversion(asset, "bg_removed", conv)
    return f"{API}/assets/{asset.id}/content/bg_removed", conv, "image/png"


def test_download_has_headers_and_the_stored_bytes(client, stored):
    url, body, content_type = stored
    assert len(body) > 200
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Length"] == str(len(body))
    assert response["ETag"] == f'"{sha256(body)}"'
    assert response["Accept-Ranges"] == "bytes"
    assert not response.has_header("Content-Range")
    assert content(response) == body


def test_if_none_match_with_the_etag_is_304_with_empty_body(client, stored):
    url, body, _ = stored
    etag = f'"{sha256(body)}"'
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    # a different tag still gets the file
    other = client.get(url, HTTP_IF_NONE_MATCH='"' + "0" * 64 + '"')
    assert other.status_code == 200
    assert content(other) == body


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", lambda n: 0, lambda n: 99),
        ("bytes=100-", lambda n: 100, lambda n: n - 1),
        ("bytes=-50", lambda n: n - 50, lambda n: n - 1),
        ("bytes=10-10", lambda n: 10, lambda n: 10),
    ],
    ids=["first-100", "open-ended", "suffix", "one-byte"],
)
def test_range_is_206_with_content_range_and_exact_bytes(client, stored, header, start, end):
    url, body, content_type = stored
    size = len(body)
    first, last = start(size), end(size)
    response = client.get(url, HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Content-Type"] == content_type
    assert content(response) == body[first : last + 1]


def test_range_past_the_end_is_clipped_to_the_file(client, stored):
    url, body, _ = stored
    size = len(body)
    response = client.get(url, HTTP_RANGE=f"bytes=100-{size + 1000}")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    assert content(response) == body[100:]


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size_plus}-{size_plus2}", "bytes=-0"])
def test_unsatisfiable_range_is_416_with_content_range_and_the_error_shape(client, stored, header):
    url, body, _ = stored
    size = len(body)
    range_header = header.format(size=size, size_plus=size + 10, size_plus2=size + 20)
    response = client.get(url, HTTP_RANGE=range_header)
    assert_error(response, 416, code="range_not_satisfiable", field="Range")
    assert response["Content-Range"] == f"bytes */{size}"


def test_if_range_with_another_etag_gives_the_whole_file(client, stored):
    url, body, _ = stored
    response = client.get(url, HTTP_RANGE="bytes=0-99", HTTP_IF_RANGE='"' + "f" * 64 + '"')
    assert response.status_code == 200
    assert not response.has_header("Content-Range")
    assert response["Content-Length"] == str(len(body))
    assert content(response) == body


def test_if_range_with_the_current_etag_gives_the_range(client, stored):
    url, body, _ = stored
    response = client.get(url, HTTP_RANGE="bytes=0-99", HTTP_IF_RANGE=f'"{sha256(body)}"')
    assert response.status_code == 206
    assert content(response) == body[:100]


def test_download_of_unknown_conversion_is_404_conversion_not_found(client, make_asset):
    asset = make_asset()
    add_conversion(asset, "bg", small_png())
    response = client.get(f"{API}/assets/{asset.id}/content/nope")
    body = assert_error(response, 404, code="conversion_not_found")
    assert "nope" in body["message"]


def test_download_of_unknown_asset_is_404_asset_not_found(client):
    response = client.get(f"{API}/assets/{uuid.uuid4().hex}/content/original")
    assert_error(response, 404, code="asset_not_found")


# --- 5. conversions -------------------------------------------------------------------------


def test_post_conversion_is_201_and_listed_on_the_asset(client, make_asset, media_root):
    asset = make_asset("astro.jpg")
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
    client, make_asset, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset("astro.jpg")
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
def test_post_conversion_with_a_bad_name_is_400_naming_name(client, make_asset, media_root, name):
    asset = make_asset()
    files_before = stored_files(media_root)
    response = upload(client, "a.png", small_png(), path=f"{API}/assets/{asset.id}/content/{name}")
    assert_error(response, 400, field="name")
    assert Conversion.objects.count() == 0
    assert stored_files(media_root) == files_before


def test_delete_conversion_removes_row_and_file(
    client, make_asset, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset()
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
    client, make_asset, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset()
    files_before = stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{API}/assets/{asset.id}/content/original")
    assert_error(response, 400, field="name")
    assert Asset.objects.filter(pk=asset.pk).exists()
    assert stored_files(media_root) == files_before


def test_delete_unknown_conversion_is_404(client, make_asset, media_root):
    asset = make_asset()
    add_conversion(asset, "bg", small_png())
    files_before = stored_files(media_root)
    response = client.delete(f"{API}/assets/{asset.id}/content/nope")
    assert_error(response, 404, code="conversion_not_found")
    assert Conversion.objects.filter(asset=asset).count() == 1
    assert stored_files(media_root) == files_before


# --- 6. deleting an asset -------------------------------------------------------------------


def test_delete_asset_removes_rows_and_files_but_not_derived_assets(
    client, make_asset, media_root, django_capture_on_commit_callbacks
):
    asset = make_asset("source.jpg")
    add_conversion(asset, "bg", small_png())
    add_conversion(asset, "thumb", small_png("rocket", (20, 20)))
    derived = make_asset("derived.png", body=small_png("chelsea", (30, 30)), source=asset)
    unrelated = make_asset("unrelated.jpg", body=small_jpeg("coffee"))
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


def test_delete_unknown_asset_is_404(client, make_asset, media_root):
    make_asset()
    files_before = stored_files(media_root)
    assert_error(client.delete(f"{API}/assets/{uuid.uuid4().hex}"), 404, code="asset_not_found")
    assert Asset.objects.count() == 1
    assert stored_files(media_root) == files_before


# --- 7. lineage -----------------------------------------------------------------------------


@pytest.fixture
def family(make_asset):
    """A <- B <- C and A <- D, made in the order A, B, C, D."""
    now = timezone.now()
    a = make_asset("a.jpg", upload_time=now - timedelta(minutes=4))
    b = make_asset("b.jpg", source=a, upload_time=now - timedelta(minutes=3))
    c = make_asset("c.jpg", source=b, upload_time=now - timedelta(minutes=2))
    d = make_asset("d.jpg", source=a, upload_time=now - timedelta(minutes=1))
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


# --- 8. errors outside DRF, request ids -----------------------------------------------------


@pytest.mark.parametrize("path", [f"{API}/nothing-here", f"{API}/assets/NOT-AN-ID", f"{API}/assets/{'a' * 32}/nope"])
def test_unknown_path_is_404_json_in_the_one_shape(client, path):
    response = client.get(path)
    body = assert_error(response, 404, code="not_found")
    assert HEX32.fullmatch(response["X-Request-Id"])
    assert "errors" not in body


def test_unknown_path_is_404_json_even_without_credentials():
    response = APIClient().get(f"{API}/nothing-here")
    assert_error(response, 404, code="not_found")


@pytest.mark.parametrize("role", [Role.USER, Role.MANAGER, Role.ADMIN])
def test_method_not_allowed_is_405_in_the_one_shape(client_for, make_asset, role):
    caller = client_for(role)
    asset = make_asset()
    response = caller.put(f"{API}/assets/{asset.id}", {"name": "renamed.jpg"}, format="json")
    assert_error(response, 405, code="method_not_allowed")
    assert "PUT" in response.json()["message"]
    asset.refresh_from_db()
    assert asset.name == "photo.jpg"


def test_method_not_allowed_without_credentials_is_still_401(make_asset):
    asset = make_asset()
    response = APIClient().put(f"{API}/assets/{asset.id}", {"name": "x"}, format="json")
    assert_error(response, 401, code="not_authenticated")


def test_json_body_to_post_assets_is_415_and_stores_nothing(client, media_root):
    response = client.post(f"{API}/assets", {"file": "abc", "data": {}}, format="json")
    assert_error(response, 415, code="unsupported_media_type")
    assert "application/json" in response.json()["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_every_response_carries_a_request_id(client, make_asset):
    asset = make_asset()
    responses = [
        client.get(f"{API}/assets"),
        client.get(f"{API}/assets/{asset.id}"),
        client.get(f"{API}/assets/{asset.id}/content/original"),
        client.get(f"{API}/assets/{uuid.uuid4().hex}"),
        client.get(f"{API}/nothing-here"),
        APIClient().get(f"{API}/assets"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 404, 401]
    request_ids = [r["X-Request-Id"] for r in responses]
    assert all(HEX32.fullmatch(rid) for rid in request_ids)
    assert len(set(request_ids)) == len(request_ids)
    assert responses[-1].json()["request_id"] == request_ids[-1]


@pytest.mark.parametrize("path", [f"{API}/assets", f"{API}/nothing-here"])
def test_a_well_formed_incoming_request_id_is_echoed(client, path):
    response = client.get(path, HTTP_X_REQUEST_ID="trace-abc.123_XYZ")
    assert response["X-Request-Id"] == "trace-abc.123_XYZ"
    if response.status_code >= 400:
        assert response.json()["request_id"] == "trace-abc.123_XYZ"


@pytest.mark.parametrize("incoming", ["short", "has space inside", "x" * 65, "semi;colon-1234"])
def test_a_malformed_incoming_request_id_is_replaced(client, incoming):
    response = client.get(f"{API}/nothing-here", HTTP_X_REQUEST_ID=incoming)
    assert HEX32.fullmatch(response["X-Request-Id"])
    assert response.json()["request_id"] == response["X-Request-Id"]


# --- 9. unhandled exceptions ----------------------------------------------------------------


def test_unhandled_exception_is_500_in_the_one_shape_and_logged_with_the_request_id(
    make_user, make_asset, monkeypatch, caplog
):
    secret = "secret-internal-detail-4711"

    def raising_function(**kwargs):
        raise RuntimeError(secret)

    monkeypatch.setattr("assets.selectors.lineage_of", raising_function)
    user, key = make_user(Role.USER)
    caller = APIClient(raise_request_exception=False)
    caller.credentials(HTTP_X_API_KEY=key)
    asset = make_asset(user=user)

    with caplog.at_level(logging.ERROR):
        response = caller.get(f"{API}/assets/{asset.id}/lineage")

    body = assert_error(response, 500, code="server_error")
    request_id = response["X-Request-Id"]
    assert HEX32.fullmatch(request_id)
    assert request_id in body["message"]
    text = response.content.decode()
    for leak in ("Traceback", secret, "RuntimeError", 'File "', "raising_function"):
        assert leak not in text

    logged = [
        r for r in caplog.records
        if r.exc_info and isinstance(r.exc_info[1], RuntimeError) and str(r.exc_info[1]) == secret
    ]
    assert logged, "the traceback was not logged"
    record = logged[0]
    assert record.levelno >= logging.ERROR
    assert getattr(record, "request_id", None) == request_id
    line = logging.Formatter(django_settings.LOGGING["formatters"]["plain"]["format"]).format(record)
    assert f"[{request_id}]" in line
    assert "Traceback" in line and secret in line and "raising_function" in line


def test_unhandled_exception_keeps_an_incoming_request_id(make_user, make_asset, monkeypatch, caplog):
    def raising_function(**kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("assets.selectors.lineage_of", raising_function)
    user, key = make_user(Role.USER)
    caller = APIClient(raise_request_exception=False)
    caller.credentials(HTTP_X_API_KEY=key)
    asset = make_asset(user=user)

    response = caller.get(f"{API}/assets/{asset.id}/lineage", HTTP_X_REQUEST_ID="client-trace-0001")
    body = assert_error(response, 500, code="server_error")
    assert response["X-Request-Id"] == body["request_id"] == "client-trace-0001"
    assert any(
        getattr(r, "request_id", None) == "client-trace-0001" and r.exc_info for r in caplog.records
    )
