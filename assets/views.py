"""Web pages for browsing the account's assets: a filterable grid and a detail page.

Thin, like the API views: they read through `assets.selectors` (so a page shows exactly
what the API would, scoped to the caller's account) and render templates in
templates/web/. Another account's asset is a 404 here too. Images on the pages load from
the API's content URLs with the session, so there is one download path to get right.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from assets import selectors
from assets.requests import AssetFilters
from assets.errors import FieldError, NotFound
from assets.models import Asset, Conversion
from assets.permissions import membership_of

GRID_PAGE_SIZE = 24
HAS_CONVERSION_CHOICES = [("", "any"), ("true", "with conversions"), ("false", "without conversions")]
_FILTERS = ("name", "content_type", "has_conversion")


def no_account_response(request: HttpRequest) -> HttpResponse:
    """What a logged-in user without an account (a bare superuser, say) gets: a 403 page."""
    return render(request, "web/no_account.html", status=403)


@login_required
def asset_list_view(request: HttpRequest) -> HttpResponse:
    """GET /assets/: the account's assets, newest first, filtered by the GET form."""
    membership = membership_of(request.user)
    if membership is None:
        return no_account_response(request)
    filters = {key: request.GET.get(key, "").strip() for key in _FILTERS}
    errors: dict[str, list[str]] = {}
    try:
        queryset = selectors.asset_list(user=request.user, filters=AssetFilters.from_query(filters))
        # Evaluate the filters here, so a bad value is reported, not raised while rendering.
        paginator = Paginator(queryset, GRID_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
    except FieldError as exc:
        errors = exc.errors or {}
        page = Paginator(Asset.objects.none(), GRID_PAGE_SIZE).get_page(1)
    content_types = (
        Asset.objects.filter(account=membership.account)
        .order_by("content_type")
        .values_list("content_type", flat=True)
        .distinct()
    )
    conversion_names = (
        Conversion.objects.filter(asset__account=membership.account)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )
    has_conversion_choices = HAS_CONVERSION_CHOICES + [
        (name, f"with conversion {name}") for name in conversion_names
    ]
    query = urlencode({key: value for key, value in filters.items() if value})
    return render(
        request,
        "web/asset_list.html",
        {
            "page": page,
            "filters": filters,
            "errors": errors,
            "content_types": list(content_types),
            "has_conversion_choices": has_conversion_choices,
            "query": query,
            "role": membership.role,
        },
    )


def _lineage_entry(asset_id: str, known: dict[str, Asset]) -> dict[str, object]:
    asset = known.get(asset_id)
    return {"id": asset_id, "name": asset.name if asset else None, "exists": asset is not None}


@login_required
def asset_detail_view(request: HttpRequest, asset_id: str) -> HttpResponse:
    """GET /assets/<id>/: the original, every conversion, the data and the lineage."""
    membership = membership_of(request.user)
    if membership is None:
        return no_account_response(request)
    try:
        asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    lineage = selectors.lineage_of(asset=asset)
    ids = set(lineage["ancestors"]) | set(lineage["descendants"])
    known = {a.id: a for a in Asset.objects.filter(account=membership.account, id__in=ids)}
    source = _lineage_entry(asset.source_asset_id, known) if asset.source_asset_id else None
    return render(
        request,
        "web/asset_detail.html",
        {
            "asset": asset,
            "conversions": list(asset.conversions.all()),
            "data_json": json.dumps(asset.data, indent=2, ensure_ascii=False),
            "source": source,
            # the rest of the chain above the source, nearest first
            "ancestors": [_lineage_entry(i, known) for i in lineage["ancestors"][1:]],
            "descendants": [
                {**_lineage_entry(i, known), "direct": known[i].source_asset_id == asset.id}
                for i in lineage["descendants"]
                if i in known
            ],
            "role": membership.role,
        },
    )
