"""Running a job: claim it, run its items under a lease, and end, release or re-queue it
(see assets.jobs)."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from django_q.exceptions import TimeoutException

from assets import worker
from assets.jobs.kinds import (
    Attempt, JobHandler, JobItem, LeaseLost, job_end_listeners, job_files_remove, job_handler, job_kind_announced,
)
from assets.jobs.queue import claimable, claimable_ids, job_enqueue
from assets.models import Job, JobStatus
from core import metrics

logger = logging.getLogger(__name__)


def job_ring(job_id: str | None = None) -> str:
    """The django-q2 task: claim one job (preferably `job_id`) and run it."""
    if worker.stopping():
        return "stopping"
    job = job_claim(job_id)
    if job is None:
        return "nothing to claim"
    return job_run(job)


def job_claim(preferred: str | None = None) -> Job | None:
    """Claim `preferred` if it can be claimed, else the oldest claimable job; None if none."""
    now = timezone.now()
    for job_id in dict.fromkeys([*([preferred] if preferred else []), *claimable_ids(5)]):
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(claimable(now), id=job_id).first()
            if job is None:
                continue
            if job.attempts >= settings.Q_MAX_ATTEMPTS:
                _job_end(job, rest=(
                    f"the job was stopped {job.attempts} times before it could finish (its worker was killed "
                    "or lost); nothing more will be tried, send the request again"
                ))
                continue
            job.attempts += 1
            job.claim = uuid.uuid4().hex
            job.started_at = now
            job.lease_until = now + timedelta(seconds=settings.JOB_LEASE_SECONDS)
            job.save(update_fields=["attempts", "claim", "started_at", "lease_until"])
        return Job.objects.select_related("account", "user").get(pk=job.pk)
    return None


# --- one attempt --------------------------------------------------------------------------------


class _Heartbeat(threading.Thread):
    """Renews the lease while the job runs, so only a dead worker's job is swept."""

    def __init__(self, job: Job):
        super().__init__(name=f"lease-{job.pk}", daemon=True)
        self.job = job
        self.stopped = threading.Event()

    def run(self) -> None:
        seconds = settings.JOB_LEASE_SECONDS
        try:
            while not self.stopped.wait(seconds / 3):
                try:
                    Job.objects.filter(pk=self.job.pk, claim=self.job.claim).update(
                        lease_until=timezone.now() + timedelta(seconds=seconds)
                    )
                except Exception:
                    logger.warning("could not renew the lease of job %s", self.job.pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    def __enter__(self) -> _Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.join()


def job_run(job: Job) -> str:
    """Run a claimed job to its end, or release it when the worker is being stopped."""
    handler = job_handler(job.kind)
    if handler is None:
        return _job_end(job, rest=f"no installed app runs jobs of kind {job.kind!r}")
    attempt = Attempt(job, handler.items(job))
    with _Heartbeat(job), worker.job_running(settings.Q_CLUSTER.get("timeout")):
        try:
            handler.run(job, attempt)
        except LeaseLost:
            logger.warning("job %s: lost its claim to another attempt; stopping this one", job.pk)
            return "lease lost"
        except worker.JobInterrupted:
            _job_release(job)
            if worker.stopping():
                return "released"  # the cluster stops it: the worker must drain its queue first
            raise SystemExit(0) from None  # this process alone was signalled: it goes now
        except TimeoutException:
            _job_end(job, handler, attempt.items, rest=(
                f"the job ran longer than the worker's time limit (Q_TIMEOUT = {settings.Q_CLUSTER.get('timeout')} s); "
                "send fewer or smaller images per request"
            ))
            raise
        except BaseException as exc:
            logger.exception("job %s failed", job.pk)
            _job_end(job, handler, attempt.items, rest="the job failed unexpectedly; try again, or contact the operator")
            if not isinstance(exc, Exception):
                raise
            return JobStatus.ERROR
    return _job_end(job, handler, attempt.items)


# --- endings ----------------------------------------------------------------------------------


def _job_end(job: Job, handler: JobHandler | None = None, items: list[JobItem] | None = None, *, rest: str = "") -> str:
    """End the job from its `progress`; items with no entry get the error `rest`."""
    if handler is None:
        handler = job_handler(job.kind)
    if items is None:
        items = handler.items(job) if handler else [JobItem(name=None, asset_id=None)]
    with transaction.atomic():
        row = Job.objects.select_for_update().get(pk=job.pk)
        if row.status != JobStatus.QUEUED or (job.claim and row.claim != job.claim):
            return row.status  # ended or claimed meanwhile by someone else
        output, error = [], []
        for index, item in enumerate(items):
            entry = row.progress.get(str(index), {})
            if "output" in entry:
                output.extend(entry["output"])
            else:
                error.append({"name": item.name, "asset_id": item.asset_id, "error": entry.get("error") or rest})
        row.output, row.error, row.finished_at, row.lease_until = output, error, timezone.now(), None
        row.status = JobStatus.ERROR if error else JobStatus.OK
        row.files_pending = True  # cleared once the files are gone; the sweep finishes it otherwise
        row.save(update_fields=["output", "error", "status", "finished_at", "lease_until", "files_pending"])
        transaction.on_commit(lambda: job_files_remove(row))
        if job_kind_announced(row.kind):
            for listener in job_end_listeners():
                listener(row)
    job.status, job.output, job.error, job.finished_at = row.status, output, error, row.finished_at
    _job_ended_record(row)
    return row.status


def _job_ended_record(job: Job) -> None:
    """The job's line in the log (one JSON object with LOG_FORMAT=json) and its metrics."""
    seconds = (job.finished_at - (job.started_at or job.created_at)).total_seconds()
    metrics.JOBS.labels(job.kind, job.status).inc()
    metrics.JOB_SECONDS.labels(job.kind, job.status).observe(max(0.0, seconds))
    logger.info(
        "job %s (%s) ended %s in %.2f s", job.pk, job.kind, job.status, seconds,
        extra={
            "job_id": job.pk, "kind": job.kind, "outcome": job.status, "duration_ms": round(seconds * 1000, 1),
            "attempts": job.attempts, "account_id": job.account_id, "items_failed": len(job.error),
        },
    )


def _job_release(job: Job) -> None:
    """Give the job back (the attempt is not counted) and ring for it."""
    released = Job.objects.filter(pk=job.pk, claim=job.claim, status=JobStatus.QUEUED).update(
        claim="", lease_until=None, attempts=F("attempts") - 1
    )
    if released:
        logger.info("job %s released: this worker is stopping", job.pk)
        job_enqueue(job.pk)


def job_requeue(job: Job) -> str | None:
    """The admin's re-queue: an ERROR job goes back to QUEUED with its done items kept, so
    only the failed ones run again. Returns why it cannot, or None once it is queued."""
    handler = job_handler(job.kind)
    if job.status != JobStatus.ERROR:
        return f"its status is {job.status}; only ERROR jobs are re-queued"
    if handler is None:
        return f"no installed app runs jobs of kind {job.kind!r}"
    problem = handler.requeue_problem(job)
    if problem:
        return problem
    progress = {key: entry for key, entry in job.progress.items() if "output" in entry}
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status=JobStatus.ERROR).update(
            status=JobStatus.QUEUED, progress=progress, output=[], error=[], attempts=0,
            claim="", started_at=None, lease_until=None, finished_at=None,
        )
        if not updated:
            return "it changed while being re-queued; look again"
        transaction.on_commit(lambda: job_enqueue(job.pk))
    return None
