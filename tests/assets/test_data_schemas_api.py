"""GET/POST assetschemas and GET/PUT/DELETE assetschemas/{id} (SPEC §3): the built-in and
the account's own schemas only, ADMIN-only writes, validation naming the field, and no
change (409) that would leave an asset's data invalid or drop a schema in use."""

from __future__ import annotations

import pytest

from assets.models import Asset, DataSchema, Role
from tests.assets.conftest import PRODUCT_SCHEMA, SMALL_PNG, VALID_PRODUCT, make_schema, post_json, update_url
from tests.conftest import assert_error, make_asset

pytestmark = pytest.mark.django_db


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
    asset = make_asset(admin.user, "thing.png", SMALL_PNG, data=VALID_PRODUCT, data_schema=schema)
    stricter = {**PRODUCT_SCHEMA, "required": ["sku", "title", "weight"]}
    response = admin.put(f"/api/v1/assetschemas/{schema.id}", {"name": "stricter", "schema": stricter}, format="json")
    assert_error(response, 409, code="schema_in_use")
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("product", PRODUCT_SCHEMA)
    assert Asset.objects.get(pk=asset.pk).data_schema_id == schema.id


def test_put_compatible_with_the_assets_data_is_200(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user)
    make_asset(admin.user, "thing.png", SMALL_PNG, data=VALID_PRODUCT, data_schema=schema)
    looser = {**PRODUCT_SCHEMA, "required": ["sku"]}
    response = admin.put(f"/api/v1/assetschemas/{schema.id}", {"name": "looser", "schema": looser}, format="json")
    assert response.status_code == 200, response.content
    row = DataSchema.objects.get(pk=schema.id)
    assert (row.name, row.schema) == ("looser", looser)


def test_put_checks_only_assets_of_that_schema(client_for):
    admin = client_for(Role.ADMIN)
    schema = make_schema(admin.user, schema={"type": "object"})
    make_asset(admin.user, "thing.png", SMALL_PNG, data={"no": "sku"})  # on schema 0, not affected by the change
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
    asset = make_asset(admin.user, "thing.png", SMALL_PNG, data=VALID_PRODUCT, data_schema=schema)
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


@pytest.mark.parametrize(
    "name, accepted",
    [
        ("\x1d", True),  # not whitespace to the OpenAPI document's \S (ECMAScript), though Python's strip() drops it
        ("\x85x", True),
        ("\ufeff", False),  # whitespace to ECMAScript, not to Python's strip()
        (" \u3000\t", False),
    ],
)
def test_a_blank_name_is_what_the_documents_pattern_calls_blank(client_for, name, accepted):
    admin = client_for(Role.ADMIN)
    response = post_json(admin, "/api/v1/assetschemas", {"name": name, "schema": {}})
    if accepted:
        assert response.status_code == 201, response.content
        assert DataSchema.objects.get(id=response.json()["id"]).name == name
    else:
        assert_error(response, 400, field="name")
        assert not DataSchema.objects.exclude(id=0).exists()


@pytest.mark.parametrize("name", ["\x00", "a\x00", "\x00 a", "ab\x00cd"])
def test_the_documents_name_pattern_refuses_every_nul_as_the_api_does(client_for, name):
    """The OpenAPI document and the API agree on names with a NUL: neither accepts one
    (a pattern built on \\S alone let exactly one NUL through, and the fuzz test sent it)."""
    import re

    admin = client_for(Role.ADMIN)
    document = admin.get("/api/schema/?format=json").json()
    body = document["paths"]["/api/v1/assetschemas"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert re.search(body["properties"]["name"]["pattern"], name) is None
    assert_error(post_json(admin, "/api/v1/assetschemas", {"name": name, "schema": {}}), 400, field="name")
