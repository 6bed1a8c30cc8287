"""The assets API's inputs, parsed once in the view into frozen, typed requests that the
services and selectors take; each failure is a 400 naming the field (assets.errors).

A view looks up the ids in its path first (404), then parses (400), so every endpoint
answers in one order (docs/api.md, "Authentication and roles").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from rest_framework.request import Request

from assets.errors import ApiError, FieldError
from assets.parsers import single_field, single_file
from assets.validators import (
    conversion_name_check,
    is_asset_id,
    json_object_field,
    schema_problems,
    text_check,
    text_problem,
)

DATA_MODES = ("APPEND", "REPLACE")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def json_body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise FieldError("body", "must be a JSON object")
    return request.data


def json_schema_id(value: Any) -> int | None:
    """A JSON body's `data_schema_id`: null, or a whole number (2.0 is 2, as JSON Schema
    counts it); a string such as "2" is refused, as the OpenAPI document says."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise FieldError("data_schema_id", f"must be a data schema id (a whole number) or null, got {value!r}")
    return value


def data_schema_id_field(raw: Any, *, field: str = "data_schema_id") -> int | None:
    """A schema id from JSON (an int) or a form field (digits); None when absent."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        return int(raw)
    raise FieldError(field, f"must be a data schema id (a whole number), got {raw!r}")


@dataclass(frozen=True)
class AssetUpload:
    """POST assets: the file (checked as an image by the service), `data`, the schema, and
    the asset it was made from (`source_asset_id`, looked up by the service)."""

    upload: UploadedFile | None
    data: dict[str, Any]
    data_schema_id: int | None
    source_asset_id: str | None = None

    @classmethod
    def from_request(cls, request: Request) -> AssetUpload:
        source = single_field(request.data, "source_asset_id") or None
        if source is not None and not is_asset_id(source):
            raise FieldError("source_asset_id", f"must be an asset id (32 lower-case hex characters), got {source!r}")
        return cls(
            upload=single_file(request.FILES, "file"),
            data=json_object_field(single_field(request.data, "data"), field="data"),
            data_schema_id=data_schema_id_field(single_field(request.data, "data_schema_id")),
            source_asset_id=source,
        )


# Control characters (C0 and DEL) have no place in a name people read; the OpenAPI
# document's pattern refuses the same (assets.openapi.ASSET_NAME).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ASSET_NAME_MAX = 255


@dataclass(frozen=True)
class AssetChange:
    """PATCH assets/{id}: `{"name": "…"}`, the new display name (surrounding whitespace
    removed; 1 to 255 characters, not blank, no control characters)."""

    name: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> AssetChange:
        unknown = sorted(set(body) - {"name"})
        if unknown:
            raise FieldError(unknown[0], "is not a field that can be changed here; send name")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip(_JS_WHITESPACE):
            raise FieldError("name", "is required: the asset's new name, a non-empty string")
        if len(name) > ASSET_NAME_MAX:
            raise FieldError("name", f"must be at most {ASSET_NAME_MAX} characters, got {len(name)}")
        if _CONTROL.search(name):
            raise FieldError("name", "must not contain control characters (tabs, line breaks and the like)")
        return cls(name=text_check(name.strip(_JS_WHITESPACE), field="name"))


@dataclass(frozen=True)
class DataUpdate:
    """POST assets/{id}/data/update."""

    data: dict[str, Any]
    mode: str
    data_schema_id: int | None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> DataUpdate:
        unknown = sorted(set(body) - {"data", "mode", "data_schema_id"})
        if unknown:
            raise FieldError(unknown[0], "is not a known field; send data, mode and optionally data_schema_id")
        data, mode = body.get("data"), body.get("mode")
        if not isinstance(data, dict):
            raise FieldError("data", "is required and must be a JSON object")
        if mode not in DATA_MODES:
            raise FieldError("mode", f"must be APPEND or REPLACE, got {mode!r}")
        return cls(data=data, mode=mode, data_schema_id=json_schema_id(body.get("data_schema_id")))


# What "blank" means for a name: whitespace as the OpenAPI document's pattern (\S, in
# ECMAScript's sense) defines it. Python's str.strip() would also strip the separators
# \x1c-\x1f and \x85 and keep \ufeff, so a name of one \x1d was valid by the document and
# refused here.
_JS_WHITESPACE = "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


@dataclass(frozen=True)
class SchemaWrite:
    """POST assetschemas and PUT assetschemas/{id}: a name and a usable JSON Schema."""

    name: str
    schema: dict[str, Any]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SchemaWrite:
        name, schema = body.get("name"), body.get("schema")
        errors: dict[str, list[str]] = {}
        if not isinstance(name, str) or not name.strip(_JS_WHITESPACE) or len(name) > 100:
            errors["name"] = ["is required: a non-empty string of at most 100 characters"]
        elif text_problem(name):
            errors["name"] = [text_problem(name)]
        errors.update(schema_problems(schema))
        if errors:
            raise ApiError(
                "; ".join(f"{field}: {msgs[0]}" for field, msgs in errors.items()), code="invalid", errors=errors
            )
        return cls(name=name.strip(_JS_WHITESPACE), schema=schema)


# GET assets?ordering=: the orders people sort a library by; newest first by default.
ASSET_ORDERINGS = ("-upload_time", "upload_time", "name", "-name", "-size", "size")
DEFAULT_ORDERING = "-upload_time"


@dataclass(frozen=True)
class AssetFilters:
    """GET assets: `name` contains (case-insensitive); `content_type` exact;
    `source_asset_id` exact; `has_conversion` true/false (any conversion / none) or a
    conversion's name; `ordering` one of ASSET_ORDERINGS."""

    name: str | None = None
    content_type: str | None = None
    source_asset_id: str | None = None
    has_conversion: bool | None = None
    conversion_name: str | None = None
    ordering: str = DEFAULT_ORDERING

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AssetFilters:
        name, content_type = query.get("name"), query.get("content_type")
        name = text_check(name, field="name") if name else None
        content_type = text_check(content_type, field="content_type") if content_type else None
        source = query.get("source_asset_id") or None
        if source and not is_asset_id(source):
            raise FieldError("source_asset_id", f"must be an asset id (32 lower-case hex characters), got {source!r}")
        has = query.get("has_conversion")
        has_conversion = conversion_name = None
        if has and has.lower() in _TRUE | _FALSE:
            has_conversion = has.lower() in _TRUE
        elif has:
            conversion_name = conversion_name_check(has, field="has_conversion")
        ordering = query.get("ordering") or DEFAULT_ORDERING
        if ordering not in ASSET_ORDERINGS:
            raise FieldError("ordering", f"must be one of {', '.join(ASSET_ORDERINGS)}, got {ordering!r}")
        return cls(name, content_type, source, has_conversion, conversion_name, ordering)
