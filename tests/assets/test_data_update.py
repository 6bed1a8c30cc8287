"""POST assets/{id}/data/update (SPEC §1, §3): APPEND merges shallowly, REPLACE swaps the
object; a bad body is a 400 naming the field; the result is validated against the asset's
(or a newly named) data schema, each violation listed by path. Every check reads the row."""

from __future__ import annotations

import json

import pytest

from assets.models import Asset, DataSchema, Role
from tests.assets.conftest import SMALL_PNG, VALID_PRODUCT, make_schema, post_json, row_of, update_url
from tests.conftest import assert_error, make_asset

pytestmark = pytest.mark.django_db


# --- data/update: APPEND and REPLACE ---------------------------------------------------------


def test_append_merges_shallowly_and_new_values_win(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": {"x": 1}, "keep": "me", "n": 1})
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"a": {"y": 2}, "n": 2, "new": True}})
    assert response.status_code == 200, response.content
    expected = {"a": {"y": 2}, "keep": "me", "n": 2, "new": True}
    assert response.json()["data"] == expected
    assert Asset.objects.get(pk=asset.pk).data == expected


def test_append_replaces_nested_objects_rather_than_merging_them(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": {"x": 1}})
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"a": {"y": 2}}})
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).data == {"a": {"y": 2}}


def test_replace_swaps_the_whole_object(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1, "b": {"c": 2}})
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {"z": [1, 2]}})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"z": [1, 2]}
    assert Asset.objects.get(pk=asset.pk).data == {"z": [1, 2]}


def test_replace_with_an_empty_object_clears_the_data(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {}})
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).data == {}


def test_data_update_needs_creator_role(client_for):
    client = client_for(Role.USER)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {"b": 2}})
    assert_error(response, 403)
    assert row_of(asset) == before


def test_data_update_of_another_accounts_asset_is_404(client_for):
    other = client_for(Role.ADMIN, account="globex")
    asset = make_asset(other.user, "thing.png", SMALL_PNG, data={"a": 1})
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
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), body)
    assert_error(response, 400, field=field)
    assert row_of(asset) == before


def test_data_update_body_that_is_not_json_is_400_in_the_error_shape(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
    before = row_of(asset)
    response = client.post(update_url(asset.id), data='{"mode": "APPEND", "data": {', content_type="application/json")
    body = assert_error(response, 400)
    assert body["code"] == "parse_error"
    assert set(body) <= {"status", "code", "message", "errors", "request_id"}
    assert row_of(asset) == before


def test_data_update_body_that_is_a_json_array_is_400(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
    before = row_of(asset)
    response = client.post(update_url(asset.id), data=json.dumps([{"mode": "APPEND"}]), content_type="application/json")
    assert_error(response, 400, field="body")
    assert row_of(asset) == before


def test_form_encoded_data_update_is_415(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
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
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data=VALID_PRODUCT, data_schema=schema)
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
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data=VALID_PRODUCT, data_schema=schema)
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
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data=VALID_PRODUCT, data_schema=schema)
    before = row_of(asset)
    response = post_json(client, update_url(asset.id), {"mode": "REPLACE", "data": {"sku": "XYZ-0001"}})
    body = assert_error(response, 400, code="schema_violation")
    assert list(body["errors"]) == ["data"]
    assert "title" in body["errors"]["data"][0]
    assert row_of(asset) == before


def test_switching_data_schema_id_validates_against_the_new_schema_and_stores_it(client_for):
    client = client_for(Role.ADMIN)
    schema = make_schema(client.user)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"anything": 1})
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
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data=VALID_PRODUCT, data_schema=schema)
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {"color": "blue"}})
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).data_schema_id == schema.id


def test_unknown_data_schema_id_is_400_naming_it(client_for):
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
    before = row_of(asset)
    missing = (DataSchema.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    response = post_json(client, update_url(asset.id), {"mode": "APPEND", "data": {}, "data_schema_id": missing})
    assert_error(response, 400, field="data_schema_id")
    assert row_of(asset) == before


def test_another_accounts_schema_id_is_400_like_an_unknown_one(client_for):
    other = client_for(Role.ADMIN, account="globex")
    foreign = make_schema(other.user, schema={"type": "object"})
    client = client_for(Role.CREATOR)
    asset = make_asset(client.user, "thing.png", SMALL_PNG, data={"a": 1})
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
