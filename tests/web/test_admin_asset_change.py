"""The Django admin's asset change page: conversions inline with previews and downloads,
lineage linked both ways (a deleted source shown as its id), the data pretty-printed and
validated against the (chosen) schema of the asset's own account, and deleting an asset
(its files go once committed)."""

from __future__ import annotations

import json

import pytest

from assets.models import Account, Asset, Conversion, DataSchema
from tests.conftest import stored_files
from tests.web.conftest import ASSETS, form_fields

pytestmark = pytest.mark.django_db


# --- the asset change page ------------------------------------------------------------------


def test_change_page_shows_conversions_inline_with_preview_and_download(web, library):
    asset = library["parent"][0]
    html = web.get(f"{ASSETS}{asset.id}/change/").content.decode()
    inline = html[html.index('id="conversions-group"'):]
    # previews are renditions: 128 px inline (the 32-px thumb as it is), 512 px for the original
    assert f'<img src="{ASSETS}{asset.id}/file/thumb/?w=128&amp;h=128" width="32" height="32"' in inline
    assert f'<a href="{ASSETS}{asset.id}/file/thumb/?download=1">Download</a>' in inline
    assert "thumb" in inline and "image/png" in inline
    # The original too: a large preview and a download link.
    assert f'<img src="{ASSETS}{asset.id}/file/original/?w=512&amp;h=512" width="96" height="96"' in html
    assert f'href="{ASSETS}{asset.id}/file/original/?download=1"' in html
    # What the links point at is what is stored.
    download = web.get(f"{ASSETS}{asset.id}/file/thumb/?download=1")
    assert b"".join(download.streaming_content) == library["thumb"][1]


def _lineage_html(html: str, label: str) -> str:
    start = html.index(f"<label>{label}")
    return html[start:html.index("</div>", html.index('class="readonly"', start))]


def test_change_page_links_lineage_both_ways(web, library):
    parent, child, grandchild = (library[k][0] for k in ("parent", "child", "grandchild"))
    html = web.get(f"{ASSETS}{child.id}/change/").content.decode()
    sources = _lineage_html(html, "Source (nearest first)")
    derived = _lineage_html(html, "Derived assets")
    assert f'<a href="{ASSETS}{parent.id}/change/">astronaut.jpg ({parent.id})</a>' in sources
    assert f'<a href="{ASSETS}{grandchild.id}/change/">coffee.jpg ({grandchild.id})</a>' in derived
    assert grandchild.id not in sources and parent.id not in derived

    # From the top, every generation below; from the bottom, every one above, nearest first.
    top_html = web.get(f"{ASSETS}{parent.id}/change/").content.decode()
    assert '<div class="readonly">-</div>' in _lineage_html(top_html, "Source (nearest first)") + "</div>"
    top = _lineage_html(top_html, "Derived assets")
    assert top.index(child.id) < top.index(grandchild.id)
    bottom = _lineage_html(web.get(f"{ASSETS}{grandchild.id}/change/").content.decode(), "Source (nearest first)")
    assert bottom.index(child.id) < bottom.index(parent.id)
    assert f'href="{ASSETS}{parent.id}/change/"' in bottom


def test_a_deleted_source_is_shown_as_its_id_marked_deleted(web, library):
    html = web.get(f"{ASSETS}{library['orphan'][0].id}/change/").content.decode()
    sources = _lineage_html(html, "Source (nearest first)")
    assert f"{'0' * 32} (deleted)" in sources
    assert f"{ASSETS}{'0' * 32}/change/" not in sources


def test_change_page_shows_data_pretty_printed(web, library):
    asset = library["parent"][0]
    asset.data = {"sku": "A-100", "tags": ["space", "portrait"], "name": "Ünïcode"}
    asset.save()
    fields = form_fields(web.get(f"{ASSETS}{asset.id}/change/").content)
    assert json.loads(fields["data"]) == asset.data
    # Indented, non-ASCII as is, in the order the database returns the keys (jsonb sorts them).
    stored = Asset.objects.get(id=asset.id).data
    assert fields["data"] == json.dumps(stored, indent=2, ensure_ascii=False)
    assert '\n  "tags": [\n    "space",\n    "portrait"\n  ]' in fields["data"] and "Ünïcode" in fields["data"]


def _row(asset_id: str) -> tuple:
    return Asset.objects.filter(id=asset_id).values_list("name", "data", "data_schema_id", "update_time").get()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ('{"price": "cheap"}', "data.price: &#x27;cheap&#x27; is not of type &#x27;number&#x27;"),
        ('{"tags": ["x"]}', "data: &#x27;price&#x27; is a required property"),
        ('{"price": 1, "tags": [3]}', "data.tags[0]: 3 is not of type &#x27;string&#x27;"),
        ('[1, 2]', "must be a JSON object, got list"),
        ('{"price": ', "Enter a valid JSON."),
        ('{"price": 1, "note": "a\\u0000b"}', "must not contain NUL"),
    ],
)
def test_saving_data_that_violates_the_schema_shows_the_error_and_changes_nothing(web, priced, data, error):
    url = f"{ASSETS}{priced.id}/change/"
    before = _row(priced.id)
    fields = form_fields(web.get(url).content)
    fields.update(data=data, name="renamed.jpg")
    response = web.post(url, fields)
    assert response.status_code == 200  # the form again, not a redirect
    assert "data" in response.context["adminform"].form.errors
    html = response.content.decode()
    assert error in html
    errors_block = html[html.index("field-data"):]
    assert error in errors_block[: errors_block.index("</textarea>")]
    assert _row(priced.id) == before


def test_saving_valid_data_updates_the_row(web, priced):
    url = f"{ASSETS}{priced.id}/change/"
    fields = form_fields(web.get(url).content)
    fields.update(data=json.dumps({"price": 12.5, "tags": ["new"]}), name="renamed.jpg")
    response = web.post(url, fields)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    priced.refresh_from_db()
    assert priced.data == {"price": 12.5, "tags": ["new"]}
    assert priced.name == "renamed.jpg"


def test_changing_the_schema_checks_the_data_against_the_new_schema(web, priced):
    url = f"{ASSETS}{priced.id}/change/"
    strict = DataSchema.objects.create(
        account=priced.account, name="strict", schema={"type": "object", "required": ["sku"]}
    )
    fields = form_fields(web.get(url).content)
    fields["data_schema"] = str(strict.id)
    response = web.post(url, fields)
    assert response.status_code == 200
    assert "data: &#x27;sku&#x27; is a required property" in response.content.decode()
    assert Asset.objects.get(id=priced.id).data_schema_id != strict.id

    fields["data"] = json.dumps({"sku": "A-1", "price": 1})
    assert web.post(url, fields).status_code == 302
    assert Asset.objects.get(id=priced.id).data_schema_id == strict.id


def test_another_accounts_schema_cannot_be_chosen(web, priced):
    foreign = DataSchema.objects.create(account=Account.objects.get(name="globex"), name="theirs", schema={"type": "object"})
    url = f"{ASSETS}{priced.id}/change/"
    html = web.get(url).content.decode()
    assert f'value="{foreign.id}"' not in html
    fields = form_fields(html.encode())
    fields["data_schema"] = str(foreign.id)
    response = web.post(url, fields)
    assert response.status_code == 200
    assert "data_schema" in response.context["adminform"].form.errors
    assert Asset.objects.get(id=priced.id).data_schema_id == priced.data_schema_id


def test_deleting_an_asset_in_the_admin_removes_its_files_once_committed(web, library, media_root, django_capture_on_commit_callbacks):
    asset = library["parent"][0]
    paths = {asset.file.name, *asset.conversions.values_list("file", flat=True)}
    before = stored_files(media_root)
    assert {str(p.relative_to(media_root)) for p in before} >= paths
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(f"{ASSETS}{asset.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Asset.objects.filter(id=asset.id).exists()
    assert not Conversion.objects.filter(asset_id=asset.id).exists()
    after = {str(p.relative_to(media_root)) for p in stored_files(media_root)}
    assert after == {str(p.relative_to(media_root)) for p in before} - paths
    assert Asset.objects.filter(id=library["child"][0].id, source_asset_id=asset.id).exists()
