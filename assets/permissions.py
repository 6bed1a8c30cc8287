"""The role table of SPEC §2 as DRF permission classes.

    read (all roles) < write: CREATOR < delete: MANAGER < admin: ADMIN

Unauthenticated requests are refused by DRF before these run (401). An authenticated
user without an account (say, a superuser made with createsuperuser) has no API rights.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from assets.models import Membership, Role


def membership_of(user) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "membership", None)


class _RolePermission(BasePermission):
    minimum_role: str = Role.USER
    action = "read"

    def has_permission(self, request, view) -> bool:
        membership = membership_of(request.user)
        if membership is None:
            self.message = (
                "this user belongs to no account; ask an ADMIN to add it to one"
                if getattr(request.user, "is_authenticated", False)
                else "authentication is required"
            )
            return False
        if not membership.has_role(self.minimum_role):
            self.message = (
                f"your role {membership.role} may not {self.action}; "
                f"this needs {self.minimum_role} or above"
            )
            return False
        return True


class CanRead(_RolePermission):
    minimum_role = Role.USER
    action = "read"


class CanWrite(_RolePermission):
    minimum_role = Role.CREATOR
    action = "upload or change assets"


class CanDelete(_RolePermission):
    minimum_role = Role.MANAGER
    action = "delete assets or conversions"


class CanAdmin(_RolePermission):
    minimum_role = Role.ADMIN
    action = "manage data schemas, users or API keys"


class ByMethod(BasePermission):
    """Picks the permission by HTTP method: `ByMethod.of(GET=CanRead, POST=CanWrite)`."""

    table: dict[str, type[BasePermission]] = {}

    @classmethod
    def of(cls, **table: type[BasePermission]) -> type["ByMethod"]:
        return type("ByMethod", (cls,), {"table": {k.upper(): v for k, v in table.items()}})

    def _inner(self, request, view=None) -> BasePermission:
        method = "GET" if request.method in {"HEAD", "OPTIONS"} else request.method
        if method not in self.table and not hasattr(view, request.method.lower()):
            return CanRead()  # the view has no such method: let it answer 405, not 403
        return self.table.get(method, CanAdmin)()

    def has_permission(self, request, view) -> bool:
        inner = self._inner(request, view)
        allowed = inner.has_permission(request, view)
        if not allowed:
            self.message = getattr(inner, "message", None)
        return allowed
