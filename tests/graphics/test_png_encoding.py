"""graphics.processing.images.png_encode: exact round trips for every mode, band count
and level, levels 0-9 only, RGB(A)/L(A) only, and a cutout's PNG close to Pillow's size."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from graphics.processing import images
from tests.images import encode


# ---------------------------------------------------------------- png_encode


def noise(mode: str, size: tuple[int, int], seed: int = 0) -> Image.Image:
    width, height = size
    bands = len(mode)
    values = np.random.default_rng(seed).integers(0, 256, size=(height, width, bands), dtype=np.uint8)
    # half noise, half smooth gradient, so the Up filter sees both wraparound and runs
    values[: height // 2] = (np.arange(width, dtype=np.uint16)[None, :, None] * 7 % 256).astype(np.uint8)
    return Image.fromarray(values[..., 0] if bands == 1 else values, mode)


def decoded_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()  # Pillow checks chunk CRCs and zlib the Adler-32 on the way
    return image


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(97, 61), (7, 1000), (1, 1)], ids=["97x61", "tall-7x1000", "1x1"])
def test_png_encode_round_trips_exactly(mode, size):
    source = noise(mode, size)
    result = decoded_png(images.png_encode(source))
    assert result.mode == mode and result.size == size
    assert np.array_equal(np.asarray(result), np.asarray(source))


@pytest.mark.parametrize("bands", [1, 2, 4, 7])
def test_png_encode_round_trips_with_any_band_count(bands):
    source = noise("RGBA", (33, 1000), seed=bands)
    result = decoded_png(images.png_encode(source, bands=bands))
    assert np.array_equal(np.asarray(result), np.asarray(source))


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_png_encode_round_trips_at_each_level(level, astronaut):
    source = astronaut.convert("RGBA")
    data = images.png_encode(source, level=level)
    assert np.array_equal(np.asarray(decoded_png(data)), np.asarray(source))
    if level == 0:  # stored, not compressed
        assert len(data) > source.width * source.height * 4


def test_png_encode_higher_level_is_not_larger(astronaut):
    source = astronaut.convert("RGBA")
    assert len(images.png_encode(source, level=9)) <= len(images.png_encode(source, level=1))


@pytest.mark.parametrize("level", [-1, 10])
def test_png_encode_rejects_a_level_outside_0_9(level):
    with pytest.raises(ValueError):
        images.png_encode(Image.new("RGB", (4, 4)), level=level)


@pytest.mark.parametrize("mode", ["P", "CMYK", "I;16", "1"])
def test_png_encode_rejects_other_modes(mode):
    with pytest.raises(ValueError):
        images.png_encode(Image.new(mode, (4, 4)))


def test_png_encode_of_a_cutout_is_close_to_pillows_size(astronaut_cutout):
    result = astronaut_cutout.image
    ours = images.png_encode(result, level=2)
    pillows = encode(result, "PNG", compress_level=6)
    print(f"\ncutout PNG: png_encode level 2 (the default) {len(ours)} bytes, Pillow level 6 {len(pillows)} bytes, "
          f"ratio {len(ours) / len(pillows):.3f}")
    assert np.array_equal(np.asarray(decoded_png(ours)), np.asarray(result))
    assert len(ours) <= 1.3 * len(pillows)
