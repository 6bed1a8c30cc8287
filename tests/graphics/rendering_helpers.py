"""Helpers of the Image Graphics rendering tests (test_rendering_*.py), without the database.

They drive graphics.processing.pipeline (parse_request, render) with images built in
memory: solid colours and rectangles, so the expected pixel at each named point (the
subject's centre, the stage corner, inside a graphic, on a border, just outside the
subject) is exact.

The mask is an injected dependency of `render`. Most tests use `red_mask` (alpha 255 where
a pixel is pure red, 0 elsewhere), so what bg_remove keeps is known to the pixel.

Resampling is LANCZOS (support 3 source pixels when enlarging, 3 x the factor when
reducing), so a pixel of a resized image is checked only where every source pixel within
that support has the same colour: there the result is exact.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from graphics.processing import pipeline
from graphics.processing.background import BgRemoveOptions
from graphics.processing.pipeline import Renderers

# --- colours --------------------------------------------------------------------------------

RED = (255, 0, 0, 255)
GREEN = (0, 255, 0, 255)
BLUE = (0, 0, 255, 255)
YELLOW = (255, 255, 0, 255)
WHITE = (255, 255, 255, 255)
MAGENTA = (255, 0, 255, 255)
CLEAR = (0, 0, 0, 0)
TRANSPARENT = "alpha 0"  # an expected value: only the alpha is checked (colour under it may be anything)

# --- ids (any 32 lower-case hex) --------------------------------------------------------------

ASSET = "a" * 32
BG = "b" * 32
BORDER = "c" * 32
G1 = "d" * 32
G2 = "e" * 32
NOTHING = "f" * 32  # a fully transparent image: border_add with it changes no pixel
URL = "https://img.example.com/logo.png"
HOSTS = frozenset({"img.example.com"})

NOOP = {"border_add": {"options": {"image_id": NOTHING}}}  # an operation that is not bg_remove


# --- images ---------------------------------------------------------------------------------


def solid(size: tuple[int, int], color) -> Image.Image:
    return Image.new("RGBA", size, color)


def quadrants(width: int, height: int) -> Image.Image:
    """Top-left RED, top-right GREEN, bottom-left BLUE, bottom-right YELLOW (split at w//2, h//2)."""
    image = solid((width, height), RED)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 2, 0, width - 1, height // 2 - 1), fill=GREEN)
    draw.rectangle((0, height // 2, width // 2 - 1, height - 1), fill=BLUE)
    draw.rectangle((width // 2, height // 2, width - 1, height - 1), fill=YELLOW)
    return image


def with_rect(base: Image.Image, box: tuple[int, int, int, int], color) -> Image.Image:
    """`base` with the inclusive box (x0, y0, x1, y1) set to `color`."""
    image = base.copy()
    ImageDraw.Draw(image).rectangle(box, fill=color)
    return image


def frame(size: tuple[int, int], thickness: int, color=MAGENTA) -> Image.Image:
    """An opaque frame `thickness` px wide with a fully transparent centre."""
    w, h = size
    return with_rect(solid(size, color), (thickness, thickness, w - 1 - thickness, h - 1 - thickness), CLEAR)


# The standard subject: 30x20 GREEN (its "background") with a RED 10x10 square at x 10..19, y 5..14.
SUBJECT_SIZE = (30, 20)
SUBJECT_CENTRE = (15, 10)  # red
SUBJECT_CORNER = (0, 0)  # green


def subject() -> Image.Image:
    return with_rect(solid(SUBJECT_SIZE, GREEN), (10, 5, 19, 14), RED)


def cutout() -> Image.Image:
    """The subject with its background already transparent."""
    return with_rect(solid(SUBJECT_SIZE, CLEAR), (10, 5, 19, 14), RED)


# --- the mask -----------------------------------------------------------------------------------


def red_mask(image: Image.Image, options: BgRemoveOptions) -> Image.Image:
    """Alpha 255 where the pixel's colour is pure red, 0 elsewhere (the colour under any alpha)."""
    assert isinstance(options, BgRemoveOptions)
    rgb = np.asarray(image.convert("RGBA"))[:, :, :3].astype(int)
    red = (rgb[:, :, 0] >= 200) & (rgb[:, :, 1] <= 50) & (rgb[:, :, 2] <= 50)
    return Image.fromarray(np.where(red, 255, 0).astype(np.uint8), "L")


class MaskSpy:
    """red_mask that records the size of every image it was asked to mask."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []
        self.options: list[BgRemoveOptions] = []

    def __call__(self, image: Image.Image, options: BgRemoveOptions) -> Image.Image:
        self.sizes.append(image.size)
        self.options.append(options)
        return red_mask(image, options)


def no_mask(image, options):  # pragma: no cover - only called if a test is wrong
    raise AssertionError("the mask must not be asked for when no bg_remove is listed")


# --- running the pipeline -------------------------------------------------------------------


def body(operations: list, options: dict | None = None, asset_id: str = ASSET) -> dict:
    return {"assets": [{asset_id: {"options": options or {}}}], "operations": operations}


def render(
    original: Image.Image,
    operations: list,
    options: dict | None = None,
    *,
    images: dict[str, Image.Image] | None = None,
    urls: dict[str, Image.Image] | None = None,
    mask=red_mask,
    hosts: frozenset[str] = frozenset(),
) -> Image.Image:
    """parse_request + render for one asset; checks the original is left unchanged."""
    request = pipeline.parse_request(body(operations, options), allowed_url_hosts=hosts)
    [spec] = request.assets
    library = {NOTHING: solid((4, 4), CLEAR), **(images or {})}
    before = (original.mode, original.size, original.tobytes())
    out = pipeline.render(
        original,
        spec,
        request,
        Renderers(image_by_id=library.__getitem__, image_by_url=(urls or {}).__getitem__, mask=mask),
    )
    assert (original.mode, original.size, original.tobytes()) == before, "render changed its input"
    assert out.mode == "RGBA"
    return out


def assert_pixels(image: Image.Image, expected: dict[tuple[int, int], object]) -> None:
    got = {}
    for point, colour in expected.items():
        pixel = image.getpixel(point)
        got[point] = pixel if colour != TRANSPARENT else (TRANSPARENT if pixel[3] == 0 else pixel)
    assert got == expected


CANVAS_60x40_BLUE = {"canvas": {"size": {"width": 60, "height": 40}, "color": "#0000ff"}}


def graphic(image_ref: dict, **options) -> dict:
    """One graphics_add entry of type image."""
    return {"type": "image", "options": {**image_ref, **options}}
