"""Rendition `<img>` attributes for the pages and the admin (SPEC §9).

An image drawn at up to `side` CSS pixels asks for a `side`-pixel rendition, and for a
`2 * side` one on high-density screens (`srcset` with `2x`). The sides come from a short
list, so the same renditions serve every page: 64/128 (admin lists, the upload page's
picker), 128/256 (admin inlines), 256/512 (the grid, conversions; 256 is the thumbnail the
worker makes after each upload), 512/1024 (an asset's main picture). The `2x` candidate is
left out when the source is no larger than `side`: the server never upscales, so it would
be the same image again, drawn at half the size.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()

SIDES = (64, 128, 256, 512, 1024)


def rendition_url(url: str, side: int) -> str:
    """A contain, format=auto rendition of `url` (a content URL) within side × side."""
    return f"{url}?w={side}&h={side}"


def rendition_srcset(url: str, side: int, width: int | None, height: int | None) -> tuple[str, str]:
    """(src, srcset) for an image of width × height drawn at up to `side` CSS pixels;
    srcset is "" when a 2x candidate would not be sharper."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    src = rendition_url(url, side)
    if max(width or 0, height or 0) <= side or side * 2 not in SIDES:
        return src, ""
    return src, f"{src} 1x, {rendition_url(url, side * 2)} 2x"


def contained(width: int | None, height: int | None, side: int) -> tuple[int, int]:
    """The size a contain rendition of width × height within side × side has (never
    upscaled), as the server computes it; (side, side) when the size is unknown."""
    if not width or not height:
        return side, side
    scale = min(side / width, side / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


@register.simple_tag
def rendition_attrs(url: str, side: int, width: int | None = None, height: int | None = None):
    """`src="…" srcset="…"` of a rendition of `url` drawn at up to `side` CSS pixels."""
    src, srcset = rendition_srcset(url, int(side), width, height)
    if not srcset:
        return format_html('src="{}"', src)
    return format_html('src="{}" srcset="{}"', src, srcset)
