"""Who may run the add-ons (SPEC §2), as DRF permission classes.

They are decided before the view looks anything up or parses its input, so every
endpoint answers in the same order: 401 (no or bad credentials), 403 (the role, or a
browser session saving by GET), 404 (an id of the path), 400 (the input).
"""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from assets.errors import Forbidden
from assets.models import Role
from assets.permissions import CanRead, membership_of

SAVING_MODES = ("save_image", "get_image_and_save")


def _require_creator(user, message: str) -> None:
    membership = membership_of(user)
    if membership is None or not membership.has_role(Role.CREATOR):
        raise Forbidden(message.format(role=membership.role if membership else "none"))


def _can_read(permission: BasePermission, request, view) -> bool:
    """Any role of an account (DRF answers 401 for no credentials, else 403 with the reason)."""
    reader = CanRead()
    if reader.has_permission(request, view):
        return True
    permission.message = reader.message
    return False


class CanRemoveBackground(BasePermission):
    """Any role may run `mode=get_image`; the saving modes need CREATOR, and a browser
    session may save only by POST: a GET carries no CSRF token, so a link or an <img> on
    another site could make a signed-in browser save. API keys are never sent by a browser
    on its own, so the contract's saving GET stays for them."""

    def has_permission(self, request, view) -> bool:
        if not _can_read(self, request, view):
            return False
        mode = request.query_params.get("mode", "get_image")
        if mode not in SAVING_MODES:
            return True  # reading, or an unknown mode: the 400 comes after the 404
        if request.method == "GET" and isinstance(request.successful_authenticator, SessionAuthentication):
            raise Forbidden(
                f"mode={mode} saves, and a browser session may only read with GET (mode=get_image); "
                "to save, POST the image to this URL as the multipart field 'image' with the CSRF token "
                "in the X-CSRFToken header, or call with an API key",
                code="csrf_required",
            )
        _require_creator(
            request.user,
            "your role {role} may not save results; modes save_image and get_image_and_save "
            "need CREATOR or above (use mode=get_image)",
        )
        return True


class CanRunImageGraphics(BasePermission):
    """Image Graphics always saves its results: CREATOR or above."""

    def has_permission(self, request, view) -> bool:
        if not _can_read(self, request, view):
            return False
        _require_creator(
            request.user, "your role {role} may not run image graphics, which saves its results; it needs CREATOR or above"
        )
        return True
