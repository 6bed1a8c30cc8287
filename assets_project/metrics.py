"""`/metrics` (SPEC §12): every series of core.metrics, added up over every process that
writes them (gunicorn's workers and the qcluster's, prometheus-client's multiprocess
mode), and the length of the queues, read from the database at scrape time.

Answered only to METRICS_ALLOWED_IPS (addresses or networks; loopback by default), judged
by REMOTE_ADDR: behind a reverse proxy that is the proxy, so list it and keep /metrics
off the public side of the proxy.
"""

from __future__ import annotations

import ipaddress
import logging
import os

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from assets.errors import error_body
from assets.jobs import job_kinds
from assets.models import DeliveryStatus, Job, JobStatus, WebhookDelivery

logger = logging.getLogger(__name__)


class QueueCollector:
    """assets_queue_length{queue, kind}: jobs waiting (QUEUED) by kind, and webhook
    deliveries whose time has come; the database is the record of both, so the numbers
    are exact whatever the broker holds."""

    def collect(self):
        family = GaugeMetricFamily(
            "assets_queue_length", "Work waiting: jobs QUEUED by kind, webhook deliveries due", labels=["queue", "kind"]
        )
        waiting = dict.fromkeys(job_kinds(), 0)
        waiting.update(Job.objects.filter(status=JobStatus.QUEUED).values_list("kind").annotate(n=Count("id")))
        for kind, count in sorted(waiting.items()):
            family.add_metric(["jobs", kind], count)
        due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, scheduled_at__lte=timezone.now()).count()
        family.add_metric(["webhook_deliveries", "all"], due)
        yield family


def _allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            logger.warning("METRICS_ALLOWED_IPS: %r is not an address or network; ignored", entry)
    return False


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    address = request.META.get("REMOTE_ADDR", "")
    if not _allowed(address):
        body = error_body(
            "permission_denied",
            f"metrics are served only to METRICS_ALLOWED_IPS; {address or 'this address'} is not one of them",
            None, getattr(request, "request_id", ""),
        )
        return JsonResponse(body, status=403)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
    registry.register(QueueCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
