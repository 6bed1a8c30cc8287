"""Image Graphics rendering with the real model (u2netp) on skimage's astronaut: bg_remove
after bg_add clears the stage, before it keeps the stage colour; only robust facts are
asserted."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from graphics.processing.background import BgRemoveOptions, mask_for
from tests.graphics.rendering_helpers import GREEN, render
from tests.images import photo


# ================================================================ the real model


@pytest.fixture(scope="module")
def astronaut_photo() -> Image.Image:
    return photo("astronaut")  # 512x512 RGB


def model_mask(image: Image.Image, options: BgRemoveOptions) -> Image.Image:
    return mask_for(image, options=options, model_name="u2netp")


# The astronaut's chest (256, 200), face (200, 120) and arm (300, 350) in the 512 px photo,
# centred on a 640x640 stage at (64, 64).
SUBJECT_POINTS_ON_STAGE = [(64 + 256, 64 + 200), (64 + 200, 64 + 120), (64 + 300, 64 + 350)]


def test_real_model_bg_remove_after_bg_add_clears_the_stage_and_keeps_the_subject(astronaut_photo):
    out = render(
        astronaut_photo,
        [{"bg_add": {"options": {"color": "#00ff00", "size": {"width": 640, "height": 640}}}}, {"bg_remove": {"options": {}}}],
        mask=model_mask,
    )
    assert out.size == (640, 640)
    alpha = np.asarray(out.getchannel("A"))
    for corner in [(0, 0), (639, 0), (0, 639), (639, 639), (5, 320)]:
        assert alpha[corner[1], corner[0]] <= 3, corner  # the opaque green stage is gone
    for point in SUBJECT_POINTS_ON_STAGE:
        assert alpha[point[1], point[0]] >= 250, point  # the astronaut stays (the soft mask peaks at 254-255)
        assert out.getpixel(point)[:3] == astronaut_photo.getpixel((point[0] - 64, point[1] - 64))  # straight alpha
    assert (alpha[:64] <= 3).mean() > 0.95  # nearly all of the stage's top band


def test_real_model_bg_remove_before_bg_add_keeps_the_stage_colour_opaque(astronaut_photo):
    out = render(
        astronaut_photo,
        [{"bg_remove": {}}, {"bg_add": {"options": {"color": "#00ff00", "size": {"width": 640, "height": 640}}}}],
        mask=model_mask,
    )
    assert out.size == (640, 640)
    for corner in [(0, 0), (639, 0), (0, 639), (639, 639), (5, 320)]:
        assert out.getpixel(corner) == GREEN, corner
    for point in SUBJECT_POINTS_ON_STAGE:
        # the subject (alpha >= 250) over green: within 2 of the original colour
        pixel, original = out.getpixel(point), astronaut_photo.getpixel((point[0] - 64, point[1] - 64)) + (255,)
        assert max(abs(p - o) for p, o in zip(pixel, original)) <= 2, (point, pixel, original)
