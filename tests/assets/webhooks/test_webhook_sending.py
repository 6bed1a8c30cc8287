"""Sending a delivery, in the test process, to a real HTTP receiver on 127.0.0.1: the
signature verifies with `standardwebhooks`, a target that hangs is cut at the time cap, a
private address is refused at send time without the setting, failures are retried with
the back-off until the cap, and the admin's resend starts again. (The worker's part, the
ring and the sweep, is in test_webhook_worker.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from standardwebhooks import WebhookVerificationError

from django_q.conf import Conf

from assets.models import DeliveryStatus, WebhookDelivery
from assets.webhooks import deliveries_sweep, delivery_resend, delivery_ring, retry_delay
from tests.conftest import _free_port
from tests.assets.webhooks.conftest import HANG, subscribe
from tests.conftest import make_asset

pytestmark = pytest.mark.django_db


def ring_all(capture) -> list[str]:
    """Ring until nothing is due (as the worker would, one ring per delivery)."""
    outcomes = []
    while True:
        with capture(execute=True):
            outcome = delivery_ring()
        if outcome == "nothing to send":
            return outcomes
        outcomes.append(outcome)


def test_the_delivery_is_signed_so_that_standardwebhooks_verifies_it(
    admin_client_api, receiver, allow_private, django_capture_on_commit_callbacks
):
    target = receiver([204])
    hook = subscribe(admin_client_api, target.url, ["asset.created"])
    asset = make_asset(admin_client_api.user, "signed.jpg")
    assert ring_all(django_capture_on_commit_callbacks) == ["ok"]

    [got] = target.received
    payload = got.verified(hook["secret"])
    assert payload["type"] == "asset.created" and payload["data"]["id"] == asset.id
    assert payload["data"]["name"] == "signed.jpg" and payload["data"]["width"] == asset.width
    assert payload["data"]["url"] == f"/api/v1/assets/{asset.id}/content/original"
    assert got.headers["Content-Type"] == "application/json" and got.path == "/hooks"
    row = WebhookDelivery.objects.get()
    assert got.headers["webhook-id"] == row.message_id
    assert json.loads(got.body) == row.payload
    assert (row.status, row.status_code, row.attempt, row.error, row.next_retry) == (DeliveryStatus.OK, 204, 1, "", None)
    assert row.duration_ms is not None and row.attempted_at is not None
    # another secret, or one changed byte, does not verify
    with pytest.raises(WebhookVerificationError):
        got.verified("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    with pytest.raises(WebhookVerificationError):
        type(got)(got.headers, got.body.replace(b"signed", b"signeD"), got.path).verified(hook["secret"])


def test_payload_urls_are_absolute_with_public_base_url(
    admin_client_api, receiver, allow_private, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_BASE_URL = "https://assets.example.com/"
    target = receiver()
    hook = subscribe(admin_client_api, target.url, ["asset.created"])
    asset = make_asset(admin_client_api.user)
    ring_all(django_capture_on_commit_callbacks)
    data = target.received[0].verified(hook["secret"])["data"]
    assert data["url"] == f"https://assets.example.com/api/v1/assets/{asset.id}/content/original"


def test_a_receiver_that_hangs_is_cut_at_the_time_cap(
    admin_client_api, receiver, allow_private, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    target = receiver([HANG])
    subscribe(admin_client_api, target.url, ["asset.created"])
    make_asset(admin_client_api.user)
    assert ring_all(django_capture_on_commit_callbacks) == ["failed"]

    assert len(target.received) == 1  # it was sent; the answer never came in time
    row = WebhookDelivery.objects.get()
    assert row.status == DeliveryStatus.ERROR and row.status_code is None
    assert "took longer than 1 s" in row.error, row.error
    assert 900 <= row.duration_ms < 10_000, row.duration_ms  # cut at the cap, not at the 30 s hang
    assert row.next_retry is None  # the one attempt allowed was used


def test_a_private_address_is_refused_at_send_time_without_the_setting(
    admin_client_api, receiver, settings, django_capture_on_commit_callbacks
):
    target = receiver()
    settings.WEBHOOK_ALLOW_PRIVATE = True
    subscribe(admin_client_api, target.url.replace("127.0.0.1", "localhost"), ["asset.created"])
    settings.WEBHOOK_ALLOW_PRIVATE = False  # the operator turned it off since
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    make_asset(admin_client_api.user)
    assert ring_all(django_capture_on_commit_callbacks) == ["failed"]
    assert target.received == []
    row = WebhookDelivery.objects.get()
    assert row.status == DeliveryStatus.ERROR and row.status_code is None
    assert "localhost resolves to" in row.error and "refusing to connect" in row.error, row.error


def test_failures_are_retried_with_growing_back_off_until_the_cap(
    admin_client_api, receiver, allow_private, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SECONDS = 0  # each retry is due at once, so ringing again sends it
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    target = receiver([500, 503, 400, 410])
    hook = subscribe(admin_client_api, target.url, ["asset.created"])
    make_asset(admin_client_api.user)
    assert ring_all(django_capture_on_commit_callbacks) == ["retry", "retry", "retry", "failed"]

    rows = list(WebhookDelivery.objects.order_by("attempt"))
    assert [(r.attempt, r.status, r.status_code) for r in rows] == [
        (1, "ERROR", 500), (2, "ERROR", 503), (3, "ERROR", 400), (4, "ERROR", 410)
    ]
    assert "answered HTTP 500: receiver says no" in rows[0].error
    assert len({r.message_id for r in rows}) == 1
    assert [r.next_retry is not None for r in rows] == [True, True, True, False]
    assert [got.headers["webhook-id"] for got in target.received] == [rows[0].message_id] * 4
    for got in target.received:
        got.verified(hook["secret"])  # each attempt is signed afresh


def test_the_back_off_grows_four_times_to_about_eight_hours_over_eight_attempts(settings):
    settings.WEBHOOK_RETRY_SECONDS = 5
    delays = [retry_delay(n) for n in range(1, settings.WEBHOOK_MAX_ATTEMPTS)]
    assert delays == [5, 20, 80, 320, 1280, 5120, 20480]
    assert 7 * 3600 < sum(delays) < 8 * 3600


def test_the_retry_is_scheduled_at_the_back_off_and_not_sent_before(
    admin_client_api, receiver, allow_private, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SECONDS = 60
    target = receiver([500])
    subscribe(admin_client_api, target.url, ["asset.created"])
    make_asset(admin_client_api.user)
    assert ring_all(django_capture_on_commit_callbacks) == ["retry"]  # the retry is not due yet
    first, second = WebhookDelivery.objects.order_by("attempt")
    assert first.next_retry == second.scheduled_at == first.attempted_at + timedelta(seconds=60)
    assert (second.status, second.attempt, second.series_attempt) == ("PENDING", 2, 2)
    assert len(target.received) == 1


def test_resend_starts_a_new_series_with_the_same_webhook_id(
    admin_client_api, receiver, allow_private, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    target = receiver([500, 200])
    subscribe(admin_client_api, target.url, ["asset.created"])
    make_asset(admin_client_api.user)
    assert ring_all(django_capture_on_commit_callbacks) == ["failed"]
    failed = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        assert delivery_resend(failed) is None
        assert delivery_resend(failed) == "an attempt at this event is already waiting"
    assert ring_all(django_capture_on_commit_callbacks) == ["ok"]
    rows = list(WebhookDelivery.objects.order_by("attempt"))
    assert [(r.attempt, r.series_attempt, r.status) for r in rows] == [(1, 1, "ERROR"), (2, 1, "OK")]
    assert target.received[0].headers["webhook-id"] == target.received[1].headers["webhook-id"]


def test_an_inactive_webhook_gets_no_new_events_and_its_waiting_ones_are_not_sent(
    admin_client_api, receiver, allow_private, django_capture_on_commit_callbacks
):
    target = receiver()
    hook = subscribe(admin_client_api, target.url, ["asset.created"])
    make_asset(admin_client_api.user)  # waiting
    admin_client_api.put(f"/api/v1/webhooks/{hook['id']}", {"url": target.url, "events": ["asset.created"], "active": False}, format="json")
    make_asset(admin_client_api.user)  # not recorded
    assert ring_all(django_capture_on_commit_callbacks) == ["failed"]
    assert target.received == []
    row = WebhookDelivery.objects.get()
    assert row.status == "ERROR" and "deactivated" in row.error and row.next_retry is None


def test_a_delivery_made_while_the_broker_is_down_is_rung_by_the_sweep_and_sent(
    admin_client_api, receiver, allow_private, monkeypatch, django_capture_on_commit_callbacks
):
    target = receiver()
    hook = subscribe(admin_client_api, target.url, ["asset.created"])
    monkeypatch.setattr(Conf, "ORM", None)  # the broker: a Redis server that is not there
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{_free_port()}/0")
    with django_capture_on_commit_callbacks(execute=True):
        asset = make_asset(admin_client_api.user)  # the change commits; its ring fails (logged)
    assert deliveries_sweep() == 0  # still down: nothing rung, nothing lost
    row = WebhookDelivery.objects.get()
    assert (row.status, row.rung_at) == (DeliveryStatus.PENDING, None)
    monkeypatch.undo()  # the broker is back
    assert deliveries_sweep() == 1
    assert WebhookDelivery.objects.get().rung_at is not None
    assert deliveries_sweep() == 0  # rung once: not again until its ring has had time to arrive
    assert ring_all(django_capture_on_commit_callbacks) == ["ok"]
    assert target.received[0].verified(hook["secret"])["data"]["id"] == asset.id
