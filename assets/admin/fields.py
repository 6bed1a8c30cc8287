"""Form fields and display helpers shared by the asset domain's admin pages."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput
from django.utils.html import format_html

from assets.errors import FieldError
from assets.validators import json_value_check

class PrettyJSONField(forms.JSONField):
    """A JSON textarea showing its value indented by two spaces, non-ASCII kept as is.
    Rejects what the databases cannot store (NUL, unpaired surrogates, deep nesting)."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = {"rows": 16, "cols": 90, "class": "vLargeTextField", "spellcheck": "false"}
        kwargs.setdefault("widget", forms.Textarea(attrs=attrs))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)

    def validate(self, value: Any) -> None:
        super().validate(value)
        try:
            json_value_check(value, field=self.label or "value")
        except FieldError as exc:
            raise ValidationError(exc.message) from None


def pretty_json(value: Any):
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))
