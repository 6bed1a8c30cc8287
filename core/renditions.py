"""Renditions (SPEC §9): what a query asks for, what it comes to for one source, and the
pixels. Plain Python and Pillow, no Django.

`RenditionQuery.parse` checks the parameters (an OptionError names the bad one);
`RenditionQuery.plan` turns them, with the source's upright size and the client's
`Accept`, into a `RenditionPlan`: the exact output size, crop and format. Its `key` is the
normalised form: two queries that would make the same file have the same key (`w=5000`
on a 4000-pixel source is `w=4000`; `format=auto` is the format it resolves to), so the
service stores one file for both. `render` makes the file.

Decisions where the spec leaves room (docs/api.md repeats them):
- Unknown query parameters are ignored (a cache-busting `v=...` stays possible); a
  rendition is asked for when at least one of w, h, fit, format, q, bg is present.
- `format=auto` picks AVIF, then WebP, only when `Accept` names them (with a q above 0);
  `*/*` alone does not count, since browsers without WebP send it. Otherwise JPEG, or PNG
  when the source has an alpha channel (decided when the file is made: its key says
  `auto`).
- `fit=cover` with only one of w and h is `contain` (there is nothing to crop to). Asked
  for more than the source has, `cover` keeps the requested shape at the largest size the
  source can fill, so nothing is upscaled.
- With neither w nor h, the source's size, but never more than the max side.
- `bg` also accepts `rrggbb`/`rgb` without the `#` (a `#` in a URL must be sent as %23).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from core import metrics
from core.errors import OptionError
from core.imaging import image_load, image_open, to_8bit_rgb_or_rgba

PARAMETERS = ("w", "h", "fit", "format", "q", "bg")
FITS = ("contain", "cover", "fill")
FORMATS = ("auto", "webp", "avif", "jpeg", "png")
DEFAULT_QUALITY = 80
CONTENT_TYPES = {"webp": "image/webp", "avif": "image/avif", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"webp": ".webp", "avif": ".avif", "jpeg": ".jpg", "png": ".png"}
LOSSY = frozenset({"webp", "avif", "jpeg", "auto"})
_BG = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_INT = re.compile(r"[0-9]{1,6}")
_AVIF_SPEED = 8  # libavif's encoder speed (0 slowest .. 10): 8 makes a 256-px thumbnail in milliseconds


def wants_rendition(query: Mapping[str, object]) -> bool:
    return any(name in query for name in PARAMETERS)


def _whole(query: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str) or not _INT.fullmatch(raw) or not low <= int(raw) <= high:
        raise OptionError(name, f"must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def _choice(query: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = query.get(name, default)
    if raw not in choices:
        raise OptionError(name, f"must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def accepts(accept: str, mime: str) -> bool:
    """Whether the Accept header names `mime` with a q above 0."""
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        if fields[0].lower() != mime:
            continue
        for field in fields[1:]:
            name, _, value = field.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


@dataclass(frozen=True)
class RenditionQuery:
    """The parameters as asked (each checked); see `plan` for what they come to."""

    w: int | None = None
    h: int | None = None
    fit: str = "contain"
    format: str = "auto"
    q: int = DEFAULT_QUALITY
    bg: str | None = None  # "#rrggbb"

    @classmethod
    def parse(cls, query: Mapping[str, str], *, max_side: int) -> RenditionQuery:
        w = _whole(query, "w", 1, max_side)
        h = _whole(query, "h", 1, max_side)
        fit = _choice(query, "fit", FITS, "contain")
        fmt = _choice(query, "format", FORMATS, "auto")
        q = _whole(query, "q", 1, 100)
        bg = None
        if "bg" in query:
            raw = query["bg"]
            match = _BG.fullmatch(raw) if isinstance(raw, str) else None
            if match is None:
                raise OptionError("bg", f"must be a colour as #rgb or #rrggbb (send # as %23), got {raw!r}")
            digits = match.group(1).lower()
            bg = "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits))
        return cls(w=w, h=h, fit=fit, format=fmt, q=DEFAULT_QUALITY if q is None else q, bg=bg)

    def resolved_format(self, accept: str) -> str:
        """The format, with `auto` turned into avif or webp when `accept` allows; else
        `auto` stays (JPEG or PNG, decided by the source's alpha when it is made)."""
        if self.format != "auto":
            return self.format
        if accepts(accept, "image/avif"):
            return "avif"
        if accepts(accept, "image/webp"):
            return "webp"
        return "auto"

    def plan(self, *, width: int, height: int, accept: str, max_side: int) -> RenditionPlan:
        """What this query makes from a `width` x `height` (upright) source."""
        fit, w, h = self.fit, self.w, self.h
        crop: tuple[float, float, float, float] = (0.0, 0.0, float(width), float(height))
        if fit == "cover" and (w is None or h is None):
            fit = "contain"
        if fit == "fill":
            out = (w or width, h or height)
            if w is None and h is None:
                out = _contain(width, height, max_side, max_side)
        elif fit == "cover":
            assert w is not None and h is not None
            shrink = min(width / w, height / h, 1.0)  # never upscale: the largest w:h the source fills
            box_w, box_h = max(1, round(w * shrink)), max(1, round(h * shrink))
            scale = max(box_w / width, box_h / height)
            crop_w, crop_h = box_w / scale, box_h / scale
            left, top = (width - crop_w) / 2, (height - crop_h) / 2
            crop = (left, top, left + crop_w, top + crop_h)
            out = (box_w, box_h)
        else:
            out = _contain(width, height, min(w or max_side, width), min(h or max_side, height))
        fmt = self.resolved_format(accept)
        quality = self.q if fmt in LOSSY else None
        return RenditionPlan(fit=fit, width=out[0], height=out[1], crop=crop, format=fmt, quality=quality, bg=self.bg)


def _contain(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    scale = min(box_w / width, box_h / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(frozen=True)
class RenditionPlan:
    fit: str
    width: int
    height: int
    crop: tuple[float, float, float, float]  # the part of the upright source that is used
    format: str  # webp, avif, jpeg, png, or auto (JPEG, or PNG for a source with alpha)
    quality: int | None
    bg: str | None

    @property
    def key(self) -> str:
        """The normalised spec: equal for every query that makes the same file."""
        parts = [f"{self.width}x{self.height}", "cover" if self.fit == "cover" else "scale", self.format]
        if self.quality is not None:
            parts.append(f"q{self.quality}")
        if self.bg:
            parts.append("bg" + self.bg[1:])
        return "-".join(parts)


@dataclass(frozen=True)
class RenditionFile:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _srgb(image: Image.Image) -> Image.Image:
    """Colour to sRGB through the embedded ICC profile, when there is one; CMYK without
    one is converted by Pillow's formula."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target = ImageCms.createProfile("sRGB")
            mode = "RGBA" if image.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(image, source, target, outputMode=mode)
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: keep the numbers as they are
    return image


def decode_for(data: bytes, plan: RenditionPlan, *, max_pixels: int) -> Image.Image:
    """The upright source in 8-bit sRGB, decoded no larger than the plan needs (JPEG's
    DCT scaling: a 4000x3000 photo for a 256-pixel thumbnail decodes at 1/8 the size)."""
    image = image_open(io.BytesIO(data), max_pixels=max_pixels)
    if image.format in ("JPEG", "MPO"):
        left, top, right, bottom = plan.crop
        scale = max(plan.width / (right - left), plan.height / (bottom - top))
        need = (math.ceil(image.width * scale), math.ceil(image.height * scale))
        image_load(image, draft=need)
    else:
        image_load(image)
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block: keep the pixels as stored
        upright = image
    if upright.mode == "P" and "transparency" in upright.info:
        upright = upright.convert("RGBA")
    return to_8bit_rgb_or_rgba(_srgb(upright))


def render(data: bytes, plan: RenditionPlan, *, source_size: tuple[int, int], max_pixels: int) -> RenditionFile:
    """Make the rendition `plan` describes from the source file's bytes. `source_size` is
    the upright size the plan was made for (the crop is in its coordinates)."""
    image = decode_for(data, plan, max_pixels=max_pixels)
    factor_x, factor_y = image.width / source_size[0], image.height / source_size[1]
    left, top, right, bottom = plan.crop
    box = (left * factor_x, top * factor_y, right * factor_x, bottom * factor_y)
    if (plan.width, plan.height) != image.size or box != (0, 0, image.width, image.height):
        image = image.resize((plan.width, plan.height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    fmt = plan.format
    has_alpha = image.mode == "RGBA"
    if fmt == "auto":
        fmt = "png" if has_alpha else "jpeg"
    if has_alpha and (plan.bg or fmt == "jpeg"):
        flat = Image.new("RGB", image.size, plan.bg or "#ffffff")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    image.info = {}  # pixels are sRGB now; no profile, no metadata of the source
    buffer = io.BytesIO()
    quality = plan.quality or DEFAULT_QUALITY
    with metrics.ENCODE_SECONDS.labels(fmt).time():
        _save(image, buffer, fmt, quality)
    return RenditionFile(buffer.getvalue(), CONTENT_TYPES[fmt], EXTENSIONS[fmt], image.width, image.height)


def _save(image: Image.Image, buffer: io.BytesIO, fmt: str, quality: int) -> None:
    if fmt == "webp":
        image.save(buffer, "WEBP", quality=quality, method=4)
    elif fmt == "avif":
        image.save(buffer, "AVIF", quality=quality, speed=_AVIF_SPEED)
    elif fmt == "jpeg":
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=image.width * image.height > 100_000)
    else:
        image.save(buffer, "PNG", compress_level=6)
