"""The Image Graphics request grammar: JSON -> frozen dataclasses. No Django.

`parse_request` checks the shape, keys, types and ranges and returns a GraphicsRequest;
every failure is an OptionError naming the JSON path (`assets[1].options.crop.right`).
The assets' options are parsed here, each operation by its own class
(graphics.processing.operations). Asset ids and image ids are only checked for form
here; the service checks that they exist in the caller's account, and
`pipeline.check_geometry` what stored sizes decide.
"""

from __future__ import annotations


from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphics.processing import compose
from core.errors import OptionError
from core.rules import CONVERSION_NAME_PATTERN, MAX_ID, is_conversion_name
from graphics.processing.fields import (
    MAX_PIXELS,
    MAX_SIDE,
    asset_id,
    boolean,
    json_object,
    kind_of,
    position_json,
    position_of,
    single_entry,
    size_json,
    size_of,
    whole_number,
)
from graphics.processing.operations import (
    MAX_GRAPHICS,
    OPERATIONS,
    BgAddOp,
    BgRemoveOp,
    BorderAddOp,
    Graphic,
    GraphicsAddOp,
    Operation,
)

__all__ = [
    "MAX_ASSETS", "MAX_GRAPHICS", "MAX_OPERATIONS", "MAX_PIXELS", "MAX_SIDE", "AssetSpec", "BgAddOp", "BgRemoveOp",
    "BorderAddOp", "Crop", "Disposition", "Graphic", "GraphicsAddOp", "GraphicsRequest", "Metadata", "Operation",
    "parse_request",
]

MAX_ASSETS = 50
MAX_OPERATIONS = 20


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
class GraphicsRequest:
    assets: tuple[AssetSpec, ...]
    operations: tuple[Operation, ...]

    def image_ids(self) -> dict[str, str]:
        """Every image_id the operations name -> the JSON path of its first mention."""
        found: dict[str, str] = {}
        for op in self.operations:
            for image_id, path in op.image_ids().items():
                found.setdefault(image_id, path)
        return found

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON form a job stores: `from_json(to_json())` equals this request."""
        return {
            "assets": [{spec.asset_id: {"options": _options_json(spec)}} for spec in self.assets],
            "operations": [operation.to_json() for operation in self.operations],
        }

    @classmethod
    def from_json(cls, value: Any) -> GraphicsRequest:
        """Rebuild a request that was checked when it was queued. Its `image_url` hosts are
        not checked again here: `fetch_url` checks the setting of the moment when it fetches."""
        return parse_request(value, allowed_url_hosts=None)

    @property
    def bg_add(self) -> BgAddOp | None:
        return next((op for op in self.operations if isinstance(op, BgAddOp)), None)


# --- parsing ------------------------------------------------------------------------------


def _options_json(spec: AssetSpec) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if spec.crop:
        options["crop"] = {"left": spec.crop.left, "top": spec.crop.top, "right": spec.crop.right, "bottom": spec.crop.bottom}
    if spec.size:
        options["size"] = size_json(spec.size)
    if spec.canvas_size:
        options["canvas"] = {"size": size_json(spec.canvas_size), "color": compose.color_hex(spec.canvas_color)}
    if spec.position:
        options["position"] = position_json(spec.position)
    d = spec.disposition
    disposition: dict[str, Any] = {"add_as_conversion": d.add_as_conversion, "create_asset": d.create_asset}
    if d.conversion_name:
        disposition["conversion_name"] = d.conversion_name
    if d.data_schema_id is not None:
        disposition["data_schema_id"] = d.data_schema_id
    if d.metadata:
        m = d.metadata
        disposition["metadata"] = {
            "inherit": m.inherit, "mode": m.mode,
            **({"src_asset_id": m.src_asset_id} if m.src_asset_id else {}),
            **({"inherit_fields": list(m.inherit_fields)} if m.inherit_fields is not None else {}),
            **({"data": dict(m.data)} if m.data is not None else {}),
        }
    options["disposition"] = disposition
    return options


def parse_request(body: Any, *, allowed_url_hosts: frozenset[str] | None = frozenset()) -> GraphicsRequest:
    """None for `allowed_url_hosts` skips the host check (the worker: fetch_url checks the setting)."""
    body = json_object(body, "body", {"assets", "operations"}, {"assets", "operations"})
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
    key, value = single_entry(entry, path)
    checked_id = asset_id(key, path)
    wrapper = json_object(value, path, {"options"})
    options = json_object(wrapper.get("options", {}), f"{path}.options", {"crop", "size", "canvas", "position", "disposition"})
    base = f"{path}.options"
    crop = None
    if "crop" in options:
        raw = json_object(options["crop"], f"{base}.crop", {"left", "top", "right", "bottom"}, {"left", "top", "right", "bottom"})
        crop = Crop(*(whole_number(raw[k], f"{base}.crop.{k}") for k in ("left", "top", "right", "bottom")))
        if crop.left >= crop.right:
            raise OptionError(f"{base}.crop.right", f"must be greater than left ({crop.left}), got {crop.right}")
        if crop.top >= crop.bottom:
            raise OptionError(f"{base}.crop.bottom", f"must be greater than top ({crop.top}), got {crop.bottom}")
    size = size_of(options["size"], f"{base}.size", one_side_ok=True) if "size" in options else None
    canvas_size, canvas_color = None, compose.TRANSPARENT
    if "canvas" in options:
        canvas = json_object(options["canvas"], f"{base}.canvas", {"size", "color"}, {"size"})
        canvas_size = size_of(canvas["size"], f"{base}.canvas.size", one_side_ok=False)
        if "color" in canvas:
            canvas_color = compose.parse_color(canvas["color"], f"{base}.canvas.color")
    position = position_of(options["position"], f"{base}.position") if "position" in options else None
    disposition = _parse_disposition(options.get("disposition", {}), f"{base}.disposition")
    return AssetSpec(path, checked_id, crop, size, canvas_size, canvas_color, position, disposition)  # type: ignore[arg-type]


def _parse_disposition(value: Any, path: str) -> Disposition:
    raw = json_object(value, path, {"add_as_conversion", "conversion_name", "create_asset", "metadata", "data_schema_id"})
    add = boolean(raw["add_as_conversion"], f"{path}.add_as_conversion") if "add_as_conversion" in raw else False
    create = boolean(raw["create_asset"], f"{path}.create_asset") if "create_asset" in raw else False
    name = raw.get("conversion_name")
    if add:
        if name is None:
            raise OptionError(f"{path}.conversion_name", "is required with add_as_conversion")
        if not is_conversion_name(name):
            raise OptionError(
                f"{path}.conversion_name", f"must match {CONVERSION_NAME_PATTERN} and not be 'original', got {name!r}"
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
        schema_id = whole_number(raw["data_schema_id"], f"{path}.data_schema_id", maximum=MAX_ID)
    return Disposition(add, name if add else None, create, metadata, schema_id)


def _parse_metadata(value: Any, path: str) -> Metadata:
    raw = json_object(value, path, {"inherit", "src_asset_id", "inherit_fields", "data", "mode"})
    inherit = boolean(raw["inherit"], f"{path}.inherit") if "inherit" in raw else False
    src = asset_id(raw["src_asset_id"], f"{path}.src_asset_id") if "src_asset_id" in raw else None
    fields = None
    if "inherit_fields" in raw:
        fields = raw["inherit_fields"]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise OptionError(f"{path}.inherit_fields", "must be an array of key names")
        fields = tuple(fields)
    data = raw.get("data")
    if data is not None and not isinstance(data, dict):
        raise OptionError(f"{path}.data", f"must be an object, got {kind_of(data)}")
    mode = raw.get("mode", "APPEND")
    if mode not in ("APPEND", "REPLACE"):
        raise OptionError(f"{path}.mode", f"must be APPEND or REPLACE, got {mode!r}")
    return Metadata(inherit, src, fields, data, mode)


def _parse_operation(entry: Any, path: str, allowed_url_hosts: frozenset[str] | None) -> Operation:
    name, value = single_entry(entry, path)
    operation = OPERATIONS.get(name)
    if operation is None:
        *others, last = OPERATIONS
        raise OptionError(path, f"unknown operation {name!r}; use {', '.join(others)} or {last}")
    return operation.parse(value, f"{path}.{name}", allowed_url_hosts=allowed_url_hosts)
