"""What happened, recorded for each webhook that wants to know: one PENDING delivery row per
(event, webhook), written in the transaction of the change it reports (see assets.webhooks).

The single places that emit are the services every path goes through (the API, the
worker's jobs, the admin and the web pages all write through them):

    asset.created       assets.services.asset_create
    asset.updated       assets.services.asset_data_update, asset_edit (the admin)
    asset.deleted       assets.services.assets_delete
    conversion.saved    assets.services.conversion_save
    conversion.deleted  assets.services.conversion_delete
    job.finished        assets.jobs.run (a job's end), for the kinds clients ask for
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assets.models import Asset, Job, Webhook, WebhookDelivery, new_hex_id
from assets.serializers import asset_document, job_document
from assets.webhooks.delivery import delivery_enqueue

logger = logging.getLogger(__name__)

EVENTS = ("asset.created", "asset.updated", "asset.deleted", "conversion.saved", "conversion.deleted", "job.finished")

Data = dict[str, Any] | Callable[[], dict[str, Any]]


class _PublicAddress:
    """Stands in for a request when a document is rendered for a payload: its URLs are
    made absolute with PUBLIC_BASE_URL when that is set, else left as paths."""

    def build_absolute_uri(self, path: str) -> str:
        base = settings.PUBLIC_BASE_URL
        return urljoin(base.rstrip("/") + "/", path.lstrip("/")) if base else path


def webhook_event(*, account_id: int, event: str, data: Data) -> list[WebhookDelivery]:
    """Record `event` for every active webhook of the account that takes it, in the
    caller's transaction, and ring for each delivery once that commits (a change rolled
    back reports nothing). `data` (or what it returns, called only when some webhook takes
    the event) becomes the payload's `data`."""
    hooks = [hook for hook in Webhook.objects.filter(account_id=account_id, active=True).only("id", "events") if event in hook.events]
    if not hooks:
        return []
    now = timezone.now()
    payload = {"type": event, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data() if callable(data) else data}
    rows = [
        WebhookDelivery(webhook_id=hook.id, message_id=new_hex_id(), event=event, payload=payload, scheduled_at=now)
        for hook in hooks
    ]
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(rows)
        transaction.on_commit(lambda: [delivery_enqueue(row.id) for row in rows])
    return rows


def asset_event(*, asset: Asset, event: str, conversion_name: str | None = None) -> None:
    """asset.created, asset.updated, conversion.saved and conversion.deleted: the asset's
    document as it is in the caller's transaction (with `conversion_name` for the two
    conversion events)."""

    def data() -> dict[str, Any]:
        document = dict(asset_document(Asset.objects.get(pk=asset.pk), _PublicAddress()))
        if conversion_name is not None:
            document["conversion_name"] = conversion_name
        return document

    webhook_event(account_id=asset.account_id, event=event, data=data)


def assets_deleted_event(*, assets: list[tuple[str, str, int]]) -> None:
    """asset.deleted for each (id, name, account id): {"id", "name"}, the asset being gone."""
    for asset_id, name, account_id in assets:
        webhook_event(account_id=account_id, event="asset.deleted", data={"id": asset_id, "name": name})


def job_finished_event(*, job: Job) -> None:
    """job.finished: the ended job's document."""
    webhook_event(account_id=job.account_id, event="job.finished", data=lambda: dict(job_document(job)))
