"""SPEC §2 account isolation: another account's ids get exactly the answer a missing id
gets (404, or the same 403 when the role is too low), lists and schema lists show only
the caller's account, and malformed ids are 404s in the one error shape."""

from __future__ import annotations

import pytest

from assets.models import Role
from tests.assets.permission_matrix import (
    ALL_ROLES,
    ID_ENDPOINTS,
    MISSING_ASSET_ID,
    MISSING_JOB_ID,
    MISSING_SCHEMA_ID,
    ROLE_TABLE,
    assert_permission_denied,
    call_missing,
    call_world,
    snapshot,
    upload_form,
    without_request_id,
)
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


# --- accounts do not see each other ---------------------------------------------------------


def _expected_not_found_code(endpoint: str) -> set[str]:
    if endpoint.startswith("schema"):
        return {"schema_not_found"}
    if endpoint == "job":
        return {"job_not_found"}
    return {"asset_not_found"}


def _as_missing(body: dict, w, endpoint: str) -> dict:
    """The body a missing id got, with the missing id replaced by the world's id."""
    message = (
        body["message"]
        .replace(MISSING_ASSET_ID, w.asset.id)
        .replace(MISSING_JOB_ID, w.job.id)
        .replace(str(MISSING_SCHEMA_ID), str(w.schema.id))
    )
    return {**without_request_id(body), "message": message}


@pytest.mark.parametrize("endpoint", ID_ENDPOINTS)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_other_accounts_ids_look_like_missing_ids(world, client_for, role, endpoint, django_capture_on_commit_callbacks):
    """403 when the role lacks the permission (checked before any lookup), else 404; either
    way the answer is the one a never-existing id gets, and nothing changes."""
    other = client_for(role, "other")
    needed = ROLE_TABLE[endpoint][0]
    before = snapshot(world.media_root)

    foreign = call_world(other, endpoint, world, django_capture_on_commit_callbacks)
    missing = call_missing(other, endpoint, django_capture_on_commit_callbacks)

    if Role.rank(role) >= Role.rank(needed):
        foreign_body = assert_error(foreign, 404, errors=False)
        missing_body = assert_error(missing, 404, errors=False)
        assert foreign_body["code"] in _expected_not_found_code(endpoint)
        assert foreign_body["code"] == "not_found" or foreign_body["code"].endswith("_not_found")
        assert without_request_id(foreign_body) == _as_missing(missing_body, world, endpoint)
    else:
        foreign_body = assert_permission_denied(foreign, needed, role)
        missing_body = assert_permission_denied(missing, needed, role)
        assert without_request_id(foreign_body) == without_request_id(missing_body)
    for revealing in ("acme", world.owner.username, world.asset.name, "other account"):
        assert revealing not in foreign_body["message"]
    assert snapshot(world.media_root) == before


def test_other_accounts_list_shows_only_its_own_assets(world, client_for):
    other = client_for(Role.ADMIN, "other")
    mine = other.post("/api/v1/assets", upload_form("mine.jpg"), format="multipart")
    assert mine.status_code == 201, mine.content

    listing = other.get("/api/v1/assets")
    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert [a["id"] for a in listing.json()["results"]] == [mine.json()["id"]]

    derived = other.get("/api/v1/assets", {"source_asset_id": world.asset.id})
    assert derived.status_code == 200
    assert derived.json()["count"] == 0 and derived.json()["results"] == []

    by_name = other.get("/api/v1/assets", {"name": "astro"})
    assert by_name.json()["count"] == 0

    # and the first account still sees only its own two
    acme = client_for(Role.USER, "acme").get("/api/v1/assets")
    assert {a["id"] for a in acme.json()["results"]} == {world.asset.id, world.child.id}


def test_other_accounts_schema_list_hides_the_first_accounts_schemas(world, client_for):
    other = client_for(Role.ADMIN, "other")
    created = other.post("/api/v1/assetschemas", {"name": "theirs", "schema": {"type": "object"}}, format="json")
    assert created.status_code == 201, created.content
    ids = {s["id"] for s in other.get("/api/v1/assetschemas").json()}
    assert ids == {0, created.json()["id"]}
    assert world.schema.id not in ids


def test_foreign_schema_cannot_be_named_in_an_upload_or_data_update(world, client_for):
    other = client_for(Role.ADMIN, "other")
    before = snapshot(world.media_root)
    response = other.post(
        "/api/v1/assets", {**upload_form(), "data_schema_id": str(world.schema.id)}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "schema_not_found"
    assert "data_schema_id" in response.json()["errors"]
    assert snapshot(world.media_root) == before


# --- malformed ids ------------------------------------------------------------------------


# label -> (method, path template); {id} is the world's asset id, {job} its job id.
MALFORMED = {
    "asset_not_hex": ("get", "/api/v1/assets/NOTHEX"),
    "asset_upper": ("get", "/api/v1/assets/{ID}"),
    "asset_upper_delete": ("delete", "/api/v1/assets/{ID}"),
    "content_upper": ("get", "/api/v1/assets/{ID}/content/original"),
    "content_upper_delete": ("delete", "/api/v1/assets/{ID}/content/thumb"),
    "lineage_upper": ("get", "/api/v1/assets/{ID}/lineage"),
    "data_update_upper": ("post", "/api/v1/assets/{ID}/data/update"),
    "asset_31_chars": ("get", "/api/v1/assets/{short}"),
    "asset_33_chars": ("get", "/api/v1/assets/{id}0"),
    "asset_with_dash": ("get", "/api/v1/assets/{dashed}"),
    "job_not_hex": ("get", "/api/v1/jobs/NOTHEX"),
    "job_upper": ("get", "/api/v1/jobs/{JOB}"),
    "schema_not_number": ("get", "/api/v1/assetschemas/abc"),
    "schema_negative": ("get", "/api/v1/assetschemas/-1"),
    "schema_fraction_delete": ("delete", "/api/v1/assetschemas/1.5"),
}


@pytest.mark.parametrize("label", list(MALFORMED))
def test_malformed_ids_are_404_in_the_one_error_shape(world, client_for, label, django_capture_on_commit_callbacks):
    method, template = MALFORMED[label]
    asset_id = world.asset.id
    path = template.format(
        id=asset_id, ID=asset_id.upper(), short=asset_id[:-1], dashed=f"{asset_id[:8]}-{asset_id[8:]}",
        JOB=world.job.id.upper(),
    )
    client = client_for(Role.ADMIN, "acme")
    before = snapshot(world.media_root)
    with django_capture_on_commit_callbacks(execute=True):
        if method == "post":
            response = client.post(path, {"data": {"x": 1}, "mode": "REPLACE"}, format="json")
        else:
            response = getattr(client, method)(path)
    body = assert_error(response, 404, errors=False)
    assert body["code"] == "not_found" or body["code"].endswith("_not_found")
    assert "Traceback" not in body["message"]
    assert snapshot(world.media_root) == before
