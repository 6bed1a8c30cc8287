"""Accounts, users with roles, and API keys."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from assets.errors import Conflict, FieldError
from assets.models import Account, ApiKey, Membership, Role


def account_user_create(
    *, account_name: str, username: str, role: str, email: str = "", password: str | None = None
) -> tuple[Membership, bool]:
    """Get or create the account and the user (with `role`). Returns (membership, created)."""
    if role not in Role.values:
        raise FieldError("role", f"must be one of {', '.join(Role.values)}, got {role!r}")
    User = get_user_model()
    with transaction.atomic():
        account, _ = Account.objects.get_or_create(name=account_name)
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if password:
            user.set_password(password)
            user.save()
        elif created:
            user.set_unusable_password()
            user.save()
        membership = Membership.objects.filter(user=user).first()
        if membership and membership.account_id != account.id:
            raise Conflict(
                f"user {username} already belongs to account {membership.account.name}",
                code="user_in_other_account",
            )
        if membership is None:
            membership = Membership.objects.create(user=user, account=account, role=role)
        elif membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    return membership, created


def api_key_create(*, user, name: str) -> tuple[ApiKey, str]:
    """Create a key for `user`. The plain key is returned once and never stored."""
    return ApiKey.objects.create_key(name=name[:50] or "key", user=user)
