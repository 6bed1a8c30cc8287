"""Request ids, the request-size limit, and request bodies sent without Content-Length.

Every response carries `X-Request-Id`; every log line written while the request runs
carries the same id, so a 500's traceback can be found from the id in its body.
"""

from __future__ import annotations

import contextvars
import logging
import re
import tempfile
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

from assets.errors import error_body

_current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


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


def _too_large(request: HttpRequest, length: int | None, limit: int) -> JsonResponse:
    size = f"{length} bytes" if length is not None else "larger than that"
    body = error_body(
        "request_too_large",
        f"the request body is {size}, over the limit of {limit} bytes "
        f"(files may be at most {settings.ASSETS_MAX_UPLOAD_BYTES} bytes); "
        "send a smaller file",
        {"file": [f"at most {settings.ASSETS_MAX_UPLOAD_BYTES} bytes"]},
        getattr(request, "request_id", ""),
    )
    response = JsonResponse(body, status=413)
    response["Connection"] = "close"
    return response


def _is_chunked_without_length(request: HttpRequest) -> bool:
    meta = request.META
    return (
        "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
        and not meta.get("CONTENT_LENGTH")
        and bool(meta.get("wsgi.input_terminated"))
    )


def _buffer_chunked_body(request: HttpRequest, limit: int) -> bool:
    """Read a chunked body (at most `limit` bytes) into a spooled file and give Django its
    length. False, with nothing kept, when the body is over the limit."""
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    stream = request.META["wsgi.input"]
    total = 0
    while chunk := stream.read(64 * 1024):
        total += len(chunk)
        if total > limit:
            spool.close()
            return False
        spool.write(chunk)
    spool.seek(0)
    request.META["CONTENT_LENGTH"] = str(total)
    request._stream = LimitedStream(spool, total)
    return True


class UploadLimitMiddleware:
    """Answers 413 from Content-Length alone, before a byte of the body is read.

    A body sent with `Transfer-Encoding: chunked` has no Content-Length. gunicorn decodes
    the chunks and marks where the body ends (`wsgi.input_terminated`), but Django reads
    a body only up to CONTENT_LENGTH, so it saw none: a valid chunked upload was refused
    as "file is required". Such a body is read here, up to the same limit (413 past it),
    into a file that spills to disk past FILE_UPLOAD_MAX_MEMORY_SIZE, and Django is given
    its length. Each uploaded file is still checked against ASSETS_MAX_UPLOAD_BYTES once
    parsed (assets.validators).
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
            return _too_large(request, length, limit)
        if _is_chunked_without_length(request) and not _buffer_chunked_body(request, limit):
            return _too_large(request, None, limit)
        return self.get_response(request)
