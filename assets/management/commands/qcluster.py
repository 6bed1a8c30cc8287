"""`manage.py qcluster`: django-q2's cluster, plus the job sweep and a prompt, clean stop.

- The sweep (assets.jobs.jobs_sweep) runs in this main process, which django-q2 leaves
  idle: once at start-up and then every JOBS_SWEEP_SECONDS. It rings for jobs that wait
  with no ring in the broker (the broker was down, or lost a ring) or whose lease ran out
  (their worker died).
- On SIGTERM or SIGINT the shared stop event is set before django-q2 stops its cluster:
  rings already fetched from the broker claim nothing, and a job still running after
  Q_STOP_GRACE seconds is interrupted and released for the next worker (assets.worker).
"""

from __future__ import annotations

import logging
import multiprocessing

from django.conf import settings
from django.db import close_old_connections
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from assets import worker
from assets.jobs import jobs_sweep

logger = logging.getLogger(__name__)


class StoppingCluster(Cluster):
    def sig_handler(self, signum, frame) -> None:
        worker.stop_event.set()
        super().sig_handler(signum, frame)


class Command(DjangoQCommand):
    help = "Starts the background worker (a django-q2 cluster) and its job sweep."

    def handle(self, *args, **options) -> None:
        settings.SECRET_KEY  # django-q2 signs tasks with it
        # Created before the cluster forks, so every worker process shares it.
        worker.stop_event = multiprocessing.get_context("fork").Event()
        cluster = StoppingCluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
            return
        while not worker.stop_event.is_set():
            try:
                jobs_sweep()
            except Exception:
                logger.exception("the job sweep failed; trying again in %s s", settings.JOBS_SWEEP_SECONDS)
            finally:
                close_old_connections()
            worker.stop_event.wait(settings.JOBS_SWEEP_SECONDS)
