"""Errors of the processing package. Plain Python: the API layer maps them to 400s."""


class OptionError(ValueError):
    """An option is not valid. `field` is its name (or JSON path) as the client sent it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
