"""What schemathesis must know about this API beyond its OpenAPI document.

Loaded by tests/test_openapi_fuzz.py and, through schemathesis.toml, by the `schemathesis`
CLI. Each rule here is one that docs/api.md states and OpenAPI 3.0 cannot express; the
document itself says everything it can (see assets/openapi.py, graphics/openapi.py).

- Every file this API accepts is an image, and no schema can say which bytes make one:
  binary fields are drawn from real images (small JPEG, PNG, WebP, GIF, TIFF, HEIC, AVIF).
- A data schema id in a body must name a schema of the account; 0, the built-in one,
  is the id every account has, so schema-valid cases use it.
- Remove Background's query parameters depend on each other (SPEC §4 rules 2-5): a saving
  `mode` needs a `disposition`, `add_conversion` a `conversion_name` (and an `asset_id` on
  the upload endpoint), `metadata` goes only with `add_new_asset` and a known asset. Cases
  generated as valid that break these are dropped. With `mode=get_image` the disposition
  parameters are ignored, not validated (SPEC §4), and `conversion_name` is with any
  disposition but `add_conversion`, so cases generated as invalid only through them are
  dropped too: the API rightly answers them.
- Remove Background's output options (SPEC §10) have limits and combinations no pattern
  says (at most 500px or 50% of margin, scale from 10%, crop_margin only with crop=true,
  channels=alpha with neither bg_color, format=jpg nor decontaminate, x2 beyond x1): cases
  generated as valid are judged by the service's own parser, and dropped if it refuses them.
- A body mutated inside the recursive JSON value schema is judged again (see map_case).
- Image Graphics (SPEC §5): a crop's right and bottom edges lie beyond its left and top, a
  size is at most 50 megapixels, `conversion_name` goes exactly with `add_as_conversion`,
  and `metadata` and `data_schema_id` only with a new asset.
- A webhook's `url` (SPEC §11) must have a host and a valid port, and may not name a private,
  loopback or link-local address: cases generated as valid are judged by the service's own
  check (core.outbound.url_problem), and dropped if it refuses them.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from hypothesis import strategies as st
from PIL import Image
from schemathesis.core.parameters import ParameterLocation
from schemathesis.transport.serialization import Binary

from core.errors import OptionError
from core.outbound import url_problem
from graphics.processing.output import OutputOptions
from tests.images import encode, photo

_HEX32 = re.compile(r"[0-9a-f]{32}")
_CONVERSION_NAME = re.compile(r"(?!original$)[a-zA-Z0-9_-]{1,30}")
_MAX_PIXELS = 50_000_000
_SAVING_PARAMETERS = {
    "disposition": lambda v: v in ("add_conversion", "add_new_asset"),
    "metadata": lambda v: v == "inherit",
    "conversion_name": lambda v: isinstance(v, str) and bool(_CONVERSION_NAME.fullmatch(v)),
    "asset_id": lambda v: isinstance(v, str) and bool(_HEX32.fullmatch(v)),
}


def _images() -> list[bytes]:
    small = photo("chelsea", (40, 28))
    return [
        encode(small, "JPEG", quality=85),
        encode(small, "PNG"),
        encode(small, "WEBP", quality=80),
        encode(small.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"),
        encode(small, "TIFF"),
        encode(small, "HEIF", quality=70),
        encode(small, "AVIF", quality=70),
    ]


schemathesis.openapi.format("binary", st.sampled_from(_images()).map(Binary))


def _negative_only_in_the_body(case) -> bool:
    meta = case.meta
    others = (ParameterLocation.QUERY, ParameterLocation.PATH, ParameterLocation.HEADER, ParameterLocation.COOKIE)
    return meta.is_negative_at(ParameterLocation.BODY) and not any(meta.is_negative_at(where) for where in others)


def _mode(case) -> str | None:
    meta = getattr(case, "meta", None)
    if meta is None:
        return None
    return "positive" if meta.generation.mode.is_positive else "negative"


# --- Remove Background -----------------------------------------------------------------------


def bg_remove_query_is_valid(query: dict[str, Any], *, upload_endpoint: bool) -> bool:
    """SPEC §4 rules 2-5, which relate parameters to one another."""
    try:
        OutputOptions.parse({k: v if isinstance(v, str) else str(v).lower() for k, v in query.items()})
    except OptionError:
        return False
    mode = query.get("mode", "get_image")
    if mode == "get_image":
        return True
    disposition = query.get("disposition")
    if disposition is None:
        return False
    asset_known = not upload_endpoint or "asset_id" in query
    if disposition == "add_conversion" and (not asset_known or "conversion_name" not in query):
        return False
    if "metadata" in query and (disposition != "add_new_asset" or not asset_known):
        return False
    return True


def bg_remove_ignores_the_violation(query: dict[str, Any]) -> bool:
    """With get_image the disposition parameters are ignored, whatever their values; with
    a disposition other than add_conversion, `conversion_name` is."""
    invalid = {name for name, valid in _SAVING_PARAMETERS.items() if name in query and not valid(query[name])}
    if query.get("mode", "get_image") == "get_image":
        return bool(invalid)
    return invalid == {"conversion_name"} and query.get("disposition") != "add_conversion"


# --- Image Graphics --------------------------------------------------------------------------


def _size_ok(size: Any) -> bool:
    return not isinstance(size, dict) or (size.get("width") or 1) * (size.get("height") or 1) <= _MAX_PIXELS


def _disposition_ok(disposition: Any) -> bool:
    if not isinstance(disposition, dict):
        return True
    add = disposition.get("add_as_conversion") is True
    if add != ("conversion_name" in disposition):
        return False
    creates = disposition.get("create_asset") is True or not add
    return creates or not ({"metadata", "data_schema_id"} & set(disposition))


def _options_ok(options: Any) -> bool:
    if not isinstance(options, dict):
        return True
    crop = options.get("crop")
    if isinstance(crop, dict) and not (crop["left"] < crop["right"] and crop["top"] < crop["bottom"]):
        return False
    canvas = options.get("canvas")
    return (
        _size_ok(options.get("size"))
        and (not isinstance(canvas, dict) or _size_ok(canvas.get("size")))
        and _disposition_ok(options.get("disposition"))
    )


def _operation_sizes(operation: Any) -> list[Any]:
    if not isinstance(operation, dict):
        return []
    if "bg_add" in operation:
        return [operation["bg_add"].get("options", {}).get("size")]
    if "graphics_add" in operation:
        return [g.get("options", {}).get("size") for g in operation["graphics_add"].get("graphics", [])]
    return []


def image_graphics_body_is_valid(body: Any) -> bool:
    if not isinstance(body, dict):
        return True
    for entry in body.get("assets", []):
        for value in entry.values():
            if not _options_ok(value.get("options")):
                return False
    return all(_size_ok(size) for op in body.get("operations", []) for size in _operation_sizes(op))


# --- the hooks ---------------------------------------------------------------------------------


@schemathesis.hook
def map_case(context, case):
    mode = _mode(case)
    if mode == "positive" and isinstance(case.body, dict) and case.body.get("data_schema_id") is not None:
        case.body["data_schema_id"] = 0
    elif mode == "negative" and case.body is not None and _negative_only_in_the_body(case):
        # Re-assigning the body makes schemathesis judge it again against the document.
        # A mutation inside the recursive JsonValue schema sometimes leaves a value that
        # is still valid (an object whose keys all hold no NUL) yet labelled invalid;
        # judged again, it counts as the valid request it is.
        case.body = case.body
    return case


@schemathesis.hook
def filter_case(context, case) -> bool:
    path = case.operation.path
    mode = _mode(case)
    if path.endswith("/addons/bg_remove"):
        query = case.query or {}
        if mode == "positive":
            return bg_remove_query_is_valid(query, upload_endpoint=path.endswith("/file/addons/bg_remove"))
        if mode == "negative":
            return not bg_remove_ignores_the_violation(query)
    if path.endswith("/addons/image_graphics") and case.method == "POST" and mode == "positive":
        return image_graphics_body_is_valid(case.body)
    if "/webhooks" in path and case.method in ("POST", "PUT") and mode == "positive" and isinstance(case.body, dict):
        return url_problem(case.body.get("url"), allow_private=False) is None
    return True
