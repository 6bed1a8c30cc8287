"""What a qcluster worker process does around a running job: interrupts, time limit, stop.

Three things can interrupt a job from outside, and each arrives as a signal in the worker
process's main thread, which is the thread that runs the job:

- SIGTERM: the process is being stopped (honcho, systemd and Kubernetes signal the whole
  process group; django-q2's guard terminates a worker stuck past its time limit; and
  `manage.py qcluster` sends it to a worker still busy `Q_STOP_GRACE` seconds after the
  cluster was asked to stop). Inside a job it raises `JobInterrupted`, and the job is
  released for the sweep (assets.jobs); an idle worker just exits.
- SIGALRM: django-q2's time limit (`Q_TIMEOUT`). It raises django-q2's own
  `TimeoutException`, and the job ends ERROR saying so.
- Both are held while a save commits (`critical()`): an exception raised between a
  successful COMMIT and the code that records it would make the job delete files that a
  committed row points to. A held interrupt is raised as soon as the block ends.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django_q.exceptions import TimeoutException

logger = logging.getLogger(__name__)


class JobInterrupted(BaseException):
    """SIGTERM arrived while a job ran (a BaseException, like SystemExit: nothing that
    catches Exception may swallow it)."""


class _State:
    running_since: float | None = None  # monotonic start of the running job, None when idle
    time_limit: float | None = None
    critical_depth = 0
    held: BaseException | None = None


_state = _State()

# Set by `manage.py qcluster` in its main process before it forks the cluster, so every
# worker process inherits the same Event; None in any other process.
stop_event: multiprocessing.synchronize.Event | None = None


def stopping() -> bool:
    """True once the cluster this process belongs to has been asked to stop."""
    return stop_event is not None and stop_event.is_set()


def _interrupt(exc: BaseException) -> None:
    if _state.critical_depth:
        _state.held = _state.held or exc
        return
    raise exc


def _timed_out() -> TimeoutException:
    return TimeoutException(f"Task exceeded maximum timeout value ({_state.time_limit:.0f} seconds)")


def _on_sigterm(signum, frame) -> None:
    if _state.running_since is None:
        if stopping():
            return  # the cluster is stopping: django-q2's STOP pill ends this worker after its queue
        raise SystemExit(0)
    elapsed = time.monotonic() - _state.running_since
    if _state.time_limit is not None and elapsed >= _state.time_limit:
        _interrupt(_timed_out())  # django-q2's guard ends a task stuck past its limit with SIGTERM
    else:
        _interrupt(JobInterrupted())


def _on_sigalrm(signum, frame) -> None:
    _interrupt(_timed_out())


@contextmanager
def critical() -> Iterator[None]:
    """Hold SIGTERM and the time limit until the block ends (a save and its commit)."""
    _state.critical_depth += 1
    try:
        yield
    finally:
        _state.critical_depth -= 1
    if _state.critical_depth == 0 and _state.held is not None:
        held, _state.held = _state.held, None
        raise held


@contextmanager
def job_running(time_limit: float | None) -> Iterator[None]:
    """Mark the main thread as running a job, with the signal handlers above installed.

    The previous handlers come back afterwards: in a worker, `worker_started`'s SIGTERM
    handler and django-q2's SIGALRM one (which django-q2 re-installs for each task). They
    are installed only from the main thread (Python's rule for signal handlers)."""
    main = threading.current_thread() is threading.main_thread()
    previous = {}
    if main:
        for signum, handler in ((signal.SIGTERM, _on_sigterm), (signal.SIGALRM, _on_sigalrm)):
            previous[signum] = signal.signal(signum, handler)
    _state.running_since, _state.time_limit, _state.held = time.monotonic(), time_limit, None
    try:
        yield
    finally:
        _state.running_since = None
        _state.held = None
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def worker_started(grace: float) -> None:
    """In each qcluster worker process, at start (django-q2's post_spawn): SIGTERM exits an
    idle worker and interrupts a busy one; a busy worker is sent SIGTERM itself once the
    cluster has been stopping for `grace` seconds."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    if stop_event is None:
        return

    def watch() -> None:
        while not stop_event.is_set():  # polled, never waited on (see StoppingCluster)
            time.sleep(0.1)
        deadline = time.monotonic() + grace
        while _state.running_since is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if _state.running_since is not None:
            logger.info("stopping: interrupting the running job after %.1f s", grace)
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()
