"""core.imaging: the header-only description of the service's own bytes agrees with the
full probe used for uploads."""

from __future__ import annotations

import pytest

from core.imaging import image_describe
from tests.images import exif_rotated_jpeg_bytes, image_probe_bytes, jpeg_bytes, png_bytes


@pytest.mark.parametrize(
    "data",
    [png_bytes("coffee"), jpeg_bytes("chelsea"), exif_rotated_jpeg_bytes()],
    ids=["png", "jpeg", "exif-rotated-jpeg"],
)
def test_image_describe_agrees_with_the_full_probe(data):
    assert image_describe(data) == image_probe_bytes(data, max_pixels=50_000_000)


def test_image_describe_reports_the_upright_size_of_an_exif_rotated_jpeg():
    info = image_describe(exif_rotated_jpeg_bytes())
    assert (info.width, info.height) == (300, 451)
