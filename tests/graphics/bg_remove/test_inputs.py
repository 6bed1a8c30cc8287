"""Remove Background on unusual inputs (CMYK JPEG, palette GIF, 16-bit PNG, EXIF-rotated
JPEG, HEIC), through the upload endpoint and as a stored original: the result keeps the
(upright) input's colours where it is not transparent."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from assets.models import Asset
from tests.graphics.bg_remove.conftest import call, check_png_response, make_source
from tests.graphics.conftest import decode_png
from tests.images import (
    cmyk_jpeg_bytes,
    encode,
    exif_rotated_jpeg_bytes,
    palette_gif_bytes,
    photo,
    png16_bytes,
)

pytestmark = pytest.mark.django_db


# --- inputs ------------------------------------------------------------------------------


def _grey16_reference(data: bytes) -> Image.Image:
    values = np.asarray(Image.open(io.BytesIO(data)), dtype=np.uint16)
    return Image.fromarray((values // 257).astype(np.uint8), "L").convert("RGB")


def _pillow_reference(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    return ImageOps.exif_transpose(image).convert("RGB")


# name -> (file name, bytes maker, upright size, reference RGB maker)
INPUTS = {
    "cmyk_jpeg": ("coffee-cmyk.jpg", lambda: cmyk_jpeg_bytes("coffee"), (600, 400), _pillow_reference),
    "palette_gif": ("astronaut.gif", lambda: palette_gif_bytes("astronaut"), (512, 512), _pillow_reference),
    "png16": ("chelsea16.png", lambda: png16_bytes("chelsea"), (451, 300), _grey16_reference),
    "exif_rotated_jpeg": ("rotated.jpg", lambda: exif_rotated_jpeg_bytes("chelsea"), (300, 451), _pillow_reference),
    "heic": ("rocket.heic", lambda: encode(photo("rocket", (320, 213)), "HEIF", quality=80), (320, 213), _pillow_reference),
}


def _check_colours(result: Image.Image, data: bytes, reference) -> None:
    """Where the result is not fully transparent its colour is the (upright) input's."""
    expected = np.asarray(reference(data))
    rgba = np.asarray(result)
    visible = rgba[..., 3] > 0
    assert visible.sum() > 0.01 * visible.size  # the model kept a subject
    assert (rgba[..., 3] == 0).any() or (rgba[..., 3] < 255).any()  # and removed something
    assert np.array_equal(rgba[..., :3][visible], expected[visible])


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_inputs_through_the_upload_endpoint(creator, kind):
    name, make, size, reference = INPUTS[kind]
    data = make()
    response = call(creator, "upload", None, {"mode": "get_image"}, image=data, image_name=name)
    _check_colours(check_png_response(response, size), data, reference)


@pytest.mark.parametrize("kind", ["exif_rotated_jpeg", "cmyk_jpeg", "heic"])
def test_inputs_stored_as_the_original_through_the_get_endpoint(creator, kind):
    name, make, size, reference = INPUTS[kind]
    data = make()
    source = make_source(creator, name, data)
    assert (source.width, source.height) == size
    response = call(creator, "asset_get", source.id, {"mode": "get_image"})
    _check_colours(check_png_response(response, size), data, reference)


def test_exif_rotated_result_saved_as_a_new_asset_is_upright(creator, media_root):
    name, make, size, _ = INPUTS["exif_rotated_jpeg"]
    response = call(
        creator, "upload", None, {"mode": "save_image", "disposition": "add_new_asset"}, image=make(), image_name=name
    )
    assert response.status_code == 200, response.content
    new = Asset.objects.get(id=response.json()["new_asset_id"])
    assert (new.width, new.height) == (300, 451)
    assert decode_png((media_root / new.file.name).read_bytes()).size == (300, 451)
