"""The u2net family (u2netp, u2net, u2net_human_seg, silueta) without rembg. No Django.

rembg's session for these models is a thin layer over onnxruntime, but importing rembg
pulls numba, llvmlite, pymatting and scipy into every process (about 200 MB before any
model). This is the same pre- and post-processing as rembg's `U2netpSession.predict`
(rembg/sessions/u2netp.py and `BaseSession.normalize`): LANCZOS to 320x320, scale by
the image's maximum, ImageNet mean and deviation, NCHW float32; the first output's first
channel, min-max normalised to 0..255, LANCZOS back to the image's size. The agreement
test against `rembg.remove` (tests/graphics/test_background_removal.py) guards it.

Two engines run the same ONNX file (`Runtime.engine`, setting BG_REMOVE_ENGINE):
- `onnxruntime` (the default, and always for execution providers other than the CPU):
  session options chosen by measurement (bench/serving.py): no CPU memory arena and no
  memory pattern (the arena keeps about 120 MB more per process after the first
  inference, for 10-20 % speed), sequential execution, one inter-op thread.
- `openvino`: OpenVINO's CPU plugin runs u2netp in 0.12 s on two cores here against
  onnxruntime's 0.21 s (0.24 s against 0.36 s on one), with the same mask (at most 1/255
  apart at 320x320), but keeps every stream's buffers (about 120-300 MB each) for the
  life of the process: a web worker idles at about 950 MB against 250. The choice for
  throughput where memory is plentiful (README, Serving).

`CorePool` lends the process's cores to inferences, so request threads queue for the
model instead of oversubscribing the CPU.
"""

from __future__ import annotations

import os
import queue
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


ENGINES = ("openvino", "onnxruntime")


@dataclass(frozen=True)
class Runtime:
    """How models run: the engine of the u2net family, onnxruntime's execution providers,
    and the threads one inference may use (0: the engine's best, see `CorePool`)."""

    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    threads: int = 0
    engine: str = "onnxruntime"

    @property
    def cores(self) -> int:
        return os.cpu_count() or 1

    @property
    def openvino(self) -> bool:
        """OpenVINO runs the u2net family unless asked otherwise or a provider other
        than onnxruntime's CPU one is configured (a GPU host)."""
        return self.engine == "openvino" and all(p == "CPUExecutionProvider" for p in self.providers)

    @property
    def fixed_threads(self) -> int:
        """Threads per inference when fixed; 0 when adaptive."""
        return min(self.threads, self.cores) if self.threads else 0

    @property
    def widths(self) -> tuple[int, ...]:
        """The thread counts sessions are made for: all cores and one (adaptive), or the
        fixed count."""
        if self.fixed_threads:
            return (self.fixed_threads,)
        return tuple(dict.fromkeys((self.cores, 1)))


def session_options(threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class CorePool:
    """The process's cores, lent to inferences so that together they never use more.

    Adaptive (`Runtime.threads` 0): an inference takes every core only when it is the
    process's one piece of image work (no other `working()` block, no inference waiting
    or running): a lone request runs as fast as the machine allows. Otherwise it waits for
    one core and runs single-threaded: under load one thread per inference does the most
    work per core, and an inference that took both cores while another request was
    decoding or encoding would make that one wait (bench/serving.py). Fixed
    (`Runtime.threads` n): each inference takes n cores.
    """

    def __init__(self, runtime: Runtime):
        self.size = runtime.cores
        self._fixed = runtime.fixed_threads
        self._free = self.size
        self._waiting = 0
        self._working = 0
        self._changed = threading.Condition()

    @contextmanager
    def working(self) -> Iterator[None]:
        """Marks one request's whole image work (decode to encode), so that an inference
        knows whether it is alone in the process."""
        with self._changed:
            self._working += 1
        try:
            yield
        finally:
            with self._changed:
                self._working -= 1

    @contextmanager
    def turn(self) -> Iterator[int]:
        """Wait for cores; yields how many this inference may use."""
        with self._changed:
            if self._fixed:
                want = self._fixed
            elif self._free == self.size and not self._waiting and self._working <= 1:
                want = self.size
            else:
                want = 1
            self._waiting += 1
            try:
                self._changed.wait_for(lambda: self._free >= want)
            finally:
                self._waiting -= 1
            self._free -= want
        try:
            yield want
        finally:
            with self._changed:
                self._free += want
                self._changed.notify_all()


class U2netSession:
    """One model file, loaded once; `predict` returns [mask] like a rembg session.
    Subclasses run the network (`_run`); the pre- and post-processing are rembg's."""

    input_size = INPUT_SIZE

    def __init__(self, pool: CorePool):
        self._pool = pool

    def _run(self, batch: np.ndarray, cores: int) -> np.ndarray:
        raise NotImplementedError

    def predict(self, image: Image.Image) -> list[Image.Image]:
        pixels = np.asarray(image.convert("RGB").resize(INPUT_SIZE, Image.Resampling.LANCZOS), dtype=np.float32)
        pixels = (pixels / max(float(pixels.max()), 1e-6) - _MEAN) / _STD
        batch = np.ascontiguousarray(pixels.transpose(2, 0, 1)[np.newaxis])
        with self._pool.turn() as cores:
            prediction = self._run(batch, cores)[0, 0]
        low, high = float(prediction.min()), float(prediction.max())
        prediction = (prediction - low) / (high - low) if high > low else np.zeros_like(prediction)
        mask = Image.fromarray((prediction * 255).astype(np.uint8), mode="L")
        return [mask.resize(image.size, Image.Resampling.LANCZOS)]


class OnnxU2netSession(U2netSession):
    """On onnxruntime: a session per thread count of `Runtime.widths`."""

    def __init__(self, path: Path, runtime: Runtime, pool: CorePool):
        import onnxruntime as ort

        super().__init__(pool)
        self._sessions = {
            width: ort.InferenceSession(str(path), sess_options=session_options(width), providers=list(runtime.providers))
            for width in runtime.widths
        }
        self.inner_session = self._sessions[max(self._sessions)]
        self._input = self.inner_session.get_inputs()[0].name

    def _run(self, batch: np.ndarray, cores: int) -> np.ndarray:
        session = self._sessions.get(cores) or self.inner_session
        return session.run(None, {self._input: batch})[0]


class OpenVinoU2netSession(U2netSession):
    """On OpenVINO's CPU plugin: a compiled model per thread count of `Runtime.widths`,
    each with as many streams as that count fits in the cores (a stream runs one inference
    at a time) and one infer request per stream, all made here: making a request while
    another thread infers deadlocked the plugin. Each stream keeps about 120 MB of
    buffers once it has run."""

    def __init__(self, path: Path, runtime: Runtime, pool: CorePool):
        import openvino

        super().__init__(pool)
        core = openvino.Core()
        self._idle: dict[int, queue.SimpleQueue] = {}
        for width in runtime.widths:
            streams = max(1, runtime.cores // width)
            config = {
                "INFERENCE_NUM_THREADS": streams * width, "NUM_STREAMS": streams,
                # f32 always: on a CPU with bf16 arithmetic OpenVINO would otherwise compute
                # in bf16, 1.7x faster but with masks up to 164/255 away from the model's own
                "INFERENCE_PRECISION_HINT": "f32",
            }
            model = core.compile_model(str(path), "CPU", config)
            self._idle[width] = queue.SimpleQueue()
            for _ in range(streams):
                self._idle[width].put(model.create_infer_request())

    def _run(self, batch: np.ndarray, cores: int) -> np.ndarray:
        idle = self._idle.get(cores) or self._idle[max(self._idle)]
        request = idle.get()  # the pool lets no more inferences in than there are streams
        try:
            return request.infer({0: batch})[0].copy()  # the request reuses its buffers
        finally:
            idle.put(request)


def u2net_session(path: Path, runtime: Runtime, pool: CorePool) -> U2netSession:
    """The session of the engine `runtime` asks for."""
    return (OpenVinoU2netSession if runtime.openvino else OnnxU2netSession)(path, runtime, pool)


def model_path(name: str) -> Path:
    """Where `manage.py install_model` puts a model: U2NET_HOME (as rembg looks it up)."""
    return Path(os.environ.get("U2NET_HOME", "~/.u2net")).expanduser() / f"{name}.onnx"
