"""GET models (SPEC §13): the installed models and which bg_mode runs which. Any role."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assets.openapi import error_responses
from graphics.model_choice import models_document

_NAME = {"type": "string", "minLength": 1}
_MODES = {"type": "string", "enum": ["auto", "portrait", "product"]}
MODEL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "file", "size", "checksum", "input_size", "bg_modes", "typical_seconds"],
    "properties": {
        "name": _NAME,
        "file": {**_NAME, "description": "the file's name in the model folder (U2NET_HOME)"},
        "size": {"type": "integer", "minimum": 0, "description": "bytes"},
        "checksum": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the file"},
        "input_size": {
            "type": ["array", "null"], "items": {"type": "integer", "minimum": 1}, "minItems": 2, "maxItems": 2,
            "description": "[width, height] the model takes; null when its graph does not fix it",
        },
        "bg_modes": {"type": "array", "items": _MODES, "description": "the bg_mode values that run this model"},
        "typical_seconds": {
            "type": ["number", "null"], "description": "typical time for one photograph on 2 cores (bench/quality.py)",
        },
    },
}
MODELS_DOCUMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["default_model", "bg_modes", "models"],
    "properties": {
        "default_model": _NAME,
        "bg_modes": {
            "type": "object", "additionalProperties": False, "required": ["auto", "portrait", "product"],
            "properties": {"auto": _NAME, "portrait": _NAME, "product": _NAME},
            "description": "bg_mode -> the model it runs now",
        },
        "models": {"type": "array", "items": MODEL},
    },
}


class ModelListView(APIView):
    """GET models."""

    @extend_schema(responses={200: OpenApiResponse(MODELS_DOCUMENT), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(models_document())
