"""Webhooks sent by a real worker (`manage.py qcluster`, a child process on the test's
database and broker) to real HTTP receivers on 127.0.0.1: every event type arrives once,
signed, even when the broker lost every ring; a receiver that fails twice gets a third
attempt after the back-off, and the delivery rows show all three."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.brokers import get_broker
from standardwebhooks import WebhookVerificationError

from assets.models import DeliveryStatus, Job, JobStatus, WebhookDelivery
from assets.webhooks import EVENTS
from tests.assets.webhooks.conftest import subscribe
from tests.conftest import small_jpeg
from tests.graphics.conftest import job_wait, qcluster_factory, wait_until  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_SECONDS": "0.3"}


def upload(client) -> str:
    response = client.post("/api/v1/assets", {"file": SimpleUploadedFile("shoe.jpg", small_jpeg())}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_every_event_arrives_once_signed_even_when_the_broker_lost_every_ring(
    admin_client_api, receiver, allow_private, qcluster_factory  # noqa: F811
):
    everything, deletions = receiver(), receiver()
    hook = subscribe(admin_client_api, everything.url)
    deleted_hook = subscribe(admin_client_api, deletions.url, ["asset.deleted"])
    asset_id = upload(admin_client_api)
    admin_client_api.post(f"/api/v1/assets/{asset_id}/data/update", {"data": {"sku": "B-7"}, "mode": "APPEND"}, format="json")
    queued = admin_client_api.post(
        "/api/v1/assets/addons/image_graphics",
        {"assets": [{asset_id: {"options": {"disposition": {"add_as_conversion": True, "conversion_name": "card"}}}}],
         "operations": [{"bg_add": {"options": {"color": "#336699"}}}]},
        format="json",
    )
    assert queued.status_code == 202, queued.content
    get_broker().purge_queue()  # every ring is lost: only the rows remember the work

    cluster = qcluster_factory(**WORKER_ENV)
    cluster.start()
    job = job_wait(admin_client_api, queued.json()["job_id"], cluster)
    assert job["status"] == "OK", job
    assert admin_client_api.delete(f"/api/v1/assets/{asset_id}/content/card").status_code == 204
    assert admin_client_api.delete(f"/api/v1/assets/{asset_id}").status_code == 204

    everything.wait_for(len(EVENTS), 60, cluster.log)
    deletions.wait_for(1, 60, cluster.log)
    assert wait_until(lambda: not Job.objects.filter(status=JobStatus.QUEUED).exists(), 60), cluster.log()
    assert wait_until(lambda: not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists(), 30), cluster.log()

    payloads = [got.verified(hook["secret"]) for got in everything.received]
    assert sorted(p["type"] for p in payloads) == sorted(EVENTS)  # each once: no thumbnail job.finished
    assert len({got.headers["webhook-id"] for got in everything.received}) == len(EVENTS)
    by_type = {p["type"]: p["data"] for p in payloads}
    assert by_type["asset.created"]["id"] == by_type["asset.updated"]["id"] == asset_id
    assert by_type["asset.updated"]["data"] == {"sku": "B-7"}
    assert by_type["conversion.saved"]["conversion_name"] == "card"  # saved by the worker's job
    assert by_type["job.finished"]["id"] == job["id"] and by_type["job.finished"]["status"] == "OK"
    assert by_type["conversion.deleted"]["conversion_name"] == "card"
    assert by_type["asset.deleted"] == {"id": asset_id, "name": "shoe.jpg"}

    [only] = deletions.received
    assert only.verified(deleted_hook["secret"])["data"] == {"id": asset_id, "name": "shoe.jpg"}
    with pytest.raises(WebhookVerificationError):
        only.verified(hook["secret"])  # each webhook signs with its own secret
    assert set(WebhookDelivery.objects.values_list("status", "status_code", "attempt")) == {("OK", 200, 1)}


def test_a_receiver_answering_500_twice_then_200_gets_three_attempts(
    admin_client_api, receiver, allow_private, qcluster_factory, no_thumbnails  # noqa: F811
):
    target = receiver([500, 500, 200])
    hook = subscribe(admin_client_api, target.url, ["asset.created"])
    cluster = qcluster_factory(**WORKER_ENV)
    cluster.start()
    asset_id = upload(admin_client_api)

    received = target.wait_for(3, 60, cluster.log)
    assert wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.OK).exists(), 30), cluster.log()
    first, second, third = WebhookDelivery.objects.order_by("attempt")
    assert [(r.attempt, r.status, r.status_code) for r in (first, second, third)] == [
        (1, "ERROR", 500), (2, "ERROR", 500), (3, "OK", 200)
    ]
    assert first.next_retry == second.scheduled_at == first.attempted_at + timedelta(seconds=0.3)
    assert second.next_retry == third.scheduled_at == second.attempted_at + timedelta(seconds=1.2)
    assert third.next_retry is None and third.error == ""
    assert second.attempted_at >= first.next_retry and third.attempted_at >= second.next_retry
    assert all(r.duration_ms is not None for r in (first, second, third))
    assert [got.verified(hook["secret"])["data"]["id"] for got in received] == [asset_id] * 3
    assert len({got.headers["webhook-id"] for got in received}) == 1
    assert len({got.headers["webhook-timestamp"] for got in received}) >= 2  # each attempt signed at its own time

    listed = admin_client_api.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["results"]
    assert [(d["attempt"], d["status"], d["status_code"]) for d in listed] == [(3, "OK", 200), (2, "ERROR", 500), (1, "ERROR", 500)]
    assert listed[2]["next_retry"] and listed[0]["next_retry"] is None and "answered HTTP 500" in listed[1]["error"]
