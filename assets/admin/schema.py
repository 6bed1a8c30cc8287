"""Data schemas: the JSON Schema checked on save (draft 2020-12, and against the assets
that use it); the built-in schema 0 read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from assets.admin.fields import PrettyJSONField
from assets.models import DataSchema
from assets.services.schemas import schema_replacement_problem
from assets.validators import schema_check

class DataSchemaAdminForm(forms.ModelForm):
    schema = PrettyJSONField(label="schema", help_text="A JSON Schema (draft 2020-12) for assets' data.")

    class Meta:
        model = DataSchema
        fields = ["account", "name", "schema"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "account" in self.fields:  # only the built-in schema 0 belongs to no account
            self.fields["account"].required = True

    def clean_schema(self) -> Any:
        schema = self.cleaned_data.get("schema")
        if self.instance.pk is not None and not schema_check(schema):
            # The API's rule (PUT assetschemas/{id}): no asset may stop satisfying it.
            problem = schema_replacement_problem(schema_id=self.instance.pk, schema=schema)
            if problem:
                raise ValidationError(problem)
        return schema  # DataSchema.clean checks it is a valid draft 2020-12 schema

    def _post_clean(self) -> None:
        # When the box holds no JSON at all, DataSchema.clean would judge the unchanged
        # (on add: empty) value instead and add a second, misleading error. The form is
        # invalid either way, so the model's checks wait for parseable JSON.
        if "schema" not in self._errors:
            super()._post_clean()


@admin.register(DataSchema)
class DataSchemaAdmin(admin.ModelAdmin):
    """Schema 0 (built in, shared by every account) can be viewed, not changed or deleted."""

    form = DataSchemaAdminForm
    list_display = ["id", "name", "account", "updated_at"]
    list_filter = ["account"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        return ["account"] if obj is not None else []

    def has_change_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_builtin) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_builtin) and super().has_delete_permission(request, obj)
