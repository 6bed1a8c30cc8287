"""GET /assets/: the account's assets as a grid: filtered, sorted, paged, and, for the
roles that may, selected several at a time for deletion or background removal (the
page's script calls the API for those: assets/static/web/grid.js)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assets import selectors
from assets.errors import FieldError
from assets.models import Asset, Conversion, Rendition
from assets.permissions import membership_of
from assets.requests import DEFAULT_ORDERING, AssetFilters
from assets.views.common import conversion_name_words, no_account_response, role_context

GRID_PAGE_SIZE = 24
HAS_CONVERSION_CHOICES = [("", "any"), ("true", "with conversions"), ("false", "without conversions")]
ORDERINGS = [
    ("-upload_time", "Newest first"),
    ("upload_time", "Oldest first"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("-size", "Largest first"),
    ("size", "Smallest first"),
]
_FILTERS = ("name", "content_type", "has_conversion", "ordering")


def _filter_errors(exc: FieldError, filters: dict[str, str]) -> dict[str, list[str]]:
    """The API's refusal of a filter, in words for people."""
    errors = dict(exc.errors or {})
    if "has_conversion" in errors:
        errors["has_conversion"] = [conversion_name_words(filters["has_conversion"])]
    if "ordering" in errors:
        errors["ordering"] = [f"“{filters['ordering']}” is not a way to sort; choose one from the list."]
    return errors


def _conversion_choices(account, chosen: str) -> tuple[list[tuple[str, str]], str | None]:
    """The conversions filter's choices, and a note when the URL names a conversion that
    no asset has (the grid is empty then, and the page says why)."""
    names = list(
        Conversion.objects.filter(asset__account=account).order_by("name").values_list("name", flat=True).distinct()
    )
    choices = HAS_CONVERSION_CHOICES + [(name, f"with conversion {name}") for name in names]
    known = {value for value, _ in choices} | {"1", "0", "yes", "no"}
    if not chosen or chosen in known or chosen.lower() in known:
        return choices, None
    in_use = ", ".join(f"“{n}”" for n in names) if names else "none yet"
    note = f"No asset has a conversion named “{chosen}”. The conversions in use here: {in_use}."
    return choices + [(chosen, f"with conversion {chosen} (none)")], note


@login_required
def asset_list_view(request: HttpRequest) -> HttpResponse:
    """GET /assets/: the account's assets, newest first unless sorted otherwise."""
    membership = membership_of(request.user)
    if membership is None:
        return no_account_response(request)
    filters = {key: request.GET.get(key, "").strip() for key in _FILTERS}
    errors: dict[str, list[str]] = {}
    try:
        queryset = selectors.asset_list(user=request.user, filters=AssetFilters.from_query(filters))
        # Evaluate the filters here, so a bad value is reported, not raised while rendering.
        page = Paginator(queryset, GRID_PAGE_SIZE).get_page(request.GET.get("page"))
    except FieldError as exc:
        errors = _filter_errors(exc, filters)
        page = Paginator(Asset.objects.none(), GRID_PAGE_SIZE).get_page(1)
    account = membership.account
    has_conversion_choices, has_conversion_note = _conversion_choices(account, filters["has_conversion"])
    renditions = dict(
        Rendition.objects.filter(asset_id__in=[a.id for a in page.object_list])
        .values("asset_id").annotate(n=Count("id")).values_list("asset_id", "n")
    )
    tiles = [{"asset": a, "conversions": len(a.conversions.all()), "renditions": renditions.get(a.id, 0)} for a in page]
    narrowing = {k: v for k, v in filters.items() if v and k != "ordering"}
    kept = {**narrowing, **({"ordering": filters["ordering"]} if filters["ordering"] not in ("", DEFAULT_ORDERING) else {})}
    content_types = Asset.objects.filter(account=account).order_by("content_type").values_list("content_type", flat=True)
    return render(
        request,
        "web/asset_list.html",
        {
            **role_context(membership),
            "page": page,
            "tiles": tiles,
            "filters": filters,
            "errors": errors,
            "content_types": list(content_types.distinct()),
            "has_conversion_choices": has_conversion_choices,
            "has_conversion_note": has_conversion_note,
            "orderings": ORDERINGS,
            "default_ordering": DEFAULT_ORDERING,
            "filtered": bool(narrowing),
            "query": urlencode(kept),
        },
    )
