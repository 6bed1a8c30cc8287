"""Compositing primitives for Image Graphics (SPEC §5). Plain Pillow, no Django.

Every function takes and returns RGBA images and never changes its inputs. Colours are
(r, g, b, a) tuples parsed by `parse_color`.
"""

from __future__ import annotations

import re

from PIL import Image

from core.errors import OptionError

Color = tuple[int, int, int, int]
TRANSPARENT: Color = (0, 0, 0, 0)
_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def parse_color(value: object, field: str) -> Color:
    """`#rgb`, `#rrggbb` or `#rrggbbaa` -> (r, g, b, a)."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):  # fullmatch: `$` allows a trailing \n
        raise OptionError(field, f"must be a colour #rgb, #rrggbb or #rrggbbaa, got {value!r}")
    digits = value[1:]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    if len(digits) == 6:
        digits += "ff"
    return tuple(int(digits[i : i + 2], 16) for i in range(0, 8, 2))  # type: ignore[return-value]


def color_hex(color: Color) -> str:
    """The `#rrggbbaa` form of a colour: `parse_color(color_hex(c), ...) == c`."""
    return "#" + "".join(f"{channel:02x}" for channel in color)


def crop(image: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    return image.crop(box)


def fit_size(current: tuple[int, int], width: int | None, height: int | None) -> tuple[int, int]:
    """The target size; one missing side keeps the aspect ratio (rounded, at least 1)."""
    w, h = current
    if width and height:
        return width, height
    if width:
        return width, max(1, round(h * width / w))
    if height:
        return max(1, round(w * height / h)), height
    return w, h


def resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def centred(stage: tuple[int, int], item: tuple[int, int]) -> tuple[int, int]:
    return (stage[0] - item[0]) // 2, (stage[1] - item[1]) // 2


def stage_new(size: tuple[int, int], color: Color = TRANSPARENT) -> Image.Image:
    return Image.new("RGBA", size, color)


def paint(stage: Image.Image, color: Color) -> Image.Image:
    """`color` composited over the whole of `stage` (a transparent colour changes nothing)."""
    if color[3] == 0:
        return stage
    return Image.alpha_composite(stage, Image.new("RGBA", stage.size, color))


def place(stage: Image.Image, item: Image.Image, position: tuple[int, int]) -> Image.Image:
    """`item` composited over `stage` with its top-left at `position` (clipped at the edges)."""
    out = stage.copy()
    out.alpha_composite(item.convert("RGBA"), dest=(max(0, position[0]), max(0, position[1])),
                        source=(max(0, -position[0]), max(0, -position[1])))
    return out


def background_draw(stage: Image.Image, background: Image.Image, mode: str) -> Image.Image:
    """`stretch`: resized to the stage; `as-is`: natural size, centred, clipped."""
    if mode == "stretch":
        return place(stage, resize(background.convert("RGBA"), stage.size), (0, 0))
    return place(stage, background, centred(stage.size, background.size))


def border_draw(image: Image.Image, border: Image.Image) -> Image.Image:
    """The border image resized to `image` and composited over it."""
    return place(image, resize(border.convert("RGBA"), image.size), (0, 0))


def graphic_draw(
    image: Image.Image,
    graphic: Image.Image,
    *,
    position: tuple[int, int] | None,
    size: tuple[int, int] | None,
    color: Color | None,
) -> Image.Image:
    """A graphic resized to `size`, over a rectangle of `color` if given, at `position`
    (default: centred on `image`)."""
    graphic = resize(graphic.convert("RGBA"), size) if size else graphic.convert("RGBA")
    if color is not None:
        graphic = Image.alpha_composite(Image.new("RGBA", graphic.size, color), graphic)
    at = position if position is not None else centred(image.size, graphic.size)
    return place(image, graphic, at)
