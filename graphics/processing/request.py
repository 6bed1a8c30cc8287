"""The Image Graphics request grammar: JSON -> frozen dataclasses. No Django.

`parse_request` checks the shape, keys, types and ranges and returns a GraphicsRequest;
every failure is an OptionError naming the JSON path (`assets[1].options.crop.right`).
Asset ids and image ids are only checked for form here; the service checks that they
exist in the caller's account, and `pipeline.check_geometry` what stored sizes decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from graphics.processing import compose
from graphics.processing.background import BgRemoveOptions
from graphics.processing.errors import OptionError
from graphics.processing.urls import url_hostname

MAX_SIDE = 10_000
MAX_PIXELS = 50_000_000  # any image the pipeline makes: subject, stage or graphic
MAX_ASSETS = 50
MAX_OPERATIONS = 20
MAX_GRAPHICS = 20
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_CONVERSION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,30}$")


# --- the validated request ---------------------------------------------------------------


@dataclass(frozen=True)
class Crop:
    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class Metadata:
    inherit: bool = False
    src_asset_id: str | None = None
    inherit_fields: tuple[str, ...] | None = None
    data: Mapping[str, Any] | None = None
    mode: str = "APPEND"


@dataclass(frozen=True)
class Disposition:
    add_as_conversion: bool = False
    conversion_name: str | None = None
    create_asset: bool = False
    metadata: Metadata | None = None
    data_schema_id: int | None = None

    @property
    def creates_asset(self) -> bool:
        """A new asset is made when asked, or when nothing else is."""
        return self.create_asset or not self.add_as_conversion


@dataclass(frozen=True)
class AssetSpec:
    path: str
    asset_id: str
    crop: Crop | None = None
    size: tuple[int | None, int | None] | None = None
    canvas_size: tuple[int, int] | None = None
    canvas_color: compose.Color = compose.TRANSPARENT
    position: tuple[int, int] | None = None
    disposition: Disposition = Disposition()

    @property
    def has_canvas(self) -> bool:
        return self.canvas_size is not None


@dataclass(frozen=True)
class BgRemoveOp:
    name: ClassVar[str] = "bg_remove"
    options: BgRemoveOptions


@dataclass(frozen=True)
class BgAddOp:
    name: ClassVar[str] = "bg_add"
    path: str
    color: compose.Color | None = None
    image_id: str | None = None
    mode: str = "stretch"
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class BorderAddOp:
    name: ClassVar[str] = "border_add"
    path: str
    image_id: str


@dataclass(frozen=True)
class Graphic:
    path: str
    image_id: str | None
    image_url: str | None
    position: tuple[int, int] | None
    size: tuple[int, int] | None
    color: compose.Color | None


@dataclass(frozen=True)
class GraphicsAddOp:
    name: ClassVar[str] = "graphics_add"
    graphics: tuple[Graphic, ...]


Operation = BgRemoveOp | BgAddOp | BorderAddOp | GraphicsAddOp


@dataclass(frozen=True)
class GraphicsRequest:
    assets: tuple[AssetSpec, ...]
    operations: tuple[Operation, ...]

    def image_ids(self) -> dict[str, str]:
        """Every image_id the operations name -> the JSON path of its first mention."""
        found: dict[str, str] = {}
        for op in self.operations:
            if isinstance(op, (BgAddOp, BorderAddOp)) and op.image_id:
                found.setdefault(op.image_id, f"{op.path}.image_id")
            if isinstance(op, GraphicsAddOp):
                for graphic in op.graphics:
                    if graphic.image_id:
                        found.setdefault(graphic.image_id, f"{graphic.path}.options.image_id")
        return found

    @property
    def bg_add(self) -> BgAddOp | None:
        return next((op for op in self.operations if isinstance(op, BgAddOp)), None)


# --- parsing helpers ---------------------------------------------------------------------


def _object(value: Any, path: str, allowed: set[str], required: set[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OptionError(path, f"must be an object, got {_kind(value)}")
    for key in value:
        if key not in allowed:
            raise OptionError(_child(path, key), f"is not a known key here; use {', '.join(sorted(allowed))}")
    for key in sorted(required):
        if key not in value:
            raise OptionError(_child(path, key), "is required")
    return value


def _child(path: str, key: str) -> str:
    """The JSON path of `key` in the object at `path`; top-level keys ("body") have no prefix."""
    return key if path == "body" else f"{path}.{key}"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _int(value: Any, path: str, *, minimum: int = 0, maximum: int = MAX_SIDE) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 2.0 is the whole number 2, as JSON Schema says
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(path, f"must be a whole number, got {_kind(value)}")
    if not minimum <= value <= maximum:
        raise OptionError(path, f"must be from {minimum} to {maximum}, got {value}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise OptionError(path, f"must be true or false, got {_kind(value)}")
    return value


def _asset_id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):  # fullmatch: `$` allows a trailing \n
        raise OptionError(path, f"must be an asset id (32 lower-case hex characters), got {value!r}")
    return value


def _size(value: Any, path: str, *, one_side_ok: bool) -> tuple[int | None, int | None]:
    obj = _object(value, path, {"width", "height"}, set() if one_side_ok else {"width", "height"})
    if not obj:
        raise OptionError(path, "needs width, height or both")
    width = _int(obj["width"], f"{path}.width", minimum=1) if "width" in obj else None
    height = _int(obj["height"], f"{path}.height", minimum=1) if "height" in obj else None
    if width and height and width * height > MAX_PIXELS:
        raise OptionError(path, f"{width}x{height} is over {MAX_PIXELS} pixels; choose a smaller size")
    return width, height


def _position(value: Any, path: str) -> tuple[int, int]:
    obj = _object(value, path, {"x", "y"}, {"x", "y"})
    return _int(obj["x"], f"{path}.x"), _int(obj["y"], f"{path}.y")


def _entry(value: Any, path: str) -> tuple[str, Any]:
    """`{"<key>": {...}}` with exactly one key."""
    if not isinstance(value, dict) or len(value) != 1:
        raise OptionError(path, "must be an object with exactly one key")
    return next(iter(value.items()))


# --- parsing ------------------------------------------------------------------------------


def parse_request(body: Any, *, allowed_url_hosts: frozenset[str] | None = frozenset()) -> GraphicsRequest:
    """None for `allowed_url_hosts` skips the host check (the worker: fetch_url checks the setting)."""
    body = _object(body, "body", {"assets", "operations"}, {"assets", "operations"})
    assets = body["assets"]
    operations = body["operations"]
    if not isinstance(assets, list) or not assets:
        raise OptionError("assets", "must be a non-empty array of {\"<asset_id>\": {\"options\": {...}}}")
    if len(assets) > MAX_ASSETS:
        raise OptionError("assets", f"may hold at most {MAX_ASSETS} assets per request")
    if not isinstance(operations, list) or not operations:
        raise OptionError("operations", "must be a non-empty array of operations")
    if len(operations) > MAX_OPERATIONS:
        raise OptionError("operations", f"may hold at most {MAX_OPERATIONS} operations")
    return GraphicsRequest(
        assets=tuple(_parse_asset(entry, f"assets[{i}]") for i, entry in enumerate(assets)),
        operations=tuple(
            _parse_operation(entry, f"operations[{i}]", allowed_url_hosts) for i, entry in enumerate(operations)
        ),
    )


def _parse_asset(entry: Any, path: str) -> AssetSpec:
    key, value = _entry(entry, path)
    asset_id = _asset_id(key, path)
    wrapper = _object(value, path, {"options"})
    options = _object(wrapper.get("options", {}), f"{path}.options", {"crop", "size", "canvas", "position", "disposition"})
    base = f"{path}.options"
    crop = None
    if "crop" in options:
        raw = _object(options["crop"], f"{base}.crop", {"left", "top", "right", "bottom"}, {"left", "top", "right", "bottom"})
        crop = Crop(*(_int(raw[k], f"{base}.crop.{k}") for k in ("left", "top", "right", "bottom")))
        if crop.left >= crop.right:
            raise OptionError(f"{base}.crop.right", f"must be greater than left ({crop.left}), got {crop.right}")
        if crop.top >= crop.bottom:
            raise OptionError(f"{base}.crop.bottom", f"must be greater than top ({crop.top}), got {crop.bottom}")
    size = _size(options["size"], f"{base}.size", one_side_ok=True) if "size" in options else None
    canvas_size, canvas_color = None, compose.TRANSPARENT
    if "canvas" in options:
        canvas = _object(options["canvas"], f"{base}.canvas", {"size", "color"}, {"size"})
        canvas_size = _size(canvas["size"], f"{base}.canvas.size", one_side_ok=False)
        if "color" in canvas:
            canvas_color = compose.parse_color(canvas["color"], f"{base}.canvas.color")
    position = _position(options["position"], f"{base}.position") if "position" in options else None
    disposition = _parse_disposition(options.get("disposition", {}), f"{base}.disposition")
    return AssetSpec(path, asset_id, crop, size, canvas_size, canvas_color, position, disposition)  # type: ignore[arg-type]


def _parse_disposition(value: Any, path: str) -> Disposition:
    raw = _object(value, path, {"add_as_conversion", "conversion_name", "create_asset", "metadata", "data_schema_id"})
    add = _bool(raw["add_as_conversion"], f"{path}.add_as_conversion") if "add_as_conversion" in raw else False
    create = _bool(raw["create_asset"], f"{path}.create_asset") if "create_asset" in raw else False
    name = raw.get("conversion_name")
    if add:
        if name is None:
            raise OptionError(f"{path}.conversion_name", "is required with add_as_conversion")
        if not isinstance(name, str) or not _CONVERSION_NAME.fullmatch(name) or name == "original":
            raise OptionError(
                f"{path}.conversion_name", f"must match ^[a-zA-Z0-9_-]{{1,30}}$ and not be 'original', got {name!r}"
            )
    elif name is not None:
        raise OptionError(f"{path}.conversion_name", "is only used with add_as_conversion: true")
    creates = create or not add
    metadata = None
    if "metadata" in raw:
        if not creates:
            raise OptionError(f"{path}.metadata", "applies to a new asset only; set create_asset: true")
        metadata = _parse_metadata(raw["metadata"], f"{path}.metadata")
    schema_id = None
    if "data_schema_id" in raw:
        if not creates:
            raise OptionError(f"{path}.data_schema_id", "applies to a new asset only; set create_asset: true")
        schema_id = _int(raw["data_schema_id"], f"{path}.data_schema_id", maximum=2**63 - 1)
    return Disposition(add, name if add else None, create, metadata, schema_id)


def _parse_metadata(value: Any, path: str) -> Metadata:
    raw = _object(value, path, {"inherit", "src_asset_id", "inherit_fields", "data", "mode"})
    inherit = _bool(raw["inherit"], f"{path}.inherit") if "inherit" in raw else False
    src = _asset_id(raw["src_asset_id"], f"{path}.src_asset_id") if "src_asset_id" in raw else None
    fields = None
    if "inherit_fields" in raw:
        fields = raw["inherit_fields"]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise OptionError(f"{path}.inherit_fields", "must be an array of key names")
        fields = tuple(fields)
    data = raw.get("data")
    if data is not None and not isinstance(data, dict):
        raise OptionError(f"{path}.data", f"must be an object, got {_kind(data)}")
    mode = raw.get("mode", "APPEND")
    if mode not in ("APPEND", "REPLACE"):
        raise OptionError(f"{path}.mode", f"must be APPEND or REPLACE, got {mode!r}")
    return Metadata(inherit, src, fields, data, mode)


def _parse_operation(entry: Any, path: str, allowed_url_hosts: frozenset[str]) -> Operation:
    name, value = _entry(entry, path)
    here = f"{path}.{name}"
    if name == "bg_remove":
        raw = _object(value, here, {"options"})
        opts = _object(raw.get("options", {}), f"{here}.options", {"mode", "strength", "remove_artifacts"})
        if "remove_artifacts" in opts:  # JSON: a real boolean (the query-string forms "true"/"1" are not)
            _bool(opts["remove_artifacts"], f"{here}.options.remove_artifacts")
        return BgRemoveOp(BgRemoveOptions.parse(opts, prefix=f"{here}.options."))
    if name == "bg_add":
        raw = _object(value, here, {"options"}, {"options"})
        opts = _object(raw["options"], f"{here}.options", {"color", "image_id", "mode", "size"})
        base = f"{here}.options"
        if "color" not in opts and "image_id" not in opts:
            raise OptionError(base, "needs a color, an image_id or both")
        color = compose.parse_color(opts["color"], f"{base}.color") if "color" in opts else None
        image_id = _asset_id(opts["image_id"], f"{base}.image_id") if "image_id" in opts else None
        mode = opts.get("mode", "stretch")
        if mode not in ("stretch", "as-is"):
            raise OptionError(f"{base}.mode", f"must be stretch or as-is, got {mode!r}")
        size = _size(opts["size"], f"{base}.size", one_side_ok=False) if "size" in opts else None
        return BgAddOp(base, color, image_id, mode, size)  # type: ignore[arg-type]
    if name == "border_add":
        raw = _object(value, here, {"options"}, {"options"})
        opts = _object(raw["options"], f"{here}.options", {"image_id"}, {"image_id"})
        return BorderAddOp(f"{here}.options", _asset_id(opts["image_id"], f"{here}.options.image_id"))
    if name == "graphics_add":
        raw = _object(value, here, {"graphics"}, {"graphics"})
        graphics = raw["graphics"]
        if not isinstance(graphics, list) or not graphics:
            raise OptionError(f"{here}.graphics", "must be a non-empty array")
        if len(graphics) > MAX_GRAPHICS:
            raise OptionError(f"{here}.graphics", f"may hold at most {MAX_GRAPHICS} graphics")
        return GraphicsAddOp(tuple(_parse_graphic(g, f"{here}.graphics[{i}]", allowed_url_hosts) for i, g in enumerate(graphics)))
    raise OptionError(path, f"unknown operation {name!r}; use bg_remove, bg_add, border_add or graphics_add")


def _parse_graphic(value: Any, path: str, allowed_url_hosts: frozenset[str]) -> Graphic:
    raw = _object(value, path, {"type", "options"}, {"type", "options"})
    if raw["type"] != "image":
        raise OptionError(f"{path}.type", f"must be image, got {raw['type']!r}")
    base = f"{path}.options"
    opts = _object(raw["options"], base, {"image_id", "image_url", "position", "size", "color"})
    if ("image_id" in opts) == ("image_url" in opts):
        raise OptionError(base, "needs exactly one of image_id and image_url")
    image_id = _asset_id(opts["image_id"], f"{base}.image_id") if "image_id" in opts else None
    image_url = None
    if "image_url" in opts:
        image_url = opts["image_url"]
        hostname = url_hostname(image_url)
        if hostname is None:
            raise OptionError(f"{base}.image_url", "must be an http or https URL with a host, such as https://example.com/logo.png")
        if allowed_url_hosts is not None and hostname not in allowed_url_hosts:
            raise OptionError(
                f"{base}.image_url",
                f"host {hostname!r} is not allowed; images are fetched only from hosts listed in "
                "IMAGE_GRAPHICS_URL_HOSTS (use image_id for an image in your account)",
            )
    position = _position(opts["position"], f"{base}.position") if "position" in opts else None
    size = None
    if "size" in opts:
        w, h = _size(opts["size"], f"{base}.size", one_side_ok=False)
        size = (w, h)
    color = compose.parse_color(opts["color"], f"{base}.color") if "color" in opts else None
    return Graphic(path, image_id, image_url, position, size, color)  # type: ignore[arg-type]
