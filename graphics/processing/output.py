"""Remove Background's output options (SPEC §10): parsing, and the pixels. No Django.

`OutputOptions.parse` checks the query parameters, each failure an OptionError naming
the parameter, and never looks at pixels. The work, in the order it happens:

1. `size` (`input_target`): the input is reduced before the model runs, to at most
   0.25 MP (`preview`) or 1.5 MP (`medium`), keeping its aspect ratio (JPEGs are decoded
   at a reduced DCT scale first: graphics.processing.images.decode_reduced).
2. `roi` (`roi_box`): the model runs on that rectangle of the (reduced) input only, and
   the cut-out is placed back on a transparent image of the input's size, so alpha is 0
   outside the rectangle. Pixel values are in the input's upright pixels (scaled with
   `size`); percentages are of the input's width (x) and height (y); the rectangle is
   clipped to the image, and one that lies wholly outside it leaves no subject.
3. `decontaminate`: the soft edge's colour is replaced by the estimated foreground colour
   (graphics.processing.decontaminate, imported only when asked for).
4. Geometry (`geometry`): the canvas is the image, or with `crop` the subject's box
   (alpha > 127, the `X-Foreground-*` box) grown by `crop_margin`; a margin beyond the
   image is transparent (or `bg_color`). `scale` resizes the subject so that it fills
   that fraction of the canvas on its tighter axis (its longest side relative to the
   canvas's); `position` puts the subject's box at `X% Y%` of the free space (CSS
   background-position: `0% 0%` top-left, `center` is `50% 50%`). `position=original`
   keeps the subject where it was; with `scale` it keeps the box's centre where it was.
   Without a subject (nothing over alpha 0.5) the whole image is kept as it is.
5. `channels=alpha`: the final alpha as a greyscale image. `bg_color`: the cut-out
   composited over the colour (opaque colours give an opaque RGB image). `format=jpg`:
   composited over `bg_color` (white when not given), then over white if that colour
   was translucent.
6. Encoding: PNG with the project's fast encoder (graphics.processing.images.png_encode);
   WebP lossless (exact: colours under transparent pixels are kept too); JPEG at quality
   JPEG_QUALITY, 4:2:0.

Combinations that cannot work are refused (a 400 naming the parameter in the second place):
`channels=alpha` with `bg_color` (a mask has no colour), with `format=jpg` (a lossy mask;
use png or webp), with `decontaminate=true` (no colours to recolour); `crop_margin`
without `crop=true`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageChops

from core import metrics
from core.errors import OptionError
from graphics.processing.background import Cutout, foreground_bbox
from graphics.processing.compose import Color
from graphics.processing.images import png_encode

PARAMETERS = (
    "format", "channels", "bg_color", "crop", "crop_margin", "scale", "position", "size", "roi", "decontaminate",
)
FORMATS = ("png", "webp", "jpg")
CHANNELS = ("rgba", "alpha")
SIZES = {"preview": 250_000, "medium": 1_500_000, "full": None}
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
EXTENSIONS = {"png": ".png", "webp": ".webp", "jpg": ".jpg"}
JPEG_QUALITY = 90
WEBP_METHOD = 0  # libwebp's lossless effort 0..6: 0 is several times faster, the file a little larger
WEBP_QUALITY = 25  # lossless: effort within the method (0..100), not fidelity
MARGIN_MAX_PX = 500
MARGIN_MAX_PERCENT = 50
SCALE_MIN_PERCENT = 10
ROI_MAX_PX = 1_000_000
WHITE: Color = (255, 255, 255, 255)

_COLOR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_PX = re.compile(r"([0-9]{1,7})(px)?")
_PERCENT = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,4})?)%")
_SEPARATOR = re.compile(r"[ ,]+")  # spaces (+ or %20 in a URL) or commas

Length = tuple[float, bool]  # (value, is a percentage)


def _choice(query: Mapping[str, str], name: str, choices, default: str) -> str:
    raw = query.get(name, default)
    if raw not in choices:
        raise OptionError(name, f"must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _bool(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "false")
    value = raw.lower() if isinstance(raw, str) else raw
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise OptionError(name, f"must be true or false, got {raw!r}")


def _parts(raw: object, name: str, counts: tuple[int, ...], shape: str) -> list[str]:
    parts = _SEPARATOR.split(raw) if isinstance(raw, str) else []
    if len(parts) not in counts or not all(parts):
        raise OptionError(name, f"must be {shape}, got {raw!r}")
    return parts


def parse_color(raw: object, name: str) -> Color:
    """`#rgb`, `#rrggbb` or `#rrggbbaa` (the `#` may be left out: in a URL it is %23)."""
    match = _COLOR.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise OptionError(name, f"must be a colour #rgb, #rrggbb or #rrggbbaa (send # as %23), got {raw!r}")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    if len(digits) == 6:
        digits += "ff"
    return tuple(int(digits[i : i + 2], 16) for i in range(0, 8, 2))  # type: ignore[return-value]


def _length(part: str, name: str, *, max_px: int, max_percent: float, what: str) -> Length:
    if match := _PX.fullmatch(part):
        value = int(match.group(1))
        if value > max_px:
            raise OptionError(name, f"{part!r} is over {max_px} px; {what}")
        return float(value), False
    if match := _PERCENT.fullmatch(part):
        value = float(match.group(1))
        if value > max_percent:
            raise OptionError(name, f"{part!r} is over {max_percent:g} %; {what}")
        return value, True
    raise OptionError(name, f"{part!r} is not a length: use a whole number of pixels (10 or 10px) or a percentage (5%); {what}")


def _margin(raw: object) -> tuple[Length, Length, Length, Length]:
    """1, 2 or 4 values in CSS order -> (top, right, bottom, left)."""
    what = f"crop_margin takes 1, 2 or 4 values, each at most {MARGIN_MAX_PX}px or {MARGIN_MAX_PERCENT}%"
    parts = _parts(raw, "crop_margin", (1, 2, 4), "1, 2 or 4 lengths (10px, 5%) separated by spaces")
    values = [_length(p, "crop_margin", max_px=MARGIN_MAX_PX, max_percent=MARGIN_MAX_PERCENT, what=what) for p in parts]
    if len(values) == 1:
        values *= 4
    elif len(values) == 2:
        values = [values[0], values[1], values[0], values[1]]
    return tuple(values)  # type: ignore[return-value]


def _scale(raw: object) -> float | None:
    if raw == "original":
        return None
    match = _PERCENT.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or not SCALE_MIN_PERCENT <= float(match.group(1)) <= 100:
        raise OptionError("scale", f"must be original or a percentage from {SCALE_MIN_PERCENT}% to 100%, got {raw!r}")
    return float(match.group(1)) / 100


def _position(raw: object) -> tuple[float, float] | str:
    if raw == "original":
        return "original"
    if raw == "center":
        return (0.5, 0.5)
    shape = "original, center, or X% Y% (each 0% to 100%; one value is both)"
    values = []
    for part in _parts(raw, "position", (1, 2), shape):
        match = _PERCENT.fullmatch(part)
        if match is None or float(match.group(1)) > 100:
            raise OptionError("position", f"must be {shape}, got {raw!r}")
        values.append(float(match.group(1)) / 100)
    return (values[0], values[-1])


def _roi(raw: object) -> tuple[Length, Length, Length, Length]:
    what = "roi is x1 y1 x2 y2, each in pixels (120 or 120px) or percent (0% to 100%)"
    parts = _parts(raw, "roi", (4,), "four values x1 y1 x2 y2 (pixels or percentages)")
    values = [_length(p, "roi", max_px=ROI_MAX_PX, max_percent=100, what=what) for p in parts]
    (x1, x1p), (y1, y1p), (x2, x2p), (y2, y2p) = values
    if (x1p == x2p and x1 >= x2) or (y1p == y2p and y1 >= y2):
        raise OptionError("roi", f"x2 must be beyond x1 and y2 beyond y1, got {raw!r}")
    return tuple(values)  # type: ignore[return-value]


@dataclass(frozen=True)
class OutputOptions:
    format: str = "png"
    channels: str = "rgba"
    bg_color: Color | None = None
    crop: bool = False
    crop_margin: tuple[Length, Length, Length, Length] = ((0.0, False),) * 4  # top, right, bottom, left
    scale: float | None = None  # a fraction; None: original
    position: tuple[float, float] | str | None = None  # fractions of the free space, "original", or None: not given
    size: str = "full"
    roi: tuple[Length, Length, Length, Length] | None = None
    decontaminate: bool = False

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> OutputOptions:
        """Check the SPEC §10 parameters of `query` (others are left alone), each failure an
        OptionError naming the parameter; then the combinations that cannot work."""
        fmt = _choice(query, "format", FORMATS, "png")
        channels = _choice(query, "channels", CHANNELS, "rgba")
        bg_color = parse_color(query["bg_color"], "bg_color") if "bg_color" in query else None
        crop = _bool(query, "crop")
        margin = _margin(query["crop_margin"]) if "crop_margin" in query else cls.crop_margin
        scale = _scale(query.get("scale", "original"))
        position = _position(query["position"]) if "position" in query else None
        size = _choice(query, "size", tuple(SIZES), "full")
        roi = _roi(query["roi"]) if "roi" in query else None
        decontaminate = _bool(query, "decontaminate")
        if channels == "alpha":
            if bg_color is not None:
                raise OptionError("bg_color", "cannot go with channels=alpha: the mask has no colour; leave bg_color out")
            if fmt == "jpg":
                raise OptionError("format", "jpg cannot carry the mask exactly; with channels=alpha use png or webp")
            if decontaminate:
                raise OptionError("decontaminate", "recolours the edge, and channels=alpha returns no colour; leave it out")
        if "crop_margin" in query and not crop:
            raise OptionError("crop_margin", "is the margin kept when cropping; add crop=true or leave crop_margin out")
        return cls(fmt, channels, bg_color, crop, margin, scale, position, size, roi, decontaminate)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def max_pixels(self) -> int | None:
        """The most pixels the input keeps before the model runs (None: all)."""
        return SIZES[self.size]


# --- 1. size ------------------------------------------------------------------------------------


def input_target(size: tuple[int, int], max_pixels: int | None) -> tuple[int, int]:
    """The size an input of `size` is reduced to: at most `max_pixels`, the same aspect ratio."""
    width, height = size
    if max_pixels is None or width * height <= max_pixels:
        return size
    factor = math.sqrt(max_pixels / (width * height))
    target = (max(1, math.floor(width * factor)), max(1, math.floor(height * factor)))
    while target[0] * target[1] > max_pixels:  # floor keeps it under the limit but for 1-pixel sides
        target = (max(1, target[0] - 1), max(1, target[1] - 1))
    return target


# --- 2. roi and the cut-out ---------------------------------------------------------------------


def roi_box(
    roi: tuple[Length, Length, Length, Length] | None, *, original: tuple[int, int], work: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """The roi in the work image's pixels (x1, y1, x2, y2), clipped to it; None without roi.
    Pixel values are in the original input's pixels; an empty box means no subject."""
    if roi is None:
        return None
    sides = (work[0], work[1], work[0], work[1])
    ratios = (work[0] / original[0], work[1] / original[1]) * 2
    box = []
    for (value, percent), side, ratio in zip(roi, sides, ratios):
        position = value / 100 * side if percent else value * ratio
        box.append(min(side, max(0, round(position))))
    x1, y1, x2, y2 = box
    return (x1, y1, max(x1, x2), max(y1, y2))


@dataclass(frozen=True)
class Layer:
    """The cut-out at the work image's size (RGBA, straight alpha) and its subject's box."""

    image: Image.Image
    model: str
    bbox: tuple[int, int, int, int]


def cut_out(
    image: Image.Image, *, roi: tuple[int, int, int, int] | None, model: str, remove: Callable[[Image.Image], Cutout]
) -> Layer:
    """Run `remove` on the image, or on its `roi` only, placed back on a transparent image."""
    if roi is None:
        cutout = remove(image)
        return Layer(cutout.image, cutout.model, cutout.bbox)
    x1, y1, x2, y2 = roi
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    if x2 <= x1 or y2 <= y1:  # wholly outside the image: nothing may be the subject
        return Layer(layer, model, (0, 0, 0, 0))
    cutout = remove(image.crop(roi))
    layer.paste(cutout.image, (x1, y1))
    left, top, width, height = cutout.bbox
    return Layer(layer, cutout.model, (left + x1, top + y1, width, height) if width else (0, 0, 0, 0))


# --- 3. decontamination -------------------------------------------------------------------------


def decontaminate(image: Image.Image, layer: Layer) -> Layer:
    """The soft edge recoloured with the estimated foreground colour; `image` is the input
    (its background colours are what the estimate takes out)."""
    from graphics.processing.decontaminate import estimate_foreground  # scipy only for those who ask

    alpha = layer.image.getchannel("A")
    rgb = np.asarray(image.convert("RGB") if image.mode != "RGB" else image)
    foreground = Image.fromarray(estimate_foreground(rgb, np.asarray(alpha)), "RGB")
    keep = alpha.point([0] + [255] * 255)  # colour under alpha 0 stays 0, as in every cut-out
    bands = [ImageChops.darker(band, keep) for band in foreground.split()]
    return Layer(Image.merge("RGBA", (*bands, alpha)), layer.model, layer.bbox)


# --- 4. geometry --------------------------------------------------------------------------------


def _margin_px(margin: tuple[Length, ...], box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """(top, right, bottom, left) in pixels: percentages of the subject's height (top,
    bottom) and width (right, left)."""
    _, _, width, height = box
    sides = (height, width, height, width)
    return tuple(round(v / 100 * side) if percent else int(v) for (v, percent), side in zip(margin, sides))  # type: ignore[return-value]


def geometry(layer: Layer, options: OutputOptions) -> Layer:
    """Crop, scale and position (step 4); the box is given in the new image's pixels."""
    position = options.position
    if position is None:  # not given: scale implies center
        position = "original" if options.scale is None else (0.5, 0.5)
    if not (options.crop or options.scale is not None or position != "original"):
        return layer
    left, top, width, height = layer.bbox
    if width == 0:
        return layer  # no subject: nothing to crop to, scale or place
    image = layer.image
    if options.crop:
        m_top, m_right, m_bottom, m_left = _margin_px(options.crop_margin, layer.bbox)
        canvas = (left - m_left, top - m_top, left + width + m_right, top + height + m_bottom)
    else:
        canvas = (0, 0, image.width, image.height)
    canvas_w, canvas_h = canvas[2] - canvas[0], canvas[3] - canvas[1]
    f = 1.0 if options.scale is None else options.scale * min(canvas_w / width, canvas_h / height)
    sub_left, sub_top = left - canvas[0], top - canvas[1]  # the box in canvas coordinates
    if position == "original":  # the box's centre stays
        new_left = sub_left + width / 2 - width * f / 2
        new_top = sub_top + height / 2 - height * f / 2
    else:
        new_left = position[0] * (canvas_w - width * f)
        new_top = position[1] * (canvas_h - height * f)
    if f == 1.0:  # a whole-pixel move: the pixels are copied exactly
        dx, dy = round(new_left) - sub_left, round(new_top) - sub_top
        x0, y0 = canvas[0] - dx, canvas[1] - dy
        out = image.crop((x0, y0, x0 + canvas_w, y0 + canvas_h))  # outside the image: (0, 0, 0, 0)
        return Layer(out, layer.model, foreground_bbox(out.getchannel("A")))
    # an image pixel x lands on x' = f * (x - left) + new_left of the canvas
    shift_x, shift_y = new_left - f * left, new_top - f * top
    dx0, dy0 = max(0, math.floor(shift_x)), max(0, math.floor(shift_y))
    dx1 = min(canvas_w, math.ceil(shift_x + f * image.width))
    dy1 = min(canvas_h, math.ceil(shift_y + f * image.height))
    out = Image.new("RGBA", (canvas_w, canvas_h), (0, 0, 0, 0))
    if dx1 > dx0 and dy1 > dy0:
        source = (
            max(0.0, (dx0 - shift_x) / f),
            max(0.0, (dy0 - shift_y) / f),
            min(float(image.width), (dx1 - shift_x) / f),
            min(float(image.height), (dy1 - shift_y) / f),
        )
        part = image.resize((dx1 - dx0, dy1 - dy0), Image.Resampling.LANCZOS, box=source)
        out.paste(part, (dx0, dy0))
    return Layer(out, layer.model, foreground_bbox(out.getchannel("A")))


# --- 5, 6. colour and encoding ------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    data: bytes
    content_type: str
    width: int
    height: int
    bbox: tuple[int, int, int, int]  # the subject's box in the output's pixels
    model: str
    extension: str = field(default=".png")


def _over(image: Image.Image, color: Color) -> Image.Image:
    """`image` (RGBA) composited over `color`; RGB when the result is opaque."""
    out = Image.alpha_composite(Image.new("RGBA", image.size, color), image)
    return out.convert("RGB") if color[3] == 255 else out


def flatten(image: Image.Image, options: OutputOptions) -> Image.Image:
    """Step 5: the image as it is encoded (L, RGB or RGBA)."""
    if options.channels == "alpha":
        return image.getchannel("A")
    if options.format == "jpg":
        color = options.bg_color or WHITE
        image = _over(image, color)
        return image if image.mode == "RGB" else _over(image, WHITE)
    if options.bg_color is not None:
        return _over(image, options.bg_color)
    return image


def encode(image: Image.Image, fmt: str, *, png_level: int) -> bytes:
    if fmt == "png":
        return png_encode(image, level=png_level)
    buffer = io.BytesIO()
    with metrics.ENCODE_SECONDS.labels(fmt).time():  # png_encode times itself
        if fmt == "webp":
            image.save(buffer, "WEBP", lossless=True, exact=True, method=WEBP_METHOD, quality=WEBP_QUALITY)
        else:
            image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def render_output(image: Image.Image, layer: Layer, options: OutputOptions, *, png_level: int = 2) -> Rendered:
    """Steps 3 to 6 on the cut-out `layer` of the work image `image`."""
    if options.decontaminate:
        layer = decontaminate(image, layer)
    layer = geometry(layer, options)
    final = flatten(layer.image, options)
    data = encode(final, options.format, png_level=png_level)
    return Rendered(
        data=data,
        content_type=options.content_type,
        width=final.width,
        height=final.height,
        bbox=layer.bbox,
        model=layer.model,
        extension=options.extension,
    )
