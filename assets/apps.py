from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Assets"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django_q.signals import post_spawn

        from assets import schema_extensions  # noqa: F401  (registers the OpenAPI auth scheme)

        from assets.jobs import job_end_listen, job_kind_register
        from assets.webhooks import job_finished_event

        post_migrate.connect(_ensure_builtin_schema, sender=self)
        post_migrate.connect(_ensure_cache_table, sender=self)
        job_end_listen(lambda job: job_finished_event(job=job))
        job_kind_register("thumbnail", handler="assets.services.renditions.THUMBNAIL_JOBS", announce=False)
        post_spawn.connect(_worker_started, dispatch_uid="assets-worker-signals")


def _worker_started(sender, proc_name: str = "", **kwargs) -> None:
    """Each qcluster worker process: SIGTERM and the stop grace (assets.worker)."""
    from django.conf import settings

    from assets.worker import worker_started

    worker_started(settings.Q_STOP_GRACE)


def _ensure_cache_table(sender, using: str = "default", **kwargs) -> None:
    """The database cache's table (the rate-limit counters when no Redis is configured) is
    not a model: make it whenever the database is migrated, so `migrate` is enough."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


def _ensure_builtin_schema(sender, using: str = "default", **kwargs) -> None:
    """Schema 0 is reference data every account relies on: (re)create it whenever the
    database is migrated or flushed, so no code path can find it missing."""
    from assets.models import DataSchema

    DataSchema.ensure_builtin(using)
