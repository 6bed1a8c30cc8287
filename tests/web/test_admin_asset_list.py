"""The Django admin's asset list: a thumbnail of every asset served by the admin's own
file view (exact bytes, inline or as a download, staff with view permission only), the
list filters, search by id and name, and no adding of assets."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from django.contrib.auth.models import Permission, User
from django.test import Client

from assets.models import Account
from tests.conftest import make_asset
from tests.images import format_samples
from tests.web.conftest import ASSETS, listed_ids

pytestmark = pytest.mark.django_db


# --- the asset list -------------------------------------------------------------------------


def test_asset_list_shows_each_assets_thumbnail_from_the_admin_file_view(web, library):
    response = web.get(ASSETS)
    html = response.content.decode()
    assert sorted(listed_ids(response)) == sorted({a.id for a, _ in library.values()})
    for key in ("parent", "child", "grandchild", "orphan", "other"):
        asset = library[key][0]
        # a 64-px rendition, drawn at its contained size (never upscaled)
        assert f'<img src="{ASSETS}{asset.id}/file/original/?w=64&amp;h=64"' in html
    parent = library["parent"][0]  # 96 x 96: a 128-px rendition is sharper on dense screens
    base = f"{ASSETS}{parent.id}/file/original/"
    assert f'srcset="{base}?w=64&amp;h=64 1x, {base}?w=128&amp;h=128 2x" width="64" height="64"' in html
    coffee = library["grandchild"][0]  # 60 x 40: already smaller than 64, no 2x candidate
    tag = re.search(rf'<img src="{ASSETS}{coffee.id}/file/original/[^>]*>', html).group(0)
    assert "srcset" not in tag and 'width="60" height="40"' in tag


def test_file_view_with_rendition_parameters_serves_a_rendition(web, library):
    asset = library["parent"][0]
    url = f"{ASSETS}{asset.id}/file/original/?w=64&h=64"
    response = web.get(url, HTTP_ACCEPT="image/avif,image/webp,image/*,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/avif" and "Accept" in response["Vary"]
    assert "sandbox" in response["Content-Security-Policy"]
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.size == (64, 64)
    again = web.get(url, HTTP_ACCEPT="image/avif,image/webp,image/*,*/*;q=0.8")
    assert again["X-Rendition"] == "hit" and again["ETag"] == response["ETag"]
    bad = web.get(f"{ASSETS}{asset.id}/file/original/?w=0")
    assert bad.status_code == 400 and "w: must be a whole number" in bad.content.decode()
    assert web.get(f"{ASSETS}{asset.id}/file/nope/?w=64").status_code == 404


@pytest.mark.parametrize("kind", ["heic", "avif", "tiff"])
def test_heic_avif_and_tiff_originals_get_a_browser_viewable_thumbnail(web, library, kind):
    filename, body, content_type = format_samples()[kind]
    asset = make_asset(Account.objects.get(name="acme"), filename, body)
    assert asset.content_type == content_type
    html = web.get(ASSETS).content.decode()
    src = re.search(rf'<img src="({ASSETS}{asset.id}/file/original/[^"]*)"', html).group(1)
    response = web.get(src.replace("&amp;", "&"), HTTP_ACCEPT="image/webp,*/*;q=0.8")  # a browser without AVIF
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert max(image.size) == 64


@pytest.mark.parametrize(
    ("key", "name", "content_type"),
    [
        ("parent", "original", "image/jpeg"),
        ("child", "original", "image/png"),
        ("thumb", "thumb", "image/png"),
    ],
)
def test_file_view_returns_the_exact_stored_bytes_with_their_content_type(web, library, key, name, content_type):
    asset, body = library[key]
    response = web.get(f"{ASSETS}{asset.id}/file/{name}/")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Length"] == str(len(body))
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == body


def test_file_view_with_download_is_an_attachment_with_the_same_bytes(web, library):
    asset, body = library["thumb"]
    response = web.get(f"{ASSETS}{asset.id}/file/thumb/?download=1")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="astronaut_thumb.png"'
    assert b"".join(response.streaming_content) == body


def test_file_view_is_404_for_a_missing_asset_or_conversion(web, library):
    asset = library["parent"][0]
    assert web.get(f"{ASSETS}{'f' * 32}/file/original/").status_code == 404
    assert web.get(f"{ASSETS}{asset.id}/file/nope/").status_code == 404


def test_file_view_needs_admin_login_and_view_permission_but_no_account(library):
    asset, body = library["parent"]
    url = f"{ASSETS}{asset.id}/file/original/"
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]

    staff = User.objects.create_user("staff", password="pw-123456", is_staff=True)
    client = Client()
    client.login(username="staff", password="pw-123456")
    assert client.get(url).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_asset"))
    allowed = client.get(url)
    assert not hasattr(staff, "membership")
    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content) == body

    # A logged-in account user who is not staff gets the admin login page, not the file.
    member = Client()
    member.login(username="alice", password="pw-123456")
    refused = member.get(url)
    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("account__name=acme", {"parent", "child", "grandchild", "orphan"}),
        ("account__name=globex", {"other"}),
        ("content_type=image/png", {"child"}),
        ("content_type=image/jpeg", {"parent", "grandchild", "orphan", "other"}),
        ("has_source=yes", {"child", "grandchild", "orphan"}),
        ("has_source=no", {"parent", "other"}),
        ("has_conversions=yes", {"parent"}),
        ("has_conversions=no", {"child", "grandchild", "orphan", "other"}),
        ("has_source=yes&content_type=image/jpeg", {"grandchild", "orphan"}),
    ],
)
def test_each_list_filter_narrows_the_assets(web, library, query, expected):
    if query.startswith("account__name="):  # the admin's account filter takes the account id
        account = Account.objects.get(name=query.split("=")[1])
        query = f"account__id__exact={account.id}"
    response = web.get(f"{ASSETS}?{query}")
    assert set(listed_ids(response)) == {library[k][0].id for k in expected}


def test_the_filter_sidebar_offers_every_filter(web, library):
    html = web.get(ASSETS).content.decode()
    for title in ("By account", "By content type", "By has source", "By has conversions"):
        assert title in html


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("{parent}", {"parent"}),  # the whole id
        ("{parent:.10}", {"parent"}),  # the start of an id
        ("rocket", {"orphan", "other"}),  # part of a name, any case
        ("CAT.PNG", {"child"}),
        ("no-such-thing", set()),
    ],
)
def test_search_finds_assets_by_id_and_by_name(web, library, term, expected):
    term = term.format(parent=library["parent"][0].id)
    response = web.get(ASSETS, {"q": term})
    assert set(listed_ids(response)) == {library[k][0].id for k in expected}


def test_assets_cannot_be_added_from_the_admin(web, library):
    assert web.get(f"{ASSETS}add/").status_code == 403
