"""The webhooks API (SPEC §11): ADMIN only, scoped to the account, the secret shown once,
every refusal a 400 naming its field, and target URLs held to the image_url rules."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook as Verifier

from assets.models import Role, Webhook, WebhookDelivery
from tests.conftest import assert_error, make_asset
from tests.assets.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db

PUBLIC = "https://hooks.example.com/assets"


def test_create_returns_the_secret_once_and_the_document_never_again(admin_client_api):
    created = subscribe(admin_client_api, PUBLIC, ["asset.created", "asset.created", "job.finished"])
    assert set(created) == {"id", "url", "events", "active", "created_at", "secret"}
    assert created["events"] == ["asset.created", "job.finished"]  # repeats dropped, order kept
    assert created["active"] is True and created["secret"].startswith("whsec_")
    Verifier(created["secret"])  # a secret the Standard Webhooks library takes
    row = Webhook.objects.get(id=created["id"])
    assert (row.url, row.events, row.secret) == (PUBLIC, ["asset.created", "job.finished"], created["secret"])

    listed = admin_client_api.get("/api/v1/webhooks").json()
    fetched = admin_client_api.get(f"/api/v1/webhooks/{created['id']}").json()
    assert listed == [fetched]
    assert "secret" not in fetched and fetched == {k: v for k, v in created.items() if k != "secret"}


def test_put_replaces_the_webhook_and_a_fetched_document_can_be_sent_back(admin_client_api):
    created = subscribe(admin_client_api, PUBLIC)
    document = admin_client_api.get(f"/api/v1/webhooks/{created['id']}").json()
    document.update(url="https://other.example.com/in", events=["asset.deleted"], active=False)
    response = admin_client_api.put(f"/api/v1/webhooks/{created['id']}", document, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == document
    row = Webhook.objects.get(id=created["id"])
    assert (row.url, row.events, row.active, row.secret) == (document["url"], ["asset.deleted"], False, created["secret"])
    # PUT without `active`: true again (the whole webhook is replaced)
    response = admin_client_api.put(f"/api/v1/webhooks/{created['id']}", {"url": PUBLIC, "events": ["asset.created"]}, format="json")
    assert response.json()["active"] is True


def test_delete_removes_the_webhook_and_its_deliveries(admin_client_api):
    created = subscribe(admin_client_api, PUBLIC, ["asset.created"])
    make_asset(admin_client_api.user)
    assert WebhookDelivery.objects.filter(webhook_id=created["id"]).count() == 1
    assert admin_client_api.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    assert_error(admin_client_api.get(f"/api/v1/webhooks/{created['id']}"), 404, code="webhook_not_found")


@pytest.mark.parametrize("role", [Role.USER, Role.CREATOR, Role.MANAGER])
def test_only_an_admin_manages_webhooks(client_for, admin_client_api, role):
    created = subscribe(admin_client_api, PUBLIC)
    client = client_for(role)
    for response in (
        client.get("/api/v1/webhooks"),
        client.post("/api/v1/webhooks", {"url": PUBLIC, "events": ["asset.created"]}, format="json"),
        client.get(f"/api/v1/webhooks/{created['id']}"),
        client.delete(f"/api/v1/webhooks/{created['id']}"),
        client.get(f"/api/v1/webhooks/{created['id']}/deliveries"),
    ):
        body = assert_error(response, 403, code="permission_denied")
        assert "manage webhooks" in body["message"]
    assert Webhook.objects.count() == 1


def test_another_accounts_webhook_is_a_404_and_its_events_stay_its_own(client_for, admin_client_api):
    created = subscribe(admin_client_api, PUBLIC, ["asset.created"])
    other = client_for(Role.ADMIN, account="globex")
    assert other.get("/api/v1/webhooks").json() == []
    for response in (
        other.get(f"/api/v1/webhooks/{created['id']}"),
        other.put(f"/api/v1/webhooks/{created['id']}", {"url": PUBLIC, "events": ["asset.created"]}, format="json"),
        other.delete(f"/api/v1/webhooks/{created['id']}"),
        other.get(f"/api/v1/webhooks/{created['id']}/deliveries"),
    ):
        assert_error(response, 404, code="webhook_not_found")
    make_asset(other.user)  # an event of the other account
    assert not WebhookDelivery.objects.exists()
    make_asset(admin_client_api.user)
    assert WebhookDelivery.objects.get().webhook_id == created["id"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"events": ["asset.created"]}, "url", "is required"),
        ({"url": "ftp://example.com/x", "events": ["asset.created"]}, "url", "http or https"),
        ({"url": "https://", "events": ["asset.created"]}, "url", "http or https"),
        ({"url": "https://example.com/a b", "events": ["asset.created"]}, "url", "without spaces"),
        ({"url": "https://bücher.example/x", "events": ["asset.created"]}, "url", "punycode"),
        ({"url": "https://example.com/" + "x" * 2000, "events": ["asset.created"]}, "url", "at most 2000"),
        ({"url": PUBLIC}, "events", "non-empty list"),
        ({"url": PUBLIC, "events": []}, "events", "non-empty list"),
        ({"url": PUBLIC, "events": ["asset.exploded"]}, "events", "'asset.exploded' is not an event type"),
        ({"url": PUBLIC, "events": ["asset.created"], "active": "yes"}, "active", "true or false"),
        ({"url": PUBLIC, "events": ["asset.created"], "secret": "whsec_mine"}, "secret", "not a known field"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(admin_client_api, body, field, words):
    response = admin_client_api.post("/api/v1/webhooks", body, format="json")
    error = assert_error(response, 400, field=field)
    assert words in error["errors"][field][0], error
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://10.0.0.7/hooks",
        "http://192.168.1.20/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://localhost:9000/hooks",
        "http://api.localhost/hooks",
    ],
)
def test_a_private_loopback_or_link_local_target_is_refused_without_the_setting(admin_client_api, settings, url):
    response = admin_client_api.post("/api/v1/webhooks", {"url": url, "events": ["asset.created"]}, format="json")
    error = assert_error(response, 400, field="url")
    assert "WEBHOOK_ALLOW_PRIVATE" in error["message"] and "public address" in error["message"]
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert admin_client_api.post("/api/v1/webhooks", {"url": url, "events": ["asset.created"]}, format="json").status_code == 201


def test_an_account_has_at_most_twenty_webhooks(admin_client_api):
    for n in range(20):
        subscribe(admin_client_api, f"{PUBLIC}/{n}", ["asset.created"])
    response = admin_client_api.post("/api/v1/webhooks", {"url": PUBLIC, "events": ["asset.created"]}, format="json")
    assert_error(response, 409, code="too_many_webhooks")
    assert Webhook.objects.count() == 20


def test_deliveries_are_listed_newest_first_and_paged(admin_client_api):
    created = subscribe(admin_client_api, PUBLIC, ["asset.created", "asset.deleted"])
    assets = [make_asset(admin_client_api.user, f"p{n}.jpg") for n in range(3)]
    admin_client_api.delete(f"/api/v1/assets/{assets[0].id}")
    page = admin_client_api.get(f"/api/v1/webhooks/{created['id']}/deliveries", {"page_size": 3}).json()
    assert page["count"] == 4 and page["next"] and len(page["results"]) == 3
    newest = page["results"][0]
    assert (newest["event"], newest["status"], newest["attempt"], newest["status_code"]) == ("asset.deleted", "PENDING", 1, None)
    assert set(newest) == {
        "id", "message_id", "event", "attempt", "status", "scheduled_at", "attempted_at", "status_code", "duration_ms",
        "error", "next_retry",
    }
    events = [row.event for row in WebhookDelivery.objects.order_by("created_at")]
    assert events == ["asset.created"] * 3 + ["asset.deleted"]
    assert_error(admin_client_api.get(f"/api/v1/webhooks/{created['id']}/deliveries", {"page": 9}), 404, field="page")
