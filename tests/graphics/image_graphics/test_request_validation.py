"""Image Graphics' validation before queueing (SPEC §5): every malformed request, unknown
data schema, data violating a schema and geometry that does not fit the stored (upright)
size is a 400 naming the JSON path, and queues nothing."""

from __future__ import annotations

import pytest

from assets.models import DataSchema, Role
from tests.conftest import assert_error
from tests.graphics.conftest import snapshot
from tests.graphics.image_graphics.conftest import (
    BG_REMOVE_OPS,
    PLAIN_OPS,
    TITLE_SCHEMA,
    URL,
    body_for,
    make_source,
)
from tests.images import exif_rotated_jpeg_bytes

pytestmark = pytest.mark.django_db


# --- validation before queueing --------------------------------------------------------------


def _with_options(options: dict, operations: list | None = None):
    return lambda ids: body_for(ids["source"], options, operations)


def _with_ops(operations: list):
    return lambda ids: body_for(ids["source"], None, operations)


# (case id, body maker, the JSON path named in `errors`). The source asset is 192x192.
VALIDATION_CASES = [
    ("body_not_an_object", lambda ids: [body_for(ids["source"])], "body"),
    ("no_assets_key", lambda ids: {"operations": PLAIN_OPS}, "assets"),
    ("assets_empty", lambda ids: {"assets": [], "operations": PLAIN_OPS}, "assets"),
    ("assets_not_a_list", lambda ids: {"assets": {ids["source"]: {}}, "operations": PLAIN_OPS}, "assets"),
    ("no_operations_key", lambda ids: {"assets": [{ids["source"]: {}}]}, "operations"),
    ("operations_empty", lambda ids: {"assets": [{ids["source"]: {}}], "operations": []}, "operations"),
    ("operations_not_a_list", lambda ids: {"assets": [{ids["source"]: {}}], "operations": {"bg_remove": {}}}, "operations"),
    ("unknown_top_level_key", lambda ids: {**body_for(ids["source"]), "priority": "high"}, "priority"),
    ("asset_entry_two_keys", lambda ids: {"assets": [{ids["source"]: {}, ids["other"]: {}}], "operations": PLAIN_OPS}, "assets[0]"),
    ("asset_id_not_hex", lambda ids: {"assets": [{"ABC": {}}], "operations": PLAIN_OPS}, "assets[0]"),
    ("unknown_operation", _with_ops([{"sharpen": {"options": {}}}]), "operations[0]"),
    ("unknown_second_operation", _with_ops([*PLAIN_OPS, {"blur": {}}]), "operations[1]"),
    ("unknown_asset_option", _with_options({"rotate": 90}), "assets[0].options.rotate"),
    ("unknown_asset_entry_key", lambda ids: {"assets": [{ids["source"]: {"opts": {}}}], "operations": PLAIN_OPS}, "assets[0].opts"),
    ("unknown_crop_key", _with_options({"crop": {"left": 0, "top": 0, "right": 10, "bottom": 10, "depth": 1}}), "assets[0].options.crop.depth"),
    ("unknown_disposition_key", _with_options({"disposition": {"create_asset": True, "folder": "x"}}), "assets[0].options.disposition.folder"),
    ("unknown_metadata_key", _with_options({"disposition": {"metadata": {"inherit": True, "copy": 1}}}), "assets[0].options.disposition.metadata.copy"),
    ("unknown_bg_add_option", _with_ops([{"bg_add": {"options": {"color": "#fff", "opacity": 1}}}]), "operations[0].bg_add.options.opacity"),
    ("unknown_bg_remove_option", _with_ops([{"bg_remove": {"options": {"model": "u2net"}}}]), "operations[0].bg_remove.options.model"),
    ("unknown_graphic_option", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_id": "a" * 32, "angle": 3}}]}}]), "operations[0].graphics_add.graphics[0].options.angle"),
    ("crop_left_string", _with_options({"crop": {"left": "0", "top": 0, "right": 10, "bottom": 10}}), "assets[0].options.crop.left"),
    ("crop_bottom_float", _with_options({"crop": {"left": 0, "top": 0, "right": 10, "bottom": 10.5}}), "assets[0].options.crop.bottom"),
    ("crop_missing_side", _with_options({"crop": {"left": 0, "top": 0, "right": 10}}), "assets[0].options.crop.bottom"),
    ("crop_right_not_after_left", _with_options({"crop": {"left": 50, "top": 0, "right": 50, "bottom": 10}}), "assets[0].options.crop.right"),
    ("size_width_bool", _with_options({"size": {"width": True}}), "assets[0].options.size.width"),
    ("size_height_zero", _with_options({"size": {"height": 0}}), "assets[0].options.size.height"),
    ("size_empty", _with_options({"size": {}}), "assets[0].options.size"),
    ("options_not_object", lambda ids: {"assets": [{ids["source"]: {"options": []}}], "operations": PLAIN_OPS}, "assets[0].options"),
    ("canvas_without_size", _with_options({"canvas": {"color": "#fff"}}), "assets[0].options.canvas.size"),
    ("canvas_one_side", _with_options({"canvas": {"size": {"width": 300}}}), "assets[0].options.canvas.size.height"),
    ("position_x_string", _with_options({"canvas": {"size": {"width": 300, "height": 300}}, "position": {"x": "1", "y": 0}}), "assets[0].options.position.x"),
    ("add_as_conversion_string", _with_options({"disposition": {"add_as_conversion": "yes", "conversion_name": "a"}}), "assets[0].options.disposition.add_as_conversion"),
    ("create_asset_number", _with_options({"disposition": {"create_asset": 1}}), "assets[0].options.disposition.create_asset"),
    ("inherit_string", _with_options({"disposition": {"metadata": {"inherit": "true"}}}), "assets[0].options.disposition.metadata.inherit"),
    ("inherit_fields_not_list", _with_options({"disposition": {"metadata": {"inherit_fields": "title"}}}), "assets[0].options.disposition.metadata.inherit_fields"),
    ("metadata_data_list", _with_options({"disposition": {"metadata": {"data": [1, 2]}}}), "assets[0].options.disposition.metadata.data"),
    ("metadata_mode_unknown", _with_options({"disposition": {"metadata": {"mode": "MERGE"}}}), "assets[0].options.disposition.metadata.mode"),
    ("src_asset_id_not_hex", _with_options({"disposition": {"metadata": {"inherit": True, "src_asset_id": "nope"}}}), "assets[0].options.disposition.metadata.src_asset_id"),
    ("data_schema_id_string", _with_options({"disposition": {"data_schema_id": "1"}}), "assets[0].options.disposition.data_schema_id"),
    ("graphics_not_list", _with_ops([{"graphics_add": {"graphics": {"type": "image"}}}]), "operations[0].graphics_add.graphics"),
    ("graphic_type_unknown", _with_ops([{"graphics_add": {"graphics": [{"type": "text", "options": {"image_id": "a" * 32}}]}}]), "operations[0].graphics_add.graphics[0].type"),
    ("bg_add_mode_unknown", _with_ops([{"bg_add": {"options": {"color": "#fff", "mode": "tile"}}}]), "operations[0].bg_add.options.mode"),
    ("bg_remove_strength_unknown", _with_ops([{"bg_remove": {"options": {"strength": "max"}}}]), "operations[0].bg_remove.options.strength"),
    ("canvas_color_five_digits", _with_options({"canvas": {"size": {"width": 300, "height": 300}, "color": "#12345"}}), "assets[0].options.canvas.color"),
    ("canvas_color_no_hash", _with_options({"canvas": {"size": {"width": 300, "height": 300}, "color": "00ff00"}}), "assets[0].options.canvas.color"),
    ("bg_add_color_name", _with_ops([{"bg_add": {"options": {"color": "green"}}}]), "operations[0].bg_add.options.color"),
    ("graphic_color_not_hex", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_id": "a" * 32, "color": "#ggg"}}]}}]), "operations[0].graphics_add.graphics[0].options.color"),
    ("crop_right_beyond_width", _with_options({"crop": {"left": 0, "top": 0, "right": 193, "bottom": 100}}), "assets[0].options.crop.right"),
    ("crop_bottom_beyond_height", _with_options({"crop": {"left": 0, "top": 0, "right": 192, "bottom": 200}}), "assets[0].options.crop.bottom"),
    ("crop_of_second_asset", lambda ids: {"assets": [{ids["source"]: {}}, {ids["other"]: {"options": {"crop": {"left": 0, "top": 0, "right": 121, "bottom": 80}}}}], "operations": PLAIN_OPS}, "assets[1].options.crop.right"),
    # canvas 300x200, the whole 192x192 subject: x + 192 > 300
    ("position_x_outside_canvas", _with_options({"canvas": {"size": {"width": 300, "height": 200}}, "position": {"x": 109, "y": 0}}), "assets[0].options.position.x"),
    # the subject is crop 100x50 resized to width 80 -> 80x40; canvas 100x100: x fits exactly, y does not
    ("position_y_outside_canvas_crop_and_size", _with_options({"crop": {"left": 10, "top": 10, "right": 110, "bottom": 60}, "size": {"width": 80}, "canvas": {"size": {"width": 100, "height": 100}}, "position": {"x": 20, "y": 61}}), "assets[0].options.position.y"),
    # the stage comes from bg_add.size (200x150); the subject resized to 100x100
    ("position_x_outside_bg_add_size", _with_options({"size": {"width": 100}, "position": {"x": 101, "y": 0}}, [{"bg_add": {"options": {"color": "#fff", "size": {"width": 200, "height": 150}}}}]), "assets[0].options.position.x"),
    ("position_y_outside_bg_add_size", _with_options({"size": {"width": 100}, "position": {"x": 100, "y": 51}}, [{"bg_add": {"options": {"color": "#fff", "size": {"width": 200, "height": 150}}}}]), "assets[0].options.position.y"),
    # no canvas and bg_add without size: the stage is the subject itself
    ("position_offset_on_subject_sized_stage", _with_options({"position": {"x": 1, "y": 0}}), "assets[0].options.position.x"),
    ("position_without_canvas_or_bg_add", _with_options({"position": {"x": 0, "y": 0}}, BG_REMOVE_OPS), "assets[0].options.position"),
    ("conversion_name_without_add_as_conversion", _with_options({"disposition": {"create_asset": True, "conversion_name": "thumb"}}), "assets[0].options.disposition.conversion_name"),
    ("metadata_without_new_asset", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "a", "metadata": {"inherit": True}}}), "assets[0].options.disposition.metadata"),
    ("data_schema_id_without_new_asset", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "a", "data_schema_id": 0}}), "assets[0].options.disposition.data_schema_id"),
    ("inherit_fields_not_strings", _with_options({"disposition": {"metadata": {"inherit_fields": ["title", 3]}}}), "assets[0].options.disposition.metadata.inherit_fields"),
    ("add_as_conversion_without_name", _with_options({"disposition": {"add_as_conversion": True}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_with_space", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "my thumb"}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_original", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "original"}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_too_long", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": "x" * 31}}), "assets[0].options.disposition.conversion_name"),
    ("conversion_name_not_string", _with_options({"disposition": {"add_as_conversion": True, "conversion_name": 7}}), "assets[0].options.disposition.conversion_name"),
    ("image_url_host_not_allowed", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_url": "https://example.com/logo.png"}}]}}]), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("image_url_not_http", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"image_url": "file:///etc/passwd"}}]}}]), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic_needs_one_source", _with_ops([{"graphics_add": {"graphics": [{"type": "image", "options": {"size": {"width": 5, "height": 5}}}]}}]), "operations[0].graphics_add.graphics[0].options"),
]


@pytest.mark.parametrize("make_body, field", [c[1:] for c in VALIDATION_CASES], ids=[c[0] for c in VALIDATION_CASES])
def test_invalid_request_is_400_naming_the_json_path_and_queues_nothing(
    creator, source, other, media_root, make_body, field
):
    before = snapshot(media_root)
    response = creator.post(URL, make_body({"source": source.id, "other": other.id}), format="json")
    assert_error(response, 400, field=field)
    assert snapshot(media_root) == before


def test_unknown_data_schema_id_is_400_naming_it(creator, source, media_root):
    before = snapshot(media_root)
    body = body_for(source.id, {"disposition": {"create_asset": True, "data_schema_id": 987654}})
    assert_error(creator.post(URL, body, format="json"), 400, field="assets[0].options.disposition.data_schema_id")
    assert snapshot(media_root) == before


def test_data_schema_of_another_account_is_400_like_an_unknown_one(creator, source, client_for, media_root):
    outsider = client_for(Role.ADMIN, account="globex")
    theirs = DataSchema.objects.create(account=outsider.user.membership.account, name="theirs", schema=TITLE_SCHEMA)
    before = snapshot(media_root)
    body = body_for(source.id, {"disposition": {"data_schema_id": theirs.id}})
    assert_error(creator.post(URL, body, format="json"), 400, field="assets[0].options.disposition.data_schema_id")
    assert snapshot(media_root) == before


@pytest.mark.parametrize(
    "metadata, errors",
    [
        # the price is a string: the violation names the key under metadata.data
        ({"data": {"price": "cheap"}}, {"assets[0].options.disposition.metadata.data.price"}),
        # price missing altogether: the violation is on the data object itself
        ({"data": {"title": "t"}}, {"assets[0].options.disposition.metadata.data"}),
        # inherited data (no price) under the given schema
        ({"inherit": True}, {"assets[0].options.disposition.metadata.data"}),
    ],
    ids=["wrong_type", "missing_required", "inherited_data"],
)
def test_new_asset_data_violating_the_schema_is_400_schema_violation(
    creator, source, price_schema, media_root, metadata, errors
):
    before = snapshot(media_root)
    body = body_for(source.id, {"disposition": {"create_asset": True, "data_schema_id": price_schema.id, "metadata": metadata}})
    response = creator.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    document = response.json()
    assert document["code"] == "schema_violation"
    assert set(document["errors"]) == errors
    assert "assets[0]" in document["message"]
    assert snapshot(media_root) == before


def test_inherited_schema_is_checked_before_queueing_against_the_final_data(
    creator, title_schema, media_root
):
    """inherit: true keeps the source's schema; REPLACE-free APPEND data that breaks it is a 400."""
    titled = make_source(creator, data={"title": "Astronaut"}, data_schema=title_schema)
    before = snapshot(media_root)
    body = body_for(titled.id, {"disposition": {"metadata": {"inherit": True, "data": {"title": 5}}}})
    response = creator.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "schema_violation"
    assert set(response.json()["errors"]) == {"assets[0].options.disposition.metadata.data.title"}
    assert snapshot(media_root) == before


def test_geometry_is_checked_against_the_upright_size_of_an_exif_rotated_original(creator, media_root):
    rotated = make_source(creator, name="chelsea.jpg", body=exif_rotated_jpeg_bytes())
    assert (rotated.width, rotated.height) == (300, 451)
    before = snapshot(media_root)
    crop = {"left": 0, "top": 0, "right": 400, "bottom": 100}  # fits 451 wide stored, not 300 upright
    assert_error(creator.post(URL, body_for(rotated.id, {"crop": crop}), format="json"), 400, field="assets[0].options.crop.right")
    assert snapshot(media_root) == before
    crop = {"left": 0, "top": 0, "right": 300, "bottom": 451}
    assert creator.post(URL, body_for(rotated.id, {"crop": crop}), format="json").status_code == 202
