"""Data schemas: create, replace, delete (ADMIN)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from assets.errors import Conflict, Forbidden
from assets.models import Asset, DataSchema
from assets.selectors import account_of, schema_get
from assets.validators import data_check


def schema_create(*, user, name: str, schema: dict[str, Any]) -> DataSchema:
    """A new data schema of the user's account (the API checks the fields first:
    assets.requests.SchemaWrite; the model checks the schema again on save)."""
    obj = DataSchema(account=account_of(user), name=name, schema=schema)
    obj.full_clean()
    obj.save()
    return obj


def _schema_for_write(*, user, schema_id: Any) -> DataSchema:
    obj = schema_get(account=account_of(user), schema_id=schema_id)
    if obj.is_builtin:
        raise Forbidden(
            "data schema 0 is built in and cannot be changed or deleted; create your own schema",
            code="builtin_schema",
        )
    return obj


def schema_replacement_problem(*, schema_id: int, schema: dict[str, Any]) -> str | None:
    """Why data schema `schema_id` cannot become `schema` (an asset using it would stop
    satisfying it), or None. Locks the schema's row: call it inside the transaction that
    saves. PUT assetschemas/{id} and the admin's schema form both check through here."""
    DataSchema.objects.select_for_update().filter(pk=schema_id).first()
    failing = [
        asset_id
        for asset_id, data in Asset.objects.filter(data_schema_id=schema_id).values_list("id", "data")
        if data_check(data, schema)
    ]
    if not failing:
        return None
    return (
        f"{len(failing)} asset(s) using data schema {schema_id} would no longer satisfy it "
        f"(first: {failing[0]}); update their data first or create a new schema"
    )


def schema_update(*, user, schema_id: Any, name: str, schema: dict[str, Any]) -> DataSchema:
    """Replace a schema. Refused (409) if an asset using it would stop validating."""
    with transaction.atomic():
        obj = _schema_for_write(user=user, schema_id=schema_id)
        problem = schema_replacement_problem(schema_id=obj.pk, schema=schema)
        if problem:
            raise Conflict(problem, code="schema_in_use")
        obj.name, obj.schema = name, schema
        obj.full_clean()
        obj.save()
    return obj


def schema_delete(*, user, schema_id: Any) -> None:
    with transaction.atomic():
        obj = _schema_for_write(user=user, schema_id=schema_id)
        in_use = Asset.objects.filter(data_schema=obj).count()
        if in_use:
            raise Conflict(
                f"data schema {obj.id} is used by {in_use} asset(s); move them to another "
                "schema (POST assets/{id}/data/update with data_schema_id) before deleting it",
                code="schema_in_use",
            )
        obj.delete()
