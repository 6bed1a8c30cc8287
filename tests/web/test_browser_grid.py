"""The grid and adding images, in Chromium: sorting and paging that keep the filters, the
empty state, several assets selected and deleted (after a confirmation that says what
goes) or given to one Image Graphics job that removes their backgrounds, run by a real
django-q2 worker while the page shows its progress; and adding images as they are, one
or many, picked, dropped or pasted, each with its own progress, with the data of a
chosen schema. Screenshots: test-output/screenshots/grid-*.png and add-*.png.
"""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from assets.models import Asset, Conversion, DataSchema, Job, JobStatus, Role
from assets.templatetags.people import human_size
from tests.conftest import add_conversion, make_asset, stored_files
from tests.graphics.conftest import qcluster_factory  # noqa: F401 (fixture)
from tests.images import encode, jpeg_bytes, photo, png_bytes
from tests.web.browser import drop_files, load_every_image, log_in, paste_files, shot, write_file

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_thumbnails")]


def tile_names(page) -> list[str]:
    return page.locator("#asset-grid li .name").all_inner_texts()


def test_sort_pages_and_filters_stay_together_and_an_empty_library_says_what_to_do(page, make_user):
    user, _ = make_user(Role.CREATOR)
    log_in(page, user, next_path="/assets/")
    empty = page.locator("#no-assets")
    expect(empty.get_by_role("heading")).to_have_text("No assets yet")
    expect(empty.get_by_role("link", name="Add images")).to_have_attribute("href", "/assets/add/")
    shot(page, "grid-01-empty")

    now = timezone.now()
    sizes = {}
    for n in range(27):
        name = f"shot-{n:02d}.jpg"
        asset = make_asset(user, name, jpeg_bytes("coffee", (40 + 7 * n, 30 + 5 * n)), upload_time=now - timedelta(minutes=n))
        sizes[name] = asset.size
    make_asset(user, "other.png", png_bytes("rocket", (20, 20)), upload_time=now - timedelta(hours=1))
    page.goto(page.base + "/assets/?name=shot")
    expect(page.locator("#asset-count")).to_have_text("27 assets match the filters, 1–24 shown.")
    assert tile_names(page)[:2] == ["shot-00.jpg", "shot-01.jpg"]  # newest first
    page.get_by_label("Sort", exact=True).select_option(label="Largest first")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(page.base + "/assets/?name=shot&content_type=&has_conversion=&ordering=-size")
    largest = sorted(sizes, key=lambda n: -sizes[n])
    assert tile_names(page) == largest[:24]
    expect(page.locator(f'#asset-grid li[data-name="{largest[0]}"] .meta')).to_contain_text(human_size(sizes[largest[0]]))
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(page.base + "/assets/?name=shot&ordering=-size&page=2")
    assert tile_names(page) == largest[24:]  # the filter and the sort kept: other.png never shows
    expect(page.get_by_label("Sort", exact=True)).to_have_value("-size")
    expect(page.get_by_label("Name contains")).to_have_value("shot")
    shot(page, "grid-02-sorted-page-2")
    page.goto(page.base + "/assets/?name=nothing-like-this")
    expect(page.locator("#no-assets").get_by_role("heading")).to_have_text("No asset matches these filters")


def test_select_several_and_delete_them_after_a_confirmation(page, make_user, media_root):
    user, _ = make_user(Role.MANAGER)
    keep = make_asset(user, "keep.jpg", jpeg_bytes("astronaut", (90, 90)))
    first = make_asset(user, "first.jpg", jpeg_bytes("chelsea", (90, 60)))
    second = make_asset(user, "second.jpg", jpeg_bytes("coffee", (90, 60)))
    add_conversion(first, "bg_removed", png_bytes("chelsea", (90, 60)))
    log_in(page, user, next_path="/assets/")
    load_every_image(page)  # one rendition per tile
    page.reload()
    expect(page.get_by_role("button", name="Delete…")).to_be_disabled()
    page.get_by_label("Select first.jpg").check()
    page.get_by_label("Select second.jpg").check()
    expect(page.locator("#selection-count")).to_have_text("2 assets selected")
    expect(page.locator(f'li[data-asset-id="{first.id}"]')).to_have_class("selected")
    page.get_by_role("button", name="Delete…").click()
    dialog = page.locator("#bulk-delete-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Delete 2 assets?")
    expect(dialog).to_contain_text("This deletes their originals, 1 conversion and 2 renditions")
    expect(dialog.locator("#bulk-delete-names li")).to_have_text(["second.jpg", "first.jpg"])
    shot(page, "grid-03-bulk-delete-confirmation", full_page=False)
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("#page-notice")).to_have_text("Deleted 2 assets with 1 conversion.")
    assert list(Asset.objects.values_list("name", flat=True)) == ["keep.jpg"]
    assert not Conversion.objects.exists()
    assert all(keep.id in str(path) for path in stored_files(media_root))
    expect(page.locator("#asset-grid li")).to_have_count(1)
    shot(page, "grid-04-bulk-deleted")


def test_remove_the_background_of_several_assets_as_one_job_with_its_progress(page, make_user, qcluster_factory):  # noqa: F811
    user, _ = make_user(Role.CREATOR)
    made = [make_asset(user, f"{name}.jpg", jpeg_bytes(name, (256, 256))) for name in ("astronaut", "chelsea", "coffee")]
    log_in(page, user, next_path="/assets/")
    # every state the progress shows, kept across the reload that follows the job's end
    page.evaluate(
        """() => { const el = document.querySelector('#bulk-progress-text');
            new MutationObserver(() => { const seen = JSON.parse(sessionStorage.getItem('seen') || '[]');
                seen.push(el.textContent); sessionStorage.setItem('seen', JSON.stringify(seen)); })
              .observe(el, {childList: true, characterData: true, subtree: true}); }"""
    )
    page.get_by_label("Select all on this page").check()
    expect(page.locator("#selection-count")).to_have_text("3 assets selected")
    page.get_by_role("button", name="Remove background…").click()
    dialog = page.locator("#bulk-bg-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Remove the background of 3 assets")
    dialog.get_by_label("Conversion name").fill("no bg")
    dialog.get_by_role("button", name="Remove backgrounds").click()
    expect(dialog.locator("#bulk-conversion-name-error")).to_contain_text("“no bg” has a space")
    dialog.get_by_label("Conversion name").fill("no_bg")
    shot(page, "grid-05-bulk-remove-background-dialog", full_page=False)
    dialog.get_by_role("button", name="Remove backgrounds").click()
    expect(page.locator("#bulk-progress-text")).to_have_text("Waiting for a worker…")
    job = Job.objects.get(kind="image_graphics")
    assert len(job.request["assets"]) == 3 and job.status == JobStatus.QUEUED  # one job for all of them
    shot(page, "grid-06-bulk-waiting-for-a-worker")

    qcluster_factory().start()
    expect(page.locator("#page-notice")).to_have_text("Done: 3 results saved.", timeout=120_000)
    texts = page.evaluate("JSON.parse(sessionStorage.getItem('seen'))")
    assert "Waiting for a worker…" in texts and texts[-1] == "Done: 3 results saved.", texts
    expect(page.locator("#asset-grid .badge")).to_have_text(["1 conversion"] * 3)
    shot(page, "grid-07-bulk-done")
    assert Job.objects.get(pk=job.pk).status == JobStatus.OK
    for asset in made:
        conversion = Conversion.objects.get(asset=asset, name="no_bg")
        with conversion.file.open("rb") as handle, Image.open(io.BytesIO(handle.read())) as image:
            alpha = np.asarray(image.getchannel("A"))
        assert image.size == (256, 256) and alpha.min() == 0 and alpha.max() == 255  # a real cut-out


SCHEMA = {
    "type": "object",
    "required": ["shoot"],
    "properties": {"shoot": {"type": "string", "minLength": 3}, "rating": {"type": "integer", "minimum": 1, "maximum": 5}},
}


def test_add_images_as_they_are_with_progress_per_file_and_the_data_of_a_schema(page, make_user, tmp_path, settings):
    user, _ = make_user(Role.CREATOR)
    DataSchema.objects.create(account=user.membership.account, name="Photo shoot", schema=SCHEMA)
    settings.ASSETS_MAX_UPLOAD_BYTES = 400 * 1024
    big = encode(photo("coffee", (1000, 700)), "PNG")
    assert len(big) > 400 * 1024
    log_in(page, user, next_path="/assets/add/")
    page.get_by_label("Data schema").select_option(label="Photo shoot")
    shoot_box = page.get_by_label("shoot")
    expect(shoot_box).to_have_attribute("aria-required", "true")

    files = [write_file(tmp_path, "rocket.jpg", jpeg_bytes("rocket", (640, 427))),
             write_file(tmp_path, "too-big.png", big)]
    page.locator("#add-files").set_input_files([str(p) for p in files])
    drop_files(page, "#add-dropzone", [("chelsea.webp", encode(photo("chelsea"), "WEBP", quality=80), "image/webp")])
    paste_files(page, [("image.png", encode(photo("astronaut", (200, 200)), "PNG"), "image/png")])
    items = page.locator("#file-list li")
    expect(items.locator(".name")).to_have_text(["rocket.jpg", "too-big.png", "chelsea.webp", "pasted-1.png"])
    expect(items.nth(1)).to_have_attribute("data-state", "failed")
    expect(items.nth(1)).to_contain_text(f"This file is {human_size(len(big))}, larger than the 400 KB limit.")

    # the schema's rules: a shoot name too short, a rating out of range, shown on their fields
    shoot_box.fill("ab")
    page.get_by_label("rating").fill("9")
    page.get_by_role("button", name="Add the images").click()
    expect(page.locator(f"#{shoot_box.get_attribute('id')}-error")).to_have_text("Must have at least 3 characters.")
    rating_id = page.get_by_label("rating").get_attribute("id")
    expect(page.locator(f"#{rating_id}-error")).to_have_text("Must be at most 5.")
    expect(items.nth(0)).to_contain_text("Not added: fix the data above, then add again.")
    assert not Asset.objects.exists()
    shot(page, "add-01-data-refused-on-its-fields")

    page.evaluate(
        """() => { window.sentStates = [];
            new MutationObserver(() => document.querySelectorAll('#file-list .state-text').forEach((s) => window.sentStates.push(s.textContent)))
                .observe(document.querySelector('#file-list'), {childList: true, characterData: true, subtree: true}); }"""
    )
    shoot_box.fill("Spring catalogue")
    page.get_by_label("rating").fill("4")
    # a slow uplink (200 KB/s), as from a phone, so each file's progress can be seen
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 200 * 1024})
    page.get_by_role("button", name="Add the images").click()
    expect(items.nth(0).locator(".state-text")).to_contain_text("% sent")
    shot(page, "add-02-sending-with-progress")
    expect(page.locator("#add-status")).to_have_text("3 of 4 images added.", timeout=60_000)
    expect(items.locator(".state-text")).to_have_text(
        ["Added. Open it", f"This file is {human_size(len(big))}, larger than the 400 KB limit. Choose a smaller file.", "Added. Open it", "Added. Open it"]
    )
    assert any(state.endswith("% sent") for state in page.evaluate("window.sentStates"))  # progress per file
    shot(page, "add-03-added")
    assets = {a.name: a for a in Asset.objects.all()}
    assert set(assets) == {"rocket.jpg", "chelsea.webp", "pasted-1.png"}
    assert all(a.data == {"shoot": "Spring catalogue", "rating": 4} and a.data_schema.name == "Photo shoot" for a in assets.values())
    assert (assets["rocket.jpg"].width, assets["chelsea.webp"].content_type) == (640, "image/webp")
    items.nth(0).get_by_role("link", name="Open it").click()
    expect(page.locator("#asset-name")).to_have_text("rocket.jpg")
