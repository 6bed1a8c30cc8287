"""Background jobs: what happens to a job, from the request that makes it to its end.

The database is the record of every job; the broker is only a doorbell.

1. `job_submit` inserts the QUEUED row in the request's transaction and rings once that
   has committed. A ring that fails (broker down) is logged, not raised: the request
   still succeeds, and the sweep rings later.
2. A ring (`job_ring`, the one django-q2 task) claims one job: the one it names if that
   can be claimed, else the oldest that can. A job can be claimed while it is QUEUED and
   not leased: never started, released, or its lease ran out because its worker died.
   Claiming counts an attempt and sets `started_at`, a fresh `claim` token and a lease
   (`JOB_LEASE_SECONDS`) that a heartbeat thread renews while the job runs. A job whose
   attempts reached `Q_MAX_ATTEMPTS` ends ERROR instead of being claimed again.
3. The kind's handler (`job_kind_register`) runs the job's items. Each item's save
   commits together with its entry in `progress`, and only while the claim is still
   ours; an item already in `progress` is skipped. Whatever is killed when, no item is
   saved twice. What an item creates has an id and paths derived from (job, item)
   (`item_key`), so a killed attempt's files are found and removed, never orphaned.
4. The job ends: `output` and `error` come from `progress` in item order, ERROR if any item
   failed; staged files and the files of items that never committed are removed after
   the commit. The time limit (`Q_TIMEOUT`) or an unexpected error ends it ERROR with a
   message; SIGTERM releases it (the attempt is not counted) for the next worker.
5. The sweep (`jobs_sweep`, run by `manage.py qcluster` at start-up and every
   `JOBS_SWEEP_SECONDS`) rings for claimable jobs that the broker holds no ring for.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from django_q.exceptions import TimeoutException
from django_q.tasks import async_task

from assets import worker
from assets.models import Asset, Job, JobStatus
from assets.services.assets import conversion_path, original_path
from assets.services.files import files_undone_on_error

logger = logging.getLogger(__name__)


# --- kinds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobItem:
    """One unit a job saves at most once: its name and asset for `output`/`error`, and
    the paths its save writes (removed when the job ends without it)."""

    name: str | None
    asset_id: str | None
    files: tuple[str, ...] = ()


class JobHandler(Protocol):
    def items(self, job: Job) -> list[JobItem]: ...

    def run(self, job: Job, attempt: Attempt) -> None:
        """Do each item not yet done: `attempt.save(index, ...)` or `attempt.fail(index, ...)`."""

    def leftovers(self, job: Job) -> list[str]:
        """Staged files to remove when the job ends."""

    def requeue_problem(self, job: Job) -> str | None:
        """Why a failed job cannot usefully run again, or None."""


_HANDLERS: dict[str, str] = {}


def job_kind_register(kind: str, *, handler: str) -> None:
    """The app that defines a kind registers its handler (a dotted path, imported on first
    use: `ready()` runs in every process, and the handlers pull in numpy and the model)."""
    _HANDLERS[kind] = handler


def job_handler(kind: str) -> JobHandler | None:
    path = _HANDLERS.get(kind)
    return import_string(path) if path else None


def job_kinds() -> dict[str, str]:
    return dict(_HANDLERS)


def item_key(job_id: str, index: int) -> str:
    """A stable 32-hex key per (job, item): every attempt at the item derives the same ids
    and paths from it."""
    return hashlib.sha256(f"{job_id}:{index}".encode()).hexdigest()[:32]


def item_asset_id(job_id: str, index: int) -> str:
    """The id of the asset item `index` of the job creates (UUID4-shaped, like every id)."""
    return uuid.UUID(hex=item_key(job_id, index), version=4).hex


def item_files(
    job: Job, index: int, *, conversion: tuple[str, str] | None, creates_asset: bool, extension: str
) -> tuple[str, ...]:
    """Where item `index` writes: conversion (asset id, name) and/or its new asset."""
    files = []
    if conversion is not None:
        target = Asset(id=conversion[0], account_id=job.account_id)
        files.append(conversion_path(target, conversion[1], extension, item_key(job.id, index)))
    if creates_asset:
        files.append(original_path(Asset(id=item_asset_id(job.id, index), account_id=job.account_id), extension))
    return tuple(files)


# --- submit and ring --------------------------------------------------------------------------


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


def _claimable(now) -> Q:
    return Q(status=JobStatus.QUEUED) & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))


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
    oldest = Job.objects.filter(_claimable(now)).order_by("created_at").values_list("id", flat=True)[:5]
    for job_id in dict.fromkeys([*([preferred] if preferred else []), *oldest]):
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(_claimable(now), id=job_id).first()
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


# --- one attempt ------------------------------------------------------------------------------


class LeaseLost(Exception):
    """Another attempt claimed the job (ours stopped renewing its lease); stop quietly."""


class Attempt:
    """One claimed run of a job: saves and failures of items, each recorded once."""

    def __init__(self, job: Job, items: list[JobItem]):
        self.job = job
        self.items = items

    def done(self, index: int) -> bool:
        return str(index) in self.job.progress

    def save(self, index: int, save: Callable[[], list[dict[str, Any]]]) -> None:
        """Run `save` (it writes rows and files and returns the item's outputs) and record
        the item in one transaction, unless the item is done or the claim is no longer ours."""
        self._record(index, lambda: {"output": save()})

    def fail(self, index: int, message: str) -> None:
        self._record(index, lambda: {"error": message})

    def _record(self, index: int, entry: Callable[[], dict[str, Any]]) -> None:
        with worker.critical(), files_undone_on_error(), transaction.atomic():
            row = Job.objects.select_for_update().only("claim", "progress").get(pk=self.job.pk)
            if row.claim != self.job.claim:
                raise LeaseLost(f"job {self.job.pk} was claimed by another attempt")
            if str(index) not in row.progress:
                _files_delete(self.items[index].files)  # what a killed attempt left behind
                row.progress[str(index)] = entry()
                Job.objects.filter(pk=row.pk).update(progress=row.progress)
        self.job.progress = row.progress


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


def _files_delete(paths) -> None:
    for path in paths:
        if default_storage.exists(path):
            default_storage.delete(path)


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
        output, error, undone = [], [], []
        for index, item in enumerate(items):
            entry = row.progress.get(str(index), {})
            if "output" in entry:
                output.extend(entry["output"])
                continue
            error.append({"name": item.name, "asset_id": item.asset_id, "error": entry.get("error") or rest})
            undone.extend(item.files)
        row.output, row.error, row.finished_at, row.lease_until = output, error, timezone.now(), None
        row.status = JobStatus.ERROR if error else JobStatus.OK
        row.save(update_fields=["output", "error", "status", "finished_at", "lease_until"])
        leftovers = handler.leftovers(row) if handler else []
        transaction.on_commit(lambda: _files_delete([*undone, *leftovers]))
    job.status, job.output, job.error, job.finished_at = row.status, output, error, row.finished_at
    return row.status


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


# --- the sweep --------------------------------------------------------------------------------


def jobs_sweep() -> int:
    """Ring for every claimable job beyond the rings already waiting in the broker
    (rings are idempotent: a spare one claims nothing). Returns how many it rang."""
    now = timezone.now()
    claimable = list(Job.objects.filter(_claimable(now)).order_by("created_at").values_list("id", flat=True)[:500])
    if not claimable:
        return 0
    try:
        waiting = get_broker().queue_size() or 0
    except Exception:
        logger.warning("sweep: the broker cannot be reached; %d job(s) wait", len(claimable), exc_info=True)
        return 0
    rung = 0
    for job_id in claimable[waiting:]:
        if not job_enqueue(job_id):
            break
        rung += 1
    if rung:
        logger.info("sweep: rang for %d waiting job(s)", rung)
    return rung
