from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self) -> None:
        from assets import schema_extensions  # noqa: F401  (registers the OpenAPI auth scheme)
