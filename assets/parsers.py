"""A JSON parser that refuses what the databases cannot store, as a 400 naming the field.

DRF's JSONParser turns malformed JSON into a 400, but deeply nested arrays raise
RecursionError (a 500), and NUL characters, unpaired surrogates or non-finite numbers
parse fine and then fail inside PostgreSQL. This parser closes those gaps for every JSON
body the API reads.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from assets.validators import MAX_JSON_DEPTH, json_value_check, text_check


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep; flatten it") from None
        if isinstance(data, dict):
            for key, value in data.items():
                text_check(key, field="body")
                json_value_check(value, field=key, depth=1)
            return data
        return json_value_check(data, field="body")
