"""Webhooks and their deliveries: webhooks are made through the API (which returns the
secret once); here staff see them, switch them off and on, and delete them. Deliveries
are a record of attempts: read-only, with the *Resend* action (assets.webhooks)."""

from __future__ import annotations

from django.contrib import admin, messages

from assets.admin.fields import pretty_json
from assets.models import Webhook, WebhookDelivery
from assets.webhooks import delivery_resend


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "id", "account", "event_list", "active", "created_at"]
    list_filter = ["active", "account"]
    list_select_related = ["account"]
    search_fields = ["=id", "url"]
    fields = ["id", "account", "url", "event_list", "active", "created_at"]
    readonly_fields = ["id", "account", "url", "event_list", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # POST /api/v1/webhooks, which returns the signing secret once

    @admin.display(description="events")
    def event_list(self, obj: Webhook) -> str:
        return ", ".join(obj.events)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """One row per attempt, newest first; an event's attempts share the message id."""

    list_display = [
        "event", "webhook", "attempt", "status", "status_code", "duration_ms", "short_error", "scheduled_at",
        "attempted_at", "next_retry",
    ]
    list_filter = ["status", "event", "webhook__account"]
    list_select_related = ["webhook"]
    search_fields = ["=message_id", "=webhook__id"]
    search_help_text = "A message id (the webhook-id header) or a webhook id."
    fields = [
        "id", "message_id", "webhook", "event", "attempt", "series_attempt", "status", "scheduled_at", "attempted_at",
        "status_code", "duration_ms", "error", "next_retry", "payload_pretty",
    ]
    readonly_fields = fields
    actions = ["resend"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("assets.change_webhookdelivery")

    @admin.display(description="error")
    def short_error(self, obj: WebhookDelivery) -> str:
        return obj.error if len(obj.error) <= 80 else obj.error[:79] + "…"

    @admin.display(description="payload")
    def payload_pretty(self, obj: WebhookDelivery):
        return pretty_json(obj.payload)

    @admin.action(description="Resend the selected deliveries' events", permissions=["resend"])
    def resend(self, request, queryset) -> None:
        """A new series of attempts at each selected event (one per event, whichever of its
        attempts were selected), starting now, with the same webhook-id."""
        resent: list[str] = []
        skipped: list[str] = []
        for delivery in queryset.order_by("created_at"):
            if delivery.message_id in resent:
                continue
            problem = delivery_resend(delivery)
            if problem is None:
                resent.append(delivery.message_id)
            else:
                skipped.append(f"{delivery.event} {delivery.message_id} ({problem})")
        if resent:
            self.message_user(request, f"Resending {len(resent)} event(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {len(skipped)}: {'; '.join(skipped)}.", messages.WARNING)
