from django.apps import AppConfig


class GraphicsConfig(AppConfig):
    name = "graphics"
    verbose_name = "Image processing"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        post_spawn.connect(_warm_worker, dispatch_uid="graphics-warm-models")


def _warm_worker(sender, proc_name: str = "", **kwargs) -> None:
    """Each qcluster worker process loads the models once, when it starts."""
    from graphics.services import models_warm

    models_warm()
