"""Background removal as a service: run it, save its result, queue and run the save job.

`save_image` saves inside the request (one transaction; a failure leaves nothing).
`get_image_and_save` stages the image it already made in storage (`jobs/<job_id>/result.<ext>`)
and submits a job (assets.jobs) that only stores that file: the model never runs twice,
and the broker carries a job id, not megabytes of pickled image. The save is the job's
one item: it commits with the job's record of it, so it happens once, whatever is killed
when; the staged file is removed when the job ends.

The output options of SPEC §10 (graphics.processing.output) shape the image: what is
returned is what is saved, byte for byte, in the format asked for.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from assets.errors import FieldError
from assets.jobs import Attempt, JobItem, item_asset_id, item_files, item_key, job_submit
from assets.models import Account, Asset, Job
from assets.selectors import account_of, asset_get
from assets.services import asset_create_from_bytes, conversion_save, stored_file
from core.imaging import image_describe, image_open
from assets.validators import asset_id_check, conversion_name_check
from graphics.model_choice import bg_models
from graphics.processing import background, output, u2net

from graphics.processing.images import ImageRejected, LargeImageGate, decode_reduced


MODES = ("get_image", "save_image", "get_image_and_save")
DISPOSITIONS = ("add_conversion", "add_new_asset")
JOB_KIND_BG_SAVE = "bg_remove_save"


# How models run in this process (graphics.processing.u2net), set once as the module loads:
# the web process and the worker both import it before any model is used.
background.configure(
    u2net.Runtime(
        providers=tuple(settings.BG_REMOVE_PROVIDERS), threads=settings.BG_REMOVE_THREADS, engine=settings.BG_REMOVE_ENGINE
    )
)


def models_warm() -> None:
    """Load and run the model of bg_mode=auto once (web worker start-up), so the first
    request pays nothing extra. Models that only other modes run load on first use: an
    ISNet model holds about 450 MB per process, which a worker that is never asked for
    it should not pay."""
    background.warm([bg_models()["auto"]])


def image_pixels(data: bytes) -> int:
    """The pixels the image's header declares (what the megapixel rate limit counts); 0 for
    bytes that are not an image we accept, which `bg_remove` refuses with its own 400."""
    try:
        with image_open(io.BytesIO(data), max_pixels=settings.ASSETS_MAX_PIXELS) as image:
            return image.width * image.height
    except ImageRejected:
        return 0


def model_ready() -> str:
    """The default model's name once it is loaded in this process (loading it now if need
    be; /readyz). Raises if it cannot be loaded."""
    name = settings.BG_REMOVE_DEFAULT_MODEL
    background.session_for(name)
    return name


@dataclass(frozen=True)
class BgRemoveRequest:
    mode: str
    disposition: str | None
    asset_id: str | None
    conversion_name: str | None
    metadata: str | None
    options: background.BgRemoveOptions
    output: output.OutputOptions = output.OutputOptions()

    @property
    def saves(self) -> bool:
        return self.mode != "get_image"

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, path_asset_id: str | None) -> BgRemoveRequest:
        """Validate the query string by the rules of SPEC §4, in their order.

        `path_asset_id` is the asset of `assets/{id}/addons/bg_remove`; None on the upload
        endpoint, where `asset_id` comes from the query. Each failure is a 400 naming the
        parameter. With mode=get_image the disposition parameters are not validated.
        """
        mode = query.get("mode", "get_image")
        if mode not in MODES:
            raise FieldError("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
        options = background.BgRemoveOptions.parse(
            {k: query[k] for k in ("bg_mode", "strength", "remove_artifacts") if k in query}, names={"mode": "bg_mode"}
        )
        out = output.OutputOptions.parse(query)
        if mode == "get_image":
            return cls(mode, None, path_asset_id, None, None, options, out)

        disposition = query.get("disposition")
        if disposition is None or disposition == "":
            raise FieldError(
                "disposition", f"is required with mode={mode}; use add_conversion or add_new_asset", code="required"
            )
        if disposition not in DISPOSITIONS:
            raise FieldError("disposition", f"must be one of {', '.join(DISPOSITIONS)}, got {disposition!r}")
        asset_id = path_asset_id
        if path_asset_id is None and query.get("asset_id"):
            asset_id = asset_id_check(query["asset_id"], field="asset_id")
        conversion_name = None
        if disposition == "add_conversion":
            if asset_id is None:
                raise FieldError(
                    "asset_id", "is required with disposition=add_conversion: the asset that receives the conversion",
                    code="required",
                )
            conversion_name = conversion_name_check(query.get("conversion_name"))
        metadata = query.get("metadata")
        if metadata is not None:
            if disposition != "add_new_asset":
                raise FieldError("metadata", "is only allowed with disposition=add_new_asset")
            if metadata != "inherit":
                raise FieldError("metadata", f"must be inherit, got {metadata!r}")
            if asset_id is None:
                raise FieldError(
                    "asset_id", "is required with metadata=inherit: the asset whose data is copied", code="required"
                )
        return cls(mode, disposition, asset_id, conversion_name, metadata, options, out)

    def to_json(self) -> dict[str, Any]:
        """The form a background-save job stores (the options only shaped the image; its
        format decides the saved file's extension)."""
        return {
            "mode": self.mode,
            "disposition": self.disposition,
            "asset_id": self.asset_id,
            "conversion_name": self.conversion_name,
            "metadata": self.metadata,
            "format": self.output.format,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> BgRemoveRequest:
        return cls(
            mode=value["mode"],
            disposition=value["disposition"],
            asset_id=value["asset_id"],
            conversion_name=value["conversion_name"],
            metadata=value["metadata"],
            options=background.BgRemoveOptions(),
            output=output.OutputOptions(format=value.get("format", "png")),  # jobs made before §10: PNG
        )


BgRemoveResult = output.Rendered  # data, content_type, width, height, bbox, model, extension


# One large image at a time per process (BG_REMOVE_LARGE_PIXELS, BG_REMOVE_LARGE_AT_ONCE).
_large_images = LargeImageGate(settings.BG_REMOVE_LARGE_PIXELS, settings.BG_REMOVE_LARGE_AT_ONCE)


def bg_remove_run(
    data: bytes,
    *,
    options: background.BgRemoveOptions,
    out: output.OutputOptions = output.OutputOptions(),
    field: str = "image",
) -> output.Rendered:
    """Decode (reduced first when `size` asks), remove the background (inside `roi`),
    then shape and encode the result per `out`. Bad images are a 400 naming `field`."""
    if not data:
        raise FieldError(field, "the file is empty; upload a non-empty image", code="invalid_image")
    with background.working(), _large_images.turn(data):
        try:
            image, original = decode_reduced(
                data,
                max_pixels=settings.ASSETS_MAX_PIXELS,
                target=lambda size: output.input_target(size, out.max_pixels),
            )
        except ImageRejected as exc:
            raise exc.for_field(field) from None
        models = bg_models()
        layer = output.cut_out(
            image,
            roi=output.roi_box(out.roi, original=original, work=image.size),
            model=background.model_for(options, models),
            remove=lambda part: background.remove_background(part, options=options, models=models),
        )
        return output.render_output(image, layer, out, png_level=settings.BG_REMOVE_PNG_LEVEL)


@dataclass(frozen=True)
class BgRemoveOutcome:
    """What `bg_remove` did: the result, and the save's body (save_image) or job
    (get_image_and_save)."""

    result: BgRemoveResult
    saved: dict[str, Any] | None = None
    job: Job | None = None


def bg_remove(*, user, request: BgRemoveRequest, image: bytes, upload_name: str | None) -> BgRemoveOutcome:
    """Remove the background of `image` once and do what `request.mode` says: return it,
    save it now (save_image), or return it and save it on the worker (get_image_and_save)."""
    result = bg_remove_run(image, options=request.options, out=request.output)
    if request.mode == "get_image":
        return BgRemoveOutcome(result)
    account = account_of(user)
    if request.mode == "save_image":
        body = bg_result_save(account=account, user=user, data=result.data, request=request, upload_name=upload_name)
        return BgRemoveOutcome(result, saved=body)
    job = bg_save_job_create(account=account, user=user, data=result.data, request=request, upload_name=upload_name)
    return BgRemoveOutcome(result, job=job)


def new_asset_name(source: Asset | None, upload_name: str | None, extension: str = ".png") -> str:
    base = source.name if source is not None else (upload_name or "image")
    stem = os.path.splitext(os.path.basename(base))[0] or "image"
    return f"{stem}_bg_removed{extension}"


def bg_result_save(
    *,
    account: Account,
    user,
    data: bytes,
    request: BgRemoveRequest,
    upload_name: str | None,
    job_item: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """Store a result per the disposition; returns the `save_image` response body.

    `job_item` (job id, item index) makes the conversion's path and the new asset's id
    those of that job item (assets.jobs.item_key), so a repeated attempt cannot duplicate."""
    source = asset_get(account=account, asset_id=request.asset_id) if request.asset_id else None
    body: dict[str, Any] = {"status": "ok", "mode": request.mode, "disposition": request.disposition}
    if request.disposition == "add_conversion":
        info = image_describe(data)
        token = item_key(*job_item) if job_item else None
        conversion_save(asset=source, name=request.conversion_name, content=ContentFile(data), info=info, token=token)
        body.update(asset_id=source.id, conversion_name=request.conversion_name)
        return body
    inherit = request.metadata == "inherit"
    asset = asset_create_from_bytes(
        account=account,
        user=user,
        data_bytes=data,
        name=new_asset_name(source, upload_name, request.output.extension),
        source_asset_id=source.id if source else None,
        data=dict(source.data) if inherit else None,
        data_schema=source.data_schema if inherit else None,
        asset_id=item_asset_id(*job_item) if job_item else None,
    )
    if source is not None:
        body["source_asset_id"] = source.id
    if request.metadata:
        body["metadata"] = request.metadata
    body["new_asset_id"] = asset.id
    return body


def _staged_path(job_id: str, extension: str = ".png") -> str:
    return f"jobs/{job_id}/result{extension}"


def bg_save_job_create(
    *, account: Account, user, data: bytes, request: BgRemoveRequest, upload_name: str | None
) -> Job:
    """Stage the image and submit the job that saves it (it is queued once committed)."""
    job = Job(
        account=account, user=user, kind=JOB_KIND_BG_SAVE, request={**request.to_json(), "upload_name": upload_name}
    )
    with stored_file(_staged_path(job.id, request.output.extension), ContentFile(data)) as stored:
        job.request["staged"] = stored
        job_submit(job)
    return job


class BgSaveJobs:
    """The `bg_remove_save` job kind (assets.jobs.JobHandler): one item, the save."""

    def items(self, job: Job) -> list[JobItem]:
        request = BgRemoveRequest.from_json(job.request)
        conversion = (request.asset_id, request.conversion_name) if request.disposition == "add_conversion" else None
        files = item_files(
            job, 0, conversion=conversion, creates_asset=request.disposition == "add_new_asset",
            extension=request.output.extension,
        )
        return [JobItem(name=request.conversion_name, asset_id=request.asset_id, files=files)]

    def run(self, job: Job, attempt: Attempt) -> None:
        if attempt.done(0):
            return
        request = BgRemoveRequest.from_json(job.request)

        def save() -> list[dict[str, Any]]:
            with default_storage.open(job.request["staged"], "rb") as handle:
                data = handle.read()
            body = bg_result_save(
                account=job.account, user=job.user, data=data, request=request,
                upload_name=job.request.get("upload_name"), job_item=(job.id, 0),
            )
            return [{"name": request.conversion_name, "asset_id": body.get("asset_id") or body["new_asset_id"]}]

        attempt.save_or_fail(0, save, failure="the result could not be saved")

    def leftovers(self, job: Job) -> list[str]:
        return [job.request["staged"]] if job.request.get("staged") else []

    def requeue_problem(self, job: Job) -> str | None:
        """The staged PNG is removed when the job ends, so a failed save cannot run again."""
        staged = job.request.get("staged")
        if not staged or not default_storage.exists(staged):
            return "its staged result is gone (a failed save deletes it); run the background removal again"
        return None


BG_SAVE_JOBS = BgSaveJobs()
