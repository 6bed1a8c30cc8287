"""Image Graphics as a service (SPEC §5): validate, queue, run.

Everything that can be checked without pixels is checked before the job is queued:
shape and types (graphics.processing.pipeline), the role, every asset id, image_id and
src_asset_id in the caller's account, geometry against stored sizes, data schemas and
the final data of new assets. The job (assets.jobs) then renders each asset on its own:
one failing asset is an entry in `error`, the others still produce their outputs. Each
asset is one item: its saves (conversion and/or new asset) commit together with the
job's record of them, or not at all, so a retried job skips the assets already done.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from assets.errors import ApiError, NotFound
from core.imaging import image_describe
from assets.jobs import Attempt, JobItem, LeaseLost, item_asset_id, item_files, item_key, job_submit
from assets.models import DEFAULT_SCHEMA_ID, Account, Asset, DataSchema, Job
from assets.selectors import account_of, schema_get
from assets.services import asset_create_from_bytes, conversion_save, data_validate
from assets.validators import data_check
from graphics.fetch import FetchError, fetch_url
from graphics.model_choice import bg_models
from graphics.processing import background
from core.errors import OptionError
from graphics.processing.images import ImageRejected, decode, png_encode
from graphics.processing.pipeline import AssetSpec, GraphicsRequest, Metadata, Renderers, check_geometry, parse_request, render

logger = logging.getLogger(__name__)

JOB_KIND = "image_graphics"


def allowed_url_hosts() -> frozenset[str]:
    """IMAGE_GRAPHICS_URL_HOSTS, lower-cased: the hosts `image_url`s may name."""
    return frozenset(host.lower() for host in settings.IMAGE_GRAPHICS_URL_HOSTS)


def _assets_by_id(account: Account, wanted: dict[str, str]) -> dict[str, Asset]:
    """The account's assets for `wanted` (id -> JSON path); 404 naming the first missing."""
    found = {a.id: a for a in Asset.objects.filter(account=account, id__in=list(wanted)).select_related("data_schema")}
    for asset_id, path in wanted.items():
        if asset_id not in found:
            raise NotFound(
                f"{path}: asset {asset_id} does not exist in your account; check the id",
                code="asset_not_found",
                errors={path: [f"asset {asset_id} does not exist in your account"]},
            )
    return found


def new_asset_data(meta: Metadata | None, src: Asset) -> dict[str, Any]:
    """The data of a new asset: inherited keys (all, or `inherit_fields`), then `data`
    laid over them (APPEND) or alone (REPLACE)."""
    if meta is None:
        return {}
    inherited: dict[str, Any] = {}
    if meta.inherit_fields is not None:
        inherited = {key: src.data[key] for key in meta.inherit_fields if key in src.data}
    elif meta.inherit:
        inherited = dict(src.data)
    extra = dict(meta.data or {})
    return {**inherited, **extra} if meta.mode == "APPEND" else extra


def new_asset_schema_id(spec: AssetSpec, src: Asset) -> int:
    """`data_schema_id` when given; else the source's schema when all of its data is
    inherited unchanged in kind (inherit: true, APPEND, no inherit_fields); else 0."""
    disposition = spec.disposition
    if disposition.data_schema_id is not None:
        return disposition.data_schema_id
    meta = disposition.metadata
    if meta and meta.inherit and meta.inherit_fields is None and meta.mode == "APPEND":
        return src.data_schema_id
    return DEFAULT_SCHEMA_ID


def image_graphics_request_parse(body: Any) -> GraphicsRequest:
    """The body as a typed request (OptionError, a 400 naming the JSON path, if it is not one)."""
    return parse_request(body, allowed_url_hosts=allowed_url_hosts())


def image_graphics_validate(*, user, request: GraphicsRequest) -> int:
    """What the parsed request needs from the database, checked before it is queued: the
    ids (404), then geometry and data (400). The shape was checked when it was parsed (the
    ids are in the body, so that comes first), the role before that, by
    graphics.permissions.CanRunImageGraphics. Returns the pixels of the assets it renders
    (each once per time it is named), which the megapixel rate limit counts."""
    account = account_of(user)
    wanted: dict[str, str] = {}  # id -> the JSON path that first names it
    for spec in request.assets:
        wanted.setdefault(spec.asset_id, spec.path)
    for image_id, path in request.image_ids().items():
        wanted.setdefault(image_id, path)
    for spec in request.assets:
        meta = spec.disposition.metadata
        if meta and meta.src_asset_id:
            wanted.setdefault(meta.src_asset_id, f"{spec.path}.options.disposition.metadata.src_asset_id")
    assets = _assets_by_id(account, wanted)
    for spec in request.assets:
        asset = assets[spec.asset_id]
        check_geometry(spec, request, asset.width, asset.height)
        if spec.disposition.creates_asset:
            meta = spec.disposition.metadata
            src = assets[meta.src_asset_id] if meta and meta.src_asset_id else asset
            path = f"{spec.path}.options.disposition"
            schema = schema_get(account=account, schema_id=new_asset_schema_id(spec, src), field=f"{path}.data_schema_id")
            violations = data_check(new_asset_data(meta, src), schema.schema, field=f"{path}.metadata.data")
            if violations:
                raise ApiError(
                    f"{spec.path}: the new asset's data would not satisfy data schema {schema.id}; "
                    f"first, {next(iter(violations))}: {next(iter(violations.values()))[0]}",
                    code="schema_violation",
                    errors=violations,
                )
    return sum(assets[spec.asset_id].width * assets[spec.asset_id].height for spec in request.assets)


def image_graphics_job_create(*, user, request: GraphicsRequest, charge: Callable[[int], None] | None = None) -> Job:
    """Validate, then `charge` the pixels to be rendered (it raises to refuse: a rate limit),
    then submit the job with the request's canonical JSON form (it is queued once its row
    has committed; the worker rebuilds the same request from it)."""
    pixels = image_graphics_validate(user=user, request=request)
    if charge is not None:
        charge(pixels)
    return job_submit(Job(account=account_of(user), user=user, kind=JOB_KIND, request=request.to_json()))


# --- running ---------------------------------------------------------------------------------


def _decode_stored(asset: Asset):
    with default_storage.open(asset.file.name, "rb") as handle:
        return decode(handle.read(), max_pixels=settings.ASSETS_MAX_PIXELS)


def _renderers(account: Account) -> Renderers:
    @lru_cache(maxsize=16)
    def image_by_id(asset_id: str):
        asset = Asset.objects.filter(account=account, id=asset_id).first()
        if asset is None:
            raise ApiError(f"image {asset_id} no longer exists in the account")
        return _decode_stored(asset)

    @lru_cache(maxsize=16)
    def image_by_url(url: str):
        data = fetch_url(
            url,
            allowed_hosts=allowed_url_hosts(),
            max_bytes=settings.ASSETS_MAX_UPLOAD_BYTES,
            timeout=settings.IMAGE_GRAPHICS_URL_TIMEOUT,
        )
        return decode(data, max_pixels=settings.ASSETS_MAX_PIXELS)

    def mask(image, options):
        model = background.model_for(options, bg_models())
        return background.mask_for(image, options=options, model_name=model)

    return Renderers(image_by_id=image_by_id, image_by_url=image_by_url, mask=mask)


def _save(job: Job, index: int, spec: AssetSpec, source: Asset, png: bytes) -> list[dict[str, Any]]:
    """Store one asset's result per its disposition (the caller's transaction makes it
    all or nothing); the conversion's path and the new asset's id are the job item's."""
    disposition = spec.disposition
    outputs: list[dict[str, Any]] = []
    if disposition.add_as_conversion:
        conversion_save(
            asset=source, name=disposition.conversion_name, content=ContentFile(png), info=image_describe(png),
            token=item_key(job.id, index),
        )
        outputs.append({"name": disposition.conversion_name, "asset_id": source.id})
    if disposition.creates_asset:
        meta = disposition.metadata
        src = source
        if meta and meta.src_asset_id:
            src = Asset.objects.filter(account=job.account, id=meta.src_asset_id).first()
            if src is None:
                raise ApiError(f"metadata.src_asset_id {meta.src_asset_id} no longer exists")
        schema = DataSchema.objects.get(id=new_asset_schema_id(spec, src))
        data = new_asset_data(meta, src)
        data_validate(data=data, schema=schema)
        stem = os.path.splitext(source.name)[0] or "image"
        asset = asset_create_from_bytes(
            account=job.account,
            user=job.user,
            data_bytes=png,
            name=f"{stem}_graphics.png",
            source_asset_id=source.id,
            data=data,
            data_schema=schema,
            asset_id=item_asset_id(job.id, index),
        )
        outputs.append({"name": None, "asset_id": asset.id})
    return outputs


class ImageGraphicsJobs:
    """The `image_graphics` job kind (assets.jobs.JobHandler): one item per asset."""

    def items(self, job: Job) -> list[JobItem]:
        request = GraphicsRequest.from_json(job.request)
        items = []
        for index, spec in enumerate(request.assets):
            disposition = spec.disposition
            conversion = (spec.asset_id, disposition.conversion_name) if disposition.add_as_conversion else None
            files = item_files(job, index, conversion=conversion, creates_asset=disposition.creates_asset, extension=".png")
            items.append(JobItem(name=disposition.conversion_name, asset_id=spec.asset_id, files=files))
        return items

    def run(self, job: Job, attempt: Attempt) -> None:
        """Render and save every asset not yet done, each on its own."""
        # A host since removed from IMAGE_GRAPHICS_URL_HOSTS is refused by fetch_url, as a
        # per-asset error, instead of failing the whole job here (see GraphicsRequest.from_json).
        request = GraphicsRequest.from_json(job.request)
        renderers = _renderers(job.account)
        for index, spec in enumerate(request.assets):
            if attempt.done(index):
                continue
            try:
                source = Asset.objects.filter(account=job.account, id=spec.asset_id).first()
                if source is None:
                    raise ApiError(f"asset {spec.asset_id} no longer exists in the account")
                check_geometry(spec, request, source.width, source.height)
                png = png_encode(render(_decode_stored(source), spec, request, renderers), level=settings.BG_REMOVE_PNG_LEVEL)
                attempt.save(index, lambda: _save(job, index, spec, source, png))
            except LeaseLost:
                raise
            except (ApiError, OptionError, ImageRejected, FetchError) as exc:
                attempt.fail(index, getattr(exc, "message", None) or str(exc))
            except Exception:
                logger.exception("image graphics job %s: asset %s failed", job.id, spec.asset_id)
                attempt.fail(index, "the image could not be rendered or saved")

    def leftovers(self, job: Job) -> list[str]:
        return []

    def requeue_problem(self, job: Job) -> str | None:
        return None  # the assets already done are skipped, so nothing is made twice


IMAGE_GRAPHICS_JOBS = ImageGraphicsJobs()
