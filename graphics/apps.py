from django.apps import AppConfig


class GraphicsConfig(AppConfig):
    name = "graphics"
    verbose_name = "Image processing"

    def ready(self) -> None:
        from assets.jobs import job_kind_register

        # qcluster workers load no model when they start: a worker that only stores staged
        # background-removal results never needs one; Image Graphics loads it on first use.
        # The handlers are named by dotted path so that start-up does not import their
        # modules (numpy, the model runtime); tests/web/test_admin_jobs.py checks that
        # the kinds agree with graphics.services.JOB_KIND_BG_SAVE and image_graphics.JOB_KIND.
        job_kind_register("bg_remove_save", handler="graphics.services.BG_SAVE_JOBS")
        job_kind_register("image_graphics", handler="graphics.image_graphics.IMAGE_GRAPHICS_JOBS")

