"""What the OpenAPI document says about the assets API, where drf-spectacular cannot
infer it from the views: the exact parameters, bodies and responses.

Generated clients and schemathesis (tests/test_openapi_fuzz.py, with every check) read
this document, so it must match what the views accept and answer: a JSON body's unknown
keys are refused (`additionalProperties: false`), strings the databases cannot store (NUL,
unpaired surrogates) are outside every text pattern, and downloads are `image/*`.

Schemas are plain JSON Schema dicts. `JsonValue`/`JsonObject` (custom metadata: any JSON
whose strings and keys the databases can store) are recursive, so they are components,
added by `add_components`, a drf-spectacular post-processing hook.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, OpenApiResponse

from assets.models import HEX32_PATTERN
from assets.requests import ASSET_ORDERINGS

# Text the databases can store: no NUL (assets.validators.text_problem; unpaired surrogates
# are refused too, but JSON text that is valid Unicode cannot hold them).
TEXT_PATTERN = r"^[^\u0000]*$"
CONVERSION_NAME = r"^(?!original$)[a-zA-Z0-9_-]{1,30}$"  # `original` is the asset's own file
CONTENT_NAME = r"^(original|[a-zA-Z0-9_-]{1,30})$"
MAX_ID = 2**63 - 1

TEXT = {"type": "string", "pattern": TEXT_PATTERN}
HEX32 = {"type": "string", "pattern": HEX32_PATTERN}
JSON_OBJECT = {"$ref": "#/components/schemas/JsonObject"}
SCHEMA_ID = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
BINARY = {"type": "string", "format": "binary"}

COMPONENTS: dict[str, dict[str, Any]] = {
    # One schema for every JSON type, not an anyOf of one per type: each keyword applies
    # only to its own type (pattern to strings, items to arrays, the rest to objects).
    "JsonValue": {
        "type": ["null", "boolean", "number", "string", "array", "object"],
        "pattern": TEXT_PATTERN,
        "items": {"$ref": "#/components/schemas/JsonValue"},
        "propertyNames": {"pattern": TEXT_PATTERN},
        "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
        "description": "any JSON value; strings and keys hold no NUL; nesting up to 64 levels",
    },
    "JsonObject": {
        "type": "object",
        "propertyNames": {"pattern": TEXT_PATTERN},
        "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
        "description": "a JSON object (custom metadata)",
    },
}


def add_components(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook (after its default enum hook): our components,
    and every request body marked required (each operation that takes one needs it)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["requestBody"]["required"] = True
    return result


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    from assets.serializers import ErrorDocument

    return {code: OpenApiResponse(ErrorDocument) for code in codes}


def _query(name: str, schema: dict[str, Any], description: str) -> OpenApiParameter:
    return OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description)


def path_name(pattern: str, description: str) -> OpenApiParameter:
    return OpenApiParameter("name", {"type": "string", "pattern": pattern}, OpenApiParameter.PATH, description=description)


ASSET_LIST_PARAMETERS = [
    _query("name", TEXT, "name contains (case-insensitive)"),
    _query("content_type", TEXT, "exact MIME type"),
    _query("source_asset_id", {"type": "string", "pattern": r"^([0-9a-f]{32})?$"}, "assets derived from this one"),
    _query(
        "has_conversion",
        {"type": "string", "pattern": r"^((?!original$)[a-zA-Z0-9_-]{1,30})?$"},
        "true / false (also 1/0, yes/no: any conversion / none), or a conversion name",
    ),
    _query(
        "ordering",
        {"type": "string", "enum": list(ASSET_ORDERINGS)},
        "-upload_time (newest first, the default), upload_time, name, -name (case-insensitive), -size (largest first), size",
    ),
    _query("page", {"type": "integer", "minimum": 1, "maximum": 999_999_999}, "from 1; a page past the end is a 404"),
    _query("page_size", {"type": "integer", "minimum": 1, "maximum": 200}, "1 to 200, default 50"),
]

# SPEC §9: any of these turns a content GET into a rendition. w and h are capped by the
# setting ASSETS_RENDITION_MAX_SIDE (4096 unless configured).
RENDITION_PARAMETERS = [
    _query("w", {"type": "integer", "minimum": 1, "maximum": 4096}, "rendition width (never upscaled except fit=fill)"),
    _query("h", {"type": "integer", "minimum": 1, "maximum": 4096}, "rendition height"),
    _query("fit", {"type": "string", "enum": ["contain", "cover", "fill"]}, "contain (default), cover (crop the centre), fill (stretch)"),
    _query("format", {"type": "string", "enum": ["auto", "webp", "avif", "jpeg", "png"]}, "auto (default) negotiates from Accept"),
    _query("q", {"type": "integer", "minimum": 1, "maximum": 100}, "quality of lossy formats, default 80"),
    _query("bg", {"type": "string", "pattern": r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"}, "flatten alpha onto this colour, #rgb or #rrggbb"),
]

ASSET_PAGE = {
    "type": "object",
    "required": ["count", "next", "previous", "results"],
    "properties": {
        "count": {"type": "integer", "minimum": 0},
        "next": {"type": ["string", "null"], "format": "uri"},
        "previous": {"type": ["string", "null"], "format": "uri"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/AssetDocument"}},
    },
}

ASSET_UPLOAD = OpenApiRequest(
    {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {**BINARY, "description": "the image (SPEC §7 formats)"},
            "data": {**JSON_OBJECT, "description": "custom metadata, a JSON object"},
            "data_schema_id": {**SCHEMA_ID, "description": "a data schema of the account, or 0"},
            "source_asset_id": {
                "type": "string",
                "pattern": r"^([0-9a-f]{32})?$",
                "description": "the asset of the account this one was made from (lineage); empty: none",
            },
        },
    },
    encoding={"data": {"contentType": "application/json"}},
)

# PATCH assets/{id}: the name, not blank, without control characters (assets.requests.AssetChange).
_NAME_CHAR = r"[^\u0000-\u001f\u007f]"
ASSET_CHANGE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": rf"^{_NAME_CHAR}*[^\s\u0000-\u001f\u007f]{_NAME_CHAR}*$",
            "description": "the new display name; surrounding whitespace is removed",
        },
    },
}
FILE_UPLOAD = {"type": "object", "required": ["file"], "properties": {"file": {**BINARY, "description": "the image"}}}

DATA_UPDATE = {
    "type": "object",
    "required": ["data", "mode"],
    "additionalProperties": False,
    "properties": {
        "data": JSON_OBJECT,
        "mode": {"type": "string", "enum": ["APPEND", "REPLACE"]},
        "data_schema_id": {**SCHEMA_ID, "type": ["integer", "null"], "description": "null or absent: keep the asset's schema"},
    },
}

SCHEMA_REQUEST = {
    "type": "object",
    "required": ["name", "schema"],
    # Other keys are ignored (a fetched document can be sent back), but like every JSON
    # body they must be storable text.
    "propertyNames": {"pattern": TEXT_PATTERN},
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$"},
        "schema": {
            **JSON_OBJECT,
            "description": "a JSON Schema (draft 2020-12); patterns must be RE2 syntax (no look-around, no back-references)",
        },
    },
}

CONTENT_RESPONSES = {
    (200, "image/*"): OpenApiResponse({"type": "string", "format": "binary"}, description="the file, with its own image type"),
    (206, "image/*"): OpenApiResponse({"type": "string", "format": "binary"}, description="the requested range"),
    304: OpenApiResponse(description="If-None-Match matched the ETag"),
    **error_responses(400, 401, 403, 404, 416),
    # a rendition answers with the headers of any content plus X-Rendition: hit|miss
}
