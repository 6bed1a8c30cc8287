"""graphics.processing.images.LargeImageGate: one large image at a time per process,
small ones never held back, unreadable bytes left for the decoder to reject."""

from __future__ import annotations

import threading
import time

from graphics.processing.images import LargeImageGate
from tests.images import jpeg_bytes


def test_a_second_large_image_waits_and_a_small_one_does_not():
    gate = LargeImageGate(pixels=10_000, slots=1)
    large, small = jpeg_bytes("astronaut", (200, 200)), jpeg_bytes("astronaut", (50, 50))
    inside, release, order = threading.Event(), threading.Event(), []

    def first() -> None:
        with gate.turn(large):
            order.append("first in")
            inside.set()
            release.wait(10)
            order.append("first out")

    def second() -> None:
        with gate.turn(large):
            order.append("second in")

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(10)
    waiter = threading.Thread(target=second)
    waiter.start()
    time.sleep(0.3)
    assert order == ["first in"]  # the second large image waits
    with gate.turn(small):  # a small one passes at once
        order.append("small")
    with gate.turn(b"not an image"):  # unreadable bytes are not held back either
        order.append("unreadable")
    release.set()
    holder.join(10)
    waiter.join(10)
    assert order == ["first in", "small", "unreadable", "first out", "second in"]


def test_pixels_zero_means_no_limit():
    gate = LargeImageGate(pixels=0, slots=1)
    large = jpeg_bytes("astronaut", (200, 200))
    with gate.turn(large), gate.turn(large):
        pass
