"""Conversions: named derived files, one per (asset, name)."""

from __future__ import annotations

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from assets.errors import FieldError
from core.imaging import ImageInfo
from assets.models import Asset, Conversion
from assets.selectors import account_of, asset_get, conversion_get
from assets.files import conversion_path, files_delete_on_commit, stored_file
from assets.services.renditions import renditions_drop, thumbnail_after_save
from assets.validators import conversion_name_check, upload_check
from assets.webhooks import asset_event


def conversion_save(
    *, asset: Asset, name: str, content: File, info: ImageInfo, token: str | None = None
) -> Conversion:
    """Write conversion `name` of `asset`, replacing one of the same name (`token`: see
    `conversion_path`).

    Racing saves of the same name end with one row: the asset row is locked first, and a
    create that still loses a race (IntegrityError on the unique constraint) turns into
    an update. The replaced file is deleted after commit.
    """
    conversion_name_check(name)
    with stored_file(conversion_path(asset, name, info.extension, token), content) as stored:
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
            if old_path:
                renditions_drop(asset_ids=[asset.pk], source=name)
            thumbnail_after_save(asset=asset, source=name)
            asset_event(asset=asset, event="conversion.saved", conversion_name=name)
    return conversion


def conversion_upload(*, user, asset_id: str, name: str, upload: UploadedFile | None) -> Conversion:
    asset = asset_get(account=account_of(user), asset_id=asset_id)  # 404 before 400
    conversion_name_check(name, field="name")
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
        renditions_drop(asset_ids=[asset.pk], source=name)
        Asset.objects.filter(pk=asset.pk).update(update_time=timezone.now())
        files_delete_on_commit([path])
        asset_event(asset=asset, event="conversion.deleted", conversion_name=name)
