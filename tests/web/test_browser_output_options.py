"""The upload page's output options (SPEC §10) in a real browser (Chromium through
Playwright, as tests/web/test_browser.py), with the real model: format, background
colour, crop to the subject with a margin, and size, sent as query parameters to the
Remove Background endpoint; the result is shown on its colour, or over the checkerboard
when it can be transparent.

Screenshots (desktop 1280 x 900 and phone 390 x 844) go to test-output/screenshots/.
"""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from assets.models import Role
from graphics.processing import background, images
from tests.images import jpeg_bytes
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    RESULT,
    SCREENSHOTS,
    TIMEOUT_MS,
    UPLOAD,
    browser,
    download,
    log_in,
    page,
    shot,
    wait_for_result,
    write_file,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MODELS = {"auto": "u2netp", "portrait": "u2netp", "product": "u2netp"}
COLOUR = (0x2E, 0x8B, 0x57)  # seagreen
MARGIN = 24


def wait_for_result_image(tab: Page, previous: str | None = None) -> dict:
    """The result image (another one than `previous`, its earlier src) has loaded; its
    natural size."""
    tab.wait_for_function(
        "([sel, previous]) => { const i = document.querySelector(sel);"
        " return !!i && !!i.src && i.src !== previous && i.complete && i.naturalWidth > 0; }",
        arg=[RESULT, previous],
    )
    return tab.evaluate(
        "(sel) => { const i = document.querySelector(sel); return {width: i.naturalWidth, height: i.naturalHeight, src: i.src}; }",
        RESULT,
    )


def submit_and_capture(tab: Page):
    """Click submit; the endpoint's response (its URL and headers), and the src of the
    result shown before it."""
    previous = tab.evaluate("(sel) => document.querySelector(sel).src", RESULT)
    with tab.expect_response(lambda response: urlparse(response.url).path == UPLOAD) as info:
        tab.get_by_role("button", name="Remove background").click()
    info.value.previous = previous
    return info.value


def test_jpeg_on_a_colour_cropped_with_a_margin(page, make_user, tmp_path):  # noqa: F811
    user, _ = make_user(Role.USER)
    photo = jpeg_bytes("astronaut")  # skimage's astronaut, 512 x 512
    log_in(page, user)
    page.locator("#image").set_input_files(str(write_file(tmp_path, "astronaut.jpg", photo)))
    expect(page.locator("#file-dimensions")).to_have_text("512 × 512 px")
    wait_for_result(page, 512)  # picked: previewed at once with the default options

    # the margin is only editable when cropping; JPEG explains its white background
    expect(page.get_by_label("Margin")).to_be_disabled()
    page.get_by_label("Format").select_option("jpg")
    expect(page.locator("#format-hint")).to_be_visible()
    expect(page.locator("#background-none-label")).to_have_text("None (white)")
    page.get_by_label("Background colour").fill("#%02x%02x%02x" % COLOUR)
    expect(page.get_by_label("Colour", exact=True)).to_be_checked()  # picking a colour chooses it
    page.get_by_label("Crop to the subject").check()
    page.get_by_label("Margin").fill(f"{MARGIN}px")
    shot(page, "30-output-options-chosen")

    response = submit_and_capture(page)
    assert response.status == 200, response.text()
    query = parse_qs(urlparse(response.url).query)
    assert query["format"] == ["jpg"]
    assert query["bg_color"] == ["#%02x%02x%02x" % COLOUR]
    assert query["crop"] == ["true"] and query["crop_margin"] == [f"{MARGIN}px"]
    assert "size" not in query  # full size is the default and is left out
    assert response.headers["content-type"] == "image/jpeg"
    shown = wait_for_result_image(page, response.previous)

    # the expected crop: the subject's box of the same photograph, grown by the margin
    cutout = background.remove_background(
        images.decode(photo, max_pixels=50_000_000), options=background.BgRemoveOptions(), models=MODELS
    )
    _, _, box_width, box_height = cutout.bbox
    expected_size = (box_width + 2 * MARGIN, box_height + 2 * MARGIN)
    assert (shown["width"], shown["height"]) == expected_size
    assert (int(response.headers["x-width"]), int(response.headers["x-height"])) == expected_size

    name, body = download(page)
    assert name == "astronaut_bg_removed.jpg"
    expect(page.locator("#download")).to_have_text("Download JPEG")
    expect(page.locator("#result-facts")).to_contain_text(f"JPEG · {expected_size[0]} × {expected_size[1]} px")
    with Image.open(io.BytesIO(body)) as result:
        assert result.format == "JPEG" and result.mode == "RGB"  # opaque: no alpha at all
        assert result.size == expected_size
        pixels = np.asarray(result, dtype=np.int64)
    # the colour in every corner (the margin around the subject), within JPEG's error
    for corner in (pixels[:8, :8], pixels[:8, -8:], pixels[-8:, :8], pixels[-8:, -8:]):
        assert np.abs(corner - np.array(COLOUR)).max() <= 12, corner.mean(axis=(0, 1))
    # and the subject in the middle, not the colour
    middle = pixels[pixels.shape[0] // 3: 2 * pixels.shape[0] // 3, pixels.shape[1] // 3: 2 * pixels.shape[1] // 3]
    assert np.abs(middle - np.array(COLOUR)).sum(axis=2).mean() > 60

    # shown on its colour, not over the checkerboard
    backdrop = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('#result-compare-backdrop'));"
        " return {image: s.backgroundImage, colour: s.backgroundColor}; }"
    )
    assert backdrop["image"] == "none"
    assert backdrop["colour"] == "rgb(%d, %d, %d)" % COLOUR
    page.locator("#result").scroll_into_view_if_needed()
    expect(page.locator("#result-compare-control")).to_be_hidden()  # cropped: another shape, shown side by side
    shot(page, "31-output-jpeg-on-colour-cropped")

    # a transparent WebP preview: over the checkerboard again, at most 0.25 MP
    page.get_by_label("Format").select_option("webp")
    page.get_by_label("Transparent").check()
    page.get_by_label("Crop to the subject").uncheck()
    expect(page.get_by_label("Margin")).to_be_disabled()
    page.get_by_label("Size").select_option("preview")
    response = submit_and_capture(page)
    assert response.status == 200 and response.headers["content-type"] == "image/webp"
    query = parse_qs(urlparse(response.url).query)
    assert query["format"] == ["webp"] and query["size"] == ["preview"]
    assert "bg_color" not in query and "crop" not in query and "crop_margin" not in query
    page.wait_for_function("() => document.querySelector('#download').download.endsWith('.webp')")
    shown = wait_for_result_image(page, response.previous)
    assert shown["width"] * shown["height"] <= 250_000 and shown["width"] == shown["height"]
    name, body = download(page)
    assert name == "astronaut_bg_removed.webp"
    with Image.open(io.BytesIO(body)) as result:
        assert result.format == "WEBP" and result.mode == "RGBA"
        low, high = result.getchannel("A").getextrema()
        assert low == 0 and high == 255
    checks = page.evaluate("getComputedStyle(document.querySelector('#result-compare-backdrop')).backgroundImage")
    assert "linear-gradient" in checks


def test_the_output_options_on_a_phone(browser, live_server, make_user, tmp_path):  # noqa: F811
    user, _ = make_user(Role.CREATOR)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    phone = context.new_page()
    phone.base = live_server.url
    try:
        log_in(phone, user)
        phone.locator("#image").set_input_files(str(write_file(tmp_path, "chelsea.jpg", jpeg_bytes("chelsea"))))
        wait_for_result(phone, 451)
        phone.get_by_label("Format").select_option("jpg")
        phone.get_by_label("Background colour").fill("#ffd54f")
        phone.get_by_label("Crop to the subject").check()
        phone.get_by_label("Margin").fill("5%")
        # nothing is wider than the screen
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.locator("#output-options").screenshot(path=str(SCREENSHOTS / "32-output-options-phone.png"))
        response = submit_and_capture(phone)
        assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
        shown = wait_for_result_image(phone, response.previous)
        width = phone.evaluate("(sel) => document.querySelector(sel).getBoundingClientRect().width", RESULT)
        assert width <= 390 and shown["width"] > 0
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        shot(phone, "33-output-result-phone")
    finally:
        context.close()
