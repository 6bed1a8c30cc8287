"""Property-based: requests generated from our own OpenAPI schema never get a 5xx.

schemathesis reads /api/schema/ and, for every operation, generates valid and invalid
parameters and bodies; each is sent through the real WSGI app as an ADMIN of an
account that holds one asset, whose id replaces any generated `asset_id`. A 500 anywhere fails the test with the request that
caused it. (Found, before this test existed: an empty JSON Schema `{}` gave a 500.)
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from assets.services import asset_create_from_bytes
from assets_project.wsgi import application
from tests.images import jpeg_bytes

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def keep_test_connection():
    """Requests go through the real WSGI app, which closes the database connection around each
    request; Django's test client detaches that handler, and so do we, so the
    requests run inside the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def admin(make_user, keep_test_connection) -> tuple[str, str]:
    """(API key, id of an asset of the account) for an ADMIN."""
    user, key = make_user("ADMIN", account="fuzz")
    asset = asset_create_from_bytes(
        account=user.membership.account, user=user, data_bytes=jpeg_bytes(size=(48, 32)), name="fuzz.jpg"
    )
    return key, asset.id


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, admin):
    key, asset_id = admin
    if case.path_parameters and "asset_id" in case.path_parameters:
        # random ids only ever reach the 404; a real one lets the rest of the input through
        case.path_parameters["asset_id"] = asset_id
    response = case.call(headers={"X-Api-Key": key})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
