"""Input the databases cannot store, or the parsers choke on, is a 400 naming the field,
never a 500 — on SQLite and on PostgreSQL alike (CI runs this file on both)."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from assets.models import Asset, DataSchema
from tests.conftest import stored_files
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def api(client_for) -> APIClient:
    client = client_for("ADMIN")
    client.raise_request_exception = False
    return client


@pytest.fixture
def asset(api) -> dict:
    response = api.post(
        "/api/v1/assets", {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(size=(64, 64)))}, format="multipart"
    )
    assert response.status_code == 201
    return response.json()


@pytest.mark.parametrize(
    "query, field",
    [("name=%00", "name"), ("content_type=image%2Fjpeg%00", "content_type"), ("has_conversion=a%00", "has_conversion")],
)
def test_nul_in_list_filters_is_400_naming_the_filter(api, query, field):
    response = api.get(f"/api/v1/assets?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"data": {"a": "\\u0000"}, "mode": "APPEND"}', "data.a"),
        ('{"data": {"a": ["ok", "x\\u0000"]}, "mode": "APPEND"}', "data.a[1]"),
        ('{"data": {"a": "\\ud800"}, "mode": "APPEND"}', "data.a"),
        ('{"data": {"a\\u0000": 1}, "mode": "APPEND"}', "data"),
        ('{"data": {"a": 1}, "mode": "APPEND", "data_schema_id": 100000000000000000000000}', "data_schema_id"),
        ('{"data": {"a": 1}, "mode": "APPEND", "data_schema_id": -1}', "data_schema_id"),
        ('{"data": {"a": 1}, "mode": "APPEND", "data_schema_id": 1.5}', "data_schema_id"),
    ],
)
def test_unstorable_data_update_is_400_naming_the_path_and_changes_nothing(api, asset, body, field):
    response = api.post(f"/api/v1/assets/{asset['id']}/data/update", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Asset.objects.get(id=asset["id"]).data == {}


def test_json_nested_beyond_the_limit_is_400_not_a_recursion_error(api, asset):
    response = api.post(
        f"/api/v1/assets/{asset['id']}/data/update", '{"data": ' + DEEP + ', "mode": "APPEND"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested" in response.json()["message"]


def test_data_nested_65_levels_is_400_but_64_is_stored(api, asset):
    def nested(levels: int):
        value: object = 1
        for _ in range(levels):
            value = {"k": value}
        return value

    url = f"/api/v1/assets/{asset['id']}/data/update"
    too_deep = api.post(url, {"data": nested(65), "mode": "REPLACE"}, format="json")
    assert too_deep.status_code == 400
    fine = api.post(url, {"data": nested(63), "mode": "REPLACE"}, format="json")
    assert fine.status_code == 200
    assert Asset.objects.get(id=asset["id"]).data == nested(63)


def test_multipart_data_field_with_nul_is_400_and_stores_nothing(api):
    response = api.post(
        "/api/v1/assets",
        {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(size=(64, 64))), "data": '{"a": "\\u0000"}'},
        format="multipart",
    )
    assert response.status_code == 400
    assert "data.a" in response.json()["errors"]
    assert Asset.objects.count() == 0


def test_non_finite_numbers_in_json_are_400(api, asset):
    response = api.post(
        f"/api/v1/assets/{asset['id']}/data/update", '{"data": {"a": NaN}, "mode": "APPEND"}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_schema_name_with_nul_is_400_and_creates_nothing(api):
    before = DataSchema.objects.count()
    response = api.post("/api/v1/assetschemas", {"name": "x\x00", "schema": {"type": "object"}}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert DataSchema.objects.count() == before


@pytest.mark.parametrize("schema_id", ["99999999999999999999999", "-1", "1e3", "%00"])
def test_out_of_range_schema_ids_are_404(api, schema_id):
    assert api.get(f"/api/v1/assetschemas/{schema_id}").status_code == 404


def test_conversion_name_with_nul_in_the_path_is_404(api, asset):
    response = api.get(f"/api/v1/assets/{asset['id']}/content/x%00y")
    assert response.status_code == 404
    assert response.json()["code"] == "conversion_not_found"


@pytest.mark.parametrize("key", ["ab\x00cd.ef", "é" * 10, "x" * 300])
def test_malformed_api_keys_are_401(db, key):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=key)
    response = client.get("/api/v1/assets")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_upload_file_name_with_control_characters_is_cleaned(api):
    response = api.post(
        "/api/v1/assets", {"file": SimpleUploadedFile("ph\x00o\x07to.jpg", jpeg_bytes(size=(64, 64)))},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Asset.objects.get(id=response.json()["id"]).name == "photo.jpg"


@pytest.mark.parametrize("name", ["thumb%0A", "thumb%0D%0A"])
def test_conversion_name_with_a_trailing_newline_is_400(api, asset, name):
    response = api.post(
        f"/api/v1/assets/{asset['id']}/content/{name}",
        {"file": SimpleUploadedFile("c.jpg", jpeg_bytes(size=(32, 32)))},
        format="multipart",
    )
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert not Asset.objects.get(id=asset["id"]).conversions.exists()


def test_bg_remove_conversion_name_with_a_trailing_newline_is_400(api, asset):
    response = api.post(
        f"/api/v1/assets/{asset['id']}/addons/bg_remove?mode=save_image&disposition=add_conversion"
        "&conversion_name=thumb%0A",
        {"image": SimpleUploadedFile("c.jpg", jpeg_bytes(size=(32, 32)))},
        format="multipart",
    )
    assert response.status_code == 400
    assert "conversion_name" in response.json()["errors"]


def test_an_empty_json_schema_is_a_valid_schema_that_accepts_any_data(api, asset):
    created = api.post("/api/v1/assetschemas", {"name": "anything", "schema": {}}, format="json")
    assert created.status_code == 201, created.content
    schema_id = created.json()["id"]
    assert DataSchema.objects.get(id=schema_id).schema == {}
    updated = api.post(
        f"/api/v1/assets/{asset['id']}/data/update",
        {"data": {"any": ["thing", 1]}, "mode": "REPLACE", "data_schema_id": schema_id},
        format="json",
    )
    assert updated.status_code == 200
    assert Asset.objects.get(id=asset["id"]).data_schema_id == schema_id


def test_a_model_validation_error_escaping_a_service_is_a_400_naming_the_field(api, monkeypatch):
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError({"name": ["too odd"]})

    monkeypatch.setattr("assets.services.schema_create", refuse)
    response = api.post("/api/v1/assetschemas", {"name": "x", "schema": {"type": "object"}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"name": ["too odd"]}
    assert response.json()["code"] == "invalid"


# --- regular expressions in data schemas run on RE2 ---------------------------------------------

REDOS_SCHEMA = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}


def test_a_catastrophic_pattern_against_a_40_character_value_answers_within_a_second(api, asset):
    """With a backtracking engine this took 11 s at 28 characters, doubling with each one."""
    schema_id = api.post("/api/v1/assetschemas", {"name": "redos", "schema": REDOS_SCHEMA}, format="json").json()["id"]
    url = f"/api/v1/assets/{asset['id']}/data/update"
    started = time.monotonic()
    response = api.post(url, {"data": {"code": "a" * 39 + "!"}, "mode": "REPLACE", "data_schema_id": schema_id}, format="json")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"validation took {elapsed:.2f} s"
    assert response.status_code == 400
    assert response.json()["code"] == "schema_violation"
    assert "data.code" in response.json()["errors"]
    assert Asset.objects.get(id=asset["id"]).data == {}
    fine = api.post(url, {"data": {"code": "a" * 40}, "mode": "REPLACE", "data_schema_id": schema_id}, format="json")
    assert fine.status_code == 200
    assert Asset.objects.get(id=asset["id"]).data == {"code": "a" * 40}


def test_catastrophic_pattern_properties_and_additional_properties_are_bounded_too(api, asset):
    schema = {"type": "object", "patternProperties": {"^(b+)+$": {"type": "integer"}}, "additionalProperties": False}
    schema_id = api.post("/api/v1/assetschemas", {"name": "keys", "schema": schema}, format="json").json()["id"]
    started = time.monotonic()
    response = api.post(
        f"/api/v1/assets/{asset['id']}/data/update",
        {"data": {"b" * 40 + "!": 1}, "mode": "REPLACE", "data_schema_id": schema_id},
        format="json",
    )
    assert time.monotonic() - started < 1.0
    assert response.status_code == 400 and "data" in response.json()["errors"]


@pytest.mark.parametrize(
    "schema, field",
    [
        ({"properties": {"code": {"type": "string", "pattern": "^(?=a)b"}}}, "schema.properties.code.pattern"),
        ({"properties": {"code": {"pattern": "(x)\\1"}}}, "schema.properties.code.pattern"),
        ({"properties": {"tags": {"items": {"pattern": "(?<!x)y"}}}}, "schema.properties.tags.items.pattern"),
        ({"patternProperties": {"(?!tmp)": {}}}, "schema.patternProperties"),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_when_the_schema_is_saved(api, schema, field):
    before = list(DataSchema.objects.values_list("id", "schema"))
    created = api.post("/api/v1/assetschemas", {"name": "bad", "schema": schema}, format="json")
    assert created.status_code == 400, created.content
    body = created.json()
    assert field in body["errors"], body
    assert "RE2" in body["errors"][field][0] and "rewrite the pattern" in body["errors"][field][0]
    good = api.post("/api/v1/assetschemas", {"name": "good", "schema": {"type": "object"}}, format="json").json()
    replaced = api.put(f"/api/v1/assetschemas/{good['id']}", {"name": "bad", "schema": schema}, format="json")
    assert replaced.status_code == 400 and field in replaced.json()["errors"]
    assert DataSchema.objects.get(id=good["id"]).schema == {"type": "object"}
    assert list(DataSchema.objects.exclude(id=good["id"]).values_list("id", "schema")) == before


def test_patterns_re2_understands_beyond_pythons_re_are_accepted(api, asset):
    schema = {"type": "object", "properties": {"word": {"type": "string", "pattern": "^\\p{L}+$"}}}
    created = api.post("/api/v1/assetschemas", {"name": "letters", "schema": schema}, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/assets/{asset['id']}/data/update"
    ok = api.post(url, {"data": {"word": "héllo"}, "mode": "REPLACE", "data_schema_id": created.json()["id"]}, format="json")
    assert ok.status_code == 200
    bad = api.post(url, {"data": {"word": "h3llo"}, "mode": "REPLACE", "data_schema_id": created.json()["id"]}, format="json")
    assert bad.status_code == 400 and "data.word" in bad.json()["errors"]


# --- multipart file names -------------------------------------------------------------------------


@pytest.mark.parametrize("file_name", [".", ".."])
def test_an_upload_named_dot_or_dot_dot_is_stored_as_upload(api, media_root, file_name):
    """Django dropped such a part without reading past its bytes, then failed on them with
    "Request max total header size exceeded"."""
    data = jpeg_bytes()  # large enough that the old parser ran into the file's bytes
    boundary = "hostile-boundary-42"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    response = api.generic("POST", "/api/v1/assets", body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.content
    asset = Asset.objects.get(id=response.json()["id"])
    assert asset.name == "upload" and asset.size == len(data)
    assert [p.read_bytes() for p in stored_files(media_root)] == [data]
