"""The asset page's graphics actions in Chromium, with the real model and, for Compose, a
real django-q2 worker (`qcluster_factory`, tests/graphics/conftest.py) sharing the test's
database, media and broker.

Remove background runs the model on the stored original (nothing is uploaded), keeps the
result in the page, and saves exactly those bytes, so the model runs once. Compose is an
Image Graphics job; the page shows its state from "waiting for a worker" to its end.
Screenshots: test-output/screenshots/graphics-*.png.
"""

from __future__ import annotations

import base64
import hashlib
import io
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from assets.models import Asset, Conversion, Job, JobStatus, Role
from tests.conftest import make_asset
from tests.graphics.conftest import qcluster_factory  # noqa: F401 (fixture)
from tests.images import encode, jpeg_bytes, photo, png_bytes
from tests.web.browser import log_in, shot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_thumbnails")]


def stored(asset: Asset, name: str) -> Image.Image:
    conversion = Conversion.objects.get(asset=asset, name=name)
    with conversion.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def shown_bytes(page, selector: str) -> bytes:
    """The bytes of the image the page shows (the result it keeps, as a blob: URL)."""
    encoded = page.evaluate(
        """async (sel) => { const blob = await (await fetch(document.querySelector(sel).src)).blob();
            return await new Promise((done) => { const reader = new FileReader();
                reader.onload = () => done(reader.result.split(',')[1]); reader.readAsDataURL(blob); }); }""",
        selector,
    )
    return base64.b64decode(encoded)


def test_remove_the_background_of_a_stored_asset_preview_then_save_both_ways(page, make_user):
    user, _ = make_user(Role.CREATOR)
    asset = make_asset(user, "astronaut.jpg", jpeg_bytes("astronaut", (384, 384)), data={"mission": "STS-93"})
    model_calls = []
    page.on("request", lambda r: model_calls.append(r.method) if urlparse(r.url).path.endswith("/addons/bg_remove") else None)
    log_in(page, user, next_path=f"/assets/{asset.id}/")
    uploads = []
    page.on("request", lambda r: uploads.append(r) if r.method == "POST" else None)

    page.get_by_role("button", name="Remove background").click()
    expect(page.locator("#cutout-panel")).to_be_visible()
    expect(page.get_by_role("button", name="Remove background")).to_have_attribute("aria-expanded", "true")
    with page.expect_response(lambda r: urlparse(r.url).path.endswith("/addons/bg_remove")) as preview:
        page.get_by_role("button", name="Preview").click()
    assert preview.value.request.method == "GET" and "mode=get_image" in preview.value.url
    assert preview.value.headers["content-type"] == "image/png"
    expect(page.locator("#cutout-facts")).to_contain_text("PNG · 384 × 384 px")
    expect(page.locator("#cutout-facts")).to_contain_text("not saved yet")
    page.wait_for_function("() => { const i = document.querySelector('#cutout-compare-after'); return i.complete && i.naturalWidth === 384; }")
    shown_png = shown_bytes(page, "#cutout-compare-after")
    with Image.open(io.BytesIO(shown_png)) as result:
        alpha = np.asarray(result.getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255
    assert not Conversion.objects.exists() and Asset.objects.count() == 1 and uploads == []
    shot(page, "graphics-01-asset-remove-background-preview")

    # as a new asset derived from this one, with its data
    page.get_by_label("Save as a new asset derived from this one").check()
    page.get_by_label("Copy this asset’s data and data schema").check()
    page.get_by_role("button", name="Save the result").click()
    link = page.locator("#cutout-new-asset")
    expect(link).to_have_text("Open “astronaut_bg_removed.png”")
    made = Asset.objects.get(name="astronaut_bg_removed.png")
    assert (made.source_asset_id, made.data) == (asset.id, {"mission": "STS-93"})
    assert made.checksum == hashlib.sha256(shown_png).hexdigest()  # the bytes shown, not a second run
    shot(page, "graphics-02-asset-remove-background-saved-as-new-asset")

    # and as a conversion of this asset: the page shows it when it comes back
    page.get_by_label("Save as a conversion of this asset").check()
    name = page.locator("#cutout-panel").get_by_label("Conversion name")
    name.fill("cut out!")
    expect(page.locator("#cutout-name-error")).to_contain_text("“cut out!” has a space and “!”")
    name.fill("cutout")
    page.get_by_role("button", name="Save the result").click()
    expect(page.locator("#page-notice")).to_have_text("Saved the background removal as the conversion “cutout”.")
    expect(page.locator('li[data-conversion="cutout"]')).to_be_visible()
    assert Conversion.objects.get(asset=asset, name="cutout").checksum == hashlib.sha256(shown_png).hexdigest()
    assert model_calls == ["GET"]  # one run of the model; both saves sent its result
    assert not Job.objects.exclude(kind="thumbnail").exists()
    shot(page, "graphics-03-asset-remove-background-saved-as-conversion")


def test_compose_shows_the_jobs_progress_until_it_ends(page, make_user, qcluster_factory):  # noqa: F811
    user, _ = make_user(Role.CREATOR)
    subject_photo = photo("coffee", (300, 200))
    backdrop_photo = photo("rocket", (400, 300))
    asset = make_asset(user, "coffee.png", encode(subject_photo, "PNG"))
    backdrop = make_asset(user, "launch-pad.png", encode(backdrop_photo, "PNG"))
    log_in(page, user, next_path=f"/assets/{asset.id}/")
    page.get_by_role("button", name="Compose").click()
    panel = page.locator("#compose-panel")
    expect(panel).to_be_visible()

    panel.get_by_label("Remove its background first").uncheck()  # pixels the test can predict
    panel.get_by_label("Width of the subject, px").fill("200")
    panel.get_by_label("Width, px", exact=True).fill("400")
    panel.get_by_label("Height, px", exact=True).fill("300")
    panel.get_by_label("Another asset").check()
    panel.locator("#compose-bg-search").fill("launch")
    panel.locator(f'#compose-bg-results [role="option"][data-asset-id="{backdrop.id}"]').click()
    panel.get_by_label("At a point (its top-left corner)").check()
    panel.get_by_label("x, px").fill("250")  # 250 + 200 > 400: the API says it does not fit
    panel.get_by_label("y, px").fill("40")
    panel.get_by_label("Conversion name").fill("card")
    with page.expect_response(lambda r: r.url.endswith("/addons/image_graphics")) as refused:
        panel.get_by_role("button", name="Compose").click()
    assert refused.value.status == 400
    errors = refused.value.json()["errors"]
    assert errors == {"assets[0].options.position.x": ["x + subject width (250 + 200) exceeds the stage width 400"]}
    expect(panel.locator("#compose-x-error")).to_have_text("X + subject width (250 + 200) exceeds the stage width 400")
    expect(panel.get_by_label("x, px")).to_have_attribute("aria-invalid", "true")
    assert not Job.objects.filter(kind="image_graphics").exists()
    shot(page, "graphics-04-compose-refused-geometry")

    panel.get_by_label("x, px").fill("20")
    panel.get_by_role("button", name="Compose").click()
    status = panel.locator("#compose-status")
    expect(status).to_have_text("Waiting for a worker…")  # no worker yet: the job waits, and says so
    job = Job.objects.get(kind="image_graphics")
    assert job.status == JobStatus.QUEUED and job.started_at is None
    shot(page, "graphics-05-compose-waiting-for-a-worker")
    qcluster_factory().start()
    expect(page.locator("#page-notice")).to_have_text("Composed: saved as the conversion “card”.", timeout=90_000)
    expect(page.locator('li[data-conversion="card"]')).to_be_visible()
    shot(page, "graphics-06-compose-done")

    card = np.asarray(stored(asset, "card").convert("RGB"), dtype=np.int64)
    assert card.shape == (300, 400, 3)
    subject = np.asarray(subject_photo.resize((200, 133), Image.Resampling.LANCZOS), dtype=np.int64)
    assert np.abs(card[40:173, 20:220] - subject).mean() < 3  # the subject, at (20, 40), 200 wide
    background = np.asarray(backdrop_photo, dtype=np.int64)  # the backdrop, stretched to 400 x 300 (it is)
    assert np.abs(card[200:, 250:] - background[200:, 250:]).mean() < 3
    assert Job.objects.get(pk=job.pk).status == JobStatus.OK
