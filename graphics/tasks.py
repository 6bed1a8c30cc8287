"""django-q2 entry points. Tasks carry ids only; they look the job up and call a service."""

from __future__ import annotations

from django_q.tasks import async_task

from graphics import services


def bg_save_job_enqueue(job_id: str) -> None:
    async_task("graphics.tasks.bg_save_job_task", job_id, task_name=f"bg_save-{job_id}", group="bg_save")


def bg_save_job_task(job_id: str) -> str:
    job = services.bg_save_job_run(job_id=job_id)
    return job.status if job else "missing"


def image_graphics_job_enqueue(job_id: str) -> None:
    async_task(
        "graphics.tasks.image_graphics_job_task", job_id, task_name=f"image_graphics-{job_id}", group="image_graphics"
    )


def image_graphics_job_task(job_id: str) -> str:
    from graphics.image_graphics import image_graphics_job_run

    job = image_graphics_job_run(job_id=job_id)
    return job.status if job else "missing"
