"""`/healthz` and `/readyz` (SPEC §12), for load balancers and orchestrators. No auth.

`/healthz` says only that this process answers. `/readyz` really uses each part a request
may need, all at once, each within READYZ_TIMEOUT seconds:

- database: `SELECT 1` on a fresh connection;
- broker: django-q2's queue (the ORM broker's table, or a Redis PING);
- storage: a small file written and deleted again (local folder or S3 bucket);
- model: the default background-removal model loaded in this process (loaded now if it
  was not; `gunicorn_conf.post_worker_init` loads it before a worker serves).

200 when every part answers, else 503 naming what is down. The reasons in the body are
short (a part's error can name hosts and paths, and the endpoint has no auth); the full
error goes to the log with the request id.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import lru_cache

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.db import connection, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Checks run on these threads, so a part that hangs costs a thread, never the request:
# past the deadline the answer is 503 whether or not the thread has come back.
_checks_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


@lru_cache(maxsize=4)
def _redis(url: str, timeout: float):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def _broker() -> str:
    if settings.Q_BROKER == "orm":
        from django_q.models import OrmQ

        OrmQ.objects.using(settings.Q_CLUSTER.get("orm", "default")).count()
        return "orm"
    # The client's own time-outs are longer than the deadline, which decides alone.
    _redis(settings.Q_BROKER, 2 * settings.READYZ_TIMEOUT).ping()
    return "redis"


def _storage() -> str:
    token = uuid.uuid4().hex
    name = default_storage.save(f"readyz/probe-{token}.txt", ContentFile(token.encode()))
    default_storage.delete(name)
    return type(storages["default"]).__name__


def _model() -> str:
    from graphics.services import model_ready

    return model_ready()


CHECKS: dict[str, Callable[[], str]] = {"database": _database, "broker": _broker, "storage": _storage, "model": _model}


def _run(check: Callable[[], str]) -> str:
    try:
        return check()
    finally:
        connections.close_all()  # this pool thread's own connections, so each probe connects afresh


@never_cache
@require_GET
def healthz_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz_view(request: HttpRequest) -> JsonResponse:
    timeout = settings.READYZ_TIMEOUT
    deadline = time.monotonic() + timeout
    started = {name: _checks_pool.submit(_run, check) for name, check in CHECKS.items()}
    results: dict[str, dict[str, object]] = {}
    for name, future in started.items():
        try:
            detail = future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = {"status": "ok", "detail": detail}
        except FutureTimeout:
            logger.warning("readyz: %s did not answer within %g s", name, timeout)
            results[name] = {"status": "down", "error": f"did not answer within {timeout:g} s"}
        except Exception as exc:
            logger.warning("readyz: %s is down: %s", name, exc, exc_info=True)
            results[name] = {"status": "down", "error": f"failed ({type(exc).__name__}); the log has the details"}
    down = [name for name, result in results.items() if result["status"] != "ok"]
    body = {"status": "unavailable" if down else "ready", "down": down, "checks": results}
    return JsonResponse(body, status=503 if down else 200)
