"""The doorbell: submitting a job, ringing for it, and the sweep that rings again for jobs
that wait with no ring (see assets.jobs)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from assets.jobs.kinds import job_files_remove
from assets.models import Job, JobStatus

logger = logging.getLogger(__name__)


def job_submit(job: Job) -> Job:
    """Insert the QUEUED job; ring once its transaction has committed."""
    with transaction.atomic():
        job.save(force_insert=True)
        transaction.on_commit(lambda: job_enqueue(job.id))
    return job


def job_enqueue(job_id: str | None) -> bool:
    """Ring the doorbell. False (logged) when the broker cannot be reached: the job is
    in the database and the sweep rings again."""
    try:
        async_task("assets.jobs.job_ring", job_id, group="jobs", task_name=f"job-{job_id or 'any'}")
    except Exception:
        logger.warning("could not queue job %s; the sweep will", job_id, exc_info=True)
        return False
    return True


def claimable(now) -> Q:
    """Jobs a worker may claim: waiting, and not leased (never started, released, or the
    lease of a worker that died ran out)."""
    return Q(status=JobStatus.QUEUED) & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))


def claimable_ids(limit: int) -> list[str]:
    """The ids of up to `limit` claimable jobs, oldest first."""
    return list(Job.objects.filter(claimable(timezone.now())).order_by("created_at").values_list("id", flat=True)[:limit])


def jobs_sweep() -> int:
    """Remove the files ended jobs left behind (their process was killed before it did),
    then ring for every claimable job beyond the rings already waiting in the broker
    (rings are idempotent: a spare one claims nothing). Returns how many it rang."""
    for job in Job.objects.filter(files_pending=True).exclude(status=JobStatus.QUEUED)[:100]:
        try:
            job_files_remove(job)
        except Exception:
            logger.warning("sweep: could not remove the files of job %s", job.pk, exc_info=True)
    waiting_jobs = claimable_ids(500)
    if not waiting_jobs:
        return 0
    try:
        waiting = get_broker().queue_size() or 0
    except Exception:
        logger.warning("sweep: the broker cannot be reached; %d job(s) wait", len(waiting_jobs), exc_info=True)
        return 0
    rung = 0
    for job_id in waiting_jobs[waiting:]:
        if not job_enqueue(job_id):
            break
        rung += 1
    if rung:
        logger.info("sweep: rang for %d waiting job(s)", rung)
    return rung
