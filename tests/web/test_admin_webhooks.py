"""The admin and webhooks: edits and deletes made in the admin report asset.updated and
asset.deleted like the API's; deliveries are listed read-only with a *Resend* action;
webhooks can be switched off but are made through the API (which returns the secret)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from assets.models import Webhook, WebhookDelivery
from assets.webhooks import webhook_event
from tests.web.conftest import ASSETS, form_fields, listed_ids, messages_of

pytestmark = pytest.mark.django_db

DELIVERIES = "/admin/assets/webhookdelivery/"
WEBHOOKS = "/admin/assets/webhook/"


@pytest.fixture
def hook(acme_user) -> Webhook:
    return Webhook.objects.create(
        account=acme_user.membership.account, url="https://hooks.example.com/in",
        events=["asset.updated", "asset.deleted"], secret="whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
    )


def test_renaming_an_asset_in_the_admin_reports_asset_updated(web, library, hook):
    asset = library["parent"][0]
    url = f"{ASSETS}{asset.id}/change/"
    fields = form_fields(web.get(url).content)
    fields.update(name="renamed.jpg")
    assert web.post(url, fields).status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert (delivery.webhook_id, delivery.event, delivery.status) == (hook.id, "asset.updated", "PENDING")
    assert delivery.payload["data"]["id"] == asset.id and delivery.payload["data"]["name"] == "renamed.jpg"


def test_saving_the_admin_form_unchanged_reports_nothing(web, library, hook):
    url = f"{ASSETS}{library['parent'][0].id}/change/"
    assert web.post(url, form_fields(web.get(url).content)).status_code == 302
    assert not WebhookDelivery.objects.exists()


def test_deleting_in_the_admin_reports_asset_deleted_to_the_assets_own_account(web, library, hook):
    ids = [library["child"][0].id, library["other"][0].id]  # acme's and globex's
    response = web.post(ASSETS, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()  # globex has no webhook
    assert delivery.event == "asset.deleted"
    assert delivery.payload["data"] == {"id": library["child"][0].id, "name": "cat.png"}


def test_deliveries_are_listed_and_resent(web, hook):
    webhook_event(account_id=hook.account_id, event="asset.deleted", data={"id": "a" * 32, "name": "x.jpg"})
    first = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=first.pk).update(status="ERROR", status_code=500, error="answered HTTP 500")
    page = web.get(DELIVERIES)
    assert listed_ids(page) == [first.pk]
    assert b"answered HTTP 500" in page.content
    detail = web.get(f"{DELIVERIES}{first.pk}/change/").content.decode()
    assert "&quot;asset.deleted&quot;" in detail or '"asset.deleted"' in detail

    response = web.post(DELIVERIES, {"action": "resend", "_selected_action": [first.pk]}, follow=True)
    assert messages_of(response) == ["Resending 1 event(s)."]
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert (again.message_id, again.attempt, again.series_attempt, again.status) == (first.message_id, 2, 1, "PENDING")
    response = web.post(DELIVERIES, {"action": "resend", "_selected_action": [first.pk]}, follow=True)
    assert "already waiting" in messages_of(response)[0]
    assert WebhookDelivery.objects.count() == 2


def test_resend_needs_the_change_permission_on_deliveries(hook):
    webhook_event(account_id=hook.account_id, event="asset.deleted", data={"id": "b" * 32, "name": "y.jpg"})
    staff = User.objects.create_user("viewer", password="pw-123456", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client = Client()
    client.login(username="viewer", password="pw-123456")
    page = client.get(DELIVERIES)
    assert page.status_code == 200 and b'value="resend"' not in page.content
    client.post(DELIVERIES, {"action": "resend", "_selected_action": [WebhookDelivery.objects.get().pk]})
    assert WebhookDelivery.objects.count() == 1


def test_a_webhook_is_switched_off_in_the_admin_and_cannot_be_added_there(web, hook):
    url = f"{WEBHOOKS}{hook.id}/change/"
    page = web.get(url)
    assert hook.secret not in page.content.decode()
    fields = form_fields(page.content)
    fields.pop("active", None)  # the box unticked
    assert web.post(url, fields).status_code == 302
    assert Webhook.objects.get().active is False
    assert web.get(f"{WEBHOOKS}add/").status_code == 403
    webhook_event(account_id=hook.account_id, event="asset.deleted", data={"id": "c" * 32, "name": "z.jpg"})
    assert not WebhookDelivery.objects.exists()  # switched off: nothing recorded
