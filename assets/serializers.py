"""The JSON documents of SPEC §3: one serializer each, which both renders the response and
describes it in the OpenAPI schema.

Input checking lives in `assets.services` / `assets.validators`, where each failure gets
the field name and the fix in the one error shape; the request serializers here only
describe the bodies for the generated docs.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.jobs import job_progress
from assets.models import Asset, Conversion, DataSchema, Job


def absolute_url(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def content_url(request, asset_id: str, name: str) -> str:
    return absolute_url(request, reverse("asset-content", kwargs={"asset_id": asset_id, "name": name}))


def thumbnail_url(request, asset_id: str, name: str = "original", side: int | None = None) -> str:
    """A contain, format=auto rendition of `side` pixels (the thumbnail the worker makes
    after each upload, by default)."""
    from django.conf import settings

    side = side or settings.ASSETS_THUMBNAIL_SIDE or 256
    return f"{content_url(request, asset_id, name)}?w={side}&h={side}"


# --- the documents -----------------------------------------------------------------------


class ConversionDocument(serializers.Serializer):
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    update_time = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, conversion: Conversion) -> str:
        return content_url(self.context.get("request"), conversion.asset_id, conversion.name)


class AssetDocument(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["OK", "NOT_READY", "ERROR"])
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    checksum = serializers.CharField(help_text="SHA-256 of the file, hex")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    upload_time = serializers.DateTimeField()
    update_time = serializers.DateTimeField()
    data_schema_id = serializers.IntegerField()
    data = serializers.DictField()
    source_asset_id = serializers.CharField(allow_null=True)
    conversions = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField(help_text="a 256-pixel rendition of the original (SPEC §9)")

    @extend_schema_field(serializers.DictField(child=ConversionDocument()))
    def get_conversions(self, asset: Asset) -> dict[str, Any]:
        return {c.name: ConversionDocument(c, context=self.context).data for c in asset.conversions.all()}

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, asset: Asset) -> str:
        return content_url(self.context.get("request"), asset.id, "original")

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, asset: Asset) -> str:
        return thumbnail_url(self.context.get("request"), asset.id)


class AssetUploadRequest(serializers.Serializer):
    file = serializers.FileField()
    data = serializers.CharField(required=False, help_text="a JSON object, as a string")
    data_schema_id = serializers.IntegerField(required=False)


class FileUploadRequest(serializers.Serializer):
    file = serializers.FileField()


class DataUpdateRequest(serializers.Serializer):
    data = serializers.DictField()
    mode = serializers.ChoiceField(choices=["APPEND", "REPLACE"])
    data_schema_id = serializers.IntegerField(required=False)


class LineageDocument(serializers.Serializer):
    ancestors = serializers.ListField(child=serializers.CharField())
    descendants = serializers.ListField(child=serializers.CharField())


class SchemaRequest(serializers.Serializer):
    name = serializers.CharField()
    schema = serializers.DictField()


class SchemaDocument(SchemaRequest):
    id = serializers.IntegerField()
    builtin = serializers.BooleanField(source="is_builtin")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class JobProgress(serializers.Serializer):
    done = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0)


class JobDocument(serializers.Serializer):
    id = serializers.CharField()
    job_id = serializers.CharField(source="id")
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=["QUEUED", "OK", "ERROR"])
    output = serializers.ListField(child=serializers.DictField())
    error = serializers.ListField(child=serializers.DictField())
    user = serializers.CharField(source="user.username", allow_null=True)
    attempts = serializers.IntegerField(help_text="attempts started so far (a job is retried only when its worker died)")
    progress = serializers.SerializerMethodField(help_text="items recorded so far (saved or failed) and items in all")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True, help_text="when the latest attempt started; null while waiting")
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(JobProgress())
    def get_progress(self, job: Job) -> dict[str, int]:
        return job_progress(job)


class ErrorDocument(serializers.Serializer):
    status = serializers.CharField(default="error")
    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
    request_id = serializers.CharField()


def asset_document(asset: Asset, request) -> dict[str, Any]:
    return AssetDocument(asset, context={"request": request}).data


def conversion_document(conversion: Conversion, request) -> dict[str, Any]:
    return ConversionDocument(conversion, context={"request": request}).data


def schema_document(schema: DataSchema) -> dict[str, Any]:
    return SchemaDocument(schema).data


def job_document(job: Job) -> dict[str, Any]:
    return JobDocument(job).data
