"""Fetching `graphics_add` images by URL, safely.

Only hosts listed in IMAGE_GRAPHICS_URL_HOSTS are fetched (the request is refused with a
400 before queueing otherwise). Everything else is `core.outbound`'s, shared with webhook
deliveries: the host is resolved once and every address must be public, the connection
goes to the address that was checked, redirects are not followed, and the time cap
(IMAGE_GRAPHICS_URL_TIMEOUT) is on the whole fetch. Here the answer must be a 200, and
its body is capped at ASSETS_MAX_UPLOAD_BYTES.
"""

from __future__ import annotations

from core.outbound import FetchError, address_refusal, http_request, url_hostname

__all__ = ["FetchError", "address_refusal", "fetch_url"]


def fetch_url(
    url: str,
    *,
    allowed_hosts: frozenset[str],
    max_bytes: int,
    timeout: float,
    allow_private: bool = False,
) -> bytes:
    """GET `url` and return its body, or raise FetchError saying why not.

    `timeout` bounds the whole fetch. `allow_private` lifts the address check; only
    tests use it, to fetch from a server on 127.0.0.1.
    """
    host = url_hostname(url)
    if host is None or host not in allowed_hosts:
        raise FetchError(f"{url} is not on an allowed host")
    answer = http_request(
        url, headers={"Accept": "image/*"}, timeout=timeout, max_bytes=max_bytes, allow_private=allow_private
    )
    if answer.status != 200:
        raise FetchError(f"{url} answered HTTP {answer.status}")
    return answer.body
