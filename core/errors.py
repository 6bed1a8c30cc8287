"""The errors of checking and processing, in plain Python. The API's exception handler
(assets.errors) turns each into a 400 in the one error shape, naming its field."""


class OptionError(ValueError):
    """An option is not valid. `field` is its name (or JSON path) as the client sent it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ImageRejected(Exception):
    """The bytes are not an image we accept. `code` is the API error code; `field` the
    request field that carried them, once the caller knows it (`for_field`)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def for_field(self, field: str) -> "ImageRejected":
        return ImageRejected(self.code, self.message, field)
