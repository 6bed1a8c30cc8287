"""Image Graphics: a validated request -> a rendered RGBA image, per SPEC §5. No Django.

The request grammar lives in `graphics.processing.request` (re-exported here, since this
module is the entry point). `check_geometry` checks what the stored width and height
allow (crop inside the image, the subject inside the stage). `render` runs the rules of
SPEC §5 for one asset.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops

from graphics.processing import compose
from graphics.processing.background import BgRemoveOptions
from graphics.processing.errors import OptionError
from graphics.processing.request import (
    MAX_PIXELS,
    MAX_SIDE,
    AssetSpec,
    BgAddOp,
    BgRemoveOp,
    BorderAddOp,
    Crop,
    Disposition,
    Graphic,
    GraphicsAddOp,
    GraphicsRequest,
    Metadata,
    Operation,
    parse_request,
)

__all__ = [
    "AssetSpec", "BgAddOp", "BgRemoveOp", "BorderAddOp", "Crop", "Disposition", "Graphic",
    "GraphicsAddOp", "GraphicsRequest", "Metadata", "Operation", "Renderers", "check_geometry",
    "parse_request", "render", "stage_size", "subject_size",
]


# --- geometry ------------------------------------------------------------------------------


def subject_size(spec: AssetSpec, width: int, height: int) -> tuple[int, int]:
    """The working image's size after crop and size, from the original's upright size."""
    current = (width, height)
    if spec.crop:
        current = (spec.crop.right - spec.crop.left, spec.crop.bottom - spec.crop.top)
    if spec.size:
        current = compose.fit_size(current, *spec.size)
    return current


def stage_size(spec: AssetSpec, request: GraphicsRequest, subject: tuple[int, int]) -> tuple[int, int] | None:
    """The stage's size, or None when no stage is built."""
    if spec.canvas_size:
        return spec.canvas_size  # type: ignore[return-value]
    bg_add = request.bg_add
    if bg_add is None:
        return None
    return bg_add.size or subject


def check_geometry(spec: AssetSpec, request: GraphicsRequest, width: int, height: int) -> None:
    """What the stored width and height decide: crop inside, subject inside the stage."""
    base = f"{spec.path}.options"
    if spec.crop:
        if spec.crop.right > width:
            raise OptionError(f"{base}.crop.right", f"must be at most the image width {width}, got {spec.crop.right}")
        if spec.crop.bottom > height:
            raise OptionError(f"{base}.crop.bottom", f"must be at most the image height {height}, got {spec.crop.bottom}")
    subject = subject_size(spec, width, height)
    if subject[0] * subject[1] > MAX_PIXELS or max(subject) > MAX_SIDE:
        raise OptionError(
            f"{base}.size", f"makes a {subject[0]}x{subject[1]} image, over the limit; choose a smaller size"
        )
    stage = stage_size(spec, request, subject)
    if spec.position is not None:
        if stage is None:
            raise OptionError(f"{base}.position", "needs a canvas or a bg_add operation to place the subject on")
        x, y = spec.position
        if x + subject[0] > stage[0]:
            raise OptionError(
                f"{base}.position.x", f"x + subject width ({x} + {subject[0]}) exceeds the stage width {stage[0]}"
            )
        if y + subject[1] > stage[1]:
            raise OptionError(
                f"{base}.position.y", f"y + subject height ({y} + {subject[1]}) exceeds the stage height {stage[1]}"
            )


# --- rendering -----------------------------------------------------------------------------

ImageSource = Callable[[str], Image.Image]


@dataclass(frozen=True)
class Renderers:
    """What rendering needs from outside: images by id, images by URL, the mask."""

    image_by_id: ImageSource
    image_by_url: ImageSource
    mask: Callable[[Image.Image, BgRemoveOptions], Image.Image]


def render(
    original: Image.Image,
    spec: AssetSpec,
    request: GraphicsRequest,
    renderers: Renderers,
    on_step: Callable[[str, float], None] | None = None,
) -> Image.Image:
    """Run SPEC §5's rendering for one asset; returns RGBA.

    `on_step(name, seconds)`, if given, is told how long each step took (benchmarks).
    """
    clock = time.perf_counter
    started = clock()

    def step(name: str) -> None:
        nonlocal started
        if on_step is not None:
            now = clock()
            on_step(name, now - started)
            started = now

    working = original.convert("RGBA")
    if spec.crop:
        working = compose.crop(working, (spec.crop.left, spec.crop.top, spec.crop.right, spec.crop.bottom))
    if spec.size:
        working = compose.resize(working, compose.fit_size(working.size, *spec.size))
    step("crop_size")
    has_bg_add = request.bg_add is not None
    staged = False

    def stage_from_canvas(subject: Image.Image) -> Image.Image:
        stage = compose.stage_new(spec.canvas_size, spec.canvas_color)  # type: ignore[arg-type]
        return compose.place(stage, subject, spec.position or compose.centred(stage.size, subject.size))

    for op in request.operations:
        if isinstance(op, BgRemoveOp):
            working = working.copy()
            # the mask times the alpha already there: a transparent pixel stays transparent
            # (its colour may be anything), as Remove Background's apply_mask does
            working.putalpha(ImageChops.multiply(renderers.mask(working, op.options), working.getchannel("A")))
            step("bg_remove")
            continue
        if spec.has_canvas and not has_bg_add and not staged:
            working, staged = stage_from_canvas(working), True
            step("canvas")
        if isinstance(op, BgAddOp):
            size = spec.canvas_size or op.size or working.size
            stage = compose.stage_new(size, op.color or compose.TRANSPARENT)  # type: ignore[arg-type]
            if op.image_id:
                stage = compose.background_draw(stage, renderers.image_by_id(op.image_id), op.mode)
            if spec.has_canvas:
                stage = compose.paint(stage, spec.canvas_color)
            working = compose.place(stage, working, spec.position or compose.centred(stage.size, working.size))
            staged = True
        elif isinstance(op, BorderAddOp):
            working = compose.border_draw(working, renderers.image_by_id(op.image_id))
        elif isinstance(op, GraphicsAddOp):
            for graphic in op.graphics:
                source = renderers.image_by_id(graphic.image_id) if graphic.image_id else renderers.image_by_url(graphic.image_url)  # type: ignore[arg-type]
                working = compose.graphic_draw(
                    working, source, position=graphic.position, size=graphic.size, color=graphic.color
                )
        step(op.name)
    if spec.has_canvas and not staged:
        working = stage_from_canvas(working)
        step("canvas")
    return working
