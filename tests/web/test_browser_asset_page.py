"""The asset page's own actions in Chromium (fixtures: tests/web/browser.py): rename, the
data form generated from the asset's schema (a violation shown on its field, in words;
the JSON fallback), deleting the asset after a confirmation that says what goes, and
deleting one conversion. Each goes through the API with the session; the rows and files
are checked after. Screenshots: test-output/screenshots/asset-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assets.models import Asset, Conversion, DataSchema, Rendition, Role
from assets.templatetags.people import human_size
from tests.conftest import add_conversion, make_asset, stored_files
from tests.images import jpeg_bytes, png_bytes
from tests.web.browser import load_every_image, log_in, shot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PRODUCT = {
    "type": "object",
    "required": ["sku"],
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$", "description": "three capitals, a dash, four digits"},
        "price": {"type": "number", "minimum": 0},
        "colour": {"enum": ["red", "green", "blue"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "in_stock": {"type": "boolean"},
    },
}


def field(page, label: str):
    """The data form's control of property `label` and its error slot."""
    control = page.locator("#data-fields .field", has=page.locator(f'label:text-matches("^{label}\\\\b")')).locator("input, select, textarea").first
    return control, page.locator("#" + control.get_attribute("id") + "-error")


def test_rename(page, make_user):
    user, _ = make_user(Role.CREATOR)
    asset = make_asset(user, "IMG_0042.jpg", jpeg_bytes("rocket", (320, 214)))
    log_in(page, user, next_path=f"/assets/{asset.id}/")
    page.get_by_role("button", name="Rename").click()
    name = page.get_by_label("New name")
    expect(name).to_be_focused()
    expect(name).to_have_value("IMG_0042.jpg")
    name.fill("   ")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#rename-name-error")).to_have_text("Give the asset a name.")
    name.fill("Launch, Cape Canaveral.jpg")
    shot(page, "asset-01-rename")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#asset-name")).to_have_text("Launch, Cape Canaveral.jpg")
    expect(page.locator("#rename-form")).to_be_hidden()
    expect(page).to_have_title("Launch, Cape Canaveral.jpg · Asset service")
    assert Asset.objects.get(pk=asset.pk).name == "Launch, Cape Canaveral.jpg"
    page.reload()
    expect(page.locator("#asset-name")).to_have_text("Launch, Cape Canaveral.jpg")
    expect(page.locator("#download-original")).to_have_attribute("download", "Launch, Cape Canaveral.jpg")
    shot(page, "asset-02-renamed")


def test_the_data_form_shows_the_schemas_violations_on_their_fields_and_saves(page, make_user):
    user, _ = make_user(Role.CREATOR)
    schema = DataSchema.objects.create(account=user.membership.account, name="Product sheet", schema=PRODUCT)
    asset = make_asset(user, "mug.jpg", jpeg_bytes("coffee", (300, 200)), data={"sku": "MUG-0001", "price": 3}, data_schema=schema)
    log_in(page, user, next_path=f"/assets/{asset.id}/")
    expect(page.locator("#data-schema")).to_have_value(str(schema.id))
    expect(page.locator("#fact-schema")).to_have_text("Product sheet")
    sku, sku_error = field(page, "sku")
    price, price_error = field(page, "price")
    expect(sku).to_have_value("MUG-0001")
    expect(sku).to_have_attribute("aria-required", "true")
    expect(page.locator('#data-fields label:has-text("sku") .required-mark')).to_have_text("*")
    expect(price).to_have_value("3")

    # a price below the schema's minimum and a sku of the wrong form: each said on its field
    price.fill("-5")
    sku.fill("mug 1")
    with page.expect_response(lambda r: r.url.endswith("/data/update")) as answer:
        page.get_by_role("button", name="Save data").click()
    assert answer.value.status == 400
    body = answer.value.json()
    assert body["code"] == "schema_violation"
    assert body["errors"]["data.price"] == ["-5 is less than the minimum of 0"]  # the API's exact words
    expect(price_error).to_have_text("Must be at least 0.")
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(sku_error).to_have_text("Not in the form this field takes (three capitals, a dash, four digits).")
    expect(sku).to_be_focused()
    shot(page, "asset-03-data-form-violation")
    assert Asset.objects.get(pk=asset.pk).data == {"sku": "MUG-0001", "price": 3}

    # a required field left empty: the API names the object, the page the field
    sku.fill("")
    price.fill("9.5")
    page.get_by_role("button", name="Save data").click()
    expect(sku_error).to_have_text("Required: fill it in.")
    expect(price_error).to_be_empty()

    sku.fill("MUG-0002")
    field(page, "colour")[0].select_option(label="green")
    field(page, "tags")[0].fill("kitchen\n  ceramic \n")
    field(page, "in_stock")[0].select_option(label="Yes")
    page.get_by_role("button", name="Save data").click()
    expect(page.locator("#data-status")).to_have_text("Saved.")
    saved = {"sku": "MUG-0002", "price": 9.5, "colour": "green", "tags": ["kitchen", "ceramic"], "in_stock": True}
    assert Asset.objects.get(pk=asset.pk).data == saved
    shot(page, "asset-04-data-form-saved")

    # the JSON fallback: the same data, and keys the schema does not name are kept
    page.get_by_role("radio", name="JSON").check()
    json_box = page.get_by_label("The data, as a JSON object")
    assert json_box.input_value().replace(" ", "").replace("\n", "").startswith('{"sku":"MUG-0002"')
    json_box.fill('{"sku": "MUG-0002", "price": 9.5, "note": "gift box"')
    page.get_by_role("button", name="Save data").click()
    expect(page.locator("#data-json-error")).to_contain_text("Not valid JSON")
    json_box.fill('{"sku": "MUG-0002", "price": 9.5, "note": "gift box"}')
    page.get_by_role("button", name="Save data").click()
    expect(page.locator("#data-status")).to_have_text("Saved.")
    assert Asset.objects.get(pk=asset.pk).data == {"sku": "MUG-0002", "price": 9.5, "note": "gift box"}
    page.get_by_role("radio", name="the form").check()
    expect(page.get_by_label("Other fields, not in the schema (a JSON object)")).to_have_value('{\n  "note": "gift box"\n}')
    shot(page, "asset-05-data-json-kept-in-the-form")

    # moving to the built-in schema: any data, edited as JSON
    page.get_by_label("Data schema", exact=True).select_option(label="default (any data)")
    expect(page.get_by_role("radio", name="the form")).to_be_disabled()
    expect(json_box).to_be_visible()
    page.get_by_role("button", name="Save data").click()
    expect(page.locator("#fact-schema")).to_have_text("default (any data)")
    assert Asset.objects.get(pk=asset.pk).data_schema_id == 0


def test_delete_says_what_goes_and_keeps_the_derived_asset(page, make_user, media_root):
    user, _ = make_user(Role.MANAGER)
    asset = make_asset(user, "studio.jpg", jpeg_bytes("chelsea", (600, 400)))
    add_conversion(asset, "bg_removed", png_bytes("chelsea", (600, 400)))
    add_conversion(asset, "square", png_bytes("chelsea", (200, 200)))
    child = make_asset(user, "studio-card.png", png_bytes("chelsea", (100, 100)), source=asset)
    log_in(page, user, next_path=f"/assets/{asset.id}/")
    load_every_image(page)  # the page's renditions exist now
    renditions = Rendition.objects.filter(asset=asset).count()
    assert renditions >= 3
    page.reload()
    files_before = {str(p.relative_to(media_root)) for p in stored_files(media_root)}
    own = {f for f in files_before if asset.id in f}
    assert len(own) == 1 + 2 + renditions, own  # the original, 2 conversions, the renditions

    page.get_by_role("button", name="Delete…").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Delete “studio.jpg”?")
    expect(dialog.locator("#delete-what")).to_contain_text(f"the original ({human_size(asset.size)})")
    expect(dialog.locator("#delete-what")).to_contain_text("2 conversions: bg_removed, square")
    expect(dialog.locator("#delete-what")).to_contain_text(f"{renditions} renditions (the resized copies the pages show)")
    expect(dialog.locator("#delete-stays")).to_have_text("The 1 asset derived from it stays; its source will show as deleted.")
    shot(page, "asset-06-delete-confirmation", full_page=False)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert Asset.objects.filter(pk=asset.pk).exists()

    page.get_by_role("button", name="Delete…").click()
    dialog.get_by_role("button", name="Delete the asset").click()
    expect(page).to_have_url(page.base + "/assets/")
    expect(page.locator("#page-notice")).to_have_text("Deleted “studio.jpg”, its conversions and renditions.")
    shot(page, "asset-07-deleted")
    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert not Conversion.objects.filter(asset_id=asset.id).exists() and not Rendition.objects.filter(asset_id=asset.id).exists()
    assert Asset.objects.get(pk=child.pk).source_asset_id == asset.id  # derived: kept, its source dangling
    files_after = {str(p.relative_to(media_root)) for p in stored_files(media_root)}
    assert files_before - files_after == own  # every file of the asset, and nothing else
    assert Asset.objects.get(pk=child.pk).file.name in files_after
    page.goto(page.base + f"/assets/{child.id}/")
    expect(page.locator("#lineage-source")).to_contain_text("deleted")


def test_delete_one_conversion(page, make_user, media_root):
    user, _ = make_user(Role.ADMIN)
    asset = make_asset(user, "studio.jpg", jpeg_bytes("chelsea", (300, 200)))
    gone = add_conversion(asset, "draft", png_bytes("coffee", (120, 80)))
    kept = add_conversion(asset, "final", png_bytes("rocket", (120, 80)))
    log_in(page, user, next_path=f"/assets/{asset.id}/")
    page.get_by_role("button", name="Delete conversion draft").click()
    dialog = page.locator("#conversion-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Delete the conversion “draft”?")
    expect(dialog).to_contain_text(f"Its file ({human_size(gone.size)}) and its renditions go.")
    shot(page, "asset-08-delete-conversion-confirmation", full_page=False)
    dialog.get_by_role("button", name="Delete the conversion").click()
    expect(page.locator('li[data-conversion="draft"]')).to_have_count(0)
    expect(page.locator("#page-notice")).to_have_text("Deleted the conversion “draft”.")
    assert list(Conversion.objects.filter(asset=asset).values_list("name", flat=True)) == ["final"]
    files = {str(p.relative_to(media_root)) for p in stored_files(media_root)}
    assert gone.file.name not in files and kept.file.name in files
    shot(page, "asset-09-conversion-deleted")
