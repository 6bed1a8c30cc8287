"""The error shape of SPEC §2 for errors raised outside DRF (unknown paths, 405, 415),
the X-Request-Id of every response (echoed when well formed, replaced when not), and
unhandled exceptions: a 500 in the one shape that hides the internals and logs the
traceback with the request id."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from assets.models import Asset, Role
from tests.assets.conftest import API, HEX32
from tests.conftest import assert_error, make_asset, stored_files

pytestmark = pytest.mark.django_db


# --- errors outside DRF, request ids -----------------------------------------------------


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
def test_method_not_allowed_is_405_in_the_one_shape(client_for, owner, role):
    caller = client_for(role)
    asset = make_asset(owner)
    response = caller.put(f"{API}/assets/{asset.id}", {"name": "renamed.jpg"}, format="json")
    assert_error(response, 405, code="method_not_allowed")
    assert "PUT" in response.json()["message"]
    asset.refresh_from_db()
    assert asset.name == "photo.jpg"


def test_method_not_allowed_without_credentials_is_still_401(owner):
    asset = make_asset(owner)
    response = APIClient().put(f"{API}/assets/{asset.id}", {"name": "x"}, format="json")
    assert_error(response, 401, code="not_authenticated")


def test_json_body_to_post_assets_is_415_and_stores_nothing(client, media_root):
    response = client.post(f"{API}/assets", {"file": "abc", "data": {}}, format="json")
    assert_error(response, 415, code="unsupported_media_type")
    assert "application/json" in response.json()["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_every_response_carries_a_request_id(client, owner):
    asset = make_asset(owner)
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


# --- unhandled exceptions ----------------------------------------------------------------


def test_unhandled_exception_is_500_in_the_one_shape_and_logged_with_the_request_id(
    make_user, monkeypatch, caplog
):
    secret = "secret-internal-detail-4711"

    def raising_function(**kwargs):
        raise RuntimeError(secret)

    monkeypatch.setattr("assets.selectors.lineage_of", raising_function)
    user, key = make_user(Role.USER)
    caller = APIClient(raise_request_exception=False)
    caller.credentials(HTTP_X_API_KEY=key)
    asset = make_asset(user)

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


def test_unhandled_exception_keeps_an_incoming_request_id(make_user, monkeypatch, caplog):
    def raising_function(**kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("assets.selectors.lineage_of", raising_function)
    user, key = make_user(Role.USER)
    caller = APIClient(raise_request_exception=False)
    caller.credentials(HTTP_X_API_KEY=key)
    asset = make_asset(user)

    response = caller.get(f"{API}/assets/{asset.id}/lineage", HTTP_X_REQUEST_ID="client-trace-0001")
    body = assert_error(response, 500, code="server_error")
    assert response["X-Request-Id"] == body["request_id"] == "client-trace-0001"
    assert any(
        getattr(r, "request_id", None) == "client-trace-0001" and r.exc_info for r in caplog.records
    )
