"""Fetching `graphics_add` images by URL, safely.

Only hosts listed in IMAGE_GRAPHICS_URL_HOSTS are fetched (the request is refused with a
400 before queueing otherwise). At fetch time the host is resolved once and every
address must be public: loopback, private, link-local, multicast, reserved and
unspecified addresses are refused, and the connection goes to the address that was
checked (no second lookup an attacker could answer differently). Redirects are not
followed. The body is capped at ASSETS_MAX_UPLOAD_BYTES and the whole fetch at
IMAGE_GRAPHICS_URL_TIMEOUT seconds.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urlsplit


class FetchError(Exception):
    """The URL could not be fetched; the message says why, for the job's error list."""


def _public_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise FetchError(f"{host} resolves to {ip}, a private or reserved address; refusing to fetch it")
    return addresses[0]


def fetch_url(url: str, *, allowed_hosts: frozenset[str], max_bytes: int, timeout: float) -> bytes:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or host not in allowed_hosts:
        raise FetchError(f"{url} is not on an allowed host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _public_address(host, port)
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((address, port), timeout=timeout)
    if parts.scheme == "https":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.sock = sock
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        connection.request("GET", target, headers={"Host": parts.netloc, "Accept": "image/*"})
        response = connection.getresponse()
        if response.status != 200:
            raise FetchError(f"{url} answered HTTP {response.status}")
        chunks, total = [], 0
        while chunk := response.read(64 * 1024):
            total += len(chunk)
            if total > max_bytes:
                raise FetchError(f"{url} is larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError(f"{url} took longer than {timeout} s")
            chunks.append(chunk)
        return b"".join(chunks)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{url} could not be fetched: {exc}") from None
    finally:
        connection.close()
