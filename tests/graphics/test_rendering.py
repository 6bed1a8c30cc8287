"""Image Graphics rendering and request validation (SPEC §5), without the database.

Tables drive graphics.processing.pipeline (parse_request, check_geometry, render) and
graphics.processing.compose (parse_color) with images built in memory: solid colours and
rectangles, so the expected pixel at each named point (the subject's centre, the stage
corner, inside a graphic, on a border, just outside the subject) is exact.

The mask is an injected dependency of `render`. Most tests use `red_mask` (alpha 255 where
a pixel is pure red, 0 elsewhere), so what bg_remove keeps is known to the pixel; one test
runs the real model (u2netp) on skimage's astronaut and asserts only robust facts.

Resampling is LANCZOS (support 3 source pixels when enlarging, 3 x the factor when
reducing), so a pixel of a resized image is checked only where every source pixel within
that support has the same colour: there the result is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from graphics.processing import compose, pipeline
from graphics.processing.background import BgRemoveOptions, mask_for
from core.errors import OptionError
from graphics.processing.pipeline import Renderers
from tests.images import photo

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


# ================================================================ crop and size


@pytest.mark.parametrize(
    "crop, colour",
    [
        ({"left": 0, "top": 0, "right": 20, "bottom": 15}, RED),
        ({"left": 20, "top": 0, "right": 40, "bottom": 15}, GREEN),
        ({"left": 0, "top": 15, "right": 20, "bottom": 30}, BLUE),
        ({"left": 20, "top": 15, "right": 40, "bottom": 30}, YELLOW),
    ],
    ids=["top-left", "top-right", "bottom-left", "bottom-right"],
)
def test_crop_to_one_quadrant_keeps_exactly_that_quadrant(crop, colour):
    out = render(quadrants(40, 30), [NOOP], {"crop": crop})
    assert out.size == (20, 15)
    assert out.getcolors() == [(20 * 15, colour)]


def test_crop_across_the_quadrants_keeps_the_exact_region():
    out = render(quadrants(40, 30), [NOOP], {"crop": {"left": 10, "top": 5, "right": 30, "bottom": 25}})
    assert out.size == (20, 20)
    assert sorted(out.getcolors()) == sorted([(100, RED), (100, GREEN), (100, BLUE), (100, YELLOW)])
    assert_pixels(
        out,
        {(0, 0): RED, (9, 9): RED, (10, 9): GREEN, (9, 10): BLUE, (10, 10): YELLOW, (19, 0): GREEN, (0, 19): BLUE, (19, 19): YELLOW},
    )


def test_crop_of_the_whole_image_changes_nothing():
    original = quadrants(40, 30)
    out = render(original, [NOOP], {"crop": {"left": 0, "top": 0, "right": 40, "bottom": 30}})
    assert out.tobytes() == original.tobytes()


@pytest.mark.parametrize(
    "size, expected_size, points",
    [
        # both sides: exactly that size, the quadrants stretched with it
        ({"width": 80, "height": 20}, (80, 20), {(0, 0): RED, (20, 5): RED, (60, 5): GREEN, (20, 15): BLUE, (60, 15): YELLOW, (79, 19): YELLOW}),
        # one side keeps the aspect ratio: 40x30 -> width 20 -> 20x15
        ({"width": 20}, (20, 15), {(0, 0): RED, (19, 0): GREEN, (0, 14): BLUE, (19, 14): YELLOW}),
        # 40 * 10 / 30 = 13.33 -> 13 (rounded down)
        ({"height": 10}, (13, 10), {(0, 0): RED, (12, 0): GREEN, (0, 9): BLUE, (12, 9): YELLOW}),
        # 30 * 25 / 40 = 18.75 -> 19 (rounded up)
        ({"width": 25}, (25, 19), {(0, 0): RED, (24, 0): GREEN, (0, 18): BLUE, (24, 18): YELLOW}),
        # 40 * 60 / 30 = 80 exactly
        ({"height": 60}, (80, 60), {(0, 0): RED, (79, 0): GREEN, (0, 59): BLUE, (79, 59): YELLOW}),
    ],
    ids=["both-sides", "width-only", "height-only-rounds-down", "width-only-rounds-up", "height-only-enlarges"],
)
def test_size_resizes_the_subject_and_one_side_keeps_the_aspect_ratio(size, expected_size, points):
    out = render(quadrants(40, 30), [NOOP], {"size": size})
    assert out.size == expected_size
    assert_pixels(out, points)
    # check_geometry's idea of the subject's size is the rendered one
    request = pipeline.parse_request(body([NOOP], {"size": size}))
    assert pipeline.subject_size(request.assets[0], 40, 30) == expected_size


def test_one_side_size_never_rounds_a_side_to_zero():
    out = render(solid((40, 2), RED), [NOOP], {"size": {"width": 10}})  # 2 * 10 / 40 = 0.5
    assert out.size == (10, 1)
    assert out.getcolors() == [(10, RED)]


@pytest.mark.parametrize(
    "size, expected_size",
    [({"width": 20, "height": 15}, (20, 15)), ({"width": 40}, (40, 30)), ({"height": 30}, (40, 30))],
)
def test_crop_is_applied_before_size(size, expected_size):
    """Crop the red quadrant, then resize: only red. (Resizing first and cropping the same
    box would keep other quadrants' colours.)"""
    out = render(quadrants(40, 30), [NOOP], {"crop": {"left": 0, "top": 0, "right": 20, "bottom": 15}, "size": size})
    assert out.size == expected_size
    assert out.getcolors() == [(expected_size[0] * expected_size[1], RED)]


# ================================================================ canvas without bg_add


@pytest.mark.parametrize(
    "stage, offset",
    [((51, 33), (10, 6)), ((50, 31), (10, 5)), ((31, 21), (0, 0)), ((30, 20), (0, 0)), ((60, 40), (15, 10))],
)
def test_canvas_is_a_stage_of_its_size_and_colour_with_the_subject_centred(stage, offset):
    """Default centring is (stage - subject) // 2 on each axis (odd sizes round down)."""
    out = render(subject(), [NOOP], {"canvas": {"size": {"width": stage[0], "height": stage[1]}, "color": "#00f"}})
    assert out.size == stage
    x, y = offset
    w, h = SUBJECT_SIZE
    candidates = [
        (0, 0), (stage[0] - 1, stage[1] - 1),  # the stage's corners
        (x, y), (x + w - 1, y + h - 1), (x + 15, y + 10),  # the subject's corners and centre
        (x - 1, y), (x, y - 1), (x + w, y + h - 1), (x + w - 1, y + h),  # just outside the subject
    ]
    expected = {}
    for px, py in candidates:
        if 0 <= px < stage[0] and 0 <= py < stage[1]:
            inside = x <= px < x + w and y <= py < y + h
            expected[(px, py)] = subject().getpixel((px - x, py - y)) if inside else BLUE
    assert expected[(x + 15, y + 10)] == RED
    assert_pixels(out, expected)
    blue = sum(count for count, colour in out.getcolors() if colour == BLUE)
    assert blue == stage[0] * stage[1] - w * h  # the subject covers exactly its size


@pytest.mark.parametrize(
    "color, corner",
    [(None, CLEAR), ("#0000ff", BLUE), ("#00F", BLUE), ("#0000ff80", (0, 0, 255, 128)), ("#12345678", (0x12, 0x34, 0x56, 0x78))],
)
def test_canvas_colour_fills_the_stage_exactly_default_transparent(color, corner):
    canvas = {"size": {"width": 40, "height": 30}}
    if color is not None:
        canvas["color"] = color
    out = render(subject(), [NOOP], {"canvas": canvas})
    assert_pixels(out, {(0, 0): corner, (39, 29): corner, (4, 4): corner, (5, 5): GREEN, (20, 15): RED})


@pytest.mark.parametrize(
    "position, points",
    [
        ({"x": 3, "y": 7}, {(3, 7): GREEN, (2, 7): BLUE, (3, 6): BLUE, (32, 26): GREEN, (33, 26): BLUE, (32, 27): BLUE, (18, 17): RED, (59, 39): BLUE}),
        ({"x": 0, "y": 0}, {(0, 0): GREEN, (29, 19): GREEN, (30, 19): BLUE, (29, 20): BLUE, (15, 10): RED, (59, 39): BLUE}),
        ({"x": 30, "y": 20}, {(30, 20): GREEN, (29, 20): BLUE, (30, 19): BLUE, (59, 39): GREEN, (45, 30): RED, (0, 0): BLUE}),
    ],
    ids=["inside", "top-left", "bottom-right-exactly-fitting"],
)
def test_canvas_position_puts_the_subject_top_left_there(position, points):
    out = render(subject(), [NOOP], {"canvas": {"size": {"width": 60, "height": 40}, "color": "#00f"}, "position": position})
    assert out.size == (60, 40)
    assert_pixels(out, points)


CANVAS_60x40_BLUE = {"canvas": {"size": {"width": 60, "height": 40}, "color": "#0000ff"}}
GRAPHIC_YELLOW_TOP_LEFT = {
    "graphics_add": {"graphics": [{"type": "image", "options": {"image_id": G1, "position": {"x": 0, "y": 0}}}]}
}


@pytest.mark.parametrize(
    "operations, mask_saw, points",
    [
        # bg_remove first: the subject alone (30x20) is masked, then the stage is built:
        # the canvas stays opaque and shows where the subject's green was
        ([{"bg_remove": {}}, NOOP], [(30, 20)], {(59, 39): BLUE, (15, 10): BLUE, (16, 11): BLUE, (30, 20): RED}),
        # no other operation: the stage is built after the last one, the same result
        ([{"bg_remove": {}}], [(30, 20)], {(59, 39): BLUE, (15, 10): BLUE, (30, 20): RED}),
        ([{"bg_remove": {}}, {"bg_remove": {}}], [(30, 20), (30, 20)], {(59, 39): BLUE, (15, 10): BLUE, (30, 20): RED}),
        # bg_remove after another operation: the whole 60x40 stage is masked, canvas included
        ([NOOP, {"bg_remove": {}}], [(60, 40)], {(59, 39): TRANSPARENT, (15, 10): TRANSPARENT, (30, 20): RED}),
        # ... a graphic drawn on the stage loses its (non-red) colour too
        ([GRAPHIC_YELLOW_TOP_LEFT, {"bg_remove": {}}], [(60, 40)], {(0, 0): TRANSPARENT, (5, 5): TRANSPARENT, (59, 39): TRANSPARENT, (30, 20): RED}),
        # ... but not when bg_remove comes first: the graphic and canvas stay opaque
        ([{"bg_remove": {}}, GRAPHIC_YELLOW_TOP_LEFT], [(30, 20)], {(0, 0): YELLOW, (5, 5): YELLOW, (59, 39): BLUE, (15, 10): BLUE, (30, 20): RED}),
    ],
    ids=["bg_remove-then-op", "bg_remove-only", "bg_remove-twice", "op-then-bg_remove", "graphic-then-bg_remove", "bg_remove-then-graphic"],
)
def test_canvas_stage_is_built_before_the_first_operation_that_is_not_bg_remove(operations, mask_saw, points):
    spy = MaskSpy()
    out = render(subject(), operations, CANVAS_60x40_BLUE, images={G1: solid((10, 10), YELLOW)}, mask=spy)
    assert out.size == (60, 40)
    assert spy.sizes == mask_saw
    assert_pixels(out, points)


def test_bg_remove_options_reach_the_mask():
    spy = MaskSpy()
    render(subject(), [{"bg_remove": {"options": {"mode": "product", "strength": "high", "remove_artifacts": True}}}], mask=spy)
    [options] = spy.options
    assert (options.mode.value, options.strength.value, options.remove_artifacts) == ("product", "high", True)


def test_bg_remove_without_a_stage_makes_the_subjects_background_transparent():
    out = render(subject(), [{"bg_remove": {}}])
    assert out.size == SUBJECT_SIZE
    assert_pixels(out, {SUBJECT_CORNER: TRANSPARENT, (9, 10): TRANSPARENT, (10, 10): RED, SUBJECT_CENTRE: RED, (19, 14): RED, (20, 14): TRANSPARENT})


def test_bg_remove_never_makes_a_transparent_pixel_opaque():
    """A pixel that is already transparent stays so, whatever colour hides under it
    (SPEC §6: that colour may be anything); as Remove Background's apply_mask does."""
    original = solid(SUBJECT_SIZE, (255, 0, 0, 0))  # invisible red everywhere ...
    original = with_rect(original, (10, 5, 19, 14), RED)  # ... and a visible red square
    out = render(original, [{"bg_remove": {}}])
    assert_pixels(out, {(0, 0): TRANSPARENT, (29, 19): TRANSPARENT, (9, 10): TRANSPARENT, SUBJECT_CENTRE: RED})


# ================================================================ bg_add


def test_bg_add_colour_fills_behind_the_subject_on_a_stage_of_its_size():
    out = render(cutout(), [{"bg_add": {"options": {"color": "#0000ff"}}}], mask=no_mask)
    assert out.size == SUBJECT_SIZE
    assert_pixels(out, {(0, 0): BLUE, (9, 10): BLUE, (10, 10): RED, SUBJECT_CENTRE: RED, (19, 14): RED, (20, 14): BLUE, (29, 19): BLUE})


def test_bg_add_size_sets_the_stage_and_centres_the_subject():
    out = render(cutout(), [{"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}])
    assert out.size == (60, 40)
    # subject at (15, 10): its red square at x 25..34, y 15..24
    assert_pixels(out, {(0, 0): BLUE, (59, 39): BLUE, (25, 15): RED, (24, 15): BLUE, (25, 14): BLUE, (34, 24): RED, (35, 24): BLUE, (34, 25): BLUE, (30, 20): RED})


@pytest.mark.parametrize(
    "options, bg_size, expected",
    [
        ({}, None, (30, 20)),  # the working image's size
        ({"size": {"width": 20}}, None, (20, 13)),  # ... after size (20 * 20 / 30 = 13.3)
        ({}, (60, 40), (60, 40)),  # bg_add.size
        ({"canvas": {"size": {"width": 50, "height": 50}}}, (60, 40), (50, 50)),  # canvas.size wins
        ({"canvas": {"size": {"width": 50, "height": 50}}}, None, (50, 50)),
    ],
    ids=["working-image", "working-image-after-size", "bg_add-size", "canvas-over-bg_add-size", "canvas"],
)
def test_bg_add_stage_is_canvas_size_else_its_size_else_the_working_images(options, bg_size, expected):
    bg_options = {"color": "#f00"}
    if bg_size:
        bg_options["size"] = {"width": bg_size[0], "height": bg_size[1]}
    operations = [{"bg_add": {"options": bg_options}}]
    out = render(cutout(), operations, options)
    assert out.size == expected
    assert out.getpixel((0, 0)) == RED and out.getpixel((expected[0] - 1, expected[1] - 1)) == RED
    request = pipeline.parse_request(body(operations, options))
    spec = request.assets[0]
    assert pipeline.stage_size(spec, request, pipeline.subject_size(spec, 30, 20)) == expected


STRETCH_POINTS = {  # the 40x30 quadrants stretched to a 100x30 stage
    (0, 0): RED, (25, 7): RED, (75, 7): GREEN, (25, 22): BLUE, (75, 22): YELLOW,
    (99, 0): GREEN, (0, 29): BLUE, (99, 29): YELLOW,
    (35, 5): RED,  # the subject's transparent top-left corner shows the background
    (50, 15): RED,  # the subject's centre (its red square)
}


@pytest.mark.parametrize("mode", [None, "stretch"], ids=["default", "stretch"])
def test_bg_add_image_stretch_resizes_the_background_to_the_stage(mode):
    options = {"image_id": BG, "size": {"width": 100, "height": 30}}
    if mode:
        options["mode"] = mode
    out = render(cutout(), [{"bg_add": {"options": options}}], images={BG: quadrants(40, 30)})
    assert out.size == (100, 30)
    assert_pixels(out, STRETCH_POINTS)


def test_bg_add_image_as_is_larger_than_the_stage_shows_its_centre():
    """A 100x80 background on a 20x20 stage: drawn at (-40, -30), so the stage shows
    x 40..59, y 30..49 of it and the background's centre (50, 40) lands on (10, 10)."""
    out = render(
        solid((2, 2), MAGENTA),
        [{"bg_add": {"options": {"image_id": BG, "mode": "as-is", "size": {"width": 20, "height": 20}}}}],
        {"position": {"x": 0, "y": 0}},
        images={BG: quadrants(100, 80)},
    )
    assert out.size == (20, 20)
    assert_pixels(
        out,
        {
            (0, 0): MAGENTA, (1, 1): MAGENTA,  # the subject at position (0, 0)
            (2, 2): RED, (9, 9): RED, (10, 9): GREEN, (9, 10): BLUE, (10, 10): YELLOW,
            (19, 0): GREEN, (0, 19): BLUE, (19, 19): YELLOW,
        },
    )


def test_bg_add_image_as_is_smaller_than_the_stage_is_centred_with_the_colour_around_it():
    """A 10x6 background on a 30x20 white stage: at (10, 7), natural size."""
    out = render(
        solid((2, 2), MAGENTA),
        [{"bg_add": {"options": {"color": "#fff", "image_id": BG, "mode": "as-is", "size": {"width": 30, "height": 20}}}}],
        {"position": {"x": 0, "y": 0}},
        images={BG: quadrants(10, 6)},
    )
    assert out.size == (30, 20)
    assert_pixels(
        out,
        {
            (0, 0): MAGENTA, (29, 19): WHITE, (2, 2): WHITE,
            (9, 7): WHITE, (10, 6): WHITE, (10, 7): RED, (14, 9): RED, (15, 7): GREEN, (19, 9): GREEN,
            (20, 7): WHITE, (10, 10): BLUE, (14, 12): BLUE, (19, 12): YELLOW, (19, 13): WHITE, (10, 13): WHITE,
        },
    )
    assert sum(count for count, colour in out.getcolors() if colour == WHITE) == 30 * 20 - 60 - 4


def blend(top, bottom) -> tuple[int, int, int, int]:
    """`top` (straight alpha) over an opaque `bottom`, as floats rounded."""
    a = top[3] / 255
    return tuple(round(t * a + b * (1 - a)) for t, b in zip(top[:3], bottom[:3])) + (255,)


@pytest.mark.parametrize(
    "bg_options, under",
    [({"image_id": BG}, GREEN), ({"color": "#ff0000"}, RED), ({"color": "#ff0000", "image_id": BG}, GREEN)],
    ids=["image", "colour", "colour-and-image"],
)
def test_bg_add_with_canvas_paints_the_canvas_colour_over_the_background_and_under_the_subject(bg_options, under):
    out = render(
        cutout(),
        [{"bg_add": {"options": bg_options}}],
        {"canvas": {"size": {"width": 40, "height": 30}, "color": "#0000ff80"}},
        images={BG: solid((8, 8), GREEN)},
    )
    assert out.size == (40, 30)
    expected = blend((0, 0, 255, 128), under)
    # the stage corner and the subject's transparent corner (at (5, 5)) show the blend
    for point in [(0, 0), (39, 29), (5, 5)]:
        pixel = out.getpixel(point)
        assert pixel[3] == 255 and max(abs(p - e) for p, e in zip(pixel, expected)) <= 1, (point, pixel, expected)
    # the subject is drawn over the canvas colour, unblended
    assert_pixels(out, {(20, 15): RED, (15, 10): RED, (24, 19): RED})


@pytest.mark.parametrize(
    "operations, mask_saw, points",
    [
        # bg_remove after bg_add: the mask sees the whole stage, the opaque colour goes too
        (
            [{"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}, {"bg_remove": {}}],
            [(60, 40)],
            {(0, 0): TRANSPARENT, (59, 39): TRANSPARENT, (15, 10): TRANSPARENT, (30, 20): RED},
        ),
        # bg_remove before bg_add: the subject's background goes, the stage colour shows there
        (
            [{"bg_remove": {}}, {"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}],
            [(30, 20)],
            {(0, 0): BLUE, (59, 39): BLUE, (15, 10): BLUE, (30, 20): RED},
        ),
    ],
    ids=["bg_add-then-bg_remove", "bg_remove-then-bg_add"],
)
def test_bg_remove_after_bg_add_removes_the_stages_background(operations, mask_saw, points):
    spy = MaskSpy()
    out = render(subject(), operations, mask=spy)
    assert out.size == (60, 40)
    assert spy.sizes == mask_saw
    assert_pixels(out, points)


# ================================================================ graphics_add

WORK = (60, 40)  # a plain white working image for the graphics tests


def graphic(image_ref: dict, **options) -> dict:
    return {"type": "image", "options": {**image_ref, **options}}


def hole() -> Image.Image:
    """20x20 transparent with a RED 10x10 square at 5..14."""
    return with_rect(solid((20, 20), CLEAR), (5, 5, 14, 14), RED)


@pytest.mark.parametrize(
    "options, points",
    [
        # natural size (20x20 quadrants) at (10, 0)
        ({"position": {"x": 10, "y": 0}}, {(9, 0): WHITE, (10, 0): RED, (19, 9): RED, (20, 9): GREEN, (19, 10): BLUE, (29, 19): YELLOW, (30, 19): WHITE, (29, 20): WHITE}),
        # resized to 40x40 at (10, 0): quadrants of 20x20
        ({"position": {"x": 10, "y": 0}, "size": {"width": 40, "height": 40}}, {(9, 20): WHITE, (10, 0): RED, (20, 10): RED, (40, 10): GREEN, (20, 30): BLUE, (40, 30): YELLOW, (49, 39): YELLOW, (50, 39): WHITE}),
        # resized to 40x10 (not keeping the aspect ratio) at (0, 30)
        ({"position": {"x": 0, "y": 30}, "size": {"width": 40, "height": 10}}, {(0, 29): WHITE, (0, 30): RED, (39, 30): GREEN, (0, 39): BLUE, (39, 39): YELLOW, (40, 39): WHITE}),
    ],
    ids=["natural-size", "size-square", "size-stretched"],
)
def test_graphics_add_draws_the_graphic_resized_to_size_at_position(options, points):
    out = render(solid(WORK, WHITE), [{"graphics_add": {"graphics": [graphic({"image_id": G1}, **options)]}}], images={G1: quadrants(20, 20)})
    assert out.size == WORK
    assert_pixels(out, points)


@pytest.mark.parametrize(
    "options, points, tolerance",
    [
        # no colour: the working image shows through the graphic's transparent parts
        ({"position": {"x": 10, "y": 10}}, {(10, 10): WHITE, (15, 15): RED, (24, 24): RED, (25, 25): WHITE, (29, 29): WHITE}, 0),
        # colour: a rectangle of it under the graphic, the graphic's size
        ({"position": {"x": 10, "y": 10}, "color": "#00ff00"}, {(9, 9): WHITE, (10, 10): GREEN, (15, 15): RED, (24, 24): RED, (25, 25): GREEN, (29, 29): GREEN, (30, 30): WHITE, (30, 10): WHITE}, 0),
        # colour and size: the rectangle has the new size
        ({"position": {"x": 10, "y": 0}, "size": {"width": 40, "height": 40}, "color": "#0f0"}, {(9, 0): WHITE, (10, 0): GREEN, (30, 20): RED, (49, 39): GREEN, (50, 39): WHITE}, 0),
        # a semi-transparent colour is composited over the working image
        ({"position": {"x": 10, "y": 10}, "color": "#0000ff80"}, {(10, 10): blend((0, 0, 255, 128), WHITE), (15, 15): RED}, 1),
    ],
    ids=["no-colour", "colour", "colour-and-size", "half-transparent-colour"],
)
def test_graphics_add_colour_fills_the_graphics_transparent_parts(options, points, tolerance):
    out = render(solid(WORK, WHITE), [{"graphics_add": {"graphics": [graphic({"image_id": G1}, **options)]}}], images={G1: hole()})
    for point, colour in points.items():
        pixel = out.getpixel(point)
        assert max(abs(p - c) for p, c in zip(pixel, colour)) <= tolerance, (point, pixel, colour)


@pytest.mark.parametrize(
    "work, size, offset, extent",
    [
        ((61, 41), None, (25, 17), (10, 6)),  # (61 - 10) // 2, (41 - 6) // 2
        ((60, 40), None, (25, 17), (10, 6)),
        ((61, 41), {"width": 20, "height": 10}, (20, 15), (20, 10)),
    ],
)
def test_graphics_add_without_position_is_centred(work, size, offset, extent):
    options = {"size": size} if size else {}
    out = render(solid(work, WHITE), [{"graphics_add": {"graphics": [graphic({"image_id": G1}, **options)]}}], images={G1: solid((10, 6), RED)})
    (x, y), (w, h) = offset, extent
    assert_pixels(
        out,
        {(x, y): RED, (x - 1, y): WHITE, (x, y - 1): WHITE, (x + w - 1, y + h - 1): RED, (x + w, y + h - 1): WHITE, (x + w - 1, y + h): WHITE},
    )
    assert sorted(out.getcolors()) == sorted([(w * h, RED), (work[0] * work[1] - w * h, WHITE)])  # exactly w x h red


RED_AT_0 = graphic({"image_id": G1}, position={"x": 0, "y": 0})
BLUE_AT_5 = graphic({"image_id": G2}, position={"x": 5, "y": 5})


@pytest.mark.parametrize(
    "operations, overlap",
    [
        ([{"graphics_add": {"graphics": [RED_AT_0, BLUE_AT_5]}}], BLUE),
        ([{"graphics_add": {"graphics": [BLUE_AT_5, RED_AT_0]}}], RED),
        ([{"graphics_add": {"graphics": [RED_AT_0]}}, {"graphics_add": {"graphics": [BLUE_AT_5]}}], BLUE),
        ([{"graphics_add": {"graphics": [BLUE_AT_5]}}, {"graphics_add": {"graphics": [RED_AT_0]}}], RED),
    ],
    ids=["red-then-blue", "blue-then-red", "two-ops-red-then-blue", "two-ops-blue-then-red"],
)
def test_graphics_are_drawn_in_order_later_over_earlier(operations, overlap):
    out = render(solid(WORK, WHITE), operations, images={G1: solid((10, 10), RED), G2: solid((10, 10), BLUE)})
    assert_pixels(out, {(2, 2): RED, (5, 5): overlap, (9, 9): overlap, (12, 12): BLUE, (14, 14): BLUE, (15, 15): WHITE, (12, 2): WHITE})


def test_graphics_add_image_url_is_drawn_from_the_url_source():
    out = render(
        solid(WORK, WHITE),
        [{"graphics_add": {"graphics": [graphic({"image_url": URL}, position={"x": 50, "y": 30})]}}],
        urls={URL: solid((10, 10), MAGENTA)},
        hosts=HOSTS,
    )
    assert_pixels(out, {(50, 30): MAGENTA, (59, 39): MAGENTA, (49, 30): WHITE, (50, 29): WHITE})


def test_graphics_on_a_canvas_are_placed_in_stage_coordinates():
    out = render(
        subject(),
        [{"graphics_add": {"graphics": [graphic({"image_id": G1}, position={"x": 0, "y": 0})]}}],
        CANVAS_60x40_BLUE,
        images={G1: solid((10, 10), YELLOW)},
    )
    assert out.size == (60, 40)
    assert_pixels(out, {(0, 0): YELLOW, (9, 9): YELLOW, (10, 10): BLUE, (15, 10): GREEN, (30, 20): RED})


# ================================================================ border_add


def test_border_add_of_the_working_images_size_frames_it_exactly():
    out = render(subject(), [{"border_add": {"options": {"image_id": BORDER}}}], images={BORDER: frame(SUBJECT_SIZE, 3)})
    assert out.size == SUBJECT_SIZE
    assert_pixels(
        out,
        {
            (0, 0): MAGENTA, (29, 19): MAGENTA, (2, 10): MAGENTA, (15, 2): MAGENTA, (27, 17): MAGENTA,  # the frame
            (3, 10): GREEN, (15, 3): GREEN, (26, 16): GREEN,  # just inside it: the subject
            SUBJECT_CENTRE: RED,
        },
    )


def test_border_add_resizes_the_border_to_the_working_image():
    """A 20x20 border with a 5 px frame over a 40x30 image: the frame is 10 px wide on the
    left and right, 7.5 px on the top and bottom; the centre is the subject."""
    original = with_rect(solid((40, 30), GREEN), (15, 10, 24, 19), RED)
    out = render(original, [{"border_add": {"options": {"image_id": BORDER}}}], images={BORDER: frame((20, 20), 5)})
    assert out.size == (40, 30)
    assert_pixels(
        out,
        {
            (0, 0): MAGENTA, (39, 0): MAGENTA, (0, 29): MAGENTA, (39, 29): MAGENTA,
            (20, 0): MAGENTA, (0, 15): MAGENTA, (39, 15): MAGENTA, (20, 29): MAGENTA,
            (20, 15): RED,  # the subject's centre shows through the transparent centre
        },
    )


# ================================================================ operation order

BORDER_THEN_BG = [{"border_add": {"options": {"image_id": BORDER}}}, {"bg_add": {"options": {"color": "#00f"}}}]
BG_THEN_BORDER = [{"bg_add": {"options": {"color": "#00f"}}}, {"border_add": {"options": {"image_id": BORDER}}}]


@pytest.mark.parametrize(
    "operations, points",
    [
        # before bg_add: the border frames the 30x20 subject only (placed at (30, 20))
        (BORDER_THEN_BG, {(0, 0): BLUE, (0, 30): BLUE, (89, 59): BLUE, (30, 20): MAGENTA, (32, 22): MAGENTA, (59, 39): MAGENTA, (33, 23): GREEN, (45, 30): RED}),
        # after bg_add: the border is resized to the 90x60 stage and frames it
        (BG_THEN_BORDER, {(0, 0): MAGENTA, (0, 30): MAGENTA, (89, 59): MAGENTA, (30, 20): GREEN, (32, 22): GREEN, (59, 39): GREEN, (33, 23): GREEN, (45, 30): RED}),
    ],
    ids=["border-then-bg_add", "bg_add-then-border"],
)
def test_operation_order_border_before_or_after_bg_add(operations, points):
    out = render(subject(), operations, {"canvas": {"size": {"width": 90, "height": 60}}}, images={BORDER: frame(SUBJECT_SIZE, 3)})
    assert out.size == (90, 60)
    assert_pixels(out, points)


@pytest.mark.parametrize(
    "operations, points",
    [
        # graphic then bg_add: a 10x20 graphic centred on the 30x20 subject (its x 10..19), then
        # the subject is staged at (15, 10): the graphic lands on stage x 25..34, y 10..29
        ([{"graphics_add": {"graphics": [graphic({"image_id": G1})]}}, {"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}],
         {(0, 0): BLUE, (30, 20): YELLOW, (25, 10): YELLOW, (34, 29): YELLOW, (24, 10): GREEN, (35, 29): GREEN, (30, 9): BLUE, (30, 30): BLUE}),
        # bg_add then graphic: centred on the 60x40 stage, the same place for this graphic;
        # a 10x40 graphic (below) shows where the two orders differ
        ([{"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}, {"graphics_add": {"graphics": [graphic({"image_id": G1})]}}],
         {(0, 0): BLUE, (30, 20): YELLOW, (25, 10): YELLOW, (34, 29): YELLOW, (24, 10): GREEN, (35, 29): GREEN, (30, 9): BLUE, (30, 30): BLUE}),
        ([{"graphics_add": {"graphics": [graphic({"image_id": G2})]}}, {"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}],
         # before: the 10x40 graphic is clipped to the 20 px high subject
         {(30, 10): YELLOW, (30, 29): YELLOW, (30, 0): BLUE, (30, 9): BLUE, (30, 30): BLUE, (30, 39): BLUE}),
        ([{"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}, {"graphics_add": {"graphics": [graphic({"image_id": G2})]}}],
         # after: it runs over the whole stage height
         {(30, 10): YELLOW, (30, 29): YELLOW, (30, 0): YELLOW, (30, 9): YELLOW, (30, 30): YELLOW, (30, 39): YELLOW}),
    ],
    ids=["graphic-then-bg_add", "bg_add-then-graphic", "tall-graphic-then-bg_add", "bg_add-then-tall-graphic"],
)
def test_operation_order_graphics_before_or_after_bg_add(operations, points):
    out = render(subject(), operations, images={G1: solid((10, 20), YELLOW), G2: solid((10, 40), YELLOW)})
    assert out.size == (60, 40)
    assert_pixels(out, points)


def test_graphic_position_before_bg_add_is_in_subject_coordinates():
    """position {0,0} before bg_add is the subject's top-left; after, the stage's."""
    op_graphic = {"graphics_add": {"graphics": [graphic({"image_id": G1}, position={"x": 0, "y": 0})]}}
    op_bg = {"bg_add": {"options": {"color": "#00f", "size": {"width": 60, "height": 40}}}}
    before = render(subject(), [op_graphic, op_bg], images={G1: solid((4, 4), YELLOW)})
    after = render(subject(), [op_bg, op_graphic], images={G1: solid((4, 4), YELLOW)})
    assert_pixels(before, {(0, 0): BLUE, (15, 10): YELLOW, (18, 13): YELLOW, (19, 14): GREEN})
    assert_pixels(after, {(0, 0): YELLOW, (3, 3): YELLOW, (4, 4): BLUE, (15, 10): GREEN})


# ================================================================ the real model


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return photo("astronaut")  # 512x512 RGB


def model_mask(image: Image.Image, options: BgRemoveOptions) -> Image.Image:
    return mask_for(image, options=options, model_name="u2netp")


# The astronaut's chest (256, 200), face (200, 120) and arm (300, 350) in the 512 px photo,
# centred on a 640x640 stage at (64, 64).
SUBJECT_POINTS_ON_STAGE = [(64 + 256, 64 + 200), (64 + 200, 64 + 120), (64 + 300, 64 + 350)]


def test_real_model_bg_remove_after_bg_add_clears_the_stage_and_keeps_the_subject(astronaut):
    out = render(
        astronaut,
        [{"bg_add": {"options": {"color": "#00ff00", "size": {"width": 640, "height": 640}}}}, {"bg_remove": {"options": {}}}],
        mask=model_mask,
    )
    assert out.size == (640, 640)
    alpha = np.asarray(out.getchannel("A"))
    for corner in [(0, 0), (639, 0), (0, 639), (639, 639), (5, 320)]:
        assert alpha[corner[1], corner[0]] <= 3, corner  # the opaque green stage is gone
    for point in SUBJECT_POINTS_ON_STAGE:
        assert alpha[point[1], point[0]] >= 250, point  # the astronaut stays (the soft mask peaks at 254-255)
        assert out.getpixel(point)[:3] == astronaut.getpixel((point[0] - 64, point[1] - 64))  # straight alpha
    assert (alpha[:64] <= 3).mean() > 0.95  # nearly all of the stage's top band


def test_real_model_bg_remove_before_bg_add_keeps_the_stage_colour_opaque(astronaut):
    out = render(
        astronaut,
        [{"bg_remove": {}}, {"bg_add": {"options": {"color": "#00ff00", "size": {"width": 640, "height": 640}}}}],
        mask=model_mask,
    )
    assert out.size == (640, 640)
    for corner in [(0, 0), (639, 0), (0, 639), (639, 639), (5, 320)]:
        assert out.getpixel(corner) == GREEN, corner
    for point in SUBJECT_POINTS_ON_STAGE:
        # the subject (alpha >= 250) over green: within 2 of the original colour
        pixel, original = out.getpixel(point), astronaut.getpixel((point[0] - 64, point[1] - 64)) + (255,)
        assert max(abs(p - o) for p, o in zip(pixel, original)) <= 2, (point, pixel, original)


# ================================================================ compose.parse_color


@pytest.mark.parametrize(
    "value, expected",
    [
        ("#000", (0, 0, 0, 255)),
        ("#fff", (255, 255, 255, 255)),
        ("#F0A", (255, 0, 170, 255)),
        ("#1a2B3c", (0x1A, 0x2B, 0x3C, 255)),
        ("#1A2B3C", (0x1A, 0x2B, 0x3C, 255)),
        ("#00000000", (0, 0, 0, 0)),
        ("#ff000080", (255, 0, 0, 128)),
        ("#AbCdEf01", (0xAB, 0xCD, 0xEF, 1)),
    ],
)
def test_parse_color_accepts_rgb_rrggbb_rrggbbaa_in_any_case(value, expected):
    assert compose.parse_color(value, "x.color") == expected


@pytest.mark.parametrize(
    "value",
    ["", "#", "fff", "#ff", "#ffff", "#fffff", "#fffffff", "#fffffffff", "#ggg", "#12345z", " #fff", "#fff ", "red",
     "#fff\n", "#ffffff\n", "#ffffff80\n", None, 255, 0xFF0000, ["#fff"], {"r": 1}, True],
)
def test_parse_color_rejects_bad_values_naming_the_field(value):
    with pytest.raises(OptionError) as raised:
        compose.parse_color(value, "operations[0].bg_add.options.color")
    assert raised.value.field == "operations[0].bg_add.options.color"
    assert "operations[0].bg_add.options.color" in str(raised.value)


# ================================================================ parse_request validation


def asset(options: dict, asset_id: str = ASSET) -> dict:
    return {asset_id: {"options": options}}


OK_OPS = [{"bg_remove": {}}]
OK_ASSETS = [asset({})]


def req(assets=None, operations=None, **extra) -> dict:
    return {"assets": OK_ASSETS if assets is None else assets, "operations": OK_OPS if operations is None else operations, **extra}


def bg_add(**options) -> list:
    return [{"bg_add": {"options": options}}]


def graphics(*entries) -> list:
    return [{"graphics_add": {"graphics": list(entries)}}]


def disposition(**values) -> list:
    return [asset({"disposition": values})]


CROP = {"left": 0, "top": 0, "right": 10, "bottom": 10}

INVALID_REQUESTS = [
    # body and lists
    ("body-not-an-object", [OK_ASSETS], "body"),
    ("missing-assets", {"operations": OK_OPS}, "assets"),
    ("missing-operations", {"assets": OK_ASSETS}, "operations"),
    ("empty-assets", req(assets=[]), "assets"),
    ("empty-operations", req(operations=[]), "operations"),
    ("assets-not-a-list", req(assets={ASSET: {}}), "assets"),
    ("unknown-top-level-key", req(extra=1), "extra"),
    # assets
    ("asset-entry-two-keys", req(assets=[{ASSET: {}, G1: {}}]), "assets[0]"),
    ("non-hex-asset-id", req(assets=[asset({}, "z" * 32)]), "assets[0]"),
    ("asset-id-trailing-newline", req(assets=[asset({}, "a" * 32 + "\n")]), "assets[0]"),
    ("upper-case-asset-id", req(assets=[asset({}, "A" * 32)]), "assets[0]"),
    ("short-asset-id", req(assets=[asset({}, "a" * 31)]), "assets[0]"),
    ("second-asset-bad-id", req(assets=[asset({}), asset({}, "nope")]), "assets[1]"),
    ("unknown-asset-wrapper-key", req(assets=[{ASSET: {"opts": {}}}]), "assets[0].opts"),
    ("unknown-option-key", req(assets=[asset({"rotate": 90})]), "assets[0].options.rotate"),
    ("options-not-an-object", req(assets=[{ASSET: {"options": []}}]), "assets[0].options"),
    # crop
    ("crop-left-equals-right", req(assets=[asset({"crop": {**CROP, "left": 10}})]), "assets[0].options.crop.right"),
    ("crop-left-over-right", req(assets=[asset({"crop": {**CROP, "left": 11}})]), "assets[0].options.crop.right"),
    ("crop-top-equals-bottom", req(assets=[asset({"crop": {**CROP, "top": 10}})]), "assets[0].options.crop.bottom"),
    ("crop-missing-bottom", req(assets=[asset({"crop": {"left": 0, "top": 0, "right": 1}})]), "assets[0].options.crop.bottom"),
    ("crop-unknown-key", req(assets=[asset({"crop": {**CROP, "width": 3}})]), "assets[0].options.crop.width"),
    ("crop-negative", req(assets=[asset({"crop": {**CROP, "left": -1}})]), "assets[0].options.crop.left"),
    ("crop-boolean", req(assets=[asset({"crop": {**CROP, "top": True}})]), "assets[0].options.crop.top"),
    ("crop-float", req(assets=[asset({"crop": {**CROP, "right": 10.5}})]), "assets[0].options.crop.right"),
    ("crop-string", req(assets=[asset({"crop": {**CROP, "bottom": "10"}})]), "assets[0].options.crop.bottom"),
    ("crop-in-second-asset", req(assets=[asset({}), asset({"crop": {**CROP, "right": 0}})]), "assets[1].options.crop.right"),
    # size
    ("size-neither-side", req(assets=[asset({"size": {}})]), "assets[0].options.size"),
    ("size-zero", req(assets=[asset({"size": {"width": 0}})]), "assets[0].options.size.width"),
    ("size-negative", req(assets=[asset({"size": {"height": -5}})]), "assets[0].options.size.height"),
    ("size-boolean", req(assets=[asset({"size": {"width": True}})]), "assets[0].options.size.width"),
    ("size-float", req(assets=[asset({"size": {"width": 10.5}})]), "assets[0].options.size.width"),
    ("size-too-large-side", req(assets=[asset({"size": {"width": 10_001}})]), "assets[0].options.size.width"),
    ("size-too-many-pixels", req(assets=[asset({"size": {"width": 10_000, "height": 10_000}})]), "assets[0].options.size"),
    ("size-not-an-object", req(assets=[asset({"size": 100})]), "assets[0].options.size"),
    # canvas
    ("canvas-without-size", req(assets=[asset({"canvas": {"color": "#fff"}})]), "assets[0].options.canvas.size"),
    ("canvas-size-one-side", req(assets=[asset({"canvas": {"size": {"width": 10}}})]), "assets[0].options.canvas.size.height"),
    ("canvas-bad-colour", req(assets=[asset({"canvas": {"size": {"width": 9, "height": 9}, "color": "blue"}})]), "assets[0].options.canvas.color"),
    ("canvas-colour-5-digits", req(assets=[asset({"canvas": {"size": {"width": 9, "height": 9}, "color": "#12345"}})]), "assets[0].options.canvas.color"),
    ("canvas-unknown-key", req(assets=[asset({"canvas": {"size": {"width": 9, "height": 9}, "colour": "#fff"}})]), "assets[0].options.canvas.colour"),
    # position
    ("position-missing-y", req(assets=[asset({"position": {"x": 1}})]), "assets[0].options.position.y"),
    ("position-negative", req(assets=[asset({"position": {"x": -1, "y": 0}})]), "assets[0].options.position.x"),
    ("position-float", req(assets=[asset({"position": {"x": 0, "y": 1.5}})]), "assets[0].options.position.y"),
    # operations
    ("unknown-operation", req(operations=[{"bg_remove": {}}, {"rotate": {}}]), "operations[1]"),
    ("operation-two-keys", req(operations=[{"bg_remove": {}, "bg_add": {}}]), "operations[0]"),
    ("operation-not-an-object", req(operations=["bg_remove"]), "operations[0]"),
    ("bg_remove-unknown-option", req(operations=[{"bg_remove": {"options": {"model": "x"}}}]), "operations[0].bg_remove.options.model"),
    ("bg_remove-bad-strength", req(operations=[{"bg_remove": {"options": {"strength": "max"}}}]), "operations[0].bg_remove.options.strength"),
    ("bg_remove-bad-mode", req(operations=[{"bg_remove": {"options": {"mode": "cat"}}}]), "operations[0].bg_remove.options.mode"),
    ("bg_remove-strength-list", req(operations=[{"bg_remove": {"options": {"strength": ["high"]}}}]), "operations[0].bg_remove.options.strength"),
    ("bg_remove-artifacts-string", req(operations=[{"bg_remove": {"options": {"remove_artifacts": "yes"}}}]), "operations[0].bg_remove.options.remove_artifacts"),
    ("bg_remove-unknown-key", req(operations=[{"bg_remove": {"opts": {}}}]), "operations[0].bg_remove.opts"),
    # bg_add
    ("bg_add-without-options", req(operations=[{"bg_add": {}}]), "operations[0].bg_add.options"),
    ("bg_add-neither-colour-nor-image", req(operations=bg_add(mode="stretch")), "operations[0].bg_add.options"),
    ("bg_add-bad-colour", req(operations=[{"bg_remove": {}}, *bg_add(color="#ff00zz")]), "operations[1].bg_add.options.color"),
    ("bg_add-colour-number", req(operations=[{"bg_remove": {}}, *bg_add(color=0xFF0000)]), "operations[1].bg_add.options.color"),
    ("bg_add-bad-mode", req(operations=bg_add(color="#fff", mode="fit")), "operations[0].bg_add.options.mode"),
    ("bg_add-colour-trailing-newline", req(operations=bg_add(color="#ffffff\n")), "operations[0].bg_add.options.color"),
    ("bg_add-image-id-trailing-newline", req(operations=bg_add(image_id="b" * 32 + "\n")), "operations[0].bg_add.options.image_id"),
    ("bg_add-bad-image-id", req(operations=bg_add(image_id="B" * 32)), "operations[0].bg_add.options.image_id"),
    ("bg_add-size-one-side", req(operations=bg_add(color="#fff", size={"width": 5})), "operations[0].bg_add.options.size.height"),
    ("bg_add-unknown-option", req(operations=bg_add(color="#fff", position={"x": 0, "y": 0})), "operations[0].bg_add.options.position"),
    # border_add
    ("border_add-without-image-id", req(operations=[{"border_add": {"options": {}}}]), "operations[0].border_add.options.image_id"),
    ("border_add-bad-image-id", req(operations=[{"border_add": {"options": {"image_id": 5}}}]), "operations[0].border_add.options.image_id"),
    ("border_add-without-options", req(operations=[{"border_add": {}}]), "operations[0].border_add.options"),
    # graphics_add
    ("graphics-empty", req(operations=graphics()), "operations[0].graphics_add.graphics"),
    ("graphics-not-a-list", req(operations=[{"graphics_add": {"graphics": {}}}]), "operations[0].graphics_add.graphics"),
    ("graphic-both-id-and-url", req(operations=graphics(graphic({"image_id": G1, "image_url": URL}))), "operations[0].graphics_add.graphics[0].options"),
    ("graphic-neither-id-nor-url", req(operations=graphics(graphic({}, position={"x": 0, "y": 0}))), "operations[0].graphics_add.graphics[0].options"),
    ("graphic-type-not-image", req(operations=graphics({"type": "text", "options": {"image_id": G1}})), "operations[0].graphics_add.graphics[0].type"),
    ("graphic-missing-type", req(operations=graphics({"options": {"image_id": G1}})), "operations[0].graphics_add.graphics[0].type"),
    ("graphic-host-not-allowed", req(operations=graphics(graphic({"image_url": "https://evil.example.net/x.png"}))), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic-url-not-http", req(operations=graphics(graphic({"image_url": "ftp://img.example.com/x.png"}))), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic-url-not-a-string", req(operations=graphics(graphic({"image_url": 7}))), "operations[0].graphics_add.graphics[0].options.image_url"),
    ("graphic-second-bad", req(operations=graphics(graphic({"image_id": G1}), graphic({"image_id": "x"}))), "operations[0].graphics_add.graphics[1].options.image_id"),
    ("graphic-bad-colour", req(operations=graphics(graphic({"image_id": G1}, color="#abcd"))), "operations[0].graphics_add.graphics[0].options.color"),
    ("graphic-size-one-side", req(operations=graphics(graphic({"image_id": G1}, size={"height": 4}))), "operations[0].graphics_add.graphics[0].options.size.width"),
    ("graphic-position-boolean", req(operations=graphics(graphic({"image_id": G1}, position={"x": False, "y": 0}))), "operations[0].graphics_add.graphics[0].options.position.x"),
    ("graphic-unknown-option", req(operations=graphics(graphic({"image_id": G1}, opacity=0.5))), "operations[0].graphics_add.graphics[0].options.opacity"),
    # disposition
    ("add_as_conversion-without-name", req(assets=disposition(add_as_conversion=True)), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-original", req(assets=disposition(add_as_conversion=True, conversion_name="original")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-invalid", req(assets=disposition(add_as_conversion=True, conversion_name="no spaces")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-too-long", req(assets=disposition(add_as_conversion=True, conversion_name="x" * 31)), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-trailing-newline", req(assets=disposition(add_as_conversion=True, conversion_name="thumb\n")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-not-a-string", req(assets=disposition(add_as_conversion=True, conversion_name=5)), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-without-add", req(assets=disposition(conversion_name="thumb")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-with-add-false", req(assets=disposition(add_as_conversion=False, conversion_name="thumb")), "assets[0].options.disposition.conversion_name"),
    ("conversion-name-second-asset", req(assets=[asset({}), *disposition(add_as_conversion=True, conversion_name="")]), "assets[1].options.disposition.conversion_name"),
    ("add_as_conversion-string", req(assets=disposition(add_as_conversion="true", conversion_name="x")), "assets[0].options.disposition.add_as_conversion"),
    ("create_asset-number", req(assets=disposition(create_asset=1)), "assets[0].options.disposition.create_asset"),
    ("disposition-unknown-key", req(assets=disposition(move=True)), "assets[0].options.disposition.move"),
    ("metadata-with-only-add_as_conversion", req(assets=disposition(add_as_conversion=True, conversion_name="x", metadata={"inherit": True})), "assets[0].options.disposition.metadata"),
    ("data_schema_id-with-only-add_as_conversion", req(assets=disposition(add_as_conversion=True, conversion_name="x", data_schema_id=0)), "assets[0].options.disposition.data_schema_id"),
    ("bad-metadata-mode", req(assets=disposition(metadata={"mode": "MERGE"})), "assets[0].options.disposition.metadata.mode"),
    ("lower-case-metadata-mode", req(assets=disposition(metadata={"mode": "append"})), "assets[0].options.disposition.metadata.mode"),
    ("inherit_fields-a-string", req(assets=disposition(metadata={"inherit_fields": "title"})), "assets[0].options.disposition.metadata.inherit_fields"),
    ("inherit_fields-numbers", req(assets=disposition(metadata={"inherit_fields": ["title", 3]})), "assets[0].options.disposition.metadata.inherit_fields"),
    ("metadata-inherit-string", req(assets=disposition(metadata={"inherit": "yes"})), "assets[0].options.disposition.metadata.inherit"),
    ("metadata-data-a-list", req(assets=disposition(metadata={"data": [1]})), "assets[0].options.disposition.metadata.data"),
    ("metadata-bad-src-id", req(assets=disposition(metadata={"src_asset_id": "nope"})), "assets[0].options.disposition.metadata.src_asset_id"),
    ("metadata-unknown-key", req(assets=disposition(metadata={"inherit_all": True})), "assets[0].options.disposition.metadata.inherit_all"),
    ("data_schema_id-negative", req(assets=disposition(data_schema_id=-1)), "assets[0].options.disposition.data_schema_id"),
    ("data_schema_id-string", req(assets=disposition(data_schema_id="1")), "assets[0].options.disposition.data_schema_id"),
]


@pytest.mark.parametrize("request_body, field", [case[1:] for case in INVALID_REQUESTS], ids=[case[0] for case in INVALID_REQUESTS])
def test_parse_request_rejects_bad_input_naming_the_json_path(request_body, field):
    with pytest.raises(OptionError) as raised:
        pipeline.parse_request(request_body, allowed_url_hosts=HOSTS)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def test_parse_request_accepts_a_full_valid_request_and_keeps_every_value():
    request = pipeline.parse_request(
        {
            "assets": [
                asset(
                    {
                        "crop": {"left": 1, "top": 2, "right": 30, "bottom": 40},
                        "size": {"width": 20},
                        "canvas": {"size": {"width": 100, "height": 80}, "color": "#ABC"},
                        "position": {"x": 3, "y": 4},
                        "disposition": {
                            "add_as_conversion": True, "conversion_name": "social-card_1", "create_asset": True,
                            "metadata": {"inherit": True, "src_asset_id": G2, "inherit_fields": ["title"], "data": {"k": 1}, "mode": "REPLACE"},
                            "data_schema_id": 7,
                        },
                    }
                ),
                asset({}, G1),
            ],
            "operations": [
                {"bg_remove": {"options": {"mode": "portrait", "strength": "low"}}},
                {"bg_add": {"options": {"color": "#00000080", "image_id": BG, "mode": "as-is", "size": {"width": 50, "height": 60}}}},
                {"border_add": {"options": {"image_id": BORDER}}},
                {"graphics_add": {"graphics": [
                    graphic({"image_id": G1}, position={"x": 0, "y": 0}, size={"width": 5, "height": 6}, color="#fff"),
                    graphic({"image_url": URL}),
                ]}},
            ],
        },
        allowed_url_hosts=HOSTS,
    )
    first, second = request.assets
    assert (first.asset_id, first.path, second.asset_id, second.path) == (ASSET, "assets[0]", G1, "assets[1]")
    assert first.crop == pipeline.Crop(1, 2, 30, 40)
    assert first.size == (20, None)
    assert (first.canvas_size, first.canvas_color, first.position) == ((100, 80), (0xAA, 0xBB, 0xCC, 255), (3, 4))
    d = first.disposition
    assert (d.add_as_conversion, d.conversion_name, d.create_asset, d.creates_asset, d.data_schema_id) == (True, "social-card_1", True, True, 7)
    assert d.metadata == pipeline.Metadata(True, G2, ("title",), {"k": 1}, "REPLACE")
    assert second.disposition.creates_asset and not second.disposition.add_as_conversion  # neither asked: a new asset
    bg_remove, bg, border, graphics_op = request.operations
    assert (bg_remove.options.mode.value, bg_remove.options.strength.value, bg_remove.options.remove_artifacts) == ("portrait", "low", False)
    assert (bg.color, bg.image_id, bg.mode, bg.size, bg.path) == ((0, 0, 0, 128), BG, "as-is", (50, 60), "operations[1].bg_add.options")
    assert border.image_id == BORDER
    g1, g2 = graphics_op.graphics
    assert (g1.image_id, g1.image_url, g1.position, g1.size, g1.color) == (G1, None, (0, 0), (5, 6), WHITE)
    assert (g2.image_id, g2.image_url, g2.position, g2.size, g2.color) == (None, URL, None, None, None)
    assert request.image_ids() == {
        BG: "operations[1].bg_add.options.image_id",
        BORDER: "operations[2].border_add.options.image_id",
        G1: "operations[3].graphics_add.graphics[0].options.image_id",
    }


@pytest.mark.parametrize(
    "hosts, allowed",
    [(frozenset(), False), (frozenset({"other.example.com"}), False), (HOSTS, True), (frozenset({"cdn.example.com", "img.example.com"}), True)],
)
def test_graphic_image_url_is_allowed_only_from_listed_hosts(hosts, allowed):
    for url in [URL, "http://IMG.example.com:8080/a/b.png?x=1"]:
        request_body = req(operations=graphics(graphic({"image_url": url})))
        if allowed:
            [op] = pipeline.parse_request(request_body, allowed_url_hosts=hosts).operations
            assert op.graphics[0].image_url == url
        else:
            with pytest.raises(OptionError) as raised:
                pipeline.parse_request(request_body, allowed_url_hosts=hosts)
            assert raised.value.field == "operations[0].graphics_add.graphics[0].options.image_url"


@pytest.mark.parametrize(
    "values, add, name, creates",
    [
        ({}, False, None, True),
        ({"create_asset": True}, False, None, True),
        ({"add_as_conversion": True, "conversion_name": "thumb"}, True, "thumb", False),
        ({"add_as_conversion": True, "conversion_name": "A-b_9", "create_asset": True}, True, "A-b_9", True),
        ({"add_as_conversion": True, "conversion_name": "x" * 30}, True, "x" * 30, False),
        ({"metadata": {"inherit": True}}, False, None, True),  # metadata with a new asset
        ({"add_as_conversion": True, "conversion_name": "x", "create_asset": True, "metadata": {"inherit_fields": []}}, True, "x", True),
    ],
)
def test_parse_request_disposition_valid_combinations(values, add, name, creates):
    [spec] = pipeline.parse_request(req(assets=disposition(**values))).assets
    d = spec.disposition
    assert (d.add_as_conversion, d.conversion_name, d.creates_asset) == (add, name, creates)


# ================================================================ check_geometry


def geometry(options: dict, operations: list | None = None, width: int = 40, height: int = 30) -> None:
    request = pipeline.parse_request(req(assets=[asset({}), asset(options, G1)], operations=operations or [NOOP]))
    pipeline.check_geometry(request.assets[1], request, width, height)


BG_ADD_100x100 = [{"bg_add": {"options": {"color": "#fff", "size": {"width": 100, "height": 100}}}}]
BG_ADD_PLAIN = [{"bg_add": {"options": {"color": "#fff"}}}]
CANVAS_50 = {"canvas": {"size": {"width": 50, "height": 50}}}

GEOMETRY_ERRORS = [
    ("crop-right-over-width", {"crop": {"left": 0, "top": 0, "right": 41, "bottom": 30}}, None, "assets[1].options.crop.right"),
    ("crop-bottom-over-height", {"crop": {"left": 0, "top": 0, "right": 40, "bottom": 31}}, None, "assets[1].options.crop.bottom"),
    ("position-without-canvas-or-bg_add", {"position": {"x": 0, "y": 0}}, None, "assets[1].options.position"),
    ("position-x-over-canvas", {**CANVAS_50, "position": {"x": 11, "y": 0}}, None, "assets[1].options.position.x"),
    ("position-y-over-canvas", {**CANVAS_50, "position": {"x": 0, "y": 21}}, None, "assets[1].options.position.y"),
    ("position-x-over-bg_add-size", {"position": {"x": 61, "y": 0}}, BG_ADD_100x100, "assets[1].options.position.x"),
    ("position-y-over-bg_add-size", {"position": {"x": 0, "y": 71}}, BG_ADD_100x100, "assets[1].options.position.y"),
    # with a canvas, the canvas decides the stage even when bg_add has a bigger size
    ("canvas-wins-over-bg_add-size", {**CANVAS_50, "position": {"x": 11, "y": 0}}, BG_ADD_100x100, "assets[1].options.position.x"),
    # bg_add without a size: the stage is the subject's size, so any offset is too far
    ("bg_add-stage-is-the-subject", {"position": {"x": 1, "y": 0}}, BG_ADD_PLAIN, "assets[1].options.position.x"),
    # the subject's size after crop and size counts
    ("subject-after-size", {**CANVAS_50, "size": {"width": 50}, "position": {"x": 1, "y": 0}}, None, "assets[1].options.position.x"),
    ("subject-after-crop", {**CANVAS_50, "crop": {"left": 0, "top": 0, "right": 40, "bottom": 30}, "position": {"x": 0, "y": 21}}, None, "assets[1].options.position.y"),
    ("subject-over-the-pixel-limit", {"size": {"width": 10_000}}, None, "assets[1].options.size"),
]


@pytest.mark.parametrize("options, operations, field", [c[1:] for c in GEOMETRY_ERRORS], ids=[c[0] for c in GEOMETRY_ERRORS])
def test_check_geometry_rejects_what_the_stored_size_rules_out(options, operations, field):
    with pytest.raises(OptionError) as raised:
        geometry(options, operations)
    assert raised.value.field == field


GEOMETRY_OK = [
    ("crop-to-the-edges", {"crop": {"left": 0, "top": 0, "right": 40, "bottom": 30}}, None),
    ("canvas-exactly-fitting", {**CANVAS_50, "position": {"x": 10, "y": 20}}, None),
    ("bg_add-size-exactly-fitting", {"position": {"x": 60, "y": 70}}, BG_ADD_100x100),
    ("bg_add-stage-is-the-subject-at-0", {"position": {"x": 0, "y": 0}}, BG_ADD_PLAIN),
    ("subject-after-crop-fits", {**CANVAS_50, "crop": {"left": 10, "top": 10, "right": 40, "bottom": 30}, "position": {"x": 20, "y": 30}}, None),
    ("subject-after-size-fits", {**CANVAS_50, "size": {"height": 15}, "position": {"x": 30, "y": 35}}, None),
    ("no-position-no-stage", {}, None),
    ("subject-larger-than-canvas-without-position", {"canvas": {"size": {"width": 5, "height": 5}}}, None),
]


@pytest.mark.parametrize("options, operations", [c[1:] for c in GEOMETRY_OK], ids=[c[0] for c in GEOMETRY_OK])
def test_check_geometry_accepts_what_fits_exactly(options, operations):
    geometry(options, operations)  # no error
