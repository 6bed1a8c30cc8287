"""Rate limits per API key (SPEC §12), off by default.

Two budgets, each a count per window of WINDOW_SECONDS that opens with a key's first
request and closes a minute later:

- requests: RATE_LIMIT_REQUESTS_PER_MINUTE API requests (`ApiKeyRateThrottle`, DRF's
  throttle hook: it runs after authentication and the role check, so a 401 or 403 costs
  nothing);
- megapixels: RATE_LIMIT_MEGAPIXELS_PER_MINUTE megapixels of images sent to the processing
  endpoints, charged before any pixel is processed (`megapixels_charge`): a 4000x3000
  photograph costs 12.

A request over a budget is a 429 in the one error shape, spends nothing of that budget
(a request refused for its megapixels still counts as a request), and carries
`Retry-After`. Every response to which a budget applied carries `RateLimit-Limit`,
`RateLimit-Remaining` and `RateLimit-Reset` (seconds) of the budget nearest to running out
(the one refused, on a 429), and `RateLimit-Policy` naming each budget applied
(assets.telemetry writes them).

The counters live in Django's cache, so every web worker shares them: Redis when
configured (its INCR is atomic), otherwise the database cache, whose increments are a
read and a write, so two requests counted in the same instant may count once. Browsers
logged in with a session are limited per user. If the cache cannot be reached, requests
are let through (and a warning is logged): a limit must not take the service down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from assets.errors import ApiError
from core import metrics

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
PIXELS_PER_MEGAPIXEL = 1_000_000
UNITS = {"requests": 1, "megapixels": PIXELS_PER_MEGAPIXEL}  # counted in requests and in pixels


@dataclass(frozen=True)
class Budget:
    name: str  # "requests" or "megapixels"
    limit: int  # per window, in the budget's unit
    used: int  # in counted units (pixels for megapixels)
    reset: int  # seconds until the window closes
    refused: bool = False

    @property
    def remaining(self) -> int:
        return max(0, self.limit * UNITS[self.name] - self.used) // UNITS[self.name]

    @property
    def share_left(self) -> float:
        return max(0.0, 1 - self.used / (self.limit * UNITS[self.name]))


class RateLimited(ApiError):
    status_code = 429
    code = "rate_limited"


def client_of(request) -> str | None:
    """Whose budget a request spends: its API key's, else its session user's; None for
    anonymous requests (they are refused before anything is spent)."""
    api_key = getattr(request, "auth", None)
    if getattr(api_key, "pk", None):
        return "key:" + hashlib.sha256(str(api_key.pk).encode()).hexdigest()[:24]
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}:{int(user.date_joined.timestamp())}"
    return None


def _charge(name: str, who: str, amount: int, limit: int) -> Budget | None:
    """Spend `amount` units of `who`'s budget `name` (`limit` per window, in its unit);
    refused, and nothing spent, past the limit. None if the cache cannot be reached."""
    now = time.time()
    base = f"ratelimit:{name}:{who}"
    cap = limit * UNITS[name]
    try:
        cache.add(base, now, timeout=WINDOW_SECONDS)  # opens the window, unless one is open
        start = cache.get(base) or now
        counter = f"{base}:{int(start * 1000)}"
        cache.add(counter, 0, timeout=WINDOW_SECONDS + 5)
        try:
            used = cache.incr(counter, amount)
        except ValueError:  # the window closed between the two calls
            cache.set(counter, amount, timeout=WINDOW_SECONDS + 5)
            used = amount
        reset = max(1, math.ceil(start + WINDOW_SECONDS - now))
        if used > cap:
            cache.decr(counter, amount)
            return Budget(name, limit, used - amount, reset, refused=True)
    except Exception:
        logger.warning("rate limits: the cache cannot be reached; letting the request through", exc_info=True)
        return None
    return Budget(name, limit, used, reset)


def _remember(request, budget: Budget | None) -> None:
    """Keep what the response's headers will say (on the Django request, which the
    middleware sees): every budget applied, and the one to report."""
    if budget is None:
        return
    request = getattr(request, "_request", request)
    applied = [*getattr(request, "rate_budgets", []), budget]
    request.rate_budgets = applied
    if budget.refused:
        metrics.RATE_LIMITED.labels(budget.name).inc()
        raise RateLimited(_refusal(budget, request))


def _refusal(budget: Budget, request) -> str:
    if budget.name == "requests":
        return (
            f"more than {budget.limit} requests in a minute with this API key; "
            f"send it again in {budget.reset} s (Retry-After)"
        )
    asked = getattr(request, "rate_megapixels", 0.0)
    if asked > budget.limit:
        return (
            f"the image is {asked:.1f} megapixels, more than the {budget.limit} megapixels a minute this API key "
            "may process; send a smaller image, or ask the operator to raise RATE_LIMIT_MEGAPIXELS_PER_MINUTE"
        )
    return (
        f"the image is {asked:.1f} megapixels and only {budget.remaining} of the {budget.limit} megapixels a minute "
        f"this API key may process are left; send it again in {budget.reset} s (Retry-After)"
    )


def reported(request) -> Budget | None:
    """The budget the headers describe: the refused one, else the one nearest to running out."""
    budgets = getattr(request, "rate_budgets", [])
    refused = [b for b in budgets if b.refused]
    return refused[0] if refused else min(budgets, key=lambda b: b.share_left, default=None)


def rate_headers(request) -> dict[str, str]:
    """RateLimit-* (and Retry-After on a refusal) for the response to `request`."""
    budget = reported(request)
    if budget is None:
        return {}
    headers = {
        "RateLimit-Limit": str(budget.limit),
        "RateLimit-Remaining": str(budget.remaining),
        "RateLimit-Reset": str(budget.reset),
        "RateLimit-Policy": ", ".join(
            f'{b.limit};w={WINDOW_SECONDS};comment="{b.name}"' for b in getattr(request, "rate_budgets", [])
        ),
    }
    if budget.refused:
        headers["Retry-After"] = str(budget.reset)
    return headers


def megapixels_charge(request, pixels: int) -> None:
    """Spend `pixels` of the caller's megapixel budget, or raise RateLimited (a 429)."""
    limit = settings.RATE_LIMIT_MEGAPIXELS_PER_MINUTE
    who = client_of(request)
    if not limit or who is None or pixels <= 0:
        return
    getattr(request, "_request", request).rate_megapixels = pixels / PIXELS_PER_MEGAPIXEL
    _remember(request, _charge("megapixels", who, pixels, limit))


class ApiKeyRateThrottle(BaseThrottle):
    """DRF's throttle hook: one request of the caller's request budget, or a 429."""

    def allow_request(self, request, view) -> bool:
        limit = settings.RATE_LIMIT_REQUESTS_PER_MINUTE
        who = client_of(request)
        if limit and who is not None:
            _remember(request, _charge("requests", who, 1, limit))
        return True
