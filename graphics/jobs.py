"""Job bookkeeping shared by the background tasks: claim a QUEUED job, record its end."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from assets.models import Job, JobStatus


def job_claim(job_id: str) -> Job | None:
    """Lock the job, count the attempt and return it; None if it is gone or already done
    (a task that django-q2 delivers again after a crash finds its job finished)."""
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
            return None
        job.attempts += 1
        job.save(update_fields=["attempts"])
    return job


def job_finish(job: Job, *, output: list[dict], error: list[dict]) -> None:
    job.output, job.error = output, error
    job.status = JobStatus.ERROR if error else JobStatus.OK
    job.finished_at = timezone.now()
    job.save(update_fields=["output", "error", "status", "finished_at"])
