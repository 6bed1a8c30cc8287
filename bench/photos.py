"""The test photograph both benchmarks use."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def photo_jpeg(width: int, height: int) -> bytes:
    """skimage's astronaut at the given size, with mild sensor-like noise, as JPEG q90."""
    from skimage import data

    image = Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.LANCZOS)
    noise = np.random.default_rng(0).normal(0, 3, (height, width, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
