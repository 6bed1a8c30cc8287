"""ISNet (DIS) models on onnxruntime directly. No Django.

Runs rembg's `isnet-general-use` and `isnet-anime`, the fp16 `isnet-general-use-fp16` that
`manage.py install_model` takes from an npm package, and custom models whose input is not
u2net's 320x320. The pre- and post-processing are rembg's `DisSession.predict`
(rembg/sessions/dis_general_use.py and `BaseSession.normalize`): LANCZOS to the model's
input (1024x1024), scale by the image's maximum, subtract 0.5 (deviation 1), NCHW float32;
the first output's first channel, min-max normalised to 0..255, LANCZOS back to the
image's size. Through this pipeline the fp16 model reproduces rembg's stored
`isnet-general-use` result (tests/graphics/test_isnet.py).

Why rembg's pipeline and not the npm package's (a plain bilinear stretch to 1024x1024 and
(v - 128) / 256): bench/quality.py measures both on the same model (the README has the
table). The stretch is marginally better on images smaller than the model's input, which
both upsample; on a large photograph it samples pixels instead of averaging them, and
scores lower (on one 4000 px composite its IoU falls from 0.929 to 0.897).

Sessions are made with u2net's options (graphics.processing.u2net.session_options: no
memory arena, sequential execution), but unlike u2net's there is one session per model,
at the runtime's widest thread count (all cores, or BG_REMOVE_THREADS), and a process runs
one ISNet inference at a time (each still takes its turn in the process's CorePool, so
u2net inferences see those cores busy). Measured with two clients on 2 cores: a second
session at one thread (u2net's adaptive scheme) keeps about 350 MiB more resident for the
life of the process, and two inferences at once raise the peak from about 1.5 GiB to
2.4 GiB, for no throughput that this machine could tell apart from noise. Only the first
of the model's outputs is fetched: the other eleven are side outputs nobody reads.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image

from graphics.processing import u2net

DEFAULT_INPUT_SIZE = (1024, 1024)


class IsnetSession:
    """One ISNet model file, loaded once; `predict` returns [mask] like a rembg session."""

    def __init__(self, path: Path, runtime: u2net.Runtime, pool: u2net.CorePool):
        import onnxruntime as ort

        self.inner_session = ort.InferenceSession(
            str(path), sess_options=u2net.session_options(max(runtime.widths)), providers=list(runtime.providers)
        )
        self._input = self.inner_session.get_inputs()[0].name
        self._output = self.inner_session.get_outputs()[0].name
        shape = self.inner_session.get_inputs()[0].shape  # [batch, channels, height, width]
        fixed = len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int)
        self.input_size = (shape[3], shape[2]) if fixed else DEFAULT_INPUT_SIZE
        self._pool = pool
        self._one_at_a_time = threading.Lock()

    def predict(self, image: Image.Image) -> list[Image.Image]:
        rgb = image.convert("RGB")
        if rgb.size != self.input_size:
            rgb = rgb.resize(self.input_size, Image.Resampling.LANCZOS)
        pixels = np.asarray(rgb, dtype=np.float32)
        pixels = pixels / max(float(pixels.max()), 1e-6) - 0.5
        batch = np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])
        with self._one_at_a_time, self._pool.turn():
            prediction = self.inner_session.run([self._output], {self._input: batch})[0][0, 0]
        low, high = float(prediction.min()), float(prediction.max())
        prediction = (prediction - low) / (high - low) if high > low else np.zeros_like(prediction)
        mask = Image.fromarray((prediction * 255).astype(np.uint8), mode="L")
        return [mask.resize(image.size, Image.Resampling.LANCZOS) if mask.size != image.size else mask]
