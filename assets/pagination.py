"""Page-number pagination. A malformed `page` or `page_size` is a 400 naming it; a page
past the end is a 404 naming `page` (the request is well formed, the page does not
exist), so every request the OpenAPI document calls valid gets a 2xx or a 404.

`page` and `page_size` are ASCII digits only: `str.isdigit()` also accepts superscripts
such as "²", which `int()` refuses (that was a 500).
"""

from __future__ import annotations

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

from assets.errors import FieldError, NotFound as PageNotFound

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def _whole_number(raw: str) -> int | None:
    return int(raw) if _WHOLE_NUMBER.fullmatch(raw) else None


class AssetPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not 1 <= (_whole_number(raw) or 0) <= self.max_page_size:
            raise FieldError(
                "page_size", f"must be a whole number from 1 to {self.max_page_size}, got {raw!r}"
            )
        return super().get_page_size(request)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        if (_whole_number(raw) or 0) < 1:
            raise FieldError("page", f"must be a whole number from 1 to 999999999, got {raw!r}")
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # DRF's answer to a page past the end
            message = f"page {raw} does not exist; 'count' tells how many assets there are"
            raise PageNotFound(f"page: {message}", code="page_not_found", errors={"page": [message]}) from exc
