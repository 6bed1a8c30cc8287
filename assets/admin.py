"""Django admin for the asset domain (browse assets, conversions, lineage, jobs)."""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from assets.models import Account, ApiKey, Asset, Conversion, DataSchema, Job, Membership


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role"]
    list_filter = ["role", "account"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "user"]


class ConversionInline(admin.TabularInline):
    model = Conversion
    extra = 0
    fields = ["name", "content_type", "size", "width", "height", "update_time"]
    readonly_fields = fields


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "account", "content_type", "width", "height", "upload_time"]
    list_filter = ["account", "content_type"]
    search_fields = ["id", "name"]
    readonly_fields = ["id", "content_type", "size", "checksum", "width", "height", "upload_time", "update_time"]
    inlines = [ConversionInline]


@admin.register(DataSchema)
class DataSchemaAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "account", "updated_at"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "account", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in Job._meta.fields]
