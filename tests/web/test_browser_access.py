"""Keyboard and roles, in Chromium.

- The upload page walked with the keyboard alone: Tab to the file input, Space opens the
  picker, options changed with arrows, Enter runs again, the before/after slider moved with
  arrows, the save target and the asset chosen with arrows and Enter, the name typed, Enter
  saves, and the link to the saved asset followed; the focus is visible at each step.
- Roles: a USER sees no write action on any page; requests the pages do not offer, forged
  from a USER's (or a CREATOR's) session with its CSRF token, are refused by the API and
  change nothing; without the token they are refused too.
Screenshots: test-output/screenshots/keyboard-*.png and role-*.png.
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from assets.models import Asset, Conversion, Job, Role
from tests.conftest import add_conversion, make_asset
from tests.images import jpeg_bytes, png_bytes
from tests.web.browser import log_in, shot, write_file
from tests.web.test_browser import RESULT, wait_for_result

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector`; its focus must show."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)", selector):
            style = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert style != "none", f"{selector} has focus but no visible outline"
            return
    pytest.fail(f"Tab never reached {selector}; stuck at {page.evaluate('document.activeElement.outerHTML')[:200]}")


def test_the_upload_page_with_the_keyboard_alone(page, make_user, tmp_path):
    user, _ = make_user(Role.CREATOR)
    target = make_asset(user, "chelsea.jpg", jpeg_bytes("chelsea", (240, 160)))
    image = write_file(tmp_path, "astronaut.jpg", jpeg_bytes("astronaut", (320, 320)))
    log_in(page, user)
    page.evaluate("() => document.activeElement.blur()")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    tab_to(page, "#image")
    shot(page, "keyboard-01-file-input-focused", full_page=False)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(image))
    wait_for_result(page, 320)

    tab_to(page, "#strength")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#strength")).to_have_value("high")
    tab_to(page, "#submit")
    with page.expect_request(lambda r: "/addons/bg_remove" in r.url) as again:
        page.keyboard.press("Enter")
    assert "strength=high" in again.value.url
    wait_for_result(page, 320)

    tab_to(page, "#result-compare-split")
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#result-compare-split")).to_have_value("45")
    assert page.evaluate("() => document.querySelector('#result-compare').style.getPropertyValue('--split')") == "45%"
    shot(page, "keyboard-02-slider-moved", full_page=False)

    tab_to(page, 'input[name="action"]:checked')
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Save as a new asset")).to_be_checked()
    expect(page.locator("#asset-label")).to_have_text("Source asset (optional)")
    page.keyboard.press("ArrowUp")
    expect(page.get_by_label("Save as a conversion of one of my assets")).to_be_checked()

    tab_to(page, "#asset-search")
    page.keyboard.type("chel")
    expect(page.locator("#asset-results [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(page.locator("#asset-results [role=option]").first).to_have_attribute("aria-selected", "true")
    shot(page, "keyboard-03-picker-option-active", full_page=False)
    page.keyboard.press("Enter")
    expect(page.locator("#asset-chosen")).to_contain_text("Chosen: chelsea.jpg")

    tab_to(page, "#conversion_name")
    page.keyboard.press("Control+A")
    page.keyboard.type("walked")
    tab_to(page, "#save")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_contain_text("Saved as conversion “walked” of chelsea.jpg.")
    assert Conversion.objects.get(asset=target, name="walked").width == 320
    tab_to(page, "#saved-link")
    shot(page, "keyboard-04-saved-link-focused", full_page=False)
    page.keyboard.press("Enter")
    expect(page).to_have_url(page.base + f"/assets/{target.id}/")


FORGE_JS = """async ([method, url, body, withToken]) => {
    const headers = {Accept: 'application/json'};
    if (withToken) headers['X-CSRFToken'] = document.querySelector('meta[name="csrf-token"]').content;
    let payload;
    if (body && body.file) {
        payload = new FormData();
        payload.append('file', new Blob([Uint8Array.from(atob(body.file), c => c.charCodeAt(0))], {type: 'image/jpeg'}), 'forged.jpg');
    } else if (body) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    const response = await fetch(url, {method, headers, body: payload, credentials: 'same-origin'});
    return [response.status, await response.text()];
}"""


def world() -> dict:
    return {
        "assets": sorted(Asset.objects.values_list("id", "name", "data", "data_schema_id")),
        "conversions": sorted(Conversion.objects.values_list("asset_id", "name", "checksum")),
        "jobs": Job.objects.exclude(kind="thumbnail").count(),
    }


def test_a_user_sees_no_write_action_and_a_forged_request_from_the_session_is_refused(page, make_user):
    owner, _ = make_user(Role.ADMIN)
    user, _ = make_user(Role.USER)
    asset = make_asset(owner, "cat.jpg", jpeg_bytes("chelsea", (120, 80)), data={"sku": "CAT-1"})
    add_conversion(asset, "thumb", png_bytes("chelsea", (60, 40)))
    log_in(page, user, next_path="/assets/")
    expect(page.locator(".select-asset")).to_have_count(0)
    expect(page.locator("#bulk-bar")).to_have_count(0)
    expect(page.get_by_role("link", name="Add images")).to_have_count(0)
    shot(page, "role-01-user-grid")
    page.goto(page.base + f"/assets/{asset.id}/")
    for name in ("Rename", "Remove background", "Compose", "Delete…", "Delete conversion thumb", "Save data"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.locator("#data")).to_contain_text('"sku": "CAT-1"')
    shot(page, "role-02-user-asset")
    page.goto(page.base + "/assets/add/")
    expect(page.locator("#add-not-allowed")).to_contain_text("Your role (USER) can look at assets")
    expect(page.locator("#add-files")).to_have_count(0)
    shot(page, "role-03-user-add")

    before = world()
    jpeg = base64.b64encode(jpeg_bytes("rocket", (40, 30))).decode()
    forged = [
        ("PATCH", f"/api/v1/assets/{asset.id}", {"name": "pwned.jpg"}),
        ("POST", f"/api/v1/assets/{asset.id}/data/update", {"data": {"sku": "X"}, "mode": "REPLACE"}),
        ("DELETE", f"/api/v1/assets/{asset.id}", None),
        ("DELETE", f"/api/v1/assets/{asset.id}/content/thumb", None),
        ("POST", "/api/v1/assets", {"file": jpeg}),
        ("POST", f"/api/v1/assets/{asset.id}/content/forged", {"file": jpeg}),
        ("POST", "/api/v1/assets/addons/image_graphics", {"assets": [{asset.id: {"options": {}}}], "operations": [{"bg_remove": {"options": {}}}]}),
    ]
    for method, url, body in forged:
        status, text = page.evaluate(FORGE_JS, [method, url, body, True])
        assert status == 403 and '"code":"permission_denied"' in text and "your role USER may not" in text, (method, url, text)
        status, text = page.evaluate(FORGE_JS, [method, url, body, False])
        assert status == 403 and "CSRF" in text, (method, url, text)
    assert world() == before


def test_a_creator_cannot_delete_even_by_a_forged_request(page, make_user):
    user, _ = make_user(Role.CREATOR)
    asset = make_asset(user, "cat.jpg", jpeg_bytes("chelsea", (120, 80)))
    add_conversion(asset, "thumb", png_bytes("chelsea", (60, 40)))
    log_in(page, user, next_path=f"/assets/{asset.id}/")
    expect(page.get_by_role("button", name="Rename")).to_be_visible()
    expect(page.get_by_role("button", name="Delete…")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete conversion thumb")).to_have_count(0)
    shot(page, "role-04-creator-asset")
    before = world()
    for url in (f"/api/v1/assets/{asset.id}", f"/api/v1/assets/{asset.id}/content/thumb"):
        status, text = page.evaluate(FORGE_JS, ["DELETE", url, None, True])
        assert status == 403 and "this needs MANAGER or above" in text, text
    page.goto(page.base + "/assets/")
    expect(page.get_by_role("button", name="Delete…")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove background…")).to_be_visible()
    assert world() == before
