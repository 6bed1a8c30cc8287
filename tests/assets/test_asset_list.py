"""GET assets (SPEC §3): pagination (newest first, page and page_size checked), the
caller's account only, and each filter (name, content_type, source_asset_id,
has_conversion) with its 400 for a malformed value."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import Role
from tests.assets.conftest import API, ASSET_KEYS, ids
from tests.conftest import add_conversion, assert_error, make_asset, small_png

pytestmark = pytest.mark.django_db


# --- the list ----------------------------------------------------------------------------


def test_list_is_paginated_newest_first_and_only_the_callers_account(client, owner, client_for):
    now = timezone.now()
    first = make_asset(owner, "first.jpg", upload_time=now - timedelta(minutes=3))
    second = make_asset(owner, "second.jpg", upload_time=now - timedelta(minutes=1))
    third = make_asset(owner, "third.jpg", upload_time=now - timedelta(minutes=2))
    other = client_for(Role.ADMIN, account="globex")
    make_asset(other.user, "foreign.jpg")

    response = client.get(f"{API}/assets")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    assert ids(response) == [second.id, third.id, first.id]
    assert all(set(doc) == ASSET_KEYS for doc in body["results"])


def test_list_pages_with_page_size(client, owner):
    now = timezone.now()
    assets = [make_asset(owner, f"a{i}.jpg", upload_time=now - timedelta(minutes=i)) for i in range(5)]
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
def test_bad_page_size_is_400_naming_page_size(client, owner, page_size):
    make_asset(owner)
    response = client.get(f"{API}/assets", {"page_size": page_size})
    assert_error(response, 400, field="page_size")


@pytest.mark.parametrize("page", ["0", "x", "-1", "\u00b2", "1.0", "9999999999"])
def test_malformed_page_is_400_naming_page(client, owner, page):
    make_asset(owner)
    response = client.get(f"{API}/assets", {"page": page})
    assert_error(response, 400, field="page")


@pytest.mark.parametrize("page", ["2", "99"])
def test_page_past_the_end_is_404_naming_page(client, owner, page):
    make_asset(owner)
    make_asset(owner)
    response = client.get(f"{API}/assets", {"page": page})
    assert_error(response, 404, field="page")


def test_empty_list_first_page_is_200(client):
    response = client.get(f"{API}/assets")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_filter_name_is_contains_and_case_insensitive(client, owner):
    red = make_asset(owner, "Red Car.jpg")
    blue = make_asset(owner, "blue CAR.png", body=small_png())
    make_asset(owner, "tree.jpg")

    response = client.get(f"{API}/assets", {"name": "car"})
    assert response.status_code == 200
    assert sorted(ids(response)) == sorted([red.id, blue.id])
    assert response.json()["count"] == 2
    assert ids(client.get(f"{API}/assets", {"name": "D CA"})) == [red.id]
    assert ids(client.get(f"{API}/assets", {"name": "nothing"})) == []


def test_filter_content_type_is_exact(client, owner):
    make_asset(owner, "a.jpg")
    png = make_asset(owner, "b.png", body=small_png())

    assert ids(client.get(f"{API}/assets", {"content_type": "image/png"})) == [png.id]
    assert ids(client.get(f"{API}/assets", {"content_type": "image/pn"})) == []
    assert ids(client.get(f"{API}/assets", {"content_type": "png"})) == []


def test_filter_source_asset_id_is_exact(client, owner):
    root = make_asset(owner, "root.jpg")
    other_root = make_asset(owner, "other.jpg")
    child = make_asset(owner, "child.jpg", source=root)
    make_asset(owner, "grandchild.jpg", source=child)
    make_asset(owner, "cousin.jpg", source=other_root)

    assert ids(client.get(f"{API}/assets", {"source_asset_id": root.id})) == [child.id]
    assert ids(client.get(f"{API}/assets", {"source_asset_id": uuid.uuid4().hex})) == []


@pytest.mark.parametrize("value", ["nothex", "ABCDEF" + "0" * 26, "0" * 31, "0" * 33])
def test_malformed_source_asset_id_filter_is_400_naming_it(client, owner, value):
    make_asset(owner)
    assert_error(client.get(f"{API}/assets", {"source_asset_id": value}), 400, field="source_asset_id")


def test_filter_has_conversion(client, owner):
    only_bg = make_asset(owner, "only_bg.jpg")
    both = make_asset(owner, "both.jpg")
    none = make_asset(owner, "none.jpg")
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
def test_invalid_has_conversion_is_400_naming_it(client, owner, value):
    make_asset(owner)
    assert_error(client.get(f"{API}/assets", {"has_conversion": value}), 400, field="has_conversion")
