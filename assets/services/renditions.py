"""Renditions (SPEC §9): made on first request, stored, served from storage afterwards.

One row per (asset, source, spec), unique in the database. A miss renders outside any
transaction, then inserts under the asset's row lock, the same lock conversion writes
take, so a rendition is never stored for a conversion that was replaced or deleted
meanwhile. Two racing misses each render, one row wins: the loser deletes its own file
and serves the winner's row, so there is one row and one file.

Renditions go with their file: replacing or deleting a conversion deletes its renditions,
deleting an asset deletes them all (files after the commit, `renditions_drop`). The
per-asset cap (ASSETS_RENDITIONS_PER_ASSET) deletes the least recently used to make room.

Thumbnails: right after an upload or a saved conversion, a `thumbnail` job (assets.jobs)
makes the 256-pixel rendition a browser asks for first, so the first grid view is served
from storage.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from assets.errors import NotFound
from assets.models import Asset, Conversion, Job, Rendition
from assets.selectors import one_or_none, stored_file_get
from assets.files import files_delete_on_commit, stored_file
from core.renditions import EXTENSIONS, RenditionPlan, RenditionQuery, render

logger = logging.getLogger(__name__)

THUMBNAIL_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"  # what browsers send for <img>
USED_AT_RESOLUTION = timedelta(minutes=1)
JOB_KIND_THUMBNAIL = "thumbnail"
_ATTEMPTS = 3


@dataclass(frozen=True)
class Served:
    rendition: Rendition
    hit: bool
    source_filename: str = ""  # the download name of the file it was made from


class _Lost(Exception):
    """Another request stored the same rendition first."""

    def __init__(self, winner: Rendition):
        self.winner = winner


class _SourceChanged(Exception):
    """The source file was replaced while the rendition was being made."""


def thumbnail_query() -> RenditionQuery:
    side = settings.ASSETS_THUMBNAIL_SIDE or 256
    return RenditionQuery(w=side, h=side)


def thumbnail_plan(asset: Asset, name: str) -> tuple[RenditionPlan, str]:
    """The plan of the thumbnail of file `name` of `asset`, and that file's stored name."""
    source, _ = stored_file_get(asset=asset, name=name)
    return _plan(source, thumbnail_query(), THUMBNAIL_ACCEPT), source.file.name


def rendition_path(asset: Asset, source: str, plan: RenditionPlan, extension: str, token: str | None = None) -> str:
    """A fresh name per write (`token`, else random), like a conversion's."""
    token = token or uuid.uuid4().hex[:12]
    return f"accounts/{asset.account_id}/assets/{asset.id}/renditions/{source}-{plan.key}-{token}{extension}"


def _plan(source, query: RenditionQuery, accept: str) -> RenditionPlan:
    return query.plan(
        width=source.width, height=source.height, accept=accept, max_side=settings.ASSETS_RENDITION_MAX_SIDE
    )


def rendition_get(*, asset: Asset, name: str, query: RenditionQuery, accept: str, token: str | None = None) -> Served:
    """The rendition `query` asks of file `name` ("original" or a conversion) of `asset`,
    from storage when it exists (a hit), else made and stored (a miss). 404 when there
    is no such conversion; OptionError for parameters the source cannot satisfy."""
    for _ in range(_ATTEMPTS):
        source, filename = stored_file_get(asset=asset, name=name)
        plan = _plan(source, query, accept)
        found = one_or_none(Rendition.objects.filter(asset=asset, source=name, spec=plan.key, source_file=source.file.name))
        if found is not None:
            _touch(found)
            return Served(found, hit=True, source_filename=filename)
        try:
            return Served(_make(asset, name, source, plan, token), hit=False, source_filename=filename)
        except _Lost as lost:
            return Served(lost.winner, hit=False, source_filename=filename)
        except _SourceChanged:
            continue
    raise RuntimeError(f"the file {name!r} of asset {asset.id} kept changing while its rendition was made")


def _touch(rendition: Rendition) -> None:
    now = timezone.now()
    if now - rendition.used_at > USED_AT_RESOLUTION:
        Rendition.objects.filter(pk=rendition.pk).update(used_at=now)
        rendition.used_at = now


def _make(asset: Asset, name: str, source, plan: RenditionPlan, token: str | None) -> Rendition:
    with default_storage.open(source.file.name, "rb") as handle:
        data = handle.read()
    made = render(data, plan, source_size=(source.width, source.height), max_pixels=settings.ASSETS_MAX_PIXELS)
    with stored_file(rendition_path(asset, name, plan, made.extension, token), ContentFile(made.data)) as stored:
        with transaction.atomic():
            Asset.objects.select_for_update().filter(pk=asset.pk).first()
            current = (
                asset.file.name if name == "original"
                else Conversion.objects.filter(asset=asset, name=name).values_list("file", flat=True).first()
            )
            if current != source.file.name:
                raise _SourceChanged()
            existing = Rendition.objects.filter(asset=asset, source=name, spec=plan.key).first()
            if existing is not None:
                if existing.source_file == source.file.name:
                    raise _Lost(existing)
                _drop([existing])  # made from a file that is gone
            rendition = Rendition(
                asset=asset, source=name, source_file=source.file.name, spec=plan.key, file=stored,
                content_type=made.content_type, size=len(made.data),
                checksum=hashlib.sha256(made.data).hexdigest(), width=made.width, height=made.height,
            )
            try:
                with transaction.atomic():
                    rendition.save(force_insert=True)
            except IntegrityError:
                raise _Lost(Rendition.objects.get(asset=asset, source=name, spec=plan.key)) from None
            _evict(asset, keep=rendition.pk)
    return rendition


def _evict(asset: Asset, *, keep: int) -> None:
    cap = settings.ASSETS_RENDITIONS_PER_ASSET
    count = Rendition.objects.filter(asset=asset).count()
    if count > cap:
        victims = list(Rendition.objects.filter(asset=asset).exclude(pk=keep).order_by("used_at", "pk")[: count - cap])
        _drop(victims)


def _drop(renditions) -> None:
    renditions = list(renditions)
    if renditions:
        Rendition.objects.filter(pk__in=[r.pk for r in renditions]).delete()
        files_delete_on_commit([r.file.name for r in renditions])


def renditions_drop(*, asset_ids: list[str], source: str | None = None, spec: str | None = None) -> int:
    """Delete the renditions of these assets (of one source file, of one spec, when given):
    the rows in the caller's transaction, the files once it commits."""
    queryset = Rendition.objects.filter(asset_id__in=asset_ids)
    if source is not None:
        queryset = queryset.filter(source=source)
    if spec is not None:
        queryset = queryset.filter(spec=spec)
    victims = list(queryset.only("pk", "file"))
    _drop(victims)
    return len(victims)


# --- the thumbnail job ---------------------------------------------------------------------


def thumbnail_after_save(*, asset: Asset, source: str, user=None) -> Job | None:
    """After an upload or a saved conversion, in its transaction: queue its thumbnail
    (none when ASSETS_THUMBNAIL_SIDE is 0)."""
    if not settings.ASSETS_THUMBNAIL_SIDE:
        return None
    return thumbnail_job_submit(asset=asset, source=source, user=user)


def thumbnail_job_submit(*, asset: Asset, source: str, user=None) -> Job:
    """Queue the thumbnail of file `source` of `asset`; the job rings once the caller's
    transaction commits."""
    from assets.jobs import job_submit

    return job_submit(
        Job(
            account_id=asset.account_id,
            user=user if getattr(user, "pk", None) else None,
            kind=JOB_KIND_THUMBNAIL,
            request={"asset_id": asset.id, "source": source},
        )
    )


class ThumbnailJobs:
    """The `thumbnail` job kind (assets.jobs.JobHandler): one item, the 256-pixel rendition
    of one file in the format a browser is offered first."""

    def items(self, job: Job):
        from assets.jobs import JobItem, item_key

        asset = Asset.objects.filter(pk=job.request["asset_id"]).first()
        files: tuple[str, ...] = ()
        if asset is not None:
            try:
                source, _ = stored_file_get(asset=asset, name=job.request["source"])
            except Exception:
                source = None
            if source is not None:
                plan = _plan(source, thumbnail_query(), THUMBNAIL_ACCEPT)
                token = item_key(job.id, 0)[:12]
                files = tuple(rendition_path(asset, job.request["source"], plan, ext, token) for ext in set(EXTENSIONS.values()))
        return [JobItem(name=job.request["source"], asset_id=job.request["asset_id"], files=files)]

    def run(self, job: Job, attempt) -> None:
        from assets.jobs import item_key

        if attempt.done(0):
            return
        asset_id, source = job.request["asset_id"], job.request["source"]

        def save():
            asset = Asset.objects.filter(pk=asset_id).first()
            if asset is None:
                return []  # deleted meanwhile: nothing to make
            try:
                served = rendition_get(
                    asset=asset, name=source, query=thumbnail_query(), accept=THUMBNAIL_ACCEPT,
                    token=item_key(job.id, 0)[:12],
                )
            except NotFound:
                return []  # the conversion was deleted meanwhile
            return [{"name": source, "asset_id": asset_id, "rendition": served.rendition.spec}]

        attempt.save_or_fail(0, save, failure="the thumbnail could not be made")

    def leftovers(self, job: Job) -> list[str]:
        return []

    def requeue_problem(self, job: Job) -> str | None:
        return None


THUMBNAIL_JOBS = ThumbnailJobs()
