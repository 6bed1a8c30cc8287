"""gunicorn's threaded worker, answering the requests gunicorn itself refuses in the API's
one error shape (SPEC §2) instead of an HTML page.

gunicorn refuses some requests before Django sees them: a request line over
`limit_request_line` (8190 bytes, the most gunicorn allows short of "unlimited") is a 414,
too many or too large headers a 431, a malformed request line, header or chunk a 400.
Raising the limits to unlimited would let one client make a worker buffer a request line
of any size, so the limits stay and only the answer changes: JSON with `status`, `code`,
`message` and a `request_id` (also sent as `X-Request-Id`), as every other error.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from ssl import SSLError

from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

# exception -> (status, reason, code, message); "{exc}" is the exception's own text.
_REFUSALS: tuple[tuple[type[Exception], int, str, str, str], ...] = (
    (
        errors.LimitRequestLine, 414, "URI Too Long", "request_line_too_long",
        "the request line is longer than {limit} bytes ({exc}); shorten the URL or its query string",
    ),
    (
        errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", "headers_too_large",
        "the request headers are too many or too large ({exc}); send fewer or smaller headers",
    ),
    (
        errors.UnsupportedTransferCoding, 501, "Not Implemented", "unsupported_transfer_coding",
        "{exc}; send the body with Content-Length or Transfer-Encoding: chunked",
    ),
    (errors.ExpectationFailed, 417, "Expectation Failed", "expectation_failed", "{exc}; send Expect: 100-continue or no Expect header"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden", "permission_denied", "requests through this proxy are not allowed"),
    (SSLError, 403, "Forbidden", "tls_error", "the TLS handshake failed ({exc})"),
    (errors.ParseException, 400, "Bad Request", "bad_request", "the request could not be read ({exc}); send a well-formed HTTP request"),
)
_APPLICATION_FAULTS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName)


def error_response(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response carrying the API's error body; the connection closes."""
    request_id = uuid.uuid4().hex
    body = json.dumps({"status": "error", "code": code, "message": message, "request_id": request_id}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-Id: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorThreadWorker(ThreadWorker):
    def handle_error(self, req, client, addr, exc):
        started = datetime.now()
        addr = addr or ("", -1)
        refusal = None
        if not isinstance(exc, _APPLICATION_FAULTS):
            refusal = next((r for r in _REFUSALS if isinstance(exc, r[0])), None)
        if refusal is None:
            self.log.exception("Error handling request %s", getattr(req, "uri", "(no URI read)"))
            status, reason, code = 500, "Internal Server Error", "server_error"
            message = "an internal error occurred; try again, and quote the request id if it persists"
        else:
            _, status, reason, code, template = refusal
            message = template.format(exc=exc, limit=self.cfg.limit_request_line)
            self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
        payload = error_response(status, reason, code, message)
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            response = Response(req, client, self.cfg)
            response.status = f"{status} {reason}"
            response.response_length = len(payload)
            self.log.access(response, req, environ, datetime.now() - started)
        try:
            util.write_nonblock(client, payload)
        except Exception:
            self.log.debug("Failed to send error message.")
