"""The web upload page for Remove Background.

The page's script (graphics/static/web/upload.js) sends the image to the API itself
(POST /api/v1/assets/file/addons/bg_remove, with the session and the CSRF token) as soon
as it is dropped, pasted or picked, and keeps the result in the page; saving it (as a
conversion of a chosen asset, or as a new asset) posts that result to the assets API, so
the image is not sent or processed again. Every step goes through the same validation,
permissions and services as any API client. This view only renders the form: the choices
come from the same enums and patterns the API validates against (the `bg_remove_choices`
tag), and the save options are not rendered at all for a role that may not save (a USER).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assets.models import CONVERSION_NAME_PATTERN
from assets.permissions import membership_of
from assets.validators import RESERVED_CONVERSION_NAMES
from assets.views import no_account_response, role_context
from graphics.templatetags.bg_remove_options import bg_remove_choices

DEFAULT_CONVERSION_NAME = "bg_removed"


@login_required
def bg_remove_upload_page_view(request: HttpRequest) -> HttpResponse:
    """GET /upload/: drop an image, see its background removed, save the result."""
    membership = membership_of(request.user)
    if membership is None:
        return no_account_response(request)
    context = role_context(membership)
    return render(
        request,
        "web/upload.html",
        {
            **context,
            **bg_remove_choices(),
            "can_save": context["can_write"],
            "conversion_name_pattern": CONVERSION_NAME_PATTERN,
            "reserved_conversion_names": ",".join(sorted(RESERVED_CONVERSION_NAMES)),
            "default_conversion_name": DEFAULT_CONVERSION_NAME,
        },
    )
