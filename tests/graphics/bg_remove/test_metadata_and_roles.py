"""Remove Background's metadata=inherit (the new asset copies the source's data and
schema) and its roles: USER may get_image but not save, CREATOR and above may save,
no or bad credentials are a 401, another account's asset a 404."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assets import services as asset_services
from assets.models import Asset, Conversion, DEFAULT_SCHEMA_ID, JobStatus, Role
from tests.conftest import assert_error
from tests.graphics.bg_remove.conftest import (
    DISPOSITIONS,
    ENDPOINTS,
    MODES,
    SAVE_MODES,
    SOURCE_DATA,
    UPLOAD_SIZE,
    call,
    check_png_response,
    input_size,
    make_source,
)
from tests.graphics.conftest import run_job, snapshot

pytestmark = pytest.mark.django_db


# --- metadata=inherit --------------------------------------------------------------------


@pytest.mark.parametrize("mode", SAVE_MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_metadata_inherit_copies_data_and_schema(
    creator, media_root, endpoint, mode, django_capture_on_commit_callbacks
):
    schema = asset_services.schema_create(
        user=creator.user,
        name="photo",
        schema={
            "type": "object",
            "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
            "required": ["title"],
        },
    )
    source = make_source(creator, data=dict(SOURCE_DATA), data_schema=schema)
    query = {"mode": mode, "disposition": "add_new_asset", "metadata": "inherit"}
    response = call(creator, endpoint, source.id, query)
    if mode == "save_image":
        assert response.status_code == 200, response.content
        body = response.json()
        new_id = body["new_asset_id"]
        assert body == {
            "status": "ok",
            "mode": "save_image",
            "disposition": "add_new_asset",
            "source_asset_id": source.id,
            "metadata": "inherit",
            "new_asset_id": new_id,
        }
    else:
        check_png_response(response, input_size(endpoint))
        job = run_job(response["X-Job-Id"], django_capture_on_commit_callbacks)
        assert job.status == JobStatus.OK, job.error
        new_id = job.output[0]["asset_id"]
    new = Asset.objects.get(id=new_id)
    assert new.data == SOURCE_DATA
    assert new.data_schema_id == schema.id
    assert new.source_asset_id == source.id
    document = creator.get(f"/api/v1/assets/{new_id}").json()
    assert document["data"] == SOURCE_DATA and document["data_schema_id"] == schema.id
    # A copy: changing the source's data afterwards leaves the new asset's alone.
    asset_services.asset_data_update(
        user=creator.user, asset_id=source.id, data={"title": "changed"}, mode="REPLACE"
    )
    new.refresh_from_db()
    assert new.data == SOURCE_DATA


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_without_metadata_the_new_asset_has_empty_data_and_schema_0(creator, endpoint):
    schema = asset_services.schema_create(user=creator.user, name="any", schema={"type": "object"})
    source = make_source(creator, data=dict(SOURCE_DATA), data_schema=schema)
    response = call(creator, endpoint, source.id, {"mode": "save_image", "disposition": "add_new_asset"})
    assert response.status_code == 200, response.content
    assert "metadata" not in response.json()
    new = Asset.objects.get(id=response.json()["new_asset_id"])
    assert new.data == {}
    assert new.data_schema_id == DEFAULT_SCHEMA_ID


# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_user_role_may_get_image_on_every_endpoint(client_for, media_root, endpoint):
    user_client = client_for(Role.USER)
    source = make_source(client_for(Role.CREATOR))
    before = snapshot(media_root)
    response = call(user_client, endpoint, source.id, {"mode": "get_image"})
    check_png_response(response, input_size(endpoint))
    assert snapshot(media_root) == before


@pytest.mark.parametrize("disposition", DISPOSITIONS)
@pytest.mark.parametrize("mode", SAVE_MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_user_role_may_not_save(client_for, media_root, endpoint, mode, disposition):
    user_client = client_for(Role.USER)
    source = make_source(client_for(Role.CREATOR))
    query = {"mode": mode, "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    before = snapshot(media_root)
    response = call(user_client, endpoint, source.id, query)
    assert_error(response, 403, code="permission_denied")
    assert snapshot(media_root) == before


@pytest.mark.parametrize("role", [Role.CREATOR, Role.MANAGER, Role.ADMIN])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_creator_manager_and_admin_may_save(client_for, endpoint, role):
    client = client_for(role)
    source = make_source(client_for(Role.CREATOR))
    response = call(
        client, endpoint, source.id, {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "cut"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["asset_id"] == source.id
    assert Conversion.objects.filter(asset=source, name="cut").count() == 1


@pytest.mark.parametrize("credentials", ["none", "bad_key"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_or_bad_credentials_are_401(creator, source, media_root, endpoint, credentials):
    client = APIClient()
    if credentials == "bad_key":
        client.credentials(HTTP_X_API_KEY="not-a-key.really")
    before = snapshot(media_root)
    response = call(client, endpoint, source.id, {"mode": "save_image", "disposition": "add_new_asset"})
    assert_error(response, 401)
    assert snapshot(media_root) == before


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ["asset_get", "asset_post"])
def test_another_accounts_asset_on_the_asset_endpoints_is_404(
    creator, client_for, media_root, endpoint, mode
):
    foreign = make_source(client_for(Role.ADMIN, account="globex"))
    query = {"mode": mode}
    if mode != "get_image":
        query.update(disposition="add_conversion", conversion_name="bg_removed")
    before = snapshot(media_root)
    response = call(creator, endpoint, foreign.id, query)
    assert_error(response, 404)
    missing = call(creator, endpoint, "0123456789abcdef0123456789abcdef", query)
    assert_error(missing, 404)
    # the foreign answer looks exactly like the missing one, apart from the id
    assert response.json()["code"] == missing.json()["code"]
    assert snapshot(media_root) == before
    assert not Conversion.objects.filter(asset=foreign).exists()


def test_foreign_asset_id_with_get_image_on_the_upload_endpoint_is_ignored(creator, client_for, media_root):
    """asset_id is a disposition parameter: with get_image it is not even looked up."""
    foreign = make_source(client_for(Role.ADMIN, account="globex"))
    before = snapshot(media_root)
    check_png_response(call(creator, "upload", foreign.id, {"mode": "get_image"}), UPLOAD_SIZE)
    assert snapshot(media_root) == before
