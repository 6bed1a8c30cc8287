"""Rate limits per API key (SPEC §12): off by default; the N+1-th request in a minute is a
429 in the error shape with Retry-After and the RateLimit-* headers; the processing
endpoints also spend a megapixel budget in which a 12-megapixel image counts 12, charged
before anything runs."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Job, Role
from tests.conftest import assert_error, make_asset
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db

HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def limits(response) -> tuple[str, str]:
    return response["RateLimit-Limit"], response["RateLimit-Remaining"]


@pytest.fixture(scope="module")
def twelve_megapixels() -> bytes:
    return jpeg_bytes("astronaut", (4000, 3000))


def test_no_limit_and_no_headers_by_default(creator):
    for _ in range(5):
        response = creator.get("/api/v1/assets")
        assert response.status_code == 200
        assert not any(name in response for name in (*HEADERS, "Retry-After"))


def test_the_request_after_the_limit_is_a_429_with_retry_after_and_the_headers(client_for, settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 3
    client, other = client_for(Role.USER), client_for(Role.USER)
    answers = [client.get("/api/v1/assets") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [limits(r) for r in answers[:3]] == [("3", "2"), ("3", "1"), ("3", "0")]
    refused = answers[3]
    body = assert_error(refused, 429, code="rate_limited", errors=False)
    assert "more than 3 requests in a minute" in body["message"]
    assert limits(refused) == ("3", "0")
    assert 1 <= int(refused["Retry-After"]) <= 60 and refused["Retry-After"] == refused["RateLimit-Reset"]
    assert refused["RateLimit-Policy"] == '3;w=60;comment="requests"'
    # the budget is the key's: another key still has all of its own; a refusal spent nothing
    assert limits(other.get("/api/v1/assets")) == ("3", "2")
    assert client.get("/api/v1/assets").status_code == 429


def test_requests_without_credentials_are_refused_before_any_budget_is_spent(client, settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 1
    for _ in range(3):
        response = client.get("/api/v1/assets")
        assert response.status_code == 401 and "RateLimit-Limit" not in response


def test_a_12_megapixel_image_counts_12_against_the_megapixel_budget(creator, settings, twelve_megapixels):
    settings.RATE_LIMIT_MEGAPIXELS_PER_MINUTE = 30
    asset = make_asset(creator.user, "big.jpg", twelve_megapixels)
    assert (asset.width, asset.height) == (4000, 3000)
    body = {"assets": [{asset.id: {}}], "operations": [{"bg_add": {"options": {"color": "#ffffff"}}}]}
    answers = [creator.post("/api/v1/assets/addons/image_graphics", body, format="json") for _ in range(3)]
    assert [r.status_code for r in answers] == [202, 202, 429]
    assert [limits(r) for r in answers] == [("30", "18"), ("30", "6"), ("30", "6")]
    message = assert_error(answers[2], 429, code="rate_limited")["message"]
    assert "12.0 megapixels" in message and "only 6 of the 30 megapixels" in message
    assert int(answers[2]["Retry-After"]) <= 60
    assert Job.objects.filter(kind="image_graphics").count() == 2  # the refused one queued nothing


def test_remove_background_charges_the_image_before_the_model_runs(creator, settings, twelve_megapixels):
    settings.RATE_LIMIT_MEGAPIXELS_PER_MINUTE = 10
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 100
    url = "/api/v1/assets/file/addons/bg_remove"
    big = creator.post(url, {"image": SimpleUploadedFile("big.jpg", twelve_megapixels)}, format="multipart")
    message = assert_error(big, 429, code="rate_limited")["message"]
    assert "12.0 megapixels, more than the 10 megapixels a minute" in message
    # the refused budget is reported, with both policies
    assert limits(big) == ("10", "10")
    assert big["RateLimit-Policy"] == '100;w=60;comment="requests", 10;w=60;comment="megapixels"'
    small = creator.post(url, {"image": SimpleUploadedFile("s.jpg", jpeg_bytes("astronaut", (500, 500)))}, format="multipart")
    assert small.status_code == 200 and small["Content-Type"] == "image/png"
    assert limits(small) == ("10", "9")  # 0.25 of 10 megapixels spent: the nearer budget is reported
