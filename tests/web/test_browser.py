"""The web pages in a real browser: Playwright for Python driving Debian's Chromium
against pytest-django's `live_server`, with the real model.

No worker runs here: when the page saves (mode=get_image_and_save), the test reads the
job id the page shows (`#save-status[data-job-id]`) and runs that job in-process with
`assets.jobs.job_ring`, the worker's task; the page, which
polls GET /api/v1/jobs/<id>, then shows the saved asset's link.

Chromium must be at /usr/bin/chromium (.ci/run installs Debian's package when it is
missing); without it these tests fail rather than skip, so CI cannot pass without them.
Screenshots of every page go to test-output/screenshots/ (git-ignored).

Playwright's sync API runs an asyncio loop in the test's thread, which trips Django's
"async unsafe" guard on every ORM call the test makes; the test thread never runs Django
code concurrently with that loop, so the guard is switched off for this module only.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.brokers import get_broker
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from rest_framework.test import APIClient

from assets.models import Conversion, Job, JobStatus, Role
from tests.conftest import make_asset
from assets.jobs import job_ring
from tests.images import jpeg_bytes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
UPLOAD = "/api/v1/assets/file/addons/bg_remove"


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Page:
    """A fresh browser context (no cookies) per test; the broker is left empty after it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.base = live_server.url
    try:
        yield page
    finally:
        context.close()
        # The save jobs were run in-process; their queued tasks must not reach a later worker.
        get_broker().purge_queue()
        errors = [line for line in console if line.startswith(("error", "pageerror"))]
        print("\n".join(console))
        assert not [e for e in errors if "pageerror" in e], errors


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, user, *, next_path: str = "/upload/", screenshot: str | None = None) -> None:
    page.goto(page.base + next_path)
    expect(page).to_have_url(page.base + "/accounts/login/?next=" + next_path)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    if screenshot:
        shot(page, screenshot)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("pw-123456")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(page.base + next_path)


def write_file(tmp_path: Path, name: str, body: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def wait_for_result(page: Page, width: int) -> None:
    """The result image has loaded (not just got a src) at the expected width."""
    page.wait_for_function(
        "w => { const i = document.querySelector('#result-image');"
        " return !!i && i.complete && i.naturalWidth === w; }",
        arg=width,
    )


def record_progress(page: Page) -> None:
    """Remember every state the progress element shows (the request may be quick)."""
    page.evaluate(
        """() => {
            window.progressSeen = [];
            const el = document.querySelector('#progress');
            new MutationObserver(() => window.progressSeen.push({
                visible: !el.hidden, busy: el.getAttribute('aria-busy'), text: el.textContent.trim(),
                submitDisabled: document.querySelector('#submit').disabled,
            })).observe(el, {attributes: true});
        }"""
    )


def download(page: Page) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.locator("#download").click()
    item = info.value
    return item.suggested_filename, Path(item.path()).read_bytes()


def api_error(user_key: str, query: str, name: str, body: bytes) -> dict:
    """What the API itself answers to the same request: the words the page must show."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=user_key)
    response = client.post(f"{UPLOAD}?{query}", {"image": SimpleUploadedFile(name, body)}, format="multipart")
    assert response.status_code == 400, response.content
    return response.json()


# --- the scenarios ----------------------------------------------------------------------------


def test_creator_previews_saves_a_conversion_and_finds_it_on_the_asset_page(page, make_user, tmp_path):
    user, _ = make_user(Role.CREATOR)
    target = make_asset(user, "chelsea-target.jpg", jpeg_bytes("chelsea", (240, 160)))
    astronaut = jpeg_bytes("astronaut")  # skimage.data.astronaut(), 512 x 512, as a JPEG
    image_path = write_file(tmp_path, "astronaut.jpg", astronaut)

    log_in(page, user, screenshot="01-login")
    expect(page.get_by_role("heading", name="Remove background")).to_be_visible()
    shot(page, "02-upload-before")

    # before upload: the name, size and dimensions, read in the browser
    page.locator("#image").set_input_files(str(image_path))
    expect(page.locator("#file-name")).to_have_text("astronaut.jpg")
    expect(page.locator("#file-size")).to_contain_text(f"{len(astronaut):,} bytes")
    expect(page.locator("#file-dimensions")).to_have_text("512 × 512 px")

    # preview only
    expect(page.get_by_label("Preview only")).to_be_checked()
    record_progress(page)
    page.get_by_role("button", name="Remove background").click()
    wait_for_result(page, 512)
    seen = page.evaluate("window.progressSeen")
    assert {"visible": True, "busy": "true", "text": "Removing background…", "submitDisabled": True} in seen, seen
    expect(page.locator("#progress")).to_be_hidden()
    assert page.evaluate("document.querySelector('#original-image').naturalWidth") == 512
    checks = page.evaluate("getComputedStyle(document.querySelector('#result-image').parentElement).backgroundImage")
    assert "linear-gradient" in checks  # the checkerboard behind the result
    expect(page.locator("#save-status")).to_be_hidden()
    name, preview_png = download(page)
    assert name == "astronaut_bg_removed.png"
    with Image.open(io.BytesIO(preview_png)) as result:
        assert result.format == "PNG" and result.mode == "RGBA" and result.size == (512, 512)
        low, high = result.getchannel("A").getextrema()
        assert low == 0 and high == 255  # a background made transparent, a subject kept
    assert not Job.objects.exclude(kind="thumbnail").exists() and not Conversion.objects.exists()
    shot(page, "03-upload-preview")

    # save it as a conversion of an existing asset, picked by searching
    page.get_by_label("Save as a conversion of one of my assets").check()
    page.locator("#asset-search").fill("chelsea")
    page.locator(f'#asset-results button[data-asset-id="{target.id}"]').click()
    expect(page.locator("#asset-chosen")).to_contain_text("chelsea-target.jpg")
    page.get_by_label("Conversion name").fill("no_bg")
    expect(page.locator("#conversion_name-error")).to_be_empty()
    page.get_by_role("button", name="Remove background").click()
    wait_for_result(page, 512)
    status = page.locator("#save-status[data-job-id]")
    expect(status).to_have_text("Saving…")
    job_id = status.get_attribute("data-job-id")
    job = Job.objects.get(id=job_id)
    assert job.status == JobStatus.QUEUED and job.user == user
    assert job.request["disposition"] == "add_conversion" and job.request["asset_id"] == target.id
    assert job.request["conversion_name"] == "no_bg"

    assert job_ring(job_id) == JobStatus.OK  # what the worker would do
    link = page.locator("#saved-link")
    expect(link).to_have_attribute("href", f"/assets/{target.id}/")
    expect(page.locator("#save-status")).to_contain_text("Saved as conversion “no_bg”.")
    name, saved_png = download(page)
    conversion = Conversion.objects.get(asset=target, name="no_bg")
    # the page's result is the very file that was stored (the save reuses the PNG)
    assert hashlib.sha256(saved_png).hexdigest() == conversion.checksum
    assert (conversion.width, conversion.height, conversion.content_type) == (512, 512, "image/png")
    expect(page.locator("#asset-results li")).to_have_count(0)  # the picker closed on choosing
    shot(page, "04-upload-saved")

    # the asset page shows the conversion with a preview that loads
    link.click()
    expect(page).to_have_url(page.base + f"/assets/{target.id}/")
    card = page.locator('li[data-conversion="no_bg"]')
    expect(card.get_by_role("heading", name="no_bg")).to_be_visible()
    expect(card).to_contain_text(f"{conversion.size} bytes")
    expect(card).to_contain_text("512 × 512")
    card.locator("img").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('li[data-conversion=\"no_bg\"] img');"
        " return i.complete && i.naturalWidth === 256; }"  # a 256-px rendition of the 512-px PNG
    )
    assert page.evaluate("document.querySelector('#original').naturalWidth") == 240  # never upscaled
    shot(page, "05-asset-detail")

    # and the grid lists it with its thumbnail
    page.get_by_role("link", name="Assets", exact=True).click()
    expect(page).to_have_url(page.base + "/assets/")
    tile = page.locator(f'li[data-asset-id="{target.id}"]')
    expect(tile).to_contain_text("chelsea-target.jpg")
    expect(tile).to_contain_text("1 conversion")
    page.wait_for_function(
        "id => { const i = document.querySelector(`li[data-asset-id=\"${id}\"] img`);"
        " return i.complete && i.naturalWidth === 240; }",
        arg=target.id,
    )
    shot(page, "06-assets-grid")


def test_validation_errors_appear_next_to_their_fields_in_the_apis_words(page, make_user, tmp_path):
    user, key = make_user(Role.CREATOR)
    target = make_asset(user, "coffee.jpg", jpeg_bytes("coffee", (120, 80)))
    not_an_image = b"these are notes, not an image\n"
    text_path = write_file(tmp_path, "notes.txt", not_an_image)
    log_in(page, user)

    # a text file as the image: the API's invalid_image message, next to the image field
    page.locator("#image").set_input_files(str(text_path))
    expect(page.locator("#file-dimensions")).to_contain_text("unknown")
    page.get_by_label("Save as a conversion of one of my assets").check()
    page.locator("#asset-search").fill("coffee")
    page.locator(f'#asset-results button[data-asset-id="{target.id}"]').click()
    page.get_by_role("button", name="Remove background").click()
    expected = api_error(
        key, f"mode=get_image_and_save&disposition=add_conversion&asset_id={target.id}&conversion_name=bg_removed",
        "notes.txt", not_an_image,
    )
    assert expected["code"] == "invalid_image"
    image_error = page.locator("#image").locator("xpath=ancestor::fieldset").locator("#image-error")
    expect(image_error).to_have_text(" ".join(expected["errors"]["image"]))
    expect(page.locator("#general-error")).to_be_empty()
    expect(page.locator("#result")).to_be_hidden()
    assert not Job.objects.exclude(kind="thumbnail").exists() and not Conversion.objects.exists()

    # the conversion name, checked as it is typed, in the API's words
    name_input = page.get_by_label("Conversion name")
    name_error = page.locator("#conversion-fields #conversion_name-error")
    name_input.fill("")
    name_input.press_sequentially("bad")
    expect(name_error).to_be_empty()
    expect(name_input).to_have_attribute("aria-invalid", "false")
    name_input.press_sequentially(" name!")
    expected = api_error(
        key, f"mode=save_image&disposition=add_conversion&asset_id={target.id}&conversion_name=bad+name!",
        "astronaut.jpg", jpeg_bytes("astronaut", (64, 64)),
    )
    expect(name_error).to_have_text(expected["errors"]["conversion_name"][0])
    expect(name_input).to_have_attribute("aria-invalid", "true")
    shot(page, "07-error-state")

    # a bad name stops the submit in the page
    page.get_by_role("button", name="Remove background").click()
    expect(name_input).to_be_focused()
    expect(page.locator("#progress")).to_be_hidden()

    for name, quoted in (("original", "original"), ("it's", "it%27s"), ("a\\b", "a%5Cb")):
        name_input.fill(name)
        expected = api_error(
            key, f"mode=save_image&disposition=add_conversion&asset_id={target.id}&conversion_name={quoted}",
            "astronaut.jpg", b"not read: the query is refused first",
        )
        expect(name_error).to_have_text(expected["errors"]["conversion_name"][0])
    name_input.fill("ok_name")
    expect(name_error).to_be_empty()
    expect(name_input).to_have_attribute("aria-invalid", "false")

    # metadata=inherit without an asset: the API names asset_id, shown at the asset picker
    page.reload()
    page.locator("#image").set_input_files(str(write_file(tmp_path, "small.jpg", jpeg_bytes("astronaut", (64, 64)))))
    page.get_by_label("Save as a new asset").check()
    page.get_by_label("Copy the chosen asset’s metadata").check()
    page.get_by_role("button", name="Remove background").click()
    expected = api_error(
        key, "mode=get_image_and_save&disposition=add_new_asset&metadata=inherit", "small.jpg", b"x"
    )
    expect(page.locator("#asset-picker #asset_id-error")).to_have_text(expected["errors"]["asset_id"][0])
    expect(page.locator("#asset-search")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#image-error")).to_be_empty()
    assert not Job.objects.exclude(kind="thumbnail").exists() and not Conversion.objects.exists()


def test_user_sees_no_save_options_but_can_preview(page, make_user, tmp_path):
    user, _ = make_user(Role.USER)
    log_in(page, user)
    expect(page.locator("#preview-only-note")).to_contain_text("Your role (USER) can preview results")
    for selector in ('input[name="action"]', "#save-options", "#asset-search", "#conversion_name", "#metadata"):
        expect(page.locator(selector)).to_have_count(0)
    page.locator("#image").set_input_files(str(write_file(tmp_path, "astro.jpg", jpeg_bytes("astronaut", (256, 256)))))
    page.get_by_role("button", name="Remove background").click()
    wait_for_result(page, 256)
    expect(page.locator("#save-status")).to_be_hidden()
    expect(page.locator("#general-error")).to_be_empty()
    assert Job.objects.count() == 0
    shot(page, "08-upload-user")
