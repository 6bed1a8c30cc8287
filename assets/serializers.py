"""The JSON documents of SPEC §3 (output), and request shapes for the OpenAPI schema.

Input checking lives in `assets.services` / `assets.validators`, where each failure gets
the field name and the fix in the one error shape; the request serializers here only
describe the bodies for the generated docs.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from assets.models import Asset, Conversion, DataSchema, Job


def absolute_url(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def content_url(request, asset_id: str, name: str) -> str:
    return absolute_url(request, reverse("asset-content", kwargs={"asset_id": asset_id, "name": name}))


def conversion_document(conversion: Conversion, request) -> dict[str, Any]:
    return {
        "content_type": conversion.content_type,
        "size": conversion.size,
        "width": conversion.width,
        "height": conversion.height,
        "url": content_url(request, conversion.asset_id, conversion.name),
        "update_time": serializers.DateTimeField().to_representation(conversion.update_time),
    }


def asset_document(asset: Asset, request) -> dict[str, Any]:
    dt = serializers.DateTimeField()
    return {
        "id": asset.id,
        "name": asset.name,
        "status": asset.status,
        "content_type": asset.content_type,
        "size": asset.size,
        "checksum": asset.checksum,
        "width": asset.width,
        "height": asset.height,
        "upload_time": dt.to_representation(asset.upload_time),
        "update_time": dt.to_representation(asset.update_time),
        "data_schema_id": asset.data_schema_id,
        "data": asset.data,
        "source_asset_id": asset.source_asset_id,
        "conversions": {c.name: conversion_document(c, request) for c in asset.conversions.all()},
        "url": content_url(request, asset.id, "original"),
    }


def schema_document(schema: DataSchema) -> dict[str, Any]:
    dt = serializers.DateTimeField()
    return {
        "id": schema.id,
        "name": schema.name,
        "schema": schema.schema,
        "builtin": schema.is_builtin,
        "created_at": dt.to_representation(schema.created_at),
        "updated_at": dt.to_representation(schema.updated_at),
    }


def job_document(job: Job) -> dict[str, Any]:
    dt = serializers.DateTimeField()
    return {
        "id": job.id,
        "job_id": job.id,
        "kind": job.kind,
        "status": job.status,
        "output": job.output,
        "error": job.error,
        "user": job.user.get_username() if job.user else None,
        "attempts": job.attempts,
        "created_at": dt.to_representation(job.created_at),
        "started_at": dt.to_representation(job.started_at) if job.started_at else None,
        "finished_at": dt.to_representation(job.finished_at) if job.finished_at else None,
    }


# --- shapes for the OpenAPI schema -------------------------------------------------------


class ConversionDocument(serializers.Serializer):
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.URLField()
    update_time = serializers.DateTimeField()


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
    conversions = serializers.DictField(child=ConversionDocument())
    url = serializers.URLField()


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
    builtin = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class JobDocument(serializers.Serializer):
    id = serializers.CharField()
    job_id = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=["QUEUED", "OK", "ERROR"])
    output = serializers.ListField(child=serializers.DictField())
    error = serializers.ListField(child=serializers.DictField())
    user = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField(help_text="attempts started so far (a job is retried only when its worker died)")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True, help_text="when the latest attempt started; null while waiting")
    finished_at = serializers.DateTimeField(allow_null=True)


class ErrorDocument(serializers.Serializer):
    status = serializers.CharField(default="error")
    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
    request_id = serializers.CharField()
