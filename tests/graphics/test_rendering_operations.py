"""Image Graphics rendering of each operation: bg_remove (what the mask is given),
bg_add (colour, size, image stretched or as-is, under a canvas colour), graphics_add
(size, position, colour, order, URL source), border_add, and how the order of the
operations changes the result. Pure functions; see tests/graphics/rendering_helpers.py."""

from __future__ import annotations

import pytest
from PIL import Image

from graphics.processing import pipeline
from tests.graphics.rendering_helpers import (
    BG,
    BLUE,
    BORDER,
    CANVAS_60x40_BLUE,
    CLEAR,
    G1,
    G2,
    GREEN,
    HOSTS,
    MAGENTA,
    RED,
    SUBJECT_CENTRE,
    SUBJECT_CORNER,
    SUBJECT_SIZE,
    TRANSPARENT,
    URL,
    WHITE,
    YELLOW,
    MaskSpy,
    assert_pixels,
    body,
    cutout,
    frame,
    graphic,
    no_mask,
    quadrants,
    render,
    solid,
    subject,
    with_rect,
)


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
