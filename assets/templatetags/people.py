"""Words for people on the pages and in the admin: sizes as "2.3 MB", not byte counts.

The same rule as the pages' script (assets/static/web/words.js, `humanSize`): binary
multiples (1 MB = 1,048,576 bytes, so the default 50 MB upload limit reads "50 MB"), one
decimal below 100 of a unit, none when it is a whole number.
"""

from __future__ import annotations

from django import template

register = template.Library()

_UNITS = ("KB", "MB", "GB", "TB")


@register.filter
def human_size(size: int | None) -> str:
    """`size` bytes in words: "930 bytes", "225 KB", "2.3 MB"; "" when unknown."""
    if size is None:
        return ""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value, unit = float(size), ""
    for unit in _UNITS:
        value /= 1024
        if round(value) < 1024:  # 1,048,575 bytes is "1 MB", not "1024 KB"
            break
    rounded = round(value, 1) if value < 100 else round(value)
    if rounded == int(rounded):
        return f"{int(rounded)} {unit}"
    return f"{rounded} {unit}"


@register.simple_tag
def limit_attrs():
    """`data-` attributes with the upload and pixel limits (SPEC §7), which the pages'
    scripts check before sending a file, to say in words what the API would refuse."""
    from django.conf import settings
    from django.utils.html import format_html

    return format_html(
        'data-max-upload-bytes="{}" data-max-pixels="{}"', settings.ASSETS_MAX_UPLOAD_BYTES, settings.ASSETS_MAX_PIXELS
    )
