"""The JSON document of Remove Background's `save_image` (SPEC §4): one serializer, which
renders the response and describes it in the OpenAPI schema. `source_asset_id`,
`metadata` and the ids appear only when they apply (a key absent from the body is left out)."""

from __future__ import annotations

from rest_framework import serializers

from core.rules import CONVERSION_NAME_PATTERN, HEX32_PATTERN


class BgRemoveSavedDocument(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])
    mode = serializers.ChoiceField(choices=["save_image"])
    disposition = serializers.ChoiceField(choices=["add_conversion", "add_new_asset"])
    asset_id = serializers.RegexField(HEX32_PATTERN, required=False, help_text="add_conversion: the asset that got it")
    conversion_name = serializers.RegexField(CONVERSION_NAME_PATTERN, required=False)
    source_asset_id = serializers.RegexField(HEX32_PATTERN, required=False, help_text="add_new_asset, when an asset was named")
    metadata = serializers.ChoiceField(choices=["inherit"], required=False)
    new_asset_id = serializers.RegexField(HEX32_PATTERN, required=False, help_text="add_new_asset: the asset made")
