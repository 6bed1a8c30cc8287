"""The series `/metrics` exports (SPEC §12), defined once. Plain Python (prometheus-client,
no Django), so the processing code can time its own decoding, encoding and inference.

Several processes record them: gunicorn's workers and the qcluster's. prometheus-client's
multiprocess mode makes that one set of numbers: when PROMETHEUS_MULTIPROC_DIR is set
before prometheus-client is first imported (settings.py sets it, under var/ by default),
each process writes its values to its own files there (`<kind>_<pid>.db`), and a scrape
of any web worker adds up every file (assets_project.metrics). The files of processes
that have ended are kept, so counters do not go down while the service runs;
`files_prune` removes them when a server or worker starts.

Without the variable (a script that imports the processing code alone) the values simply
stay in the process.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client import Counter, Histogram

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

REQUESTS = Counter(
    "assets_http_requests", "HTTP requests answered, by route (the URL pattern), method and status",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "assets_http_request_duration_seconds", "Time to answer an HTTP request, by route, method and status",
    ["route", "method", "status"], buckets=_SECONDS,
)
INFERENCE_SECONDS = Histogram(
    "assets_model_inference_seconds", "Time in one run of a background-removal model (with waiting for a free core)",
    ["model"], buckets=_SECONDS,
)
DECODE_SECONDS = Histogram(
    "assets_image_decode_seconds", "Time to decode an image's pixels, by the image's format", ["format"], buckets=_SECONDS,
)
ENCODE_SECONDS = Histogram(
    "assets_image_encode_seconds", "Time to encode an image, by the format made", ["format"], buckets=_SECONDS,
)
JOBS = Counter("assets_jobs", "Jobs ended, by kind and status", ["kind", "status"])
JOB_SECONDS = Histogram(
    "assets_job_duration_seconds", "Time from a job's last start to its end, by kind and status",
    ["kind", "status"], buckets=_SECONDS,
)
WEBHOOK_ATTEMPTS = Counter(
    "assets_webhook_attempts", "Webhook delivery attempts, by outcome (ok, retry, failed)", ["outcome"],
)
RATE_LIMITED = Counter("assets_rate_limited", "Requests refused by a rate limit, by budget", ["budget"])

_FILE = re.compile(r"^[a-z_]+_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def files_prune(directory: str | None = None) -> int:
    """Delete the multiprocess files of processes that no longer run (a restart's
    predecessors); a live process's files are never touched, so servers and workers that
    share the folder can each call this when they start. Returns how many it deleted."""
    directory = directory or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not os.path.isdir(directory):
        return 0
    deleted = 0
    for path in Path(directory).iterdir():
        match = _FILE.match(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
