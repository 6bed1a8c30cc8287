"""Request ids and the request-size limit.

Every response carries `X-Request-Id`; every log line written while the request runs
carries the same id, so a 500's traceback can be found from the id in its body.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from assets.errors import error_body

_current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _current_request_id.get()


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id.get()
        return True


class RequestIdMiddleware:
    """Adopts a well-formed incoming X-Request-Id, or makes one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response["X-Request-Id"] = request_id
        return response


def request_body_limit() -> int:
    """The largest body accepted: one file at the upload limit plus the form's fields."""
    return settings.ASSETS_MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class UploadLimitMiddleware:
    """Answers 413 from Content-Length alone, before a byte of the body is read.

    A body without Content-Length (chunked) is still bounded: each uploaded file is
    checked against ASSETS_MAX_UPLOAD_BYTES once parsed (assets.validators).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = request_body_limit()
        if length > limit:
            body = error_body(
                "request_too_large",
                f"the request body is {length} bytes, over the limit of {limit} bytes "
                f"(files may be at most {settings.ASSETS_MAX_UPLOAD_BYTES} bytes); "
                "send a smaller file",
                {"file": [f"at most {settings.ASSETS_MAX_UPLOAD_BYTES} bytes"]},
                getattr(request, "request_id", ""),
            )
            response = JsonResponse(body, status=413)
            response["Connection"] = "close"
            return response
        return self.get_response(request)
