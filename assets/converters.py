"""URL converters shared by the API's url modules."""

from django.urls import register_converter


class Hex32Converter:
    """Asset and job ids: 32 lower-case hex characters. Anything else is a 404."""

    regex = "[0-9a-f]{32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(Hex32Converter, "hex32")
