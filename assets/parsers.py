"""Request parsers that refuse hostile bodies with a 400 naming the field, never a 500.

`SafeJSONParser`: DRF's JSONParser turns malformed JSON into a 400, but deeply nested
arrays raise RecursionError (a 500), and NUL characters, unpaired surrogates or
non-finite numbers parse fine and then fail inside PostgreSQL. This parser closes those
gaps for every JSON body the API reads.

`SafeMultiPartParser`: Django drops a file part whose file name is empty, "." or ".."
without reading past its bytes, so the parser then looked for the next part's headers
inside the file's content and failed with "Request max total header size exceeded". Such
a file keeps the neutral name "upload" instead, so its upload is read like any other.
"""

from __future__ import annotations

from django.conf import settings
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser

from assets.errors import FieldError

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


UNNAMED_UPLOAD = "upload"


class _NamingMultiPartParser(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name):
        return super().sanitize_file_name(file_name) or UNNAMED_UPLOAD


class SafeMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {})["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
            parser = _NamingMultiPartParser(meta, stream, request.upload_handlers, encoding)
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ParseError(f"the multipart body cannot be read ({exc}); send a well-formed multipart/form-data body") from None
        return DataAndFiles(data, files)



def single_field(data, name: str):
    """The value of form field `name` (None if absent); a field sent twice is a 400, not
    "the last one wins"."""
    values = data.getlist(name) if hasattr(data, "getlist") else ([data[name]] if name in data else [])
    if len(values) > 1:
        raise FieldError(name, f"was sent {len(values)} times; send it once")
    return values[0] if values else None


def single_file(files, name: str):
    """The uploaded file `name` (None if absent); several files under one name are a 400."""
    uploads = files.getlist(name)
    if len(uploads) > 1:
        raise FieldError(name, f"holds {len(uploads)} files; send one file")
    return uploads[0] if uploads else None
