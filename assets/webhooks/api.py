"""The webhooks API of SPEC §11 (ADMIN only). Views are thin: parse, call one service,
render."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assets.models import HEX32_PATTERN, Webhook, WebhookDelivery
from assets.openapi import error_responses
from assets.pagination import AssetPagination
from assets.parsers import SafeJSONParser
from assets.permissions import CanAdmin
from assets.requests import json_body
from assets.selectors import account_of
from assets.webhooks import services
from assets.webhooks.events import EVENTS

ERRORS = error_responses(400, 401, 403, 404)

WEBHOOK_REQUEST = {
    "type": "object",
    "required": ["url", "events"],
    "additionalProperties": False,
    "properties": {
        "url": {
            "type": "string", "maxLength": services.MAX_URL_LENGTH, "pattern": r"^https?://[!-~]+$",
            "description": "http or https; no private, loopback or link-local address (unless the operator allows them)",
        },
        "events": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(EVENTS)}},
        "active": {"type": "boolean", "default": True},
        "id": {"type": "string", "readOnly": True, "description": "ignored"},
        "created_at": {"type": "string", "readOnly": True, "description": "ignored"},
    },
}


class CanManageWebhooks(CanAdmin):
    action = "manage webhooks"


class WebhookDocument(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENTS)))
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WebhookCreatedDocument(WebhookDocument):
    secret = serializers.CharField(help_text="whsec_...: verifies the signatures; returned only now, keep it")


class DeliveryDocument(serializers.Serializer):
    id = serializers.CharField(help_text="this attempt")
    message_id = serializers.CharField(help_text="the webhook-id header: the same for every attempt at one event")
    event = serializers.ChoiceField(choices=list(EVENTS))
    attempt = serializers.IntegerField(help_text="1 for the first attempt at the event, then 2, 3, ...")
    status = serializers.ChoiceField(choices=["PENDING", "OK", "ERROR"])
    scheduled_at = serializers.DateTimeField(help_text="when the attempt is (or was) due")
    attempted_at = serializers.DateTimeField(allow_null=True)
    status_code = serializers.IntegerField(allow_null=True, help_text="the target's answer; null if none came")
    duration_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    next_retry = serializers.DateTimeField(allow_null=True, help_text="when the next attempt is due; null if none follows")


class DeliveryPage(serializers.Serializer):
    count = serializers.IntegerField(min_value=0)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeliveryDocument(many=True)


WEBHOOK_ID = OpenApiParameter("webhook_id", {"type": "string", "pattern": HEX32_PATTERN}, OpenApiParameter.PATH)
PAGING = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": 999_999_999}, OpenApiParameter.QUERY),
    OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": 200}, OpenApiParameter.QUERY),
]


def webhook_document(webhook: Webhook, *, secret: bool = False) -> dict:
    return (WebhookCreatedDocument if secret else WebhookDocument)(webhook).data


class WebhookListView(APIView):
    permission_classes = [CanManageWebhooks]
    parser_classes = [SafeJSONParser]

    @extend_schema(operation_id="v1_webhooks_list", responses={200: WebhookDocument(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        return Response([webhook_document(w) for w in services.webhook_list(user=request.user)])

    @extend_schema(
        request={"application/json": WEBHOOK_REQUEST},
        responses={201: WebhookCreatedDocument, **error_responses(409, 415), **ERRORS},
    )
    def post(self, request: Request) -> Response:
        webhook = services.webhook_create(user=request.user, write=services.WebhookWrite.from_body(json_body(request)))
        location = request.build_absolute_uri(reverse("webhook-detail", args=[webhook.id]))
        return Response(webhook_document(webhook, secret=True), status=status.HTTP_201_CREATED, headers={"Location": location})


class WebhookDetailView(APIView):
    permission_classes = [CanManageWebhooks]
    parser_classes = [SafeJSONParser]

    @extend_schema(parameters=[WEBHOOK_ID], responses={200: WebhookDocument, **ERRORS})
    def get(self, request: Request, webhook_id: str) -> Response:
        return Response(webhook_document(services.webhook_get(account=account_of(request.user), webhook_id=webhook_id)))

    @extend_schema(
        parameters=[WEBHOOK_ID], request={"application/json": WEBHOOK_REQUEST},
        responses={200: WebhookDocument, **error_responses(415), **ERRORS},
    )
    def put(self, request: Request, webhook_id: str) -> Response:
        services.webhook_get(account=account_of(request.user), webhook_id=webhook_id)  # 404 before 400
        write = services.WebhookWrite.from_body(json_body(request))
        return Response(webhook_document(services.webhook_update(user=request.user, webhook_id=webhook_id, write=write)))

    @extend_schema(parameters=[WEBHOOK_ID], responses={204: None, **ERRORS})
    def delete(self, request: Request, webhook_id: str) -> Response:
        services.webhook_delete(user=request.user, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(APIView):
    permission_classes = [CanManageWebhooks]

    @extend_schema(parameters=[WEBHOOK_ID, *PAGING], responses={200: DeliveryPage, **ERRORS})
    def get(self, request: Request, webhook_id: str) -> Response:
        queryset = services.webhook_deliveries(user=request.user, webhook_id=webhook_id)
        paginator = AssetPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([delivery_document(d) for d in page])


def delivery_document(delivery: WebhookDelivery) -> dict:
    return DeliveryDocument(delivery).data
