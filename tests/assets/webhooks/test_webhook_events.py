"""Which changes report which events, with what payload (SPEC §11), recorded in the
transaction of the change: through the API here (the admin's are in
tests/web/test_admin_webhooks.py, the worker's in test_webhook_worker.py)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.jobs import job_ring
from assets.models import DataSchema, Job, WebhookDelivery
from assets.services.renditions import thumbnail_job_submit
from tests.assets.webhooks.conftest import subscribe
from tests.conftest import make_asset, small_jpeg, small_png

pytestmark = pytest.mark.django_db

PUBLIC = "https://hooks.example.com/in"


def events() -> list[tuple[str, dict]]:
    return [(d.event, d.payload) for d in WebhookDelivery.objects.order_by("created_at", "event")]


def test_each_asset_and_conversion_change_through_the_api_reports_its_event(admin_client_api):
    subscribe(admin_client_api, PUBLIC)
    created = admin_client_api.post(
        "/api/v1/assets", {"file": SimpleUploadedFile("shoe.jpg", small_jpeg()), "data": '{"sku": "A-1"}'},
        format="multipart",
    ).json()
    asset_id = created["id"]
    admin_client_api.post(f"/api/v1/assets/{asset_id}/data/update", {"data": {"sku": "A-2"}, "mode": "APPEND"}, format="json")
    admin_client_api.post(f"/api/v1/assets/{asset_id}/content/cutout", {"file": SimpleUploadedFile("c.png", small_png())}, format="multipart")
    admin_client_api.delete(f"/api/v1/assets/{asset_id}/content/cutout")
    admin_client_api.delete(f"/api/v1/assets/{asset_id}")

    recorded = events()
    assert [event for event, _ in recorded] == [
        "asset.created", "asset.updated", "conversion.saved", "conversion.deleted", "asset.deleted"
    ]
    payloads = dict(recorded)
    assert all(set(p) == {"type", "timestamp", "data"} and p["type"] == e for e, p in recorded)
    assert payloads["asset.created"]["data"] == {**created, "url": created["url"].replace("http://testserver", ""),
                                                 "thumbnail_url": created["thumbnail_url"].replace("http://testserver", "")}
    assert payloads["asset.updated"]["data"]["data"] == {"sku": "A-2"}
    saved = payloads["conversion.saved"]["data"]
    assert saved["conversion_name"] == "cutout" and saved["conversions"]["cutout"]["content_type"] == "image/png"
    deleted = payloads["conversion.deleted"]["data"]
    assert deleted["conversion_name"] == "cutout" and deleted["conversions"] == {}
    assert payloads["asset.deleted"]["data"] == {"id": asset_id, "name": "shoe.jpg"}


def test_a_refused_change_reports_nothing(admin_client_api):
    subscribe(admin_client_api, PUBLIC)
    asset = make_asset(admin_client_api.user)
    WebhookDelivery.objects.all().delete()
    schema = DataSchema.objects.create(account=asset.account, name="s", schema={"type": "object", "required": ["sku"]})
    response = admin_client_api.post(
        f"/api/v1/assets/{asset.id}/data/update", {"data": {}, "mode": "REPLACE", "data_schema_id": schema.id}, format="json"
    )
    assert response.status_code == 400
    response = admin_client_api.post("/api/v1/assets", {"file": SimpleUploadedFile("x.jpg", b"not an image")}, format="multipart")
    assert response.status_code == 400
    assert events() == []


def test_a_webhook_gets_only_the_events_it_subscribed_to(admin_client_api):
    deleted_only = subscribe(admin_client_api, PUBLIC, ["asset.deleted"])
    asset = make_asset(admin_client_api.user)
    admin_client_api.delete(f"/api/v1/assets/{asset.id}")
    assert [(d.webhook_id, d.event) for d in WebhookDelivery.objects.all()] == [(deleted_only["id"], "asset.deleted")]


def test_job_finished_reports_the_job_document_but_not_for_thumbnails(admin_client_api, django_capture_on_commit_callbacks):
    subscribe(admin_client_api, PUBLIC, ["job.finished"])
    asset = make_asset(admin_client_api.user)
    thumbnail = thumbnail_job_submit(asset=asset, source="original")
    graphics = admin_client_api.post(
        "/api/v1/assets/addons/image_graphics",
        {"assets": [{asset.id: {"options": {"disposition": {"add_as_conversion": True, "conversion_name": "card"}}}}],
         "operations": [{"bg_add": {"options": {"color": "#336699"}}}]},
        format="json",
    )
    assert graphics.status_code == 202, graphics.content
    for job_id in (thumbnail.id, graphics.json()["job_id"]):
        with django_capture_on_commit_callbacks(execute=True):
            job_ring(job_id)
    job = Job.objects.get(id=graphics.json()["job_id"])
    assert Job.objects.get(id=thumbnail.id).status == "OK" and job.status == "OK"
    [(event, payload)] = [(e, p) for e, p in events() if e == "job.finished"]
    data = payload["data"]
    assert (data["id"], data["kind"], data["status"]) == (job.id, "image_graphics", "OK")
    assert data["output"] == [{"name": "card", "asset_id": asset.id}]
