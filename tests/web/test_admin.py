"""The Django admin: assets (thumbnails, filters, search, conversions, lineage, data),
data schemas, jobs (read-only, re-queue) and API keys.

Every test drives the admin through Django's test client logged in as a real superuser
(or a staff user with chosen permissions), posting what a browser would post: the change
forms are read back from the rendered HTML (`form_fields`) and resubmitted with edits.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from tests.images import image_probe_bytes, jpeg_bytes, png_bytes
from assets.jobs import job_handler, job_kinds, job_ring
from assets.models import Account, ApiKey, Asset, Conversion, DataSchema, Job, JobStatus, Role
from assets.services import account_user_create, asset_create_from_bytes, conversion_save
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db

ASSETS = "/admin/assets/asset/"
SCHEMAS = "/admin/assets/dataschema/"
JOBS = "/admin/assets/job/"
KEYS = "/admin/assets/apikey/"
PRICE_SCHEMA = {
    "type": "object",
    "properties": {"price": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["price"],
}


# --- helpers --------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """The fields a browser would submit from the page's <form method="post">."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id", "").endswith("_form"):  # the admin's change form
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: bytes) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html.decode())
    # A <textarea>'s first newline is not part of its value (HTML parsing rules).
    return {k: (v[1:] if v.startswith("\n") else v) for k, v in reader.fields.items()}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def listed_ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [obj.pk for obj in response.context["cl"].result_list]


def add_conversion(asset: Asset, name: str, body: bytes) -> Conversion:
    return conversion_save(
        asset=asset, name=name, content=ContentFile(body), info=image_probe_bytes(body, max_pixels=10**8)
    )


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", "pw-123456")


@pytest.fixture
def web(superuser) -> Client:
    client = Client()
    assert client.login(username="root", password="pw-123456")
    return client


@pytest.fixture
def acme_user(db):
    membership, _ = account_user_create(account_name="acme", username="alice", role=Role.ADMIN, password="pw-123456")
    return membership.user


@pytest.fixture
def library(acme_user):
    """acme: `parent` (JPEG, conversion `thumb`) <- `child` (PNG, derived) <- `grandchild`;
    `orphan` whose source was deleted; globex: `other` (JPEG). Returns name -> (asset, bytes)."""
    acme = acme_user.membership.account
    globex = Account.objects.create(name="globex")
    made: dict[str, tuple[Asset, bytes]] = {}

    def make(key, account, name, body, **fields):
        made[key] = (asset_create_from_bytes(account=account, user=None, data_bytes=body, name=name, **fields), body)

    make("parent", acme, "astronaut.jpg", jpeg_bytes("astronaut", (96, 96)))
    thumb = png_bytes("astronaut", (32, 32))
    add_conversion(made["parent"][0], "thumb", thumb)
    made["thumb"] = (made["parent"][0], thumb)
    make("child", acme, "cat.png", png_bytes("chelsea", (90, 60)), source_asset_id=made["parent"][0].id)
    make("grandchild", acme, "coffee.jpg", jpeg_bytes("coffee", (60, 40)), source_asset_id=made["child"][0].id)
    make("orphan", acme, "rocket.jpg", jpeg_bytes("rocket", (64, 43)), source_asset_id="0" * 32)
    make("other", globex, "globex-rocket.jpg", jpeg_bytes("rocket", (80, 53)))
    return made


# --- the asset list -------------------------------------------------------------------------


def test_asset_list_shows_each_assets_thumbnail_from_the_admin_file_view(web, library):
    response = web.get(ASSETS)
    html = response.content.decode()
    assert sorted(listed_ids(response)) == sorted({a.id for a, _ in library.values()})
    for key in ("parent", "child", "grandchild", "orphan", "other"):
        asset = library[key][0]
        assert f'<img src="{ASSETS}{asset.id}/file/original/"' in html


@pytest.mark.parametrize(
    ("key", "name", "content_type"),
    [
        ("parent", "original", "image/jpeg"),
        ("child", "original", "image/png"),
        ("thumb", "thumb", "image/png"),
    ],
)
def test_file_view_returns_the_exact_stored_bytes_with_their_content_type(web, library, key, name, content_type):
    asset, body = library[key]
    response = web.get(f"{ASSETS}{asset.id}/file/{name}/")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Length"] == str(len(body))
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == body


def test_file_view_with_download_is_an_attachment_with_the_same_bytes(web, library):
    asset, body = library["thumb"]
    response = web.get(f"{ASSETS}{asset.id}/file/thumb/?download=1")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="astronaut_thumb.png"'
    assert b"".join(response.streaming_content) == body


def test_file_view_is_404_for_a_missing_asset_or_conversion(web, library):
    asset = library["parent"][0]
    assert web.get(f"{ASSETS}{'f' * 32}/file/original/").status_code == 404
    assert web.get(f"{ASSETS}{asset.id}/file/nope/").status_code == 404


def test_file_view_needs_admin_login_and_view_permission_but_no_account(library):
    asset, body = library["parent"]
    url = f"{ASSETS}{asset.id}/file/original/"
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]

    staff = User.objects.create_user("staff", password="pw-123456", is_staff=True)
    client = Client()
    client.login(username="staff", password="pw-123456")
    assert client.get(url).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_asset"))
    allowed = client.get(url)
    assert not hasattr(staff, "membership")
    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content) == body

    # A logged-in account user who is not staff gets the admin login page, not the file.
    member = Client()
    member.login(username="alice", password="pw-123456")
    refused = member.get(url)
    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("account__name=acme", {"parent", "child", "grandchild", "orphan"}),
        ("account__name=globex", {"other"}),
        ("content_type=image/png", {"child"}),
        ("content_type=image/jpeg", {"parent", "grandchild", "orphan", "other"}),
        ("has_source=yes", {"child", "grandchild", "orphan"}),
        ("has_source=no", {"parent", "other"}),
        ("has_conversions=yes", {"parent"}),
        ("has_conversions=no", {"child", "grandchild", "orphan", "other"}),
        ("has_source=yes&content_type=image/jpeg", {"grandchild", "orphan"}),
    ],
)
def test_each_list_filter_narrows_the_assets(web, library, query, expected):
    if query.startswith("account__name="):  # the admin's account filter takes the account id
        account = Account.objects.get(name=query.split("=")[1])
        query = f"account__id__exact={account.id}"
    response = web.get(f"{ASSETS}?{query}")
    assert set(listed_ids(response)) == {library[k][0].id for k in expected}


def test_the_filter_sidebar_offers_every_filter(web, library):
    html = web.get(ASSETS).content.decode()
    for title in ("By account", "By content type", "By has source", "By has conversions"):
        assert title in html


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("{parent}", {"parent"}),  # the whole id
        ("{parent:.10}", {"parent"}),  # the start of an id
        ("rocket", {"orphan", "other"}),  # part of a name, any case
        ("CAT.PNG", {"child"}),
        ("no-such-thing", set()),
    ],
)
def test_search_finds_assets_by_id_and_by_name(web, library, term, expected):
    term = term.format(parent=library["parent"][0].id)
    response = web.get(ASSETS, {"q": term})
    assert set(listed_ids(response)) == {library[k][0].id for k in expected}


def test_assets_cannot_be_added_from_the_admin(web, library):
    assert web.get(f"{ASSETS}add/").status_code == 403


# --- the asset change page ------------------------------------------------------------------


def test_change_page_shows_conversions_inline_with_preview_and_download(web, library):
    asset = library["parent"][0]
    html = web.get(f"{ASSETS}{asset.id}/change/").content.decode()
    inline = html[html.index('id="conversions-group"'):]
    assert f'<img src="{ASSETS}{asset.id}/file/thumb/"' in inline
    assert f'<a href="{ASSETS}{asset.id}/file/thumb/?download=1">Download</a>' in inline
    assert "thumb" in inline and "image/png" in inline
    # The original too: a large preview and a download link.
    assert f'<img src="{ASSETS}{asset.id}/file/original/"' in html
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


@pytest.fixture
def priced(library, acme_user):
    """The parent asset, tied to an account schema that requires a numeric price."""
    schema = DataSchema.objects.create(account=acme_user.membership.account, name="priced", schema=PRICE_SCHEMA)
    asset = library["parent"][0]
    asset.data, asset.data_schema = {"price": 10, "tags": ["a"]}, schema
    asset.save()
    return Asset.objects.get(id=asset.id)


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


# --- data schemas ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "error"),
    [
        ('{"type": "nonsense"}', "not a valid JSON Schema (draft 2020-12)"),
        ('{"type": "object", "properties": {"a": {"minimum": "zero"}}}', "at properties/a/minimum"),
        ('["type", "object"]', "must be a JSON Schema object"),
        ('{"type": ', "Enter a valid JSON."),
    ],
)
def test_adding_an_invalid_json_schema_shows_the_error_and_saves_nothing(web, acme_user, schema, error):
    count = DataSchema.objects.count()
    fields = form_fields(web.get(f"{SCHEMAS}add/").content)
    fields.update(account=str(acme_user.membership.account.id), name="bad", schema=schema)
    response = web.post(f"{SCHEMAS}add/", fields)
    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert list(form_errors) == ["schema"], form_errors
    assert error in " ".join(form_errors["schema"])
    assert len(form_errors["schema"]) == 1
    assert DataSchema.objects.count() == count


def test_adding_a_valid_schema_saves_it(web, acme_user):
    fields = form_fields(web.get(f"{SCHEMAS}add/").content)
    fields.update(account=str(acme_user.membership.account.id), name="priced", schema=json.dumps(PRICE_SCHEMA))
    assert web.post(f"{SCHEMAS}add/", fields).status_code == 302
    saved = DataSchema.objects.get(name="priced")
    assert saved.schema == PRICE_SCHEMA and saved.account == acme_user.membership.account


def test_a_new_schema_needs_an_account(web, acme_user):
    count = DataSchema.objects.count()
    fields = form_fields(web.get(f"{SCHEMAS}add/").content)
    fields.update(account="", name="global", schema='{"type": "object"}')
    response = web.post(f"{SCHEMAS}add/", fields)
    assert response.status_code == 200 and "account" in response.context["adminform"].form.errors
    assert DataSchema.objects.count() == count


def test_changing_a_schema_is_validated_and_refused_when_assets_would_break(web, priced):
    schema = priced.data_schema
    url = f"{SCHEMAS}{schema.id}/change/"
    fields = form_fields(web.get(url).content)
    assert json.loads(fields["schema"]) == PRICE_SCHEMA
    assert fields["schema"] == json.dumps(DataSchema.objects.get(id=schema.id).schema, indent=2)

    fields["schema"] = '{"type": "object", "required": ["sku"]}'  # the asset has no sku
    response = web.post(url, fields)
    assert response.status_code == 200
    assert f"1 asset(s) using data schema {schema.id} would no longer satisfy it (first: {priced.id})" in " ".join(
        response.context["adminform"].form.errors["schema"]
    )
    fields["schema"] = '{"type": "nonsense"}'
    response = web.post(url, fields)
    assert "not a valid JSON Schema" in " ".join(response.context["adminform"].form.errors["schema"])
    assert DataSchema.objects.get(id=schema.id).schema == PRICE_SCHEMA

    fields["schema"] = '{"type": "object", "required": ["price"]}'
    assert web.post(url, fields).status_code == 302
    assert DataSchema.objects.get(id=schema.id).schema == {"type": "object", "required": ["price"]}


def test_the_builtin_schema_is_read_only(web):
    builtin = DataSchema.objects.get(id=0)
    before = (builtin.name, builtin.schema)
    page = web.get(f"{SCHEMAS}0/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "<textarea" not in html
    response = web.post(f"{SCHEMAS}0/change/", {"name": "hacked", "schema": "{}"})
    assert response.status_code == 403
    assert web.post(f"{SCHEMAS}0/delete/", {"post": "yes"}).status_code == 403
    builtin.refresh_from_db()
    assert (builtin.name, builtin.schema) == before


# --- jobs -----------------------------------------------------------------------------------


def make_job(user, *, kind: str, status: str, request: dict | None = None, output=None, error=None) -> Job:
    return Job.objects.create(
        account=user.membership.account,
        user=user,
        kind=kind,
        status=status,
        request=request or {},
        output=output or [],
        error=error or [],
        attempts=1,
        finished_at=None if status == JobStatus.QUEUED else timezone.now(),
    )


def test_job_list_shows_kind_status_account_user_and_times(web, acme_user):
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.ERROR, error=[{"name": "x", "asset_id": "a", "error": "boom"}])
    response = web.get(JOBS)
    assert listed_ids(response) == [job.id]
    html = response.content.decode()
    for column in ("column-kind", "column-status", "column-account", "column-user", "column-created_at", "column-finished_at"):
        assert column in html
    row = html[html.index(job.id):]
    row = row[: row.index("</tr>")]
    for text in ("image_graphics", "ERROR", "acme", "alice"):
        assert text in row


def test_job_admin_is_read_only_and_shows_output_and_error_pretty_printed(web, acme_user):
    output = [{"name": "framed", "asset_id": "a" * 32}]
    error = [{"name": "framed", "asset_id": "b" * 32, "error": "asset bbb no longer exists"}]
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.ERROR, output=output, error=error)
    before = Job.objects.filter(id=job.id).values().get()

    assert web.get(f"{JOBS}add/").status_code == 403
    page = web.get(f"{JOBS}{job.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "<textarea" not in html
    job.refresh_from_db()  # the order of keys the database gives back (jsonb sorts them)
    for value in (job.output, job.error):
        pretty = json.dumps(value, indent=2).replace('"', "&quot;")
        assert f'<pre style="white-space: pre-wrap; margin: 0">{pretty}</pre>' in html
    assert web.post(f"{JOBS}{job.id}/change/", {"status": "OK"}).status_code == 403
    assert web.post(f"{JOBS}{job.id}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in web.get(JOBS).content.decode()
    assert Job.objects.filter(id=job.id).values().get() == before


def queued_tasks() -> list[dict]:
    """Every task waiting in the configured broker (decoded), without taking it."""
    broker = get_broker()
    if Conf.ORM:
        payloads = OrmQ.objects.using(Conf.ORM).filter(key=broker.list_key).values_list("payload", flat=True)
    else:
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    return [SignedPackage.loads(p) for p in payloads]


@pytest.fixture
def broker_tasks_of_this_test():
    """The tasks this test queued; on Redis (shared between runs) they are removed after."""
    seen_before = {t["id"] for t in queued_tasks()}

    def mine() -> list[dict]:
        return [t for t in queued_tasks() if t["id"] not in seen_before]

    yield mine
    if not Conf.ORM:
        broker = get_broker()
        for payload in broker.connection.lrange(broker.list_key, 0, -1):
            if SignedPackage.loads(payload)["id"] not in seen_before:
                broker.connection.lrem(broker.list_key, 0, payload)


def requeue(web, *jobs: Job, capture):
    with capture(execute=True) as callbacks:
        response = web.post(
            JOBS, {"action": "requeue_failed", "_selected_action": [j.id for j in jobs]}, follow=True
        )
    assert response.status_code == 200
    return response, callbacks


def test_registered_job_kinds_match_the_graphics_job_kinds():
    from graphics.image_graphics import JOB_KIND
    from graphics.services import JOB_KIND_BG_SAVE

    from graphics.image_graphics import IMAGE_GRAPHICS_JOBS
    from graphics.services import BG_SAVE_JOBS

    assert set(job_kinds()) == {JOB_KIND_BG_SAVE, JOB_KIND}
    assert job_handler(JOB_KIND_BG_SAVE) is BG_SAVE_JOBS
    assert job_handler(JOB_KIND) is IMAGE_GRAPHICS_JOBS


def test_requeue_turns_a_failed_background_save_into_a_queued_task_that_then_saves(
    web, acme_user, library, media_root, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    asset = library["parent"][0]
    png = png_bytes("coffee", (40, 30))
    job = make_job(
        acme_user,
        kind="bg_remove_save",
        status=JobStatus.ERROR,
        error=[{"name": "cutout", "asset_id": asset.id, "error": "the result could not be saved"}],
    )
    staged = default_storage.save(f"jobs/{job.id}/result.png", ContentFile(png))
    job.request = {
        "mode": "save_image", "disposition": "add_conversion", "asset_id": asset.id,
        "conversion_name": "cutout", "metadata": None, "upload_name": None, "staged": staged,
    }
    job.save()

    response, callbacks = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert len(callbacks) == 1
    assert f"Re-queued 1 job(s): {job.id}." in messages_of(response)
    job.refresh_from_db()
    assert (job.status, job.output, job.error, job.finished_at) == (JobStatus.QUEUED, [], [], None)
    tasks = broker_tasks_of_this_test()
    assert [(t["func"], t["args"]) for t in tasks] == [("assets.jobs.job_ring", (job.id,))]

    # What the worker does with that task:
    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.OK
    ran = Job.objects.get(pk=job.pk)
    assert ran.output == [{"name": "cutout", "asset_id": asset.id}]
    conversion = asset.conversions.get(name="cutout")
    assert default_storage.open(conversion.file.name).read() == png
    assert not default_storage.exists(staged)


def test_requeue_turns_a_failed_image_graphics_job_into_a_queued_task_that_then_renders(
    web, acme_user, library, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    asset = library["child"][0]
    body = {
        "assets": [{asset.id: {"options": {
            "size": {"width": 30},
            "canvas": {"size": {"width": 50, "height": 40}},
            "disposition": {"add_as_conversion": True, "conversion_name": "staged"},
        }}}],
        "operations": [{"bg_add": {"options": {"color": "#00ff00"}}}],
    }
    job = make_job(
        acme_user, kind="image_graphics", status=JobStatus.ERROR, request=body,
        error=[{"name": "staged", "asset_id": asset.id, "error": "the image could not be rendered or saved"}],
    )
    requeue(web, job, capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (job.status, job.output, job.error, job.finished_at) == (JobStatus.QUEUED, [], [], None)
    tasks = broker_tasks_of_this_test()
    assert [(t["func"], t["args"]) for t in tasks] == [("assets.jobs.job_ring", (job.id,))]

    assert job_ring(job.id) == JobStatus.OK
    ran = Job.objects.get(pk=job.pk)
    assert (ran.status, ran.output, ran.error) == (JobStatus.OK, [{"name": "staged", "asset_id": asset.id}], [])
    conversion = asset.conversions.get(name="staged")
    assert (conversion.width, conversion.height) == (50, 40)


def test_requeue_skips_jobs_that_did_not_fail_and_says_so(
    web, acme_user, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    done = make_job(acme_user, kind="image_graphics", status=JobStatus.OK, output=[{"name": "x", "asset_id": "a" * 32}])
    waiting = make_job(acme_user, kind="image_graphics", status=JobStatus.QUEUED)
    before = list(Job.objects.order_by("id").values())
    response, callbacks = requeue(web, done, waiting, capture=django_capture_on_commit_callbacks)
    assert callbacks == []
    shown = messages_of(response)
    assert len(shown) == 1 and shown[0].startswith("Skipped 2 job(s)")
    assert f"{done.id} (its status is OK; only ERROR jobs are re-queued)" in shown[0]
    assert f"{waiting.id} (its status is QUEUED; only ERROR jobs are re-queued)" in shown[0]
    assert "Skipped 2 job(s)" in response.content.decode()  # and the page shows it
    assert list(Job.objects.order_by("id").values()) == before
    assert broker_tasks_of_this_test() == []


def test_requeue_skips_a_background_save_whose_staged_result_is_gone(
    web, acme_user, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    job = make_job(
        acme_user, kind="bg_remove_save", status=JobStatus.ERROR,
        request={"staged": "jobs/gone/result.png", "conversion_name": "x"},
        error=[{"name": "x", "asset_id": None, "error": "the result could not be saved"}],
    )
    response, _ = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert f"{job.id} (its staged result is gone" in " ".join(messages_of(response))
    assert Job.objects.get(id=job.id).status == JobStatus.ERROR
    assert broker_tasks_of_this_test() == []


def test_requeue_of_an_image_graphics_job_runs_only_its_failed_items(
    web, acme_user, library, media_root, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    child, grandchild = library["child"][0], library["grandchild"][0]
    body = {
        "assets": [
            {child.id: {"options": {"disposition": {"create_asset": True}}}},
            {grandchild.id: {"options": {"disposition": {"add_as_conversion": True, "conversion_name": "again"}}}},
        ],
        "operations": [{"bg_add": {"options": {"color": "#00ff00"}}}],
    }
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.QUEUED, request=body)
    stored = media_root / grandchild.file.name
    kept = stored.read_bytes()
    stored.unlink()  # the storage loses the second asset's file for a while
    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.ERROR
    job.refresh_from_db()
    [created] = job.output
    assert created["name"] is None and [e["asset_id"] for e in job.error] == [grandchild.id]
    made_from_child = lambda: list(Asset.objects.filter(source_asset_id=child.id).exclude(pk=grandchild.pk))  # noqa: E731
    assert [a.id for a in made_from_child()] == [created["asset_id"]]

    stored.write_bytes(kept)
    response, callbacks = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert f"Re-queued 1 job(s): {job.id}." in messages_of(response) and len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.output, job.error) == (JobStatus.QUEUED, 0, [], [])
    assert list(job.progress) == ["0"]  # the asset already made is kept, the failure is not
    assert [(t["func"], t["args"]) for t in broker_tasks_of_this_test()] == [("assets.jobs.job_ring", (job.id,))]

    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.OK
    job.refresh_from_db()
    assert job.output == [created, {"name": "again", "asset_id": grandchild.id}] and job.error == []
    assert [a.id for a in made_from_child()] == [created["asset_id"]]  # not made a second time
    assert grandchild.conversions.filter(name="again").count() == 1


def test_requeue_skips_a_job_of_an_unknown_kind(web, acme_user, django_capture_on_commit_callbacks):
    job = make_job(acme_user, kind="mystery", status=JobStatus.ERROR, error=[{"error": "x"}])
    response, _ = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert f"{job.id} (no installed app runs jobs of kind 'mystery')" in " ".join(messages_of(response))
    assert Job.objects.get(id=job.id).status == JobStatus.ERROR


def test_requeue_needs_the_change_permission_on_jobs(acme_user, django_capture_on_commit_callbacks):
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.ERROR, error=[{"error": "x"}])
    viewer = User.objects.create_user("viewer", password="pw-123456", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client = Client()
    client.login(username="viewer", password="pw-123456")
    page = client.get(JOBS)
    assert page.status_code == 200 and "requeue_failed" not in page.content.decode()
    requeue(client, job, capture=django_capture_on_commit_callbacks)
    assert Job.objects.get(id=job.id).status == JobStatus.ERROR


# --- API keys -------------------------------------------------------------------------------


KEY_MESSAGE = re.compile(r"The API key for (?P<name>.+?) is: (?P<key>\S+)\. Please store it somewhere safe")


def test_an_api_key_created_in_the_admin_is_shown_once_and_authenticates(web, acme_user, library):
    fields = form_fields(web.get(f"{KEYS}add/").content)
    assert "user" in fields  # editable on add
    fields.update(name="ci key", user=str(acme_user.pk))
    response = web.post(f"{KEYS}add/", fields, follow=True)
    assert response.status_code == 200
    shown = [m for m in (KEY_MESSAGE.search(t) for t in messages_of(response)) if m]
    assert len(shown) == 1 and shown[0]["name"] == "ci key"
    key = shown[0]["key"]

    stored = ApiKey.objects.get(name="ci key")
    assert stored.user == acme_user
    assert key not in str(list(ApiKey.objects.filter(pk=stored.pk).values().get().values()))
    assert key not in web.get(KEYS).content.decode()  # shown once
    assert key not in web.get(f"{KEYS}{stored.pk}/change/").content.decode()

    api = APIClient()
    api.credentials(HTTP_X_API_KEY=key)
    listing = api.get("/api/v1/assets")
    assert listing.status_code == 200, listing.content
    assert {a["id"] for a in listing.json()["results"]} == {
        library[k][0].id for k in ("parent", "child", "grandchild", "orphan")
    }
    assert APIClient().get("/api/v1/assets", HTTP_X_API_KEY=key + "x").status_code == 401


def test_an_api_key_for_a_user_without_an_account_is_refused(web):
    loner = User.objects.create_user("loner")
    fields = form_fields(web.get(f"{KEYS}add/").content)
    fields.update(name="loner key", user=str(loner.pk))
    response = web.post(f"{KEYS}add/", fields)
    assert response.status_code == 200
    assert "belongs to no account" in " ".join(response.context["adminform"].form.errors["user"])
    assert not ApiKey.objects.filter(name="loner key").exists()
    assert not any(KEY_MESSAGE.search(m) for m in messages_of(response))


def test_an_api_keys_user_cannot_be_changed_afterwards(web, acme_user):
    other, _ = account_user_create(account_name="acme", username="bob", role=Role.USER)
    key, _ = ApiKey.objects.create_key(name="k", user=acme_user)
    url = f"{KEYS}{key.pk}/change/"
    fields = form_fields(web.get(url).content)
    assert "user" not in fields
    fields.update(name="renamed", user=str(other.user.pk))
    assert web.post(url, fields).status_code == 302
    key.refresh_from_db()
    assert (key.name, key.user) == ("renamed", acme_user)


def test_the_librarys_own_api_key_model_is_not_in_the_admin(web):
    assert not admin.site.is_registered(APIKey)
    assert admin.site.is_registered(ApiKey)
    assert web.get("/admin/rest_framework_api_key/apikey/").status_code == 404
