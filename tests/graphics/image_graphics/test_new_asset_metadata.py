"""The data and data schema of the new asset an Image Graphics job makes: inherit,
inherit_fields, src_asset_id, data and mode (APPEND/REPLACE), and the documented
default schema."""

from __future__ import annotations

import pytest

from assets.models import DEFAULT_SCHEMA_ID, DataSchema, JobStatus
from assets.validators import data_check
from tests.graphics.conftest import run_job
from tests.graphics.image_graphics.conftest import (
    OTHER_DATA,
    SOURCE_DATA,
    body_for,
    make_source,
    new_assets_of,
    queue,
)

pytestmark = pytest.mark.django_db


# --- metadata of the new asset ------------------------------------------------------------------

META_CASES = [
    ("none", None, lambda s, o: {}),
    ("inherit_all", {"inherit": True}, lambda s, o: dict(SOURCE_DATA)),
    ("inherit_from_src_asset", {"inherit": True, "src_asset_id": "OTHER"}, lambda s, o: dict(OTHER_DATA)),
    ("inherit_fields", {"inherit_fields": ["title", "owner", "absent"]}, lambda s, o: {"title": "Astronaut", "owner": "nasa"}),
    ("inherit_fields_with_inherit", {"inherit": True, "inherit_fields": ["tags"]}, lambda s, o: {"tags": ["space", "portrait"]}),
    ("inherit_fields_from_src", {"inherit_fields": ["license"], "src_asset_id": "OTHER"}, lambda s, o: {"license": "cc-by"}),
    ("data_only", {"data": {"campaign": "spring"}}, lambda s, o: {"campaign": "spring"}),
    ("append_default", {"inherit": True, "data": {"title": "Framed", "campaign": "spring"}}, lambda s, o: {**SOURCE_DATA, "title": "Framed", "campaign": "spring"}),
    ("append_explicit", {"inherit_fields": ["title", "owner"], "data": {"owner": "esa"}, "mode": "APPEND"}, lambda s, o: {"title": "Astronaut", "owner": "esa"}),
    ("replace", {"inherit": True, "data": {"campaign": "spring"}, "mode": "REPLACE"}, lambda s, o: {"campaign": "spring"}),
    ("replace_without_data", {"inherit": True, "mode": "REPLACE"}, lambda s, o: {}),
]


@pytest.mark.parametrize("metadata, expected", [c[1:] for c in META_CASES], ids=[c[0] for c in META_CASES])
def test_new_asset_metadata_follows_the_rules(
    creator, source, other, django_capture_on_commit_callbacks, metadata, expected
):
    disposition: dict = {"create_asset": True}
    if metadata is not None:
        metadata = {k: (other.id if v == "OTHER" else v) for k, v in metadata.items()}
        disposition["metadata"] = metadata
    job = run_job(queue(creator, body_for(source.id, {"disposition": disposition})).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error
    (made,) = new_assets_of(source)
    assert made.data == expected(source, other)
    assert made.source_asset_id == source.id  # src_asset_id gives data, not lineage
    document = creator.get(f"/api/v1/assets/{made.id}").json()
    assert document["data"] == expected(source, other)
    # The sources are untouched.
    source.refresh_from_db()
    other.refresh_from_db()
    assert source.data == SOURCE_DATA and other.data == OTHER_DATA


# new_asset_schema_id: data_schema_id when given; else the source's schema when all of its
# data is inherited (inherit: true, APPEND, no inherit_fields); else 0.
SCHEMA_CASES = [
    ("no_metadata", None, None, "default"),
    ("inherit_keeps_source_schema", {"inherit": True}, None, "title"),
    ("inherit_append_keeps_source_schema", {"inherit": True, "data": {"campaign": "x"}}, None, "title"),
    ("inherit_replace_is_default", {"inherit": True, "data": {"campaign": "x"}, "mode": "REPLACE"}, None, "default"),
    ("inherit_fields_is_default", {"inherit_fields": ["title"]}, None, "default"),
    ("data_only_is_default", {"data": {"campaign": "x"}}, None, "default"),
    ("inherit_from_src_takes_its_schema", {"inherit": True, "src_asset_id": "OTHER"}, None, "default"),
    ("inherit_from_priced_src_takes_its_schema", {"inherit": True, "src_asset_id": "PRICED"}, None, "price"),
    ("data_schema_id_wins", {"inherit": True, "data": {"price": 9.5}}, "price", "price"),
    ("data_schema_id_without_metadata_data", {"data": {"price": 1}}, "price", "price"),
]


@pytest.mark.parametrize("metadata, given, expected", [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES])
def test_new_asset_schema_follows_the_documented_default(
    creator, other, title_schema, price_schema, django_capture_on_commit_callbacks, metadata, given, expected
):
    schemas = {"default": DataSchema.objects.get(id=DEFAULT_SCHEMA_ID), "title": title_schema, "price": price_schema}
    titled = make_source(creator, data=dict(SOURCE_DATA), data_schema=title_schema)
    priced = make_source(creator, name="priced.png", data={"price": 3, "title": "p"}, data_schema=price_schema)
    ids = {"OTHER": other.id, "PRICED": priced.id}
    disposition: dict = {"create_asset": True}
    if metadata is not None:
        disposition["metadata"] = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in metadata.items()}
    if given is not None:
        disposition["data_schema_id"] = schemas[given].id
    job = run_job(queue(creator, body_for(titled.id, {"disposition": disposition})).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error
    (made,) = new_assets_of(titled)
    assert made.data_schema_id == schemas[expected].id
    assert data_check(made.data, made.data_schema.schema) == {}
    assert creator.get(f"/api/v1/assets/{made.id}").json()["data_schema_id"] == schemas[expected].id
