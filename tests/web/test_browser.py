"""The upload page in a real browser: Playwright for Python driving Debian's Chromium
against pytest-django's `live_server`, with the real model (fixtures: tests/web/browser.py).

An image picked, dropped or pasted is sent at once (mode=get_image) and its result kept
in the page, shown before/after; saving posts that result to the assets API, so the image
is sent to the model exactly once. Errors are the API's, said in words next to their
field, while the API keeps its exact messages. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from assets.models import Asset, Conversion, Job, Role
from assets.templatetags.people import human_size
from tests.conftest import make_asset
from tests.images import encode, jpeg_bytes, photo
from tests.web.browser import (  # noqa: F401 (fixtures and helpers the other browser tests import from here)
    SCREENSHOTS,
    TIMEOUT_MS,
    browser,
    drop_files,
    log_in,
    page,
    paste_files,
    shot,
    write_file,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

UPLOAD = "/api/v1/assets/file/addons/bg_remove"
RESULT = "#result-compare-after"


def wait_for_result(page: Page, width: int) -> None:
    """The result image has loaded (not just got a src) at the expected width."""
    page.wait_for_function(
        "([sel, w]) => { const i = document.querySelector(sel);"
        " return !!i && !!i.src && i.complete && i.naturalWidth === w; }",
        arg=[RESULT, width],
    )
    expect(page.locator("#progress")).to_be_hidden()


def count_requests(page: Page, path: str) -> list:
    """The requests the page makes to `path` (a growing list)."""
    made: list = []
    page.on("request", lambda request: made.append(request) if urlparse(request.url).path == path else None)
    return made


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


def compare_pixel(page: Page, split: int, x: float, y: float) -> tuple[int, int, int]:
    """The colour drawn at (x, y) (fractions of the before/after box) with the edge at `split` %."""
    page.locator("#result-compare-split").fill(str(split))
    box = page.locator("#result-compare").bounding_box()
    png = page.screenshot(clip={"x": box["x"] + x * box["width"], "y": box["y"] + y * box["height"], "width": 1, "height": 1})
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((0, 0))


def api_error(user_key: str, method: str, path: str, **fields) -> dict:
    """What the API itself answers to the same request: its exact words."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=user_key)
    response = getattr(client, method)(path, fields, format="multipart")
    assert 400 <= response.status_code < 500, response.content
    return response.json()


# --- the scenarios ----------------------------------------------------------------------------


def test_a_picked_image_is_previewed_at_once_and_the_kept_result_is_saved_without_sending_it_again(page, make_user, tmp_path):
    user, _ = make_user(Role.CREATOR)
    target = make_asset(user, "chelsea-target.jpg", jpeg_bytes("chelsea", (240, 160)))
    astronaut = jpeg_bytes("astronaut")  # skimage.data.astronaut(), 512 x 512, as a JPEG
    image_path = write_file(tmp_path, "astronaut.jpg", astronaut)
    to_the_model = count_requests(page, UPLOAD)

    log_in(page, user, screenshot="01-login")
    expect(page.get_by_role("heading", name="Remove background")).to_be_visible()
    expect(page.locator("#result")).to_be_hidden()
    shot(page, "02-upload-before")

    # picking the file is enough: its facts, then the result, with no button pressed
    record_progress(page)
    page.locator("#image").set_input_files(str(image_path))
    expect(page.locator("#file-name")).to_have_text("astronaut.jpg")
    expect(page.locator("#file-size")).to_contain_text(f"({len(astronaut):,} bytes)")
    expect(page.locator("#file-dimensions")).to_have_text("512 × 512 px")
    wait_for_result(page, 512)
    seen = page.evaluate("window.progressSeen")
    assert {"visible": True, "busy": "true", "text": "Removing background…", "submitDisabled": True} in seen, seen
    assert len(to_the_model) == 1 and "mode=get_image" in to_the_model[0].url
    name, preview_png = download(page)
    assert name == "astronaut_bg_removed.png"
    with Image.open(io.BytesIO(preview_png)) as result:
        assert result.format == "PNG" and result.mode == "RGBA" and result.size == (512, 512)
        alpha = np.asarray(result.getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255  # a background made transparent, a subject kept
    assert not Job.objects.exclude(kind="thumbnail").exists() and not Conversion.objects.exists()

    # before and after: the slider moves the edge between the original and the result
    transparent = np.argwhere(alpha == 0)
    row, col = transparent[len(transparent) // 2]
    x, y = (col + 0.5) / 512, (row + 0.5) / 512
    before = compare_pixel(page, 100, x, y)
    original = np.asarray(Image.open(io.BytesIO(astronaut)).convert("RGB"))[row, col]
    assert np.abs(np.array(before) - original).max() < 40, (before, original)  # the photo there
    after = compare_pixel(page, 0, x, y)
    assert after in ((255, 255, 255), (204, 204, 204)), after  # the checkerboard through the cut-out
    page.locator("#result-compare-split").fill("50")
    shot(page, "03-upload-preview-before-after")

    # save it as a conversion of an existing asset, picked by searching
    page.locator("#asset-search").fill("chelsea")
    page.locator(f'#asset-results [role="option"][data-asset-id="{target.id}"]').click()
    expect(page.locator("#asset-chosen")).to_contain_text("chelsea-target.jpg")
    page.get_by_label("Conversion name").fill("no_bg")
    expect(page.locator("#conversion_name-error")).to_be_empty()
    with page.expect_response(lambda r: r.request.method == "POST" and f"/assets/{target.id}/content/no_bg" in r.url) as saved:
        page.get_by_role("button", name="Save", exact=True).click()
    assert saved.value.status == 201
    expect(page.locator("#save-status")).to_contain_text("Saved as conversion “no_bg” of chelsea-target.jpg.")
    expect(page.locator("#saved-link")).to_have_attribute("href", f"/assets/{target.id}/")
    assert len(to_the_model) == 1  # the image went to the model once; the save sent the result
    conversion = Conversion.objects.get(asset=target, name="no_bg")
    assert hashlib.sha256(preview_png).hexdigest() == conversion.checksum  # the very bytes shown
    assert (conversion.width, conversion.height, conversion.content_type) == (512, 512, "image/png")
    assert not Job.objects.exclude(kind="thumbnail").exists()
    shot(page, "04-upload-saved")

    # the asset page shows the conversion with a preview that loads
    page.locator("#saved-link").click()
    expect(page).to_have_url(page.base + f"/assets/{target.id}/")
    card = page.locator('li[data-conversion="no_bg"]')
    expect(card.get_by_role("heading", name="no_bg")).to_be_visible()
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


def test_a_dropped_or_pasted_image_starts_at_once_and_saves_as_a_new_asset_with_its_source(page, make_user):
    user, _ = make_user(Role.CREATOR)
    source = make_asset(user, "studio-cat.jpg", jpeg_bytes("chelsea", (120, 80)), data={"sku": "CAT-1"})
    to_the_model = count_requests(page, UPLOAD)
    log_in(page, user)

    drop_files(page, "#dropzone", [("coffee.jpg", jpeg_bytes("coffee", (300, 200)), "image/jpeg")])
    expect(page.locator("#file-name")).to_have_text("coffee.jpg")
    wait_for_result(page, 300)
    paste_files(page, [("image.png", encode(photo("rocket", (320, 214)), "PNG"), "image/png")])
    expect(page.locator("#file-name")).to_have_text("pasted-1.png")
    wait_for_result(page, 320)
    assert len(to_the_model) == 2

    page.get_by_label("Save as a new asset").check()
    expect(page.locator("#asset-label")).to_have_text("Source asset (optional)")
    expect(page.locator("#conversion-fields")).to_be_hidden()
    page.locator("#asset-search").fill("studio")
    page.locator(f'#asset-results [role="option"][data-asset-id="{source.id}"]').click()
    page.get_by_label("Copy the chosen asset’s metadata").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-status")).to_contain_text("Saved as the new asset “studio-cat_bg_removed.png”.")
    made = Asset.objects.get(name="studio-cat_bg_removed.png")
    assert (made.source_asset_id, made.data, made.width) == (source.id, {"sku": "CAT-1"}, 320)
    assert len(to_the_model) == 2
    shot(page, "09-upload-pasted-saved-as-new-asset")


def test_errors_appear_next_to_their_fields_in_words_while_the_api_keeps_its_messages(page, make_user, tmp_path, settings):
    user, key = make_user(Role.CREATOR)
    target = make_asset(user, "coffee.jpg", jpeg_bytes("coffee", (120, 80)))
    log_in(page, user)

    # a text file as the image: the API's invalid_image message, next to the image field
    notes = b"these are notes, not an image\n"
    page.locator("#image").set_input_files(str(write_file(tmp_path, "notes.txt", notes)))
    expected = api_error(key, "post", UPLOAD + "?mode=get_image", image=SimpleUploadedFile("notes.txt", notes))
    assert expected["code"] == "invalid_image"
    message = expected["errors"]["image"][0]
    expect(page.locator("#image-error")).to_have_text(message[0].upper() + message[1:])
    expect(page.locator("#general-error")).to_be_empty()
    expect(page.locator("#result")).to_be_hidden()

    # a conversion name with a space and "!": words, where the API gives its pattern
    page.locator("#image").set_input_files(str(write_file(tmp_path, "astro.jpg", jpeg_bytes("astronaut", (128, 128)))))
    wait_for_result(page, 128)
    name_input = page.get_by_label("Conversion name")
    name_input.fill("my cut out!")
    words = "A conversion name uses only letters, digits, - and _; “my cut out!” has a space and “!”."
    expect(page.locator("#conversion_name-error")).to_have_text(words)
    expect(name_input).to_have_attribute("aria-invalid", "true")
    api = api_error(key, "post", f"/api/v1/assets/{target.id}/content/my cut out!", file=SimpleUploadedFile("a.jpg", b"x"))
    assert api["errors"]["name"] == ["must match ^[a-zA-Z0-9_-]{1,30}$, got 'my cut out!'"]
    assert "^[a-zA-Z0-9_-]" not in page.locator("#save-form").inner_text()
    shot(page, "07-error-state-in-words")
    # a bad name stops the save in the page, with the asset chosen or not
    page.locator("#asset-search").fill("coffee")
    page.locator(f'#asset-results [role="option"][data-asset-id="{target.id}"]').click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(name_input).to_be_focused()
    name_input.fill("original")
    expect(page.locator("#conversion_name-error")).to_have_text("“original” is the name of the asset’s own file; choose another name.")
    name_input.fill("ok_name")
    expect(page.locator("#conversion_name-error")).to_be_empty()
    expect(name_input).to_have_attribute("aria-invalid", "false")

    # metadata to copy, but no asset to copy it from
    page.get_by_label("Save as a new asset").check()
    page.locator("#asset-search").fill("")
    page.get_by_label("Copy the chosen asset’s metadata").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#metadata-error")).to_have_text("Choose the asset whose metadata to copy, or untick this box.")
    assert not Conversion.objects.exists() and Asset.objects.count() == 1

    # a file over the upload limit: said with its size and the limit, and not sent
    settings.ASSETS_MAX_UPLOAD_BYTES = 200 * 1024
    page.reload()
    big = encode(photo("coffee", (1200, 800)), "PNG")
    assert len(big) > 200 * 1024
    uploads = count_requests(page, UPLOAD)
    page.locator("#image").set_input_files(str(write_file(tmp_path, "big.png", big)))
    expect(page.locator("#image-error")).to_have_text(f"This file is {human_size(len(big))}, larger than the 200 KB limit. Choose a smaller file.")
    assert uploads == []
    too_big = api_error(key, "post", UPLOAD + "?mode=get_image", image=SimpleUploadedFile("big.png", big))
    assert too_big["errors"]["image"] == [f"at most {200 * 1024} bytes"]  # the API's exact words
    shot(page, "08-upload-too-large-in-words")


def test_a_user_can_preview_and_download_but_sees_nothing_to_save(page, make_user, tmp_path):
    user, _ = make_user(Role.USER)
    log_in(page, user)
    for selector in ('input[name="action"]', "#save-form", "#asset-search", "#conversion_name", "#metadata"):
        expect(page.locator(selector)).to_have_count(0)
    page.locator("#image").set_input_files(str(write_file(tmp_path, "astro.jpg", jpeg_bytes("astronaut", (256, 256)))))
    wait_for_result(page, 256)
    expect(page.locator("#preview-only-note")).to_contain_text("Your role (USER) can preview and download results")
    expect(page.locator("#general-error")).to_be_empty()
    name, body = download(page)
    assert name == "astro_bg_removed.png" and body.startswith(b"\x89PNG")
    assert Job.objects.count() == 0 and Asset.objects.count() == 0
    shot(page, "10-upload-user")
