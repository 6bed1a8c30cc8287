"""The `data` and `data_schema_id` fields of POST assets: a JSON object is stored, anything
else is a 400 naming `data`; an unknown or foreign schema is a 400 naming
`data_schema_id`; data violating the schema is a 400 listing each violation."""

from __future__ import annotations

import json

import pytest

from assets import services
from assets.models import Asset
from tests.assets.conftest import ASSETS_URL, upload
from tests.conftest import assert_error, stored_files
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db


# --- the data and data_schema_id fields ------------------------------------------------------

SKU_SCHEMA = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "price": {"type": "number", "minimum": 0}},
    "required": ["sku"],
}


@pytest.fixture
def sku_schema(admin_client_api):
    return services.schema_create(user=admin_client_api.user, name="product", schema=SKU_SCHEMA)


def test_data_json_object_is_stored(admin_client_api, media_root):
    data = {"title": "Astronaut", "tags": ["space", "nasa"], "nested": {"n": 1.5, "ok": True}}
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data=json.dumps(data))

    assert response.status_code == 201, response.content
    assert response.json()["data"] == data
    assert Asset.objects.get(id=response.json()["id"]).data == data
    assert admin_client_api.get(f"{ASSETS_URL}/{response.json()['id']}").json()["data"] == data


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("{not json", id="invalid_json"),
        pytest.param('[1, 2, 3]', id="array"),
        pytest.param('"a string"', id="string"),
        pytest.param("42", id="number"),
    ],
)
def test_data_that_is_not_a_json_object_is_400_naming_data(raw, admin_client_api, media_root):
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data=raw)

    body = assert_error(response, 400, code="invalid", field="data")
    assert body["message"].startswith("data")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize("schema_id", ["999999", "abc", "-1"])
def test_unknown_data_schema_id_is_400_naming_it(schema_id, admin_client_api, media_root):
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data_schema_id=schema_id)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error"
    assert "data_schema_id" in body["errors"]
    assert "data_schema_id" in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_another_accounts_schema_is_400_naming_data_schema_id(client_for, admin_client_api, media_root):
    other_admin = client_for("ADMIN", account="globex")
    foreign = services.schema_create(user=other_admin.user, name="theirs", schema={"type": "object"})

    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data_schema_id=str(foreign.id))

    assert_error(response, 400, code="schema_not_found", field="data_schema_id")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("data", "paths"),
    [
        pytest.param({"price": 3}, {"data"}, id="missing_sku"),
        pytest.param({"sku": 12}, {"data.sku"}, id="sku_not_string"),
        pytest.param({"sku": "A1", "price": -1}, {"data.price"}, id="negative_price"),
        pytest.param({"sku": 1, "price": "x"}, {"data.sku", "data.price"}, id="two_violations"),
    ],
)
def test_data_violating_the_schema_is_400_and_leaves_nothing(
    data, paths, sku_schema, admin_client_api, media_root
):
    response = upload(
        admin_client_api, "astro.jpg", jpeg_bytes(), data=json.dumps(data), data_schema_id=str(sku_schema.id)
    )

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == "schema_violation"
    assert set(body["errors"]) == paths
    assert all(body["errors"][p] for p in paths)
    assert str(sku_schema.id) in body["message"]
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_missing_required_key_names_it(sku_schema, admin_client_api, media_root):
    response = upload(admin_client_api, "astro.jpg", jpeg_bytes(), data="{}", data_schema_id=str(sku_schema.id))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "schema_violation"
    assert any("sku" in m for m in response.json()["errors"]["data"])
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


def test_data_satisfying_the_schema_is_stored_with_its_schema(sku_schema, admin_client_api, media_root):
    data = {"sku": "A-100", "price": 9.5}
    body = jpeg_bytes()
    response = upload(admin_client_api, "astro.jpg", body, data=json.dumps(data), data_schema_id=str(sku_schema.id))

    assert response.status_code == 201, response.content
    doc = response.json()
    assert doc["data_schema_id"] == sku_schema.id
    assert doc["data"] == data
    asset = Asset.objects.get(id=doc["id"])
    assert (asset.data_schema_id, asset.data) == (sku_schema.id, data)
    assert [p.read_bytes() for p in stored_files(media_root)] == [body]
