"""Page-number pagination with a clear error for a page that does not exist."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

from assets.errors import FieldError


class AssetPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and (not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size):
            raise FieldError(
                "page_size", f"must be a whole number from 1 to {self.max_page_size}, got {raw!r}"
            )
        return super().get_page_size(request)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or int(raw) < 1:
            raise FieldError("page", f"must be a whole number from 1, got {raw!r}")
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # DRF's answer to a page past the end
            raise FieldError(
                "page", f"page {raw} does not exist; 'count' tells how many assets there are"
            ) from exc
