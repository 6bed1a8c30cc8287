"""HTTP requests to addresses that tenants choose (`image_url`s, webhook targets), safely.
Plain Python, no Django: `graphics.fetch` fetches images with it and `assets.webhooks`
delivers events with it, under the same rules.

- Only http and https URLs with a host (`url_hostname`).
- The host is resolved once and every address must be public: loopback, private,
  link-local, multicast, reserved and unspecified addresses are refused, and so are IPv6
  forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
  `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4, Teredo) when the address inside is not public,
  as rembg's own URL fetching does (`address_refusal`). `allow_private` lifts this check
  (tests, and a deployment that sends webhooks to its own network).
- The connection goes to the address that was checked (no second lookup an attacker could
  answer differently). Redirects are not followed.
- The time cap is on the whole request: name lookup, connect, TLS, sending, headers and
  body together. A socket timeout alone bounds each read, so a server that sends one byte
  a second would never trip it; here a timer shuts the connection down when the deadline
  passes, whatever the request is waiting for.
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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-dns")


class FetchError(Exception):
    """The request could not be made or answered; the message says why (it is shown to the
    tenant: a job's error list, a webhook delivery's error)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # at most the `max_bytes` asked for


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


def url_problem(url: Any, *, allow_private: bool, max_length: int = 2000) -> str | None:
    """Why `url` cannot be a target, from the URL alone (no name lookup), or None.

    It must be an ASCII http or https URL with a host, no spaces or control characters, at
    most `max_length` long. An IP-literal host and the names of this machine (`localhost`,
    `*.localhost`) are judged now; other names are resolved and checked each time a
    request is made."""
    if not isinstance(url, str) or not url:
        return "is required: an http or https URL"
    if len(url) > max_length:
        return f"is {len(url)} characters long; at most {max_length} are allowed"
    if not url.isascii() or not url.isprintable() or " " in url:
        return "must be an ASCII URL without spaces or control characters (a host name in punycode, xn--...)"
    host = url_hostname(url)
    if host is None:
        return "must be an http or https URL with a host, such as https://example.com/hooks"
    if allow_private:
        return None
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return f"{host} is this machine (loopback); use a public address"
    try:
        refusal = address_refusal(host)
    except ValueError:
        return None  # a name, not an address
    return f"{refusal}; use a public address" if refusal else None


def _remaining(deadline: float, url: str, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"{url} took longer than {timeout:g} s")
    return left


def _checked_address(host: str, port: int, *, wait: float, allow_private: bool) -> str:
    """Resolve `host` once (within `wait` seconds); every address must be public."""
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=wait)
    except FutureTimeout:
        raise FetchError(f"resolving {host} took longer than the request's time limit") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FetchError(f"{host} has no address")
    for address in addresses:
        refusal = None if allow_private else address_refusal(address)
        if refusal:
            raise FetchError(f"{host} resolves to {refusal}; refusing to connect to it")
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


def _read(response: http.client.HTTPResponse, url: str, max_bytes: int, *, truncate: bool) -> tuple[bytes, bool]:
    """The body (up to `max_bytes`), and whether it came whole (False: the connection ended
    before the length the answer announced)."""
    chunks, total = [], 0
    while chunk := response.read1(64 * 1024):
        total += len(chunk)
        if total > max_bytes:
            if truncate:
                chunks.append(chunk[: max_bytes - (total - len(chunk))])
                return b"".join(chunks), True
            raise FetchError(f"{url} is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks), not response.length


def _cut_when_late(sock: socket.socket, seconds: float) -> tuple[threading.Timer, threading.Event]:
    """A started timer that shuts the socket down after `seconds`, whatever the request is
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


def http_request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    max_bytes: int,
    truncate: bool = False,
    allow_private: bool = False,
) -> Answer:
    """Send one request to `url` and return the answer (any status), or raise FetchError.

    `timeout` bounds the whole exchange. The body read is capped at `max_bytes`: past it,
    FetchError, or with `truncate` the first `max_bytes` (for answers only glanced at)."""
    deadline = time.monotonic() + timeout
    host = url_hostname(url)
    if host is None:
        raise FetchError(f"{url!r} is not an http or https URL with a host")
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(host, port, wait=_remaining(deadline, url, timeout), allow_private=allow_private)
    try:
        sock = socket.create_connection((address, port), timeout=_remaining(deadline, url, timeout))
    except OSError as exc:
        raise FetchError(f"{url} could not be reached: {exc}") from None
    timer, expired = _cut_when_late(sock, _remaining(deadline, url, timeout))
    connection: http.client.HTTPConnection | None = None
    try:
        connection = _open(parts.scheme, host, port, sock, timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers={"Host": parts.netloc, **(headers or {})})
        response = connection.getresponse()
        data, whole = _read(response, url, max_bytes, truncate=truncate)
        if expired.is_set() or not whole:
            raise FetchError(f"{url} took longer than {timeout:g} s" if expired.is_set() else f"{url} ended early")
        return Answer(status=response.status, body=data)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set():
            raise FetchError(f"{url} took longer than {timeout:g} s") from None
        raise FetchError(f"{url} could not be reached: {exc}") from None
    finally:
        timer.cancel()
        if connection is not None:
            connection.close()
        sock.close()
