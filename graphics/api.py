"""The Remove Background endpoints (SPEC §4, §10). Thin: parse, call services, render."""

from __future__ import annotations

import base64

from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assets.selectors import account_of, asset_get
from assets.errors import NotFound
from assets.parsers import SafeJSONParser, SafeMultiPartParser, single_file
from assets.selectors import job_get_for_user
from assets.openapi import error_responses
from assets.ratelimits import megapixels_charge
from assets.serializers import JobDocument, job_document
from assets.validators import upload_present_check
from graphics import services
from graphics.image_graphics import JOB_KIND, image_graphics_job_create, image_graphics_request_parse
from graphics.permissions import CanRemoveBackground, CanRunImageGraphics
from graphics.serializers import BgRemoveSavedDocument
from graphics.openapi import (
    BG_REMOVE_QUERY,
    BG_REMOVE_RESPONSES,
    BG_REMOVE_UPLOAD_QUERY,
    IMAGE_UPLOAD,
    JOB_QUEUED,
    image_graphics_request,
)

class ImageContentNegotiation(DefaultContentNegotiation):
    """These endpoints answer an image, its JSON form or a JSON document whatever `Accept`
    says (`wants_json` decides), and `format` is their output option (SPEC §10), not DRF's
    format override: the one JSON renderer is always chosen, so neither is a 406 or 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _upload_bytes(request: Request) -> tuple[bytes, str | None]:
    upload = upload_present_check(single_file(request.FILES, "image"), field="image")
    return upload.read(), upload.name


def _target_check(request: Request, bg: services.BgRemoveRequest) -> None:
    """The upload endpoint's `asset_id` must exist (404) before the upload is read or the
    model runs. (The role was checked first, by CanRemoveBackground.)"""
    if bg.saves and bg.asset_id:
        asset_get(account=account_of(request.user), asset_id=bg.asset_id)


def wants_json(accept: str, content_type: str) -> bool:
    """Whether `Accept` asks for the JSON form: application/json is named with a q above 0
    and neither the output's own type nor image/* with a higher q. (`*/*`, what browsers
    and most clients send, is the image.)"""
    best_json, best_image = 0.0, 0.0
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        mime, quality = fields[0].lower(), 1.0
        for extra in fields[1:]:
            name, _, value = extra.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if mime == "application/json":
            best_json = max(best_json, quality)
        elif mime in (content_type, "image/*"):
            best_image = max(best_image, quality)
    return best_json > 0 and best_json >= best_image


def _respond(request: Request, bg: services.BgRemoveRequest, data: bytes, upload_name: str | None):
    """Call the one service, then render what it did per the mode: the image, its JSON
    form (SPEC §10, `Accept: application/json`), or save_image's document. The image's
    megapixels are charged first (assets.ratelimits): a 429 runs nothing."""
    megapixels_charge(request, services.image_pixels(data))
    outcome = services.bg_remove(user=request.user, request=bg, image=data, upload_name=upload_name)
    result = outcome.result
    left, top, width, height = result.bbox
    headers = {
        "X-Model": result.model,
        "X-Foreground-Left": str(left),
        "X-Foreground-Top": str(top),
        "X-Foreground-Width": str(width),
        "X-Foreground-Height": str(height),
        "X-Width": str(result.width),
        "X-Height": str(result.height),
    }
    if outcome.job is not None:
        headers["X-Job-Id"] = outcome.job.id
    if outcome.saved is not None:
        return Response(BgRemoveSavedDocument(outcome.saved).data, headers=headers)
    if wants_json(request.headers.get("Accept", ""), result.content_type):
        document = {
            "result_b64": base64.b64encode(result.data).decode("ascii"),
            "content_type": result.content_type,
            "width": result.width,
            "height": result.height,
            "foreground_left": left,
            "foreground_top": top,
            "foreground_width": width,
            "foreground_height": height,
            "model": result.model,
        }
        return JsonResponse({"data": document}, headers=headers)
    return HttpResponse(result.data, content_type=result.content_type, headers=headers)


class BgRemoveUploadView(APIView):
    """POST assets/file/addons/bg_remove: multipart `image`; `asset_id` in the query."""

    parser_classes = [SafeMultiPartParser]
    permission_classes = [CanRemoveBackground]
    content_negotiation_class = ImageContentNegotiation

    @extend_schema(
        request={"multipart/form-data": IMAGE_UPLOAD}, parameters=BG_REMOVE_UPLOAD_QUERY, responses=BG_REMOVE_RESPONSES
    )
    def post(self, request: Request):
        bg = services.BgRemoveRequest.from_query(request.query_params, path_asset_id=None)
        _target_check(request, bg)
        data, name = _upload_bytes(request)
        return _respond(request, bg, data, name)


class BgRemoveAssetView(APIView):
    """GET: the asset's original; POST: multipart `image`, the asset as the target."""

    parser_classes = [SafeMultiPartParser]
    permission_classes = [CanRemoveBackground]
    content_negotiation_class = ImageContentNegotiation

    @extend_schema(parameters=BG_REMOVE_QUERY, responses=BG_REMOVE_RESPONSES)
    def get(self, request: Request, asset_id: str):
        asset = asset_get(account=account_of(request.user), asset_id=asset_id)
        bg = services.BgRemoveRequest.from_query(request.query_params, path_asset_id=asset.id)
        with default_storage.open(asset.file.name, "rb") as handle:
            data = handle.read()
        return _respond(request, bg, data, asset.name)

    @extend_schema(request={"multipart/form-data": IMAGE_UPLOAD}, parameters=BG_REMOVE_QUERY, responses=BG_REMOVE_RESPONSES)
    def post(self, request: Request, asset_id: str):
        asset = asset_get(account=account_of(request.user), asset_id=asset_id)
        bg = services.BgRemoveRequest.from_query(request.query_params, path_asset_id=asset.id)
        data, name = _upload_bytes(request)
        return _respond(request, bg, data, name)


class ImageGraphicsView(APIView):
    """POST assets/addons/image_graphics: validate everything, queue one job, answer 202."""

    parser_classes = [SafeJSONParser]
    permission_classes = [CanRunImageGraphics]

    @extend_schema(
        request={"application/json": image_graphics_request()},
        responses={202: JOB_QUEUED, **error_responses(400, 401, 403, 404, 415)},
    )
    def post(self, request: Request) -> Response:
        job = image_graphics_job_create(
            user=request.user, request=image_graphics_request_parse(request.data),
            charge=lambda pixels: megapixels_charge(request, pixels),
        )
        location = request.build_absolute_uri(reverse("image-graphics-job", args=[job.id]))
        return Response({"status": "QUEUED", "job_id": job.id}, status=202, headers={"Location": location})


class ImageGraphicsJobView(APIView):
    """GET assets/addons/image_graphics/jobs/{job_id}: an image-graphics job of the account."""

    @extend_schema(responses={200: JobDocument, **error_responses(400, 401, 403, 404)})
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get_for_user(user=request.user, job_id=job_id)
        if job.kind != JOB_KIND:
            raise NotFound(f"job {job_id} is not an image-graphics job; GET /api/v1/jobs/{job_id}", code="job_not_found")
        return Response(job_document(job))
