"""Sending deliveries: the ring, the claim, the signed POST, the record of it, the sweep and
the admin's resend (see assets.webhooks)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django_q.tasks import async_task
from standardwebhooks import Webhook as Signer

from assets import worker
from assets.models import DeliveryStatus, Webhook, WebhookDelivery
from core import metrics
from core.outbound import FetchError, http_request

logger = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 30  # beyond the time cap, before a claimed delivery is taken as abandoned
ANSWER_EXCERPT_BYTES = 300  # of a refusing answer's body, kept in `error`
USER_AGENT = "asset-service-webhooks/1"


def retry_delay(series_attempt: int) -> float:
    """Seconds from failed attempt `series_attempt` (1-based) to the next: WEBHOOK_RETRY_SECONDS,
    then four times longer each time (5 s, 20 s, 80 s, ~5 min, ~21 min, ~1.4 h, ~5.7 h: eight
    attempts over ~7.6 hours by default)."""
    return settings.WEBHOOK_RETRY_SECONDS * 4 ** (series_attempt - 1)


def delivery_enqueue(delivery_id: str | None) -> bool:
    """Ring the doorbell; False (logged) when the broker cannot be reached: the row waits
    in the database and the sweep rings for it."""
    try:
        async_task("assets.webhooks.delivery_ring", delivery_id, group="webhooks", task_name=f"webhook-{delivery_id or 'any'}")
    except Exception:
        logger.warning("could not queue webhook delivery %s; the sweep will", delivery_id, exc_info=True)
        return False
    return True


def _due(now: datetime) -> Q:
    return (
        Q(status=DeliveryStatus.PENDING, scheduled_at__lte=now)
        & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    )


def delivery_ring(delivery_id: str | None = None) -> str:
    """The django-q2 task: claim one due delivery (preferably `delivery_id`) and send it."""
    if worker.stopping():
        return "stopping"
    delivery = delivery_claim(delivery_id)
    if delivery is None:
        return "nothing to send"
    return delivery_send(delivery)


def delivery_claim(preferred: str | None = None) -> WebhookDelivery | None:
    """Lease `preferred` if it is due, else the oldest due delivery; None if none is."""
    now = timezone.now()
    oldest = WebhookDelivery.objects.filter(_due(now)).order_by("scheduled_at").values_list("id", flat=True)[:5]
    for delivery_id in dict.fromkeys([*([preferred] if preferred else []), *oldest]):
        with transaction.atomic():
            delivery = WebhookDelivery.objects.select_for_update().filter(_due(now), id=delivery_id).first()
            if delivery is None:
                continue
            delivery.claim = uuid.uuid4().hex
            delivery.lease_until = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + LEASE_MARGIN_SECONDS)
            delivery.save(update_fields=["claim", "lease_until"])
        return delivery
    return None


def signed_headers(*, secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (signed by the `standardwebhooks` package)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(message_id, at, body),
    }


def delivery_send(delivery: WebhookDelivery) -> str:
    """POST the claimed delivery once (within WEBHOOK_TIMEOUT, to a public address unless
    WEBHOOK_ALLOW_PRIVATE) and record what came of it."""
    webhook = Webhook.objects.filter(pk=delivery.webhook_id).first()
    attempted = timezone.now()
    if webhook is None:
        return "webhook deleted"
    if not webhook.active:
        return _record(delivery, attempted, None, 0, "the webhook was deactivated before this attempt; nothing was sent", final=True)
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signed_headers(secret=webhook.secret, message_id=delivery.message_id, at=attempted, body=body)
    started = time.monotonic()
    status_code, error = None, ""
    try:
        answer = http_request(
            webhook.url, method="POST", body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT,
            max_bytes=ANSWER_EXCERPT_BYTES, truncate=True, allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
        )
        status_code = answer.status
        if not 200 <= status_code < 300:
            excerpt = answer.body.decode("utf-8", "replace").strip()
            error = f"answered HTTP {status_code}" + (f": {excerpt}" if excerpt else "")
    except FetchError as exc:
        error = str(exc)
    return _record(delivery, attempted, status_code, round((time.monotonic() - started) * 1000), error)


def _record(
    delivery: WebhookDelivery, attempted: datetime, status_code: int | None, duration_ms: int, error: str,
    *, final: bool = False,
) -> str:
    """Write the attempt's outcome, and schedule the next attempt after a failure (unless
    `final`) until the series has had WEBHOOK_MAX_ATTEMPTS; only while the claim is still ours."""
    ok = not error
    with worker.critical(), transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if row is None or row.claim != delivery.claim or row.status != DeliveryStatus.PENDING:
            return "claimed by another attempt"
        retry = not ok and not final and row.series_attempt < settings.WEBHOOK_MAX_ATTEMPTS
        row.next_retry = attempted + timedelta(seconds=retry_delay(row.series_attempt)) if retry else None
        row.status = DeliveryStatus.OK if ok else DeliveryStatus.ERROR
        row.attempted_at, row.status_code, row.duration_ms, row.error = attempted, status_code, duration_ms, error[:2000]
        row.lease_until = None
        row.save(update_fields=["status", "attempted_at", "status_code", "duration_ms", "error", "next_retry", "lease_until"])
        if retry:
            _next_attempt(row, at=row.next_retry, series_attempt=row.series_attempt + 1)
    outcome = "ok" if ok else ("retry" if retry else "failed")
    metrics.WEBHOOK_ATTEMPTS.labels(outcome).inc()
    log = logger.info if ok else logger.warning
    log("webhook %s %s attempt %d to %s: %s", row.event, row.message_id, row.attempt, row.webhook_id, error or status_code)
    return outcome


def _next_attempt(row: WebhookDelivery, *, at: datetime, series_attempt: int) -> WebhookDelivery:
    last = WebhookDelivery.objects.filter(message_id=row.message_id).aggregate(n=Max("attempt"))["n"] or 0
    return WebhookDelivery.objects.create(
        webhook_id=row.webhook_id, message_id=row.message_id, event=row.event, payload=row.payload,
        attempt=last + 1, series_attempt=series_attempt, scheduled_at=at,
    )


def delivery_resend(delivery: WebhookDelivery) -> str | None:
    """The admin's resend: a new series of attempts at the delivery's event, starting now,
    with the same `webhook-id`. Returns why it cannot, or None once it is queued."""
    if WebhookDelivery.objects.filter(message_id=delivery.message_id, status=DeliveryStatus.PENDING).exists():
        return "an attempt at this event is already waiting"
    try:
        with transaction.atomic():
            row = _next_attempt(delivery, at=timezone.now(), series_attempt=1)
            transaction.on_commit(lambda: delivery_enqueue(row.id))
    except IntegrityError:
        return "it changed while being resent; look again"
    return None


def deliveries_sweep() -> int:
    """Run by `manage.py qcluster` beside the job sweep: ring for due deliveries that were
    never rung or whose ring has had time to arrive (a lost ring, a broker that was down,
    a retry whose time has come, a worker that died mid-send), and forget finished
    deliveries older than WEBHOOK_KEEP_DAYS. Returns how many it rang."""
    now = timezone.now()
    old = WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING).filter(
        created_at__lt=now - timedelta(days=settings.WEBHOOK_KEEP_DAYS)
    )
    WebhookDelivery.objects.filter(pk__in=list(old.values_list("pk", flat=True)[:1000])).delete()
    grace = now - timedelta(seconds=max(30, 4 * settings.JOBS_SWEEP_SECONDS))
    due = list(
        WebhookDelivery.objects.filter(_due(now) & (Q(rung_at__isnull=True) | Q(rung_at__lt=grace)))
        .order_by("scheduled_at").values_list("id", flat=True)[:200]
    )
    rung = [delivery_id for delivery_id in _until_refused(due)]
    if rung:
        WebhookDelivery.objects.filter(pk__in=rung).update(rung_at=now)
        logger.info("sweep: rang for %d webhook deliver%s", len(rung), "y" if len(rung) == 1 else "ies")
    return len(rung)


def _until_refused(ids: list[str]):
    for delivery_id in ids:
        if not delivery_enqueue(delivery_id):
            return
        yield delivery_id
