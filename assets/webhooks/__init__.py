"""Webhooks (SPEC §11): tell other systems what happened, the way jobs do their work.

The database is the record of every delivery, as it is of every job (assets.jobs), and
the broker only a doorbell; this reuses the jobs' pattern and the worker's sweep rather
than a second queue:

1. An event (`events.webhook_event`, called by the services that make the change) inserts
   one PENDING `WebhookDelivery` per webhook that takes it, in the transaction of the
   change: the rows exist exactly when the change committed, and a change rolled back
   reports nothing. Once it commits, a ring (`delivery_ring`, a django-q2 task) is queued
   per row; a ring that fails (broker down) is logged, and the sweep rings later.
2. A ring claims one due delivery (the one it names, else the oldest) with a lease of
   WEBHOOK_TIMEOUT + 30 s, then, outside any transaction, POSTs the payload, signed with
   the `standardwebhooks` package (headers `webhook-id`, `webhook-timestamp`,
   `webhook-signature`), through `core.outbound` (the image_url address rules, the whole
   attempt within WEBHOOK_TIMEOUT).
3. The outcome is written on the row (status code, duration, error) only while the claim
   is still ours. A 2xx is OK; anything else is ERROR and, until the event has had
   WEBHOOK_MAX_ATTEMPTS attempts, a new PENDING row is scheduled after an exponential
   back-off (`retry_delay`), with `next_retry` on the failed row saying when.
4. The sweep (`deliveries_sweep`, run by `manage.py qcluster` beside the job sweep) rings
   for due rows with no recent ring: retries whose time has come, rings that were lost,
   and rows whose sender died (its lease ran out). So a delivery is never lost: at worst
   it is sent twice (a worker killed after sending, before recording), with the same
   `webhook-id`, which receivers use to drop repeats. Retries run within a sweep period
   (JOBS_SWEEP_SECONDS) of their time.

Delivery rings share the broker with job rings; the job sweep, which rings only for jobs
beyond the rings already waiting, may then ring a moment later than it would have.
"""

from assets.webhooks.delivery import (
    deliveries_sweep,
    delivery_claim,
    delivery_enqueue,
    delivery_resend,
    delivery_ring,
    delivery_send,
    retry_delay,
)
from assets.webhooks.events import EVENTS, asset_event, assets_deleted_event, job_finished_event, webhook_event

__all__ = [
    "EVENTS", "asset_event", "assets_deleted_event", "deliveries_sweep", "delivery_claim", "delivery_enqueue",
    "delivery_resend", "delivery_ring", "delivery_send", "job_finished_event", "retry_delay", "webhook_event",
]
