"""Every page on a phone (390 x 844 CSS pixels, scale 3, touch), in Chromium: nothing is
wider than the screen (`scrollWidth <= innerWidth`), in each state a person reaches: the
login, the upload page before and after a result, the grid (full, empty, filtered, a
selection), an asset's page with each panel and dialog open, adding images with a list of
files, the 404 page. Screenshots: test-output/screenshots/phone-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assets.models import DataSchema, Role
from tests.conftest import add_conversion, make_asset
from tests.images import encode, jpeg_bytes, photo, png_bytes
from tests.web.browser import load_every_image, log_in, no_sideways_scroll, shot, write_file
from tests.web.test_browser import wait_for_result

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LONG_NAME = "a-very-long-file-name-without-any-spaces-from-a-camera-export-0001.jpg"


def check(phone, name: str) -> None:
    """No sideways scroll, then a full-page screenshot."""
    phone.wait_for_load_state()
    no_sideways_scroll(phone)
    shot(phone, name)


def test_every_page_fits_a_phone(phone, make_user, tmp_path):
    user, _ = make_user(Role.ADMIN, username="administrator-with-a-long-name")
    schema = DataSchema.objects.create(
        account=user.membership.account, name="Product sheet",
        schema={"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}, "notes": {"type": "object"}}},
    )
    asset = make_asset(user, LONG_NAME, jpeg_bytes("coffee", (900, 600)), data={"sku": "A-1", "notes": {"a": [1, 2]}}, data_schema=schema)
    add_conversion(asset, "bg_removed_with_a_long_name_1", png_bytes("coffee", (450, 300)))
    make_asset(user, "derived.png", png_bytes("chelsea", (120, 80)), source=asset)
    for n in range(5):
        make_asset(user, f"photo-{n}.jpg", jpeg_bytes("rocket", (640, 427)))

    phone.goto(phone.base + "/upload/")
    check(phone, "phone-01-login")
    log_in(phone, user)
    check(phone, "phone-02-upload")
    phone.locator("#image").set_input_files(str(write_file(tmp_path, "astronaut.jpg", jpeg_bytes("astronaut"))))
    wait_for_result(phone, 512)
    phone.locator("#asset-search").fill("photo")
    expect(phone.locator("#asset-results [role=option]")).to_have_count(5)
    check(phone, "phone-03-upload-result-and-picker")

    phone.goto(phone.base + "/assets/")
    load_every_image(phone)
    phone.get_by_label(f"Select {LONG_NAME}").check()
    check(phone, "phone-04-grid-selection")
    phone.get_by_role("button", name="Delete…").click()
    expect(phone.locator("#bulk-delete-dialog")).to_be_visible()
    check(phone, "phone-05-grid-delete-dialog")
    phone.keyboard.press("Escape")
    phone.goto(phone.base + "/assets/?has_conversion=bogus&name=" + "x" * 60)
    check(phone, "phone-06-grid-filtered-empty")

    phone.goto(phone.base + f"/assets/{asset.id}/")
    load_every_image(phone)
    check(phone, "phone-07-asset")
    phone.get_by_role("button", name="Rename").click()
    phone.get_by_role("button", name="Remove background").click()
    phone.get_by_role("button", name="Preview").click()
    expect(phone.locator("#cutout-result")).to_be_visible(timeout=30_000)
    phone.wait_for_function("() => document.querySelector('#cutout-compare-after').naturalWidth === 900")
    check(phone, "phone-08-asset-rename-and-remove-background")
    phone.get_by_role("button", name="Compose").click()
    phone.get_by_label("Another asset").check()
    phone.get_by_label("At a point (its top-left corner)").check()
    check(phone, "phone-09-asset-compose")
    phone.get_by_role("radio", name="JSON").check()
    check(phone, "phone-10-asset-data-json")
    phone.get_by_role("button", name="Delete…").click()
    check(phone, "phone-11-asset-delete-dialog")
    phone.keyboard.press("Escape")

    phone.goto(phone.base + "/assets/add/")
    phone.locator("#add-files").set_input_files(
        [str(write_file(tmp_path, LONG_NAME, jpeg_bytes("chelsea"))), str(write_file(tmp_path, "b.png", encode(photo("rocket", (300, 200)), "PNG")))]
    )
    phone.get_by_label("Data schema").select_option(label="Product sheet")
    check(phone, "phone-12-add-images")

    phone.goto(phone.base + "/assets/" + "0" * 32 + "/")
    check(phone, "phone-13-not-found")


def test_an_empty_library_and_a_users_pages_fit_a_phone(phone, make_user):
    user, _ = make_user(Role.USER)
    log_in(phone, user, next_path="/assets/")
    check(phone, "phone-14-grid-empty-user")
    asset = make_asset(user, LONG_NAME, jpeg_bytes("coffee", (900, 600)), data={"a": "b" * 200})
    phone.goto(phone.base + f"/assets/{asset.id}/")
    load_every_image(phone)
    check(phone, "phone-15-asset-user")
    phone.goto(phone.base + "/assets/add/")
    check(phone, "phone-16-add-user")
