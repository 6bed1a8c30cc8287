"""Webhooks: the request body, reads and writes (SPEC §11). Everything is scoped to the
caller's account; another account's webhook is a 404, as for assets."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from assets.errors import ApiError, Conflict, FieldError, NotFound
from assets.models import Account, Webhook, WebhookDelivery
from assets.selectors import account_of
from assets.validators import is_asset_id
from assets.webhooks.events import EVENTS
from core.outbound import url_hostname, url_problem

MAX_URL_LENGTH = 2000
MAX_WEBHOOKS_PER_ACCOUNT = 20
SECRET_BYTES = 24
READ_ONLY = ("id", "created_at")


@dataclass(frozen=True)
class WebhookWrite:
    """POST webhooks and PUT webhooks/{id}: `url` and `events` are required; `active`
    defaults to true (PUT replaces the whole webhook, as it does a data schema). The
    document's own `id` and `created_at` are ignored, so a fetched webhook can be sent back."""

    url: str
    events: tuple[str, ...]
    active: bool

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> WebhookWrite:
        unknown = sorted(set(body) - {"url", "events", "active", *READ_ONLY})
        if unknown:
            raise FieldError(unknown[0], "is not a known field; send url, events and optionally active")
        errors: dict[str, list[str]] = {}
        url, events, active = body.get("url"), body.get("events"), body.get("active", True)
        problem = _url_problem(url)
        if problem:
            errors["url"] = [problem]
        if not isinstance(events, list) or not events:
            errors["events"] = [f"is required: a non-empty list of event types, from {', '.join(EVENTS)}"]
        elif any(event not in EVENTS for event in events):
            bad = next(event for event in events if event not in EVENTS)
            errors["events"] = [f"{bad!r} is not an event type; use any of {', '.join(EVENTS)}"]
        if not isinstance(active, bool):
            errors["active"] = [f"must be true or false, got {active!r}"]
        if errors:
            raise ApiError(
                "; ".join(f"{field}: {messages[0]}" for field, messages in errors.items()), errors=errors
            )
        return cls(url=url, events=tuple(dict.fromkeys(events)), active=active)


def _url_problem(url: Any) -> str | None:
    problem = url_problem(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE, max_length=MAX_URL_LENGTH)
    if problem and url_hostname(url) is not None:  # a refused address, not a malformed URL
        return f"{problem} (targets follow the image_url rules; the operator's WEBHOOK_ALLOW_PRIVATE=true lifts this)"
    return problem


def webhook_secret_new() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


# --- reads ---------------------------------------------------------------------------------


def webhook_list(*, user) -> QuerySet[Webhook]:
    return Webhook.objects.filter(account=account_of(user)).order_by("created_at", "id")


def webhook_get(*, account: Account, webhook_id: str, for_update: bool = False) -> Webhook:
    queryset = Webhook.objects.filter(account=account)
    if for_update:
        queryset = queryset.select_for_update()
    webhook = queryset.filter(id=webhook_id).first() if is_asset_id(webhook_id) else None
    if webhook is None:
        raise NotFound(f"webhook {webhook_id} does not exist in your account; GET /api/v1/webhooks lists them",
                       code="webhook_not_found")
    return webhook


def webhook_deliveries(*, user, webhook_id: str) -> QuerySet[WebhookDelivery]:
    """The webhook's delivery attempts, newest first."""
    webhook = webhook_get(account=account_of(user), webhook_id=webhook_id)
    return WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-attempt", "-id")


# --- writes --------------------------------------------------------------------------------


def webhook_create(*, user, write: WebhookWrite) -> Webhook:
    """A new webhook with a fresh secret (the only time the secret is returned)."""
    account = account_of(user)
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()  # counts race otherwise
        if Webhook.objects.filter(account=account).count() >= MAX_WEBHOOKS_PER_ACCOUNT:
            raise Conflict(
                f"the account already has {MAX_WEBHOOKS_PER_ACCOUNT} webhooks, the most it may have; "
                "DELETE one, or subscribe an existing one to more events", code="too_many_webhooks",
            )
        return Webhook.objects.create(
            account=account, url=write.url, events=list(write.events), active=write.active, secret=webhook_secret_new()
        )


def webhook_update(*, user, webhook_id: str, write: WebhookWrite) -> Webhook:
    with transaction.atomic():
        webhook = webhook_get(account=account_of(user), webhook_id=webhook_id, for_update=True)
        webhook.url, webhook.events, webhook.active = write.url, list(write.events), write.active
        webhook.save(update_fields=["url", "events", "active"])
    return webhook


def webhook_delete(*, user, webhook_id: str) -> None:
    """The webhook and its deliveries; attempts still waiting are not sent."""
    with transaction.atomic():
        webhook_get(account=account_of(user), webhook_id=webhook_id, for_update=True).delete()
