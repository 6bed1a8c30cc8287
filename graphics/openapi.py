"""What the OpenAPI document says about Remove Background and Image Graphics (SPEC §4, §5).

The Image Graphics body is described key by key, as `graphics.processing.request` parses
it: every object refuses unknown keys, ids are 32 hex characters, colours `#rgb`,
`#rrggbb` or `#rrggbbaa`, sides 1 to 10000. What OpenAPI 3.0 cannot say stays in
docs/api.md and in the test generator's hooks (tests/openapi_hooks.py): a crop's right
edge beyond its left, at most 50 megapixels, `conversion_name` exactly when
`add_as_conversion`, the query parameters a saving `mode` needs.

`image_url` is described only when IMAGE_GRAPHICS_URL_HOSTS names hosts, as a URL on one
of them: with none (the default) no `image_url` is accepted, and the document says so.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from assets.openapi import BINARY, CONVERSION_NAME, HEX32, JSON_OBJECT, SCHEMA_ID, TEXT, error_responses
from graphics.processing.request import MAX_ASSETS, MAX_GRAPHICS, MAX_OPERATIONS, MAX_SIDE

COLOR = {"type": "string", "pattern": r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"}
SIDE = {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}
EDGE = {"type": "integer", "minimum": 0, "maximum": MAX_SIDE}
OFFSET = {"type": "integer", "minimum": 0, "maximum": MAX_SIDE}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        schema["required"] = required
    return schema


def _one_key(name: str, value: dict[str, Any]) -> dict[str, Any]:
    return _object({name: value}, [name])


SIZE_ONE_SIDE_OK = _object({"width": SIDE, "height": SIDE}, minProperties=1)
SIZE_BOTH = _object({"width": SIDE, "height": SIDE}, ["width", "height"])
POSITION = _object({"x": OFFSET, "y": OFFSET}, ["x", "y"])
BG_REMOVE_OPTIONS = _object(
    {
        "mode": {"type": "string", "enum": ["auto", "portrait", "product"]},
        "strength": {"type": "string", "enum": ["low", "medium", "high"]},
        "remove_artifacts": {"type": "boolean"},
    }
)
METADATA = _object(
    {
        "inherit": {"type": "boolean"},
        "src_asset_id": HEX32,
        "inherit_fields": {"type": "array", "items": TEXT},
        "data": JSON_OBJECT,
        "mode": {"type": "string", "enum": ["APPEND", "REPLACE"]},
    }
)
DISPOSITION = _object(
    {
        "add_as_conversion": {"type": "boolean"},
        "conversion_name": {"type": "string", "pattern": CONVERSION_NAME},
        "create_asset": {"type": "boolean"},
        "metadata": METADATA,
        "data_schema_id": SCHEMA_ID,
    },
    description="conversion_name exactly when add_as_conversion is true; metadata and data_schema_id only "
    "when a new asset is made (create_asset true, or add_as_conversion not true)",
)
ASSET_OPTIONS = _object(
    {
        "crop": _object({"left": EDGE, "top": EDGE, "right": EDGE, "bottom": EDGE}, ["left", "top", "right", "bottom"],
                        description="left < right and top < bottom, within the original"),
        "size": SIZE_ONE_SIDE_OK,
        "canvas": _object({"size": SIZE_BOTH, "color": COLOR}, ["size"]),
        "position": POSITION,
        "disposition": DISPOSITION,
    }
)
ASSET_ENTRY = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "propertyNames": {"pattern": HEX32["pattern"]},
    "additionalProperties": _object({"options": ASSET_OPTIONS}),
    "description": '{"<asset_id>": {"options": {...}}}',
}


def _graphic() -> dict[str, Any]:
    hosts = sorted(host.lower() for host in settings.IMAGE_GRAPHICS_URL_HOSTS)
    options: dict[str, Any] = {"image_id": HEX32, "position": POSITION, "size": SIZE_BOTH, "color": COLOR}
    sources: list[dict[str, Any]] = [{"required": ["image_id"]}]
    if hosts:
        alternatives = "|".join(re.escape(host) for host in hosts)
        options["image_url"] = {"type": "string", "pattern": rf"^https?://({alternatives})(:[0-9]{{1,5}})?([/?#].*)?$"}
        sources.append({"required": ["image_url"]})
    return _object(
        {"type": {"type": "string", "enum": ["image"]}, "options": _object(options, oneOf=sources)},
        ["type", "options"],
    )


def image_graphics_request() -> dict[str, Any]:
    """The request body, with `image_url` as the current settings allow it."""
    operation = {
        "oneOf": [
            _one_key("bg_remove", _object({"options": BG_REMOVE_OPTIONS})),
            _one_key(
                "bg_add",
                _object(
                    {
                        "options": _object(
                            {"color": COLOR, "image_id": HEX32, "mode": {"type": "string", "enum": ["stretch", "as-is"]}, "size": SIZE_BOTH},
                            anyOf=[{"required": ["color"]}, {"required": ["image_id"]}],
                        )
                    },
                    ["options"],
                ),
            ),
            _one_key("border_add", _object({"options": _object({"image_id": HEX32}, ["image_id"])}, ["options"])),
            _one_key(
                "graphics_add",
                _object({"graphics": {"type": "array", "minItems": 1, "maxItems": MAX_GRAPHICS, "items": _graphic()}}, ["graphics"]),
            ),
        ]
    }
    return _object(
        {
            "assets": {"type": "array", "minItems": 1, "maxItems": MAX_ASSETS, "items": ASSET_ENTRY},
            "operations": {"type": "array", "minItems": 1, "maxItems": MAX_OPERATIONS, "items": operation},
        },
        ["assets", "operations"],
    )


JOB_QUEUED = _object(
    {"status": {"type": "string", "enum": ["QUEUED"]}, "job_id": HEX32}, ["status", "job_id"]
)

# --- Remove Background ---------------------------------------------------------------------

_PARAMETERS = {
    "mode": ({"type": "string", "enum": ["get_image", "save_image", "get_image_and_save"]}, "default get_image"),
    "disposition": ({"type": "string", "enum": ["add_conversion", "add_new_asset"]}, "required by the saving modes"),
    "conversion_name": ({"type": "string", "pattern": CONVERSION_NAME}, "required with disposition=add_conversion"),
    "metadata": ({"type": "string", "enum": ["inherit"]}, "only with disposition=add_new_asset"),
    "bg_mode": ({"type": "string", "enum": ["auto", "portrait", "product"]}, "which model runs"),
    "strength": ({"type": "string", "enum": ["low", "medium", "high"]}, "how hard the mask's edge is"),
    "remove_artifacts": ({"type": "boolean"}, "drop islands and fill holes"),
    # SPEC §10: the output options. What a pattern cannot say (crop_margin only with
    # crop=true; channels=alpha with neither bg_color, format=jpg nor decontaminate=true;
    # the roi's x2 beyond x1) is in docs/api.md and tests/openapi_hooks.py.
    "format": ({"type": "string", "enum": ["png", "webp", "jpg"]}, "png (default), webp (lossless) or jpg (flattened on bg_color, white by default)"),
    "channels": ({"type": "string", "enum": ["rgba", "alpha"]}, "rgba (default) or alpha: the mask alone, greyscale"),
    "bg_color": (
        {"type": "string", "pattern": r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"},
        "composite the cut-out over this colour: #rgb, #rrggbb or #rrggbbaa (send # as %23)",
    ),
    "crop": ({"type": "boolean"}, "crop to the subject's box (X-Foreground-*)"),
    "crop_margin": (
        {"type": "string", "pattern": r"^([0-9]{1,7}(px)?|[0-9]{1,3}(\.[0-9]{1,4})?%)([ ,]+([0-9]{1,7}(px)?|[0-9]{1,3}(\.[0-9]{1,4})?%)){0,3}$"},
        "with crop=true: 1, 2 or 4 margins (CSS order), each N or Npx (at most 500) or N% of the subject (at most 50%)",
    ),
    "scale": ({"type": "string", "pattern": r"^(original|[0-9]{1,3}(\.[0-9]{1,4})?%)$"}, "original, or 10% to 100%: the subject's longest side relative to the output's"),
    "position": (
        {"type": "string", "pattern": r"^(original|center|[0-9]{1,3}(\.[0-9]{1,4})?%([ ,]+[0-9]{1,3}(\.[0-9]{1,4})?%)?)$"},
        "original, center, or X% Y% (0% to 100%) of the free space",
    ),
    "size": ({"type": "string", "enum": ["preview", "medium", "full"]}, "preview (at most 0.25 MP), medium (1.5 MP) or full; reduced before the model runs"),
    "roi": (
        {"type": "string", "pattern": r"^([0-9]{1,7}(px)?|[0-9]{1,3}(\.[0-9]{1,4})?%)([ ,]+([0-9]{1,7}(px)?|[0-9]{1,3}(\.[0-9]{1,4})?%)){3}$"},
        "x1 y1 x2 y2 in pixels or percent: only this region may hold the subject",
    ),
    "decontaminate": ({"type": "boolean"}, "recolour the soft edge with the estimated foreground colour"),
}
BG_REMOVE_QUERY = [
    OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description)
    for name, (schema, description) in _PARAMETERS.items()
]
BG_REMOVE_UPLOAD_QUERY = [
    *BG_REMOVE_QUERY,
    OpenApiParameter(
        "asset_id", HEX32, OpenApiParameter.QUERY,
        description="the asset that receives the conversion or gives metadata (needed by add_conversion and metadata=inherit)",
    ),
]
BG_REMOVE_RESULT = _object(
    {
        "data": _object(
            {
                "result_b64": {"type": "string", "format": "byte", "description": "the image, base64"},
                "content_type": {"type": "string", "enum": ["image/png", "image/webp", "image/jpeg"]},
                "width": {"type": "integer", "minimum": 1},
                "height": {"type": "integer", "minimum": 1},
                "foreground_left": {"type": "integer", "minimum": 0},
                "foreground_top": {"type": "integer", "minimum": 0},
                "foreground_width": {"type": "integer", "minimum": 0},
                "foreground_height": {"type": "integer", "minimum": 0},
                "model": TEXT,
            },
            ["result_b64", "content_type", "width", "height", "foreground_left", "foreground_top",
             "foreground_width", "foreground_height", "model"],
        )
    },
    ["data"],
)
SAVED_DOCUMENT = _object(  # graphics.serializers.BgRemoveSavedDocument, as a schema
    {
        "status": {"type": "string", "enum": ["ok"]},
        "mode": {"type": "string", "enum": ["save_image"]},
        "disposition": {"type": "string", "enum": ["add_conversion", "add_new_asset"]},
        "asset_id": HEX32,
        "conversion_name": {"type": "string", "pattern": CONVERSION_NAME},
        "source_asset_id": HEX32,
        "metadata": {"type": "string", "enum": ["inherit"]},
        "new_asset_id": HEX32,
    },
    ["status", "mode", "disposition"],
)
IMAGE_UPLOAD = {"type": "object", "required": ["image"], "properties": {"image": {**BINARY, "description": "the image"}}}
_IMAGE = {"type": "string", "format": "binary"}
BG_REMOVE_RESPONSES = {
    (200, "image/png"): OpenApiResponse(_IMAGE, description="get_image, get_image_and_save (format=png)"),
    (200, "image/webp"): OpenApiResponse(_IMAGE, description="get_image, get_image_and_save with format=webp"),
    (200, "image/jpeg"): OpenApiResponse(_IMAGE, description="get_image, get_image_and_save with format=jpg"),
    (200, "application/json"): OpenApiResponse(
        {"oneOf": [BG_REMOVE_RESULT, SAVED_DOCUMENT]},
        description="save_image: the saved document; get_image and get_image_and_save with "
        "Accept: application/json: the image as base64 with its size and subject box",
    ),
    **error_responses(400, 401, 403, 404, 413, 415),
}
