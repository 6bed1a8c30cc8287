"""graphics.processing.images.decode: CMYK, 16-bit, palette, LA, EXIF-rotated, HEIC and
AVIF inputs become upright RGB(A) with the right colours; truncated files, garbage and
decompression bombs are ImageRejected (the bomb from its header, without decoding)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from graphics.processing import images
from graphics.processing.images import ImageRejected
from tests.graphics.conftest import MAX_PIXELS
from tests.images import (
    cmyk_jpeg_bytes,
    decompression_bomb_png_bytes,
    encode,
    exif_rotated_jpeg_bytes,
    palette_gif_bytes,
    photo,
    png16_bytes,
    truncated_jpeg_bytes,
)


# ---------------------------------------------------------------- decode


def mean_colour(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64).reshape(-1, 3).mean(axis=0)


def test_decode_cmyk_jpeg_to_rgb_with_the_same_colours():
    data = cmyk_jpeg_bytes("coffee")
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    image = images.decode(data, max_pixels=MAX_PIXELS)
    assert image.mode == "RGB" and image.size == (600, 400)
    assert np.abs(mean_colour(image) - mean_colour(photo("coffee"))).max() <= 2.0
    # not inverted: per-pixel difference stays small too
    diff = np.abs(np.asarray(image, dtype=np.int64) - np.asarray(photo("coffee"), dtype=np.int64))
    assert diff.mean() <= 4.0


def test_decode_16_bit_greyscale_png_scales_to_8_bits():
    data = png16_bytes("chelsea")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    image = images.decode(data, max_pixels=MAX_PIXELS)
    grey = np.asarray(photo("chelsea").convert("L"), dtype=np.int64)  # the PNG holds grey * 257
    assert grey.max() > 150 and grey.min() < 50  # a wide tonal range, so the scale matters
    assert image.mode == "RGB" and image.size == (451, 300)
    pixels = np.asarray(image, dtype=np.int64)
    for channel in range(3):
        assert np.abs(pixels[..., channel] - grey).max() <= 1


def test_decode_palette_gif_to_rgb():
    data = palette_gif_bytes("astronaut")
    assert Image.open(io.BytesIO(data)).mode == "P"
    image = images.decode(data, max_pixels=MAX_PIXELS)
    assert image.mode == "RGB" and image.size == (512, 512)
    expected = photo("astronaut").convert("P", palette=Image.Palette.ADAPTIVE, colors=64).convert("RGB")
    assert np.array_equal(np.asarray(image), np.asarray(expected))  # GIF keeps palette images exactly


def test_decode_palette_png_with_a_transparent_index_to_rgba():
    indices = np.zeros((40, 60), dtype=np.uint8)
    indices[:, 20:40] = 1
    indices[:, 40:] = 2
    paletted = Image.fromarray(indices, "L").convert("P")
    paletted.putpalette([0, 255, 0, 200, 30, 40, 10, 20, 250])
    data = encode(paletted, "PNG", transparency=0)
    image = images.decode(data, max_pixels=MAX_PIXELS)
    assert image.mode == "RGBA" and image.size == (60, 40)
    pixels = np.asarray(image)
    assert (pixels[:, :20, 3] == 0).all()
    assert (pixels[:, 20:, 3] == 255).all()
    assert (pixels[:, 20:40, :3] == (200, 30, 40)).all()
    assert (pixels[:, 40:, :3] == (10, 20, 250)).all()


def test_decode_la_png_to_rgba():
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (32, 1))  # 64 wide
    alpha = grey[::-1, ::-1].copy()
    alpha[:8] = 0
    la = Image.merge("LA", (Image.fromarray(grey, "L"), Image.fromarray(alpha, "L")))
    image = images.decode(encode(la, "PNG"), max_pixels=MAX_PIXELS)
    assert image.mode == "RGBA" and image.size == (64, 32)
    pixels = np.asarray(image)
    for channel in range(3):
        assert np.array_equal(pixels[..., channel], grey)
    assert np.array_equal(pixels[..., 3], alpha)


def test_decode_applies_exif_orientation_6():
    data = exif_rotated_jpeg_bytes("chelsea")
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (451, 300)
    image = images.decode(data, max_pixels=MAX_PIXELS)
    assert image.size == (300, 451)
    # orientation 6 is shown turned a quarter clockwise: stored bottom-left -> upright top-left
    expected = np.asarray(photo("chelsea").transpose(Image.Transpose.ROTATE_270), dtype=np.int64)
    assert np.abs(np.asarray(image, dtype=np.int64) - expected).mean() <= 3.0


CORNERS = {  # stored 451x300 image, colour of each 40x40 corner block
    "top-left": (255, 0, 0),
    "top-right": (0, 255, 0),
    "bottom-left": (0, 0, 255),
    "bottom-right": (255, 255, 0),
}


def test_decode_exif_orientation_6_moves_each_corner_where_it_belongs():
    stored = Image.new("RGB", (451, 300), (128, 128, 128))
    draw = ImageDraw.Draw(stored)
    draw.rectangle((0, 0, 39, 39), fill=CORNERS["top-left"])
    draw.rectangle((411, 0, 450, 39), fill=CORNERS["top-right"])
    draw.rectangle((0, 260, 39, 299), fill=CORNERS["bottom-left"])
    draw.rectangle((411, 260, 450, 299), fill=CORNERS["bottom-right"])
    exif = Image.Exif()
    exif[0x0112] = 6
    image = images.decode(encode(stored, "JPEG", quality=95, exif=exif.tobytes()), max_pixels=MAX_PIXELS)
    assert image.size == (300, 451)

    def near(point, colour):
        return np.abs(np.asarray(image.getpixel(point)) - np.asarray(colour)).max() <= 12

    # a quarter turn clockwise: bottom-left -> top-left, top-left -> top-right, and so on
    assert near((10, 10), CORNERS["bottom-left"])
    assert near((289, 10), CORNERS["top-left"])
    assert near((289, 440), CORNERS["top-right"])
    assert near((10, 440), CORNERS["bottom-right"])
    assert near((150, 225), (128, 128, 128))


@pytest.mark.parametrize(
    "fmt, name, size, params",
    [("HEIF", "rocket", (640, 427), {"quality": 80}), ("AVIF", "astronaut", (512, 512), {"quality": 70})],
)
def test_decode_heic_and_avif(fmt, name, size, params):
    image = images.decode(encode(photo(name), fmt, **params), max_pixels=MAX_PIXELS)
    assert image.mode == "RGB" and image.size == size
    assert np.abs(mean_colour(image) - mean_colour(photo(name))).max() <= 4.0


def test_decode_truncated_jpeg_is_invalid_image():
    with pytest.raises(ImageRejected) as caught:
        images.decode(truncated_jpeg_bytes("astronaut"), max_pixels=MAX_PIXELS)
    assert caught.value.code == "invalid_image"


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
def test_decode_garbage_is_invalid_image(data):
    with pytest.raises(ImageRejected) as caught:
        images.decode(data, max_pixels=MAX_PIXELS)
    assert caught.value.code == "invalid_image"


def test_decode_decompression_bomb_is_too_large_without_decoding(monkeypatch):
    loads = []
    real_load = images.image_load
    monkeypatch.setattr(images, "image_load", lambda image: loads.append(image) or real_load(image))
    data = decompression_bomb_png_bytes()
    assert len(data) < 100_000
    with pytest.raises(ImageRejected) as caught:
        images.decode(data, max_pixels=MAX_PIXELS)
    assert caught.value.code == "image_too_large"
    assert "10000x10000" in caught.value.message
    assert loads == []  # rejected from the header: the pixels were never decoded


def test_decode_pixel_limit_is_inclusive():
    data = encode(Image.new("RGB", (10, 10), (1, 2, 3)), "PNG")
    assert images.decode(data, max_pixels=100).size == (10, 10)
    with pytest.raises(ImageRejected) as caught:
        images.decode(data, max_pixels=99)
    assert caught.value.code == "image_too_large"
