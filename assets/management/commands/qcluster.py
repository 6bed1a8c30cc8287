"""`manage.py qcluster`: django-q2's cluster, plus the job sweep and a prompt, clean stop.

- The sweep (assets.jobs.jobs_sweep) runs in this main process, which django-q2 leaves
  idle: once at start-up and then every JOBS_SWEEP_SECONDS. It rings for jobs that wait
  with no ring in the broker (the broker was down, or lost a ring) or whose lease ran out
  (their worker died), and (assets.webhooks.deliveries_sweep) for webhook deliveries that
  are due: retries whose time has come, lost rings, dead senders.
- On SIGTERM or SIGINT the shared stop event is set before django-q2 stops its cluster:
  rings already fetched from the broker claim nothing, and a job still running after
  Q_STOP_GRACE seconds is interrupted and released for the next worker (assets.worker).
  A SIGTERM to the whole process group reaches each worker directly, with the same result.
"""

from __future__ import annotations

import logging
import multiprocessing
import time

from django.conf import settings
from django.db import close_old_connections
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from assets import worker
from assets.jobs import jobs_sweep
from assets.webhooks import deliveries_sweep
from core.metrics import files_prune

logger = logging.getLogger(__name__)


class StoppingCluster(Cluster):
    """Stops from the main loop, not from the signal handler (see `stop_promptly`)."""

    stop_requested = False

    def sig_handler(self, signum, frame) -> None:
        self.stop_requested = True

    def stop_promptly(self) -> None:
        """Set the shared stop event, then stop django-q2's sentinel unless it is gone.

        A multiprocessing Event's `set()` waits for every process sleeping on it to
        acknowledge, so it hangs forever if a sleeper was killed, and deadlocks if called
        from a signal handler that interrupted a sleeper. Nothing sleeps on our event (all
        poll it). django-q2's sentinel does sleep on its own stop event, and a SIGTERM sent
        to the whole process group (honcho, systemd) kills it at once: its stop event must
        then not be set. So wait a moment and stop it only if it is still alive (SIGTERM
        to this process alone, as Kubernetes sends it)."""
        worker.stop_event.set()
        deadline = time.monotonic() + 1
        while self.sentinel.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.sentinel.is_alive():
            self.stop()


class Command(DjangoQCommand):
    help = "Starts the background worker (a django-q2 cluster) and its job sweep."

    def handle(self, *args, **options) -> None:
        settings.SECRET_KEY  # django-q2 signs tasks with it
        # Created before the cluster forks, so every worker process shares it.
        worker.stop_event = multiprocessing.get_context("fork").Event()
        files_prune()  # the metrics files of processes that are gone (core.metrics)
        cluster = StoppingCluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
            return
        next_sweep = 0.0
        while not cluster.stop_requested:
            if not cluster.sentinel.is_alive():
                logger.error("the cluster's sentinel died; exiting so that the supervisor restarts the worker")
                raise SystemExit(1)
            if time.monotonic() >= next_sweep:
                for sweep in (jobs_sweep, deliveries_sweep):
                    try:
                        sweep()
                    except Exception:
                        logger.exception("%s failed; trying again in %s s", sweep.__name__, settings.JOBS_SWEEP_SECONDS)
                    finally:
                        close_old_connections()
                next_sweep = time.monotonic() + settings.JOBS_SWEEP_SECONDS
            time.sleep(0.2)
        logger.info("stopping: in-flight jobs have %s s to finish before they are released", settings.Q_STOP_GRACE)
        cluster.stop_promptly()
