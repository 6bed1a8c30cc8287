"""Reading the host out of an untrusted URL without raising. No Django."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def url_hostname(url: Any) -> str | None:
    """The lower-cased host of an http or https URL, or None when `url` is not one.

    `urlsplit` raises ValueError for a malformed IPv6 host ("http://[::1") and `.port`
    for a port outside 0-65535; both are "not a URL we fetch", never an exception.
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (only to raise for a bad port now, not at fetch time)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower()
