"""Image Graphics rendering: crop, size and the canvas (its size, colour and the
subject's position on it, centred by default), and where the canvas stage is built
relative to bg_remove. Pure functions; see tests/graphics/rendering_helpers.py."""

from __future__ import annotations

import pytest

from graphics.processing import pipeline
from tests.graphics.rendering_helpers import (
    BLUE,
    CANVAS_60x40_BLUE,
    CLEAR,
    G1,
    GREEN,
    NOOP,
    RED,
    SUBJECT_SIZE,
    TRANSPARENT,
    YELLOW,
    MaskSpy,
    assert_pixels,
    body,
    quadrants,
    render,
    solid,
    subject,
)


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
