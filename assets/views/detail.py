"""GET /assets/<id>/: one asset, and what the caller's role may do with it.

The page shows the original, the conversions, the data and the lineage; its actions
(rename, the data form, deletes; removing the background and composing, from graphics)
are forms whose scripts call the API with the session (assets/static/web/asset.js,
graphics/static/web/asset_actions.js), so they have the API's validation and
permissions. This view gives them what to show: the data schemas, and what a delete
would take with it.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assets import selectors
from assets.errors import NotFound
from assets.models import Asset
from assets.permissions import membership_of
from assets.views.common import no_account_response, not_found_response, role_context, schema_choices, schema_label


def _lineage_entry(asset_id: str, known: dict[str, Asset]) -> dict[str, object]:
    asset = known.get(asset_id)
    return {"id": asset_id, "name": asset.name if asset else None, "exists": asset is not None}


def _lineage(asset: Asset, account) -> dict[str, object]:
    lineage = selectors.lineage_of(asset=asset)
    ids = set(lineage["ancestors"]) | set(lineage["descendants"])
    known = {a.id: a for a in Asset.objects.filter(account=account, id__in=ids)}
    return {
        "source": _lineage_entry(asset.source_asset_id, known) if asset.source_asset_id else None,
        # the rest of the chain above the source, nearest first
        "ancestors": [_lineage_entry(i, known) for i in lineage["ancestors"][1:]],
        "descendants": [
            {**_lineage_entry(i, known), "direct": known[i].source_asset_id == asset.id}
            for i in lineage["descendants"]
            if i in known
        ],
    }


@login_required
def asset_detail_view(request: HttpRequest, asset_id: str) -> HttpResponse:
    """GET /assets/<id>/: the original, every conversion, the data, the lineage, and the
    actions of the caller's role."""
    membership = membership_of(request.user)
    if membership is None:
        return no_account_response(request)
    try:
        asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id)
    except NotFound:
        return not_found_response(request, asset_id=asset_id)
    conversions = list(asset.conversions.all())
    lineage = _lineage(asset, membership.account)
    return render(
        request,
        "web/asset_detail.html",
        {
            **role_context(membership),
            **lineage,
            "asset": asset,
            "conversions": conversions,
            "data_json": json.dumps(asset.data, indent=2, ensure_ascii=False),
            "schema_name": schema_label(asset.data_schema),
            "schemas": schema_choices(membership.account),
            "page_data": {"id": asset.id, "name": asset.name, "data": asset.data, "data_schema_id": asset.data_schema_id,
                          "width": asset.width, "height": asset.height},
            "renditions": asset.renditions.count(),
            "derived": len(lineage["descendants"]),
        },
    )
