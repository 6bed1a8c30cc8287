"""Which model each `bg_mode` runs, and the document of `GET models` (SPEC §6, §13).

The mapping is decided on every use from the settings and what is installed in
U2NET_HOME (a directory listing), so a model installed while the service runs is used
from the next request on (its session is then made on first use), and a configured model
that is missing falls back to the default instead of failing requests. That fallback is
logged as a warning once per process for each folder, mode and model, not on every
request.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from django.conf import settings

from core.model_catalogue import TYPICAL_SECONDS, bg_mode_models
from core.model_store import installed_names, model_files
from graphics.processing.background import BgMode

logger = logging.getLogger(__name__)

_warned: set[str] = set()
_warned_lock = threading.Lock()


def bg_models() -> dict[str, str]:
    """bg_mode -> the installed model it runs now (core.model_catalogue.bg_mode_models)."""
    home = Path(settings.U2NET_HOME)
    models, warnings = bg_mode_models(
        settings.BG_REMOVE_MODELS, default=settings.BG_REMOVE_DEFAULT_MODEL, installed=installed_names(home)
    )
    for warning in warnings:
        key = f"{home}\n{warning}"
        with _warned_lock:
            first = key not in _warned
            _warned.add(key)
        if first:
            logger.warning(warning)
    return models


def models_document() -> dict[str, Any]:
    """The body of GET models: the installed models and which bg_mode runs which."""
    modes = bg_models()
    models = []
    for found in model_files(Path(settings.U2NET_HOME)):
        models.append(
            {
                **found.to_json(),
                "bg_modes": [mode for mode, name in modes.items() if name == found.name],
                "typical_seconds": TYPICAL_SECONDS.get(found.name),
            }
        )
    return {"default_model": settings.BG_REMOVE_DEFAULT_MODEL, "bg_modes": modes, "models": models}


def bg_mode_choices() -> list[tuple[str, str]]:
    """(bg_mode, label) for the upload page: the model each runs, and its typical time."""
    models, choices = bg_models(), []
    for mode in BgMode:
        name = models[mode.value]
        seconds = TYPICAL_SECONDS.get(name)
        choices.append((mode.value, f"{mode.value} — {name}" + (f", about {seconds:g} s" if seconds else "")))
    return choices
