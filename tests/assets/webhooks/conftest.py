"""A real HTTP receiver for webhook tests, and helpers around it.

`receiver(answers)` starts an HTTP server on 127.0.0.1 (a thread of the test process) that
records every request it gets (headers and the raw body) and answers each with the next
of `answers`: a status code, or HANG (it sleeps past any time cap before answering). Once
the answers run out it repeats the last. Targets on 127.0.0.1 need WEBHOOK_ALLOW_PRIVATE,
which `allow_private` sets for the test process (workers get it in their environment).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook as Verifier

HANG = "hang"
HANG_SECONDS = 30


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    path: str

    def verified(self, secret: str) -> dict:
        """The payload, once `standardwebhooks` has verified the signature with `secret`
        (it raises WebhookVerificationError otherwise)."""
        return Verifier(secret).verify(self.body, self.headers)


class Receiver:
    def __init__(self, answers: list[int | str]):
        self.answers = list(answers)
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(Received(dict(self.headers.items()), body, self.path))
                    answer = receiver.answers[min(len(receiver.received), len(receiver.answers)) - 1]
                if answer == HANG:
                    receiver.stopping.wait(HANG_SECONDS)
                    answer = 200
                payload = b'{"received": true}' if answer < 300 else b"receiver says no"
                self.send_response(answer)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float, log: Callable[[], str] = lambda: "") -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"the receiver got {len(self.received)} of {count} requests in {timeout} s\n{log()}")
            time.sleep(0.05)
        return list(self.received)

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(answers: list[int | str] | None = None) -> Receiver:
        made.append(Receiver(answers or [200]))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True


def subscribe(client, url: str, events: list[str] | None = None) -> dict:
    """POST webhooks as `client` (an ADMIN); the 201 document, with its secret."""
    from assets.webhooks import EVENTS

    response = client.post("/api/v1/webhooks", {"url": url, "events": events or list(EVENTS)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()
