"""Image Graphics: a validated request -> a rendered RGBA image, per SPEC §5. No Django.

The request grammar lives in `graphics.processing.request` and the operations in
`graphics.processing.operations` (both re-exported here, since this module is the entry
point). `check_geometry` checks what the stored width and height allow (crop inside the
image, the subject inside the stage). `plan` lists one asset's steps, and `render` runs
them in a loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PIL import Image

from graphics.processing import compose
from core.errors import OptionError
from graphics.processing.operations import CanvasStage, Operation, RenderContext, Renderers
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
    parse_request,
)

__all__ = [
    "AssetSpec", "BgAddOp", "BgRemoveOp", "BorderAddOp", "Crop", "Disposition", "Graphic",
    "GraphicsAddOp", "GraphicsRequest", "Metadata", "Operation", "Renderers", "check_geometry",
    "parse_request", "plan", "render", "stage_size", "subject_size",
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


def plan(spec: AssetSpec, request: GraphicsRequest) -> list[Operation]:
    """The steps for one asset: the request's operations, with a canvas that no `bg_add`
    builds staged just before the first operation that needs a stage, or at the end."""
    steps = list(request.operations)
    if spec.has_canvas and request.bg_add is None:
        first = next((i for i, op in enumerate(steps) if op.needs_stage), len(steps))
        steps.insert(first, CanvasStage())
    return steps


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
    context = RenderContext(renderers, spec.canvas_size, spec.canvas_color, spec.position)
    for operation in plan(spec, request):
        working = operation.run(working, context)
        step(operation.name)
    return working
