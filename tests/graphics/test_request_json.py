"""The Image Graphics request's canonical JSON form: what a job stores, and what the worker
rebuilds the same typed request from (GraphicsRequest.to_json / from_json)."""

from __future__ import annotations

import pytest

from graphics.processing.request import GraphicsRequest, parse_request

A, B, C = "a" * 32, "b" * 32, "c" * 32

BODIES = {
    "minimal": {"assets": [{A: {}}], "operations": [{"bg_remove": {}}]},
    "every option": {
        "assets": [
            {A: {"options": {
                "crop": {"left": 1, "top": 2, "right": 300, "bottom": 200},
                "size": {"width": 120},
                "canvas": {"size": {"width": 400, "height": 300}, "color": "#abc"},
                "position": {"x": 5, "y": 6},
                "disposition": {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True,
                                "data_schema_id": 7,
                                "metadata": {"inherit": True, "src_asset_id": B, "inherit_fields": ["sku"],
                                             "data": {"k": [1, {"x": None}]}, "mode": "REPLACE"}},
            }}},
            {B: {"options": {"size": {"height": 50}, "disposition": {"add_as_conversion": True, "conversion_name": "t"}}}},
        ],
        "operations": [
            {"bg_remove": {"options": {"mode": "product", "strength": "high", "remove_artifacts": True}}},
            {"bg_add": {"options": {"color": "#11223344", "image_id": C, "mode": "as-is", "size": {"width": 10, "height": 20}}}},
            {"border_add": {"options": {"image_id": C}}},
            {"graphics_add": {"graphics": [
                {"type": "image", "options": {"image_id": B, "position": {"x": 1, "y": 2}, "size": {"width": 3, "height": 4}, "color": "#fff"}},
                {"type": "image", "options": {"image_url": "https://img.example.com/logo.png"}},
            ]}},
        ],
    },
}


@pytest.mark.parametrize("body", BODIES.values(), ids=list(BODIES))
def test_the_canonical_form_rebuilds_the_same_request(body):
    request = parse_request(body, allowed_url_hosts=frozenset({"img.example.com"}))
    stored = request.to_json()
    assert GraphicsRequest.from_json(stored) == request
    assert GraphicsRequest.from_json(stored).to_json() == stored  # a fixed point


def test_the_canonical_form_spells_out_the_defaults():
    stored = parse_request(BODIES["minimal"]).to_json()
    assert stored == {
        "assets": [{A: {"options": {"disposition": {"add_as_conversion": False, "create_asset": False}}}}],
        "operations": [{"bg_remove": {"options": {"mode": "auto", "strength": "medium", "remove_artifacts": False}}}],
    }
