"""The rules of ids and names, defined once (SPEC §1), for the models, the validators, the
OpenAPI document and the Django-free request grammar of Image Graphics."""

from __future__ import annotations

import re

HEX32_PATTERN = r"^[0-9a-f]{32}$"  # asset and job ids: a UUID4 without dashes
CONVERSION_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,30}$"
RESERVED_CONVERSION_NAMES = frozenset({"original"})
MAX_ID = 2**63 - 1  # the largest id a database row (a data schema) can have
# The pixel cap (SPEC §7): the default of ASSETS_MAX_PIXELS for what is decoded, and the
# fixed cap of any image Image Graphics makes (subject, stage or graphic).
MAX_PIXELS = 50_000_000
MAX_SIDE = 10_000  # the longest side Image Graphics makes or accepts as a size

_HEX32 = re.compile(HEX32_PATTERN)
_CONVERSION_NAME = re.compile(CONVERSION_NAME_PATTERN)


def is_hex32(value: object) -> bool:
    """An asset or job id in form (fullmatch: `$` would allow a trailing newline)."""
    return isinstance(value, str) and bool(_HEX32.fullmatch(value))


def is_conversion_name(value: object) -> bool:
    """A name a conversion may be saved under: the pattern, and not a reserved name."""
    return isinstance(value, str) and bool(_CONVERSION_NAME.fullmatch(value)) and value not in RESERVED_CONVERSION_NAMES
