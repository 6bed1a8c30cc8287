"""Background jobs: what happens to a job, from the request that makes it to its end.

The database is the record of every job; the broker is only a doorbell. The package:
`kinds` (what a kind provides; items and their ids), `queue` (submit, ring, sweep) and
`run` (claim, attempt, end, release, re-queue).

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

from assets.jobs.kinds import (
    JobHandler,
    JobItem,
    item_asset_id,
    item_files,
    item_key,
    job_handler,
    job_kind_register,
    job_kinds,
    job_end_listen,
    job_end_listeners,
    job_progress,
)
from assets.jobs.queue import job_enqueue, job_submit, jobs_sweep
from assets.jobs.run import Attempt, LeaseLost, job_claim, job_requeue, job_ring, job_run

__all__ = [
    "Attempt", "JobHandler", "JobItem", "LeaseLost", "item_asset_id", "item_files", "item_key", "job_claim",
    "job_end_listen", "job_end_listeners", "job_enqueue", "job_handler", "job_kind_register", "job_kinds", "job_progress", "job_requeue", "job_ring", "job_run",
    "job_submit", "jobs_sweep",
]
