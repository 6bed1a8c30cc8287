"""Job kinds: what the app that defines a kind registers (a handler), the items a job is
made of with the ids and paths each derives from (job, item), and the `Attempt` through
which a handler records each item once (see assets.jobs)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.module_loading import import_string

from assets import worker
from assets.models import Asset, Job
from assets.files import conversion_path, files_undone_on_error, original_path

logger = logging.getLogger(__name__)


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
_UNANNOUNCED: set[str] = set()


def job_kind_register(kind: str, *, handler: str, announce: bool = True) -> None:
    """The app that defines a kind registers its handler (a dotted path, imported on first
    use: `ready()` runs in every process, and the handlers pull in numpy and the model).
    `announce=False` for the service's own housekeeping (thumbnails), which no client asked
    for: its jobs send no job.finished webhook."""
    _HANDLERS[kind] = handler
    if not announce:
        _UNANNOUNCED.add(kind)


def job_kind_announced(kind: str) -> bool:
    return kind not in _UNANNOUNCED


def job_handler(kind: str) -> JobHandler | None:
    path = _HANDLERS.get(kind)
    return import_string(path) if path else None


_END_LISTENERS: list[Callable[[Job], None]] = []


def job_end_listen(listener: Callable[[Job], None]) -> None:
    """Call `listener(job)` inside the transaction that ends a job of an announced kind
    (assets.apps registers webhooks' job.finished; the job machinery knows nothing of
    what listens, so it imports nothing above it)."""
    if listener not in _END_LISTENERS:
        _END_LISTENERS.append(listener)


def job_end_listeners() -> list[Callable[[Job], None]]:
    return list(_END_LISTENERS)


def job_kinds() -> dict[str, str]:
    return dict(_HANDLERS)


def job_progress(job: Job) -> dict[str, int]:
    """{"done", "total"}: the items recorded so far (saved or failed) and the items the job
    is made of, so a page can say "2 of 5 done" while the job runs."""
    handler = job_handler(job.kind)
    done = len(job.progress)
    total = done
    if handler is not None:
        try:
            total = len(handler.items(job))
        except Exception:  # a request its kind cannot read: the document still answers
            logger.warning("job %s: its request does not list its items", job.pk, exc_info=True)
    return {"done": min(done, total), "total": max(total, done)}


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

    def save_or_fail(self, index: int, save: Callable[[], list[dict[str, Any]]], *, failure: str) -> None:
        """`save`, or, if it raises, record the item as failed with the error's own message
        (an API error's) or `failure`; the traceback goes to the log. A lost lease stops."""
        try:
            self.save(index, save)
        except LeaseLost:
            raise
        except Exception as exc:
            logger.exception("job %s item %d failed", self.job.pk, index)
            self.fail(index, getattr(exc, "message", None) or failure)

    def _record(self, index: int, entry: Callable[[], dict[str, Any]]) -> None:
        with worker.critical(), files_undone_on_error(), transaction.atomic():
            row = Job.objects.select_for_update().only("claim", "progress").get(pk=self.job.pk)
            if row.claim != self.job.claim:
                raise LeaseLost(f"job {self.job.pk} was claimed by another attempt")
            if str(index) not in row.progress:
                files_delete(self.items[index].files)  # what a killed attempt left behind
                row.progress[str(index)] = entry()
                Job.objects.filter(pk=row.pk).update(progress=row.progress)
        self.job.progress = row.progress


def files_delete(paths) -> None:
    """Delete each path; a path with no file is fine (both the local and the S3 storage
    take that as done), so no existence check costs a second round trip."""
    for path in paths:
        default_storage.delete(path)


def job_files_remove(job: Job) -> None:
    """Delete an ended job's staged files and the files of its items that never committed,
    then clear `files_pending`. Idempotent: the sweep calls it again for a job whose process
    was killed between the job's end and this."""
    handler = job_handler(job.kind)
    paths: list[str] = []
    if handler is not None:
        paths.extend(handler.leftovers(job))
        for index, item in enumerate(handler.items(job)):
            if "output" not in job.progress.get(str(index), {}):
                paths.extend(item.files)
    files_delete(paths)
    Job.objects.filter(pk=job.pk).update(files_pending=False)
