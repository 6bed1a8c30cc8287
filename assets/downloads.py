"""Serving a stored file: Content-Type, Content-Length, ETag, conditional GET and Range.

One `bytes=` range is answered with 206 and Content-Range; a range that cannot be
satisfied with 416 and `Content-Range: bytes */<size>`; several ranges, or an If-Range
that no longer matches, with the whole file (200), as RFC 9110 allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from assets.errors import error_body

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(start, end inclusive) for one satisfiable range; None to ignore; "unsatisfiable"."""
    match = _RANGE.fullmatch(header.strip())
    if not match:
        return None  # several ranges or another unit: serve the whole file
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        return "unsatisfiable"
    return start, end


def _stream(name: str, start: int, length: int) -> Iterator[bytes]:
    with default_storage.open(name, "rb") as handle:
        if start:
            handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def stored_file_response(request: HttpRequest, stored, filename: str) -> HttpResponse:
    """`file_response` for an asset or a conversion (selectors.stored_file_get)."""
    return file_response(
        request, name=stored.file.name, size=stored.size, content_type=stored.content_type,
        checksum=stored.checksum, filename=filename,
    )


def rendition_response(request, asset, name: str) -> HttpResponse:
    """A rendition of file `name` of `asset` (SPEC §9): parameters checked (400 naming the
    one that is wrong), then served from storage, made first when it is missing."""
    from django.conf import settings

    from assets.services.renditions import rendition_get
    from core.renditions import RenditionQuery

    params = getattr(request, "query_params", request.GET)  # a DRF request, or Django's (the admin)
    query = RenditionQuery.parse(params, max_side=settings.ASSETS_RENDITION_MAX_SIDE)
    accept = request.headers.get("Accept", "")
    served = rendition_get(asset=asset, name=name, query=query, accept=accept)
    rendition = served.rendition
    stem = served.source_filename.rsplit(".", 1)[0]
    extension = rendition.file.name.rsplit(".", 1)[-1]
    response = file_response(
        request, name=rendition.file.name, size=rendition.size, content_type=rendition.content_type,
        checksum=rendition.checksum, filename=f"{stem}_{rendition.width}x{rendition.height}.{extension}",
    )
    response["X-Rendition"] = "hit" if served.hit else "miss"
    if query.format == "auto":
        response["Vary"] = "Accept"
    return response


def file_response(
    request: HttpRequest, *, name: str, size: int, content_type: str, checksum: str, filename: str
) -> HttpResponse:
    etag = f'"{checksum}"'
    common = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if_none_match = request.headers.get("If-None-Match", "")
    if if_none_match and (if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]):
        response = HttpResponse(status=304)
        for key, value in common.items():
            response[key] = value
        return response

    start, length, status = 0, size, 200
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and (not if_range or if_range.strip() == etag):
        parsed = _parse_range(range_header, size)
        if parsed == "unsatisfiable":
            response = JsonResponse(
                error_body(
                    "range_not_satisfiable",
                    f"the range {range_header!r} is outside the file of {size} bytes; "
                    "ask for bytes within 0-" + str(max(size - 1, 0)),
                    {"Range": [f"must lie within 0-{max(size - 1, 0)}"]},
                    getattr(request, "request_id", ""),
                ),
                status=416,
            )
            response["Content-Range"] = f"bytes */{size}"
            return response
        if parsed is not None:
            start, end = parsed
            length, status = end - start + 1, 206

    response = StreamingHttpResponse(_stream(name, start, length), status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    response["Content-Disposition"] = content_disposition_header(False, filename)
    for key, value in common.items():
        response[key] = value
    return response
