"""Assets: create (from an upload or from bytes), delete, update their data."""

from __future__ import annotations

import os
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from assets.errors import ApiError, NotFound
from core.imaging import ImageInfo, image_describe
from assets.models import DEFAULT_SCHEMA_ID, Account, Asset, Conversion, DataSchema
from assets.requests import AssetUpload
from assets.selectors import account_of, asset_get, schema_get
from assets.files import files_delete_on_commit, original_path, stored_file
from assets.services.renditions import renditions_drop, thumbnail_after_save
from assets.validators import data_check, upload_check
from assets.webhooks import asset_event, assets_deleted_event



def display_name(filename: str | None, info: ImageInfo) -> str:
    """The upload's base name, without directories or control characters."""
    cleaned = "".join(ch for ch in (filename or "") if ch.isprintable())
    cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")
    base = os.path.basename(cleaned.replace("\\", "/")).strip()
    return (base or f"upload{info.extension}")[:255]


# --- data ----------------------------------------------------------------------------------


def data_validate(*, data: dict[str, Any], schema: DataSchema) -> None:
    violations = data_check(data, schema.schema)
    if violations:
        count = sum(len(v) for v in violations.values())
        first_field, first_messages = next(iter(violations.items()))
        raise ApiError(
            f"data does not satisfy data schema {schema.id} ({count} violation"
            f"{'s' if count != 1 else ''}); first, {first_field}: {first_messages[0]}",
            code="schema_violation",
            errors=violations,
        )


# --- assets ----------------------------------------------------------------------------


def asset_create(
    *,
    account: Account,
    user,
    content: File,
    info: ImageInfo,
    name: str,
    data: dict[str, Any] | None = None,
    data_schema: DataSchema | None = None,
    source_asset_id: str | None = None,
    asset_id: str | None = None,
) -> Asset:
    """Store an already-checked image as a new asset. Data is validated against the schema.

    `asset_id` is for jobs, which derive the id of what they create from the job
    (assets.jobs.item_key): a second attempt at the same item cannot insert a second row."""
    data = data or {}
    data_schema = data_schema or schema_get(account=account, schema_id=DEFAULT_SCHEMA_ID)
    data_validate(data=data, schema=data_schema)
    asset = Asset(
        **({"id": asset_id} if asset_id else {}),
        account=account,
        created_by=user if getattr(user, "pk", None) else None,
        name=name,
        content_type=info.content_type,
        size=info.size,
        checksum=info.checksum,
        width=info.width,
        height=info.height,
        data=data,
        data_schema=data_schema,
        source_asset_id=source_asset_id,
    )
    with stored_file(original_path(asset, info.extension), content) as stored:
        asset.file.name = stored
        asset.full_clean()
        with transaction.atomic():
            asset.save(force_insert=True)
            thumbnail_after_save(asset=asset, source="original", user=user)
            asset_event(asset=asset, event="asset.created")
    return asset


def asset_upload(*, user, request: AssetUpload) -> Asset:
    """POST assets: the schema (a 400 naming data_schema_id if it is not the account's),
    the file (a 400 unless it is an image we accept), then `asset_create`."""
    account = account_of(user)
    upload, schema_id = request.upload, request.data_schema_id
    schema = schema_get(
        account=account, schema_id=DEFAULT_SCHEMA_ID if schema_id is None else schema_id,
        field="data_schema_id",
    )
    if request.source_asset_id is not None:
        _source_check(account=account, asset_id=request.source_asset_id)
    info = upload_check(upload, field="file")
    return asset_create(
        account=account,
        user=user,
        content=upload,
        info=info,
        name=display_name(upload.name, info),
        data=request.data,
        data_schema=schema,
        source_asset_id=request.source_asset_id,
    )


def _source_check(*, account: Account, asset_id: str) -> None:
    """An upload's `source_asset_id` names an asset of the account: 404 naming the field
    otherwise, as an id in a body is answered elsewhere (Image Graphics)."""
    if not Asset.objects.filter(account=account, id=asset_id).exists():
        message = f"asset {asset_id} does not exist in your account"
        raise NotFound(
            f"source_asset_id: {message}; check the id", code="asset_not_found",
            errors={"source_asset_id": [message]},
        )


def asset_rename(*, user, asset_id: str, name: str) -> Asset:
    """PATCH assets/{id}: give the asset a new display name (checked by
    assets.requests.AssetChange). Its files and conversions keep their stored names;
    asset.updated when the name changed."""
    with transaction.atomic():
        asset = asset_get(account=account_of(user), asset_id=asset_id, for_update=True)
        if asset.name == name:
            return asset
        asset.name = name
        asset.full_clean()
        asset.save(update_fields=["name", "update_time"])
        asset_event(asset=asset, event="asset.updated")
    return asset


def asset_create_from_bytes(
    *, account: Account, user, data_bytes: bytes, name: str, **fields: Any
) -> Asset:
    """A new asset from bytes the service made itself (a rendered PNG, say)."""
    info = image_describe(data_bytes)
    return asset_create(
        account=account, user=user, content=ContentFile(data_bytes), info=info, name=name, **fields
    )


def asset_delete(*, user, asset_id: str) -> None:
    """DELETE assets/{id}: the user's asset (404 if not in the account), as `assets_delete`."""
    with transaction.atomic():
        asset = asset_get(account=account_of(user), asset_id=asset_id, for_update=True)
        assets_delete(ids=[asset.pk])


def assets_delete(*, ids: list[str]) -> None:
    """Delete the assets, their conversions and, once that has committed, their files.
    Derived assets are left alone (their source_asset_id stays, dangling). The API and the
    admin both delete through here."""
    with transaction.atomic():
        paths = [
            *Asset.objects.filter(pk__in=ids).values_list("file", flat=True),
            *Conversion.objects.filter(asset_id__in=ids).values_list("file", flat=True),
        ]
        gone = list(Asset.objects.filter(pk__in=ids).values_list("id", "name", "account_id"))
        renditions_drop(asset_ids=ids)
        Asset.objects.filter(pk__in=ids).delete()
        files_delete_on_commit(paths)
        assets_deleted_event(assets=gone)


def asset_data_update(
    *, user, asset_id: str, data: dict[str, Any], mode: str, data_schema_id: int | None = None
) -> Asset:
    """APPEND merges keys shallowly (new values win); REPLACE swaps the whole object (the
    API checks the fields first: assets.requests.DataUpdate). The result must satisfy the
    schema, else a 400 listing each violation."""
    schema_id = data_schema_id
    account = account_of(user)
    with transaction.atomic():
        asset = asset_get(account=account, asset_id=asset_id, for_update=True)
        schema = (
            asset.data_schema
            if schema_id is None
            else schema_get(account=account, schema_id=schema_id, field="data_schema_id")
        )
        new_data = {**asset.data, **data} if mode == "APPEND" else dict(data)
        data_validate(data=new_data, schema=schema)
        asset.data = new_data
        asset.data_schema = schema
        asset.save(update_fields=["data", "data_schema", "update_time"])
        asset_event(asset=asset, event="asset.updated")
    return asset


def asset_edit(*, asset: Asset, fields: list[str]) -> Asset:
    """The admin's edit of name, data and schema (checked by its form, as the API checks
    them): only the `fields` it changed are written, so a concurrent write to the others
    survives; asset.updated when the name or data changed."""
    with transaction.atomic():
        if fields:
            asset.save(update_fields=[*fields, "update_time"])
        if {"name", "data", "data_schema"} & set(fields):
            asset_event(asset=asset, event="asset.updated")
    return asset
