"""Pure checks with the API's error codes: uploads, conversion names, data and schemas."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from jsonschema.exceptions import SchemaError

from assets.errors import FieldError, PayloadTooLarge
from core.imaging import ImageInfo, ImageRejected, image_probe
from core.rules import CONVERSION_NAME_PATTERN, RESERVED_CONVERSION_NAMES, is_hex32
from assets.schema_regex import TenantSchemaValidator, json_path, schema_regex_problems

CONVERSION_NAME_RE = re.compile(CONVERSION_NAME_PATTERN)


def conversion_name_check(name: str | None, *, field: str = "conversion_name") -> str:
    """Return `name` if it is a valid conversion name, else raise a 400 naming `field`."""
    if name is None or name == "":
        raise FieldError(field, f"is required; give a name matching {CONVERSION_NAME_PATTERN}")
    if not isinstance(name, str) or not CONVERSION_NAME_RE.fullmatch(name):
        raise FieldError(field, f"must match {CONVERSION_NAME_PATTERN}, got {name!r}")
    if name in RESERVED_CONVERSION_NAMES:
        raise FieldError(field, f"'{name}' is reserved for the asset's own file; choose another name")
    return name


is_asset_id = is_hex32


def asset_id_check(value: Any, *, field: str) -> str:
    if not is_asset_id(value):
        raise FieldError(field, f"must be an asset id (32 lower-case hex characters), got {value!r}")
    return value


def upload_present_check(upload: UploadedFile | None, *, field: str) -> UploadedFile:
    """The upload exists (400 `required`) and is within ASSETS_MAX_UPLOAD_BYTES (413)."""
    if upload is None:
        raise FieldError(
            field, f"is required; send the image as the multipart file field '{field}'", code="required"
        )
    max_bytes = settings.ASSETS_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise PayloadTooLarge(
            f"{field}: the file is {upload.size} bytes, over the limit of {max_bytes} bytes; "
            "upload a smaller file",
            errors={field: [f"at most {max_bytes} bytes"]},
        )
    return upload


def upload_check(upload: UploadedFile | None, *, field: str = "file") -> ImageInfo:
    """Check an uploaded file against SPEC §7 and describe it.

    Raises FieldError (400, code `required`, `invalid_image` or `image_too_large`) or
    PayloadTooLarge (413).
    """
    upload_present_check(upload, field=field)
    try:
        return image_probe(upload, max_pixels=settings.ASSETS_MAX_PIXELS)
    except ImageRejected as exc:
        raise exc.for_field(field) from None


MAX_JSON_DEPTH = 64



def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text in every supported database, or None."""
    if "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (it holds an unpaired surrogate)"
    return None


def text_check(value: str, *, field: str) -> str:
    problem = text_problem(value)
    if problem:
        raise FieldError(field, problem)
    return value


def json_value_check(value: Any, *, field: str, depth: int = 0) -> Any:
    """Reject JSON the databases cannot store: NUL or unpaired surrogates in strings,
    non-finite numbers, and nesting deeper than MAX_JSON_DEPTH."""
    if depth > MAX_JSON_DEPTH:
        raise FieldError(field, f"is nested more than {MAX_JSON_DEPTH} levels deep; flatten it")
    if isinstance(value, str):
        text_check(value, field=field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise FieldError(field, "must not hold NaN or Infinity; JSON numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            text_check(key, field=field)
            json_value_check(item, field=f"{field}.{key}", depth=depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            json_value_check(item, field=f"{field}[{index}]", depth=depth + 1)
    return value


def json_loads_checked(raw: str | bytes, *, field: str) -> Any:
    try:
        value = json.loads(raw)
    except RecursionError:
        raise FieldError(field, f"is nested more than {MAX_JSON_DEPTH} levels deep; flatten it") from None
    except (TypeError, ValueError) as exc:
        raise FieldError(field, f"must be JSON; it does not parse ({exc})") from None
    return json_value_check(value, field=field)


def json_object_field(raw: Any, *, field: str = "data") -> dict[str, Any]:
    """Parse a multipart form field that must hold a JSON object."""
    if isinstance(raw, dict):
        return json_value_check(raw, field=field)
    if raw is None or raw == "":
        return {}
    value = json_loads_checked(raw, field=field)
    if not isinstance(value, dict):
        raise FieldError(field, f"must be a JSON object, got {type(value).__name__}")
    return value


def schema_problems(schema: Any) -> dict[str, list[str]]:
    """Why `schema` is not a usable draft 2020-12 JSON Schema, keyed by field: "schema",
    or the path of a pattern RE2 cannot run ("schema.properties.sku.pattern"). Empty if
    it is usable."""
    if not isinstance(schema, dict):
        return {"schema": ["must be a JSON Schema object"]}
    try:
        TenantSchemaValidator.check_schema(schema)
    except SchemaError as exc:
        if not (exc.validator == "format" and exc.validator_value == "regex"):
            where = "/".join(str(p) for p in exc.absolute_path)
            return {"schema": [f"not a valid JSON Schema (draft 2020-12){' at ' + where if where else ''}: {exc.message}"]}
    return schema_regex_problems(schema)


def schema_check(schema: Any) -> list[str]:
    """The reasons `schema` is not a usable draft 2020-12 JSON Schema (empty if it is)."""
    return [
        message if field == "schema" else f"{field}: {message}"
        for field, messages in schema_problems(schema).items()
        for message in messages
    ]


def data_check(data: Any, schema: dict[str, Any], *, field: str = "data") -> dict[str, list[str]]:
    """Every way `data` violates `schema`, keyed by its path ("data.price", "data.tags[1]").

    Patterns run on RE2 (assets.schema_regex): linear time, whatever the tenant wrote."""
    validator = TenantSchemaValidator(schema, format_checker=TenantSchemaValidator.FORMAT_CHECKER)
    violations: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        violations.setdefault(json_path(field, error.absolute_path), []).append(error.message)
    return violations
