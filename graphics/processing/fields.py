"""Parsing untrusted JSON into checked values, each failure an OptionError naming its JSON
path. Shared by the Image Graphics request and its operations. No Django."""

from __future__ import annotations

from typing import Any

from core.errors import OptionError
from core.rules import MAX_PIXELS, MAX_SIDE, is_hex32


def json_object(value: Any, path: str, allowed: set[str], required: set[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OptionError(path, f"must be an object, got {kind_of(value)}")
    for key in value:
        if key not in allowed:
            raise OptionError(child_path(path, key), f"is not a known key here; use {', '.join(sorted(allowed))}")
    for key in sorted(required):
        if key not in value:
            raise OptionError(child_path(path, key), "is required")
    return value


def child_path(path: str, key: str) -> str:
    """The JSON path of `key` in the object at `path`; top-level keys ("body") have no prefix."""
    return key if path == "body" else f"{path}.{key}"


def kind_of(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def whole_number(value: Any, path: str, *, minimum: int = 0, maximum: int = MAX_SIDE) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 2.0 is the whole number 2, as JSON Schema says
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(path, f"must be a whole number, got {kind_of(value)}")
    if not minimum <= value <= maximum:
        raise OptionError(path, f"must be from {minimum} to {maximum}, got {value}")
    return value


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise OptionError(path, f"must be true or false, got {kind_of(value)}")
    return value


def asset_id(value: Any, path: str) -> str:
    if not is_hex32(value):
        raise OptionError(path, f"must be an asset id (32 lower-case hex characters), got {value!r}")
    return value


def size_of(value: Any, path: str, *, one_side_ok: bool) -> tuple[int | None, int | None]:
    obj = json_object(value, path, {"width", "height"}, set() if one_side_ok else {"width", "height"})
    if not obj:
        raise OptionError(path, "needs width, height or both")
    width = whole_number(obj["width"], f"{path}.width", minimum=1) if "width" in obj else None
    height = whole_number(obj["height"], f"{path}.height", minimum=1) if "height" in obj else None
    if width and height and width * height > MAX_PIXELS:
        raise OptionError(path, f"{width}x{height} is over {MAX_PIXELS} pixels; choose a smaller size")
    return width, height


def position_of(value: Any, path: str) -> tuple[int, int]:
    obj = json_object(value, path, {"x", "y"}, {"x", "y"})
    return whole_number(obj["x"], f"{path}.x"), whole_number(obj["y"], f"{path}.y")


def single_entry(value: Any, path: str) -> tuple[str, Any]:
    """`{"<key>": {...}}` with exactly one key."""
    if not isinstance(value, dict) or len(value) != 1:
        raise OptionError(path, "must be an object with exactly one key")
    return next(iter(value.items()))


def size_json(size: tuple[int | None, int | None]) -> dict[str, int]:
    """The JSON form `size_of` reads back."""
    return {key: value for key, value in zip(("width", "height"), size) if value is not None}


def position_json(position: tuple[int, int]) -> dict[str, int]:
    """The JSON form `position_of` reads back."""
    return {"x": position[0], "y": position[1]}
