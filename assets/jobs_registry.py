"""Which code runs each kind of Job, so `assets` can re-queue a job without importing it.

`assets` never imports `graphics` (STYLE.md), yet the admin's "re-queue" action must hand a
job back to the worker. The app that defines a job kind registers it here from its
`AppConfig.ready()`:

    job_kind_register("bg_remove_save", enqueue="graphics.tasks.bg_save_job_enqueue",
                      requeue_problem="graphics.jobs.bg_save_requeue_problem")

Both are dotted paths, imported on first use: `ready()` runs in every process (migrate,
shell, the worker), and importing the graphics tasks pulls in numpy, scipy and the model
runtime, which those processes need not pay for.

- `enqueue(job_id)` queues the job's task (the function the original request used).
- `requeue_problem(job)` (optional) returns why a failed job cannot usefully run again
  (say, its staged input is gone), or None when it can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from assets.models import Job


@dataclass(frozen=True)
class JobKind:
    kind: str
    enqueue_path: str
    requeue_problem_path: str | None = None

    def enqueue(self, job_id: str) -> None:
        import_string(self.enqueue_path)(job_id)

    def requeue_problem(self, job: "Job") -> str | None:
        if self.requeue_problem_path is None:
            return None
        check: Callable[["Job"], str | None] = import_string(self.requeue_problem_path)
        return check(job)


_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: str, *, enqueue: str, requeue_problem: str | None = None) -> None:
    """Register (or re-register, idempotently) the code that runs jobs of `kind`."""
    _KINDS[kind] = JobKind(kind, enqueue, requeue_problem)


def job_kind_get(kind: str) -> JobKind | None:
    """The registered kind, or None if no installed app runs jobs of that kind."""
    return _KINDS.get(kind)


def job_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)
