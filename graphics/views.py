"""The web upload page for Remove Background.

The page is a form that the browser submits with fetch() to the API itself
(POST /api/v1/assets/file/addons/bg_remove, with the session and the CSRF token), so
the page goes through the same validation, permissions and services as any API client,
and shows the API's own error messages. This view only renders the form: the choices it
offers come from the same enums and patterns the API validates against, and the save
options are not rendered at all for a role that may not save (a USER).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assets.models import CONVERSION_NAME_PATTERN, Role
from assets.permissions import membership_of
from assets.validators import RESERVED_CONVERSION_NAMES
from assets.views import no_account_response
from graphics.model_choice import bg_mode_choices
from graphics.processing.background import BgMode, MaskStrength

DEFAULT_CONVERSION_NAME = "bg_removed"


@login_required
def bg_remove_upload_page_view(request: HttpRequest) -> HttpResponse:
    """GET /upload/: pick an image, choose what to do with it, see the result."""
    membership = membership_of(request.user)
    if membership is None:
        return no_account_response(request)
    return render(
        request,
        "web/upload.html",
        {
            "can_save": membership.has_role(Role.CREATOR),
            "role": membership.role,
            "bg_modes": bg_mode_choices(),
            "strengths": [strength.value for strength in MaskStrength],
            "default_bg_mode": BgMode.AUTO.value,
            "default_strength": MaskStrength.MEDIUM.value,
            "conversion_name_pattern": CONVERSION_NAME_PATTERN,
            "reserved_conversion_names": ",".join(sorted(RESERVED_CONVERSION_NAMES)),
            "default_conversion_name": DEFAULT_CONVERSION_NAME,
        },
    )
