"""What an Image Graphics request may say, without the database: compose.parse_color,
pipeline.parse_request (every rejection names the JSON path; a full valid request keeps
every value; URL hosts; disposition combinations) and pipeline.check_geometry against
the stored size."""

from __future__ import annotations

import pytest

from core.errors import OptionError
from graphics.processing import compose, pipeline
from tests.graphics.rendering_helpers import ASSET, BG, BORDER, G1, G2, HOSTS, NOOP, URL, WHITE, graphic


# ================================================================ compose.parse_color


@pytest.mark.parametrize(
    "value, expected",
    [
        ("#000", (0, 0, 0, 255)),
        ("#fff", (255, 255, 255, 255)),
        ("#F0A", (255, 0, 170, 255)),
        ("#1a2B3c", (0x1A, 0x2B, 0x3C, 255)),
        ("#1A2B3C", (0x1A, 0x2B, 0x3C, 255)),
        ("#00000000", (0, 0, 0, 0)),
        ("#ff000080", (255, 0, 0, 128)),
        ("#AbCdEf01", (0xAB, 0xCD, 0xEF, 1)),
    ],
)
def test_parse_color_accepts_rgb_rrggbb_rrggbbaa_in_any_case(value, expected):
    assert compose.parse_color(value, "x.color") == expected


@pytest.mark.parametrize(
    "value",
    ["", "#", "fff", "#ff", "#ffff", "#fffff", "#fffffff", "#fffffffff", "#ggg", "#12345z", " #fff", "#fff ", "red",
     "#fff\n", "#ffffff\n", "#ffffff80\n", None, 255, 0xFF0000, ["#fff"], {"r": 1}, True],
)
def test_parse_color_rejects_bad_values_naming_the_field(value):
    with pytest.raises(OptionError) as raised:
        compose.parse_color(value, "operations[0].bg_add.options.color")
    assert raised.value.field == "operations[0].bg_add.options.color"
    assert "operations[0].bg_add.options.color" in str(raised.value)


# ================================================================ parse_request validation


def asset(options: dict, asset_id: str = ASSET) -> dict:
    return {asset_id: {"options": options}}


OK_OPS = [{"bg_remove": {}}]
OK_ASSETS = [asset({})]


def req(assets=None, operations=None, **extra) -> dict:
    return {"assets": OK_ASSETS if assets is None else assets, "operations": OK_OPS if operations is None else operations, **extra}


def bg_add(**options) -> list:
    return [{"bg_add": {"options": options}}]


def graphics(*entries) -> list:
    return [{"graphics_add": {"graphics": list(entries)}}]


def disposition(**values) -> list:
    return [asset({"disposition": values})]


CROP = {"left": 0, "top": 0, "right": 10, "bottom": 10}

INVALID_REQUESTS = [
    # body and lists
    ("body-not-an-object", [OK_ASSETS], "body"),
    ("missing-assets", {"operations": OK_OPS}, "assets"),
    ("missing-operations", {"assets": OK_ASSETS}, "operations"),
    ("empty-assets", req(assets=[]), "assets"),
    ("empty-operations", req(operations=[]), "operations"),
    ("assets-not-a-list", req(assets={ASSET: {}}), "assets"),
    ("unknown-top-level-key", req(extra=1), "extra"),
    # assets
    ("asset-entry-two-keys", req(assets=[{ASSET: {}, G1: {}}]), "assets[0]"),
    ("non-hex-asset-id", req(assets=[asset({}, "z" * 32)]), "assets[0]"),
    ("asset-id-trailing-newline", req(assets=[asset({}, "a" * 32 + "\n")]), "assets[0]"),
    ("upper-case-asset-id", req(assets=[asset({}, "A" * 32)]), "assets[0]"),
    ("short-asset-id", req(assets=[asset({}, "a" * 31)]), "assets[0]"),
    ("second-asset-bad-id", req(assets=[asset({}), asset({}, "nope")]), "assets[1]"),
    ("unknown-asset-wrapper-key", req(assets=[{ASSET: {"opts": {}}}]), "assets[0].opts"),
    ("unknown-option-key", req(assets=[asset({"rotate": 90})]), "assets[0].options.rotate"),
    ("options-not-an-object", req(assets=[{ASSET: {"options": []}}]), "assets[0].options"),
    # crop
    ("crop-left-equals-right", req(assets=[asset({"crop": {**CROP, "left": 10}})]), "assets[0].options.crop.right"),
    ("crop-left-over-right", req(assets=[asset({"crop": {**CROP, "left": 11}})]), "assets[0].options.crop.right"),
    ("crop-top-equals-bottom", req(assets=[asset({"crop": {**CROP, "top": 10}})]), "assets[0].options.crop.bottom"),
    ("crop-missing-bottom", req(assets=[asset({"crop": {"left": 0, "top": 0, "right": 1}})]), "assets[0].options.crop.bottom"),
    ("crop-unknown-key", req(assets=[asset({"crop": {**CROP, "width": 3}})]), "assets[0].options.crop.width"),
    ("crop-negative", req(assets=[asset({"crop": {**CROP, "left": -1}})]), "assets[0].options.crop.left"),
    ("crop-boolean", req(assets=[asset({"crop": {**CROP, "top": True}})]), "assets[0].options.crop.top"),
    ("crop-float", req(assets=[asset({"crop": {**CROP, "right": 10.5}})]), "assets[0].options.crop.right"),
    ("crop-string", req(assets=[asset({"crop": {**CROP, "bottom": "10"}})]), "assets[0].options.crop.bottom"),
    ("crop-in-second-asset", req(assets=[asset({}), asset({"crop": {**CROP, "right": 0}})]), "assets[1].options.crop.right"),
    # size
    ("size-neither-side", req(assets=[asset({"size": {}})]), "assets[0].options.size"),
    ("size-zero", req(assets=[asset({"size": {"width": 0}})]), "assets[0].options.size.width"),
    ("size-negative", req(assets=[asset({"size": {"height": -5}})]), "assets[0].options.size.height"),
    ("size-boolean", req(assets=[asset({"size": {"width": True}})]), "assets[0].options.size.width"),
    ("size-float", req(assets=[asset({"size": {"width": 10.5}})]), "assets[0].options.size.width"),
    ("size-too-large-side", req(assets=[asset({"size": {"width": 10_001}})]), "assets[0].options.size.width"),
    ("size-too-many-pixels", req(assets=[asset({"size": {"width": 10_000, "height": 10_000}})]), "assets[0].options.size"),
    ("size-not-an-object", req(assets=[asset({"size": 100})]), "assets[0].options.size"),
    # canvas
    ("canvas-without-size", req(assets=[asset({"canvas": {"color": "#fff"}})]), "assets[0].options.canvas.size"),
    ("canvas-size-one-side", req(assets=[asset({"canvas": {"size": {"width": 10}}})]), "assets[0].options.canvas.size.height"),
    ("canvas-bad-colour", req(assets=[asset({"canvas": {"size": {"width": 9, "height": 9}, "color": "blue"}})]), "assets[0].options.canvas.color"),
    ("canvas-colour-5-digits", req(assets=[asset({"canvas": {"size": {"width": 9, "height": 9}, "color": "#12345"}})]), "assets[0].options.canvas.color"),
    ("canvas-unknown-key", req(assets=[asset({"canvas": {"size": {"width": 9, "height": 9}, "colour": "#fff"}})]), "assets[0].options.canvas.colour"),
    # position
    ("position-missing-y", req(assets=[asset({"position": {"x": 1}})]), "assets[0].options.position.y"),
    ("position-negative", req(assets=[asset({"position": {"x": -1, "y": 0}})]), "assets[0].options.position.x"),
    ("position-float", req(assets=[asset({"position": {"x": 0, "y": 1.5}})]), "assets[0].options.position.y"),
    # operations
    ("unknown-operation", req(operations=[{"bg_remove": {}}, {"rotate": {}}]), "operations[1]"),
    ("operation-two-keys", req(operations=[{"bg_remove": {}, "bg_add": {}}]), "operations[0]"),
    ("operation-not-an-object", req(operations=["bg_remove"]), "operations[0]"),
    ("bg_remove-unknown-option", req(operations=[{"bg_remove": {"options": {"model": "x"}}}]), "operations[0].bg_remove.options.model"),
    ("bg_remove-bad-strength", req(operations=[{"bg_remove": {"options": {"strength": "max"}}}]), "operations[0].bg_remove.options.strength"),
    ("bg_remove-bad-mode", req(operations=[{"bg_remove": {"options": {"mode": "cat"}}}]), "operations[0].bg_remove.options.mode"),
    ("bg_remove-strength-list", req(operations=[{"bg_remove": {"options": {"strength": ["high"]}}}]), "operations[0].bg_remove.options.strength"),
    ("bg_remove-artifacts-string", req(operations=[{"bg_remove": {"options": {"remove_artifacts": "yes"}}}]), "operations[0].bg_remove.options.remove_artifacts"),
    ("bg_remove-unknown-key", req(operations=[{"bg_remove": {"opts": {}}}]), "operations[0].bg_remove.opts"),
    # bg_add
    ("bg_add-without-options", req(operations=[{"bg_add": {}}]), "operations[0].bg_add.options"),
    ("bg_add-neither-colour-nor-image", req(operations=bg_add(mode="stretch")), "operations[0].bg_add.options"),
    ("bg_add-bad-colour", req(operations=[{"bg_remove": {}}, *bg_add(color="#ff00zz")]), "operations[1].bg_add.options.color"),
    ("bg_add-colour-number", req(operations=[{"bg_remove": {}}, *bg_add(color=0xFF0000)]), "operations[1].bg_add.options.color"),
    ("bg_add-bad-mode", req(operations=bg_add(color="#fff", mode="fit")), "operations[0].bg_add.options.mode"),
    ("bg_add-colour-trailing-newline", req(operations=bg_add(color="#ffffff\n")), "operations[0].bg_add.options.color"),
    ("bg_add-image-id-trailing-newline", req(operations=bg_add(image_id="b" * 32 + "\n")), "operations[0].bg_add.options.image_id"),
    ("bg_add-bad-image-id", req(operations=bg_add(image_id="B" * 32)), "operations[0].bg_add.options.image_id"),
    ("bg_add-size-one-side", req(operations=bg_add(color="#fff", size={"width": 5})), "operations[0].bg_add.options.size.height"),
    ("bg_add-unknown-option", req(operations=bg_add(color="#fff", position={"x": 0, "y": 0})), "operations[0].bg_add.options.position"),
    # border_add
    ("border_add-without-image-id", req(operations=[{"border_add": {"options": {}}}]), "operations[0].border_add.options.image_id"),
    ("border_add-bad-image-id", req(operations=[{"border_add": {"options": {"image_id": 5}}}]), "operations[0].border_add.options.image_id"),
    ("border_add-without-options", req(operations=[{"border_add": {}}]), "operations[0].border_add.options"),
    # graphics_add
    ("graphics-empty", req(operations=graphics()), "operations[0].graphics_add.graphics"),
    ("graphics-not-a-list", req(operations=[{"graphics_add": {"graphics": {}}}]), "operations[0].graphics_add.graphics"),
    ("graphic-both-id-and-url", req(operations=graphics(graphic({"image_id": G1, "image_url": URL}))), "operations[0].graphics_add.graphics[0].options"),
    ("graphic-neither-id-nor-url", req(operations=graphics(graphic({}, position={"x": 0, "y": 0}))), "operations[0].graphics_add.graphics[0].options"),
    ("graphic-type-not-image", req(operations=graphics({"type": "text", "options": {"image_id": G1}})), "operations[0].graphics_add.graphics[0].type"),
    ("graphic-missing-type", req(operations=graphics({"options": {"image_id": G1}})), "operations[0].graphics_add.graphics[0].type"),
    ("graphic-host-not-allowed", req(operations=graphics(graphic({"image_url": "https://evil.example.net/x.png"}))), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic-url-not-http", req(operations=graphics(graphic({"image_url": "ftp://img.example.com/x.png"}))), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic-url-not-a-string", req(operations=graphics(graphic({"image_url": 7}))), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic-second-bad", req(operations=graphics(graphic({"image_id": G1}), graphic({"image_id": "x"}))), "operations[0].graphics_add.graphics[1].options.image_id"),
    ("graphic-bad-colour", req(operations=graphics(graphic({"image_id": G1}, color="#abcd"))), "operations[0].graphics_add.graphics[0].options.color"),
    ("graphic-size-one-side", req(operations=graphics(graphic({"image_id": G1}, size={"height": 4}))), "operations[0].graphics_add.graphics[0].options.size.width"),
    ("graphic-position-boolean", req(operations=graphics(graphic({"image_id": G1}, position={"x": False, "y": 0}))), "operations[0].graphics_add.graphics[0].options.position.x"),
    ("graphic-unknown-option", req(operations=graphics(graphic({"image_id": G1}, opacity=0.5))), "operations[0].graphics_add.graphics[0].options.opacity"),
    # disposition
    ("add_as_conversion-without-name", req(assets=disposition(add_as_conversion=True)), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-original", req(assets=disposition(add_as_conversion=True, conversion_name="original")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-invalid", req(assets=disposition(add_as_conversion=True, conversion_name="no spaces")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-too-long", req(assets=disposition(add_as_conversion=True, conversion_name="x" * 31)), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-trailing-newline", req(assets=disposition(add_as_conversion=True, conversion_name="thumb\n")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-not-a-string", req(assets=disposition(add_as_conversion=True, conversion_name=5)), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-without-add", req(assets=disposition(conversion_name="thumb")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-with-add-false", req(assets=disposition(add_as_conversion=False, conversion_name="thumb")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-second-asset", req(assets=[asset({}), *disposition(add_as_conversion=True, conversion_name="")]), "assets[1].options.disposition.conversion_name"),
    ("add_as_conversion-string", req(assets=disposition(add_as_conversion="true", conversion_name="x")), "assets[0].options.disposition.add_as_conversion"),
    ("create_asset-number", req(assets=disposition(create_asset=1)), "assets[0].options.disposition.create_asset"),
    ("disposition-unknown-key", req(assets=disposition(move=True)), "assets[0].options.disposition.move"),
    ("metadata-with-only-add_as_conversion", req(assets=disposition(add_as_conversion=True, conversion_name="x", metadata={"inherit": True})), "assets[0].options.disposition.metadata"),
    ("data_schema_id-with-only-add_as_conversion", req(assets=disposition(add_as_conversion=True, conversion_name="x", data_schema_id=0)), "assets[0].options.disposition.data_schema_id"),
    ("bad-metadata-mode", req(assets=disposition(metadata={"mode": "MERGE"})), "assets[0].options.disposition.metadata.mode"),
    ("lower-case-metadata-mode", req(assets=disposition(metadata={"mode": "append"})), "assets[0].options.disposition.metadata.mode"),
    ("inherit_fields-a-string", req(assets=disposition(metadata={"inherit_fields": "title"})), "assets[0].options.disposition.metadata.inherit_fields"),
    ("inherit_fields-numbers", req(assets=disposition(metadata={"inherit_fields": ["title", 3]})), "assets[0].options.disposition.metadata.inherit_fields"),
    ("metadata-inherit-string", req(assets=disposition(metadata={"inherit": "yes"})), "assets[0].options.disposition.metadata.inherit"),
    ("metadata-data-a-list", req(assets=disposition(metadata={"data": [1]})), "assets[0].options.disposition.metadata.data"),
    ("metadata-bad-src-id", req(assets=disposition(metadata={"src_asset_id": "nope"})), "assets[0].options.disposition.metadata.src_asset_id"),
    ("metadata-unknown-key", req(assets=disposition(metadata={"inherit_all": True})), "assets[0].options.disposition.metadata.inherit_all"),
    ("data_schema_id-negative", req(assets=disposition(data_schema_id=-1)), "assets[0].options.disposition.data_schema_id"),
    ("data_schema_id-string", req(assets=disposition(data_schema_id="1")), "assets[0].options.disposition.data_schema_id"),
]


@pytest.mark.parametrize("request_body, field", [case[1:] for case in INVALID_REQUESTS], ids=[case[0] for case in INVALID_REQUESTS])
def test_parse_request_rejects_bad_input_naming_the_json_path(request_body, field):
    with pytest.raises(OptionError) as raised:
        pipeline.parse_request(request_body, allowed_url_hosts=HOSTS)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_parse_request_accepts_a_full_valid_request_and_keeps_every_value():
    request = pipeline.parse_request(
        {
            "assets": [
                asset(
                    {
                        "crop": {"left": 1, "top": 2, "right": 30, "bottom": 40},
                        "size": {"width": 20},
                        "canvas": {"size": {"width": 100, "height": 80}, "color": "#ABC"},
                        "position": {"x": 3, "y": 4},
                        "disposition": {
                            "add_as_conversion": True, "conversion_name": "social-card_1", "create_asset": True,
                            "metadata": {"inherit": True, "src_asset_id": G2, "inherit_fields": ["title"], "data": {"k": 1}, "mode": "REPLACE"},
                            "data_schema_id": 7,
                        },
                    }
                ),
                asset({}, G1),
            ],
            "operations": [
                {"bg_remove": {"options": {"mode": "portrait", "strength": "low"}}},
                {"bg_add": {"options": {"color": "#00000080", "image_id": BG, "mode": "as-is", "size": {"width": 50, "height": 60}}}},
                {"border_add": {"options": {"image_id": BORDER}}},
                {"graphics_add": {"graphics": [
                    graphic({"image_id": G1}, position={"x": 0, "y": 0}, size={"width": 5, "height": 6}, color="#fff"),
                    graphic({"image_url": URL}),
                ]}},
            ],
        },
        allowed_url_hosts=HOSTS,
    )
    first, second = request.assets
    assert (first.asset_id, first.path, second.asset_id, second.path) == (ASSET, "assets[0]", G1, "assets[1]")
    assert first.crop == pipeline.Crop(1, 2, 30, 40)
    assert first.size == (20, None)
    assert (first.canvas_size, first.canvas_color, first.position) == ((100, 80), (0xAA, 0xBB, 0xCC, 255), (3, 4))
    d = first.disposition
    assert (d.add_as_conversion, d.conversion_name, d.create_asset, d.creates_asset, d.data_schema_id) == (True, "social-card_1", True, True, 7)
    assert d.metadata == pipeline.Metadata(True, G2, ("title",), {"k": 1}, "REPLACE")
    assert second.disposition.creates_asset and not second.disposition.add_as_conversion  # neither asked: a new asset
    bg_remove, bg, border, graphics_op = request.operations
    assert (bg_remove.options.mode.value, bg_remove.options.strength.value, bg_remove.options.remove_artifacts) == ("portrait", "low", False)
    assert (bg.color, bg.image_id, bg.mode, bg.size, bg.path) == ((0, 0, 0, 128), BG, "as-is", (50, 60), "operations[1].bg_add.options")
    assert border.image_id == BORDER
    g1, g2 = graphics_op.graphics
    assert (g1.image_id, g1.image_url, g1.position, g1.size, g1.color) == (G1, None, (0, 0), (5, 6), WHITE)
    assert (g2.image_id, g2.image_url, g2.position, g2.size, g2.color) == (None, URL, None, None, None)
    assert request.image_ids() == {
        BG: "operations[1].bg_add.options.image_id",
        BORDER: "operations[2].border_add.options.image_id",
        G1: "operations[3].graphics_add.graphics[0].options.image_id",
    }


@pytest.mark.parametrize(
    "hosts, allowed",
    [(frozenset(), False), (frozenset({"other.example.com"}), False), (HOSTS, True), (frozenset({"cdn.example.com", "img.example.com"}), True)],
)
def test_graphic_image_url_is_allowed_only_from_listed_hosts(hosts, allowed):
    for url in [URL, "http://IMG.example.com:8080/a/b.png?x=1"]:
        request_body = req(operations=graphics(graphic({"image_url": url})))
        if allowed:
            [op] = pipeline.parse_request(request_body, allowed_url_hosts=hosts).operations
            assert op.graphics[0].image_url == url
        else:
            with pytest.raises(OptionError) as raised:
                pipeline.parse_request(request_body, allowed_url_hosts=hosts)
            assert raised.value.field == "operations[0].graphics_add.graphics[0].options.image_url"


@pytest.mark.parametrize(
    "values, add, name, creates",
    [
        ({}, False, None, True),
        ({"create_asset": True}, False, None, True),
        ({"add_as_conversion": True, "conversion_name": "thumb"}, True, "thumb", False),
        ({"add_as_conversion": True, "conversion_name": "A-b_9", "create_asset": True}, True, "A-b_9", True),
        ({"add_as_conversion": True, "conversion_name": "x" * 30}, True, "x" * 30, False),
        ({"metadata": {"inherit": True}}, False, None, True),  # metadata with a new asset
        ({"add_as_conversion": True, "conversion_name": "x", "create_asset": True, "metadata": {"inherit_fields": []}}, True, "x", True),
    ],
)
def test_parse_request_disposition_valid_combinations(values, add, name, creates):
    [spec] = pipeline.parse_request(req(assets=disposition(**values))).assets
    d = spec.disposition
    assert (d.add_as_conversion, d.conversion_name, d.creates_asset) == (add, name, creates)


# ================================================================ check_geometry


def geometry(options: dict, operations: list | None = None, width: int = 40, height: int = 30) -> None:
    request = pipeline.parse_request(req(assets=[asset({}), asset(options, G1)], operations=operations or [NOOP]))
    pipeline.check_geometry(request.assets[1], request, width, height)


BG_ADD_100x100 = [{"bg_add": {"options": {"color": "#fff", "size": {"width": 100, "height": 100}}}}]
BG_ADD_PLAIN = [{"bg_add": {"options": {"color": "#fff"}}}]
CANVAS_50 = {"canvas": {"size": {"width": 50, "height": 50}}}

GEOMETRY_ERRORS = [
    ("crop-right-over-width", {"crop": {"left": 0, "top": 0, "right": 41, "bottom": 30}}, None, "assets[1].options.crop.right"),
    ("crop-bottom-over-height", {"crop": {"left": 0, "top": 0, "right": 40, "bottom": 31}}, None, "assets[1].options.crop.bottom"),
    ("position-without-canvas-or-bg_add", {"position": {"x": 0, "y": 0}}, None, "assets[1].options.position"),
    ("position-x-over-canvas", {**CANVAS_50, "position": {"x": 11, "y": 0}}, None, "assets[1].options.position.x"),
    ("position-y-over-canvas", {**CANVAS_50, "position": {"x": 0, "y": 21}}, None, "assets[1].options.position.y"),
    ("position-x-over-bg_add-size", {"position": {"x": 61, "y": 0}}, BG_ADD_100x100, "assets[1].options.position.x"),
    ("position-y-over-bg_add-size", {"position": {"x": 0, "y": 71}}, BG_ADD_100x100, "assets[1].options.position.y"),
    # with a canvas, the canvas decides the stage even when bg_add has a bigger size
    ("canvas-wins-over-bg_add-size", {**CANVAS_50, "position": {"x": 11, "y": 0}}, BG_ADD_100x100, "assets[1].options.position.x"),
    # bg_add without a size: the stage is the subject's size, so any offset is too far
    ("bg_add-stage-is-the-subject", {"position": {"x": 1, "y": 0}}, BG_ADD_PLAIN, "assets[1].options.position.x"),
    # the subject's size after crop and size counts
    ("subject-after-size", {**CANVAS_50, "size": {"width": 50}, "position": {"x": 1, "y": 0}}, None, "assets[1].options.position.x"),
    ("subject-after-crop", {**CANVAS_50, "crop": {"left": 0, "top": 0, "right": 40, "bottom": 30}, "position": {"x": 0, "y": 21}}, None, "assets[1].options.position.y"),
    ("subject-over-the-pixel-limit", {"size": {"width": 10_000}}, None, "assets[1].options.size"),
]


@pytest.mark.parametrize("options, operations, field", [c[1:] for c in GEOMETRY_ERRORS], ids=[c[0] for c in GEOMETRY_ERRORS])
def test_check_geometry_rejects_what_the_stored_size_rules_out(options, operations, field):
    with pytest.raises(OptionError) as raised:
        geometry(options, operations)
    assert raised.value.field == field


GEOMETRY_OK = [
    ("crop-to-the-edges", {"crop": {"left": 0, "top": 0, "right": 40, "bottom": 30}}, None),
    ("canvas-exactly-fitting", {**CANVAS_50, "position": {"x": 10, "y": 20}}, None),
    ("bg_add-size-exactly-fitting", {"position": {"x": 60, "y": 70}}, BG_ADD_100x100),
    ("bg_add-stage-is-the-subject-at-0", {"position": {"x": 0, "y": 0}}, BG_ADD_PLAIN),
    ("subject-after-crop-fits", {**CANVAS_50, "crop": {"left": 10, "top": 10, "right": 40, "bottom": 30}, "position": {"x": 20, "y": 30}}, None),
    ("subject-after-size-fits", {**CANVAS_50, "size": {"height": 15}, "position": {"x": 30, "y": 35}}, None),
    ("no-position-no-stage", {}, None),
    ("subject-larger-than-canvas-without-position", {"canvas": {"size": {"width": 5, "height": 5}}}, None),
]


@pytest.mark.parametrize("options, operations", [c[1:] for c in GEOMETRY_OK], ids=[c[0] for c in GEOMETRY_OK])
def test_check_geometry_accepts_what_fits_exactly(options, operations):
    geometry(options, operations)  # no error
