"""Shared helpers and fixtures of the web tests: the browser fixtures (`browser`, `page`,
`phone`: tests/web/browser.py) and, for the Django admin tests (tests/web/test_admin_*.py),
the following.

Every admin test drives the admin through Django's test client logged in as a real
superuser (`web`) or a staff user with chosen permissions, posting what a browser would
post: the change forms are read back from the rendered HTML (`form_fields`) and resubmitted
with edits. `library` is the assets they look at.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client

from assets.models import Account, Asset, DataSchema, Role
from assets.services import account_user_create
from tests.conftest import add_conversion, make_asset
from tests.images import jpeg_bytes, png_bytes
from tests.web.browser import browser, page, phone  # noqa: F401 (fixtures of every browser test)

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


# --- fixtures -------------------------------------------------------------------------------


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
        made[key] = (make_asset(account, name, body, **fields), body)

    make("parent", acme, "astronaut.jpg", jpeg_bytes("astronaut", (96, 96)))
    thumb = png_bytes("astronaut", (32, 32))
    add_conversion(made["parent"][0], "thumb", thumb)
    made["thumb"] = (made["parent"][0], thumb)
    make("child", acme, "cat.png", png_bytes("chelsea", (90, 60)), source=made["parent"][0])
    make("grandchild", acme, "coffee.jpg", jpeg_bytes("coffee", (60, 40)), source=made["child"][0])
    make("orphan", acme, "rocket.jpg", jpeg_bytes("rocket", (64, 43)), source="0" * 32)
    make("other", globex, "globex-rocket.jpg", jpeg_bytes("rocket", (80, 53)))
    return made


@pytest.fixture
def priced(library, acme_user):
    """The parent asset, tied to an account schema that requires a numeric price."""
    schema = DataSchema.objects.create(account=acme_user.membership.account, name="priced", schema=PRICE_SCHEMA)
    asset = library["parent"][0]
    asset.data, asset.data_schema = {"price": 10, "tags": ["a"]}, schema
    asset.save()
    return Asset.objects.get(id=asset.id)
