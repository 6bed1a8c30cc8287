"""The one error shape of SPEC §2, whatever raised the error.

    {"status": "error", "code": "<machine_code>", "message": "<human sentence>",
     "errors": {"<field>": ["..."]}, "request_id": "<id>"}

`errors` is present for validation failures only. Services raise `ApiError` (or one of
its subclasses); DRF's own exceptions and Django's Http404 / PermissionDenied are
translated by `exception_handler`; errors raised outside DRF (a 404 on an unknown path, a
400 from Django's request parsing, a 500) get the same shape from the `json_*` handlers
installed in `assets_project.urls`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

from core.errors import ImageRejected, OptionError

logger = logging.getLogger("assets.errors")


class ApiError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.errors = errors


class FieldError(ApiError):
    """A 400 about one named field: the message and `errors` both name it."""

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}", code=code, errors={field: [message]})
        self.field = field


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class PayloadTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "file_too_large"


def error_body(
    code: str, message: str, errors: dict[str, list[str]] | None = None, request_id: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "code": code, "message": message}
    if errors:
        body["errors"] = errors
    if request_id:
        body["request_id"] = request_id
    return body


def flatten_detail(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested ValidationError detail into {"a.b[0].c": ["message", ...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            for k, v in flatten_detail(value, path).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            flat.setdefault(prefix or "non_field_errors", []).extend(str(d) for d in detail)
        else:
            for index, item in enumerate(detail):
                for k, v in flatten_detail(item, f"{prefix}[{index}]").items():
                    flat.setdefault(k, []).extend(v)
    else:
        flat.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return flat


def summarize(errors: dict[str, list[str]]) -> str:
    parts = [f"{field}: {messages[0]}" for field, messages in errors.items() if messages]
    if not parts:
        return "the request is not valid"
    more = f" (and {len(parts) - 1} more)" if len(parts) > 1 else ""
    return parts[0] + more


_DRF_CODES = {
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "rate_limited",
    drf_exceptions.ParseError: "parse_error",
}


def _request_id(context: dict[str, Any]) -> str:
    request = context.get("request")
    return getattr(getattr(request, "_request", request), "request_id", "") if request else ""


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error the API raises leaves in the one shape."""
    request_id = _request_id(context)
    headers: dict[str, str] = {}
    if isinstance(exc, OptionError):  # the processing code's own errors (core.errors)
        exc = FieldError(exc.field, exc.message)
    elif isinstance(exc, ImageRejected):
        exc = FieldError(exc.field or "file", exc.message, code=exc.code)
    if isinstance(exc, ApiError):
        body = error_body(exc.code, exc.message, exc.errors, request_id)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        # A model's full_clean() refusing what a service let through: still the caller's
        # input, so a 400 naming the fields, never a 500.
        errors = flatten_detail(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
        return Response(error_body("invalid", summarize(errors), errors, request_id), status=400)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if not isinstance(exc, drf_exceptions.APIException):
        return None  # a real bug: Django's 500 handler logs it and answers json_server_error
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = "%d" % exc.wait
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = flatten_detail(exc.detail)
        body = error_body("invalid", summarize(errors), errors, request_id)
        return Response(body, status=exc.status_code, headers=headers)
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), str(exc.default_code))
    message = _message_for(exc)
    return Response(error_body(code, message, None, request_id), status=exc.status_code, headers=headers)


def _message_for(exc: drf_exceptions.APIException) -> str:
    if isinstance(exc, drf_exceptions.NotAuthenticated):
        return (
            "authentication is required: send the header 'X-Api-Key: <key>' "
            "(or 'Authorization: Api-Key <key>'), or log in"
        )
    if isinstance(exc, drf_exceptions.AuthenticationFailed):
        return f"{exc.detail}"
    if isinstance(exc, drf_exceptions.NotFound) and str(exc.detail) in {"Not found.", "Invalid page."}:
        return "no such resource in your account; check the id in the path"
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        return summarize(flatten_detail(detail))
    return str(detail)


# --- handlers for errors raised outside DRF views ----------------------------------------


def _json_error(request: HttpRequest, status_code: int, code: str, message: str) -> JsonResponse:
    body = error_body(code, message, None, getattr(request, "request_id", ""))
    return JsonResponse(body, status=status_code)


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(
        request, 400, "bad_request", f"the request could not be read ({exception or 'malformed'}); "
        "send a well-formed request within the size limits",
    )


def json_permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(
        request, 403, "permission_denied", "you do not have permission to perform this action"
    )


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(
        request, 404, "not_found", f"nothing at {request.path}; check the URL against /api/docs/"
    )


def json_server_error(request: HttpRequest) -> JsonResponse:
    request_id = getattr(request, "request_id", "")
    return _json_error(
        request,
        500,
        "server_error",
        f"an internal error occurred; try again, and quote request id {request_id} "
        "if it persists",
    )
