"""Fetching `image_url`s: the time cap covers the whole fetch, and every address form
that reaches a private, loopback or reserved host is refused. Real servers on 127.0.0.1
(threads with a listening socket); `allow_private` lets the fetch reach them, which only
tests do. No database."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from graphics.fetch import FetchError, address_refusal, fetch_url
from core.errors import OptionError
from graphics.processing.request import parse_request
from tests.images import png_bytes

LOCAL = frozenset({"127.0.0.1"})


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """server(handler) -> port: a socket server on 127.0.0.1 that runs `handler(connection)`
    on a thread per connection. Everything is closed when the test ends."""
    listeners: list[socket.socket] = []

    def start(handler: Callable[[socket.socket], None]) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=_serve, args=(handler, connection), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return listener.getsockname()[1]

    yield start
    for listener in listeners:
        listener.close()


def _serve(handler: Callable[[socket.socket], None], connection: socket.socket) -> None:
    with connection:
        try:
            connection.recv(65536)  # the request
            handler(connection)
        except OSError:
            pass  # the client hung up: what a cut fetch does


def drip(payload: bytes, interval: float = 1.0) -> Callable[[socket.socket], None]:
    """Send `payload` one byte per `interval` seconds."""

    def handler(connection: socket.socket) -> None:
        for byte in payload:
            connection.sendall(bytes([byte]))
            time.sleep(interval)

    return handler


def whole(payload: bytes) -> Callable[[socket.socket], None]:
    return lambda connection: connection.sendall(payload)


def http_response(body: bytes, content_type: str = "image/png") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


def timed_fetch(port: int, *, timeout: float, max_bytes: int = 10_000_000) -> tuple[float, bytes | FetchError]:
    started = time.monotonic()
    try:
        result: bytes | FetchError = fetch_url(
            f"http://127.0.0.1:{port}/logo.png", allowed_hosts=LOCAL, max_bytes=max_bytes, timeout=timeout, allow_private=True
        )
    except FetchError as exc:
        result = exc
    return time.monotonic() - started, result


# --- the time cap --------------------------------------------------------------------------------


def test_a_body_dripping_one_byte_a_second_is_cut_at_the_time_cap(server):
    body = png_bytes(size=(8, 8))
    head = http_response(body)[: -len(body)]
    port = server(lambda c: (c.sendall(head), drip(body)(c)))
    elapsed, result = timed_fetch(port, timeout=2)
    assert isinstance(result, FetchError) and "longer than 2" in str(result)
    assert 1.9 < elapsed < 3.0, f"the fetch took {elapsed:.1f} s with a 2 s cap"


def test_headers_dripping_one_byte_a_second_are_cut_at_the_time_cap(server):
    port = server(drip(http_response(png_bytes(size=(8, 8)))))
    elapsed, result = timed_fetch(port, timeout=2)
    assert isinstance(result, FetchError) and "longer than 2" in str(result)
    assert elapsed < 3.0, f"the fetch took {elapsed:.1f} s with a 2 s cap"


def test_a_server_that_never_answers_is_cut_at_the_time_cap(server):
    port = server(lambda connection: time.sleep(10))
    elapsed, result = timed_fetch(port, timeout=1)
    assert isinstance(result, FetchError)
    assert elapsed < 2.0


def test_a_prompt_server_is_fetched_whole(server):
    body = png_bytes(size=(16, 16))
    port = server(whole(http_response(body)))
    elapsed, result = timed_fetch(port, timeout=5)
    assert result == body
    assert elapsed < 2.0


def test_a_body_over_the_size_cap_is_refused(server):
    port = server(whole(http_response(b"\x00" * 200_000)))
    _, result = timed_fetch(port, timeout=5, max_bytes=100_000)
    assert isinstance(result, FetchError) and "larger than 100000 bytes" in str(result)


def test_a_body_shorter_than_its_content_length_is_refused(server):
    port = server(whole(http_response(b"\x00" * 1000)[:-400]))
    _, result = timed_fetch(port, timeout=5)
    assert isinstance(result, FetchError)


# --- the address check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address, why",
    [
        ("127.0.0.1", "private, loopback"),
        ("10.1.2.3", "private, loopback"),
        ("169.254.169.254", "private, loopback"),  # cloud metadata
        ("100.64.0.1", "private, loopback"),  # carrier-grade NAT
        ("0.0.0.0", "private, loopback"),
        ("::1", "private, loopback"),
        ("fe80::1", "private, loopback"),
        ("fd00::1", "private, loopback"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("::8.8.8.8", "IPv4-compatible"),  # deprecated and never routed, whatever it embeds
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a01:203", "10.1.2.3"),  # NAT64 of a private address
        ("64:ff9b:1::1", "local-use NAT64"),
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4 of 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),  # Teredo, client 127.0.0.1
    ],
)
def test_every_form_of_a_private_address_is_refused(address, why):
    refusal = address_refusal(address)
    assert refusal is not None and why in refusal


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[::ffff:127.0.0.1]", "127.0.0.1"])
def test_fetching_a_private_address_form_is_refused_before_connecting(server, host):
    connected = threading.Event()
    port = server(lambda connection: connected.set())
    literal = host.strip("[]")
    with pytest.raises(FetchError, match="refusing to connect to it"):
        fetch_url(f"http://{host}:{port}/x.png", allowed_hosts=frozenset({literal}), max_bytes=1000, timeout=2)
    assert not connected.wait(0.2)


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1/x.png", "http://example.com:99999/x.png", "http://:80/"])
def test_a_malformed_image_url_is_an_option_error_not_an_exception(url):
    body = {
        "assets": [{"0" * 32: {}}],
        "operations": [{"graphics_add": {"graphics": [{"type": "image", "options": {"image_url": url}}]}}],
    }
    with pytest.raises(OptionError) as refused:
        parse_request(body, allowed_url_hosts=frozenset({"example.com"}))
    assert refused.value.field.endswith("image_url")
    with pytest.raises(FetchError, match="not on an allowed host"):
        fetch_url(url, allowed_hosts=frozenset({"example.com", "::1"}), max_bytes=1000, timeout=1)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://[::1", "http://[::1]:99999/x.png"])
def test_a_malformed_image_url_through_the_api_is_a_400_naming_it(client_for, url):
    client = client_for("CREATOR")
    client.raise_request_exception = False
    body = {
        "assets": [{"0" * 32: {}}],
        "operations": [{"graphics_add": {"graphics": [{"type": "image", "options": {"image_url": url}}]}}],
    }
    response = client.post("/api/v1/assets/addons/image_graphics", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["operations[0].graphics_add.graphics[0].options.image_url"]
