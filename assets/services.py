"""Writes. Each function is one transaction and the only way its rows change.

Files and rows move together: a file is written before its row and deleted again if the
row does not commit (`stored_file`), and a replaced or deleted file is removed only once
the transaction that dropped its row has committed (`files_delete_on_commit`). A failed
save therefore leaves no row and no file; a crash between commit and delete can at worst
leave an unreferenced file, never a row without its file.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from assets.errors import ApiError, Conflict, FieldError, Forbidden
from assets.imaging import ImageInfo, image_probe_bytes
from assets.models import (
    Account,
    ApiKey,
    Asset,
    Conversion,
    DataSchema,
    DEFAULT_SCHEMA_ID,
    Membership,
    Role,
)
from assets.selectors import account_of, asset_get, conversion_get, schema_get
from assets.validators import (
    conversion_name_check,
    data_check,
    json_object_field,
    schema_check,
    text_problem,
    upload_check,
)

logger = logging.getLogger(__name__)

DATA_MODES = ("APPEND", "REPLACE")


# --- files -------------------------------------------------------------------------------


@contextmanager
def stored_file(path: str, content: File) -> Iterator[str]:
    """Write `content` to storage and yield the stored name; delete it if the block raises."""
    content.seek(0)
    stored = default_storage.save(path, content)
    try:
        yield stored
    except BaseException:
        try:
            default_storage.delete(stored)
        except Exception:  # the original error matters more than a failed clean-up
            logger.exception("could not delete %s after a failed save", stored)
        raise


def files_delete_on_commit(paths: Iterable[str]) -> None:
    names = [p for p in paths if p]

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:
                logger.exception("could not delete %s", name)

    transaction.on_commit(delete)


def _original_path(asset: Asset, info: ImageInfo) -> str:
    return f"accounts/{asset.account_id}/assets/{asset.id}/original{info.extension}"


def _conversion_path(asset: Asset, name: str, info: ImageInfo) -> str:
    # A fresh name per write: the old file stays intact until the new row has committed.
    token = uuid.uuid4().hex[:12]
    return f"accounts/{asset.account_id}/assets/{asset.id}/conversions/{name}-{token}{info.extension}"


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


def data_schema_id_field(raw: Any, *, field: str = "data_schema_id") -> int | None:
    """A schema id from JSON (an int) or a form field (digits); None when absent."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        return int(raw)
    raise FieldError(field, f"must be a data schema id (a whole number), got {raw!r}")


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
) -> Asset:
    """Store an already-checked image as a new asset. Data is validated against the schema."""
    data = data or {}
    data_schema = data_schema or schema_get(account=account, schema_id=DEFAULT_SCHEMA_ID)
    data_validate(data=data, schema=data_schema)
    asset = Asset(
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
    with stored_file(_original_path(asset, info), content) as stored:
        asset.file.name = stored
        asset.full_clean()
        with transaction.atomic():
            asset.save(force_insert=True)
    return asset


def asset_upload(*, user, upload: UploadedFile | None, data: Any, data_schema_id: Any) -> Asset:
    """POST assets: check the form, then `asset_create`."""
    account = account_of(user)
    parsed = json_object_field(data, field="data")
    schema_id = data_schema_id_field(data_schema_id)
    schema = schema_get(
        account=account, schema_id=DEFAULT_SCHEMA_ID if schema_id is None else schema_id,
        field="data_schema_id",
    )
    info = upload_check(upload, field="file")
    return asset_create(
        account=account,
        user=user,
        content=upload,
        info=info,
        name=display_name(upload.name, info),
        data=parsed,
        data_schema=schema,
    )


def asset_create_from_bytes(
    *, account: Account, user, data_bytes: bytes, name: str, **fields: Any
) -> Asset:
    """A new asset from bytes the service made itself (a rendered PNG, say)."""
    from django.conf import settings

    info = image_probe_bytes(data_bytes, max_pixels=settings.ASSETS_MAX_PIXELS)
    return asset_create(
        account=account, user=user, content=ContentFile(data_bytes), info=info, name=name, **fields
    )


def asset_delete(*, user, asset_id: str) -> None:
    """Delete the asset, its conversions and their files. Derived assets are left alone."""
    with transaction.atomic():
        asset = asset_get(account=account_of(user), asset_id=asset_id, for_update=True)
        paths = [asset.file.name, *asset.conversions.values_list("file", flat=True)]
        asset.delete()
        files_delete_on_commit(paths)


def asset_data_update(
    *, user, asset_id: str, data: Any, mode: Any, data_schema_id: Any = None
) -> Asset:
    """APPEND merges keys shallowly (new values win); REPLACE swaps the whole object."""
    if not isinstance(data, dict):
        raise FieldError("data", "is required and must be a JSON object")
    if mode not in DATA_MODES:
        raise FieldError("mode", f"must be APPEND or REPLACE, got {mode!r}")
    schema_id = data_schema_id_field(data_schema_id)
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
    return asset


# --- conversions -----------------------------------------------------------------------


def conversion_save(*, asset: Asset, name: str, content: File, info: ImageInfo) -> Conversion:
    """Write conversion `name` of `asset`, replacing one of the same name.

    Racing saves of the same name end with one row: the asset row is locked first, and a
    create that still loses a race (IntegrityError on the unique constraint) turns into
    an update. The replaced file is deleted after commit.
    """
    conversion_name_check(name)
    with stored_file(_conversion_path(asset, name, info), content) as stored:
        with transaction.atomic():
            asset_get(account=asset.account, asset_id=asset.id, for_update=True)
            fields = {
                "file": stored,
                "content_type": info.content_type,
                "size": info.size,
                "checksum": info.checksum,
                "width": info.width,
                "height": info.height,
            }
            conversion = Conversion.objects.select_for_update().filter(asset=asset, name=name).first()
            old_path = None
            if conversion is None:
                try:
                    with transaction.atomic():
                        conversion = Conversion(asset=asset, name=name, **fields)
                        conversion.full_clean(validate_constraints=False)
                        conversion.save(force_insert=True)
                except IntegrityError:
                    conversion = Conversion.objects.select_for_update().get(asset=asset, name=name)
            if conversion.file.name != stored:
                old_path = conversion.file.name
                for key, value in fields.items():
                    setattr(conversion, key, value)
                conversion.save()
            Asset.objects.filter(pk=asset.pk).update(update_time=timezone.now())
            files_delete_on_commit([old_path] if old_path else [])
    return conversion


def conversion_upload(*, user, asset_id: str, name: str, upload: UploadedFile | None) -> Conversion:
    conversion_name_check(name, field="name")
    asset = asset_get(account=account_of(user), asset_id=asset_id)
    info = upload_check(upload, field="file")
    return conversion_save(asset=asset, name=name, content=upload, info=info)


def conversion_delete(*, user, asset_id: str, name: str) -> None:
    if name == "original":
        raise FieldError(
            "name", "the original cannot be deleted on its own; DELETE the asset instead"
        )
    with transaction.atomic():
        asset = asset_get(account=account_of(user), asset_id=asset_id, for_update=True)
        conversion = conversion_get(asset=asset, name=name)
        path = conversion.file.name
        conversion.delete()
        Asset.objects.filter(pk=asset.pk).update(update_time=timezone.now())
        files_delete_on_commit([path])


# --- data schemas --------------------------------------------------------------------------


def _schema_fields(name: Any, schema: Any) -> tuple[str, dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors["name"] = ["is required: a non-empty string of at most 100 characters"]
    elif text_problem(name):
        errors["name"] = [text_problem(name)]
    problems = schema_check(schema)
    if problems:
        errors["schema"] = problems
    if errors:
        raise ApiError(
            "; ".join(f"{field}: {msgs[0]}" for field, msgs in errors.items()),
            code="invalid",
            errors=errors,
        )
    return name.strip(), schema


def schema_create(*, user, name: Any, schema: Any) -> DataSchema:
    name, schema = _schema_fields(name, schema)
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


def schema_update(*, user, schema_id: Any, name: Any, schema: Any) -> DataSchema:
    """Replace a schema. Refused (409) if an asset using it would stop validating."""
    name, schema = _schema_fields(name, schema)
    with transaction.atomic():
        obj = _schema_for_write(user=user, schema_id=schema_id)
        obj = DataSchema.objects.select_for_update().get(pk=obj.pk)
        failing = [
            asset_id
            for asset_id, data in Asset.objects.filter(data_schema=obj).values_list("id", "data")
            if data_check(data, schema)
        ]
        if failing:
            raise Conflict(
                f"{len(failing)} asset(s) using data schema {obj.id} would no longer satisfy it "
                f"(first: {failing[0]}); update their data first or create a new schema",
                code="schema_in_use",
            )
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


# --- accounts, users and keys --------------------------------------------------------------


def account_user_create(
    *, account_name: str, username: str, role: str, email: str = "", password: str | None = None
) -> tuple[Membership, bool]:
    """Get or create the account and the user (with `role`). Returns (membership, created)."""
    from django.contrib.auth import get_user_model

    if role not in Role.values:
        raise FieldError("role", f"must be one of {', '.join(Role.values)}, got {role!r}")
    User = get_user_model()
    with transaction.atomic():
        account, _ = Account.objects.get_or_create(name=account_name)
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if password:
            user.set_password(password)
            user.save()
        elif created:
            user.set_unusable_password()
            user.save()
        membership = Membership.objects.filter(user=user).first()
        if membership and membership.account_id != account.id:
            raise Conflict(
                f"user {username} already belongs to account {membership.account.name}",
                code="user_in_other_account",
            )
        if membership is None:
            membership = Membership.objects.create(user=user, account=account, role=role)
        elif membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    return membership, created


def api_key_create(*, user, name: str) -> tuple[ApiKey, str]:
    """Create a key for `user`. The plain key is returned once and never stored."""
    return ApiKey.objects.create_key(name=name[:50] or "key", user=user)
