"""The Remove Background choices (SPEC §6) for any page that offers them: the upload page
and the asset page's "Remove background" and "Compose" forms (templates/web/), so every
form offers exactly the values the API validates against."""

from __future__ import annotations

from django import template

from graphics.model_choice import bg_mode_choices
from graphics.processing.background import BgMode, MaskStrength

register = template.Library()


@register.simple_tag
def bg_remove_choices() -> dict[str, object]:
    """{"bg_modes": [(value, label naming the model it runs)], "strengths",
    "default_bg_mode", "default_strength"}."""
    return {
        "bg_modes": bg_mode_choices(),
        "strengths": [strength.value for strength in MaskStrength],
        "default_bg_mode": BgMode.AUTO.value,
        "default_strength": MaskStrength.MEDIUM.value,
    }
