"""Fetching `graphics_add` images by URL, safely.

Only hosts listed in IMAGE_GRAPHICS_URL_HOSTS are fetched (the request is refused with a
400 before queueing otherwise). At fetch time the host is resolved once and every
address must be public: loopback, private, link-local, multicast, reserved and
unspecified addresses are refused, and so are IPv6 forms that carry an IPv4 address
(IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4,
Teredo) when the address inside is not public, as rembg's own URL fetching does. The
connection goes to the address that was checked (no second lookup an attacker could
answer differently). Redirects are not followed. The body is capped at
ASSETS_MAX_UPLOAD_BYTES.

The time cap (IMAGE_GRAPHICS_URL_TIMEOUT) is on the whole fetch: name lookup, connect,
TLS, headers and body together. A socket timeout alone bounds each read, so a server
that sends one byte a second would never trip it; here a timer shuts the connection
down when the deadline passes, whatever the fetch is waiting for.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from graphics.processing.urls import url_hostname

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-dns")


class FetchError(Exception):
    """The URL could not be fetched; the message says why, for the job's error list."""


def _not_public(ip: _IPAddress) -> bool:
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def address_refusal(address: str) -> str | None:
    """Why connecting to `address` is refused, or None when it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # deprecated (RFC 4291), never routed
            return f"{ip} is an IPv4-compatible IPv6 address (::a.b.c.d)"
        if ip in _NAT64_LOCAL:
            return f"{ip} is in the local-use NAT64 prefix 64:ff9b:1::/48"
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and _not_public(embedded):
            return f"{ip} carries the IPv4 address {embedded}, which is private, loopback or reserved"
    if _not_public(ip):
        return f"{ip} is a private, loopback, link-local or reserved address"
    return None


def _remaining(deadline: float, url: str, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"{url} took longer than {timeout} s")
    return left


def _checked_address(host: str, port: int, *, wait: float, allow_private: bool) -> str:
    """Resolve `host` once (within `wait` seconds); every address must be public."""
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=wait)
    except FutureTimeout:
        raise FetchError(f"resolving {host} took longer than the fetch's time limit") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FetchError(f"{host} has no address")
    for address in addresses:
        refusal = None if allow_private else address_refusal(address)
        if refusal:
            raise FetchError(f"{host} resolves to {refusal}; refusing to fetch it")
    return addresses[0]


def _open(scheme: str, host: str, port: int, sock: socket.socket, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection over the socket already connected to the checked address."""
    if scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout)
        connection.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock
    return connection


def _body(response: http.client.HTTPResponse, url: str, max_bytes: int) -> bytes:
    if response.status != 200:
        raise FetchError(f"{url} answered HTTP {response.status}")
    chunks, total = [], 0
    while chunk := response.read1(64 * 1024):
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(f"{url} is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _cut_when_late(sock: socket.socket, seconds: float) -> tuple[threading.Timer, threading.Event]:
    """A started timer that shuts the socket down after `seconds`, whatever the fetch is
    waiting for, and the event it sets when it did."""
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    return timer, expired


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
    deadline = time.monotonic() + timeout
    host = url_hostname(url)
    if host is None or host not in allowed_hosts:
        raise FetchError(f"{url} is not on an allowed host")
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(host, port, wait=_remaining(deadline, url, timeout), allow_private=allow_private)
    try:
        sock = socket.create_connection((address, port), timeout=_remaining(deadline, url, timeout))
    except OSError as exc:
        raise FetchError(f"{url} could not be fetched: {exc}") from None
    timer, expired = _cut_when_late(sock, _remaining(deadline, url, timeout))
    connection: http.client.HTTPConnection | None = None
    try:
        connection = _open(parts.scheme, host, port, sock, timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"Host": parts.netloc, "Accept": "image/*"})
        response = connection.getresponse()
        body = _body(response, url, max_bytes)
        if expired.is_set() or response.length:
            raise FetchError(f"{url} took longer than {timeout} s" if expired.is_set() else f"{url} ended early")
        return body
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set():
            raise FetchError(f"{url} took longer than {timeout} s") from None
        raise FetchError(f"{url} could not be fetched: {exc}") from None
    finally:
        timer.cancel()
        if connection is not None:
            connection.close()
        sock.close()
