"""One record of every request: its metrics (core.metrics), one log line, and its rate-limit
headers (assets.ratelimits).

The log line goes to the `assets.requests` logger with the request id, method, route (the
URL pattern, not the path: ids would make every line unique), status, latency, and the
account and user once authenticated, as fields: with LOG_FORMAT=json each is a key of a
one-line JSON object. With plain logs the logger is quiet (gunicorn's access log says the
same in one line).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from assets.permissions import membership_of
from assets.ratelimits import rate_headers
from core import metrics

logger = logging.getLogger("assets.requests")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered ("api/v1/assets/<hex32:asset_id>"), "static" for
    static files, "unmatched" for a path no pattern takes: a bounded set of labels."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return match.route
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


def _who(request: HttpRequest) -> dict[str, str]:
    membership = membership_of(getattr(request, "user", None))
    if membership is None:
        return {}
    return {"account": membership.account.name, "user": membership.user.get_username()}


class RequestTelemetryMiddleware:
    """Right inside RequestIdMiddleware, so the line carries the id the response does."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        elapsed = time.monotonic() - started
        for name, value in rate_headers(request).items():
            response[name] = value
        route, status = route_of(request), response.status_code
        method = request.method if request.method in _METHODS else "other"
        metrics.REQUESTS.labels(route, method, str(status)).inc()
        metrics.REQUEST_SECONDS.labels(route, method, str(status)).observe(elapsed)
        fields = {
            "request_id": getattr(request, "request_id", "-"),
            "method": method,
            "route": route,
            "path": request.path,
            "status": status,
            "latency_ms": round(elapsed * 1000, 1),
            **_who(request),
        }
        logger.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "%s %s %s %.1f ms", method, request.path, status, fields["latency_ms"], extra=fields,
        )
        return response
