"""The asset document of SPEC §3: POST assets answers 201 with exactly the spec's
document (and a Location that serves it), conversion entries have exactly their keys, and
GET assets/{id} shows an asset of the caller's account only."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from assets.models import Asset, Role
from tests.images import jpeg_bytes
from tests.assets.conftest import API, ASSET_KEYS, CONVERSION_KEYS, HEX32, content, file_of, sha256, upload
from tests.conftest import add_conversion, assert_error, make_asset, small_jpeg, small_png, stored_files

pytestmark = pytest.mark.django_db


# --- the asset document ------------------------------------------------------------------


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


def test_conversion_entries_have_exactly_the_spec_keys(client, owner):
    asset = make_asset(owner, "astro.jpg")
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


# --- detail ------------------------------------------------------------------------------


def test_get_detail_is_200_with_the_asset(client, owner):
    asset = make_asset(owner, "x.jpg")
    response = client.get(f"{API}/assets/{asset.id}")
    assert response.status_code == 200
    doc = response.json()
    assert doc["id"] == asset.id
    assert doc["checksum"] == sha256(small_jpeg())
    assert set(doc) == ASSET_KEYS


def test_unknown_asset_is_404_asset_not_found(client, owner):
    make_asset(owner)
    missing = uuid.uuid4().hex
    body = assert_error(client.get(f"{API}/assets/{missing}"), 404, code="asset_not_found")
    assert missing in body["message"]


def test_another_accounts_asset_is_404_like_a_missing_one(client, client_for):
    foreign = make_asset(client_for(Role.ADMIN, account="globex").user)
    assert_error(client.get(f"{API}/assets/{foreign.id}"), 404, code="asset_not_found")
