"""The web pages through Django's test client: login, the account scoping of the grid and
the detail page, the filters, the lineage links and the role-dependent upload form."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from tests.images import jpeg_bytes, png_bytes
from assets.models import Account, DataSchema, Role
from assets.services import asset_delete
from assets.templatetags.people import human_size
from tests.conftest import add_conversion, make_asset

pytestmark = pytest.mark.django_db


# The images the pages show unless a test says otherwise.
PAGE_JPEG = jpeg_bytes("chelsea", (40, 30))
PAGE_PNG = png_bytes("coffee", (24, 16))


@pytest.fixture
def logged_in(make_user):
    """logged_in(role, account="acme") -> (Client with a session, user)."""

    def make(role: str = Role.CREATOR, account: str = "acme"):
        user, _ = make_user(role, account)
        client = Client()
        assert client.login(username=user.username, password="pw-123456")
        return client, user

    return make


def grid_ids(response) -> list[str]:
    return re.findall(r'<li data-asset-id="([0-9a-f]{32})"', response.content.decode())


# --- login ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/upload/", "/assets/", "/assets/0123456789abcdef0123456789abcdef/"])
def test_every_page_redirects_an_anonymous_visitor_to_the_login_form(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_login_form_renders_and_logging_in_lands_on_the_upload_page(client, make_user):
    user, _ = make_user(Role.CREATOR)
    page = client.get("/accounts/login/?next=/upload/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and 'value="/upload/"' in html
    response = client.post("/accounts/login/", {"username": user.username, "password": "pw-123456", "next": "/upload/"})
    assert response.status_code == 302 and response["Location"] == "/upload/"
    assert client.get("/upload/").status_code == 200


def test_wrong_password_shows_the_error_on_the_login_form(client, make_user):
    user, _ = make_user(Role.CREATOR)
    response = client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_root_redirects_a_logged_in_user_to_the_upload_page(logged_in):
    client, _ = logged_in()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/upload/"


def test_user_without_an_account_gets_a_403_page_not_a_crash(client, django_user_model):
    django_user_model.objects.create_user("loner", password="pw-123456")
    client.login(username="loner", password="pw-123456")
    for path in ("/upload/", "/assets/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "belongs to no account" in response.content.decode()


# --- the upload page and roles ----------------------------------------------------------------

SAVE_MARKERS = ['value="add_conversion"', 'value="add_new_asset"', 'id="conversion_name"', 'id="asset-search"', 'id="metadata"']


def test_user_upload_page_has_no_save_options_in_the_html(logged_in):
    client, _ = logged_in(Role.USER)
    html = client.get("/upload/").content.decode()
    for marker in SAVE_MARKERS:
        assert marker not in html
    assert 'id="save-form"' not in html
    assert "Your role (USER) can preview and download results" in html
    assert 'id="image"' in html and 'id="bg_mode"' in html  # preview still possible


@pytest.mark.parametrize("role", [Role.CREATOR, Role.MANAGER, Role.ADMIN])
def test_roles_that_may_save_get_every_save_option(logged_in, role):
    client, _ = logged_in(role)
    html = client.get("/upload/").content.decode()
    for marker in SAVE_MARKERS:
        assert marker in html
    assert "can preview and download results" not in html


def test_upload_page_offers_the_api_choices_and_posts_to_the_api(logged_in):
    client, _ = logged_in(Role.CREATOR)
    html = client.get("/upload/").content.decode()
    assert 'data-endpoint="/api/v1/assets/file/addons/bg_remove"' in html
    assert 'data-conversion-name-pattern="^[a-zA-Z0-9_-]{1,30}$"' in html
    assert 'data-reserved-conversion-names="original"' in html
    for value in ("auto", "portrait", "product", "low", "medium", "high"):
        assert f'<option value="{value}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    # the script and the stylesheet are served by this server, no CDN
    assert re.search(r'<script type="module" src="/static/web/upload\.js"', html)
    assert "https://" not in html and "http://" not in html
    assert client.get("/static/web/upload.js").status_code == 200
    assert client.get("/static/web/web.css").status_code == 200


# --- the grid ---------------------------------------------------------------------------------


def test_grid_lists_only_the_accounts_assets_newest_first_with_thumbnails(logged_in, make_user):
    client, user = logged_in(Role.USER)
    other, _ = make_user(Role.ADMIN, account="globex")
    first = make_asset(user, "first.jpg", PAGE_JPEG)
    second = make_asset(user, "second.jpg", PAGE_JPEG)
    foreign = make_asset(other, "foreign.jpg", PAGE_JPEG)
    response = client.get("/assets/")
    assert response.status_code == 200
    assert grid_ids(response) == [second.id, first.id]
    html = response.content.decode()
    assert foreign.id not in html and "foreign.jpg" not in html
    # a 256-px rendition (the thumbnail made after upload); 40 x 30 needs no 2x candidate
    assert f'src="/api/v1/assets/{first.id}/content/original?w=256&amp;h=256" width="40" height="30"' in html
    assert f'href="/assets/{first.id}/"' in html


def test_grid_asks_for_renditions_with_a_2x_candidate_for_large_images(logged_in):
    client, user = logged_in(Role.USER)
    wide = make_asset(user, "wide.jpg", jpeg_bytes("coffee", (600, 400)))
    tall = make_asset(user, "tall.png", png_bytes("chelsea", (300, 451)))
    html = client.get("/assets/").content.decode()
    for asset, shape in ((wide, "wide"), (tall, "tall checkerboard")):
        url = f"/api/v1/assets/{asset.id}/content/original"
        tag = re.search(rf'<img class="{shape}" [^>]*>', html).group(0)
        assert f'src="{url}?w=256&amp;h=256" srcset="{url}?w=256&amp;h=256 1x, {url}?w=512&amp;h=512 2x"' in tag
        assert f'width="{asset.width}" height="{asset.height}"' in tag and 'loading="lazy"' in tag


def test_grid_filters_by_name_content_type_and_conversion(logged_in):
    client, user = logged_in(Role.CREATOR)
    cat = make_asset(user, "cat.jpg", PAGE_JPEG)
    cat_png = make_asset(user, "cat-cutout.png", png_bytes("chelsea", (30, 20)))
    coffee = make_asset(user, "coffee.jpg", PAGE_JPEG)
    add_conversion(cat, "thumb", PAGE_PNG)
    add_conversion(coffee, "bg_removed", PAGE_PNG)

    assert grid_ids(client.get("/assets/", {"name": "CAT"})) == [cat_png.id, cat.id]
    assert grid_ids(client.get("/assets/", {"content_type": "image/png"})) == [cat_png.id]
    assert grid_ids(client.get("/assets/", {"has_conversion": "true"})) == [coffee.id, cat.id]
    assert grid_ids(client.get("/assets/", {"has_conversion": "false"})) == [cat_png.id]
    assert grid_ids(client.get("/assets/", {"has_conversion": "thumb"})) == [cat.id]
    assert grid_ids(client.get("/assets/", {"name": "cat", "has_conversion": "true"})) == [cat.id]
    response = client.get("/assets/", {"name": "dog"})
    assert grid_ids(response) == []
    assert "No asset matches these filters" in response.content.decode()
    # the form keeps what was asked, and offers the account's content types and conversion names
    html = client.get("/assets/", {"name": "cat", "content_type": "image/png"}).content.decode()
    assert 'name="name" value="cat"' in html
    assert '<option value="image/png" selected>' in html
    assert '<option value="thumb">with conversion thumb</option>' in html


def test_grid_shows_a_bad_filter_value_next_to_its_field(logged_in):
    client, user = logged_in(Role.CREATOR)
    make_asset(user, "cat.jpg", PAGE_JPEG)
    response = client.get("/assets/", {"has_conversion": "bad name!"})
    assert response.status_code == 200
    assert grid_ids(response) == []
    html = response.content.decode()
    # in words, not the API's pattern (the API keeps its message: tests/assets/test_asset_list.py)
    assert "A conversion name uses only letters, digits, - and _; “bad name!” has a space and “!”." in html
    assert "^[a-zA-Z0-9_-]" not in html


def test_grid_paginates_and_keeps_the_filters_in_the_page_links(logged_in):
    client, user = logged_in(Role.CREATOR)
    body = png_bytes("rocket", (8, 8))
    made = [make_asset(user, f"img-{n:02d}.png", body) for n in range(26)]
    make_asset(user, "other.jpg", PAGE_JPEG)
    first = client.get("/assets/", {"name": "img-"})
    assert len(grid_ids(first)) == 24
    html = first.content.decode()
    assert "Page 1 of 2" in html and 'href="?name=img-&amp;page=2"' in html
    second = client.get("/assets/", {"name": "img-", "page": 2})
    assert grid_ids(second) == [made[1].id, made[0].id]
    assert set(grid_ids(first)) | set(grid_ids(second)) == {a.id for a in made}


# --- the detail page --------------------------------------------------------------------------


def test_detail_shows_the_original_every_conversion_and_the_data(logged_in):
    client, user = logged_in(Role.USER)
    data = {"sku": "A-100", "tags": ["cat", "studio"], "price": {"amount": 12.5, "currency": "EUR"}}
    asset = make_asset(user, "cat.jpg", PAGE_JPEG, data=data, data_schema=DataSchema.objects.get(id=0))
    thumb = add_conversion(asset, "thumb", png_bytes("coffee", (24, 16)))
    cutout = add_conversion(asset, "bg_removed", png_bytes("rocket", (20, 10)))
    response = client.get(f"/assets/{asset.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    original = f"/api/v1/assets/{asset.id}/content/original"
    # renditions sized for where they are drawn; the download links give the stored files
    assert f'id="original" src="{original}?w=512&amp;h=512" width="40" height="30"' in html
    assert f'href="{original}" download="cat.jpg"' in html
    for conversion, size in ((thumb, "24 × 16"), (cutout, "20 × 10")):
        url = f"/api/v1/assets/{asset.id}/content/{conversion.name}"
        block = re.search(rf'<li data-conversion="{conversion.name}"[^>]*>(.*?)</li>', html, re.S).group(1)
        assert f'src="{url}?w=256&amp;h=256"' in block and f'href="{url}" download' in block
        assert human_size(conversion.size) in block and size in block and "image/png" in block
    # the data, pretty-printed with an indent of 2, exactly as json.dumps makes it
    pre = re.search(r'<pre class="data" id="data">(.*?)</pre>', html, re.S).group(1)
    assert pre.replace("&quot;", '"') == json.dumps(data, indent=2)
    # the conversion's download link answers with the conversion's bytes, with the session
    downloaded = client.get(f"/api/v1/assets/{asset.id}/content/thumb")
    assert b"".join(downloaded.streaming_content) == png_bytes("coffee", (24, 16))


def test_detail_links_the_source_and_the_derived_assets_and_marks_a_deleted_source(logged_in, make_user):
    client, user = logged_in(Role.MANAGER)
    root = make_asset(user, "root.jpg", PAGE_JPEG)
    middle = make_asset(user, "middle.png", png_bytes("chelsea", (20, 20)), source_asset_id=root.id)
    child = make_asset(user, "child.png", png_bytes("coffee", (20, 20)), source_asset_id=middle.id)
    grandchild = make_asset(user, "grandchild.png", png_bytes("rocket", (20, 20)), source_asset_id=child.id)

    html = client.get(f"/assets/{middle.id}/").content.decode()
    source = re.search(r'<ul id="lineage-source">(.*?)</ul>', html, re.S).group(1)
    assert f'<a href="/assets/{root.id}/">root.jpg</a>' in source
    derived = re.search(r'<ul id="lineage-derived">(.*?)</ul>', html, re.S).group(1)
    assert f'<a href="/assets/{child.id}/">child.png</a>' in derived
    assert f'<a href="/assets/{grandchild.id}/">grandchild.png</a>' in derived
    assert derived.index(child.id) < derived.index(grandchild.id)

    asset_delete(user=user, asset_id=root.id)
    html = client.get(f"/assets/{middle.id}/").content.decode()
    source = re.search(r'<ul id="lineage-source">(.*?)</ul>', html, re.S).group(1)
    assert f"<code>{root.id}</code>" in source and "deleted" in source
    assert f'href="/assets/{root.id}/"' not in html
    # the grandchild's chain shows the source as a link and the rest of the way up
    html = client.get(f"/assets/{grandchild.id}/").content.decode()
    source = re.search(r'<ul id="lineage-source">(.*?)</ul>', html, re.S).group(1)
    assert f'<a href="/assets/{child.id}/">child.png</a>' in source
    assert f'<a href="/assets/{middle.id}/">middle.png</a>' in source
    assert f"<code>{root.id}</code> <span class=\"deleted\">deleted</span>" in source


def test_detail_of_an_uploaded_asset_says_it_has_no_source_and_no_conversions(logged_in):
    client, user = logged_in(Role.USER)
    asset = make_asset(user, "lonely.jpg", PAGE_JPEG)
    html = client.get(f"/assets/{asset.id}/").content.decode()
    assert 'id="lineage-source"' not in html and 'id="lineage-derived"' not in html
    assert "None: this asset was uploaded, not derived." in html
    assert 'id="no-conversions"' in html
    assert '<pre class="data" id="data">{}</pre>' in html


def test_another_accounts_asset_detail_is_404(logged_in, make_user):
    client, _ = logged_in(Role.ADMIN)
    other, _ = make_user(Role.ADMIN, account="globex")
    foreign = make_asset(other, "secret.jpg", PAGE_JPEG)
    response = client.get(f"/assets/{foreign.id}/")
    assert response.status_code == 404
    assert "secret.jpg" not in response.content.decode()
    assert client.get("/assets/0123456789abcdef0123456789abcdef/").status_code == 404
    assert Account.objects.count() == 2


# --- words for people, roles, the 404 page ------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "words"),
    [(0, "0 bytes"), (1, "1 byte"), (930, "930 bytes"), (1024, "1 KB"), (230_450, "225 KB"), (1_048_575, "1 MB"),
     (2_411_724, "2.3 MB"), (52_428_800, "50 MB"), (59_978_342, "57.2 MB"), (3 * 1024**3, "3 GB")],
)
def test_sizes_read_as_people_say_them(size, words):
    assert human_size(size) == words


def test_detail_says_the_size_in_words_and_the_schema_by_its_name(logged_in):
    client, user = logged_in(Role.USER)
    schema = DataSchema.objects.create(account=user.membership.account, name="Product sheet", schema={"type": "object"})
    asset = make_asset(user, "coffee.jpg", jpeg_bytes("coffee", (400, 300)), data_schema=schema)
    html = client.get(f"/assets/{asset.id}/").content.decode()
    facts = re.search(r'<dl class="facts card">(.*?)</dl>', html, re.S).group(1)
    assert f"<dd id=\"fact-size\">{human_size(asset.size)}</dd>" in facts and " bytes" not in facts
    assert '<dd id="fact-schema">Product sheet</dd>' in facts
    plain = make_asset(user, "plain.jpg", PAGE_JPEG)
    assert '<dd id="fact-schema">default (any data)</dd>' in client.get(f"/assets/{plain.id}/").content.decode()


WRITE_ACTIONS = ['id="rename-open"', 'id="cutout-open"', 'id="compose-open"', 'id="data-form"', "asset.js", "asset_actions.js"]
DELETE_ACTIONS = ['id="delete-open"', 'class="plain delete-conversion"', 'id="delete-dialog"']


@pytest.mark.parametrize(
    ("role", "writes", "deletes"),
    [(Role.USER, False, False), (Role.CREATOR, True, False), (Role.MANAGER, True, True), (Role.ADMIN, True, True)],
)
def test_each_role_sees_only_the_actions_it_may_take(logged_in, role, writes, deletes):
    client, user = logged_in(role)
    asset = make_asset(user, "cat.jpg", PAGE_JPEG)
    add_conversion(asset, "thumb", PAGE_PNG)
    detail = client.get(f"/assets/{asset.id}/").content.decode()
    for marker in WRITE_ACTIONS:
        assert (marker in detail) is writes, marker
    for marker in DELETE_ACTIONS:
        assert (marker in detail) is deletes, marker
    grid = client.get("/assets/").content.decode()
    assert ('class="select-asset"' in grid) is writes and ('id="bulk-bg-remove"' in grid) is writes
    assert ('id="bulk-delete"' in grid) is deletes
    assert ('href="/assets/add/"' in grid) is writes
    add = client.get("/assets/add/").content.decode()
    assert ('id="add-form"' in add) is writes and ('id="add-not-allowed"' in add) is (not writes)


def test_a_grid_filtered_by_a_conversion_no_asset_has_says_so(logged_in):
    client, user = logged_in(Role.USER)
    asset = make_asset(user, "cat.jpg", PAGE_JPEG)
    add_conversion(asset, "thumb", PAGE_PNG)
    add_conversion(asset, "bg_removed", PAGE_PNG)
    response = client.get("/assets/", {"has_conversion": "bogus"})
    html = response.content.decode()
    assert grid_ids(response) == []
    assert "No asset has a conversion named “bogus”. The conversions in use here: “bg_removed”, “thumb”." in html
    assert '<option value="bogus" selected>with conversion bogus (none)</option>' in html
    assert "No asset matches these filters" in html


def test_the_grid_sorts_and_its_page_links_keep_the_sort_and_the_filters(logged_in):
    client, user = logged_in(Role.USER)
    body = png_bytes("rocket", (8, 8))
    made = {name: make_asset(user, f"{name}.png", body) for name in ["b", "a", "d", "c"]}
    assert grid_ids(client.get("/assets/", {"ordering": "name"})) == [made[n].id for n in "abcd"]
    assert grid_ids(client.get("/assets/", {"ordering": "-name"})) == [made[n].id for n in "dcba"]
    html = client.get("/assets/", {"ordering": "name"}).content.decode()
    assert '<option value="name" selected>Name, A to Z</option>' in html
    for n in range(25):
        make_asset(user, f"z{n:02d}.png", body)
    html = client.get("/assets/", {"ordering": "name", "name": "z"}).content.decode()
    assert 'href="?name=z&amp;ordering=name&amp;page=2"' in html
    response = client.get("/assets/", {"ordering": "sideways"})
    assert "“sideways” is not a way to sort; choose one from the list." in response.content.decode()


def test_an_empty_library_says_what_to_do(logged_in):
    client, _ = logged_in(Role.CREATOR)
    html = client.get("/assets/").content.decode()
    assert "No assets yet" in html and 'href="/assets/add/"' in html and 'href="/upload/"' in html
    reader, _ = logged_in(Role.USER)
    assert "adding them needs the CREATOR role" in reader.get("/assets/").content.decode()


@pytest.mark.parametrize("path", ["/assets/0123456789abcdef0123456789abcdef/", "/no/such/page/"])
def test_a_missing_page_is_the_sites_styled_404_with_a_way_back(logged_in, path):
    client, _ = logged_in(Role.USER)
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert '<link rel="stylesheet" href="/static/web/web.css">' in html and 'class="site-header"' in html
    assert '<a class="button" href="/assets/">Go to all assets</a>' in html
    if path.startswith("/assets/"):
        assert "There is no asset <code>0123456789abcdef0123456789abcdef</code> in your account." in html
