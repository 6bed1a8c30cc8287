"""GET /assets/add/: add images as they are, one or many, with the data of a chosen
schema. The page's script (assets/static/web/add.js) sends each file to POST
/api/v1/assets with the session, so the API checks every file, field and role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assets.models import DEFAULT_SCHEMA_ID
from assets.permissions import membership_of
from assets.views.common import no_account_response, role_context, schema_choices


@login_required
def asset_add_view(request: HttpRequest) -> HttpResponse:
    """The page for every role; a USER, who may not upload, is told so and gets no form."""
    membership = membership_of(request.user)
    if membership is None:
        return no_account_response(request)
    return render(
        request,
        "web/asset_add.html",
        {**role_context(membership), "schemas": schema_choices(membership.account), "default_schema_id": DEFAULT_SCHEMA_ID},
    )
