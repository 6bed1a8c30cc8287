"""Custom metadata (`data`), data schemas and jobs: SPEC §1, §2 and §3.

POST assets/{id}/data/update, GET/POST assetschemas, GET/PUT/DELETE assetschemas/{id},
GET jobs/{id}. Every check looks at the database rows, not only at the response.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from assets import services
from assets.models import Asset, DataSchema, Job, JobStatus, Role
from tests.images import png_bytes

pytestmark = pytest.mark.django_db

SMALL_PNG = png_bytes("astronaut", (32, 32))

# Required keys, types, a pattern and an enum (and an array whose items are typed).
PRODUCT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["sku", "title"],
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "title": {"type": "string"},
        "price": {"type": "number", "minimum": 0},
        "color": {"enum": ["red", "green", "blue"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
VALID_PRODUCT = {"sku": "ABC-1234", "title": "Mug", "price": 9.5, "color": "red", "tags": ["a", "b"]}


def make_asset(user, *, data=None, data_schema=None) -> Asset:
    return services.asset_create_from_bytes(
        account=user.membership.account,
        user=user,
        data_bytes=SMALL_PNG,
        name="thing.png",
        data=data,
        data_schema=data_schema,
    )


def make_schema(user, schema=None, name="product") -> DataSchema:
    return services.schema_create(user=user, name=name, schema=schema or PRODUCT_SCHEMA)


def update_url(asset_id: str) -> str:
    return f"/api/v1/assets/{asset_id}/data/update"


def post_json(client, url, body):
    return client.post(url, body, format="json")


def assert_error(response, status: int, *, field: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == "error"
    assert isinstance(body["message"], str) and body["message"]
    assert body.get("request_id")
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body["errors"], body
        assert field in body["message"], body
    return body


def row_of(asset: Asset) -> tuple:
    fresh = Asset.objects.get(pk=asset.pk)
    return fresh.data, fresh.data_schema_id, fresh.update_time


# --- data/update: APPEND and REPLACE ---------------------------------------------------------


def test_append_merges_shallowly_and_new_values_win(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": {"x": 1}, "keep": "me", "n": 1})
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"a": {"y": 2}, "n": 2, "new": True}})
    assert response.status_code == 200, response.content
    expected = {"a": {"y": 2}, "keep": "me", "n": 2, "new": True}
    assert response.json()["data"] == expected
    assert Asset.objects.get(pk=asset.pk).data == expected


def test_append_replaces_nested_objects_rather_than_merging_them(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": {"x": 1}})
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"a": {"y": 2}}})
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).data == {"a": {"y": 2}}


def test_replace_swaps_the_whole_object(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1, "b": {"c": 2}})
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {"z": [1, 2]}})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"z": [1, 2]}
    assert Asset.objects.get(pk=asset.pk).data == {"z": [1, 2]}


def test_replace_with_an_empty_object_clears_the_data(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1})
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {}})
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).data == {}


def test_data_update_needs_creator_role(client_for):
    client = client_for(Role.USER)
    asset = make_asset(client.user, data={"a": 1})
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {"b": 2}})
    assert_error(response, 403)
    assert row_of(asset) == before


def test_data_update_of_another_accounts_asset_is_404(client_for):
    other = client_for(Role.ADMIN, account="globex")
    asset = make_asset(other.user, data={"a": 1})
    before = row_of(asset)
    response = post_json(client_for(Role.ADMIN), update_url(asset.id), {"mode": "REPLACE", "data": {"b": 2}})
    assert_error(response, 404)
    assert row_of(asset) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"data": {"b": 2}}, "mode"),
        ({"data": {"b": 2}, "mode": "MERGE"}, "mode"),
        ({"data": {"b": 2}, "mode": "append"}, "mode"),
        ({"data": {"b": 2}, "mode": None}, "mode"),
        ({"mode": "APPEND"}, "data"),
        ({"mode": "REPLACE", "data": None}, "data"),
        ({"mode": "APPEND", "data": [{"b": 2}]}, "data"),
        ({"mode": "APPEND", "data": "{\"b\": 2}"}, "data"),
        ({"mode": "APPEND", "data": {"b": 2}, "colour": "red"}, "colour"),
        ({"mode": "APPEND", "data": {"b": 2}, "data_schema_id": "zero"}, "data_schema_id"),
        ({"mode": "APPEND", "data": {"b": 2}, "data_schema_id": True}, "data_schema_id"),
    ],
)
def test_bad_data_update_body_is_400_naming_the_field(client_for, body, field):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1})
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), body)
    assert_error(response, 400, field=field)
    assert row_of(asset) == before


def test_data_update_body_that_is_not_json_is_400_in_the_error_shape(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1})
    before = row_of(asset)
    response = client.post(update_url(asset.id), data='{"mode": "APPEND", "data": {', content_type="application/json")
    body = assert_error(response, 400)
    assert body["code"] == "parse_error"
    assert set(body) <= {"status", "code", "message", "errors", "request_id"}
    assert row_of(asset) == before


def test_data_update_body_that_is_a_json_array_is_400(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1})
    before = row_of(asset)
    response = client.post(update_url(asset.id), data=json.dumps([{"mode": "APPEND"}]), content_type="application/json")
    assert_error(response, 400, field="body")
    assert row_of(asset) == before


def test_form_encoded_data_update_is_415(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1})
    before = row_of(asset)
    response = client.post(
        update_url(asset.id),
        data="mode=REPLACE&data=%7B%22b%22%3A2%7D",
        content_type="application/x-www-form-urlencoded",
    )
    body = assert_error(response, 415)
    assert body["code"] == "unsupported_media_type"
    assert row_of(asset) == before


# --- data/update against a schema -------------------------------------------------------------


def test_update_violating_the_schema_lists_each_violation_by_path_and_changes_nothing(client_for):
    client = client_for(Role.ADMIN)
    schema = make_schema(client.user)
    asset = make_asset(client.user, data=VALID_PRODUCT, data_schema=schema)
    before = row_of(asset)
    bad = {"sku": "abc", "price": "cheap", "color": "purple", "tags": ["ok", 2]}  # and no "title"
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": bad})
    body = assert_error(response, 400, code="schema_violation")
    errors = body["errors"]
    assert set(errors) == {"data", "data.sku", "data.price", "data.color", "data.tags[1]"}
    assert any("title" in message for message in errors["data"])
    assert any("ABC" in message or "pattern" in message or "match" in message for message in errors["data.sku"])
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    assert row_of(asset) == before


def test_append_is_validated_on_the_merged_result(client_for):
    client = client_for(Role.ADMIN)
    schema = make_schema(client.user)
    asset = make_asset(client.user, data=VALID_PRODUCT, data_schema=schema)
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"price": -1}})
    body = assert_error(response, 400, code="schema_violation")
    assert set(body["errors"]) == {"data.price"}
    assert row_of(asset) == before

    # A valid APPEND only needs the keys it changes: the required ones come from the asset.
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"price": 12}})
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).data == {**VALID_PRODUCT, "price": 12}


def test_replace_dropping_a_required_key_is_a_root_violation(client_for):
    client = client_for(Role.ADMIN)
    schema = make_schema(client.user)
    asset = make_asset(client.user, data=VALID_PRODUCT, data_schema=schema)
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {"sku": "XYZ-0001"}})
    body = assert_error(response, 400, code="schema_violation")
    assert list(body["errors"]) == ["data"]
    assert "title" in body["errors"]["data"][0]
    assert row_of(asset) == before


def test_switching_data_schema_id_validates_against_the_new_schema_and_stores_it(client_for):
    client = client_for(Role.ADMIN)
    schema = make_schema(client.user)
    asset = make_asset(client.user, data={"anything": 1})
    assert asset.data_schema_id == 0

    # The asset's current data does not satisfy the new schema: APPEND that leaves it invalid is refused.
    before = row_of(asset)
    response = post_json(
        client, update_url(asset.id), {"mode": "APPEND", "data": {"sku": "ABC-1234"}, "data_schema_id": schema.id}
    )
    body = assert_error(response, 400, code="schema_violation")
    assert list(body["errors"]) == ["data"]  # title is missing
    assert row_of(asset) == before

    response = post_json(
        client, update_url(asset.id), {"mode": "REPLACE", "data": VALID_PRODUCT, "data_schema_id": schema.id}
    )
    assert response.status_code == 200, response.content
    assert response.json()["data_schema_id"] == schema.id
    fresh = Asset.objects.get(pk=asset.pk)
    assert (fresh.data, fresh.data_schema_id) == (VALID_PRODUCT, schema.id)

    # And back to schema 0, which accepts any object.
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {"free": "form"}, "data_schema_id": 0})
    assert response.status_code == 200, response.content
    fresh = Asset.objects.get(pk=asset.pk)
    assert (fresh.data, fresh.data_schema_id) == ({"free": "form"}, 0)


def test_update_without_data_schema_id_keeps_the_assets_schema(client_for):
    client = client_for(Role.ADMIN)
    schema = make_schema(client.user)
    asset = make_asset(client.user, data=VALID_PRODUCT, data_schema=schema)
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"color": "blue"}})
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).data_schema_id == schema.id


def test_unknown_data_schema_id_is_400_naming_it(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1})
    before = row_of(asset)
    missing = (DataSchema.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {}, "data_schema_id": missing})
    assert_error(response, 400, field="data_schema_id")
    assert row_of(asset) == before


def test_another_accounts_schema_id_is_400_like_an_unknown_one(client_for):
    other = client_for(Role.ADMIN, account="globex")
    foreign = make_schema(other.user, schema={"type": "object"})
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, data={"a": 1})
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {}, "data_schema_id": foreign.id})
    body = assert_error(response, 400, field="data_schema_id")
    assert "globex" not in body["message"]
    assert row_of(asset) == before
    # The same answer as for an id that does not exist at all (nothing reveals it exists).
    foreign_id = foreign.id
    foreign.delete()
    again = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {}, "data_schema_id": foreign_id})
    assert again.status_code == 400
    assert again.json()["code"] == body["code"]
    assert again.json()["message"] == body["message"]


# --- schemas CRUD ----------------------------------------------------------------------------


def test_schema_list_shows_the_builtin_and_own_schemas_only(client_for):
    admin = client_for(Role.ADMIN)
    own = make_schema(admin.user, name="mine")
    other = client_for(Role.ADMIN, account="globex")
    foreign = make_schema(other.user, name="theirs")
    reader = client_for(Role.USER)

    response = reader.get("/api/v1/assetschemas")
    assert response.status_code == 200, response.content
    rows = {row["id"]: row for row in response.json()}
    assert set(rows) == {0, own.id}
    assert foreign.id not in rows
    assert rows[0]["builtin"] is True
    assert rows[own.id]["builtin"] is False
    assert rows[own.id]["name"] == "mine"
    assert rows[own.id]["schema"] == PRODUCT_SCHEMA

    theirs = other.get("/api/v1/assetschemas").json()
    assert {row["id"] for row in theirs} == {0, foreign.id}


def test_admin_creates_a_schema(client_for):
    admin = client_for(Role.ADMIN)
    response = post_json(admin, "/api/v1/assetschemas", {"name": "product", "schema": PRODUCT_SCHEMA})
    assert response.status_code == 201, response.content
    body = response.json()
    row = DataSchema.objects.get(pk=body["id"])
    assert row.account == admin.user.membership.account
    assert (row.name, row.schema) == ("product", PRODUCT_SCHEMA)
    assert (body["name"], body["schema"], body["builtin"]) == ("product", PRODUCT_SCHEMA, False)


@pytest.mark.parametrize("role", [Role.USER, Role.CREATOR, Role.MANAGER])
def test_only_admin_may_create_a_schema(client_for, role):
    client = client_for(role)
    count = DataSchema.objects.count()
    response = post_json(client, "/api/v1/assetschemas", {"name": "product", "schema": PRODUCT_SCHEMA})
    assert_error(response, 403)
    assert DataSchema.objects.count() == count


@pytest.mark.parametrize(
    "body, field",
    [
        ({"schema": {"type": "object"}}, "name"),
        ({"name": "", "schema": {"type": "object"}}, "name"),
        ({"name": "   ", "schema": {"type": "object"}}, "name"),
        ({"name": 7, "schema": {"type": "object"}}, "name"),
        ({"name": "x" * 101, "schema": {"type": "object"}}, "name"),
        ({"name": "bad"}, "schema"),
        ({"name": "bad", "schema": {"type": "nonsense"}}, "schema"),
        ({"name": "bad", "schema": {"properties": {"a": {"minimum": "zero"}}}}, "schema"),
        ({"name": "bad", "schema": "object"}, "schema"),
        ({"name": "bad", "schema": [{"type": "object"}]}, "schema"),
    ],
)
def test_invalid_schema_create_is_400_naming_the_field(client_for, body, field):
    admin = client_for(Role.ADMIN)
    count = DataSchema.objects.count()
    response = post_json(admin, "/api/v1/assetschemas", body)
    assert_error(response, 400, field=field)
    assert DataSchema.objects.count() == count


def test_get_one_schema(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    response = client_for(Role.USER).get(f"/api/v1/assetschemas/{schema.id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["name"], body["schema"], body["builtin"]) == (schema.id, "product", PRODUCT_SCHEMA, False)

    builtin = admin.get("/api/v1/assetschemas/0")
    assert builtin.status_code == 200
    assert builtin.json()["builtin"] is True
    assert builtin.json()["id"] == 0


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_another_accounts_schema_is_404(client_for, method):
    other = client_for(Role.ADMIN, account="globex")
    foreign = make_schema(other.user, name="theirs", schema={"type": "object"})
    admin = client_for(Role.ADMIN)
    kwargs = {"data": {"name": "stolen", "schema": {"type": "object"}}, "format": "json"} if method == "put" else {}
    response = getattr(admin, method)(f"/api/v1/assetschemas/{foreign.id}", **kwargs)
    assert_error(response, 404)
    row = DataSchema.objects.get(pk=foreign.id)
    assert (row.name, row.schema) == ("theirs", {"type": "object"})


@pytest.mark.parametrize("method", ["get", "put", "delete"])
@pytest.mark.parametrize("schema_id", ["999999", "abc", "-1"])
def test_unknown_schema_id_is_404(client_for, method, schema_id):
    admin = client_for(Role.ADMIN)
    count = DataSchema.objects.count()
    kwargs = {"data": {"name": "x", "schema": {"type": "object"}}, "format": "json"} if method == "put" else {}
    response = getattr(admin, method)(f"/api/v1/assetschemas/{schema_id}", **kwargs)
    assert_error(response, 404)
    assert DataSchema.objects.count() == count


def test_put_replaces_name_and_schema(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    new_schema = {"type": "object", "properties": {"size": {"type": "integer"}}}
    response = admin.put(f"/api/v1/assetschemas/{schema.id}", {"name": "sized", "schema": new_schema}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "sized"
    assert response.json()["schema"] == new_schema
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("sized", new_schema)


@pytest.mark.parametrize(
    "body, field",
    [({"schema": {"type": "object"}}, "name"), ({"name": "x", "schema": {"type": "nonsense"}}, "schema")],
)
def test_invalid_put_is_400_and_leaves_the_row(client_for, body, field):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    response = admin.put(f"/api/v1/assetschemas/{schema.id}", body, format="json")
    assert_error(response, 400, field=field)
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("product", PRODUCT_SCHEMA)


@pytest.mark.parametrize("role", [Role.USER, Role.CREATOR, Role.MANAGER])
def test_only_admin_may_change_or_delete_a_schema(client_for, role):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    client = client_for(role)
    put = client.put(f"/api/v1/assetschemas/{schema.id}", {"name": "x", "schema": {"type": "object"}}, format="json")
    assert_error(put, 403)
    assert_error(client.delete(f"/api/v1/assetschemas/{schema.id}"), 403)
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("product", PRODUCT_SCHEMA)


def test_put_that_would_invalidate_an_assets_data_is_409_and_changes_nothing(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    asset = make_asset(admin.user, data=VALID_PRODUCT, data_schema=schema)
    stricter = {**PRODUCT_SCHEMA, "required": ["sku", "title", "weight"]}
    response = admin.put(f"/api/v1/assetschemas/{schema.id}", {"name": "stricter", "schema": stricter}, format="json")
    assert_error(response, 409, code="schema_in_use")
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("product", PRODUCT_SCHEMA)
    assert Asset.objects.get(pk=asset.pk).data_schema_id == schema.id


def test_put_compatible_with_the_assets_data_is_200(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    make_asset(admin.user, data=VALID_PRODUCT, data_schema=schema)
    looser = {**PRODUCT_SCHEMA, "required": ["sku"]}
    response = admin.put(f"/api/v1/assetschemas/{schema.id}", {"name": "looser", "schema": looser}, format="json")
    assert response.status_code == 200, response.content
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("looser", looser)


def test_put_checks_only_assets_of_that_schema(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user, schema={"type": "object"})
    make_asset(admin.user, data={"no": "sku"})  # on schema 0, not affected by the change
    response = admin.put(f"/api/v1/assetschemas/{schema.id}", {"name": "p", "schema": PRODUCT_SCHEMA}, format="json")
    assert response.status_code == 200, response.content
    assert DataSchema.objects.get(pk=schema.id).schema == PRODUCT_SCHEMA


def test_delete_unused_schema_is_204_and_removes_the_row(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    response = admin.delete(f"/api/v1/assetschemas/{schema.id}")
    assert response.status_code == 204, response.content
    assert not DataSchema.objects.filter(pk=schema.id).exists()
    assert_error(admin.get(f"/api/v1/assetschemas/{schema.id}"), 404)


def test_delete_schema_in_use_is_409_and_keeps_the_row(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    asset = make_asset(admin.user, data=VALID_PRODUCT, data_schema=schema)
    response = admin.delete(f"/api/v1/assetschemas/{schema.id}")
    assert_error(response, 409, code="schema_in_use")
    assert DataSchema.objects.filter(pk=schema.id).exists()
    assert Asset.objects.get(pk=asset.pk).data_schema_id == schema.id

    # Once no asset uses it, it can go.
    post_json(admin, update_url(asset.id), {"mode": "REPLACE", "data": {}, "data_schema_id": 0})
    assert admin.delete(f"/api/v1/assetschemas/{schema.id}").status_code == 204
    assert not DataSchema.objects.filter(pk=schema.id).exists()


def test_builtin_schema_cannot_be_changed_or_deleted(client_for):
    admin = client_for(Role.ADMIN)
    before = DataSchema.objects.get(pk=0)
    put = admin.put("/api/v1/assetschemas/0", {"name": "mine now", "schema": {"type": "object"}}, format="json")
    assert_error(put, 403, code="builtin_schema")
    delete = admin.delete("/api/v1/assetschemas/0")
    assert_error(delete, 403, code="builtin_schema")
    after = DataSchema.objects.get(pk=0)
    assert (after.name, after.schema, after.account_id) == (before.name, before.schema, None)


# --- jobs ------------------------------------------------------------------------------------


def test_job_document_shows_status_output_error_times_kind_and_user(client_for):
    admin = client_for(Role.ADMIN)
    finished = timezone.now() + timedelta(seconds=3)
    output = [{"name": "framed", "asset_id": "a" * 32}]
    error = [{"name": None, "asset_id": "b" * 32, "error": "image_id " + "c" * 32 + " does not exist"}]
    job = Job.objects.create(
        account=admin.user.membership.account,
        user=admin.user,
        kind="image_graphics",
        status=JobStatus.ERROR,
        output=output,
        error=error,
        finished_at=finished,
    )
    reader = client_for(Role.USER)  # any role of the account may read any job of it
    response = reader.get(f"/api/v1/jobs/{job.id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ERROR"
    assert body["output"] == output
    assert body["error"] == error
    assert body["kind"] == "image_graphics"
    assert body["user"] == admin.user.username
    assert body["created_at"]
    assert body["finished_at"]
    from django.utils.dateparse import parse_datetime

    assert parse_datetime(body["created_at"]) == Job.objects.get(pk=job.pk).created_at
    assert parse_datetime(body["finished_at"]) == finished


def test_queued_job_has_no_finish_time(client_for):
    admin = client_for(Role.ADMIN)
    job = Job.objects.create(account=admin.user.membership.account, user=admin.user, kind="image_graphics")
    body = admin.get(f"/api/v1/jobs/{job.id}").json()
    assert (body["status"], body["output"], body["error"], body["finished_at"]) == ("QUEUED", [], [], None)


def test_another_accounts_job_is_404(client_for):
    other = client_for(Role.ADMIN, account="globex")
    job = Job.objects.create(
        account=other.user.membership.account, user=other.user, kind="image_graphics", status=JobStatus.OK
    )
    response = client_for(Role.ADMIN).get(f"/api/v1/jobs/{job.id}")
    body = assert_error(response, 404)
    assert "globex" not in body["message"]
    assert other.get(f"/api/v1/jobs/{job.id}").status_code == 200


@pytest.mark.parametrize("job_id", ["0" * 32, "not-a-job-id"])
def test_unknown_job_is_404(client_for, job_id):
    response = client_for(Role.ADMIN).get(f"/api/v1/jobs/{job_id}")
    assert_error(response, 404)


def test_job_needs_credentials(client_for):
    admin = client_for(Role.ADMIN)
    job = Job.objects.create(account=admin.user.membership.account, user=admin.user, kind="image_graphics")
    from rest_framework.test import APIClient

    assert_error(APIClient().get(f"/api/v1/jobs/{job.id}"), 401)
