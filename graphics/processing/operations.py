"""Image Graphics operations: each one parses and checks its own options when it is built
from JSON (so a bad request fails before any pixel is decoded) and runs on the working
image. No Django.

Adding an operation: a class here with `name`, `parse` and `run`, and one line in
`OPERATIONS`. `CanvasStage` is the one step no request names: the pipeline inserts it
where SPEC §5 says a canvas without `bg_add` builds its stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image, ImageChops

from graphics.processing import compose
from graphics.processing.background import BgRemoveOptions
from core.errors import OptionError
from graphics.processing.fields import asset_id, boolean, json_object, position_json, position_of, size_json, size_of
from core.outbound import url_hostname

MAX_GRAPHICS = 20

ImageSource = Callable[[str], Image.Image]


@dataclass(frozen=True)
class Renderers:
    """What rendering needs from outside: images by id, images by URL, the mask."""

    image_by_id: ImageSource
    image_by_url: ImageSource
    mask: Callable[[Image.Image, BgRemoveOptions], Image.Image]


@dataclass(frozen=True)
class RenderContext:
    """The asset's stage options and the outside world, as every operation sees them."""

    renderers: Renderers
    canvas_size: tuple[int, int] | None = None
    canvas_color: compose.Color = compose.TRANSPARENT
    position: tuple[int, int] | None = None

    def place(self, stage: Image.Image, subject: Image.Image) -> Image.Image:
        """The subject on the stage at `position`, centred by default."""
        return compose.place(stage, subject, self.position or compose.centred(stage.size, subject.size))


class Operation:
    """One step of the pipeline. `needs_stage`: a canvas stage is built before it (only
    `bg_remove` works on whatever is there, subject or stage). `to_json` gives the request
    grammar's form back: `parse` of it builds an equal operation."""

    name: ClassVar[str]
    needs_stage: ClassVar[bool] = True
    builds_stage: ClassVar[bool] = False

    @classmethod
    def parse(cls, value: Any, path: str, *, allowed_url_hosts: frozenset[str] | None) -> Operation:
        raise NotImplementedError

    def image_ids(self) -> dict[str, str]:
        """The image_ids this operation names -> the JSON path of each."""
        return {}

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def run(self, working: Image.Image, context: RenderContext) -> Image.Image:
        raise NotImplementedError


@dataclass(frozen=True)
class BgRemoveOp(Operation):
    name: ClassVar[str] = "bg_remove"
    needs_stage: ClassVar[bool] = False
    options: BgRemoveOptions

    @classmethod
    def parse(cls, value: Any, path: str, *, allowed_url_hosts: frozenset[str] | None) -> BgRemoveOp:
        raw = json_object(value, path, {"options"})
        opts = json_object(raw.get("options", {}), f"{path}.options", {"mode", "strength", "remove_artifacts"})
        if "remove_artifacts" in opts:  # JSON: a real boolean (the query-string forms "true"/"1" are not)
            boolean(opts["remove_artifacts"], f"{path}.options.remove_artifacts")
        return cls(BgRemoveOptions.parse(opts, prefix=f"{path}.options."))

    def to_json(self) -> dict[str, Any]:
        return {self.name: {"options": self.options.to_json()}}

    def run(self, working: Image.Image, context: RenderContext) -> Image.Image:
        working = working.copy()
        # the mask times the alpha already there: a transparent pixel stays transparent
        # (its colour may be anything), as Remove Background's apply_mask does
        working.putalpha(ImageChops.multiply(context.renderers.mask(working, self.options), working.getchannel("A")))
        return working


@dataclass(frozen=True)
class BgAddOp(Operation):
    name: ClassVar[str] = "bg_add"
    builds_stage: ClassVar[bool] = True
    path: str
    color: compose.Color | None = None
    image_id: str | None = None
    mode: str = "stretch"
    size: tuple[int, int] | None = None

    @classmethod
    def parse(cls, value: Any, path: str, *, allowed_url_hosts: frozenset[str] | None) -> BgAddOp:
        raw = json_object(value, path, {"options"}, {"options"})
        base = f"{path}.options"
        opts = json_object(raw["options"], base, {"color", "image_id", "mode", "size"})
        if "color" not in opts and "image_id" not in opts:
            raise OptionError(base, "needs a color, an image_id or both")
        color = compose.parse_color(opts["color"], f"{base}.color") if "color" in opts else None
        image_id = asset_id(opts["image_id"], f"{base}.image_id") if "image_id" in opts else None
        mode = opts.get("mode", "stretch")
        if mode not in ("stretch", "as-is"):
            raise OptionError(f"{base}.mode", f"must be stretch or as-is, got {mode!r}")
        size = size_of(opts["size"], f"{base}.size", one_side_ok=False) if "size" in opts else None
        return cls(base, color, image_id, mode, size)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        options: dict[str, Any] = {"mode": self.mode}
        if self.color is not None:
            options["color"] = compose.color_hex(self.color)
        if self.image_id:
            options["image_id"] = self.image_id
        if self.size:
            options["size"] = size_json(self.size)
        return {self.name: {"options": options}}

    def image_ids(self) -> dict[str, str]:
        return {self.image_id: f"{self.path}.image_id"} if self.image_id else {}

    def run(self, working: Image.Image, context: RenderContext) -> Image.Image:
        size = context.canvas_size or self.size or working.size
        stage = compose.stage_new(size, self.color or compose.TRANSPARENT)
        if self.image_id:
            stage = compose.background_draw(stage, context.renderers.image_by_id(self.image_id), self.mode)
        if context.canvas_size:
            stage = compose.paint(stage, context.canvas_color)
        return context.place(stage, working)


@dataclass(frozen=True)
class BorderAddOp(Operation):
    name: ClassVar[str] = "border_add"
    path: str
    image_id: str

    @classmethod
    def parse(cls, value: Any, path: str, *, allowed_url_hosts: frozenset[str] | None) -> BorderAddOp:
        raw = json_object(value, path, {"options"}, {"options"})
        opts = json_object(raw["options"], f"{path}.options", {"image_id"}, {"image_id"})
        return cls(f"{path}.options", asset_id(opts["image_id"], f"{path}.options.image_id"))

    def to_json(self) -> dict[str, Any]:
        return {self.name: {"options": {"image_id": self.image_id}}}

    def image_ids(self) -> dict[str, str]:
        return {self.image_id: f"{self.path}.image_id"}

    def run(self, working: Image.Image, context: RenderContext) -> Image.Image:
        return compose.border_draw(working, context.renderers.image_by_id(self.image_id))


@dataclass(frozen=True)
class Graphic:
    path: str
    image_id: str | None
    image_url: str | None
    position: tuple[int, int] | None
    size: tuple[int, int] | None
    color: compose.Color | None

    @classmethod
    def parse(cls, value: Any, path: str, *, allowed_url_hosts: frozenset[str] | None) -> Graphic:
        raw = json_object(value, path, {"type", "options"}, {"type", "options"})
        if raw["type"] != "image":
            raise OptionError(f"{path}.type", f"must be image, got {raw['type']!r}")
        base = f"{path}.options"
        opts = json_object(raw["options"], base, {"image_id", "image_url", "position", "size", "color"})
        if ("image_id" in opts) == ("image_url" in opts):
            raise OptionError(base, "needs exactly one of image_id and image_url")
        image_id = asset_id(opts["image_id"], f"{base}.image_id") if "image_id" in opts else None
        image_url = _image_url(opts["image_url"], f"{base}.image_url", allowed_url_hosts) if "image_url" in opts else None
        position = position_of(opts["position"], f"{base}.position") if "position" in opts else None
        size = size_of(opts["size"], f"{base}.size", one_side_ok=False) if "size" in opts else None
        color = compose.parse_color(opts["color"], f"{base}.color") if "color" in opts else None
        return cls(path, image_id, image_url, position, size, color)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        options: dict[str, Any] = {"image_id": self.image_id} if self.image_id else {"image_url": self.image_url}
        if self.position:
            options["position"] = position_json(self.position)
        if self.size:
            options["size"] = size_json(self.size)
        if self.color is not None:
            options["color"] = compose.color_hex(self.color)
        return {"type": "image", "options": options}


def _image_url(url: Any, path: str, allowed_url_hosts: frozenset[str] | None) -> str:
    """None for `allowed_url_hosts` skips the host check (the worker: fetch_url checks the setting)."""
    hostname = url_hostname(url)
    if hostname is None:
        raise OptionError(path, "must be an http or https URL with a host, such as https://example.com/logo.png")
    if allowed_url_hosts is not None and hostname not in allowed_url_hosts:
        raise OptionError(
            path,
            f"host {hostname!r} is not allowed; images are fetched only from hosts listed in "
            "IMAGE_GRAPHICS_URL_HOSTS (use image_id for an image in your account)",
        )
    return url


@dataclass(frozen=True)
class GraphicsAddOp(Operation):
    name: ClassVar[str] = "graphics_add"
    graphics: tuple[Graphic, ...]

    @classmethod
    def parse(cls, value: Any, path: str, *, allowed_url_hosts: frozenset[str] | None) -> GraphicsAddOp:
        raw = json_object(value, path, {"graphics"}, {"graphics"})
        graphics = raw["graphics"]
        if not isinstance(graphics, list) or not graphics:
            raise OptionError(f"{path}.graphics", "must be a non-empty array")
        if len(graphics) > MAX_GRAPHICS:
            raise OptionError(f"{path}.graphics", f"may hold at most {MAX_GRAPHICS} graphics")
        return cls(tuple(
            Graphic.parse(g, f"{path}.graphics[{i}]", allowed_url_hosts=allowed_url_hosts) for i, g in enumerate(graphics)
        ))

    def to_json(self) -> dict[str, Any]:
        return {self.name: {"graphics": [graphic.to_json() for graphic in self.graphics]}}

    def image_ids(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for graphic in self.graphics:
            if graphic.image_id:
                found.setdefault(graphic.image_id, f"{graphic.path}.options.image_id")
        return found

    def run(self, working: Image.Image, context: RenderContext) -> Image.Image:
        for graphic in self.graphics:
            renderers = context.renderers
            source = renderers.image_by_id(graphic.image_id) if graphic.image_id else renderers.image_by_url(graphic.image_url)  # type: ignore[arg-type]
            working = compose.graphic_draw(working, source, position=graphic.position, size=graphic.size, color=graphic.color)
        return working


@dataclass(frozen=True)
class CanvasStage(Operation):
    """A canvas without `bg_add`: the stage of the canvas's size and colour, the subject on it."""

    name: ClassVar[str] = "canvas"
    builds_stage: ClassVar[bool] = True

    def run(self, working: Image.Image, context: RenderContext) -> Image.Image:
        return context.place(compose.stage_new(context.canvas_size, context.canvas_color), working)  # type: ignore[arg-type]


OPERATIONS: dict[str, type[Operation]] = {op.name: op for op in (BgRemoveOp, BgAddOp, BorderAddOp, GraphicsAddOp)}
