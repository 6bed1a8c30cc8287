from django.apps import AppConfig


class GraphicsConfig(AppConfig):
    name = "graphics"
    verbose_name = "Image processing"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from assets.jobs_registry import job_kind_register

        post_spawn.connect(_warm_worker, dispatch_uid="graphics-warm-models")
        # The kinds are graphics.services.JOB_KIND_BG_SAVE and graphics.image_graphics.JOB_KIND,
        # written out so that start-up does not import those modules (numpy, scipy, the model
        # runtime); tests/web/test_admin.py checks that they agree.
        job_kind_register(
            "bg_remove_save",
            enqueue="graphics.tasks.bg_save_job_enqueue",
            requeue_problem="graphics.jobs.bg_save_requeue_problem",
        )
        job_kind_register(
            "image_graphics",
            enqueue="graphics.tasks.image_graphics_job_enqueue",
            requeue_problem="graphics.jobs.image_graphics_requeue_problem",
        )


def _warm_worker(sender, proc_name: str = "", **kwargs) -> None:
    """Each qcluster worker process loads the models once, when it starts."""
    from graphics.services import models_warm

    models_warm()
