"""Reads. Everything is scoped to the caller's account: another account's ids look like
ids that do not exist (404), as SPEC §2 requires."""

from __future__ import annotations

import os

from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower

from assets.errors import FieldError, NotFound
from assets.models import DEFAULT_SCHEMA_ID, Account, Asset, Conversion, DataSchema, Job
from assets.permissions import membership_of
from assets.requests import AssetFilters
from assets.validators import CONVERSION_NAME_RE, is_asset_id
from core.rules import MAX_ID

LINEAGE_MAX_DEPTH = 1000



def one_or_none(queryset):
    """The row a lookup by unique key finds, or None: one query, LIMIT 1 and no ORDER BY
    (`first()` would sort by the model's default ordering, which costs a hot request
    such as a rendition hit a fifth of its time in building the SQL)."""
    return next(iter(queryset.order_by()[:1]), None)

def account_of(user) -> Account:
    membership = membership_of(user)
    if membership is None:  # the permission classes stop such users first
        raise NotFound("no account")
    return membership.account


def asset_get(*, account: Account, asset_id: str, for_update: bool = False) -> Asset:
    """The account's asset with this id, or NotFound (also for malformed ids)."""
    queryset = Asset.objects.filter(account=account)
    if for_update:
        queryset = queryset.select_for_update()
    asset = one_or_none(queryset.filter(id=asset_id)) if is_asset_id(asset_id) else None
    if asset is None:
        raise NotFound(f"asset {asset_id} does not exist in your account; check the id", code="asset_not_found")
    return asset


def asset_get_for_user(*, user, asset_id: str) -> Asset:
    return asset_get(account=account_of(user), asset_id=asset_id)


def conversion_get(*, asset: Asset, name: str) -> Conversion:
    conversion = one_or_none(asset.conversions.filter(name=name)) if CONVERSION_NAME_RE.fullmatch(name) else None
    if conversion is None:
        raise NotFound(
            f"asset {asset.id} has no conversion named {name!r}; "
            "GET the asset to see its conversions",
            code="conversion_not_found",
        )
    return conversion


def stored_file_get(*, asset: Asset, name: str) -> tuple[Asset | Conversion, str]:
    """The asset's file `name` ("original", or a conversion's name) and the file name a
    download offers: `<stem>_<name><ext>` for a conversion. 404 if there is none."""
    if name == "original":
        return asset, asset.name
    stored = conversion_get(asset=asset, name=name)
    return stored, f"{os.path.splitext(asset.name)[0]}_{name}{os.path.splitext(stored.file.name)[1]}"


def _asset_order(ordering: str) -> list:
    """ORDER BY for `ordering` (assets.requests.ASSET_ORDERINGS), the id last so that
    pages never overlap; names compare without regard to case, as people read them."""
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    key = Lower("name") if field == "name" else F(field)
    key = key.desc() if descending else key.asc()
    return [key, "-id" if descending else "id"]


def asset_list(*, user, filters: AssetFilters) -> QuerySet[Asset]:
    """The account's assets in `filters.ordering` (newest first by default), narrowed by
    the filters (assets.requests)."""
    queryset = (
        Asset.objects.filter(account=account_of(user))
        .prefetch_related("conversions")
        .order_by(*_asset_order(filters.ordering))
    )
    if filters.name:
        queryset = queryset.filter(name__icontains=filters.name)
    if filters.content_type:
        queryset = queryset.filter(content_type=filters.content_type)
    if filters.source_asset_id:
        queryset = queryset.filter(source_asset_id=filters.source_asset_id)
    if filters.has_conversion is True:
        queryset = queryset.filter(conversions__isnull=False).distinct()
    elif filters.has_conversion is False:
        queryset = queryset.filter(conversions__isnull=True)
    elif filters.conversion_name:
        queryset = queryset.filter(conversions__name=filters.conversion_name)
    return queryset


def lineage_of(*, asset: Asset) -> dict[str, list[str]]:
    """{"ancestors": [nearest first], "descendants": [breadth first]} within the account.

    A deleted ancestor's id still appears (it is the dangling `source_asset_id`), but the
    walk cannot go past it. Cycles, which the API cannot create, are cut all the same.
    """
    seen = {asset.id}
    ancestors: list[str] = []
    current = asset.source_asset_id
    while current and current not in seen and len(ancestors) < LINEAGE_MAX_DEPTH:
        ancestors.append(current)
        seen.add(current)
        current = (
            Asset.objects.filter(account_id=asset.account_id, id=current)
            .values_list("source_asset_id", flat=True)
            .first()
        )
    descendants: list[str] = []
    frontier = [asset.id]
    while frontier and len(descendants) < LINEAGE_MAX_DEPTH * 10:
        children = [
            child
            for child in Asset.objects.filter(
                account_id=asset.account_id, source_asset_id__in=frontier
            )
            .order_by("upload_time", "id")
            .values_list("id", flat=True)
            if child not in seen
        ]
        seen.update(children)
        descendants.extend(children)
        frontier = children
    return {"ancestors": ancestors, "descendants": descendants}


def schema_list(*, user) -> QuerySet[DataSchema]:
    return DataSchema.objects.filter(Q(account__isnull=True) | Q(account=account_of(user)))


def schema_get(*, account: Account, schema_id: Any, field: str | None = None) -> DataSchema:
    """The built-in schema 0 or one of the account's; NotFound otherwise.

    With `field`, a bad id is a 400 naming that request field instead of a 404 on the path.
    """
    try:
        schema_pk = int(schema_id)
        if isinstance(schema_id, bool) or not 0 <= schema_pk <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        if field:
            raise FieldError(field, f"must be a data schema id (a whole number), got {schema_id!r}") from None
        raise NotFound(f"data schema {schema_id!r} does not exist; check the id") from None
    if schema_pk == DEFAULT_SCHEMA_ID:
        return DataSchema.ensure_builtin()  # reference data: re-created if anyone removed it
    schema = DataSchema.objects.filter(account=account, id=schema_pk).first()
    if schema is None:
        message = f"data schema {schema_pk} does not exist in your account; GET /api/v1/assetschemas lists them"
        if field:
            raise FieldError(field, message, code="schema_not_found")
        raise NotFound(message, code="schema_not_found")
    return schema


def job_get_for_user(*, user, job_id: str) -> Job:
    job = one_or_none(Job.objects.filter(account=account_of(user), id=job_id).select_related("user")) if is_asset_id(job_id) else None
    if job is None:
        raise NotFound(f"job {job_id} does not exist in your account; check the id", code="job_not_found")
    return job
