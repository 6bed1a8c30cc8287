"""The Django admin's API keys: a key created there is shown once and authenticates, a
user without an account gets none, a key's user cannot be changed afterwards, and the
library's own key model is not in the admin."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from assets.models import ApiKey, Role
from assets.services import account_user_create
from tests.web.conftest import KEYS, form_fields, messages_of

pytestmark = pytest.mark.django_db


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
