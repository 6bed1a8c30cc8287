"""Renditions on the web pages and in the admin, in a real browser (Chromium through
Playwright, as tests/web/test_browser.py): the images a page draws are renditions sized
for where they are drawn, so a grid of 12-megapixel photos costs kilobytes, not megabytes,
and HEIC originals (which no browser here decodes) show all the same.

Image bytes are counted from the responses the page gets (`page.on("response")`, the
length of each image body). Lazy images load as they are scrolled into view, so each
count scrolls to the end and waits until every `<img>` has loaded.

Screenshots (desktop 1280 x 900 and phone 390 x 844) go to test-output/screenshots/.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from assets.jobs import job_ring
from assets.models import Job, JobStatus, Role
from tests.conftest import add_conversion, make_asset
from tests.images import encode, format_samples, photo
from tests.web.test_browser import SCREENSHOTS, TIMEOUT_MS, browser, log_in, page, wait_for_result  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GRID_BUDGET = 1_000_000  # bytes of images for a full grid page (24 assets)
ADMIN_BUDGET = 500_000  # bytes of images for the admin's asset list
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    """A 4000 x 3000 camera-sized JPEG (about 1.4 MB)."""
    return encode(photo("coffee", (4000, 3000)), "JPEG", quality=85)


def run_thumbnail_jobs() -> None:
    """What the worker does right after each upload: make the 256-pixel thumbnails."""
    for job in Job.objects.filter(kind="thumbnail", status=JobStatus.QUEUED):
        assert job_ring(job.id) == JobStatus.OK


def count_image_bytes(page: Page) -> list:
    """Starts recording the image responses of `page`; returns the (growing) list."""
    responses: list = []
    page.on("response", lambda response: responses.append(response) if response.request.resource_type == "image" else None)
    return responses


def image_bytes(responses: list) -> int:
    return sum(len(response.body()) for response in responses if response.status == 200)


def load_every_image(page: Page) -> None:
    """Scroll to the end (lazy images load near the viewport) until every <img> has loaded."""
    page.wait_for_load_state("load")
    for _ in range(20):
        page.mouse.wheel(0, 2000)
        page.wait_for_timeout(100)
        if page.evaluate("() => [...document.images].every(i => i.complete)"):  # (no src: complete too)
            break
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function(
        "() => [...document.images].filter(i => i.getAttribute('src')).every(i => i.complete && i.naturalWidth > 0)"
    )
    page.evaluate("() => window.scrollTo(0, 0)")


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def admin_log_in(page: Page, next_path: str) -> None:
    User.objects.create_superuser("root", "root@example.com", "pw-123456")
    page.goto(page.base + "/admin/login/?next=" + next_path)
    page.locator("#id_username").fill("root")
    page.locator("#id_password").fill("pw-123456")
    page.locator('input[type="submit"]').click()
    expect(page).to_have_url(page.base + next_path)


def cutout_png(size: tuple[int, int] = (900, 600)) -> bytes:
    """A photo with its background made transparent (an ellipse kept), as a background
    removal saves it."""
    image = photo("chelsea", size).convert("RGBA")
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((size[0] * 0.15, size[1] * 0.05, size[0] * 0.85, size[1] * 0.95), fill=255)
    image.putalpha(mask)
    return encode(image, "PNG")


# --- bytes ------------------------------------------------------------------------------------


def test_a_grid_of_24_large_photos_transfers_under_1_mb_and_the_admin_list_under_500_kb(
    page, make_user, big_jpeg
):
    user, _ = make_user(Role.USER)
    assets = [make_asset(user, f"photo-{n:02d}.jpg", big_jpeg) for n in range(24)]
    assert (assets[0].width, assets[0].height) == (4000, 3000)
    run_thumbnail_jobs()

    responses = count_image_bytes(page)  # a fresh browser: nothing cached
    log_in(page, user, next_path="/assets/")
    load_every_image(page)
    grid = [r for r in responses if "/content/original" in r.url]
    assert len({r.url for r in grid}) == 24 and all("w=256&h=256" in r.url for r in grid)
    assert all(r.headers["content-type"] in ("image/avif", "image/webp") for r in grid)
    assert all(r.headers["x-rendition"] == "hit" for r in grid)  # the worker made them
    sizes = page.evaluate("() => [...document.querySelectorAll('#asset-grid img')].map(i => [i.naturalWidth, i.naturalHeight])")
    assert sizes == [[256, 192]] * 24
    total = image_bytes(responses)
    print(f"grid: 24 assets of {len(big_jpeg)} bytes each ({24 * len(big_jpeg)} in all), page images {total} bytes")
    assert total < GRID_BUDGET, total
    shot(page, "renditions-01-grid-24-photos")

    admin_page = page.context.new_page()
    admin_page.base = page.base
    admin_responses = count_image_bytes(admin_page)
    admin_log_in(admin_page, "/admin/assets/asset/")
    load_every_image(admin_page)
    thumbs = [r for r in admin_responses if "/file/original/" in r.url]
    assert len({r.url for r in thumbs}) == 24 and all("w=64&h=64" in r.url for r in thumbs)
    drawn = admin_page.evaluate(
        "() => [...document.querySelectorAll('#result_list img')].map(i => [i.getBoundingClientRect().width, i.getBoundingClientRect().height, i.naturalWidth])"
    )
    assert drawn == [[64, 48, 64]] * 24
    admin_total = image_bytes(admin_responses)
    print(f"admin list: page images {admin_total} bytes")
    assert admin_total < ADMIN_BUDGET, admin_total
    admin_page.close()


def test_high_density_screens_get_the_2x_renditions(browser, live_server, make_user, big_jpeg):  # noqa: F811
    user, _ = make_user(Role.USER)
    asset = make_asset(user, "photo.jpg", big_jpeg)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        phone = context.new_page()
        phone.base = live_server.url
        log_in(phone, user, next_path="/assets/")
        load_every_image(phone)
        tile = phone.locator(f'li[data-asset-id="{asset.id}"] img')
        assert tile.evaluate("i => i.currentSrc").endswith("?w=512&h=512")
        assert tile.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [256, 192]  # 512 x 384 at 2x
        width = tile.evaluate("i => i.getBoundingClientRect().width")
        assert 150 < width < 200  # two columns on a phone
        phone.goto(phone.base + f"/assets/{asset.id}/")
        load_every_image(phone)
        assert phone.locator("#original").evaluate("i => i.currentSrc").endswith("?w=1024&h=1024")
    finally:
        context.close()


# --- HEIC, cut-outs, and how the pages look -----------------------------------------------------


def test_heic_originals_show_and_cutouts_sit_on_the_checkerboard_with_screenshots(page, make_user, browser):  # noqa: F811
    user, _ = make_user(Role.CREATOR)
    samples = format_samples()
    made = {}
    for kind in ("heic", "tiff", "avif", "jpeg"):
        filename, body, _ = samples[kind]
        made[kind] = make_asset(user, filename, body)
    made["cutout"] = make_asset(user, "chelsea-cutout.png", cutout_png())
    made["tall"] = make_asset(user, "astronaut-tall.jpg", encode(photo("astronaut", (600, 900)), "JPEG", quality=85))
    add_conversion(made["heic"], "bg_removed", cutout_png((640, 427)))
    add_conversion(made["heic"], "small", encode(photo("rocket", (160, 107)), "PNG"))
    run_thumbnail_jobs()
    assert made["heic"].content_type == "image/heic"

    log_in(page, user, next_path="/assets/")
    load_every_image(page)
    heic = page.locator(f'li[data-asset-id="{made["heic"].id}"] img')
    assert heic.evaluate("i => i.naturalWidth") == 256  # 640 x 427 HEIC, as a 256-px rendition
    # Chromium cannot decode HEIC itself: the original as it is does not load
    broken = page.evaluate(
        """url => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth);
           i.onerror = () => done(0); i.src = url; })""",
        f"/api/v1/assets/{made['heic'].id}/content/original",
    )
    assert broken == 0
    # the cut-out: the checkerboard behind the image itself, not the tile's plain grey
    cutout = page.locator(f'li[data-asset-id="{made["cutout"].id}"] img')
    assert "linear-gradient" in cutout.evaluate("i => getComputedStyle(i).backgroundImage")
    box, tile = cutout.bounding_box(), cutout.locator("xpath=..").bounding_box()
    assert abs(box["width"] - tile["width"]) < 1 and box["height"] < tile["height"] * 0.75  # 3:2 in a square
    tall, tall_tile = (page.locator(f'li[data-asset-id="{made["tall"].id}"] img').bounding_box(),
                       page.locator(f'li[data-asset-id="{made["tall"].id}"] .thumb').bounding_box())
    assert abs(tall["height"] - tall_tile["height"]) < 1 and tall["width"] < tall_tile["width"] * 0.7
    shot(page, "renditions-02-grid-desktop")

    page.goto(page.base + f"/assets/{made['heic'].id}/")
    load_every_image(page)
    assert page.locator("#original").evaluate("i => [i.naturalWidth, i.naturalHeight]") == [512, 342]
    for name, width in (("bg_removed", 256), ("small", 160)):
        img = page.locator(f'li[data-conversion="{name}"] img')
        assert img.evaluate("i => i.naturalWidth") == width
    shot(page, "renditions-03-detail-desktop")

    page.goto(page.base + "/upload/")
    # the save form comes with a result: remove the background of a small photo first
    page.locator("#image").set_input_files(
        files=[{"name": "small.jpg", "mimeType": "image/jpeg", "buffer": encode(photo("coffee", (96, 64)), "JPEG", quality=85)}]
    )
    wait_for_result(page, 96)
    page.locator("#asset-search").fill(".")
    results = page.locator("#asset-results .picker-thumb img")
    expect(results).to_have_count(6)
    load_every_image(page)
    picker = page.locator(f'#asset-results [role="option"][data-asset-id="{made["heic"].id}"]')
    assert picker.locator("img").evaluate("i => [i.currentSrc.split('?')[1], i.naturalWidth, i.getBoundingClientRect().width]") == [
        "w=64&h=64", 64, 40
    ]
    shot(page, "renditions-04-upload-picker-desktop")
    picker.click()
    expect(page.locator("#asset-chosen .picker-thumb img")).to_have_count(1)
    expect(page.locator("#asset-chosen")).to_contain_text("rocket.heic")

    phone = browser.new_context(viewport=PHONE, device_scale_factor=3)
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        mobile = phone.new_page()
        mobile.base = page.base
        log_in(mobile, user, next_path="/assets/")
        load_every_image(mobile)
        shot(mobile, "renditions-05-grid-phone")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        mobile.goto(mobile.base + f"/assets/{made['heic'].id}/")
        load_every_image(mobile)
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(mobile, "renditions-06-detail-phone")
        mobile.goto(mobile.base + "/upload/")
        mobile.locator("#image").set_input_files(
            files=[{"name": "small.jpg", "mimeType": "image/jpeg", "buffer": encode(photo("coffee", (96, 64)), "JPEG", quality=85)}]
        )
        wait_for_result(mobile, 96)
        mobile.locator("#asset-search").fill(".")
        expect(mobile.locator("#asset-results .picker-thumb img")).to_have_count(6)
        load_every_image(mobile)
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(mobile, "renditions-07-upload-picker-phone")
    finally:
        phone.close()

    # the admin: every original has a thumbnail that loads, HEIC, AVIF and TIFF included
    admin_log_in(page, "/admin/assets/asset/")
    load_every_image(page)
    for kind in ("heic", "tiff", "avif"):
        img = page.locator(f'#result_list img[src*="{made[kind].id}"]')
        assert img.evaluate("i => i.naturalWidth") > 0
    shot(page, "renditions-08-admin-list-desktop")
    page.goto(page.base + f"/admin/assets/asset/{made['heic'].id}/change/")
    load_every_image(page)
    shot(page, "renditions-09-admin-change-desktop")
    page.set_viewport_size(PHONE)
    page.goto(page.base + "/admin/assets/asset/")
    load_every_image(page)
    shot(page, "renditions-10-admin-list-phone")
