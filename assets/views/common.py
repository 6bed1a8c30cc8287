"""What every web page needs: the caller's membership and what its role may do, the pages
for "no account" and "not found", the account's data schemas, and the API's refusals of
a filter said in words for people (the API keeps its exact messages)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assets.models import DataSchema, Membership, Role
from assets.permissions import membership_of
from core.rules import RESERVED_CONVERSION_NAMES


def no_account_response(request: HttpRequest) -> HttpResponse:
    """What a logged-in user without an account (a bare superuser, say) gets: a 403 page."""
    return render(request, "web/no_account.html", status=403)


def role_context(membership: Membership) -> dict[str, Any]:
    """The role, and which write actions the pages may offer it (SPEC §2's table): a page
    that offers no action a role lacks, while the API refuses it anyway."""
    return {
        "role": membership.role,
        "can_write": membership.has_role(Role.CREATOR),
        "can_delete": membership.has_role(Role.MANAGER),
    }


def not_found_response(request: HttpRequest, *, asset_id: str | None = None) -> HttpResponse:
    """The styled 404 page, with the way back; for an asset id, it says which."""
    membership = membership_of(request.user)
    context = role_context(membership) if membership else {}
    return render(request, "404.html", {**context, "missing_asset_id": asset_id}, status=404)


def schema_choices(account) -> list[dict[str, Any]]:
    """The data schemas an asset of the account may name (0, the built-in one, first):
    id, name and the JSON Schema, for the pages' data forms."""
    schemas = DataSchema.objects.filter(Q(account__isnull=True) | Q(account=account)).order_by("id")
    return [{"id": s.id, "name": schema_label(s), "schema": s.schema} for s in schemas]


def schema_label(schema: DataSchema) -> str:
    """A schema as people know it: its name; the built-in one says it takes any data."""
    return f"{schema.name} (any data)" if schema.is_builtin else schema.name


def conversion_name_words(value: str) -> str:
    """Why `value` is not a conversion name, in words (the API says it with its pattern)."""
    if value in RESERVED_CONVERSION_NAMES:
        return f"“{value}” is the name of the asset’s own file; choose another name."
    if len(value) > 30:
        return f"A conversion name has at most 30 characters; “{value}” has {len(value)}."
    others = list(dict.fromkeys(ch for ch in value if not (ch.isascii() and (ch.isalnum() or ch in "-_"))))
    named = ["a space" if ch == " " else f"“{ch}”" for ch in others]
    shown = ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]
    return f"A conversion name uses only letters, digits, - and _; “{value}” has {shown}."
