"""Job bookkeeping shared by the background tasks: claim a QUEUED job, record its end."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from assets.models import Job, JobStatus


def job_claim(job_id: str) -> tuple[Job | None, bool]:
    """Lock the job and count an attempt. Returns (job, True) when it is QUEUED and now
    ours to run; (job, False) when it is gone (None) or already done (a task that
    django-q2 delivers again after a crash finds its job finished)."""
    with transaction.atomic():
        # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer
        # join that select_related("user") makes.
        job = (
            Job.objects.select_for_update(of=("self",))
            .filter(id=job_id)
            .select_related("account", "user")
            .first()
        )
        if job is None or job.status != JobStatus.QUEUED:
            return job, False
        job.attempts += 1
        job.save(update_fields=["attempts"])
    return job, True


def job_finish(job: Job, *, output: list[dict], error: list[dict]) -> None:
    job.output, job.error = output, error
    job.status = JobStatus.ERROR if error else JobStatus.OK
    job.finished_at = timezone.now()
    job.save(update_fields=["output", "error", "status", "finished_at"])


# --- re-queueing a failed job (the admin's action; see assets.jobs_registry) ------------------


def bg_save_requeue_problem(job: Job) -> str | None:
    """A background save stores a PNG staged at request time; a failed run deletes it, so
    the job can only run again while the staged file is still there."""
    staged = (job.request or {}).get("staged")
    if not staged or not default_storage.exists(staged):
        return "its staged result is gone (a failed save deletes it); run the background removal again"
    return None


def image_graphics_requeue_problem(job: Job) -> str | None:
    """A re-run processes every asset of the request again. Conversions are replaced in
    place, but assets the failed run already created would be created a second time."""
    created = [item.get("asset_id") for item in (job.output or []) if isinstance(item, dict) and item.get("name") is None]
    if created:
        return (
            f"it already created asset(s) {', '.join(map(str, created))}; re-running would create them again. "
            "Send a new request for the failed items instead"
        )
    return None
