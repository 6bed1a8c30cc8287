"""Defects found by using the pages as a newcomer would, each reproduced in Chromium with
the steps that showed it, and shown fixed (fixtures: tests/web/browser.py):

- a chosen asset could not be undone (empty the search, switch to "new asset": the save
  still named and sourced the new asset after it), and ArrowDown did not enter the list;
- cut-outs in the grid sat on flat grey, not on the checkerboard;
- on a phone (390 x 844) the header did not wrap, the grid was one column, and the result
  of a background removal started below the fold without the page scrolling to it;
- the admin's asset list at 1400 px was wider than its area;
- an unknown asset id gave an unstyled "Not Found"; `?has_conversion=bogus` showed nothing
  without saying why.
Screenshots: test-output/screenshots/defect-*.png.
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import User
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from assets.models import Asset, Role
from tests.conftest import add_conversion, make_asset
from tests.images import encode, jpeg_bytes, photo
from tests.web.browser import PHONE, close_tab, load_every_image, log_in, new_tab, no_sideways_scroll, shot, write_file
from tests.web.test_browser import wait_for_result

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKS = {(255, 255, 255), (204, 204, 204)}  # the checkerboard's two colours
TILE_GREY = (0xEE, 0xF0, 0xF3)


def cutout_png(size: tuple[int, int] = (600, 400)) -> bytes:
    """A photo with its background made transparent (an ellipse kept)."""
    image = photo("chelsea", size).convert("RGBA")
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((size[0] * 0.2, size[1] * 0.1, size[0] * 0.8, size[1] * 0.9), fill=255)
    image.putalpha(mask)
    return encode(image, "PNG")


def corner_colours(locator) -> set[tuple[int, int, int]]:
    """The colours drawn near the bottom-right corner of an element (transparent in a
    cut-out), 4 px in from its edges (a fractional edge may show what lies beside it)."""
    with Image.open(io.BytesIO(locator.screenshot())) as image:
        corner = image.convert("RGB").crop((image.width - 28, image.height - 28, image.width - 4, image.height - 4))
        return {colour for _, colour in corner.getcolors(24 * 24)}


def test_a_chosen_asset_can_be_undone_and_arrow_down_enters_the_list(page, make_user, tmp_path):
    user, _ = make_user(Role.CREATOR)
    chosen = make_asset(user, "batch-12-coffee.jpg", jpeg_bytes("coffee", (120, 80)))
    make_asset(user, "batch-13-coffee.jpg", jpeg_bytes("coffee", (100, 80)))
    log_in(page, user)
    page.locator("#image").set_input_files(str(write_file(tmp_path, "rocket.jpg", jpeg_bytes("rocket", (320, 214)))))
    wait_for_result(page, 320)

    search = page.locator("#asset-search")
    search.fill("batch")
    expect(page.locator("#asset-results [role=option]")).to_have_count(2)
    search.press("ArrowDown")  # into the list: the first match is the active one
    first = page.locator("#asset-results [role=option]").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    search.press("ArrowDown")
    search.press("ArrowUp")
    expect(first).to_have_attribute("aria-selected", "true")
    search.press("Enter")
    expect(page.locator("#asset-chosen")).to_contain_text("Chosen: batch-13-coffee.jpg")  # newest first
    expect(search).to_have_value("batch-13-coffee.jpg")
    page.get_by_role("button", name="Clear the chosen asset batch-13-coffee.jpg").click()
    expect(page.locator("#asset-chosen")).to_have_text("No asset chosen.")
    expect(search).to_be_focused()

    # the steps of the report: choose, empty the search box, switch to a new asset
    search.fill("batch-12")
    page.locator(f'#asset-results [role=option][data-asset-id="{chosen.id}"]').click()
    expect(page.locator("#asset-chosen")).to_contain_text("Chosen: batch-12-coffee.jpg")
    search.fill("")
    expect(page.locator("#asset-chosen")).to_have_text("No asset chosen.")
    page.get_by_label("Save as a new asset").check()
    expect(page.locator("#asset-chosen")).to_have_text("No asset chosen.")
    shot(page, "defect-01-choice-undone")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-status")).to_contain_text("Saved as the new asset “rocket_bg_removed.png”.")
    made = Asset.objects.get(name="rocket_bg_removed.png")
    assert made.source_asset_id is None and made.width == 320  # not named or sourced after the old choice
    assert not Asset.objects.filter(name__startswith="batch-12-coffee_").exists()


def test_cutouts_sit_on_the_checkerboard_in_the_grid_the_detail_page_and_the_picker(page, make_user):
    user, _ = make_user(Role.CREATOR)
    cutout = make_asset(user, "cat-cutout.png", cutout_png())
    add_conversion(cutout, "bg_removed", cutout_png((300, 200)))
    log_in(page, user, next_path="/assets/")
    load_every_image(page)
    tile = page.locator(f'li[data-asset-id="{cutout.id}"] img')
    colours = corner_colours(tile)
    assert colours & CHECKS == CHECKS and TILE_GREY not in colours, colours
    shot(page, "defect-02-cutout-on-checkerboard-grid")
    page.goto(page.base + f"/assets/{cutout.id}/")
    load_every_image(page)
    colours = corner_colours(page.locator('li[data-conversion="bg_removed"] img'))
    assert colours & CHECKS == CHECKS and TILE_GREY not in colours, colours


def test_on_a_phone_the_header_wraps_the_grid_has_two_columns_and_the_result_comes_into_view(phone, make_user, tmp_path):
    user, _ = make_user(Role.CREATOR, username="a-rather-long-user-name")
    for n in range(24):
        make_asset(user, f"photo-{n:02d}.jpg", jpeg_bytes("coffee", (600, 400)))
    log_in(phone, user, next_path="/assets/")
    load_every_image(phone)
    logout = phone.get_by_role("button", name="Log out")
    box = logout.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    no_sideways_scroll(phone)
    lefts = phone.evaluate("() => [...document.querySelectorAll('#asset-grid li')].map(li => Math.round(li.getBoundingClientRect().left))")
    assert len(set(lefts)) == 2, lefts  # two columns
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 4500, height  # twelve rows of two, not 24 rows of one
    shot(phone, "defect-03-phone-grid")
    shot(phone, "defect-04-phone-header", full_page=False)

    phone.goto(phone.base + "/upload/")
    phone.locator("#image").set_input_files(str(write_file(tmp_path, "chelsea.jpg", jpeg_bytes("chelsea"))))
    wait_for_result(phone, 451)
    # scrolled to the result's top, give or take a subpixel
    phone.wait_for_function("() => { const t = document.querySelector('#result').getBoundingClientRect().top; return t > -1 && t < innerHeight / 2; }")
    no_sideways_scroll(phone)
    shot(phone, "defect-05-phone-result-in-view", full_page=False)


def test_the_admin_asset_list_fits_its_area_at_1400_px(browser, live_server, make_user):
    user, _ = make_user(Role.CREATOR)
    for n in range(3):
        make_asset(user, f"a-long-descriptive-file-name-of-a-product-photo-{n}.jpg", jpeg_bytes("rocket", (640, 427)))
    User.objects.create_superuser("root", "root@example.com", "pw-123456")
    tab = new_tab(browser, live_server.url, {"width": 1400, "height": 900})
    try:
        tab.goto(tab.base + "/admin/login/?next=/admin/assets/asset/")
        tab.locator("#id_username").fill("root")
        tab.locator("#id_password").fill("pw-123456")
        tab.locator('input[type="submit"]').click()
        expect(tab).to_have_url(tab.base + "/admin/assets/asset/")
        load_every_image(tab)
        widths = tab.evaluate(
            "() => { const t = document.querySelector('#result_list'); const area = t.closest('.results');"
            " return [t.getBoundingClientRect().width, area.clientWidth, area.scrollWidth]; }"
        )
        assert widths[0] <= widths[1] and widths[2] <= widths[1], widths  # no sideways scroll
        for column in ("column-file_size", "column-dimensions", "column-uploaded"):
            cell = tab.locator(f"#result_list th.{column}").bounding_box()
            assert cell["x"] + cell["width"] <= 1400, (column, cell)
        sizes = tab.locator("#result_list td.field-file_size").all_inner_texts()
        assert sizes and all(re.fullmatch(r"\d+(\.\d)? (bytes|KB|MB)", s) for s in sizes), sizes  # "12 KB", not bytes
        shot(tab, "defect-06-admin-list-1400")
    finally:
        close_tab(tab)


def test_an_unknown_asset_is_a_styled_404_with_a_way_back_and_a_bogus_filter_is_explained(page, make_user):
    user, _ = make_user(Role.USER)
    asset = make_asset(user, "cat.jpg", jpeg_bytes("chelsea", (90, 60)))
    add_conversion(asset, "bg_removed", cutout_png((90, 60)))
    log_in(page, user, next_path="/assets/" + "f" * 32 + "/")
    assert page.evaluate("() => document.title") == "Not found · Asset service"
    expect(page.get_by_role("heading", name="No such asset")).to_be_visible()
    expect(page.locator("#not-found")).to_contain_text("There is no asset " + "f" * 32 + " in your account.")
    shot(page, "defect-07-styled-404")
    page.get_by_role("link", name="Go to all assets").click()
    expect(page).to_have_url(page.base + "/assets/")

    page.goto(page.base + "/assets/?has_conversion=bogus")
    note = page.locator("#filter-has-conversion-note")
    expect(note).to_have_text("No asset has a conversion named “bogus”. The conversions in use here: “bg_removed”.")
    expect(page.get_by_label("Conversions")).to_have_value("bogus")
    expect(page.locator("#no-assets")).to_contain_text("No asset matches these filters")
    shot(page, "defect-08-bogus-filter-explained")
