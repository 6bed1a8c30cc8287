"""Accounts, memberships and API keys (created here, the key shown once)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from assets.models import Account, ApiKey, Membership

# The service authenticates with assets.ApiKey; the library's own model is unused.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role"]
    list_filter = ["role", "account"]


class ApiKeyAdminForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "user", "expiry_date", "revoked"]

    def clean_user(self):
        user = self.cleaned_data.get("user")
        if user is not None and not Membership.objects.filter(user=user).exists():
            raise ValidationError(
                "this user belongs to no account, so its key would be refused (401); add a membership first"
            )
        return user


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    """On add, the library's admin generates the key and shows it once in a message; only
    its hash is stored. The user is chosen on add and fixed afterwards."""

    form = ApiKeyAdminForm
    fields = ["name", "user", "prefix", "expiry_date", "revoked"]
    list_display = [*APIKeyModelAdmin.list_display, "user"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = [*APIKeyModelAdmin.search_fields, "user__username"]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if obj is None else (*fields, "user")
