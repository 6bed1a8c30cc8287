"""Background removal: model sessions, the mask, and its options (SPEC §6). No Django.

Sessions: one session per model name per process, created under a lock on first use (or
by `warm` at process start) and shared by all threads; onnxruntime's `run` is
thread-safe. A session is never created per request. The u2net family runs on
onnxruntime directly (graphics.processing.u2net); any other model through rembg, which
is imported only when such a model is asked for. `configure` sets the providers and
threads before the first session. ISNet runs on onnxruntime directly too
(graphics.processing.isnet); core.model_catalogue.pipeline_for says which runs a model.

The mask is computed the way `rembg.remove` computes it, at a fraction of the cost for
large photographs: the model sees a 320x320 (u2netp) version of the image either way, so
we box-reduce the image by an integer factor first (Image.reduce, far cheaper than
rembg's full-size LANCZOS), resize that to the model's input, and upscale only the
one-channel mask to full size (LANCZOS, as rembg). The result stays within a mean absolute difference of 1/255 of
rembg's alpha (tests/graphics/test_background_removal.py measures it).

Strength curves, applied to the soft mask a (0..255) as lookup tables:
    medium: a                                   (the model's mask unchanged)
    low:    255 * (a/255) ** 0.5                (lifts partial alpha: keeps more of the soft edge)
    high:   255 / (1 + exp(-(a - 128) / 6))     (a steep sigmoid: nearly binary)
    (low and high keep 0 at 0 and 255 at 255; the curve is applied after upscaling.)

remove_artifacts: on the full-size soft mask, connected regions of alpha > 127 smaller
than 10% of the largest region (islands) are cleared, and enclosed holes smaller than
1% of the kept subject's area are filled. The strength curve comes last.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

import numpy as np
from PIL import Image, ImageChops

from core import metrics
from core.errors import OptionError
from core.model_store import model_pipeline
from graphics.processing import isnet, u2net

WORK_SIDE = 1024  # models without a fixed input size see about this much
REDUCE_MARGIN = 3  # the box-reduced image stays at least 3x the model input (short side)
ISLAND_FRACTION = 0.10
HOLE_FRACTION = 0.01

_sessions: dict[str, object] = {}
_sessions_lock = threading.Lock()
_runtime = u2net.Runtime()
_pool = u2net.CorePool(_runtime)


def configure(runtime: u2net.Runtime) -> None:
    """How models run in this process (BG_REMOVE_PROVIDERS, BG_REMOVE_THREADS); sessions
    made before keep theirs."""
    global _runtime, _pool
    _runtime, _pool = runtime, u2net.CorePool(runtime)


def working():
    """Wrap one request's whole image work in this (see `u2net.CorePool.working`)."""
    return _pool.working()


class BgMode(str, Enum):
    AUTO = "auto"
    PORTRAIT = "portrait"
    PRODUCT = "product"


class MaskStrength(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def _lut(function) -> list[int]:
    return [max(0, min(255, round(function(v)))) for v in range(256)]


_STRENGTH_LUTS: dict[MaskStrength, list[int] | None] = {
    MaskStrength.MEDIUM: None,
    MaskStrength.LOW: _lut(lambda v: 255 * (v / 255) ** 0.5),
    MaskStrength.HIGH: [0] + _lut(lambda v: 255 / (1 + math.exp(-(v - 128) / 6)))[1:255] + [255],
}


def _parse_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "yes"}:
        return True
    if isinstance(value, str) and value.lower() in {"false", "0", "no"}:
        return False
    raise OptionError(field, f"must be true or false, got {value!r}")


def _parse_enum(enum: type[Enum], value: object, field: str) -> Enum:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum)
        raise OptionError(field, f"must be one of {choices}, got {value!r}") from None


@dataclass(frozen=True)
class BgRemoveOptions:
    mode: BgMode = BgMode.AUTO
    strength: MaskStrength = MaskStrength.MEDIUM
    remove_artifacts: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, object], *, prefix: str = "", names: Mapping[str, str] | None = None) -> "BgRemoveOptions":
        """Validate options from a JSON object or query string; OptionError names the field.

        `names` maps option -> the field name the caller exposes (`mode` is `bg_mode` in a
        query string); `prefix` is prepended (a JSON path such as `operations[0].bg_remove.options.`).
        """
        names = {"mode": "mode", "strength": "strength", "remove_artifacts": "remove_artifacts", **(names or {})}
        known = set(names.values())
        for key in raw:
            if key not in known:
                raise OptionError(f"{prefix}{key}", f"is not a bg_remove option; use {', '.join(sorted(known))}")
        values = {}
        if names["mode"] in raw:
            values["mode"] = _parse_enum(BgMode, raw[names["mode"]], prefix + names["mode"])
        if names["strength"] in raw:
            values["strength"] = _parse_enum(MaskStrength, raw[names["strength"]], prefix + names["strength"])
        if names["remove_artifacts"] in raw:
            values["remove_artifacts"] = _parse_bool(raw[names["remove_artifacts"]], prefix + names["remove_artifacts"])
        return cls(**values)

    def to_json(self) -> dict[str, object]:
        return {"mode": self.mode.value, "strength": self.strength.value, "remove_artifacts": self.remove_artifacts}


@dataclass(frozen=True)
class Cutout:
    """The image with its background made transparent, and what the headers report."""

    image: Image.Image  # RGBA, straight alpha
    model: str
    bbox: tuple[int, int, int, int]  # left, top, width, height of alpha > 127; zeros if empty


def session_for(model_name: str):
    """The process's one session for `model_name`, created under a lock on first use."""
    session = _sessions.get(model_name)
    if session is not None:
        return session
    with _sessions_lock:
        session = _sessions.get(model_name)
        if session is None:
            session = _new_session(model_name)
            _sessions[model_name] = session
    return session


def _new_session(model_name: str):
    path = u2net.model_path(model_name)
    pipeline = model_pipeline(model_name, path) if path.exists() else "rembg"
    if pipeline == "u2net":
        return u2net.u2net_session(path, _runtime, _pool)
    if pipeline == "isnet":
        return isnet.IsnetSession(path, _runtime, _pool)
    from rembg import new_session  # rembg's catalogue, imported only when one of its models is asked for

    return new_session(model_name, providers=list(_runtime.providers))


def warm(model_names: Iterable[str]) -> None:
    """Load each model and run it once, so the first request pays nothing extra."""
    probe = Image.new("RGB", (64, 64), (128, 128, 128))
    for name in dict.fromkeys(model_names):
        _predict(session_for(name), name, probe)


def _predict(session, model_name: str, image: Image.Image) -> list[Image.Image]:
    """One run of the model, timed (core.metrics: inference time by model)."""
    with metrics.INFERENCE_SECONDS.labels(model_name).time():
        return session.predict(image)


def model_for(options: BgRemoveOptions, models: Mapping[str, str]) -> str:
    return models[options.mode.value]


def model_input_size(session) -> tuple[int, int] | None:
    """The (width, height) a model's ONNX graph takes, when it is fixed."""
    if isinstance(session, u2net.U2netSession):
        return session.input_size
    try:
        shape = session.inner_session.get_inputs()[0].shape  # [batch, channels, height, width]
    except (AttributeError, IndexError):
        return None
    if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
        return shape[3], shape[2]
    return None


def soft_mask(image: Image.Image, *, model_name: str) -> Image.Image:
    """The model's soft mask ("L") for `image`, at the image's size.

    The image is first box-reduced by an integer factor that keeps it at least
    REDUCE_MARGIN times the model's input on its short side, then resized to the model's
    input with LANCZOS exactly as rembg does; the session's own resize is then a no-op.
    """
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    session = session_for(model_name)
    size = model_input_size(session)
    side = min(size) if size else WORK_SIDE // 2
    factor = max(1, min(rgb.size) // (side * REDUCE_MARGIN))
    small = rgb.reduce(factor) if factor > 1 else rgb
    if size:
        small = small.resize(size, Image.Resampling.LANCZOS)
    [mask] = _predict(session, model_name, small)[:1]
    mask = mask.convert("L")
    # Upscale only this one channel, once, straight from the model's output (LANCZOS, as rembg).
    return mask.resize(image.size, Image.Resampling.LANCZOS) if mask.size != image.size else mask


def mask_strength(mask: Image.Image, strength: MaskStrength) -> Image.Image:
    lut = _STRENGTH_LUTS[strength]
    return mask if lut is None else mask.point(lut)


def mask_clean(mask: Image.Image) -> Image.Image:
    """Drop islands not connected to the main subject and fill small enclosed holes."""
    from scipy import ndimage  # only requests that ask for remove_artifacts pay for scipy

    alpha = np.asarray(mask, dtype=np.uint8).copy()
    solid = alpha > 127
    labels, count = ndimage.label(solid)
    if count > 1:
        areas = ndimage.sum_labels(solid, labels, index=np.arange(1, count + 1))
        keep = np.zeros(count + 1, dtype=bool)
        keep[1:] = areas >= ISLAND_FRACTION * areas.max()
        kept = keep[labels]
        islands = solid & ~kept
        # clear each island with its soft rim (2 px), but never the subject's own rim
        rim = ndimage.binary_dilation(islands, iterations=2) & ~ndimage.binary_dilation(kept, iterations=2)
        alpha[rim] = 0
        solid = alpha > 127
    holes, hole_count = ndimage.label(~solid)
    if hole_count > 1:
        border = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
        areas = ndimage.sum_labels(~solid, holes, index=np.arange(1, hole_count + 1))
        small = np.zeros(hole_count + 1, dtype=bool)
        small[1:] = areas < HOLE_FRACTION * max(int(solid.sum()), 1)
        small[border] = False
        alpha[small[holes]] = 255
    return Image.fromarray(alpha, "L")


def foreground_bbox(alpha: Image.Image) -> tuple[int, int, int, int]:
    box = alpha.point([0] * 128 + [255] * 128).getbbox()
    if box is None:
        return (0, 0, 0, 0)
    left, top, right, bottom = box
    return (left, top, right - left, bottom - top)


def apply_mask(image: Image.Image, mask: Image.Image) -> Image.Image:
    """RGBA with the full-size `mask` as alpha (multiplied with any alpha the image had).

    Straight alpha: partly transparent pixels keep their original colour. Fully
    transparent pixels are set to 0 so the PNG compresses better.
    """
    if image.mode == "RGBA":
        mask = ImageChops.multiply(mask, image.getchannel("A"))
        image = image.convert("RGB")
    keep = mask.point([0] + [255] * 255)  # 0 where fully transparent, else 255
    # min(channel, keep) zeroes the colour under alpha 0 and leaves the rest: three
    # single-band passes, 3x faster than a masked paste on a 12-megapixel image
    return Image.merge("RGBA", (*(ImageChops.darker(band, keep) for band in image.split()), mask))


def mask_for(image: Image.Image, *, options: BgRemoveOptions, model_name: str) -> Image.Image:
    """The final mask for `image`: the model's soft mask, cleaned if asked, then shaped."""
    mask = soft_mask(image, model_name=model_name)
    if options.remove_artifacts:
        mask = mask_clean(mask)
    return mask_strength(mask, options.strength)


def remove_background(image: Image.Image, *, options: BgRemoveOptions, models: Mapping[str, str]) -> Cutout:
    """Make the background of `image` (RGB or RGBA) transparent, per `options`."""
    model_name = model_for(options, models)
    mask = mask_for(image, options=options, model_name=model_name)
    cutout = apply_mask(image, mask)
    return Cutout(image=cutout, model=model_name, bbox=foreground_bbox(cutout.getchannel("A")))
