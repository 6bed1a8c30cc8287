"""Downloads of an original or a conversion (GET assets/{id}/content/{name}): the stored
bytes with their headers, conditional requests (ETag, If-None-Match, If-Range) and Range
requests (206, clipping, 416 in the error shape), and the 404s."""

from __future__ import annotations

import uuid

import pytest

from tests.images import jpeg_bytes, png_bytes
from tests.assets.conftest import API, content, sha256
from tests.conftest import add_conversion, assert_error, make_asset, small_png

pytestmark = pytest.mark.django_db


# --- downloads ---------------------------------------------------------------------------


@pytest.fixture(params=["original", "conversion"])
def stored(request, owner):
    """(url, bytes, content type) of an original or of a conversion."""
    body = jpeg_bytes("chelsea", (200, 150))
    asset = make_asset(owner, "cat.jpg", body=body)
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
    body = assert_error(response, 416, code="range_not_satisfiable")
    assert list(body["errors"]) == ["Range"]
    assert "range" in body["message"].lower()  # the header's name, in a sentence
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


def test_download_of_unknown_conversion_is_404_conversion_not_found(client, owner):
    asset = make_asset(owner)
    add_conversion(asset, "bg", small_png())
    response = client.get(f"{API}/assets/{asset.id}/content/nope")
    body = assert_error(response, 404, code="conversion_not_found")
    assert "nope" in body["message"]


def test_download_of_unknown_asset_is_404_asset_not_found(client):
    response = client.get(f"{API}/assets/{uuid.uuid4().hex}/content/original")
    assert_error(response, 404, code="asset_not_found")
