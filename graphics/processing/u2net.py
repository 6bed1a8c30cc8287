"""The u2net family (u2netp, u2net, u2net_human_seg, silueta) on onnxruntime directly. No Django.

rembg's session for these models is a thin layer over onnxruntime, but importing rembg
pulls numba, llvmlite, pymatting and scipy into every process (about 200 MB before any
model). This is the same pre- and post-processing as rembg's `U2netpSession.predict`
(rembg/sessions/u2netp.py and `BaseSession.normalize`): LANCZOS to 320x320, scale by
the image's maximum, ImageNet mean and deviation, NCHW float32; the first output's first
channel, min-max normalised to 0..255, LANCZOS back to the image's size. The agreement
test against `rembg.remove` (tests/graphics/test_background_removal.py) guards it.

Session options, chosen by measurement (bench/serving.py): no CPU memory arena and no
memory pattern (both keep hundreds of MB after the first inference for no speed gain on
a 320x320 input), sequential execution, one inter-op thread, and `threads` intra-op
threads. `InferenceGate` lets at most cores // threads inferences run at once in a
process, so request threads queue for the model instead of oversubscribing the CPU.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

U2NET_FAMILY = frozenset({"u2netp", "u2net", "u2net_human_seg", "silueta"})
INPUT_SIZE = (320, 320)
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@dataclass(frozen=True)
class Runtime:
    """How models run: onnxruntime's execution providers, and the intra-op threads one
    inference may use (0: as many as the machine has cores)."""

    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    threads: int = 0

    @property
    def threads_per_inference(self) -> int:
        return self.threads or os.cpu_count() or 1

    @property
    def parallel_inferences(self) -> int:
        return max(1, (os.cpu_count() or 1) // self.threads_per_inference)


def session_options(runtime: Runtime):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = runtime.threads_per_inference
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class InferenceGate:
    """At most `slots` inferences at once in this process; the others wait their turn."""

    def __init__(self, slots: int):
        self._slots = threading.BoundedSemaphore(slots)

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._slots:
            yield


class U2netSession:
    """One model file, loaded once; `predict` returns [mask] like a rembg session."""

    def __init__(self, path: Path, runtime: Runtime, gate: InferenceGate):
        import onnxruntime as ort

        self.inner_session = ort.InferenceSession(
            str(path), sess_options=session_options(runtime), providers=list(runtime.providers)
        )
        self._input = self.inner_session.get_inputs()[0].name
        self._gate = gate

    def predict(self, image: Image.Image) -> list[Image.Image]:
        pixels = np.asarray(image.convert("RGB").resize(INPUT_SIZE, Image.Resampling.LANCZOS), dtype=np.float32)
        pixels = (pixels / max(float(pixels.max()), 1e-6) - _MEAN) / _STD
        batch = np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])
        with self._gate.turn():
            prediction = self.inner_session.run(None, {self._input: batch})[0][0, 0]
        low, high = float(prediction.min()), float(prediction.max())
        prediction = (prediction - low) / (high - low) if high > low else np.zeros_like(prediction)
        mask = Image.fromarray((prediction * 255).astype(np.uint8), mode="L")
        return [mask.resize(image.size, Image.Resampling.LANCZOS)]


def model_path(name: str) -> Path:
    """Where `manage.py install_model` puts a model: U2NET_HOME (as rembg looks it up)."""
    return Path(os.environ.get("U2NET_HOME", "~/.u2net")).expanduser() / f"{name}.onnx"
