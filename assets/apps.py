from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from assets import schema_extensions  # noqa: F401  (registers the OpenAPI auth scheme)

        post_migrate.connect(_ensure_builtin_schema, sender=self)


def _ensure_builtin_schema(sender, using: str = "default", **kwargs) -> None:
    """Schema 0 is reference data every account relies on: (re)create it whenever the
    database is migrated or flushed, so no code path can find it missing."""
    from assets.models import DataSchema

    DataSchema.ensure_builtin(using)
